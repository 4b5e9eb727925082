#!/usr/bin/env bash
# t/bench/group-recv.sh - nc-recv of one group message beside nc-recv of one
# 1:1 message, whole process, in the same run (t/bench/pairtime.c: one of
# each in turn). Before each pair alice sends one message to the group
# {alice, bob} (sender key already out) and one to carol; bob reads the
# group message, carol the 1:1 one (both on relay b.test, sessions both
# ways). Target: at most 1.1x (issue 17).
# Appends rows to $BENCH_CSV: group,metric,unit,better,ours,ref_name,ref_value,target
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_RUNS:-30}
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-grecv.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench NC_PWHASH_COST=interactive

relay() {   # relay DIR DOMAIN VAR (as in cli.sh)
	mkdir -p "$T/$1"
	nc-relayd -d "$T/$1" -l 127.0.0.1:0 -D "$2" >"$T/$1.out" 2>"$T/$1.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.out" ] && break; sleep 0.05; done
	printf -v "$3" '%s' "$(head -n 1 "$T/$1.out")"
}
relay ra a.test A
relay rb b.test Bu
for u in alice@a.test bob@b.test carol@b.test; do
	mkdir -m 700 "$T/${u%@*}"
	printf 'relay a.test %s\nrelay b.test %s\n' "$A" "$Bu" >"$T/${u%@*}/config"
	NC_HOME=$T/${u%@*} nc-keygen "$u" >/dev/null
done
for u in bob@b.test carol@b.test; do   # sessions both ways
	echo hello | NC_HOME=$T/alice nc-send "$u" >/dev/null
	NC_HOME=$T/${u%@*} nc-recv >/dev/null
	echo hello | NC_HOME=$T/${u%@*} nc-send alice@a.test >/dev/null
	NC_HOME=$T/alice nc-recv >/dev/null
done
NC_HOME=$T/alice nc-group create bench bob@b.test >/dev/null
echo first | NC_HOME=$T/alice nc-send -g bench >/dev/null   # the sender key out
NC_HOME=$T/bob nc-recv >/dev/null
NC_HOME=$T/carol nc-recv >/dev/null   # what is left (receipts)

${CC:-cc} -O2 -o "$T/pairtime" t/bench/pairtime.c
prep="echo x | NC_HOME=$T/alice nc-send -g bench >/dev/null &&
    echo x | NC_HOME=$T/alice nc-send carol@b.test >/dev/null"
# what each side reads: one group message, one 1:1 message
sh -c "$prep"
NC_HOME=$T/bob nc-recv --json | jq -e -s 'length == 1 and .[0].group != null' >/dev/null
NC_HOME=$T/carol nc-recv --json | jq -e -s 'length == 1 and .[0].group == null' >/dev/null
set -- $("$T/pairtime" "$RUNS" "$prep" /dev/null env NC_HOME="$T/bob" nc-recv -- \
    env NC_HOME="$T/carol" nc-recv)
printf 'grouprecv,nc-recv of one group message,ms,lower,%.2f,nc-recv of one 1:1 message,%.2f,1.1\n' \
    "$1" "$2" >>"$CSV"
