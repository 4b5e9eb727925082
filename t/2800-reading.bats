#!/usr/bin/env bats
# Reading never loses or splits (DESIGN.md 5): every stored event has a
# local sequence number ("seq"); the default reader keeps its position in
# the state, others in cursor files (--cursor-file), so a cron poller and
# interactive followers each see everything; --history is filtered
# (--since, a peer) and followed; --unread lists without marking.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	mkuser carol carol@a.test
	echo hello | as alice nc-send bob@b.test >/dev/null
	as bob nc-recv >/dev/null
}

teardown_file() { world_down; }
setup() { world_load; }
teardown() {
	local p
	for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
	for p in ${pids:-}; do wait "$p" 2>/dev/null || true; done
}

# bodies FILE PREFIX: the bodies starting with PREFIX in FILE (text or
# JSON lines), one a line, in order.
bodies() { grep -oE "$2[0-9]+" "$1" || true; }
want() { seq -f "$1%g" 1 "$2"; }

@test "two --follow readers and a cron reader on one home each see every message once" {
	n=8
	NC_HOME=$W/bob nc-recv --follow >"$W/f1.out" 2>"$W/f1.err" 3>&- &
	pids=$!
	NC_HOME=$W/bob nc-recv --follow --cursor-file "$W/f2.cur" \
	    >"$W/f2.out" 2>"$W/f2.err" 3>&- &
	pids="$pids $!"
	: >"$W/cron.out"
	for i in $(seq 1 "$n"); do
		as alice nc-send bob@b.test <<<"split-$i" >/dev/null
		as bob nc-recv --cursor-file "$W/cron.cur" >>"$W/cron.out"
	done
	for i in $(seq 100); do
		[ "$(bodies "$W/f1.out" split- | wc -l)" -ge "$n" ] &&
		    [ "$(bodies "$W/f2.out" split- | wc -l)" -ge "$n" ] && break
		sleep 0.2
	done
	as bob nc-recv --cursor-file "$W/cron.cur" >>"$W/cron.out"
	cat "$W/f1.err" "$W/f2.err"
	[ "$(bodies "$W/f1.out" split-)" = "$(want split- "$n")" ]
	[ "$(bodies "$W/f2.out" split-)" = "$(want split- "$n")" ]
	[ "$(bodies "$W/cron.out" split-)" = "$(want split- "$n")" ]
	# the cursor file holds one sequence number
	grep -qxE '[0-9]+' "$W/cron.cur"
	# the default reader (the first follower) has taken them all
	run as bob nc-recv
	[ -z "$output" ]
}

@test "nc-recv | head -1 loses nothing: --history --since shows the rest" {
	for i in 1 2 3 4 5; do as alice nc-send bob@b.test <<<"head-$i" >/dev/null; done
	first=$(as bob nc-recv --json | head -n 1)
	[ "$(jq -r .body <<<"$first")" = head-1 ]
	seq=$(jq -r .seq <<<"$first")
	[[ "$seq" =~ ^[0-9]+$ ]]
	run as bob nc-recv --history --json --since "$((seq + 1))"
	[ "$status" -eq 0 ]
	[ "$(jq -r .body <<<"$output" | tr '\n' ' ')" = "head-2 head-3 head-4 head-5 " ]
	# one sequence: the stream's seq is the history's
	run as bob nc-recv --history --json --since "$seq"
	[ "$(head -n 1 <<<"$output" | jq -r '"\(.seq) \(.body)"')" = "$seq head-1" ]
	# by time and peer too
	run as bob nc-recv --history --since "$(date -d '-1 hour' '+%Y-%m-%d %H:%M')" alice@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: head-5"* ]]
	run as bob nc-recv --history --since "$(date -d '+1 hour' '+%Y-%m-%dT%H:%M')"
	[ -z "$output" ]
	run as bob nc-recv --history --since yesterday
	[ "$status" -eq 64 ]
}

