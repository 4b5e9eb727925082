#!/usr/bin/env bats
# T11: the attacker sends a message on behalf of a user.
# Mechanism: the sender's identity travels inside the encryption (sealed
# sender certificate = the sender's device key certified by the sender's
# own signed device list), checked against the identity key the receiver
# trusts and against the device list the sender's real relay serves.
# Shows: a message claiming to be from alice@a.test but made by mallory
# (registered as "alice@a.test" on a relay the attacker runs) is rejected:
# exit 1, an alarm, nothing of it printed.

load lib

world_setup() {
	evil_start a.test
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@a.test
	echo "t11-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/o"
	# mallory: "alice@a.test" and "carol@a.test" on the attacker's relay
	user mal-alice alice@a.test a.test="$HE_URL"
	user mal-carol carol@a.test a.test="$HE_URL"
}

@test "T11: bob knows the real alice" {
	grep -q t11-hello "$W/o"
}

@test "T11: a message forged as alice (known contact) is rejected" {
	echo "t11-forged-alice" | as mal-alice nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *t11-forged-alice* ]]
	[ "$(count_type alarm)" -ge 1 ]
	[ "$(count_type message)" -eq 0 ]
}

@test "T11: a message forged as carol (first contact) is rejected" {
	echo "t11-forged-carol" | as mal-carol nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *t11-forged-carol* ]]
	[ "$(count_type alarm)" -ge 1 ]
}

@test "T11: the real alice and the real carol still get through" {
	echo "t11-real-alice" | as alice nc-send bob@b.test
	echo "t11-real-carol" | as carol nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[[ "$output" == *t11-real-alice* ]]
	[[ "$output" == *t11-real-carol* ]]
	printf '%s\n' "$output" | grep t11-real-alice | grep -q '"from":"alice@a.test"'
	printf '%s\n' "$output" | grep t11-real-carol | grep -q '"from":"carol@a.test"'
}
