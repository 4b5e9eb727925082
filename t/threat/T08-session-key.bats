#!/usr/bin/env bats
# T8: the attacker obtains the shared session state of two participants
# (bob's whole ratchet state: root key, chain keys, ratchet private key).
# Mechanism: the DH ratchet: new root and chain keys every round trip.
# Shows: past messages stay secret; a message in the current receiving
# chain is exposed (the window, shown explicitly); once bob has answered
# with a ratchet key made after the theft, nothing more opens.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	seal alice bob@b.test "t08-p1" "$W/p1.asc"
	as bob nc-recv --json - <"$W/p1.asc" >"$W/o"
	seal bob alice@a.test "t08-q1" "$W/q1.asc"
	as alice nc-recv --json - <"$W/q1.asc" >>"$W/o"
	seal alice bob@b.test "t08-p2" "$W/p2.asc"
	as bob nc-recv --json - <"$W/p2.asc" >>"$W/o"
	steal bob stolen
}

@test "T8: the conversation before the theft worked" {
	grep -q t08-p1 "$W/o"
	grep -q t08-q1 "$W/o"
	grep -q t08-p2 "$W/o"
}

@test "T8: past messages stay secret from the stolen state" {
	! opens stolen "$W/p1.asc" t08-p1
	! opens stolen "$W/p2.asc" t08-p2
}

@test "T8: the window: the current receiving chain is exposed until bob answers" {
	seal alice bob@b.test "t08-p3" "$W/p3.asc"
	opens stolen "$W/p3.asc" t08-p3
	as bob nc-recv --json - <"$W/p3.asc" >/dev/null
}

@test "T8: healed: after bob's answers with post-theft ratchet keys, nothing opens" {
	local r
	for r in 1 2; do
		seal bob alice@a.test "t08-r$r" "$W/r$r.asc"
		as alice nc-recv --json - <"$W/r$r.asc" >/dev/null
		seal alice bob@b.test "t08-h$r" "$W/h$r.asc"
		run as bob nc-recv --json - <"$W/h$r.asc"
		[[ "$output" == *t08-h$r* ]]
	done
	# h1 may still fall to the stolen ratchet key (it answers bob's old
	# key); h2 answers a key bob made after the theft.
	if opens stolen "$W/h1.asc" t08-h1; then
		echo "# T8: h1 (first answer after the theft) opened with the stolen state" >&3
	fi
	! opens stolen "$W/h2.asc" t08-h2
}
