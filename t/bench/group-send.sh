#!/usr/bin/env bash
# t/bench/group-send.sh - nc-send -g to a group of 100 members x 3 devices on two
# relays (50 members on each), whole process, beside nc-send to one user in
# the same run (t/bench/pairtime.c: one of each in turn), once the sender
# key is out; and the bytes one group message uploads (its batches, as
# nc-send -v reports them): one blob per relay plus a header per device;
# then a removal and the first message after it (end of file).
# The fixture (300 devices) is built once per run, four at a time (about
# 9 minutes on a busy 2-core machine; BENCH_GROUP_MEMBERS/DEVICES shrink it).
# Appends rows to $BENCH_CSV: group,metric,unit,better,ours,ref_name,ref_value,target
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
PATH=$PWD/$B:$PATH
CSV=${BENCH_CSV:-/dev/stdout}
RUNS=${BENCH_RUNS:-15}
MEMBERS=${BENCH_GROUP_MEMBERS:-100}
# with alice a group holds 1,000 members at most
[ "$MEMBERS" -le 999 ] || { echo "group bench: BENCH_GROUP_MEMBERS at most 999 (alice makes 1,000)" >&2; exit 64; }
DEVS=${BENCH_GROUP_DEVICES:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/nc-bench-group.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
export NC_PASSWORD=bench NC_PWHASH_COST=interactive

relay() {   # relay DIR DOMAIN VAR (as in cli.sh), no rate limits
	mkdir -p "$T/$1"
	nc-relayd -d "$T/$1" -l 127.0.0.1:0 -D "$2" --rate-register 0 \
	    --rate-login 0 --rate-anon 0 >"$T/$1.out" 2>"$T/$1.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.out" ] && break; sleep 0.05; done
	printf -v "$3" '%s' "$(head -n 1 "$T/$1.out")"
}
relay ra a.test A
relay rb b.test Bu
home() {   # home NAME: an NC_HOME that reaches both relays
	mkdir -m 700 "$T/$1"
	printf 'relay a.test %s\nrelay b.test %s\nfirst-contact fetch\n' "$A" "$Bu" >"$T/$1/config"
}
addr() {   # addr I: member I's address (even: a.test, odd: b.test)
	printf 'm%03d@%s.test' "$1" "$([ $(($1 % 2)) -eq 0 ] && echo a || echo b)"
}
mkdev() {   # mkdev I D: member I's device D
	home "m$1-$2"
	NC_HOME=$T/m$1-$2 nc-keygen "$(addr "$1")" >/dev/null 2>&1
}
export -f home addr mkdev
export T A Bu
home alice; home bob
NC_HOME=$T/alice nc-keygen alice@a.test >/dev/null
NC_HOME=$T/bob nc-keygen bob@b.test >/dev/null
# the members' first devices, then the others (each logs in to add itself)
t0=$(date +%s)
seq 0 $((MEMBERS - 1)) | xargs -P 4 -I{} bash -c 'mkdev {} 1'
for d in $(seq 2 "$DEVS"); do
	seq 0 $((MEMBERS - 1)) | xargs -P 4 -I{} bash -c "mkdev {} $d"
done
echo "group bench: $MEMBERS members x $DEVS devices made in $(($(date +%s) - t0)) s" >&2
members=()
for i in $(seq 0 $((MEMBERS - 1))); do members+=("$(addr "$i")"); done
export NC_HOME=$T/alice
t0=$(date +%s)
# (a change to hundreds of users may leave some queued: flushed until out)
nc-group create big "${members[@]}" >/dev/null || true
for _ in $(seq 20); do nc-send -q --flush && break; done
echo hello | nc-send bob@b.test >/dev/null
NC_HOME=$T/bob nc-recv >/dev/null
echo hello | NC_HOME=$T/bob nc-send alice@a.test >/dev/null
nc-recv >/dev/null
# the sender key out to every device (pairwise), then messages alone
echo "first" | nc-send -g big >/dev/null
echo "group bench: group made and the sender key out in $(($(date +%s) - t0)) s" >&2

