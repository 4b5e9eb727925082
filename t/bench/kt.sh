#!/usr/bin/env bash
# t/bench/kt.sh - the relay's key log (issue 19's performance lines):
#   - t/bench/kt-log.c on the relay's store: appends per second (fsync'd
#     group commits, leaves made beforehand; target 5,000/s with the
#     batched writer), the VRF labels one core makes per second (the
#     relay's cost per update, on its request threads), proof sizes in a
#     log of KT_LEAVES (1,000,000) leaves (target <= 2 KB) and the time a
#     client takes to verify one fetch's proof (target <= 0.5 ms);
#   - nc-keys audit of KT_MORE (10,000) new entries of that log, served by
#     nc-relayd (target <= 2 s), after a first audit of the whole log.
# (nc-send to an established contact with the key log on and off: cli.sh.)
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
out=$B/bench
csv=${BENCH_CSV:-$out/bench.csv}
mkdir -p "$out"
tmp=$(mktemp -d)
rpid=
trap '[ -z "$rpid" ] || kill "$rpid" 2>/dev/null; rm -rf "$tmp"' EXIT
export NC_PASSWORD=bench-auditor-password NC_PWHASH_COST=interactive
objs=$(ls "$B"/cmd/nc-relayd/*.o | grep -v '/main\.o$')
${CC:-cc} -O2 -Ilib/proto -Icmd/nc-relayd $(pkg-config --cflags libsodium sqlite3) \
    -o "$out/kt-log" t/bench/kt-log.c $objs "$B/libnewchat.a" \
    $(pkg-config --libs libsodium libcurl sqlite3 libmicrohttpd libarchive libpq) -lpthread -lm
mkdir "$tmp/d"
"$out/kt-log" "$tmp/d" "${KT_LEAVES:-1000000}" | tee "$tmp/res"
val() { awk -v k="$1" '$1 ~ k { print $2; exit }' "$tmp/res"; }
rate=$(val '^append_rate_[0-9]+_writers')
echo "kt,appends per second,appends/s,higher,$rate,target,5000,1" >>"$csv"
for p in fetch_proof_no_since fetch_proof_with_since consistency_proof; do
	echo "kt,${p//_/ },bytes,lower,$(val "^$p\$"),target,2048,1" >>"$csv"
done
# CPU time: the wall time on a machine that runs other work too is printed above
echo "kt,client verify per fetch (CPU),ms,lower,$(val '^client_verify_cpu$'),target,0.5,1" >>"$csv"
echo "kt,client verify per re-fetch of a proven version (CPU),ms,lower,$(val '^client_verify_cached_cpu$'),target,0.5,1" >>"$csv"

# relay DIR: nc-relayd serving the log in DIR as a.test; its URL in $url
relay() {
	: >"$tmp/r.out"
	nc-relayd -d "$1" -l 127.0.0.1:0 -D a.test >"$tmp/r.out" 2>"$tmp/r.err" &
	rpid=$!
	for _ in $(seq 600); do [ -s "$tmp/r.out" ] && break; sleep 0.05; done
	url=$(head -n 1 "$tmp/r.out")
	[ -n "$url" ] || { cat "$tmp/r.err" >&2; exit 1; }
}
stop() { kill "$rpid"; wait "$rpid" 2>/dev/null || true; rpid=; }
relay "$tmp/d"
mkdir -m 700 "$tmp/h"
echo "relay a.test $url" >"$tmp/h/config"
NC_HOME=$tmp/h nc-keygen auditor@a.test >/dev/null
t0=$(date +%s.%N)
NC_HOME=$tmp/h nc-keys audit a.test
t1=$(date +%s.%N)
printf "audit_whole_log %.3f s\n" "$(echo "$t1 - $t0" | bc)"
stop
"$out/kt-log" "$tmp/d" --append "${KT_MORE:-10000}"
relay "$tmp/d"
echo "relay a.test $url" >"$tmp/h/config"
t0=$(date +%s.%N)
NC_HOME=$tmp/h nc-keys audit a.test
t1=$(date +%s.%N)
stop
s=$(printf "%.3f" "$(echo "$t1 - $t0" | bc)")
echo "audit_new_entries $s s"
echo "kt,audit of ${KT_MORE:-10000} new entries,s,lower,$s,target,2,1" >>"$csv"
