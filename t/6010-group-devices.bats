#!/usr/bin/env bats
# Groups and a user's devices (issue 17 item 5), across two relays: a
# device linked later is given the groups its user is in by the user's
# other device (the state and the sender keys it holds, over their
# pairwise session); it reads what is sent after, its messages are taken
# by the members, and what one device sends reaches the other.

bats_require_minimum_version 1.5.0

load helpers/relay
load helpers/client

setup() { world_load; }

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

@test "group devices: a linked device joins alice's groups and reads, sends, and sees her copies" {
	gid=$(as alice nc-group create friends bob@b.test)
	as bob nc-recv >/dev/null
	as bob nc-send -g friends <<<"before the laptop" >/dev/null
	as alice nc-recv >/dev/null
	# link a laptop (nc-keygen --link waits for the code's answer)
	config laptop
	NC_HOME=$W/laptop nc-keygen --link alice@a.test >"$W/laptop.out" 2>"$W/laptop.err" &
	pid=$!
	for i in $(seq 1 100); do [ -s "$W/laptop.out" ] && break; sleep 0.1; done
	as alice nc-sync link "$(head -n 1 "$W/laptop.out")" 2>/dev/null
	wait "$pid"
	# the laptop says hello; alice's phone hears of it and gives it the group
	run as alice nc-recv --json
	echo "$output"
	[[ "$output" == *'"type":"device"'*'"status":"added"'* ]]
	run as laptop nc-recv
	echo "laptop: $output"
	[ "$status" -eq 0 ]
	run as laptop nc-group show --json friends
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r .state)" = "$(as alice nc-group show --json friends | jq -r .state)" ]
	printf '%s\n' "$output" | jq -e '.member == true and .epoch == 0'
	# the laptop's sender key tells bob of the new device; his next
	# message (his sender key as alice's phone passed it on) reaches both
	run as bob nc-recv
	echo "bob: $output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	as bob nc-send -g friends <<<"after linking" >/dev/null
	run as laptop nc-recv
	echo "laptop: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "[friends] bob@b.test: after linking" ]
	run as alice nc-recv
	[ "$output" = "[friends] bob@b.test: after linking" ]
	# the laptop posts: bob takes it, and alice's other device has a copy
	run as laptop nc-send -g friends <<<"from the laptop"
	echo "$output"
	[ "$status" -eq 0 ]
	run as bob nc-recv
	echo "bob: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "[friends] alice@a.test: from the laptop" ]
	run as alice nc-recv
	echo "alice: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "[friends] alice@a.test: from the laptop" ]
	# and what the first device sends reaches the laptop
	as alice nc-send -g friends <<<"from the phone" >/dev/null
	run as laptop nc-recv
	echo "laptop: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "[friends] alice@a.test: from the phone" ]
	run as bob nc-recv
	[ "$output" = "[friends] alice@a.test: from the phone" ]
}

@test "group devices: a copy of a member's home taken before its removal reads nothing sent after" {
	cp -a "$W/bob" "$W/bob-stolen"
	run as alice nc-group remove friends bob@b.test
	[ "$status" -eq 0 ]
	as alice nc-send -g friends <<<"after bob" >/dev/null
	run as bob-stolen nc-recv
	echo "stolen: $output"
	[[ "$output" == *"alice@a.test removed bob@b.test"* ]]
	[[ "$output" != *"after bob"* ]]
	run as bob-stolen nc-send -g friends <<<"still here?"
	[ "$status" -eq 77 ]
	# alice's laptop has the removal and her message, from her own copy
	run as laptop nc-recv
	echo "laptop: $output"
	[[ "$output" == *"[friends] alice@a.test: after bob"* ]]
	[ "$(as laptop nc-group show --json friends | jq -r .state)" = "$(as alice nc-group show --json friends | jq -r .state)" ]
}
