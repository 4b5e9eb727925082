# wrk.bash - sourced by the bench parts that drive the relay with wrk.
# wrk_measure OUT LUA URL LABEL [ARG...]: wrk, 2 threads, 32 connections,
# BENCH_SECONDS (10); sets rps and p99 (ms); fails on any non-2xx answer.
# OUT: a scratch file for wrk's report.
wrk_measure() {
	local out=$1 lua=$2 url=$3 label=$4
	shift 4
	wrk -t2 -c32 -d"${BENCH_SECONDS:-10}s" --latency -s "$lua" "$url" -- "$@" >"$out" 2>&1
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	p99=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	    f = u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1; printf "%.2f", v * f}' "$out")
	if grep -q 'Non-2xx' "$out" || [ -z "$rps" ]; then
		cat "$out" >&2
		echo "bench: $label: errors" >&2
		exit 1
	fi
	echo "  $label: $rps req/s, p99 $p99 ms" >&2
}
