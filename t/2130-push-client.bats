#!/usr/bin/env bats
# nc-recv --push-endpoint and contrib/nc-push-ntfy: a device registers an
# ntfy-style topic with its relay; a message to it wakes the script, which
# runs nc-recv and prints it. The topic is t/helpers/push-recv.py.

load helpers/relay
load helpers/client

setup() {
	world_load
	P=$(head -n 1 "$W/push.url")
}

teardown() {
	[ -z "${spid:-}" ] || { pkill -P "$spid" 2>/dev/null; kill "$spid" 2>/dev/null; } || true
}

setup_file() {
	world_up --push-allow-local
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	python3 "$BATS_TEST_DIRNAME/helpers/push-recv.py" "$W/push.log" >"$W/push.url" &
	echo $! >"$W/push.pid"
	for _ in $(seq 100); do [ -s "$W/push.url" ] && break; sleep 0.05; done
}

teardown_file() {
	kill "$(cat "$W/push.pid")" 2>/dev/null || true
	world_down
}

@test "nc-recv --push-endpoint: registers (the relay checks it), none removes; bad URLs are usage errors" {
	run as bob nc-recv --push-endpoint "$P/ok/bob1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" = *"push endpoint registered"* ]]
	grep -q '^POST /ok/bob1 15 ' "$W/push.log"
	run as bob nc-recv --push-endpoint none
	[ "$status" -eq 0 ]
	[[ "$output" = *"push endpoint removed"* ]]
	run as bob nc-recv --push-endpoint "$P/redirect/bob2"
	echo "$output"
	[ "$status" -eq 65 ]
	[[ "$output" = *"a redirect"* ]]
	! grep -q '/ok/bob2' "$W/push.log"
	for u in "ftp://x.test/" "https://u@x.test/" "x.test" ""; do
		run as bob nc-recv --push-endpoint "$u"
		[ "$status" -eq 64 ] || { echo "$u: $status $output"; return 1; }
	done
	run as bob nc-recv --push-endpoint "$P/ok/x" --follow
	[ "$status" -eq 64 ]
}

@test "contrib/nc-push-ntfy: a message wakes it and nc-recv prints it" {
	root=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	NC_HOME=$W/bob "$root/contrib/nc-push-ntfy" "$P/ntfy/bobtopic" >"$W/woken.out" 2>"$W/woken.err" &
	spid=$!
	for _ in $(seq 100); do grep -q 'GET /ntfy/bobtopic/json\|POST /ntfy/bobtopic ' "$W/push.log" && break; sleep 0.1; done
	sleep 1   # the subscription is up
	as alice nc-send bob@b.test <<<"woken by push"
	for _ in $(seq 150); do grep -q 'woken by push' "$W/woken.out" && break; sleep 0.1; done
	cat "$W/woken.out" "$W/woken.err"
	grep -qx 'alice@a.test: woken by push' "$W/woken.out"
	# what the topic carried: the fixed body only
	! grep -q 'woken' "$W/push.log"
	run as bob nc-recv --push-endpoint none
	[ "$status" -eq 0 ]
}
