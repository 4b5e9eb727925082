#!/usr/bin/env bats
# Many messages, crashes and concurrent processes on one NC_HOME: nothing
# lost, nothing printed twice.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }
setup() { world_load; }
teardown() {
	local p
	for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
}

# Quick runs (valgrind/ASan passes) use fewer messages.
N() { if [ -n "${NC_QUICK:-}${NC_ASAN:-}" ]; then echo "$2"; else echo "$1"; fi; }

# each_once FILE PREFIX N: lines PREFIX1..PREFIXN each exactly once, in order.
each_once() {
	local got want
	got=$(grep -oE "$2[0-9]+\$" "$1" | tr '\n' ' ')
	want=$(for i in $(seq 1 "$3"); do printf '%s%d ' "$2" "$i"; done)
	[ "$got" = "$want" ] || { echo "got:  $got"; echo "want: $want"; return 1; }
}

@test "200 messages each way, interleaved, each received once and in order" {
	n=$(N 200 40)
	: >"$W/a.out"; : >"$W/b.out"
	for i in $(seq 1 "$n"); do
		as alice nc-send bob@b.test <<<"ab-$i" >/dev/null
		as bob nc-send alice@a.test <<<"ba-$i" >/dev/null
		if [ $((i % 25)) -eq 0 ]; then
			as bob nc-recv >>"$W/b.out"
			as alice nc-recv >>"$W/a.out"
		fi
	done
	as bob nc-recv >>"$W/b.out"
	as alice nc-recv >>"$W/a.out"
	each_once "$W/b.out" "alice@a.test: ab-" "$n"
	each_once "$W/a.out" "bob@b.test: ba-" "$n"
}

@test "SIGKILL of nc-recv in the middle of a batch: nothing lost, nothing twice" {
	n=$(N 60 20)
	for i in $(seq 1 "$n"); do as alice nc-send bob@b.test <<<"k-$i" >/dev/null; done
	: >"$W/k.out"
	for delay in 0.05 0.15 0.3; do
		NC_HOME=$W/bob nc-recv >>"$W/k.out" 2>/dev/null 3>&- &
		p=$!
		sleep "$delay"
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	as bob nc-recv >>"$W/k.out"
	each_once "$W/k.out" "alice@a.test: k-" "$n"
	# and the store holds each exactly once
	run as bob nc-recv --history alice@a.test
	[ "$(printf '%s\n' "$output" | grep -cE ': k-[0-9]+$')" -eq "$n" ]
}

@test "two nc-recv at once: each message printed once" {
	n=$(N 40 15)
	for i in $(seq 1 "$n"); do as alice nc-send bob@b.test <<<"t-$i" >/dev/null; done
	NC_HOME=$W/bob nc-recv >"$W/t1.out" 2>"$W/t1.err" 3>&- &
	p1=$!
	NC_HOME=$W/bob nc-recv >"$W/t2.out" 2>"$W/t2.err" 3>&- &
	p2=$!
	wait "$p1"; wait "$p2"
	cat "$W/t1.err" "$W/t2.err"
	as bob nc-recv >"$W/t3.out"
	[ "$(cat "$W/t1.out" "$W/t2.out" "$W/t3.out" | grep -cE ': t-[0-9]+$')" -eq "$n" ]
	for i in $(seq 1 "$n"); do
		[ "$(cat "$W/t1.out" "$W/t2.out" "$W/t3.out" | grep -c ": t-$i\$")" -eq 1 ]
	done
}

@test "cron nc-recv + nc-recv --follow + nc-send on one NC_HOME: nothing lost or twice" {
	n=$(N 30 10)
	NC_HOME=$W/bob nc-recv --follow >"$W/c.follow" 2>/dev/null 3>&- &
	pids=$!
	: >"$W/c.cron"
	for i in $(seq 1 "$n"); do
		as alice nc-send bob@b.test <<<"c-$i" >/dev/null
		as bob nc-send alice@a.test <<<"reply-$i" >/dev/null 3>&- &
		sp=$!
		as bob nc-recv >>"$W/c.cron" 2>/dev/null
		wait "$sp"
	done
	for i in $(seq 50); do
		[ "$(cat "$W/c.follow" "$W/c.cron" | grep -cE ': c-[0-9]+$')" -ge "$n" ] && break
		sleep 0.1
	done
	kill $pids; wait $pids || true
	pids=
	cat "$W/c.follow" "$W/c.cron" | sort -t- -k2 -n >"$W/c.all"
	each_once "$W/c.all" "alice@a.test: c-" "$n"
	as alice nc-recv >"$W/c.alice"
	each_once "$W/c.alice" "bob@b.test: reply-" "$n"
}
