#!/usr/bin/env bats
# T17: the attacker connects and impersonates a previous participant.
# Mechanism: identities trusted on first use (the key log will strengthen
# this); a later identity-key change is an alarm, and nc-send refuses that
# contact (exit 1, messages held) until `nc-keys trust`.
# Shows: (1) mallory re-registered as "alice@a.test" on a relay the attacker
# runs cannot talk to bob as alice; (2) when bob's view of a.test is
# redirected to that relay, bob's nc-send refuses alice (exit 1) and
# nothing reaches the attacker's mailbox (the relay refuses a delivery to
# devices it does not list, and bob then fetches the impostor's list and
# refuses it); nc-keys shows the change.

WORLD_NEEDS=nc-keys
load lib

world_setup() {
	evil_start a.test
	user alice alice@a.test
	user bob bob@b.test
	# The layer below the key log (see T20): bob takes keys on first use.
	echo "policy tofu" >>"$W/bob/config"
	echo "t17-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/o"
	echo "t17-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >>"$W/o"
	user mal alice@a.test a.test="$HE_URL"
}

@test "T17: alice and bob talked before" {
	grep -q t17-hello "$W/o"
	grep -q t17-reply "$W/o"
}

@test "T17: the impostor's message to bob is rejected with an alarm" {
	echo "t17-impostor" | as mal nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *t17-impostor* ]]
	[ "$(count_type alarm)" -ge 1 ]
	printf '%s\n' "$output" | grep '"type":"alarm"' | grep -q 'alice@a.test'
}

@test "T17: bob redirected to the impostor's relay: nc-send refuses alice, exit 1" {
	sed -i "s|^relay a.test .*|relay a.test $HE_URL|" "$W/bob/config"
	run as bob nc-send alice@a.test <<<"t17-to-impostor"
	echo "$output"
	[ "$status" -eq 1 ]
	one_line_err "$output"
	# bob delivers with the list he pinned: the impostor's relay does not
	# list those devices and refuses (404/409/410), bob fetches its list
	# and refuses the changed key. Nothing was accepted, and what was
	# offered was sealed to the real alice's devices.
	grep -E ' POST /v1/users/alice/deliver ' "$HE_REC/log" || true
	! grep -qE ' (PUT /v1/users/alice/devices/[^ ]*/mailbox/[^ ]*|POST /v1/users/alice/deliver) 20[01] ' "$HE_REC/log"
	run as mal nc-recv --json
	[[ "$output" != *t17-to-impostor* ]]
}

@test "T17: nc-keys show reports the changed identity for alice" {
	run as bob nc-keys show alice@a.test
	echo "$output"
	[[ "$output" == *alice@a.test* ]]
	printf '%s\n' "$output" | grep -qiE 'chang|mismatch|untrusted|differ'
}

@test "T17: back on the real relay, bob reaches the real alice again" {
	sed -i "s|^relay a.test .*|relay a.test $HA_URL|" "$W/bob/config"
	run as bob nc-send alice@a.test <<<"t17-real"
	[ "$status" -eq 0 ] || [ "$status" -eq 75 ]
	as bob nc-send --flush || true
	run as alice nc-recv --json
	[[ "$output" == *t17-real* ]]
}
