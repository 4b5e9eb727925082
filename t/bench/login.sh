#!/usr/bin/env bash
# t/bench/login.sh - the relay's login throughput under wrk (2 threads, 32
# connections, BENCH_SECONDS each): the first leg of an OPAQUE login (KE1
# in, KE2 and a sealed token out) for a registered user and for a name
# with no account (answered from a fake record). The two should cost the
# same: a difference is what lets a flood tell users apart. The rate
# limits are raised for the run.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
out=$B/bench
dur=${BENCH_SECONDS:-10}
csv=${BENCH_CSV:-$out/bench.csv}
mkdir -p "$out"
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-login.XXXXXX")
pid=
trap '[ -z "$pid" ] || { kill "$pid"; wait "$pid"; } 2>/dev/null; rm -rf "$T"' EXIT

${CC:-cc} -O2 -Ilib/proto $(pkg-config --cflags libsodium) \
    -o "$out/opaque-login" t/bench/opaque-login.c "$B/libnewchat.a" \
    $(pkg-config --libs libsodium) -lm
"$out/opaque-login" ke1 "$T/ke1"

mkdir -p "$T/relay"
nc-relayd -d "$T/relay" -l 127.0.0.1:0 -D a.test --rate-login 1000000 \
    --conns-per-ip 1000 >"$T/url" 2>"$T/err" &
pid=$!
for _ in $(seq 100); do [ -s "$T/url" ] && break; sleep 0.05; done
url=$(head -n 1 "$T/url")
[ -n "$url" ] || { cat "$T/err" >&2; exit 1; }
mkdir -m 700 "$T/alice"
echo "relay a.test $url" >"$T/alice/config"
NC_HOME=$T/alice NC_PASSWORD="a bench password" NC_PWHASH_COST=interactive \
    nc-keygen alice@a.test >/dev/null

. t/bench/wrk.bash
measure() {   # measure USER: sets rps, p99 (ms)
	wrk_measure "$T/wrk" t/bench/login.lua "$url/v1/users/$1/login" \
	    "login KE2 for $1" "$T/ke1"
}
measure alice
rps_real=$rps p99_real=$p99
measure nobody-here
echo "login,KE2/s unknown user,req/s,higher,$rps,KE2/s real user,$rps_real" >>"$csv"
echo "login,KE2 p99 unknown user,ms,lower,$p99,KE2 p99 real user,$p99_real" >>"$csv"
