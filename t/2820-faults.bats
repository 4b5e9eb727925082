#!/usr/bin/env bats
# Faults never print twice or hide: with the receiver's disk full (the
# LD_PRELOAD shim t/preload/full-disk.c fails its writes to state.db while
# a flag file exists) nc-recv prints nothing it could not store and exits
# 74 with one line; once space returns each message is printed once. A
# --follow retries what it could not store, and stops when its state.db is
# deleted under it instead of acknowledging into the deleted file.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	echo hello | as alice nc-send bob@b.test >/dev/null
	as bob nc-recv >/dev/null
}

teardown_file() { world_down; }
setup() {
	world_load
	export NC_TEST_FULL=$W/disk-full
	rm -f "$NC_TEST_FULL"
}
teardown() {
	local p
	rm -f "$NC_TEST_FULL"
	for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
	for p in ${pids:-}; do wait "$p" 2>/dev/null || true; done
}

# Under ASan the runtime must come first: the shim loads before it, which
# is harmless here (it only wraps write/fsync), so the check is waived.
full() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    LD_PRELOAD=$NC_BIN/t/full-disk.so "$@"
}

@test "disk full while receiving: exit 74, one line, nothing printed; then each once" {
	for i in 1 2 3; do as alice nc-send bob@b.test <<<"full-$i" >/dev/null; done
	touch "$NC_TEST_FULL"
	for try in 1 2; do
		run full as bob nc-recv -v
		echo "$output"
		[ "$status" -eq 74 ]
		lines_eq 1
		[[ "$output" == "nc-recv: "*"full"* ]]
	done
	rm "$NC_TEST_FULL"
	run full as bob nc-recv
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'alice@a.test: full-%d\n' 1 2 3)" ]
	run full as bob nc-recv
	[ -z "$output" ]
}

@test "disk full after storing: the position cannot move, so nothing is printed (74); later once" {
	as alice nc-send bob@b.test <<<"stored-then-full" >/dev/null
	# fetched and stored by a reader of its own
	as bob nc-recv --cursor-file "$W/own.cur" >/dev/null
	touch "$NC_TEST_FULL"
	run full as bob nc-recv
	echo "$output"
	[ "$status" -eq 74 ]
	lines_eq 1
	[[ "$output" != *stored-then-full* ]]
	rm "$NC_TEST_FULL"
	run full as bob nc-recv
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: stored-then-full" ]
}

@test "--follow on a full disk says why, and delivers the message once space returns" {
	touch "$NC_TEST_FULL"
	NC_HOME=$W/bob full nc-recv --follow >"$W/ff.out" 2>"$W/ff.err" 3>&- &
	pids=$!
	as alice nc-send bob@b.test <<<"follow-full" >/dev/null
	for i in $(seq 100); do [ -s "$W/ff.err" ] && break; sleep 0.1; done
	cat "$W/ff.err"
	grep -q "nc-recv: .*full" "$W/ff.err"
	[ ! -s "$W/ff.out" ]
	rm "$NC_TEST_FULL"
	for i in $(seq 200); do grep -q follow-full "$W/ff.out" && break; sleep 0.1; done
	[ "$(grep -c follow-full "$W/ff.out")" -eq 1 ]
	run as bob nc-recv
	[[ "$output" != *follow-full* ]]
}

@test "--follow whose state.db is deleted stops with an error and acknowledges nothing" {
	mkuser dave bob2@b.test
	echo hi | as alice nc-send bob2@b.test >/dev/null
	as dave nc-recv >/dev/null
	NC_HOME=$W/dave nc-recv --follow >"$W/fd.out" 2>"$W/fd.err" 3>&- &
	pids=$!
	sleep 0.5
	rm "$W/dave/state.db"
	as alice nc-send bob2@b.test <<<"into-the-void" >/dev/null
	for i in $(seq 100); do kill -0 "$pids" 2>/dev/null || break; sleep 0.1; done
	run wait "$pids"
	pids=
	cat "$W/fd.err"
	[ "$status" -eq 74 ]
	grep -q "state.db was deleted" "$W/fd.err"
	# still on the relay for a device that is set up again
	[ "$(sqlite3 "$RELAY_DIR_b/relay.db" "SELECT count(*) FROM mail")" -ge 1 ]
}
