#!/usr/bin/env bash
# t/bench/cli.sh - whole-process wall time of the client commands beside
# curl making one request to the same relay (the floor for "a process that
# makes one HTTP request"), measured with hyperfine in the same run.
# Appends rows to $BENCH_CSV: group,metric,unit,better,ours,ref_name,ref_value
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_RUNS:-30}
command -v hyperfine >/dev/null || { echo "cli.sh: hyperfine missing" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-cli.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench NC_PWHASH_COST=interactive

relay() {
	mkdir -p "$T/$1"
	nc-relayd -d "$T/$1" -l 127.0.0.1:0 -D "$2" >"$T/$1.out" 2>"$T/$1.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.out" ] && break; sleep 0.05; done
	head -n 1 "$T/$1.out"
}
A=$(relay ra a.test)
Bu=$(relay rb b.test)
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

mean() {   # mean NAME CMD [hyperfine args...]: mean seconds -> ms
	local name=$1 cmd=$2
	shift 2
	hyperfine -N -w 3 -r "$RUNS" "$@" --export-json "$T/$name.json" "$cmd" \
	    >/dev/null 2>&1 || hyperfine -w 3 -r "$RUNS" "$@" \
	    --export-json "$T/$name.json" "$cmd" >/dev/null
	jq '.results[0].mean * 1000' "$T/$name.json"
}
row() { printf 'cli,%s,ms,lower,%.2f,%s,%.2f\n' "$1" "$2" "$3" "$4" >>"$CSV"; }

curl_ms=$(mean curl "curl -s -o /dev/null -X PUT --data-binary @$T/env.bin $Bu/v1/users/nobody/devices/00000000000000000000000000000000/mailbox/00000000000000000000000000000001")
export NC_HOME
NC_HOME=$T/alice
send_ms=$(mean send "sh -c 'echo a short message | nc-send bob@b.test >/dev/null'")
curl_sh=$(mean curlsh "sh -c 'curl -s -o /dev/null -X PUT --data-binary @$T/env.bin $Bu/v1/users/nobody/devices/00000000000000000000000000000000/mailbox/00000000000000000000000000000001'")
NC_HOME=$T/bob
nc-recv >/dev/null
recv_ms=$(mean recv "nc-recv" --prepare "sh -c 'echo one | NC_HOME=$T/alice nc-send bob@b.test >/dev/null'")
NC_HOME=$T/alice
armor_ms=$(mean armor "sh -c 'echo a short message | nc-send -o - bob@b.test >/dev/null'")
NC_HOME=$T/bob
stdin_ms=$(mean stdin "sh -c 'nc-recv - < $T/in.asc'" --prepare "sh -c 'echo x | NC_HOME=$T/alice nc-send -o - bob@b.test > $T/in.asc'")
hist_ms=$(mean hist "nc-recv --history")
keys_ms=$(mean keys "nc-keys show alice@a.test")

row nc-send "$send_ms" "curl PUT (sh)" "$curl_sh"
row nc-recv-1 "$recv_ms" "curl PUT" "$curl_ms"
row "nc-send -o -" "$armor_ms" "curl PUT (sh)" "$curl_sh"
row "nc-recv -" "$stdin_ms" "curl PUT (sh)" "$curl_sh"
row "nc-recv --history" "$hist_ms" "curl PUT" "$curl_ms"
row "nc-keys show" "$keys_ms" "curl PUT" "$curl_ms"
