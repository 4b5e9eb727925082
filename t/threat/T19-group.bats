#!/usr/bin/env bats
# T19 for groups, end to end: the relays fork the membership. Two admins
# (alice on a.test, bob on b.test) change the group at once; the relay of
# b.test withholds alice's commit from carol and the relay of a.test
# withholds bob's from dave (each answering 201, as if delivered). alice
# and bob see both and keep the one every member keeps (the lower hash,
# protocol.md 3.5); carol and dave are left on different states of one
# epoch. The relays cannot make a state of their own (commits are signed,
# and sealed as group messages under the author's sender key, which goes
# pairwise: the drop takes that key, and the commit waits for it), only
# withhold - and each group
# message names its epoch and state hash, so the first message across the
# fork is an alarm at its reader ("the group was split"), refused.

load lib

WORLD_NEEDS="nc-group"

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@b.test
	user dave dave@a.test
	as alice nc-group create t19 bob@b.test carol@b.test dave@a.test >"$W/gid"
	as alice nc-group admin t19 bob@b.test >/dev/null
	for u in bob carol dave; do as $u nc-recv --json >/dev/null; done
}

gid() { cat "$W/gid"; }
ghash() { as "$1" nc-group show --json "$(gid)" | jq -r .state; }
gname() { as "$1" nc-group show --json "$(gid)" | jq -r .name; }
gepoch() { as "$1" nc-group show --json "$(gid)" | jq -r .epoch; }
# split_alarm USER: $output's one alarm is about USER's message and says the
# group was split - the state hash a message names (sent to one member),
# or its blob sealed at another state (one upload per provider, whose
# header carries no state hash: it does not open under the reader's)
split_alarm() {
	grep '^{' <<<"$output" | jq -e -s --arg u "$1" 'map(select(.type ==
	    "alarm")) | length == 1 and .[0].peer == $u and (.[0].reason |
	    test("the group was split"))'
}

@test "T19: the relays withhold one of two concurrent commits from each of two members: the first message across the fork is an alarm, refused" {
	local e0 u
	e0=$(gepoch carol)
	[ "$(gepoch dave)" = "$e0" ]
	hostile b "drop PUT /v1/users/carol/devices/*/mailbox/* n=1 status=201
drop POST /v1/users/carol/deliver n=1 status=201"
	as alice nc-group rename t19 t19-alice >/dev/null
	hostile b ""
	hostile a "drop PUT /v1/users/dave/devices/*/mailbox/* n=1 status=201
drop POST /v1/users/dave/deliver n=1 status=201"
	as bob nc-group rename "$(gid)" t19-bob >/dev/null
	hostile a ""
	[ "$(grep -c ' drop$' "$HA_REC/log")" -ge 1 ]
	[ "$(grep -c ' drop$' "$HB_REC/log")" -ge 1 ]
	for u in alice bob carol dave; do as $u nc-recv --json >"$W/$u.rx" || true; done
	# one epoch on, two states: carol has bob's change only, dave alice's
	for u in alice bob carol dave; do [ "$(gepoch $u)" = $((e0 + 1)) ]; done
	[ "$(gname carol)" = t19-bob ]
	[ "$(gname dave)" = t19-alice ]
	[ "$(ghash carol)" != "$(ghash dave)" ]
	# the admins saw both and agree, with an alarm that says so
	[ "$(ghash alice)" = "$(ghash bob)" ]
	grep -q 'two changes for epoch' "$W/alice.rx"
	# across the fork: carol -> dave, and dave -> carol
	echo "t19 from carol" | as carol nc-send -g "$(gid)" >/dev/null
	run as dave nc-recv --json
	echo "dave: status $status: $output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	split_alarm carol@b.test
	[[ "$output" != *"t19 from carol"* ]]
	echo "t19 from dave" | as dave nc-send -g "$(gid)" >/dev/null
	run as carol nc-recv --json
	echo "carol: status $status: $output"
	[ "$status" -eq 1 ]
	split_alarm dave@a.test
	[[ "$output" != *"t19 from dave"* ]]
	# the admins read the one on their state and flag the other
	run as alice nc-recv --json
	echo "alice: status $status: $output"
	[ "$status" -eq 1 ]
	[ "$(count_type message)" -eq 1 ]
	grep '^{' <<<"$output" | jq -e -s 'map(select(.type == "alarm")) |
	    length == 1 and (.[0].reason | test("the group was split"))' 
}
