#!/usr/bin/env bash
# t/bench/ratchet.sh - Double Ratchet throughput (encrypt+decrypt of 100-byte
# messages, alternating direction and a one-direction burst of 10,000) for
# ours, the libsodium floor, libolm and libsignal-protocol-c, plus the whole
# sealed envelope. Appends CSV rows to $BENCH_CSV when set:
#   group,metric,unit,better,ours,ref_name,ref_value
# Needs build/libnewchat.a (make all) and the bench packages (make bench-deps).
set -eu
cd "$(dirname "$0")/../.."
B=${NC_BUILD:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CC=${CC:-cc}
CF="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Ilib/proto"

$CC $CF -o "$T/ours" t/bench/bench-ratchet.c "$B/libnewchat.a" -lsodium
"$T/ours" >"$T/out"
if $CC $CF -o "$T/olm" t/bench/peer-olm.c -lolm -lsodium 2>"$T/err"; then
	"$T/olm" >>"$T/out"
else
	echo "ratchet.sh: libolm missing, skipped (make bench-deps)" >&2
fi
if $CC $CF -o "$T/signal" t/bench/peer-signal.c -lsignal-protocol-c -lcrypto \
    -lsodium 2>"$T/err"; then
	"$T/signal" >>"$T/out"
else
	echo "ratchet.sh: libsignal-protocol-c missing, skipped (make bench-deps)" >&2
fi

v() { awk -v k="$1" '$1 == k { print $2 }' "$T/out"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }

echo "# Double Ratchet, encrypt+decrypt of 100-byte messages, msg/s (CPU time, best of several runs)"
printf '%-28s %12s %12s %12s %12s\n' pattern ours "libsodium" libolm libsignal
for p in alternating burst; do
	printf '%-28s %12s %12s %12s %12s   ours = %s of the floor\n' "$p" \
	    "$(v ours_$p)" "$(v floor_$p)" "$(v olm_$p)" "$(v signal_$p)" \
	    "$(pct "$(v ours_$p)" "$(v floor_$p)")"
done
echo "# sealed envelope (payload + ratchet + seal + envelope, and back), msg/s"
printf '%-28s %12s   (ratchet alone %s)\n' "envelope alternating" "$(v envelope_alternating)" "$(v ours_alternating)"
printf '%-28s %12s   (ratchet alone %s)\n' "envelope burst" "$(v envelope_burst)" "$(v ours_burst)"
printf '%-28s %12s   (1 X25519 base + 2 X25519 + 4 HKDF + 4 AEAD; X25519 alone %s/s)\n' \
    "seal+open only" "$(v seal_open_only)" "$(v x25519_per_sec)"
printf '%-28s %12s   (the static-static DH recomputed: 2 more X25519)\n' \
    "seal+open, no DH cache" "$(v seal_open_uncached)"

# Where an alternating envelope's time goes (microseconds per message).
awk -v e="$(v envelope_alternating)" -v r="$(v ours_alternating)" \
    -v s="$(v seal_open_only)" -v u="$(v seal_open_uncached)" 'BEGIN {
	if (e <= 0 || r <= 0 || s <= 0 || u <= 0) exit
	te = 1e6 / e; tr = 1e6 / r; ts = 1e6 / s; tu = 1e6 / u
	printf "# per envelope %.0f us: ratchet %.0f us (%.0f%%), seal+open %.0f us (%.0f%%), rest %.0f us;\n",
	    te, tr, 100 * tr / te, ts, 100 * ts / te, te - tr - ts
	printf "# caching the static-static DH per peer device (nc_device_dh) saves %.0f us an envelope\n",
	    tu - ts
}'

if [ -n "${BENCH_CSV:-}" ]; then
	for p in alternating burst; do
		m="ratchet $p enc+dec 100B"
		echo "ratchet,$m,msg/s,higher,$(v ours_$p),libsodium floor,$(v floor_$p)"
		[ -z "$(v olm_$p)" ] || echo "ratchet,$m,msg/s,higher,$(v ours_$p),libolm,$(v olm_$p)"
		[ -z "$(v signal_$p)" ] || echo "ratchet,$m,msg/s,higher,$(v ours_$p),libsignal-protocol-c,$(v signal_$p)"
		echo "ratchet,sealed envelope $p,msg/s,higher,$(v envelope_$p),ratchet alone,$(v ours_$p)"
	done >>"$BENCH_CSV"
	echo "ratchet,seal+open,msg/s,higher,$(v seal_open_only),without DH cache,$(v seal_open_uncached)" >>"$BENCH_CSV"
fi
