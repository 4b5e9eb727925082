#!/usr/bin/env bats
# T5: a non-participant sends messages into a conversation.
# Mechanism: sessions from X3DH with authenticated identity keys; every
# envelope is AEAD under the pair's ratchet keys.
# Shows: injected envelopes are rejected (alarm, exit 1), nothing of them is
# printed, the real conversation goes on.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@a.test
	echo "t05-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
}

@test "T5: random bytes injected into bob's mailbox beside a real message" {
	head -c 400 /dev/urandom >"$W/junk.bin"
	hostile b "inject PUT /v1/users/bob/devices/*/mailbox/* n=1 file=$W/junk.bin
inject POST /v1/users/bob/deliver n=1 file=$W/junk.bin"
	echo "t05-real-1" | as alice nc-send bob@b.test
	hostile b ""
	grep -q ' 201 injected$' "$HB_REC/log"
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *t05-real-1* ]]
	[ "$(count_type message)" -eq 1 ]
	[ "$(count_type alarm)" -ge 1 ]
}

@test "T5: an envelope carol sealed for alice, re-addressed to bob, is rejected" {
	seal carol alice@a.test "t05-carol-for-alice" "$W/c.asc"
	run as bob nc-recv --json - <"$W/c.asc"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *t05-carol* ]]
	[ "$(count_type alarm)" -ge 1 ]
}

@test "T5: an envelope alice sealed to bob cannot be opened by carol (bob can)" {
	seal alice bob@b.test "t05-not-for-carol" "$W/a.asc"
	run as carol nc-recv --json - <"$W/a.asc"
	[ "$status" -eq 1 ]
	[[ "$output" != *t05-not-for-carol* ]]
	run as bob nc-recv --json - <"$W/a.asc"
	[ "$status" -eq 0 ]
	[[ "$output" == *t05-not-for-carol* ]]
}

@test "T5: after the injections the conversation goes on" {
	echo "t05-real-2" | as alice nc-send bob@b.test
	run as bob nc-recv --json
	[ "$status" -eq 0 ]
	[[ "$output" == *t05-real-2* ]]
}
