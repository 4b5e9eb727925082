#!/usr/bin/env bats
# Commands that hold secrets never dump core (security review, issue 14
# item 4): started with an unlimited core limit, a running nc-recv
# --follow, its network helper and the relay all run with a core limit of
# 0, soft and hard.

load helpers/relay
load helpers/client

setup_file() {
	# allow cores in what the tests start, so only the commands' own
	# setrlimit can bring the limit to 0
	ulimit -S -c "$(ulimit -H -c)"
	world_up
	mkuser bob bob@b.test
}
teardown_file() { world_down; }
setup() {
	world_load
	[ "$(ulimit -H -c)" != 0 ] || skip "the hard core limit is 0 already"
	ulimit -S -c "$(ulimit -H -c)"
}

# core_limit PID: "soft hard" of its "Max core file size"
core_limit() {
	awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"
}

@test "no core dumps: nc-recv --follow and its network helper" {
	[ "$(ulimit -S -c)" != 0 ]
	NC_HOME=$W/bob nc-recv --follow >"$W/f.out" 2>"$W/f.err" 3>&- &
	pid=$!
	sleep 1
	kill -0 "$pid"
	run core_limit "$pid"
	echo "nc-recv: $output"
	ok=0
	[ "$output" = "0 0" ] && ok=1
	# its children (the network helper) inherit the limit
	for c in $(cat "/proc/$pid/task/"*/children 2>/dev/null); do
		echo "child $c: $(core_limit "$c")"
		[ "$(core_limit "$c")" = "0 0" ] || ok=0
	done
	kill "$pid"
	wait "$pid" || true
	[ "$ok" -eq 1 ]
}

@test "no core dumps: nc-relayd" {
	run core_limit "$RELAY_PID_b"
	echo "nc-relayd: $output"
	[ "$output" = "0 0" ]
}

@test "no core dumps: a short command (nc-keys) runs and exits as before" {
	run as bob nc-keys show
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == bob@b.test ]]
}
