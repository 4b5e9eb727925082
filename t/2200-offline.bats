#!/usr/bin/env bats
# Offline cases: an offline recipient, a relay that is down (queue, 75,
# --flush exactly once), TTL expiry, both sides starting a session at once.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	mkuser carol carol@a.test
	mkuser dave dave@b.test
}

teardown_file() { world_down; }

setup() { world_load; }
b_down() { relay_down b; }
b_up() { relay_up b; }

@test "offline recipient: everything arrives, in order, when it comes back" {
	for i in $(seq 1 8); do
		as alice nc-send bob@b.test <<<"offline-$i" >/dev/null
	done
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ "$output" = "$(for i in $(seq 1 8); do echo "alice@a.test: offline-$i"; done)" ]
	run as alice nc-recv --json
	[ "$(count_type receipt)" -eq 8 ]
}

@test "relay down: exit 75 and a hint; --flush after it is back delivers exactly once" {
	b_down
	run as alice nc-send bob@b.test <<<"queued-1"
	[ "$status" -eq 75 ]
	[[ "$output" == *"queued"* ]]
	id=$(printf '%s\n' "$output" | grep -E '^[0-9a-f]{32}$')
	[ -n "$id" ]
	run as alice nc-send bob@b.test <<<"queued-2"
	[ "$status" -eq 75 ]
	run as alice nc-send --flush
	[ "$status" -eq 75 ]
	b_up
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as bob nc-recv --json
	[ "$(printf '%s\n' "$output" | grep -c '"body":"queued-1"')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c '"body":"queued-2"')" -eq 1 ]
	printf '%s\n' "$output" | grep '"body":"queued-1"' | grep -q "\"id\":\"$id\""
	# in order
	[ "$(printf '%s\n' "$output" | grep -o 'queued-[12]' | tr '\n' ' ')" = "queued-1 queued-2 " ]
	run as bob nc-recv
	[ -z "$output" ]
}

@test "relay down: nc-recv retries the outbox too (with backoff)" {
	b_down
	run as carol nc-send dave@b.test <<<"retry-by-recv"
	[ "$status" -eq 75 ]
	b_up
	# the first retry is due at once after --flush resets nothing: force it
	sqlite3 "$W/carol/state.db" "UPDATE outbox SET next_try = 0"
	run as carol nc-recv
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$W/carol/state.db" "SELECT count(*) FROM outbox")" -eq 0 ]
	run as dave nc-recv
	[ "$output" = "carol@a.test: retry-by-recv" ]
}

@test "own relay down: nc-recv -> 69, stored events still printed" {
	relay_down a
	run as alice nc-recv
	relay_up a
	[ "$status" -eq 69 ]
	[[ "$output" == nc-recv:* ]]
}

@test "TTL: a message not accepted in time becomes a failure event" {
	b_down
	run as alice nc-send --ttl 1 bob@b.test <<<"too-late"
	[ "$status" -eq 75 ]
	id=$(printf '%s\n' "$output" | grep -E '^[0-9a-f]{32}$')
	sleep 2
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	b_up
	run as alice nc-recv --json
	echo "$output"
	printf '%s\n' "$output" | jq -s -e --arg id "$id" 'map(select(.type == "failure"))
	    | length == 1 and .[0].id == $id and .[0].to == "bob@b.test"
	    and (.[0].reason | length > 0)'
	run as alice nc-recv --history bob@b.test --json
	printf '%s\n' "$output" | grep "$id" | grep -q '"status":"failed"'
	run as bob nc-recv
	[[ "$output" != *too-late* ]]
}

@test "both start a session at once (offline first contact both ways): no loss" {
	mkuser erin erin@a.test
	mkuser fred fred@b.test
	as erin nc-send fred@b.test <<<"e1" >/dev/null
	as fred nc-send erin@a.test <<<"f1" >/dev/null
	run as fred nc-recv
	[ "$output" = "fred: skip" ] || [[ "$output" == *"erin@a.test: e1"* ]]
	run as erin nc-recv
	[[ "$output" == *"fred@b.test: f1"* ]]
	for i in 2 3; do
		as erin nc-send fred@b.test <<<"e$i" >/dev/null
		as fred nc-send erin@a.test <<<"f$i" >/dev/null
		run as fred nc-recv
		[ "$status" -eq 0 ]
		[[ "$output" == *"erin@a.test: e$i"* ]]
		run as erin nc-recv
		[ "$status" -eq 0 ]
		[[ "$output" == *"fred@b.test: f$i"* ]]
	done
}
