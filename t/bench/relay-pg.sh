#!/usr/bin/env bash
# t/bench/relay-pg.sh - nc-relayd on PostgreSQL (--db): durable deliveries
# per second and p99 for one and two relay processes on one database,
# beside floors measured in the same run on the same server: bare
# libmicrohttpd handlers (floor-pg.c) committing one INSERT per request, or
# the waiting requests batched in one, with synchronous_commit=on; and
# beside nc-relayd on sqlite. Deliveries go to one mailbox (as
# t/bench/relay.sh: on PostgreSQL they are serialized by the user's row
# lock, held to each commit) and spread over 32 mailboxes (what a provider
# sees). Then the single process with 10^6 envelopes stored in 10^5
# other mailboxes. The server: initdb in a temporary
# directory (t/helpers/pg.bash), fsync and synchronous_commit on, with the
# settings contrib/postgresql.md gives a provider that are not the
# defaults: shared_buffers 256MB (a quarter of a small server's memory),
# max_wal_size 4GB, random_page_cost 1.1 (commit_delay stays 0).
# wrk as t/bench/wrk.bash (2 threads, 32 connections; two relays: one wrk
# of 1 thread and 16 connections at each, their req/s summed, the larger
# p99), 400-byte envelopes, BENCH_SECONDS (10) each.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
out=$B/bench
csv=${BENCH_CSV:-$out/bench.csv}
mkdir -p "$out"
tmp=$(mktemp -d)
pgdir=$(mktemp -u /tmp/ncpgb.XXXXXX)
pids=()
. t/helpers/pg.bash
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	pg_stop "$pgdir" immediate
	rm -rf "$tmp" "$pgdir"
}
trap cleanup EXIT

${CC:-cc} -O2 -o "$out/floor-pg" t/bench/floor-pg.c \
    $(pkg-config --cflags --libs libmicrohttpd libpq) -lpthread

pg_start "$pgdir"
for set in "shared_buffers = '256MB'" "max_wal_size = '4GB'" "random_page_cost = 1.1"; do
	pg_sql "$pgdir" postgres "ALTER SYSTEM SET $set" >/dev/null
done
pg_stop "$pgdir"
pg_restart "$pgdir"
# A server that has run a while recycles its WAL segments; a new cluster
# creates each one (16 MB written with zeros, then synced) as its WAL
# grows, and a request that waits for one shows as p99 (27-32 ms where a
# warm server gives 9-13 ms, and the floors slower too). So ~600 MB of WAL
# first, then a checkpoint that leaves its segments to be recycled.
warm=$(pg_createdb "$pgdir" warm)
pg_sql "$pgdir" "$warm" "CREATE TABLE w AS SELECT g, repeat('x', 200) AS v
    FROM generate_series(1, 2000000) g" >/dev/null
pg_sql "$pgdir" "$warm" "DROP TABLE w" >/dev/null
pg_sql "$pgdir" "$warm" "CHECKPOINT" >/dev/null

start() {   # start NAME CMD...: runs it, waits for the URL on its first line
	local name=$1 i
	shift
	"$@" >"$tmp/$name.url" 2>"$tmp/$name.err" &
	pids+=($!)
	for i in $(seq 200); do
		[ -s "$tmp/$name.url" ] && break
		sleep 0.05
	done
	url=$(head -n 1 "$tmp/$name.url")
	[ -n "$url" ] || { cat "$tmp/$name.err" >&2; exit 1; }
}

stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p"; wait "$p" || true; done
	pids=()
}

. t/bench/wrk.bash
measure() { wrk_measure "$tmp/wrk" t/bench/put.lua "$1" "$3" "$2"; }

relay() {   # relay NAME DIR [nc-relayd args]: a relay for bench.test
	local name=$1 dir=$2
	shift 2
	start "$name" "$B/nc-relayd" -d "$dir" -l 127.0.0.1:0 -D bench.test \
	    --rate-anon 0 --rate-register 0 --mailbox-max 100000000 --conns-per-ip 256 "$@"
}

user() {   # user URL NAME: registers NAME on it; sets box, its mailbox path
	local k=$tmp/k.$2
	mkdir -p "$k"
	"$B/t/ncreq" keygen "$k"
	"$B/t/ncreq" register "$k" >"$k/reg"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$k/reg" \
	    "$1/v1/users/$2")
	[ "$code" = 201 ] || { echo "bench: register: $code" >&2; exit 1; }
	box="/v1/users/$2/devices/$("$B/t/ncreq" devid "$k")/mailbox"
}

users() {   # users URL: 32 more; sets boxes, their mailbox paths
	local i
	boxes=()
	for i in $(seq 32); do
		user "$1" "b$i"
		boxes+=("$box")
	done
}

# measure_many URL LABEL [WRKARGS]: as measure, to the 32 mailboxes in turn
measure_many() { wrk_measure "$tmp/wrk" t/bench/put-many.lua "$1" "$2" "${boxes[@]}"; }

