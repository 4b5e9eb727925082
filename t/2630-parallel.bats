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

# slow_send NAME ARGS...: `run as NAME nc-send ARGS...` (stdin passed on)
# with every delivery held back 2 s; $took: how long it took, in ms.
slow_send() {
	local name=$1 t0
	shift
	hostile a "delay POST /v1/users/*/deliver ms=2000"
	hostile b "delay POST /v1/users/*/deliver ms=2000"
	t0=$(ms)
	run as "$name" nc-send "$@"
	took=$(($(ms) - t0))
	hostile a ""
	hostile b ""
	echo "$output; $took ms"
}

@test "parallel: a message to users on two relays takes one delivery's time" {
	slow_send alice bob@b.test carol@a.test <<<"to both at once"
	[ "$status" -eq 0 ]
	[ "$took" -ge 2000 ]
	[ "$took" -lt 3500 ]
	run as bob nc-recv
	grep -qx "alice@a.test: to both at once" <<<"$output"
	run as carol nc-recv
	grep -qx "alice@a.test: to both at once" <<<"$output"
}

@test "parallel: the copy for the sender's other device travels with the message" {
	user alice2 alice@a.test
	as alice nc-recv >/dev/null   # the new device's hello: alice knows it
	slow_send alice bob@b.test <<<"with a copy"
	[ "$status" -eq 0 ]
	[ "$took" -lt 3500 ]
	run as bob nc-recv
	grep -qx "alice@a.test: with a copy" <<<"$output"
	run as alice2 nc-recv --json
	echo "$output"
	[ "$(grep -c '"body":"with a copy","sent":true' <<<"$output")" -eq 1 ]
}
