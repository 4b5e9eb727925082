#!/usr/bin/env bats
# T3: the attacker drops messages a user sends to others.
# Mechanism: ratchet counters reveal the gap; sealed delivery receipts.
# Shows: the receiver reports a missing message; the sender gets receipts
# for what arrived and none for the dropped one.

load lib

setup_file() {
	world_start
	[ -n "${WORLD_SKIP:-}" ] && return 0
	user alice alice@a.test
	user bob bob@b.test
	echo "t03-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
	echo "t03-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
}

teardown_file() { world_stop; }
setup() { world_check; }

@test "T3: alice's 2nd message is dropped (relay answers 201): bob reports it missing" {
	hostile b "drop PUT /v1/users/bob/devices/*/mailbox/* n=2 status=201
drop POST /v1/users/bob/deliver n=2 status=201"
	for i in 1 2 3; do
		echo "t03-out-$i" | as alice nc-send bob@b.test
	done
	hostile b ""
	grep -q ' drop$' "$HB_REC/log"
	run as bob nc-recv --json
	echo "$output"
	[[ "$output" == *t03-out-1* ]]
	[[ "$output" != *t03-out-2* ]]
	[[ "$output" == *t03-out-3* ]]
	# the gap is reported, machine-readably
	printf '%s\n' "$output" | grep -v '"type":"message"' | grep -qi 'missing'
}

@test "T3: the sender gets receipts for delivered messages, none for the dropped one" {
	run as alice nc-recv --json
	echo "$output"
	[ "$(count_type receipt)" -ge 2 ]
	# receipts carry the message id nc-send printed; the dropped one has
	# no receipt: fewer receipts than messages sent in this round
	[ "$(count_type receipt)" -lt 3 ]
}
