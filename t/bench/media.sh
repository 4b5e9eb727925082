#!/usr/bin/env bash
# t/bench/media.sh - nc-media (issue 18) beside its floors and peers,
# measured in the same run:
#  - the format's core on 256 MiB in memory (t/bench/bench-media.c), MB/s:
#    encryption against bare crypto_secretstream (target >= 0.85) and
#    against secretstream plus the ciphertext's BLAKE2b that every link
#    carries; decryption against bare pulls;
#  - whole processes to a loopback relay on a 256 MiB file, seconds (best
#    of BENCH_MEDIA_RUNS): nc-media put against `age -e | curl -T` (PUT of
#    the same relay's blob route), nc-media get against `curl | age -d`
#    (target <= 1.0), and against the same pipeline whose output file is
#    then synced (`sync FILE`): nc-media get fsyncs its file before the
#    rename (issue 18), which the bare pipeline never does, and on a disk
#    that writes 250-400 MB/s that alone takes longer than the pipeline;
#  - peak RSS (/usr/bin/time -f %M, KiB) of put and get for 16 MiB and 1 GiB,
#    beside the age and curl pipeline's largest process.
# BENCH_MEDIA_BASE=DIR (another build's directory, e.g. main's) also times
# that build's nc-media put and get in the same rounds, ours and its in
# turn, the order swapped every round, beside ours (rows "base build").
# Appends rows to $BENCH_CSV: group,metric,unit,better,ours,ref_name,ref_value[,target]
# Needs age (BENCH_PKGS, make bench-deps); about 4 GiB of TMPDIR.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_MEDIA_RUNS:-3}
MIB=${BENCH_MEDIA_MIB:-256}
BIG=${BENCH_MEDIA_BIG_MIB:-1024}
command -v age >/dev/null || { echo "media.sh: age missing (make bench-deps)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-media.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench-media-password NC_PWHASH_COST=interactive TMPDIR=$T

# the core
${CC:-cc} -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Ilib/proto \
    -o "$T/bench-media" t/bench/bench-media.c "$B/libnewchat.a" -lsodium
"$T/bench-media" "$MIB" >"$T/core"
v() { awk -v k="$1" '$1 == k { print $2 }' "$T/core"; }
printf 'media,encrypt %d MiB,MB/s,higher,%s,secretstream,%s,0.85\n' "$MIB" \
    "$(v ours_enc)" "$(v floor_enc)" >>"$CSV"
printf 'media,encrypt %d MiB,MB/s,higher,%s,secretstream+blake2b,%s,0.85\n' "$MIB" \
    "$(v ours_enc)" "$(v floor_enc_hash)" >>"$CSV"
printf 'media,decrypt %d MiB,MB/s,higher,%s,secretstream pull,%s,\n' "$MIB" \
    "$(v ours_dec)" "$(v floor_dec)" >>"$CSV"

# a relay that takes large blobs, a user, the files
mkdir -p "$T/relay"
nc-relayd -d "$T/relay" -l 127.0.0.1:0 -D a.test --blob-max $(((BIG + 64) << 20)) \
    --rate-anon 100000 >"$T/relay.out" 2>"$T/relay.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$T/relay.out" ] && break; sleep 0.05; done
A=$(head -n 1 "$T/relay.out")
mkdir -m 700 "$T/alice"
printf 'relay a.test %s\n' "$A" >"$T/alice/config"
export NC_HOME=$T/alice
nc-keygen alice@a.test >/dev/null
age-keygen -o "$T/age.key" 2>/dev/null
R=$(age-keygen -y "$T/age.key")
dh=$(head -c 32 /dev/urandom | b2sum -l 256 | cut -d' ' -f1)
mkfile() { head -c $(($1 << 20)) /dev/urandom >"$T/f$1"; }
newid() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# secs CMD...: wall seconds of CMD (sh -c), 3 decimals
secs() {
	local a b
	a=$(date +%s.%N)
	sh -c "$1" >/dev/null
	b=$(date +%s.%N)
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'
}
min() { sort -n | head -n 1; }

# put then get of $MIB MiB with nc-media from directory $1 (the output
# files' suffix $2)
roundtrip() {
	sync
	secs "'$1/nc-media' -q put '$T/f$MIB' >'$T/link'" >>"$T/put.$2"; echo >>"$T/put.$2"
	rm -f "$T/out"
	secs "'$1/nc-media' -q get \"\$(cat '$T/link')\" -o '$T/out'" >>"$T/get.$2"; echo >>"$T/get.$2"
	cmp "$T/out" "$T/f$MIB"
	rm -f "$T/out"
}
BASE=${BENCH_MEDIA_BASE:-}
[ -z "$BASE" ] || [ -x "$BASE/nc-media" ] || { echo "media.sh: no $BASE/nc-media" >&2; exit 1; }

