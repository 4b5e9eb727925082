#!/usr/bin/env bats
# T9: the attacker obtains all session keys of two participants at a point
# (both devices' states stolen together).
# Mechanism: keys deleted after use; the state holds only current chains.
# Shows: no ciphertext captured before the theft opens with either stolen
# state, in either direction, including the first (X3DH) message.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	local i
	for i in 1 2 3; do
		seal alice bob@b.test "t09-a$i" "$W/a$i.asc"
		as bob nc-recv --json - <"$W/a$i.asc" >>"$W/o"
		seal bob alice@a.test "t09-b$i" "$W/b$i.asc"
		as alice nc-recv --json - <"$W/b$i.asc" >>"$W/o"
	done
	steal alice alice-stolen
	steal bob bob-stolen
}

@test "T9: all six messages were read before the theft" {
	[ "$(grep -c '"type":"message"' "$W/o")" -eq 6 ]
}

@test "T9: bob's stolen state opens none of alice's old messages (first one included)" {
	local i
	for i in 1 2 3; do
		! opens bob-stolen "$W/a$i.asc" "t09-a$i"
	done
}

@test "T9: alice's stolen state opens none of bob's old messages" {
	local i
	for i in 1 2 3; do
		! opens alice-stolen "$W/b$i.asc" "t09-b$i"
	done
}

@test "T9: a sender's stolen state cannot open what it sent" {
	! opens alice-stolen "$W/a3.asc" t09-a3
	! opens bob-stolen "$W/b3.asc" t09-b3
}

@test "T9: control: the stolen states are working devices (they open new mail)" {
	seal alice bob@b.test "t09-new-a" "$W/na.asc"
	opens bob-stolen "$W/na.asc" t09-new-a
	seal bob alice@a.test "t09-new-b" "$W/nb.asc"
	opens alice-stolen "$W/nb.asc" t09-new-b
}
