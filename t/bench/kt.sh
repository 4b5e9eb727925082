#!/usr/bin/env bash
# t/bench/kt.sh - the relay's key log (t/bench/kt-log.c): appends per
# second on the store (fsync'd group commits, leaves made beforehand),
# the VRF labels one core makes per second (the relay's cost per update,
# on its request threads), and proof sizes in a log of KT_LEAVES (100,000)
# leaves. Target: 5,000 appends/s with the batched writer.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
out=$B/bench
csv=${BENCH_CSV:-$out/bench.csv}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objs=$(ls "$B"/cmd/nc-relayd/*.o | grep -v '/main\.o$')
${CC:-cc} -O2 -Ilib/proto -Icmd/nc-relayd $(pkg-config --cflags libsodium sqlite3) \
    -o "$out/kt-log" t/bench/kt-log.c $objs "$B/libnewchat.a" \
    $(pkg-config --libs libsodium libcurl sqlite3 libmicrohttpd libarchive libpq) -lpthread -lm
mkdir "$tmp/d"
"$out/kt-log" "$tmp/d" "${KT_LEAVES:-100000}" | tee "$tmp/res"
rate=$(awk '/^append_rate_[0-9]+_writers/ { print $2 }' "$tmp/res")
echo "kt,appends per second,appends/s,higher,$rate,target,5000,1" >>"$csv"
