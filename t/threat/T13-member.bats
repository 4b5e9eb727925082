#!/usr/bin/env bats
# T13 by a dishonest member: alice holds her sender key's signing key, so
# she can seal two different, validly signed messages under one index and
# show bob one and carol the other (t/helpers/nc-equivocate). Neither can
# tell alone; each group message names what its sender saw of every key
# of the epoch (index, blob hash; protocol.md 3.5 "transcript"), so the
# next message bob or carol sends gives the split away at the other: an
# alarm naming who saw otherwise and whose key it was.

load lib

WORLD_NEEDS="nc-group nc-equivocate"

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@b.test
	as alice nc-group create t13 bob@b.test carol@b.test >"$W/gid"
	as bob nc-recv --json >/dev/null
	as carol nc-recv --json >/dev/null
	echo "t13 hello" | as alice nc-send -g t13 >/dev/null   # her sender key
	as bob nc-recv --json >/dev/null
	as carol nc-recv --json >/dev/null
}

@test "T13: a member shows two members different messages under one index: each reads its own; the next message of either is an alarm at the other" {
	as alice nc-equivocate t13 bob@b.test "t13 pay account 1" \
	    carol@b.test "t13 pay account 2"
	run as bob nc-recv
	echo "bob: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "[t13] alice@a.test: t13 pay account 1" ]
	run as carol nc-recv
	echo "carol: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "[t13] alice@a.test: t13 pay account 2" ]
	# bob's next message names what he saw under alice's key: carol is
	# told (bob's message itself is genuine, and shown)
	echo "t13 from bob" | as bob nc-send -g t13 >/dev/null
	run as carol nc-recv --json
	echo "carol: status $status: $output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	grep '^{' <<<"$output" | jq -e -s --arg g "$(cat "$W/gid")" 'map(select(.type
	    == "alarm"))[0] | .group == $g and .peer == "bob@b.test" and (.reason |
	    test("^group t13: a member was shown other messages: bob@b.test saw message [0-9]+ of alice@a.test.s sender key otherwise than this device did$"))'
	[[ "$output" == *"nc-recv: 1 envelope(s) raised an alarm"* ]]
	# and the other way round
	echo "t13 from carol" | as carol nc-send -g t13 >/dev/null
	run as bob nc-recv --json
	echo "bob: status $status: $output"
	[ "$status" -eq 1 ]
	grep '^{' <<<"$output" | jq -e -s 'map(select(.type == "alarm"))[0] |
	    .peer == "carol@b.test" and (.reason | test("shown other messages: carol@b.test saw message [0-9]+ of alice@a.test"))'
	# alice herself, who never sent bob's or carol's copy as they saw it
	run as alice nc-recv --json
	echo "alice: status $status: $output"
	[ "$(count_type alarm)" -ge 1 ]
}
