#!/usr/bin/env bats
# nc-send says what happened, per recipient: a domain that serves no relay
# fails at once (68, nothing queued) while a relay that is down queues
# (75, the real reason named); the outbox can be listed (--queue) and
# emptied (--cancel); a send that reached anyone prints the id, --json one
# object per recipient; -q, -v, -o FILE, --help do what nc-send(1) says.

bats_require_minimum_version 1.5.0
load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

setup() { world_load; }

queued() { sqlite3 "$W/alice/state.db" "SELECT count(*) FROM outbox"; }
ID='^[0-9a-f]{32}$'

@test "a domain that does not resolve: 68, one line naming it and the config line to add, nothing queued" {
	run as alice nc-send bob@bb.invalid <<<"typo"
	echo "$output"
	[ "$status" -eq 68 ]
	lines_eq 1
	[[ "$output" == "nc-send: bob@bb.invalid: no such domain bb.invalid "* ]]
	[[ "$output" == *"add \`relay bb.invalid URL\` to $W/alice/config"* ]]
	[ "$(queued)" -eq 0 ]
	# and nothing in the history either: it was never sent
	[ "$(sqlite3 "$W/alice/state.db" "SELECT count(*) FROM message WHERE peer = 'bob@bb.invalid'")" -eq 0 ]
}

@test "a relay that is down: 75, the reason named, the id printed, queued" {
	relay_down b
	run as alice nc-send bob@b.test <<<"while down"
	relay_up b
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"nc-send: bob@b.test: queued: relay of b.test unreachable: http://127.0.0.1:"*"Connection refused"* ]]
	[[ "$output" != *"relay of b.test: relay"* ]]
	printf '%s\n' "$output" | grep -qE "$ID"
	[ "$(queued)" -eq 1 ]
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	[ "$(queued)" -eq 0 ]
	run as bob nc-recv
	[ "$output" = "alice@a.test: while down" ]
}

@test "a domain found at its well-known URL whose server is down: 75, queued" {
	# localhost resolves; nothing serves https on its port 443
	run as alice nc-send bob@localhost <<<"wk down"
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"relay of localhost unreachable: https://localhost/.well-known/newchat"* ]]
	id=$(printf '%s\n' "$output" | grep -E "$ID")
	run as alice nc-send --cancel "$id"
	[ "$status" -eq 0 ]
	[ "$(queued)" -eq 0 ]
}