echo "a short message" >"$T/msg"
${CC:-cc} -O2 -o "$T/pairtime" t/bench/pairtime.c
set -- $("$T/pairtime" "$RUNS" '' "$T/msg" nc-send -g big -- nc-send bob@b.test)
printf 'groupsend,nc-send -g (%dx%d devices),ms,lower,%.2f,nc-send to one user,%.2f,2\n' \
    "$MEMBERS" "$DEVS" "$1" "$2" >>"$CSV"
# bytes of one message: its batches, beside one ciphertext + 100 bytes a device
line=$(nc-send -v -g big <"$T/msg" 2>&1 >/dev/null | grep 'group message:')
echo "group bench: $line" >&2
blob=$(sed -n 's/.*a blob of \([0-9]*\) bytes.*/\1/p' <<<"$line")
mbox=$(sed -n 's/.* to \([0-9]*\) mailboxes.*/\1/p' <<<"$line")
sent=$(sed -n 's/.*, \([0-9]*\) bytes uploaded.*/\1/p' <<<"$line")
relays=2
printf 'groupsend,bytes uploaded per message,bytes,lower,%d,2 blobs + 100 B x %d devices,%d,1\n' \
    "$sent" "$mbox" $((relays * blob + 100 * mbox)) >>"$CSV"
printf 'groupsend,upload per device beyond the blob,bytes,lower,%.1f,target,100,1\n' \
    "$(awk -v s="$sent" -v b="$blob" -v r=$relays -v m="$mbox" 'BEGIN { print (s - r * b) / m }')" >>"$CSV"

# A removal (issue 17): the commit goes once to each relay, as a message
# of the epoch it ends under alice's sender key (protocol.md 3.5), beside
# what it cost pairwise before (the commit in an envelope to every
# device); whole process. Then the first message after it, which sends
# the new epoch's sender key pairwise to every device left. Wall and CPU
# (user + system) seconds from bash's time.
TIMEFORMAT='%R %U %S'
{ time nc-group -v remove big "$(addr 1)" >/dev/null 2>"$T/rm.err"; } 2>"$T/rm.time"
line=$(grep 'group message:' "$T/rm.err" | tr '\n' ' ')
echo "group bench: removal: $line; $(cat "$T/rm.time") s (wall user sys)" >&2
blob=$(sed -n 's/.*a blob of \([0-9]*\) bytes.*/\1/p' <<<"$line" | head -1)
mbox=$(grep -o ' to [0-9]* mailboxes' "$T/rm.err" | awk '{ s += $2 } END { print s }')
sent=$(grep -o ', [0-9]* bytes uploaded' "$T/rm.err" | awk '{ s += $2 } END { print s }')
read -r wall user sys <"$T/rm.time"
printf 'groupremove,bytes uploaded by nc-group remove (%dx%d devices),bytes,lower,%d,the commit to every device pairwise,%d,\n' \
    "$MEMBERS" "$DEVS" "$sent" $((mbox * blob)) >>"$CSV"
printf 'groupremove,nc-group remove wall,s,lower,%s,,,\n' "$wall" >>"$CSV"
printf 'groupremove,nc-group remove CPU,s,lower,%s,,,\n' "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >>"$CSV"
{ time nc-send -v -g big <"$T/msg" >/dev/null 2>"$T/first.err"; } 2>"$T/first.time"
read -r wall user sys <"$T/first.time"
echo "group bench: first send after the removal: $(grep 'group message:' "$T/first.err"); $wall $user $sys s (wall user sys)" >&2
printf 'groupremove,first nc-send -g after a removal wall,s,lower,%s,target,1,1\n' "$wall" >>"$CSV"
printf 'groupremove,first nc-send -g after a removal CPU,s,lower,%s,target,1,1\n' \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >>"$CSV"
