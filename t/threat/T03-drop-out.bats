#!/usr/bin/env bats
# T3: the attacker drops messages a user sends to others.
# Mechanism: ratchet counters reveal the gap; sealed delivery receipts.
# Shows: the receiver reports a missing message; the sender gets receipts
# for what arrived and none for the dropped one.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	echo "gap-window 1" >>"$W/bob/config"
	echo "t03-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
	echo "t03-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
}

@test "T3: alice's 2nd message is dropped (relay answers 201): bob gets 1 and 3, not 2" {
	hostile b "drop PUT /v1/users/bob/devices/*/mailbox/* n=2 status=201
drop POST /v1/users/bob/deliver n=2 status=201"
	for i in 1 2 3; do
		echo "t03-out-$i" | as alice nc-send bob@b.test >"$W/id$i"
	done
	hostile b ""
	grep -q ' drop$' "$HB_REC/log"
	run as bob nc-recv --json
	echo "$output"
	[[ "$output" == *t03-out-1* ]]
	[[ "$output" != *t03-out-2* ]]
	[[ "$output" == *t03-out-3* ]]
	printf '%s\n' "$output" >"$W/bob.recv"
}

@test "T3: the receiver reports the missing message, machine-readably" {
	reports_missing bob alice@a.test "$W/bob.recv"
}

@test "T3: the sender gets receipts for messages 1 and 3, none for the dropped 2" {
	run as alice nc-recv --json
	echo "$output"
	local r
	r=$(printf '%s\n' "$output" | grep '"type":"receipt"')
	[[ "$r" == *"\"id\":\"$(cat "$W/id1")\""* ]]
	[[ "$r" == *"\"id\":\"$(cat "$W/id3")\""* ]]
	[[ "$r" != *"$(cat "$W/id2")"* ]]
}
