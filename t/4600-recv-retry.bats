#!/usr/bin/env bats
# nc-recv and a sender's domain that stops resolving (NC_ENOHOST, 68): the
# receipts owed to it are kept and sent once it resolves again, and nc-recv
# says nothing about it; `nc-recv --history` marks what never left.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

setup() { world_load; }

owed() { sqlite3 "$W/bob/state.db" "SELECT (SELECT count(*) FROM rcpt) + (SELECT count(*) FROM outbox)"; }

@test "a sender's domain that stops resolving: nc-recv waits silently, receipts kept" {
	as alice nc-send bob@b.test <<<"first" >/dev/null
	run as bob nc-recv
	[ "$output" = "alice@a.test: first" ]
	as alice nc-recv >/dev/null
	as alice nc-send bob@b.test <<<"second" >/dev/null
	# a.test no longer resolves for bob (no config line: discovery finds no
	# such domain),
	# and alice's list is due for a check (the bound passed)
	sed -i "/^relay a.test /d" "$W/bob/config"
	run env NC_DEVLIST_MAXAGE=0 NC_HOME="$W/bob" nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	config bob
	sqlite3 "$W/bob/state.db" "UPDATE outbox SET next_try = 0"
	run env NC_DEVLIST_MAXAGE=0 NC_HOME="$W/bob" nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: second" ]
	sqlite3 "$W/bob/state.db" "UPDATE outbox SET next_try = 0"
	as bob nc-send --flush
	[ "$(owed)" -eq 0 ]
	run as alice nc-recv --json
	[ "$(count_type receipt)" -eq 1 ]
}

@test "--history marks a message still queued or failed" {
	relay_down b
	as alice nc-send bob@b.test <<<"stuck" >/dev/null || true
	relay_up b
	sqlite3 "$W/alice/state.db" "UPDATE message SET status = 'failed' WHERE dir = 1 AND id = (SELECT id FROM message WHERE dir = 1 ORDER BY seq LIMIT 1)"
	run as alice nc-recv --history bob@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$(grep ': first$' <<<"$output")" == *" > [failed] bob@b.test: first" ]]
	[[ "$(grep ': second$' <<<"$output")" == *" > bob@b.test: second" ]]
	[[ "$(grep ': stuck$' <<<"$output")" == *" > [queued] bob@b.test: stuck" ]]
}
