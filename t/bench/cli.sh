#!/usr/bin/env bash
# t/bench/cli.sh - whole-process wall time of the client commands beside
# curl making one request to the same relay (the floor for "a process that
# makes one HTTP request"), measured in the same run, one run of each in
# turn. Two such floors: a request the relay refuses at once (404), and one
# whose bytes it commits durably first (201), as every nc-send needs.
# Also nc-send with the key log on beside off (policy tofu).
# Appends rows to $BENCH_CSV: group,metric,unit,better,ours,ref_name,ref_value
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_RUNS:-30}
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-cli.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench NC_PWHASH_COST=interactive

# relay DIR DOMAIN VAR: start a relay, its URL in VAR. Not run in $(...):
# the pid must reach this shell's list, or the relay outlives the bench.
relay() {
	mkdir -p "$T/$1"
	nc-relayd -d "$T/$1" -l 127.0.0.1:0 -D "$2" >"$T/$1.out" 2>"$T/$1.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.out" ] && break; sleep 0.05; done
	printf -v "$3" '%s' "$(head -n 1 "$T/$1.out")"
}
relay ra a.test A
relay rb b.test Bu
for u in alice bob; do
	mkdir -m 700 "$T/$u"
	printf 'relay a.test %s\nrelay b.test %s\n' "$A" "$Bu" >"$T/$u/config"
done
NC_HOME=$T/alice nc-keygen alice@a.test >/dev/null
NC_HOME=$T/bob nc-keygen bob@b.test >/dev/null
# An established session both ways.
echo hello | NC_HOME=$T/alice nc-send bob@b.test >/dev/null
NC_HOME=$T/bob nc-recv >/dev/null
echo hello | NC_HOME=$T/bob nc-send alice@a.test >/dev/null
NC_HOME=$T/alice nc-recv >/dev/null
# The same bytes nc-send posts: one envelope of a short message.
echo "a short message" | NC_HOME=$T/alice nc-send -o - bob@b.test |
    sed '1d;$d' | base64 -d >"$T/env.bin"
NC_HOME=$T/bob nc-recv - < <(echo) >/dev/null 2>&1 || true

# The reference: curl posting the bytes of one envelope to the relay, to a
# mailbox that does not exist (404: the relay answers at once).
${CC:-cc} -O2 -o "$T/pairtime" t/bench/pairtime.c
ref=(curl -s -o /dev/null -X PUT --data-binary "@$T/env.bin"
    "$Bu/v1/users/nobody/devices/00000000000000000000000000000000/mailbox/00000000000000000000000000000001")
# And the same bytes to a real mailbox under a fresh envelope id each time
# (201: the relay commits and syncs them first, as it must for nc-send).
mkdir -m 700 "$T/carol"
cp "$T/bob/config" "$T/carol/config"
NC_HOME=$T/carol nc-keygen carol@b.test >/dev/null
carol_dev=$(NC_HOME=$T/carol nc-keys --json show carol@b.test | jq -r '.devices[0]')
stored=(curl -s -o /dev/null -X PUT --data-binary "@$T/env.bin"
    "$Bu/v1/users/carol/devices/$carol_dev/mailbox/{seq}")
# pair PREP INPUT CMD...: CMD (ours) and the reference, one run of each in
# turn (t/bench/pairtime.c); prints the medians "ours curl" in ms.
pair() {
	local prep=$1 input=$2
	shift 2
	"$T/pairtime" "$RUNS" "$prep" "$input" "$@" -- "${ref[@]}"
}
pair_stored() {
	local prep=$1 input=$2
	shift 2
	"$T/pairtime" "$RUNS" "$prep" "$input" "$@" -- "${stored[@]}"
}
row() {   # row METRIC "OURS CURL" TARGET [REF-NAME]
	local name=${4:-curl PUT} target=$3
	set -- "$1" $2
	printf 'cli,%s,ms,lower,%.2f,%s,%.2f,%s\n' "$1" "$2" "$name" "$3" "$target" >>"$CSV"
}

export NC_HOME
echo "a short message" >"$T/msg"
NC_HOME=$T/alice
row nc-send "$(pair '' "$T/msg" nc-send bob@b.test)" 1.3
NC_HOME=$T/bob
nc-recv >/dev/null
row nc-recv-1 "$(pair "echo one | NC_HOME=$T/alice nc-send bob@b.test >/dev/null" \
    /dev/null nc-recv)" 1.8
NC_HOME=$T/alice
row nc-send "$(pair_stored '' "$T/msg" nc-send bob@b.test)" 1.3 "curl PUT stored"
NC_HOME=$T/bob
nc-recv >/dev/null
row nc-recv-1 "$(pair_stored "echo one | NC_HOME=$T/alice nc-send bob@b.test >/dev/null" \
    /dev/null nc-recv)" 1.8 "curl PUT stored"
# nc-send to an established contact with the key log (policy log, the
# default: heads kept and gossiped, proofs checked at fetches) against a
# sender who runs without it (policy tofu: no proofs, no heads), both to
# bob with sessions both ways (issue 19: at most 1.05x).
mkdir -m 700 "$T/ann"
{ cat "$T/alice/config"; echo "policy tofu"; } >"$T/ann/config"
NC_HOME=$T/ann nc-keygen ann@a.test >/dev/null
echo hello | NC_HOME=$T/ann nc-send bob@b.test >/dev/null
NC_HOME=$T/bob nc-recv >/dev/null
echo hello | NC_HOME=$T/bob nc-send ann@a.test >/dev/null
NC_HOME=$T/ann nc-recv >/dev/null
row "nc-send key log on" "$("$T/pairtime" "$RUNS" '' "$T/msg" \
    env NC_HOME="$T/alice" nc-send bob@b.test -- \
    env NC_HOME="$T/ann" nc-send bob@b.test)" 1.05 "nc-send key log off"
NC_HOME=$T/alice
row "nc-send -o -" "$(pair '' "$T/msg" nc-send -o - bob@b.test)" 0.5
NC_HOME=$T/bob
row "nc-recv -" "$(pair "echo x | NC_HOME=$T/alice nc-send -o - bob@b.test >$T/in.asc" \
    "$T/in.asc" nc-recv -)" 0.5
row "nc-recv --history" "$(pair '' /dev/null nc-recv --history)" 0.5
row "nc-keys show" "$(pair '' /dev/null nc-keys show alice@a.test)" 0.5
