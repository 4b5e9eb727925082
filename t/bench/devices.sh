#!/usr/bin/env bash
# t/bench/devices.sh - how one nc-send scales with the recipient's devices:
# wall time of one send to a user with 1, 2, 5 and 10 devices, on
# established sessions (each beside a send to the 1-device user, one run of
# each in turn) and as a first message (X3DH with every device: prekey
# claims included; the median of a few fresh senders), and the encryption
# alone (nc-send -o -: armored envelopes, no network); and a sender with 2
# own devices (each send also carries a "sent" copy).
# Prints ms per send and per added device; appends rows to $BENCH_CSV.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_RUNS:-20}
FIRST=${BENCH_FIRST:-3}
SIZES=${BENCH_DEVICES:-1 2 5 10}
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

# Sends on an established session are timed against a send to the
# smallest user in the same run, one run of each in turn
# (t/bench/pairtime.c): the difference is what the extra devices cost,
# well below the noise of separate runs.
${CC:-cc} -O2 -o "$T/pairtime" t/bench/pairtime.c
echo "a short message" >"$T/msg"
first_n=${SIZES%% *}
pair() {   # pair SENDER-HOME RCPT [-o -]: "ms-to-RCPT ms-to-the-smallest"
	local h=$1 to=$2
	shift 2
	"$T/pairtime" "$RUNS" '' "$T/msg" env NC_HOME="$T/$h" nc-send "$@" "$to" \
	    -- env NC_HOME="$T/new$first_n.1" nc-send "$@" "bob$first_n@b.test"
}
base1=0
printf '%-8s %10s %10s %12s %16s %10s %10s\n' devices "send ms" "vs $first_n" \
    "+ms/device" "first (X3DH) ms" "-o - ms" "vs $first_n" >&2
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
	[ "$n" != "$first_n" ] || base1=$first
	# established: the sender of the first message keeps sending
	set -- $(pair "new$n.1" "bob$n@b.test")
	send=$1 ref=$2
	set -- $(pair "new$n.1" "bob$n@b.test" -o -)
	armor=$1 aref=$2
	per=$(awk -v a="$send" -v b="$ref" -v n="$n" -v f="$first_n" \
	    'BEGIN { if (n > f) printf "%.2f", (a - b) / (n - f); else print "-" }')
	printf '%-8s %10.2f %10.2f %12s %16.2f %10.2f %10.2f\n' "$n" "$send" \
	    "$ref" "$per" "$first" "$armor" "$aref" >&2
	row "nc-send to $n devices" "$send" "nc-send to $first_n (same run)" "$ref"
	row "first nc-send to $n devices" "$first" "first nc-send to $first_n" "$base1"
	row "nc-send -o - to $n devices" "$armor" "nc-send -o - to $first_n (same run)" "$aref"
done

# The sender's own second device: a copy per message.
home multi.1 multi@a.test
home multi.2 multi@a.test
NC_HOME=$T/multi.1 nc-recv >/dev/null 2>&1 || true   # learns of device 2
echo hi | NC_HOME=$T/multi.1 nc-send "bob$first_n@b.test" >/dev/null
set -- $(pair multi.1 "bob$first_n@b.test")
printf 'sender with 2 own devices (1 copy) to %s device(s): %.2f ms (one own device: %.2f)\n' \
    "$first_n" "$1" "$2" >&2
row "nc-send with a sent copy to $first_n devices" "$1" "nc-send to $first_n (same run)" "$2"
