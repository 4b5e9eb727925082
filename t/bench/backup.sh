#!/usr/bin/env bash
# t/bench/backup.sh - nc-sync on a home holding 100,000 messages (issue 16,
# Performance): the first backup to a loopback relay and the restore into
# an empty home (time, bytes), nc-sync export/import of the same records as
# one file, each beside the floor measured in the same run: `tar | age` of
# the same history records in plain (the bytes a backup encrypts, written
# by t/bench/fill-history.c) and `age -d | tar -x` back (target <= 1.5x);
# then an incremental backup after 10 new messages (target <= 50 ms and
# <= 20 records), and linking a new device by code to a user with 10,000
# messages of history (target <= 2 s on loopback).
# The fixture is written straight into the state (fill-history), not sent.
# BENCH_BACKUP_MSGS / BENCH_LINK_MSGS change the sizes.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
N=${BENCH_BACKUP_MSGS:-100000}
NL=${BENCH_LINK_MSGS:-10000}
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-backup.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench-backup-password NC_PWHASH_COST=interactive

mkdir -p "$T/ra"
nc-relayd -d "$T/ra" -l 127.0.0.1:0 -D a.test --rate-login 10000 --rate-register 10000 \
    >"$T/ra.out" 2>"$T/ra.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$T/ra.out" ] && break; sleep 0.05; done
A=$(head -n 1 "$T/ra.out")
home() {   # NAME [ADDR]: an NC_HOME for a.test, with keys for ADDR if given
	mkdir -m 700 "$T/$1"
	printf 'relay a.test %s\n' "$A" >"$T/$1/config"
	[ -z "${2:-}" ] || NC_HOME=$T/$1 nc-keygen "$2" >/dev/null 2>&1
}
ms() { date +%s%N; }
since() { echo $(( ($(ms) - $1) / 1000000 )); }
row() { printf 'backup,%s,%s,lower,%s,%s,%s,%s\n' "$@" >>"$CSV"; }
fsize() { stat -c %s "$1"; }

${CC:-cc} -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra \
    -Ilib/proto -Ilib/store -Ilib/net -Ilib/app $(pkg-config --cflags sqlite3 libsodium) \
    -o "$T/fill-history" t/bench/fill-history.c "$B/libnewchat.a" \
    $(pkg-config --libs libsodium libcurl sqlite3 libmicrohttpd libarchive libpq) -lpthread -ldl -lm