for mode in single batch; do
	db=$(pg_createdb "$pgdir" "floor_$mode")
	start floor "$out/floor-pg" "$mode" "$db"
	measure "$url" /x "floor pg $mode"
	eval "rps_$mode=$rps p99_$mode=$p99"
	stop_all
done

# nc-relayd on sqlite, the same machine and moment
relay sq "$tmp/data.sq"
user "$url" bench
measure "$url" "$box" "nc-relayd sqlite"
rps_sq=$rps p99_sq=$p99
stop_all

db=$(pg_createdb "$pgdir" relay)
relay one "$tmp/data.pg" --db "$db"
url1=$url
user "$url1" bench
measure "$url1" "$box" "nc-relayd pg, 1 process, 1 mailbox"
rps_1box=$rps p99_1box=$p99
users "$url1"
measure_many "$url1" "nc-relayd pg, 1 process, 32 mailboxes"
rps_1=$rps p99_1=$p99

# a second process on the same database and data directory
relay two "$tmp/data.pg" --db "$db"
url2=$url
s=${BENCH_SECONDS:-10}
wrk -t1 -c16 -d"${s}s" --latency -s t/bench/put-many.lua "$url1" -- "${boxes[@]}" \
    >"$tmp/w1" 2>&1 &
w1=$!
wrk -t1 -c16 -d"${s}s" --latency -s t/bench/put-many.lua "$url2" -- "${boxes[@]}" \
    >"$tmp/w2" 2>&1
wait "$w1"
rps_2=0 p99_2=0
for f in "$tmp/w1" "$tmp/w2"; do
	if grep -q 'Non-2xx' "$f"; then cat "$f" >&2; echo "bench: two relays: errors" >&2; exit 1; fi
	r=$(awk '/^Requests\/sec:/ {print $2}' "$f")
	p=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	    f = u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1; printf "%.2f", v * f}' "$f")
	rps_2=$(awk -v a="$rps_2" -v b="$r" 'BEGIN {printf "%.2f", a + b}')
	p99_2=$(awk -v a="$p99_2" -v b="$p" 'BEGIN {print (b > a) ? b : a}')
done
echo "  nc-relayd pg, 2 processes, 32 mailboxes: $rps_2 req/s, p99 $p99_2 ms" >&2
stop_all

# 10^6 envelopes (BENCH_PG_STORED) in 10^5 other mailboxes (a tenth of
# that), then one process again
n=${BENCH_PG_STORED:-1000000}
echo "  filling: $n envelopes in $((n / 10)) mailboxes" >&2
pg_sql "$pgdir" "$db" "INSERT INTO mail(usr, dev, envid, hash, received, env)
    SELECT 'u' || (g % $((n / 10))), sha256(int4send(g % $((n / 10)))),
        decode(md5(g::text), 'hex'), sha256(int4send(g)), extract(epoch FROM now())::bigint,
        convert_to(repeat('e', 400), 'UTF8')
    FROM generate_series(1, $n) g" >/dev/null
# as a store that grew over time: analyzed, and its pages written out (not
# a checkpoint of the fill's WAL during the measurement)
pg_sql "$pgdir" "$db" "VACUUM ANALYZE mail" >/dev/null
pg_sql "$pgdir" "$db" "CHECKPOINT" >/dev/null
relay full "$tmp/data.pg" --db "$db"
measure_many "$url" "nc-relayd pg, 1 process, 32 mailboxes, 10^6 stored"
rps_full=$rps p99_full=$p99
stop_all

{
	echo "relay-pg,deliveries/s 1 proc,req/s,higher,$rps_1,pg batched floor,$rps_batch,0.5"
	echo "relay-pg,deliveries/s 1 proc,req/s,higher,$rps_1,pg one INSERT each,$rps_single"
	echo "relay-pg,deliveries/s 1 proc,req/s,higher,$rps_1,nc-relayd sqlite 1 box,$rps_sq"
	echo "relay-pg,deliveries/s 1 box,req/s,higher,$rps_1box,nc-relayd sqlite 1 box,$rps_sq"
	echo "relay-pg,deliveries/s 2 procs,req/s,higher,$rps_2,pg batched floor,$rps_batch,0.5"
	echo "relay-pg,deliveries/s 2 procs,req/s,higher,$rps_2,1 process,$rps_1"
	echo "relay-pg,deliveries/s 10^6 stored,req/s,higher,$rps_full,empty store,$rps_1,0.9"
	echo "relay-pg,p99 1 proc,ms,lower,$p99_1,target,20,1"
	echo "relay-pg,p99 2 procs,ms,lower,$p99_2,target,20,1"
	echo "relay-pg,p99 1 proc,ms,lower,$p99_1,pg batched floor,$p99_batch"
	echo "relay-pg,p99 1 proc,ms,lower,$p99_1,nc-relayd sqlite 1 box,$p99_sq"
	echo "relay-pg,p99 1 box,ms,lower,$p99_1box,nc-relayd sqlite 1 box,$p99_sq"
	echo "relay-pg,p99 10^6 stored,ms,lower,$p99_full,empty store,$p99_1"
} >>"$csv"
