#!/usr/bin/env bats
# nc-send and nc-recv make their requests from a helper process forked
# before they read a key (lib/net/netproc.c): it holds nothing of the caller's
# but standard error, keeps no password, never outlives its command, and
# its command still never loads libcurl itself.

load helpers/relay
load helpers/client

setup() { world_load; }

teardown() {
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
}

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	echo hello | as alice nc-send bob@b.test >/dev/null
	as bob nc-recv >/dev/null
}

teardown_file() { world_down; }

# helper_of PID: the helper process of command PID (waits for it).
helper_of() {
	local c i
	for i in $(seq 100); do
		c=$(pgrep -P "$1" | head -n 1)
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.05
	done
	return 1
}

@test "netproc: the helper of nc-recv --follow holds only /dev/null, stderr and sockets; no password; no libcurl in the command, nor libarchive in either" {
	exec 7>"$W/fd7"   # a descriptor of the caller's it must not keep
	NC_HOME=$W/bob nc-recv --follow >"$W/follow.out" 2>"$W/follow.err" 3>&- &
	pid=$!
	exec 7>&-
	helper=$(helper_of "$pid")
	# wait until the helper has loaded libcurl and the command is polling
	for _ in $(seq 100); do
		grep -q libcurl "/proc/$helper/maps" 2>/dev/null && break
		sleep 0.05
	done
	grep -q libcurl "/proc/$helper/maps"
	! grep -q libcurl "/proc/$pid/maps"
	# loaded only for archives (lib/app/archload.c), with ICU and libxml2
	! grep -qE 'libarchive|libicu|libxml2' "/proc/$pid/maps" "/proc/$helper/maps"
	ls -l "/proc/$helper/fd" >&2
	# 0, 1, 2, then sockets only: ours, and libcurl's own
	for f in "/proc/$helper/fd"/*; do
		case ${f##*/} in 0|1|2) continue ;; esac
		[[ "$(readlink "$f")" == socket:* ]]
	done
	[ "$(readlink "/proc/$helper/fd/0")" = /dev/null ]
	[ "$(readlink "/proc/$helper/fd/1")" = /dev/null ]
	[ "$(readlink "/proc/$helper/fd/2")" = "$W/follow.err" ]
	! tr '\0' '\n' <"/proc/$helper/environ" | grep -q '^NC_PASSWORD='
	tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^NC_PASSWORD='
	# it still delivers
	echo "through the helper" | as alice nc-send bob@b.test >/dev/null
	for _ in $(seq 100); do
		grep -q "through the helper" "$W/follow.out" && break
		sleep 0.05
	done
	grep -q "through the helper" "$W/follow.out"
	# started beside its command on another CPU, it may use them all again
	# once it has requests to make: each of its threads (the worker that
	# started with it too; under TSan only the main one: the runtime's own
	# threads keep the CPU they started on)
	tasks=("/proc/$helper/task"/*)
	[ -z "${NC_TSAN:-}" ] || tasks=("/proc/$helper")
	for t in "${tasks[@]}"; do
		grep Cpus_allowed_list "$t/status" >&2
		[ "$(grep Cpus_allowed_list "$t/status")" = \
		    "$(grep Cpus_allowed_list "/proc/$pid/status")" ]
	done
	# killed in its long poll, the command takes its helper along
	kill -9 "$pid"
	for _ in $(seq 100); do
		[ -d "/proc/$helper" ] || break
		sleep 0.05
	done
	[ ! -d "/proc/$helper" ] || grep -q '^State:.*Z' "/proc/$helper/status"
}

@test "netproc: nc-send's output and exit status are its own; its helper is gone when it returns" {
	run as alice nc-send bob@b.test <<<"one more"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	[ -z "$(pgrep -f 'nc-send bob@b.test' || true)" ]
	# started with standard input closed (the socket pair gets fd 0)
	run bash -c 'NC_HOME=$W/bob nc-recv <&-'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"one more"* ]]
}

# loaded_by CMD...: run CMD with the loader's trace; prints the pid that
# loaded libsodium (the command) and the one that loaded libcurl.
loaded_by() {
	LD_DEBUG=files "$@" >/dev/null 2>"$W/ld.trace" || true
	echo "$(awk '/file=libsodium\.so/ { print $1; exit }' "$W/ld.trace")" \
	    "$(awk '/file=libcurl\.so\.4 .*loaded/ { print $1; exit }' "$W/ld.trace")"
}

@test "netproc: nc-keygen and nc-send --flush talk to the relay from their helper too" {
	local pids
	config carol
	pids=$(loaded_by env NC_HOME="$W/carol" nc-keygen carol@a.test)
	echo "keygen: $pids"
	[[ "$pids" =~ ^([0-9]+):\ ([0-9]+):$ ]]
	[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]
	[ -f "$W/carol/state.db" ]
	# something queued for --flush to deliver
	relay_down b
	run as alice nc-send bob@b.test <<<"queued for the flush"
	[ "$status" -eq 75 ]
	relay_up b
	pids=$(loaded_by env NC_HOME="$W/alice" nc-send --flush)
	echo "flush: $pids"
	[[ "$pids" =~ ^([0-9]+):\ ([0-9]+):$ ]]
	[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]
	run as bob nc-recv
	[[ "$output" == *"queued for the flush"* ]]
}

@test "netproc: one command's requests to one relay, one after another, share one connection" {
	mkuser dave dave@a.test
	echo hi | as alice nc-send dave@a.test >/dev/null
	hostile_up "$RELAY_URL_a"
	sed -i "s#^relay a.test .*#relay a.test $(head -n 1 "$W/proxy.out")#" \
	    "$W/alice/config"
	# nc-send: its device counter, then the delivery, both at a.test;
	# each answered before the next is asked
	for i in 1 2 3 4 5; do
		rm -f "$W/rec/conns" "$W/rec/log"
		run as alice nc-send dave@a.test <<<"message $i"
		[ "$status" -eq 0 ]
		cat "$W/rec/log" >&2
		grep -q ' POST .*/counter 200 ' "$W/rec/log"
		grep -q ' POST /v1/users/dave/deliver 201 ' "$W/rec/log"
		[ "$(wc -l <"$W/rec/conns")" -eq 1 ]
	done
	kill "$(cat "$W/proxy.pid")"
	sed -i "s#^relay a.test .*#relay a.test $RELAY_URL_a#" "$W/alice/config"
	run as dave nc-recv
	[[ "$output" == *"message 5"* ]]
}
