#!/usr/bin/env bats
# T14: the attacker asks for a rekeying: serves forged prekey bundles or
# device lists, so the sender would encrypt to keys the attacker holds.
# Mechanism: no unauthenticated rekey exists; signed prekeys are verified
# by the device key the signed device list certifies; a device list must
# name the user and carry the identity key trusted on first use.
# Shows: forged bundles and lists are rejected (exit 1, one-line error,
# nothing delivered anywhere); the genuine path still works afterwards.

load lib

world_setup() {
	evil_start b.test
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@a.test
	user dave dave@a.test
	# mallory's "bob@b.test" on the attacker's relay, for its signed list
	user mal-bob bob@b.test b.test="$HE_URL"
	curl -sf -o "$W/fake-bob.devlist" "$EVIL_URL/v1/users/bob/devicelist"
	curl -sf -o "$W/carol.devlist" "$A_URL/v1/users/carol/devicelist"
	curl -sf -o "$W/bob.devlist" "$B_URL/v1/users/bob/devicelist"
}

# no_delivery: nothing reached any mailbox through the b.test proxy
no_delivery() {
	[ -z "$(deliveries b)" ]
}

@test "T14: a prekey bundle whose signed prekey was altered is rejected" {
	# claim answer: u8 1, u16 n, dev[16], u32 spk_id, spk_pk[32] @23, sig[64] @55
	hostile b "flip POST /v1/users/bob/prekeys/claim dir=resp offset=30"
	run as alice nc-send bob@b.test <<<"t14-spk"
	hostile b ""
	echo "$output"
	[ "$status" -eq 1 ]
	one_line_err "$output"
	no_delivery
}

@test "T14: a prekey bundle with a broken signature is rejected" {
	hostile b "flip POST /v1/users/bob/prekeys/claim dir=resp offset=80"
	run as alice nc-send bob@b.test <<<"t14-sig"
	hostile b ""
	[ "$status" -eq 1 ]
	no_delivery
}

@test "T14: another user's genuine device list served as bob's is rejected" {
	hostile b "replace GET /v1/users/bob/devicelist file=$W/carol.devlist"
	run as dave nc-send bob@b.test <<<"t14-wrong-user"
	hostile b ""
	echo "$output"
	[ "$status" -eq 1 ]
	no_delivery
}

@test "T14: bob's device list with one flipped byte is rejected" {
	local len off
	len=$(stat -c %s "$W/bob.devlist")
	for off in 1 20 $((len / 2)) $((len - 1)); do
		flipbyte "$W/bob.devlist" "$off" "$W/bad.devlist"
		hostile b "replace GET /v1/users/bob/devicelist file=$W/bad.devlist"
		run as dave nc-send bob@b.test <<<"t14-flip-$off"
		echo "offset $off: $status $output"
		[ "$status" -eq 1 ] || [ "$status" -eq 65 ]
		[ "$status" -ne 0 ]
	done
	hostile b ""
	no_delivery
}

@test "T14: after a first contact, a list with another identity key is refused" {
	echo "t14-genuine" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/o"
	grep -q t14-genuine "$W/o"
	: >"$HB_REC/log"
	hostile b "replace GET /v1/users/bob/devicelist file=$W/fake-bob.devlist"
	run as alice nc-send bob@b.test <<<"t14-to-fake"
	hostile b ""
	echo "$output"
	local fake
	fake=$(devlist_dev "$W/fake-bob.devlist")
	# Either the list was never used (alice kept bob's trusted keys), or
	# it was refused: exit 1. Never a delivery to the attacker's device.
	if [ "$status" -ne 0 ]; then
		[ "$status" -eq 1 ]
	fi
	! grep -q "$fake" "$HB_REC/log"
}

@test "T14: without the attacker, the genuine path works (control)" {
	run as dave nc-send bob@b.test <<<"t14-control"
	[ "$status" -eq 0 ]
	run as bob nc-recv --json
	[[ "$output" == *t14-control* ]]
}
