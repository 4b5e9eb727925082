#!/usr/bin/env bats
# nc-relayd's key-transparency log (issue 19): every accepted device list
# is a leaf; device-list GETs carry a fetch proof that nc_kt_verify accepts
# (through `ncreq ktverify`), with a consistency proof from the size a
# client names; the /v1/kt/ routes; restarts and SIGKILLs keep the log and
# its keys.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	[ -z "${clients:-}" ] || kill $clients 2>/dev/null || true
	relay_stop_all
}

desc() {   # the relay's descriptor, with its key-log keys, in $T/desc
	[ "$(req GET /.well-known/newchat)" = 200 ]
	cp "$T/resp" "$T/desc"
}

putlist() {   # NAME VERSION [DEVNAME...]: publish a signed list, want 201
	local n=$1 v=$2
	shift 2
	local more=()
	for d in "$@"; do more+=("$T/$d"); done
	ncreq devlist "$T/$n" "$n@a.test" "$v" "${more[@]}" >"$T/$n.dl.$v"
	[ "$(sreq "$T/$n" PUT "/v1/users/$n/devicelist" "$T/$n.dl.$v")" = 201 ]
}

getlist() {   # NAME [SINCE]: GET the list; body $T/NAME.got, proof $T/NAME.proof
	local n=$1 code
	if [ -n "${2:-}" ]; then
		code=$(req GET "/v1/users/$n/devicelist" "" -D "$T/hdrs" -H "X-NC-KT-Since: $2")
	else
		code=$(req GET "/v1/users/$n/devicelist" "" -D "$T/hdrs")
	fi
	[ "$code" = 200 ] || return 1
	cp "$T/resp" "$T/$n.got"
	grep -i '^X-NC-KT-Proof: ' "$T/hdrs" | cut -d' ' -f2 | tr -d '\r' >"$T/$n.proof"
	[ -s "$T/$n.proof" ]
}

@test "kt: the fetch proof of a device list verifies, before and after an update, with and without since" {
	relay_start A a.test
	U=$RELAY_URL_A
	desc
	grep -Eq '^kt-log [0-9a-f]{64}$' "$T/desc"
	grep -Eq '^kt-vrf [0-9a-f]{64}$' "$T/desc"
	newuser alice
	newuser bob
	putlist alice 1
	putlist bob 1
	getlist alice
	cmp "$T/alice.got" "$T/alice.dl.1"
	run ncreq ktverify "$T/desc" alice@a.test "$T/alice.got" "$T/alice.proof"
	[ "$status" -eq 0 ]
	[ "$output" = "2 0 1" ]                    # size 2, leaf 0, version 1
	cp "$T/alice.proof.head" "$T/head.1"
	# the proof is for alice only: not bob's list, not another name
	run ncreq ktverify "$T/desc" alice@a.test "$T/bob.dl.1" "$T/alice.proof"
	[ "$status" -ne 0 ]
	run ncreq ktverify "$T/desc" bob@a.test "$T/alice.got" "$T/alice.proof"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q 'key log:'

	# a second device: version 2, a new leaf
	mkdir -p "$T/alice2"; ncreq keygen "$T/alice2"
	putlist alice 2 alice2
	# without since, a client that saw head.1 cannot check the new head
	getlist alice
	run ncreq ktverify "$T/desc" alice@a.test "$T/alice.got" "$T/alice.proof" "$T/head.1"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q 'split view'
	# with since = 2 it can, in the same answer
	getlist alice 2
	run ncreq ktverify "$T/desc" alice@a.test "$T/alice.got" "$T/alice.proof" "$T/head.1"
	[ "$status" -eq 0 ]
	[ "$output" = "3 2 2" ]
	# since = the current size: nothing to prove, still accepted
	cp "$T/alice.proof.head" "$T/head.2"
	getlist alice 3
	ncreq ktverify "$T/desc" alice@a.test "$T/alice.got" "$T/alice.proof" "$T/head.2"
	# bob's old version is still in the newer tree
	getlist bob 2
	run ncreq ktverify "$T/desc" bob@a.test "$T/bob.got" "$T/bob.proof" "$T/head.1"
	[ "$status" -eq 0 ]
	[ "$output" = "3 1 1" ]
	# a since larger than the tree: no consistency proof, the client
	# sees the older head and says so
	getlist bob 99
	run ncreq ktverify "$T/desc" bob@a.test "$T/bob.got" "$T/bob.proof"
	[ "$status" -eq 0 ]
}

