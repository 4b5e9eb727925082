#!/usr/bin/env bash
# t/bench/opaque.sh - an OPAQUE login (t/bench/opaque-login.c): the
# client's time at the default cost (moderate) beside Argon2id alone at
# that cost (target: at most 1.05 times), and the relay's CPU per login
# (KE2, token sealed, KE3 checked; target: at most 1 ms).
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
out=$B/bench
csv=${BENCH_CSV:-$out/bench.csv}
mkdir -p "$out"
${CC:-cc} -O2 -Ilib/proto $(pkg-config --cflags libsodium) \
    -o "$out/opaque-login" t/bench/opaque-login.c "$B/libnewchat.a" \
    $(pkg-config --libs libsodium) -lm
res=$("$out/opaque-login" "${OPAQUE_COST:-moderate}" 3 300)
echo "$res"
get() { awk -v k="$1" '$1 == k { print $2 }' <<<"$res"; }
c=${OPAQUE_COST:-moderate}
echo "opaque,client login ($c),ms,lower,$(get "client_login_$c"),Argon2id alone,$(get "argon2id_$c"),1.05" >>"$csv"
echo "opaque,relay CPU per login,ms,lower,$(get relay_cpu_per_login),target,1,1" >>"$csv"
