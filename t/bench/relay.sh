#!/usr/bin/env bash
# t/bench/relay.sh - deliveries per second and p99 latency of nc-relayd
# (every 201 fsync'd, group commit) beside floors measured in the same run:
# bare libmicrohttpd handlers with no storage, with sqlite WAL
# synchronous=NORMAL and with synchronous=FULL. wrk: 2 threads, 32
# connections, 400-byte envelopes, BENCH_SECONDS (10) each.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
out=$B/bench
csv=${BENCH_CSV:-$out/bench.csv}
mkdir -p "$out"
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT

${CC:-cc} -O2 -o "$out/floor-mhd" t/bench/floor-mhd.c \
    $(pkg-config --cflags --libs libmicrohttpd sqlite3) -lpthread

start() {   # start CMD...: runs it, waits for the URL on its first line
	"$@" >"$tmp/url" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$tmp/url" ] && break
		sleep 0.05
	done
	url=$(head -n 1 "$tmp/url")
	[ -n "$url" ] || { cat "$tmp/err" >&2; exit 1; }
}

stop() {
	kill "$pid"
	wait "$pid" || true
	pid=
}

. t/bench/wrk.bash
# measure URL PATH LABEL: PUTs of 400-byte envelopes (put.lua)
measure() { wrk_measure "$tmp/wrk" t/bench/put.lua "$1" "$3" "$2"; }

for mode in none normal full; do
	start "$out/floor-mhd" "$mode" "$tmp/floor-$mode.db"
	measure "$url" /x "floor $mode"
	eval "rps_$mode=$rps p99_$mode=$p99"
	stop
done

start "$B/nc-relayd" -d "$tmp/relay" -l 127.0.0.1:0 -D bench.test \
    --rate-anon 0 --mailbox-max 100000000 --conns-per-ip 256
mkdir -p "$tmp/k"
"$B/t/ncreq" keygen "$tmp/k"
"$B/t/ncreq" register "$tmp/k" >"$tmp/reg"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$tmp/reg" "$url/v1/users/bench")
[ "$code" = 201 ] || { echo "bench: register: $code" >&2; exit 1; }
dev=$("$B/t/ncreq" devid "$tmp/k")
measure "$url" "/v1/users/bench/devices/$dev/mailbox" "nc-relayd"
stop

{
	echo "relay,deliveries/s,req/s,higher,$rps,mhd+sqlite NORMAL,$rps_normal"
	echo "relay,deliveries/s,req/s,higher,$rps,mhd+sqlite FULL,$rps_full"
	echo "relay,deliveries/s,req/s,higher,$rps,mhd no storage,$rps_none"
	echo "relay,p99 latency,ms,lower,$p99,target,20,1"
	echo "relay,p99 latency,ms,lower,$p99,mhd+sqlite NORMAL,$p99_normal"
	echo "relay,p99 latency,ms,lower,$p99,mhd+sqlite FULL,$p99_full"
} >>"$csv"