@test "kt: heads stay consistent across updates; entries rebuild the head; labels point at their leaves" {
	relay_start A a.test
	U=$RELAY_URL_A
	desc
	# an empty log has a signed empty head
	[ "$(req GET /v1/kt/head)" = 200 ]
	[ "$(ncreq kthead "$T/desc" "$T/resp" | cut -d' ' -f1)" = 0 ]
	newuser alice
	newuser bob
	putlist alice 1
	[ "$(req GET /v1/kt/head)" = 200 ]
	cp "$T/resp" "$T/h1"
	[ "$(ncreq kthead "$T/desc" "$T/h1" | cut -d' ' -f1)" = 1 ]
	prev=$T/h1
	for v in 1 2 3 4 5; do
		putlist bob "$v"
		putlist alice $((v + 1))
		[ "$(req GET /v1/kt/head)" = 200 ]
		cp "$T/resp" "$T/h.$v"
		size=$(ncreq kthead "$T/desc" "$T/h.$v" | cut -d' ' -f1)
		[ "$size" = $((1 + 2 * v)) ]
		from=$(ncreq kthead "$T/desc" "$prev" | cut -d' ' -f1)
		[ "$(req GET "/v1/kt/consistency?from=$from&to=$size")" = 200 ]
		ncreq ktcons "$T/desc" "$prev" "$T/h.$v" "$T/resp"
		# and from the very first head
		[ "$(req GET "/v1/kt/consistency?from=1&to=$size")" = 200 ]
		ncreq ktcons "$T/desc" "$T/h1" "$T/h.$v" "$T/resp"
		prev=$T/h.$v
	done
	# a proof between other sizes is refused by the client
	[ "$(req GET "/v1/kt/consistency?from=2&to=$size")" = 200 ]
	run ncreq ktcons "$T/desc" "$T/h1" "$T/h.5" "$T/resp"
	[ "$status" -ne 0 ]
	# the 11 leaves make the head's root
	[ "$(req GET "/v1/kt/entries?start=0&count=1000")" = 200 ]
	cp "$T/resp" "$T/entries"
	[ "$(ncreq ktentries "$T/desc" "$T/h.5" "$T/entries")" = 11 ]
	# paging: the end of the log answers what is there
	[ "$(req GET "/v1/kt/entries?start=10&count=5")" = 200 ]
	[ "$(stat -c %s "$T/resp")" = $((8 + 2 + 65)) ]
	[ "$(req GET "/v1/kt/entries?start=11&count=5")" = 200 ]   # nothing new yet
	[ "$(stat -c %s "$T/resp")" = 10 ]
	[ "$(req GET "/v1/kt/entries?start=12&count=5")" = 404 ]
	# a user's devices find their own leaves
	[ "$(req GET "/v1/kt/label?user=alice&version=1")" = 200 ]
	[ "$(ncreq ktlabel "$T/desc" alice@a.test "$T/resp" "$T/entries")" = 0 ]
	[ "$(req GET "/v1/kt/label?user=bob&version=3")" = 200 ]
	[ "$(ncreq ktlabel "$T/desc" bob@a.test "$T/resp" "$T/entries")" = 5 ]
	run ncreq ktlabel "$T/desc" alice@a.test "$T/resp" "$T/entries"
	[ "$status" -ne 0 ]
	[ "$(req GET "/v1/kt/label?user=bob&version=6")" = 404 ]
	[ "$(req GET "/v1/kt/label?user=carol&version=1")" = 404 ]
	[ "$(req GET "/v1/kt/consistency?from=1&to=12")" = 404 ]
	# a refused update (an old version) adds no leaf
	ncreq devlist "$T/bob" bob@a.test 2 >"$T/old"
	[ "$(sreq "$T/bob" PUT /v1/users/bob/devicelist "$T/old")" = 409 ]
	[ "$(req GET /v1/kt/head)" = 200 ]
	[ "$(ncreq kthead "$T/desc" "$T/resp" | cut -d' ' -f1)" = 11 ]
}

@test "kt: bad parameters get 400" {
	relay_start A a.test
	U=$RELAY_URL_A
	newuser alice
	putlist alice 1
	for q in "consistency?from=0&to=1" "consistency?from=2&to=1" "consistency?from=1" \
	    "consistency?to=1&from=1&from=1" "consistency?from=01&to=1" \
	    "consistency?from=1&to=1&x=2" "consistency?from=-1&to=1" "consistency?from=1&to=1x" \
	    "consistency?from=1&to=99999999999999999999" "consistency?from=1&to=" \
	    "consistency?from=+1&to=1" "consistency" "consistency?from=1&to=9223372036854775808" \
	    "entries?start=0&count=0" "entries?start=0&count=1001" "entries?start=0" \
	    "entries?start=a&count=1" "entries?count=1&start=0&count=1" "entries?start=0&count=1&" \
	    "label?user=Alice&version=1" "label?user=alice&version=0" "label?user=alice" \
	    "label?user=alice&version=1.0" "label?version=1&user=" "head?x=1"; do
		[ "$(req GET "/v1/kt/$q")" = 400 ] || { echo "not 400: $q"; return 1; }
	done
	# the query's order does not matter
	[ "$(req GET "/v1/kt/entries?count=1&start=0")" = 200 ]
	[ "$(req GET "/v1/kt/label?version=1&user=alice")" = 200 ]
	for s in x -1 01 1.5 99999999999999999999; do
		code=$(req GET /v1/users/alice/devicelist "" -H "X-NC-KT-Since: $s")
		[ "$code" = 400 ] || { echo "since $s: $code"; return 1; }
	done
	[ "$(req POST /v1/kt/head)" = 405 ]
	[ "$(req GET /v1/kt/nothing)" = 404 ]
}

