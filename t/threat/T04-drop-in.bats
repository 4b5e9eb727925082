#!/usr/bin/env bats
# T4: the attacker drops messages coming to a user from others (here: the
# relay itself withholds one, answering the sender 201 and never storing).
# Mechanism: ratchet counters; receipts.
# Shows: the receiving user is told a message is missing; the later ones
# still arrive, in order, each once.

load lib

world_setup() {
	user alice alice@a.test
	echo "gap-window 1" >>"$W/alice/config"
	user bob bob@b.test
	echo "t04-hello" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
}

@test "T4: 1st of bob's next 4 messages to alice dropped: the others arrive in order, once" {
	hostile a "drop PUT /v1/users/alice/devices/*/mailbox/* n=1 status=201
drop POST /v1/users/alice/deliver n=1 status=201"
	for i in 1 2 3 4; do
		echo "t04-in-$i" | as bob nc-send alice@a.test
	done
	hostile a ""
	run as alice nc-recv --json
	echo "$output"
	[[ "$output" != *t04-in-1* ]]
	[[ "$output" == *t04-in-2* ]]
	[[ "$output" == *t04-in-4* ]]
	# in order, each once
	[ "$(printf '%s\n' "$output" | grep -o 't04-in-[0-9]' | tr '\n' ' ')" = "t04-in-2 t04-in-3 t04-in-4 " ]
	printf '%s\n' "$output" >"$W/alice.recv"
}

@test "T4: alice is told a message is missing" {
	reports_missing alice bob@b.test "$W/alice.recv"
}

@test "T4: the next run prints nothing again" {
	run as alice nc-recv --json
	[ "$status" -eq 0 ]
	[[ "$output" != *t04-in-* ]]
}
