#!/usr/bin/env bats
# T7: the attacker obtains the keys of several messages.
# Mechanism: per-message keys, deleted after use (skipped keys bounded).
# Shows, with bob's state stolen while it holds the keys of m2 and m4 (both
# skipped): exactly m2 and m4 open; m1, m3, m5 (used) and later traffic do not.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	echo "t07-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
	echo "t07-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
	for i in 1 2 3 4 5; do seal alice bob@b.test "t07-m$i" "$W/m$i.asc"; done
	for i in 1 3 5; do as bob nc-recv --json - <"$W/m$i.asc" >>"$W/o"; done
	steal bob stolen
}

@test "T7: bob read m1, m3, m5 before the theft" {
	grep -q t07-m1 "$W/o"
	grep -q t07-m3 "$W/o"
	grep -q t07-m5 "$W/o"
}

@test "T7: the stolen keys open exactly their messages m2 and m4" {
	opens stolen "$W/m2.asc" t07-m2
	opens stolen "$W/m4.asc" t07-m4
}

@test "T7: no other message opens with them" {
	local i
	for i in 1 3 5; do
		! opens stolen "$W/m$i.asc" "t07-m$i"
	done
}

@test "T7: nor does later traffic, once the conversation moved on" {
	local r
	for r in 1 2; do
		seal bob alice@a.test "t07-r$r" "$W/r$r.asc"
		as alice nc-recv --json - <"$W/r$r.asc" >/dev/null
		seal alice bob@b.test "t07-later$r" "$W/l$r.asc"
		as bob nc-recv --json - <"$W/l$r.asc" >/dev/null
	done
	! opens stolen "$W/l2.asc" t07-later2
}
