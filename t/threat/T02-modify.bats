#!/usr/bin/env bats
# T2: the attacker modifies messages on the wire.
# Mechanism: AEAD over the envelope with the header as associated data.
# Shows: any flipped byte -> rejected, an alarm, nothing of it printed,
# exit 1, and the receiver's state unchanged (the genuine envelope still
# opens afterwards).

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	# An established session, so later envelopes are plain ratchet messages.
	echo "t02-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
	echo "t02-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
}

# Every byte of the first 64 (version, ids, keys, header), then every 5th
# (every 23rd under NC_QUICK / ASan). Each: exit 1, one alarm, the body
# never printed, state unchanged.
@test "T2: a flipped byte at any offset of an envelope is rejected, state unchanged" {
	local body="t02-offline-$RANDOM" n len off stride=5 before after bad=0
	seal alice bob@b.test "$body" "$W/e.asc"
	dearmor <"$W/e.asc" >"$W/e.bin"
	len=$(stat -c %s "$W/e.bin")
	[ "$len" -gt 64 ]
	{ [ -n "${NC_QUICK:-}" ] || [ -n "${NC_ASAN:-}" ]; } && stride=23
	before=$(state_digest bob)
	n=0
	for ((off = 0; off < len; off += (off < 64 ? 1 : stride))); do
		flipbyte "$W/e.bin" "$off" "$W/f.bin"
		armor "$W/f.bin" >"$W/f.asc"
		run open_as bob "$W/f.asc"
		n=$((n + 1))
		if [ "$status" -ne 1 ] || [[ "$output" == *"$body"* ]] ||
		    [ "$(count_type alarm)" -ne 1 ] ||
		    [ "$(count_type message)" -ne 0 ]; then
			echo "offset $off: status $status: $output"
			bad=$((bad + 1))
		fi
	done
	after=$(state_digest bob)
	echo "# $n offsets tried, $bad accepted or mishandled" >&3
	[ "$bad" -eq 0 ]
	[ "$before" = "$after" ]
	# The genuine envelope still opens: nothing was consumed by the forgeries.
	run open_as bob "$W/e.asc"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$body"* ]]
}

@test "T2: a byte flipped on the wire (proxy) -> alarm, exit 1, neighbours intact" {
	hostile b "flip PUT /v1/users/bob/devices/*/mailbox/* n=2 offset=40
flip POST /v1/users/bob/deliver n=2 offset=40"
	echo "t02-wire-1" | as alice nc-send bob@b.test
	echo "t02-wire-2" | as alice nc-send bob@b.test
	echo "t02-wire-3" | as alice nc-send bob@b.test
	hostile b ""
	run as bob nc-recv --json
	[ "$status" -eq 1 ]
	[[ "$output" == *t02-wire-1* ]]
	[[ "$output" != *t02-wire-2* ]]
	[[ "$output" == *t02-wire-3* ]]
	[ "$(count_type alarm)" -ge 1 ]
	grep -q ' flip$' "$HB_REC/log"
}

@test "T2: an envelope truncated on the wire -> alarm, exit 1, nothing printed" {
	hostile b "truncate PUT /v1/users/bob/devices/*/mailbox/* n=1 len=60
truncate POST /v1/users/bob/deliver n=1 len=60"
	echo "t02-trunc" | as alice nc-send bob@b.test
	hostile b ""
	run as bob nc-recv --json
	[ "$status" -eq 1 ]
	[[ "$output" != *t02-trunc* ]]
	[ "$(count_type alarm)" -ge 1 ]
	[ "$(count_type message)" -eq 0 ]
}

@test "T2: a flipped byte in a mailbox listing (relay-side tamper) -> alarm" {
	echo "t02-list" | as alice nc-send bob@b.test
	hostile b "flip GET /v1/users/bob/devices/*/mailbox n=1 dir=resp offset=-5"
	run as bob nc-recv --json
	hostile b ""
	[ "$status" -eq 1 ]
	[[ "$output" != *t02-list* ]]
	[ "$(count_type alarm)" -ge 1 ]
}