# put and get of $MIB MiB, one of each in turn, best of $RUNS
mkfile "$MIB"
: >"$T/put.ours" ; : >"$T/put.ref" ; : >"$T/get.ours" ; : >"$T/get.ref"
: >"$T/put.base" ; : >"$T/get.base" ; : >"$T/get.refsync"
for r in $(seq "$RUNS"); do
	if [ -n "$BASE" ] && [ $((r % 2)) -eq 1 ]; then
		roundtrip "$BASE" base
		roundtrip "$PWD/$B" ours
	else
		roundtrip "$PWD/$B" ours
		[ -z "$BASE" ] || roundtrip "$BASE" base
	fi
	id=$(newid)
	sync
	secs "age -e -r '$R' '$T/f$MIB' | curl -sf -T - -H 'X-NC-Delete-Hash: $dh' '$A/v1/blobs/$id'" >>"$T/put.ref"; echo >>"$T/put.ref"
	secs "curl -sf '$A/v1/blobs/$id' | age -d -i '$T/age.key' >'$T/out2'" >>"$T/get.ref"; echo >>"$T/get.ref"
	cmp "$T/out2" "$T/f$MIB"
	rm -f "$T/out" "$T/out2"
	# the same with the durability nc-media get gives its file (fsync
	# before the rename): the pipeline's file synced (coreutils sync FILE)
	sync
	secs "curl -sf '$A/v1/blobs/$id' | age -d -i '$T/age.key' >'$T/out2' && sync '$T/out2'" >>"$T/get.refsync"; echo >>"$T/get.refsync"
	rm -f "$T/out2"
done
printf 'media,put %d MiB,s,lower,%s,age -e | curl -T,%s,1.0\n' "$MIB" \
    "$(min <"$T/put.ours")" "$(min <"$T/put.ref")" >>"$CSV"
printf 'media,get %d MiB,s,lower,%s,curl | age -d,%s,1.0\n' "$MIB" \
    "$(min <"$T/get.ours")" "$(min <"$T/get.ref")" >>"$CSV"
printf 'media,get %d MiB,s,lower,%s,curl | age -d + sync FILE,%s,\n' "$MIB" \
    "$(min <"$T/get.ours")" "$(min <"$T/get.refsync")" >>"$CSV"
if [ -n "$BASE" ]; then
	printf 'media,put %d MiB,s,lower,%s,base build,%s,\n' "$MIB" \
	    "$(min <"$T/put.ours")" "$(min <"$T/put.base")" >>"$CSV"
	printf 'media,get %d MiB,s,lower,%s,base build,%s,\n' "$MIB" \
	    "$(min <"$T/get.ours")" "$(min <"$T/get.base")" >>"$CSV"
fi
echo "media.sh: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
rm -f "$T/f$MIB"

# peak RSS: ours, and the largest process of the age and curl pipeline
rss() { /usr/bin/time -f %M -o "$T/rss" sh -c "$1" >/dev/null; cat "$T/rss"; }
for m in 16 "$BIG"; do
	mkfile "$m"
	ours=$(rss "exec nc-media -q put '$T/f$m' >'$T/link'")
	id=$(newid)
	ref=$(rss "age -e -r '$R' '$T/f$m' | curl -sf -T - -H 'X-NC-Delete-Hash: $dh' '$A/v1/blobs/$id'")
	printf 'media,put RSS %d MiB,KiB,lower,%s,age -e | curl -T,%s,\n' "$m" "$ours" "$ref" >>"$CSV"
	ours=$(rss "exec nc-media -q get \"\$(cat '$T/link')\" -o '$T/out'")
	ref=$(rss "curl -sf '$A/v1/blobs/$id' | age -d -i '$T/age.key' >'$T/out2'")
	cmp "$T/out" "$T/f$m"
	printf 'media,get RSS %d MiB,KiB,lower,%s,curl | age -d,%s,\n' "$m" "$ours" "$ref" >>"$CSV"
	rm -f "$T/f$m" "$T/out" "$T/out2"
	NC_HOME=$T/alice nc-media ls | cut -f1 | while read -r l; do nc-media rm "$l"; done
done
