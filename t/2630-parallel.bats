#!/usr/bin/env bats
# One nc-send delivering to several relays (recipients on two providers,
# or a recipient and the sender's own other devices) makes those requests
# at the same time, not one after the other. Both relays sit behind the
# threat world's proxies, which hold every delivery back for 2 seconds:
# one after the other would take 4.

load threat/lib

setup_file() {
	world_start
	[ -n "${WORLD_SKIP:-}" ] && return 0
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@a.test
	# sessions with each, so every send below is one request per relay
	echo "hello" | as alice nc-send bob@b.test carol@a.test >/dev/null
}

teardown_file() { world_stop; }
setup() { world_check; }

ms() { echo $(($(date +%s%N) / 1000000)); }

slow() {
	hostile a "delay POST /v1/users/*/deliver ms=2000"
	hostile b "delay POST /v1/users/*/deliver ms=2000"
}

@test "parallel: a message to users on two relays takes one delivery's time" {
	local t0 t1
	slow
	t0=$(ms)
	run as alice nc-send bob@b.test carol@a.test <<<"to both at once"
	t1=$(ms)
	hostile a ""
	hostile b ""
	echo "$output; $((t1 - t0)) ms"
	[ "$status" -eq 0 ]
	[ $((t1 - t0)) -ge 2000 ]
	[ $((t1 - t0)) -lt 3500 ]
	run as bob nc-recv
	grep -qx "alice@a.test: to both at once" <<<"$output"
	run as carol nc-recv
	grep -qx "alice@a.test: to both at once" <<<"$output"
}

@test "parallel: the copy for the sender's other device travels with the message" {
	local t0 t1
	user alice2 alice@a.test
	as alice nc-recv >/dev/null   # the new device's hello: alice knows it
	slow
	t0=$(ms)
	run as alice nc-send bob@b.test <<<"with a copy"
	t1=$(ms)
	hostile a ""
	hostile b ""
	echo "$output; $((t1 - t0)) ms"
	[ "$status" -eq 0 ]
	[ $((t1 - t0)) -lt 3500 ]
	run as bob nc-recv
	grep -qx "alice@a.test: with a copy" <<<"$output"
	run as alice2 nc-recv --json
	echo "$output"
	[ "$(grep -c '"body":"with a copy","sent":true' <<<"$output")" -eq 1 ]
}
