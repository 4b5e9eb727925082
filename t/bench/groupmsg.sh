#!/usr/bin/env bash
# t/bench/groupmsg.sh - group messages under sender keys, at the library
# level (t/bench/bench-group.c): encrypt+decrypt of 100-byte messages with
# ours (nc_group_seal_at/nc_group_open_at, groups of 3, 100 and 1,000
# members; and with the state hash, which grows with the group, computed on
# each side per message as nc-send and nc-recv do) beside the
# libsodium floor, libolm's Megolm and libsignal-protocol-c's group cipher
# (sender keys), in the same run; then the first send after a removal in
# a 1,000-member group of 3 devices each: CPU time and bytes of the new
# sender key's pairwise distribution (and of the admin's commit to every
# device). Appends CSV rows to $BENCH_CSV:
#   group,metric,unit,better,ours,ref_name,ref_value,target
# Needs build/libnewchat.a (make all); libolm and libsignal-protocol-c from
# make bench-deps.
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CC=${CC:-cc}
CF="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Ilib/proto"
N=${BENCH_GROUP_MSGS:-10000}
CSV=${BENCH_CSV:-/dev/null}

$CC $CF -o "$T/ours" t/bench/bench-group.c "$B/libnewchat.a" -lsodium
"$T/ours" "$N" >"$T/out"
if $CC $CF -o "$T/olm" t/bench/peer-olm.c -lolm -lsodium 2>"$T/err"; then
	"$T/olm" group "$N" >>"$T/out"
else
	echo "groupmsg.sh: libolm missing, Megolm skipped (make bench-deps)" >&2
fi
if $CC $CF -o "$T/signal" t/bench/peer-signal.c -lsignal-protocol-c -lcrypto \
    -lsodium 2>"$T/err"; then
	"$T/signal" group "$N" >>"$T/out"
else
	echo "groupmsg.sh: libsignal-protocol-c missing, its group cipher skipped (make bench-deps)" >&2
fi

v() { awk -v k="$1" '$1 == k { print $2 }' "$T/out"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }

echo "# group message (sender key), encrypt+decrypt of 100-byte messages, msg/s (CPU time, best of 5)"
printf '%-34s %10s\n' "floor (libsodium)" "$(v floor)"
for m in 3 100 1000; do
	printf '%-34s %10s   %s of the floor\n' "ours, $m members" "$(v ours_$m)" \
	    "$(pct "$(v ours_$m)" "$(v floor)")"
done
for m in 100 1000; do
	printf '%-34s %10s   %s of the floor\n' "ours, $m, state hashed per msg" \
	    "$(v ours_${m}_hash)" "$(pct "$(v ours_${m}_hash)" "$(v floor)")"
done
printf '%-34s %10s\n' "libolm Megolm" "$(v olm_group)"
printf '%-34s %10s\n' "libsignal-protocol-c group cipher" "$(v signal_group)"
echo "# first send after a removal: $(v removal_members) members left, $(v removal_devices) other devices"
printf '  a member: commit checked %s ms, new key %s ms, key to each device %s ms (%s bytes of envelopes), message %s ms: %s ms CPU\n' \
    "$(v removal_verify_ms)" "$(v removal_skey_ms)" "$(v removal_skey_env_ms)" \
    "$(v removal_skey_env_bytes)" "$(v removal_msg_ms)" "$(v removal_member_ms)"
printf '  the admin who removed, also: commit %s ms (%s bytes), commit to each device %s ms (%s bytes of envelopes): %s ms CPU\n' \
    "$(v removal_commit_ms)" "$(v removal_commit_bytes)" "$(v removal_commit_env_ms)" \
    "$(v removal_commit_env_bytes)" "$(v removal_admin_ms)"

{
	for m in 3 100 1000; do
		echo "groupmsg,sender key enc+dec 100B ($m members),msg/s,higher,$(v ours_$m),libsodium floor,$(v floor),0.85"
	done
	for m in 100 1000; do
		echo "groupmsg,sender key enc+dec 100B ($m members; state hashed per message),msg/s,higher,$(v ours_${m}_hash),libsodium floor,$(v floor),"
	done
	[ -z "$(v olm_group)" ] ||
		echo "groupmsg,sender key enc+dec 100B (3 members),msg/s,higher,$(v ours_3),libolm Megolm,$(v olm_group),"
	[ -z "$(v signal_group)" ] ||
		echo "groupmsg,sender key enc+dec 100B (3 members),msg/s,higher,$(v ours_3),libsignal-protocol-c group,$(v signal_group),"
	d=$(v removal_devices)
	echo "groupmsg,first send after removal: member CPU ($d devices),ms,lower,$(v removal_member_ms),target,1000,1"
	echo "groupmsg,first send after removal: admin CPU ($d devices),ms,lower,$(v removal_admin_ms),target,1000,1"
	echo "groupmsg,sender key distribution bytes ($d devices),bytes,lower,$(v removal_skey_env_bytes),commit to every device,$(v removal_commit_env_bytes),"
} >>"$CSV"
