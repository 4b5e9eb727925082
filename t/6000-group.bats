#!/usr/bin/env bats
# nc-group and nc-send -g across two relays (issue 17): a group made,
# changed by its admins only, its messages read by its members only; a
# removed member reads nothing sent after, and cannot post; an offline
# member catches up in order. The tests build on each other.

load helpers/relay
load helpers/client

setup() { world_load; }

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	mkuser carol carol@b.test
	mkuser dave dave@a.test
}

teardown_file() { world_down; }

gid() { cat "$W/gid"; }

@test "group: create prints the id; every member learns of it" {
	run as alice nc-group create friends bob@b.test carol@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	echo "$output" >"$W/gid"
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "[friends] alice@a.test created the group: alice@a.test bob@b.test carol@b.test" ]
	run as carol nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e --arg g "$(gid)" '.type == "group" and .group == $g
	    and .event == "created" and .by == "alice@a.test" and .epoch == 0
	    and .members == ["alice@a.test","bob@b.test","carol@b.test"]'
}

@test "group: list, show and log agree on every member" {
	run as bob nc-group list
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(gid) friends epoch 0, 3 members" ]
	run as bob nc-group show friends --json
	echo "$output"
	printf '%s\n' "$output" | jq -e '.epoch == 0 and (.members | length) == 3
	    and .members[0].role == "admin" and .members[1].role == "member"'
	a=$(as alice nc-group show --json "$(gid)" | jq -r .state)
	c=$(as carol nc-group show --json "$(gid | cut -c1-8)" | jq -r .state)
	[ "$a" = "$c" ]
	run as carol nc-group log friends
	echo "$output"
	[[ "$output" == "0 alice@a.test created \"friends\" with alice@a.test bob@b.test carol@b.test (state "* ]]
}

@test "group: a message reaches every member once, marked with the group" {
	run as bob nc-send -g friends <<<"hi all"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	id=$output
	run as alice nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "[friends] bob@b.test: hi all" ]
	run as carol nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e --arg g "$(gid)" --arg id "$id" '.type == "message"
	    and .group == $g and .id == $id and .from == "bob@b.test" and .body == "hi all"'
	run as carol nc-recv
	[ -z "$output" ]
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the history marks it too
	run as alice nc-recv --history bob@b.test
	echo "$output"
	[[ "$output" == *" [friends] bob@b.test: hi all" ]]
	as alice nc-recv --history --json bob@b.test | jq -e -s --arg g "$(gid)" \
	    'map(select(.body == "hi all"))[0].group == $g'
	# and the sender's own, once, to the group, taken by every relay
	run as bob nc-recv --history
	echo "$output"
	[ "$(grep -c 'hi all' <<<"$output")" -eq 1 ]
	[[ "$output" == *" > [friends]: hi all" ]]
	as bob nc-recv --history --json | jq -e -s --arg g "$(gid)" --arg id "$id" \
	    'map(select(.body == "hi all")) | length == 1 and .[0].group == $g and
	    .[0].id == $id and .[0].from == "bob@b.test" and .[0].dir == "out" and
	    .[0].status == "accepted"'
}

@test "group: a member who is not admin cannot change it (77); nothing changes" {
	for op in "add friends dave@a.test" "remove friends alice@a.test" \
	    "admin friends carol@b.test" "rename friends x"; do
		run as bob nc-group $op
		echo "$op: $output"
		[ "$status" -eq 77 ]
		[[ "$output" == "nc-group: friends: only the group's admins may change it"* ]]
	done
	run as bob nc-group show --json friends
	printf '%s\n' "$output" | jq -e '.epoch == 0'
}

@test "group: adding a user who does not exist: 67, the address named once" {
	run as alice nc-group add friends nobody@b.test
	echo "$output"
	[ "$status" -eq 67 ]
	[ "$output" = "nc-group: nobody@b.test: no such user" ]
}

