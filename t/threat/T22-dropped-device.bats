#!/usr/bin/env bats
# T22: a device its user dropped from the list (a stolen laptop) keeps
# speaking "as the user" to a contact who only receives (security review,
# issue 14 item 2).
# Mechanism: a receiver checks a sender's certificate against the pinned
# device list only while its last check with the sender's relay is younger
# than a bound (NC_DEVLIST_MAXAGE, a day; 0 here, for the test), and asks
# again at once when a certificate shows a newer list exists; the newest
# list seen decides, so a device missing from it is refused.
# Shows: bob pinned alice's two devices (the laptop wrote to him); alice
# drops the laptop; bob, who never writes to alice, refuses the laptop's
# "payment request" (exit 1, an alarm, nothing printed) once the bound has
# passed, and still reads alice's remaining device.
# The laptop's own client refuses to send once it is dropped (nc-send exits
# 77), but a thief runs what he likes: his envelopes are made here before
# the drop (nc-send -o, the same bytes a patched client would send after
# it) and reach bob afterwards (nc-recv - reads them as a delivery).

WORLD_NEEDS="nc-keys nc-droplist"
load lib

devices() { as "$1" nc-keys show alice@a.test | sed -n 's/^  device: *//p' | sort; }

world_setup() {
	user alice alice@a.test
	devices alice >"$W/home.dev"
	user laptop alice@a.test
	user bob bob@b.test
	echo "t22-before" | as laptop nc-send bob@b.test
	as bob nc-recv --json >"$W/o"
	as alice nc-recv --json >>"$W/o"   # alice's device learns of the laptop
	echo "t22-pay 500 to mallory" | as laptop nc-send -o "$W/pay1" bob@b.test
	echo "t22-pay again" | as laptop nc-send -o "$W/pay2" bob@b.test
	devices laptop | grep -vxFf "$W/home.dev" >"$W/laptop.dev"
	as alice nc-droplist "$(cat "$W/laptop.dev")"
}

@test "T22: bob read the laptop's message while it was listed" {
	grep -q '"body":"t22-before"' "$W/o"
	[ "$(wc -l <"$W/laptop.dev")" -eq 1 ]
	# bob's pin lists both of alice's devices
	[ "$(devices bob | wc -l)" -eq 2 ]
}

@test "T22: the dropped laptop's message is refused once the bound has passed" {
	run env NC_DEVLIST_MAXAGE=0 NC_HOME="$W/bob" nc-recv --json - <"$W/pay1"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *"t22-pay"* ]]
	[[ "$output" == *'"type":"alarm"'* ]]
	[[ "$output" == *"device is not in its device list"* ]]
	# bob now holds the list without the laptop
	[ "$(devices bob)" = "$(cat "$W/home.dev")" ]
	# and it stays refused (the list is fresh now, no bound involved)
	run as bob nc-recv --json - <"$W/pay2"
	[ "$status" -eq 1 ]
	[[ "$output" != *"t22-pay"* ]]
	# the laptop's own client knows it was dropped
	run as laptop nc-send bob@b.test <<<"t22-from the laptop"
	[ "$status" -eq 77 ]
	[[ "$output" == *"revoked"* ]]
}

@test "T22: control: alice's remaining device still speaks for her" {
	echo "t22-home" | as alice nc-send bob@b.test
	run env NC_DEVLIST_MAXAGE=0 NC_HOME="$W/bob" nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"body":"t22-home"'* ]]
}
