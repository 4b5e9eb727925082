#!/usr/bin/env bats
# nc-relayd stops cleanly (exit 0) on SIGTERM while connections keep
# coming. It used to call MHD_quiesce_daemon(), which on an epoll daemon
# with its own threads races the event loop for the listen socket and
# aborts ("Failed to remove listen FD from epoll set"): once in a long
# while in CI. The shim slow-epoll-del.so widens that window so the old
# relay aborted on most of these stops.

load helpers/relay

setup() {
	load=
}

teardown() {
	[ -z "$load" ] || kill $load 2>/dev/null || true
	relay_stop_all
}

# hammer PORT: one plain request after another, each on a new connection
hammer() {
	while :; do
		exec 5<>"/dev/tcp/127.0.0.1/$1" || continue
		printf 'GET /v1/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&5
		cat <&5 >/dev/null
		exec 5>&-
	done 2>/dev/null
}

@test "relay stop: SIGTERM under a stream of connections exits 0, ten times" {
	local i j url rc
	for i in $(seq 1 10); do
		LD_PRELOAD=$NC_BIN/t/slow-epoll-del.so \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		    relay_start S s.test
		url=$(eval echo "\$RELAY_URL_S")
		load=
		for j in 1 2 3 4 5 6; do
			hammer "${url##*:}" &
			load="$load $!"
		done
		sleep 0.3
		rc=0
		relay_stop S || rc=$?
		kill $load 2>/dev/null || true
		wait $load 2>/dev/null || true
		load=
		echo "stop $i: exit $rc"
		cat "$RELAY_DIR_S.err"
		[ "$rc" -eq 0 ]
		RELAY_NAMES=
		rm -rf "$RELAY_DIR_S" "$RELAY_DIR_S.err"
	done
}