@test "group: add, admin, rename reach everyone, in order" {
	run as alice nc-group add friends dave@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	run as alice nc-group admin friends bob@b.test
	[ "$status" -eq 0 ]
	run as alice nc-group rename friends pals
	[ "$status" -eq 0 ]
	run as dave nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '[friends] alice@a.test added dave@a.test\n[friends] alice@a.test made admin: bob@b.test\n[pals] alice@a.test renamed the group')" ]
	run as bob nc-recv --json
	echo "$output"
	printf '%s\n' "$output" | jq -s -e 'map(.event) == ["added","admin","renamed"]
	    and .[2].name == "pals" and .[2].epoch == 3'
	# bob is an admin now: his change counts
	run as bob nc-group show --json pals
	printf '%s\n' "$output" | jq -e '.epoch == 3 and (.members | length) == 4'
	# what is already so changes nothing: no new epoch, nothing sent
	run as alice nc-group --json add pals dave@a.test
	[ "$status" -eq 0 ]
	[ "$(jq .epoch <<<"$output")" = 3 ]
	run as alice nc-group admin pals bob@b.test
	[ "$status" -eq 0 ]
	run as alice nc-group rename pals pals
	[ "$status" -eq 0 ]
	[ "$(as alice nc-group show --json pals | jq .epoch)" = 3 ]
	s1=$(as alice nc-group show --json pals | jq -r .state)
	s2=$(as dave nc-group show --json pals | jq -r .state)
	[ "$s1" = "$s2" ]
	run as carol nc-recv
	[ "$status" -eq 0 ]
	run as dave nc-send -g pals <<<"hello from dave"
	[ "$status" -eq 0 ]
	for u in alice bob carol; do
		run as $u nc-recv
		echo "$u: $output"
		[ "$output" = "[pals] dave@a.test: hello from dave" ]
	done
}

@test "group: a removed member reads nothing sent after, and cannot post (77)" {
	run as bob nc-group remove pals carol@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	run as carol nc-recv --json
	echo "$output"
	printf '%s\n' "$output" | jq -e '.type == "group" and .event == "removed"
	    and .by == "bob@b.test" and .members == ["carol@b.test"]'
	run as alice nc-send -g pals <<<"after carol"
	[ "$status" -eq 0 ]
	run as carol nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run as carol nc-send -g pals <<<"still here?"
	echo "$output"
	[ "$status" -eq 77 ]
	[[ "$output" == "nc-send: pals: you are not a member of this group (any more): nothing sent" ]]
	run as dave nc-recv
	echo "$output"
	[ "$output" = "$(printf '[pals] bob@b.test removed carol@b.test\n[pals] alice@a.test: after carol')" ]
}

@test "group: leave; the others see it, the leaver gets 77 after" {
	run as dave nc-group leave pals
	[ "$status" -eq 0 ]
	run as alice nc-recv
	echo "$output"
	[[ "$output" == *"[pals] dave@a.test left"* ]]
	run as dave nc-send -g pals <<<"x"
	[ "$status" -eq 77 ]
	run as dave nc-group list --json
	printf '%s\n' "$output" | jq -e '.member == false'
}

@test "group: an offline member catches up in order" {
	run as bob nc-recv
	for i in 1 2 3; do as alice nc-send -g pals <<<"a$i" >/dev/null; done
	as alice nc-group add pals carol@b.test
	for i in 4 5; do as alice nc-send -g pals <<<"a$i" >/dev/null; done
	as alice nc-group rename pals friends
	as alice nc-send -g friends <<<"a6" >/dev/null
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	# (messages show the group's name now, changes the name they made)
	[ "$output" = "$(printf '[friends] alice@a.test: a1\n[friends] alice@a.test: a2\n[friends] alice@a.test: a3\n[pals] alice@a.test added carol@b.test\n[friends] alice@a.test: a4\n[friends] alice@a.test: a5\n[friends] alice@a.test renamed the group\n[friends] alice@a.test: a6')" ]
	run as carol nc-recv
	echo "carol: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[friends] alice@a.test: a6" ]]
	[[ "$output" != *a3* ]]
}
