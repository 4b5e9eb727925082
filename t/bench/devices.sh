#!/usr/bin/env bash
# t/bench/devices.sh - how one nc-send scales with the recipient's devices:
# wall time of one send to a user with 1, 2, 5 and 10 devices, on
# established sessions (hyperfine) and as a first message (X3DH with every
# device: prekey claims included; the median of a few fresh senders), and
# the encryption alone (nc-send -o -: armored envelopes, no network); and a
# sender with 2 own devices (each send also carries a "sent" copy).
# Prints ms per send and per device; appends rows to $BENCH_CSV.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_RUNS:-20}
FIRST=${BENCH_FIRST:-3}
SIZES=${BENCH_DEVICES:-1 2 5 10}
command -v hyperfine >/dev/null || { echo "devices.sh: hyperfine missing" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-dev.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench NC_PWHASH_COST=interactive

# relay DIR DOMAIN VAR: start a relay, its URL in VAR. Not run in $(...):
# the pid must reach this shell's list, or the relay outlives the bench.
relay() {
	mkdir -p "$T/$1"
	nc-relayd -d "$T/$1" -l 127.0.0.1:0 -D "$2" --rate-login 10000 --rate-register 10000 \
	    >"$T/$1.out" 2>"$T/$1.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.out" ] && break; sleep 0.05; done
	printf -v "$3" '%s' "$(head -n 1 "$T/$1.out")"
}
relay ra a.test A
relay rb b.test Bu
home() {   # NAME ADDR: a new NC_HOME with keys for ADDR
	mkdir -m 700 "$T/$1"
	printf 'relay a.test %s\nrelay b.test %s\n' "$A" "$Bu" >"$T/$1/config"
	NC_HOME=$T/$1 nc-keygen "$2" >/dev/null 2>&1
}
ms() { date +%s%N; }
row() { printf 'devices,%s,ms,lower,%.2f,%s,%.2f\n' "$1" "$2" "$3" "$4" >>"$CSV"; }

base=0 base1=0 base2=0 base3=0
printf '%-8s %10s %10s %16s %10s %10s %10s\n' devices "send ms" "ms/device" \
    "first (X3DH) ms" "ms/device" "-o - ms" "send cpu" >&2
for n in $SIZES; do
	for i in $(seq 1 "$n"); do home "bob$n.$i" "bob$n@b.test"; done
	# first messages: each from a sender that never met bob$n
	firsts=()
	for k in $(seq 1 "$FIRST"); do
		home "new$n.$k" "new$n.$k@a.test"
		t0=$(ms)
		echo hi | NC_HOME=$T/new$n.$k nc-send "bob$n@b.test" >/dev/null
		t1=$(ms)
		firsts+=($(( (t1 - t0) / 1000 )))
	done
	first=$(printf '%s\n' "${firsts[@]}" | sort -n | sed -n "$(( (FIRST + 1) / 2 ))p")
	first=$(awk -v u="$first" 'BEGIN { printf "%.2f", u / 1000 }')
	# established: the sender of the first message keeps sending
	NC_HOME=$T/new$n.1 hyperfine -N -w 2 -r "$RUNS" --export-json "$T/s$n.json" \
	    "sh -c 'echo a short message | nc-send bob$n@b.test >/dev/null'" \
	    >/dev/null 2>&1 || NC_HOME=$T/new$n.1 hyperfine -w 2 -r "$RUNS" \
	    --export-json "$T/s$n.json" \
	    "sh -c 'echo a short message | nc-send bob$n@b.test >/dev/null'" >/dev/null
	send=$(jq '.results[0].mean * 1000' "$T/s$n.json")
	# CPU of the nc-send process (user + system): less at the mercy of
	# other load on the machine than wall time
	cpu=$(jq '(.results[0].user + .results[0].system) * 1000' "$T/s$n.json")
	NC_HOME=$T/new$n.1 hyperfine -N -w 2 -r "$RUNS" --export-json "$T/a$n.json" \
	    "sh -c 'echo a short message | nc-send -o - bob$n@b.test >/dev/null'" \
	    >/dev/null 2>&1 || NC_HOME=$T/new$n.1 hyperfine -w 2 -r "$RUNS" \
	    --export-json "$T/a$n.json" \
	    "sh -c 'echo a short message | nc-send -o - bob$n@b.test >/dev/null'" >/dev/null
	armor=$(jq '.results[0].mean * 1000' "$T/a$n.json")
	[ "$n" != 1 ] || { base=$send; base1=$first; base2=$armor; }
	printf '%-8s %10.2f %10.2f %16.2f %10.2f %10.2f %10.2f\n' "$n" "$send" \
	    "$(awk -v a="$send" -v n="$n" 'BEGIN { print a / n }')" "$first" \
	    "$(awk -v a="$first" -v n="$n" 'BEGIN { print a / n }')" "$armor" "$cpu" >&2
	row "nc-send to $n devices" "$send" "nc-send to 1 device" "$base"
	row "first nc-send to $n devices" "$first" "first nc-send to 1 device" "$base1"
	row "nc-send -o - to $n devices" "$armor" "nc-send -o - to 1 device" "$base2"
	[ "$n" != 1 ] || base3=$cpu
	row "nc-send CPU to $n devices" "$cpu" "nc-send CPU to 1 device" "$base3"
done

# The sender's own second device: a copy per message.
first_n=${SIZES%% *}
home multi.1 multi@a.test
home multi.2 multi@a.test
NC_HOME=$T/multi.1 nc-recv >/dev/null 2>&1 || true   # learns of device 2
echo hi | NC_HOME=$T/multi.1 nc-send "bob$first_n@b.test" >/dev/null
NC_HOME=$T/multi.1 hyperfine -N -w 2 -r "$RUNS" --export-json "$T/m.json" \
    "sh -c 'echo a short message | nc-send bob$first_n@b.test >/dev/null'" \
    >/dev/null 2>&1 || NC_HOME=$T/multi.1 hyperfine -w 2 -r "$RUNS" \
    --export-json "$T/m.json" \
    "sh -c 'echo a short message | nc-send bob$first_n@b.test >/dev/null'" >/dev/null
multi=$(jq '.results[0].mean * 1000' "$T/m.json")
printf 'sender with 2 own devices (1 copy) to %s device(s): %.2f ms\n' \
    "$first_n" "$multi" >&2
row "nc-send with a sent copy, to $first_n devices" "$multi" "nc-send to 1 device" "$base"
