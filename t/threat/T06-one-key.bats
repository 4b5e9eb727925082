#!/usr/bin/env bats
# T6: the attacker obtains the key of one message.
# Mechanism: a fresh key per message from a hash chain; a key is deleted as
# soon as it is used; only keys of skipped (not yet arrived) messages wait.
# Shows, with bob's state stolen while it holds exactly one message key (m2
# skipped): that key opens m2 and nothing else: not m1 or m3 (used, gone),
# not messages after the conversation moved on.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	echo "t06-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
	echo "t06-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
	for i in 1 2 3; do seal alice bob@b.test "t06-m$i" "$W/m$i.asc"; done
	as bob nc-recv --json - <"$W/m1.asc" >"$W/o1"
	as bob nc-recv --json - <"$W/m3.asc" >"$W/o3"
	steal bob stolen            # holds the one key of m2
}

@test "T6: bob read m1 and m3 before the theft" {
	grep -q t06-m1 "$W/o1"
	grep -q t06-m3 "$W/o3"
}

@test "T6: the stolen key opens its own message m2" {
	opens stolen "$W/m2.asc" t06-m2
}

@test "T6: ... and not m1 or m3, whose keys were used and deleted" {
	! opens stolen "$W/m1.asc" t06-m1
	! opens stolen "$W/m3.asc" t06-m3
}

@test "T6: ... and not a message sent after the conversation moved on" {
	as bob nc-recv --json - <"$W/m2.asc" >/dev/null
	for r in 1 2; do
		seal bob alice@a.test "t06-r$r" "$W/r$r.asc"
		as alice nc-recv --json - <"$W/r$r.asc" >/dev/null
		seal alice bob@b.test "t06-later$r" "$W/l$r.asc"
		as bob nc-recv --json - <"$W/l$r.asc" >/dev/null
	done
	! opens stolen "$W/l2.asc" t06-later2
}