home alice alice@a.test
mkdir "$T/floor"
t0=$(ms)
"$T/fill-history" "$T/alice" "$N" bob@b.test "$T/floor"
fill=$(since "$t0")
plain=$(cat "$T"/floor/* | wc -c)
sync

# the floor: the same records, plain, through tar | age and back
age-keygen -o "$T/age.key" 2>/dev/null
t0=$(ms)
tar -C "$T/floor" -cf - . | age -r "$(age-keygen -y "$T/age.key")" >"$T/floor.age"
sync -f "$T/floor.age"
floor_enc=$(since "$t0")
floor_bytes=$(fsize "$T/floor.age")
mkdir "$T/floor-out"
t0=$(ms)
age -d -i "$T/age.key" "$T/floor.age" | tar -C "$T/floor-out" -xf -
sync -f "$T/floor-out"
floor_dec=$(since "$t0")

# the first backup to the relay, and the restore into an empty home
t0=$(ms)
NC_HOME=$T/alice nc-sync backup --json >"$T/full.json"
full=$(since "$t0")
full_bytes=$(jq .bytes "$T/full.json")
full_recs=$(jq .records "$T/full.json")
home alice2
t0=$(ms)
NC_HOME=$T/alice2 nc-sync restore alice@a.test >"$T/restore.out"
restore=$(since "$t0")
got=$(sqlite3 "$T/alice2/state.db" "SELECT count(*) FROM message")
[ "$got" -eq "$N" ] || { echo "bench backup: restored $got of $N messages" >&2; exit 1; }

# the same records as one file
t0=$(ms)
NC_HOME=$T/alice nc-sync export "$T/alice.ncb" >/dev/null
sync -f "$T/alice.ncb"
export_ms=$(since "$t0")
export_bytes=$(fsize "$T/alice.ncb")
home alice3
t0=$(ms)
NC_HOME=$T/alice3 nc-sync import "$T/alice.ncb" >/dev/null
import_ms=$(since "$t0")

# ten new messages, then the next backup (the median of 5 rounds)
incs=() ups=()
for _ in 1 2 3 4 5; do
	"$T/fill-history" "$T/alice" 10 bob@b.test -
	t0=$(ms)
	NC_HOME=$T/alice nc-sync backup --json >"$T/inc.json"
	incs+=($(( ($(ms) - t0) / 1000 )))
	ups+=($(jq .uploaded "$T/inc.json"))
done
med() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
inc=$(awk -v u="$(med "${incs[@]}")" 'BEGIN { printf "%.1f", u / 1000 }')
inc_up=$(med "${ups[@]}")

# linking a new device by code to a user with NL messages of history
home carol carol@a.test
"$T/fill-history" "$T/carol" "$NL" bob@b.test -
home phone
t0=$(ms)
NC_HOME=$T/phone nc-keygen --link carol@a.test >"$T/phone.out" 2>"$T/phone.err" &
lp=$!
pids+=($lp)
for _ in $(seq 200); do [ -s "$T/phone.out" ] && break; sleep 0.02; done
NC_HOME=$T/carol nc-sync link "$(head -n 1 "$T/phone.out")" 2>"$T/link.err"
wait "$lp" || { cat "$T/phone.err" >&2; exit 1; }
link=$(since "$t0")
linked=$(sqlite3 "$T/phone/state.db" "SELECT count(*) FROM message")

printf 'history: %d messages, %d bytes of records in plain (filled in %d ms)\n' \
    "$N" "$plain" "$fill" >&2
printf '%-34s %10s %12s   %s\n' "" ms bytes "floor (tar | age) ms / bytes" >&2
printf '%-34s %10d %12d   %d / %d\n' "backup to the relay ($full_recs records)" \
    "$full" "$full_bytes" "$floor_enc" "$floor_bytes" >&2
printf '%-34s %10d %12s   %d\n' "restore into an empty home" "$restore" - "$floor_dec" >&2
printf '%-34s %10d %12d   %d / %d\n' "export to a file" "$export_ms" "$export_bytes" \
    "$floor_enc" "$floor_bytes" >&2
printf '%-34s %10d %12s   %d\n' "import from the file" "$import_ms" - "$floor_dec" >&2
printf 'incremental backup after 10 messages: %s ms, %s records uploaded (median of 5)\n' \
    "$inc" "$inc_up" >&2
printf 'link with %d messages of history: %d ms (%d messages arrived)\n' "$NL" "$link" \
    "$linked" >&2

row "backup of $N messages" ms "$full" "tar | age" "$floor_enc" 1.5
row "backup bytes" bytes "$full_bytes" "tar | age bytes" "$floor_bytes" 1.5
row "restore of $N messages" ms "$restore" "age -d | tar -x" "$floor_dec" 1.5
row "export of $N messages" ms "$export_ms" "tar | age" "$floor_enc" 1.5
row "export bytes" bytes "$export_bytes" "tar | age bytes" "$floor_bytes" 1.5
row "import of $N messages" ms "$import_ms" "age -d | tar -x" "$floor_dec" 1.5
# absolute targets: the ref is the target itself (ratio <= 1 holds it)
row "incremental backup (10 messages)" ms "$inc" "target 50 ms" 50 1
row "incremental backup records" records "$inc_up" "target 20 records" 20 1
row "link with $NL messages" ms "$link" "target 2000 ms" 2000 1