@test "--queue lists id, recipient, age, state and last error; --json too; --cancel drops one" {
	relay_down b
	id1=$(as alice nc-send bob@b.test <<<"q-1" 2>/dev/null) || [ $? -eq 75 ]
	id2=$(as alice nc-send bob@b.test <<<"q-2" 2>/dev/null) || [ $? -eq 75 ]
	relay_up b
	[[ "$id1" =~ $ID ]] && [[ "$id2" =~ $ID ]]
	run as alice nc-send --queue
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 2
	[[ "${lines[0]}" =~ ^$id1\ bob@b\.test\ [0-9]+s\ queued\ relay\ of\ b\.test\ unreachable:\  ]]
	[[ "${lines[1]}" == "$id2 bob@b.test "* ]]
	run as alice nc-send --queue --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -s -e --arg a "$id1" --arg b "$id2" '
	    length == 2 and .[0].id == $a and .[1].id == $b and
	    all(.to == "bob@b.test" and .state == "queued" and (.age | type) == "number"
	        and .tries >= 1 and (.error | test("unreachable")))'
	run as alice nc-send --cancel "$id1"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run as alice nc-send --queue
	lines_eq 1
	[[ "$output" == "$id2 "* ]]
	# cancelled: not in the history as sent, never delivered
	run as alice nc-recv --history bob@b.test --json
	[[ "$output" != *"$id1"* ]]
	run as alice nc-send --cancel "$id1"
	[ "$status" -eq 65 ]
	[[ "$output" == "nc-send: $id1: nothing waits under this id"* ]]
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as bob nc-recv
	[ "$output" = "alice@a.test: q-2" ]
	run as alice nc-send --queue
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "several recipients, one a typo'd user: the id is printed, exit 67, bob gets it once" {
	run as alice nc-send bob@b.test bbo@b.test <<<"partial"
	echo "$output"
	[ "$status" -eq 67 ]
	[[ "$output" == *"nc-send: bbo@b.test: no such user"* ]]
	id=$(printf '%s\n' "$output" | grep -E "$ID")
	[ -n "$id" ]
	run as bob nc-recv --json
	[ "$(printf '%s\n' "$output" | grep -c "\"id\":\"$id\"")" -eq 1 ]
	as alice nc-recv >/dev/null
}

@test "a recipient named twice gets the message once" {
	run as alice nc-send bob@b.test bob@b.test <<<"twice named"
	[ "$status" -eq 0 ]
	[[ "$output" =~ $ID ]]
	run as bob nc-recv
	[ "$output" = "alice@a.test: twice named" ]
	as alice nc-recv >/dev/null
}

@test "--json: one object per recipient with its state and exit status; the exit is the worst" {
	run --separate-stderr as alice nc-send --json bob@b.test bbo@b.test bob@bb.invalid <<<"json"
	echo "$output"
	[ "$status" -eq 68 ]
	printf '%s\n' "$output" | jq -s -e '
	    length == 3 and
	    (.[0] | .to == "bob@b.test" and .state == "accepted" and .exit == 0
	        and (.id | test("^[0-9a-f]{32}$"))) and
	    (.[1] | .to == "bbo@b.test" and .state == "failed" and .exit == 67
	        and .reason == "no such user") and
	    (.[2] | .to == "bob@bb.invalid" and .state == "rejected" and .exit == 68
	        and (has("id") | not) and (.reason | test("no such domain")))'
	[ "$(printf '%s\n' "$stderr" | grep -c '^nc-send: ')" -eq 2 ]
	relay_down b
	run --separate-stderr as alice nc-send --json bob@b.test <<<"json down"
	relay_up b
	[ "$status" -eq 75 ]
	printf '%s\n' "$output" | jq -e '.state == "queued" and .exit == 75
	    and (.reason | test("relay of b.test unreachable"))'
	as alice nc-send --flush
	as bob nc-recv >/dev/null
	as alice nc-recv >/dev/null
}

@test "-q prints nothing on success and no notice when queued; -v tells each recipient's state" {
	run --separate-stderr as alice nc-send -q bob@b.test <<<"quiet"
	[ "$status" -eq 0 ]
	[ -z "$output" ] && [ -z "$stderr" ]
	relay_down b
	run --separate-stderr as alice nc-send -q bob@b.test <<<"quiet down"
	relay_up b
	[ "$status" -eq 75 ]
	[ -z "$output" ] && [ -z "$stderr" ]
	# -q still reports a failure
	run --separate-stderr as alice nc-send -q nobody@b.test <<<"quiet fail"
	[ "$status" -eq 67 ]
	[ "$stderr" = "nc-send: nobody@b.test: no such user" ]
	run --separate-stderr as alice nc-send -v bob@b.test <<<"verbose"
	[ "$status" -eq 0 ]
	[[ "$output" =~ $ID ]]
	[ "$stderr" = "nc-send: bob@b.test: accepted" ]
	run --separate-stderr as alice nc-send --verbose --flush
	[ "$status" -eq 0 ]
	[ "$stderr" = "nc-send: outbox: 0 still queued, 0 held, 0 failed" ]
	as bob nc-recv >/dev/null
	as alice nc-recv >/dev/null
}

@test "-o FILE: armored envelopes in a new 0600 file, the id on stdout; bob reads it" {
	run as alice nc-send -o "$W/for-bob.asc" bob@b.test <<<"by file"
	[ "$status" -eq 0 ]
	[[ "$output" =~ $ID ]]
	[ "$(stat -c %a "$W/for-bob.asc")" = 600 ]
	head -n 1 "$W/for-bob.asc" | grep -q -- '-----BEGIN NEWCHAT ENVELOPE-----'
	ls "$W" | grep -v '^for-bob.asc$' | { ! grep -q for-bob; }   # no temporary left
	run as bob nc-recv - <"$W/for-bob.asc"
	[ "$output" = "alice@a.test: by file" ]
	# a directory that does not exist: 73, nothing written
	run as alice nc-send -o "$W/no/such/dir/x.asc" bob@b.test <<<"nowhere"
	[ "$status" -eq 73 ]
	[ ! -e "$W/no" ]
	# --json with -o -: the envelopes and JSON would share stdout
	run as alice nc-send --json -o - bob@b.test <<<"x"
	[ "$status" -eq 64 ]
}

@test "--help and -h: usage on stdout, exit 0; every short option the usage shows works" {
	run --separate-stderr nc-send --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]] && [ -z "$stderr" ]
	run --separate-stderr nc-send -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run nc-send -V
	[[ "$output" == "nc-send "* ]]
	run as alice nc-send -j -t 60 -w 0 bob@b.test <<<"short options"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e '.state == "accepted"'
	run as alice nc-send -f
	[ "$status" -eq 0 ]
	run as alice nc-send --queue bob@b.test
	[ "$status" -eq 64 ]
	run as alice nc-send --queue --flush
	[ "$status" -eq 64 ]
	run as alice nc-send --cancel 0123
	[ "$status" -eq 64 ]
	as bob nc-recv >/dev/null
}

@test "every option in the usage is in the man page, and every short option of getopt" {
	man=$(cat "$BATS_TEST_DIRNAME/../man/nc-send.1")
	for f in json ttl wait flush queue cancel quiet verbose help version; do
		grep -q -- "^\.It Fl .*-$f\|Fl -$f" <<<"$man" || { echo "--$f"; false; }
	done
	shorts=$(grep -o 'getopt_long(argc, argv, "[^"]*"' "$BATS_TEST_DIRNAME/../cmd/nc-send.c" |
	    sed 's/.*"\(.*\)"/\1/' | tr -d ':' | fold -w1)
	for c in $shorts; do
		grep -qE "^\.It Fl $c( |$)|Fl $c , |, $c( |,|$)" <<<"$man" || { echo "-$c"; false; }
	done
	grep -q '^\.It 68$' <<<"$man"
	grep -q '^\.It 70$' <<<"$man"
	grep -q '^\.It 74$' <<<"$man"
}