@test "kt: a restart keeps the log and its keys; a lost key file stops the relay; the relay's files are 0600" {
	relay_start A a.test
	U=$RELAY_URL_A
	desc
	cp "$T/desc" "$T/desc.1"
	[ "$(stat -c %a "$RELAY_DIR_A/kt.key")" = 600 ]
	newuser alice
	putlist alice 1
	putlist alice 2
	# the database and SQLite's files beside it are the relay's alone
	for f in relay.db relay.db-wal relay.db-shm; do
		[ "$(stat -c %a "$RELAY_DIR_A/$f")" = 600 ] || { echo "$f"; return 1; }
	done
	[ "$(req GET /v1/kt/head)" = 200 ]
	cp "$T/resp" "$T/h.before"
	relay_stop A
	relay_restart A
	desc
	[ "$(grep '^kt-' "$T/desc")" = "$(grep '^kt-' "$T/desc.1")" ]
	[ "$(req GET /v1/kt/head)" = 200 ]
	cmp "$T/resp" "$T/h.before"
	putlist alice 3
	getlist alice 2
	[ "$(ncreq ktverify "$T/desc" alice@a.test "$T/alice.got" "$T/alice.proof" \
	    "$T/h.before")" = "3 2 3" ]
	relay_stop A
	mv "$RELAY_DIR_A/kt.key" "$T/kt.key"
	run nc-relayd -d "$RELAY_DIR_A" -l 127.0.0.1:0 -D a.test
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" = 1 ]
	echo "$output" | grep -q 'kt.key: missing, but the key log holds 3 entries signed with it: restore'
	[ ! -e "$RELAY_DIR_A/kt.key" ]
	head -c 10 "$T/kt.key" >"$RELAY_DIR_A/kt.key"
	run nc-relayd -d "$RELAY_DIR_A" -l 127.0.0.1:0 -D a.test
	[ "$status" -ne 0 ]
	echo "$output" | grep -q 'kt.key: not a key-log key file (64 bytes)'
	mv "$T/kt.key" "$RELAY_DIR_A/kt.key"
	relay_restart A
	desc
	[ "$(grep '^kt-' "$T/desc")" = "$(grep '^kt-' "$T/desc.1")" ]
}

# NAME FIRST LAST: publish versions FIRST..LAST, retrying through restarts;
# each version answered 201 goes to $T/NAME.acked.
updates() {
	local n=$1 v code
	for ((v = $2; v <= $3; v++)); do
		ncreq devlist "$T/$n" "$n@a.test" "$v" >"$T/$n.dl.$v"
		while :; do
			ncreq sign "$T/$n" PUT "/v1/users/$n/devicelist" "$T/$n.dl.$v" >"$T/$n.hdr"
			code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H @"$T/$n.hdr" \
			    --data-binary @"$T/$n.dl.$v" "$U/v1/users/$n/devicelist" || true)
			case $code in
			201) echo "$v" >>"$T/$n.acked"; break ;;
			409) break ;;   # stored, but the answer was lost in a kill
			000|503) sleep 0.05 ;;
			*) echo "$n v$v: $code" >>"$T/errors"; return 1 ;;
			esac
		done
	done
}

@test "kt: SIGKILLed during updates, the log holds every acknowledged list" {
	relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
	desc
	users="u1 u2 u3"
	for n in $users; do newuser "$n"; : >"$T/$n.acked"; done
	clients=
	for n in $users; do
		updates "$n" 1 8 &
		clients="$clients $!"
	done
	# kills at set points of the run (so many lists acknowledged), so a
	# fast machine cannot finish before them
	kills=0
	for at in 3 7 11 15; do
		while [ "$(cat "$T"/u*.acked | wc -l)" -lt "$at" ]; do sleep 0.02; done
		relay_kill A
		kills=$((kills + 1))
		[ "$(sqlite3 "$RELAY_DIR_A/relay.db" 'PRAGMA integrity_check')" = ok ]
		relay_restart A
	done
	for p in $clients; do wait "$p"; done
	clients=
	[ ! -s "$T/errors" ]
	[ "$(req GET /v1/kt/head)" = 200 ]
	cp "$T/resp" "$T/head"
	size=$(ncreq kthead "$T/desc" "$T/head" | cut -d' ' -f1)
	[ "$size" -ge "$(cat "$T"/u*.acked | wc -l)" ]
	[ "$(req GET "/v1/kt/entries?start=0&count=1000")" = 200 ]
	cp "$T/resp" "$T/entries"
	[ "$(ncreq ktentries "$T/desc" "$T/head" "$T/entries")" = "$size" ]
	for n in $users; do
		while read -r v; do
			[ "$(req GET "/v1/kt/label?user=$n&version=$v")" = 200 ] ||
			    { echo "$n v$v acknowledged, not logged"; return 1; }
			ncreq ktlabel "$T/desc" "$n@a.test" "$T/resp" "$T/entries" >/dev/null
		done <"$T/$n.acked"
		getlist "$n"
		cmp "$T/$n.got" "$T/$n.dl.8"
		ncreq ktverify "$T/desc" "$n@a.test" "$T/$n.got" "$T/$n.proof" >/dev/null
	done
	[ "$kills" = 4 ]
}
