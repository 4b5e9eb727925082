#!/usr/bin/env bash
# t/bench/backup.sh - nc-sync on a home holding 100,000 messages (issue 16,
# Performance): the first backup to a loopback relay and the restore into
# an empty home (time, bytes), nc-sync export/import of the same records as
# one file, each beside the floor measured in the same run: `tar | age` of
# the same history records in plain (the bytes a backup encrypts, written
# by t/helpers/fill-history.c) and `age -d | tar -x` back (target <= 1.5x);
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
# timed NAME CMD...: CMD run (its stdout to $T/NAME.out, stderr to
# $T/NAME.err); wall ms in NAME, its CPU ms (user + system: on a shared
# machine the fairer figure) in NAME_cpu
TIMEFORMAT='%3R %3U %3S'
timed() {
	local n=$1 r u s
	shift
	{ time "$@" >"$T/$n.out" 2>"$T/$n.err"; } 2>"$T/$n.t" ||
	    { cat "$T/$n.err" >&2; exit 1; }
	read -r r u s <"$T/$n.t"
	printf -v "$n" '%d' "$(awk -v r="$r" 'BEGIN { printf "%d", r * 1000 }')"
	printf -v "${n}_cpu" '%d' "$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')"
}
floor_pack() { tar -C "$T/floor" -cf - . | age -r "$(age-keygen -y "$T/age.key")" >"$T/floor.age"; sync -f "$T/floor.age"; }
floor_unpack() { age -d -i "$T/age.key" "$T/floor.age" | tar -C "$T/floor-out" -xf -; sync -f "$T/floor-out"; }
row() { printf 'backup,%s,%s,lower,%s,%s,%s,%s\n' "$@" >>"$CSV"; }
fsize() { stat -c %s "$1"; }

FILL=$B/t/fill-history   # t/helpers/fill-history.c, built by make all

home alice alice@a.test
mkdir "$T/floor"
t0=$(ms)
"$FILL" "$T/alice" "$N" bob@b.test "$T/floor"
fill=$(since "$t0")
plain=$(cat "$T"/floor/* | wc -c)
sync

# the floor: the same records, plain, through tar | age and back
age-keygen -o "$T/age.key" 2>/dev/null
timed floor_enc floor_pack
floor_bytes=$(fsize "$T/floor.age")
mkdir "$T/floor-out"
timed floor_dec floor_unpack

# the first backup to the relay, and the restore into an empty home
timed full env NC_HOME="$T/alice" nc-sync backup --json
full_bytes=$(jq .bytes "$T/full.out")
full_recs=$(jq .records "$T/full.out")
home alice2
timed restore env NC_HOME="$T/alice2" nc-sync restore alice@a.test
got=$(sqlite3 "$T/alice2/state.db" "SELECT count(*) FROM message")
[ "$got" -eq "$N" ] || { echo "bench backup: restored $got of $N messages" >&2; exit 1; }

# the same records as one file
timed export_ms env NC_HOME="$T/alice" nc-sync export "$T/alice.ncb"
export_bytes=$(fsize "$T/alice.ncb")
home alice3
timed import_ms env NC_HOME="$T/alice3" nc-sync import "$T/alice.ncb"

# ten new messages, then the next backup (the median of 5 rounds)
incs=() cpus=() ups=()
for _ in 1 2 3 4 5; do
	"$FILL" "$T/alice" 10 bob@b.test -
	timed inc env NC_HOME="$T/alice" nc-sync backup --json
	incs+=("$inc") cpus+=("$inc_cpu")
	ups+=($(jq .uploaded "$T/inc.out"))
done
med() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
inc=$(med "${incs[@]}")
inc_cpu=$(med "${cpus[@]}")
inc_up=$(med "${ups[@]}")

# linking a new device by code to a user with NL messages of history
home carol carol@a.test
"$FILL" "$T/carol" "$NL" bob@b.test -
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
printf '%-34s %8s %8s %12s   %s\n' "" "wall ms" "cpu ms" bytes \
    "floor (tar | age) wall / cpu ms, bytes" >&2
printf '%-34s %8d %8d %12d   %d / %d, %d\n' "backup to the relay ($full_recs records)" \
    "$full" "$full_cpu" "$full_bytes" "$floor_enc" "$floor_enc_cpu" "$floor_bytes" >&2
printf '%-34s %8d %8d %12s   %d / %d\n' "restore into an empty home" "$restore" \
    "$restore_cpu" - "$floor_dec" "$floor_dec_cpu" >&2
printf '%-34s %8d %8d %12d   %d / %d, %d\n' "export to a file" "$export_ms" \
    "$export_ms_cpu" "$export_bytes" "$floor_enc" "$floor_enc_cpu" "$floor_bytes" >&2
printf '%-34s %8d %8d %12s   %d / %d\n' "import from the file" "$import_ms" \
    "$import_ms_cpu" - "$floor_dec" "$floor_dec_cpu" >&2
printf 'incremental backup after 10 messages: %s ms (cpu %s ms), %s records uploaded (median of 5)\n' \
    "$inc" "$inc_cpu" "$inc_up" >&2
printf '(cpu: the client'"'"'s user + system time; the relay'"'"'s is not in it)\n' >&2
printf 'link with %d messages of history: %d ms (%d messages arrived)\n' "$NL" "$link" \
    "$linked" >&2

row "backup of $N messages" ms "$full" "tar | age" "$floor_enc" 1.5
row "backup bytes" bytes "$full_bytes" "tar | age bytes" "$floor_bytes" 1.5
row "restore of $N messages" ms "$restore" "age -d | tar -x" "$floor_dec" 1.5
row "backup of $N messages (client cpu)" ms "$full_cpu" "tar | age (cpu)" "$floor_enc_cpu" 1.5
row "restore of $N messages (client cpu)" ms "$restore_cpu" "age -d | tar -x (cpu)" "$floor_dec_cpu" 1.5
row "export of $N messages" ms "$export_ms" "tar | age" "$floor_enc" 1.5
row "export bytes" bytes "$export_bytes" "tar | age bytes" "$floor_bytes" 1.5
row "import of $N messages" ms "$import_ms" "age -d | tar -x" "$floor_dec" 1.5
# absolute targets: the ref is the target itself (ratio <= 1 holds it)
row "incremental backup (10 messages)" ms "$inc" "target 50 ms" 50 1
row "incremental backup cpu (10 messages)" ms "$inc_cpu" "target 50 ms" 50 1
row "incremental backup records" records "$inc_up" "target 20 records" 20 1
row "link with $NL messages" ms "$link" "target 2000 ms" 2000 1