@test "--unread lists what this reader has not printed, without marking it" {
	for i in 1 2; do as alice nc-send bob@b.test <<<"unread-$i" >/dev/null; done
	# fetched and stored by another reader
	as bob nc-recv --cursor-file "$W/other.cur" >/dev/null
	run as bob nc-recv --unread
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: unread-1"*"alice@a.test: unread-2"* ]]
	run as bob nc-recv --unread --json
	[ "$(jq -r .body <<<"$output" | grep -c unread-)" -eq 2 ]
	run as bob nc-recv
	[[ "$output" == *unread-1*unread-2* ]]
	run as bob nc-recv --unread
	[ -z "$output" ]
	# a cursor file's reader has its own unread
	rm -f "$W/new.cur"
	run as bob nc-recv --unread --cursor-file "$W/new.cur"
	[[ "$output" == *unread-2* ]]
	[ ! -e "$W/new.cur" ]
}

@test "--history --follow prints the stored conversation, then what arrives" {
	NC_HOME=$W/bob nc-recv --history --follow --json alice@a.test \
	    >"$W/hf.out" 2>"$W/hf.err" 3>&- &
	pids=$!
	for i in $(seq 50); do grep -q head-5 "$W/hf.out" && break; sleep 0.1; done
	as carol nc-send bob@b.test <<<"not-in-this-conversation" >/dev/null
	as alice nc-send bob@b.test <<<"hf-new" >/dev/null
	for i in $(seq 100); do grep -q hf-new "$W/hf.out" && break; sleep 0.1; done
	cat "$W/hf.err"
	grep -q '"body":"head-5"' "$W/hf.out"
	[ "$(grep -c '"body":"hf-new"' "$W/hf.out")" -eq 1 ]
	! grep -q not-in-this "$W/hf.out"
	# it did not take them from the default reader
	run as bob nc-recv
	[[ "$output" == *"carol@a.test: not-in-this-conversation"* ]]
	[[ "$output" == *"alice@a.test: hf-new"* ]]
}

@test "cursor file: a bad one is a one-line error (65); an unreadable FILE too" {
	echo "twelve" >"$W/bad.cur"
	run as bob nc-recv --cursor-file "$W/bad.cur"
	[ "$status" -eq 65 ]
	lines_eq 1
	[[ "$output" == "nc-recv: $W/bad.cur: not a cursor file"* ]]
	run as bob nc-recv "$W/no-such.asc"
	[ "$status" -eq 65 ]
	lines_eq 1
}

@test "text: receipts only with -v (JSON always); history times in local time" {
	id=$(as bob nc-send alice@a.test <<<"ask-receipt")
	as alice nc-recv >/dev/null
	# stored by another reader, then read by the default one in a copy
	as bob nc-recv --cursor-file "$W/json.cur" --json >"$W/json.out"
	cp -a "$W/bob" "$W/bobv"
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[[ "$output" != *receipt* ]]
	run as bobv nc-recv -v
	[[ "$output" == *"receipt $id from alice@a.test: delivered"* ]]
	run as bob nc-recv --history --json
	[ "$(jq -r 'select(.id == "'"$id"'") | .status' <<<"$output")" = delivered ]
	jq -e -s --arg id "$id" 'map(select(.type == "receipt" and .id == $id))
	    | length == 1' "$W/json.out"
	# the same moment, shown in two time zones
	utc=$(TZ=UTC0 as bob nc-recv --history alice@a.test | tail -n 1)
	jst=$(TZ=JST-9 as bob nc-recv --history alice@a.test | tail -n 1)
	[[ "$utc" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}\  ]]
	[ "$(( ($(date -u -d "${jst%% [>a-z]*}" +%s) - $(date -u -d "${utc%% [>a-z]*}" +%s)) / 3600 ))" -eq 9 ]
}

@test "--help on stdout (0); --version prints the version" {
	run nc-recv --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:*--cursor-file* ]]
	run nc-recv --version
	[ "$status" -eq 0 ]
	[[ "$output" == nc-recv* ]]
	[ "$(nc-recv --help 2>/dev/null | wc -l)" -gt 3 ]
}
