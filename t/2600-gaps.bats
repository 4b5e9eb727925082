#!/usr/bin/env bats
# Sequence integrity: a message the sender's counters show was sent but
# that never arrives is reported once, as a "missing" event, after the
# gap-window (config); a late message that fills the gap in time is not.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	echo "gap-window 3" >"$W/bob.config"
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	# an established session, both ways
	echo "gap-hello" | as alice nc-send bob@b.test
	as bob nc-recv >/dev/null
	echo "gap-reply" | as bob nc-send alice@a.test
	as alice nc-recv >/dev/null
}

teardown_file() { world_down; }
setup() { world_load; }

armored() {   # armored NAME BODY: alice seals BODY to bob into $W/NAME.asc
	as alice nc-send -o - bob@b.test <<<"$2" >"$W/$1.asc"
}

@test "a message never delivered: nothing within the window, then one missing event" {
	echo "gap-1" | as alice nc-send bob@b.test
	armored lost "gap-2-never-delivered"
	echo "gap-3" | as alice nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type message)" -eq 2 ]
	[ "$(count_type missing)" -eq 0 ]
	sleep 4
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 1
	[ "$(jq -r .type <<<"$output")" = missing ]
	[ "$(jq -r .peer <<<"$output")" = alice@a.test ]
	[ "$(jq -r .count <<<"$output")" = 1 ]
	[[ "$(jq -r .device <<<"$output")" =~ ^[0-9a-f]{32}$ ]]
	[ "$(jq -r .reason <<<"$output")" = "1 message did not arrive" ]
	# reported once
	run as bob nc-recv --json
	[ -z "$output" ]
}

@test "the missing message turning up late is shown, and reported no more" {
	run as bob nc-recv --json - <"$W/lost.asc"
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 1
	[ "$(jq -r .body <<<"$output")" = gap-2-never-delivered ]
	sleep 4
	run as bob nc-recv --json
	[ -z "$output" ]
}

@test "a gap filled within the window is never reported" {
	armored a "gap-a"
	armored b "gap-b"
	armored c "gap-c"
	run as bob nc-recv - <"$W/a.asc"
	run as bob nc-recv - <"$W/c.asc"
	[ "$output" = "alice@a.test: gap-c" ]
	run as bob nc-recv - <"$W/b.asc"
	[ "$output" = "alice@a.test: gap-b" ]
	sleep 4
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "three lost in a row: one event with count 3, in text form too" {
	for i in 1 2 3; do armored "x$i" "gap-x$i"; done
	armored y "gap-y"
	run as bob nc-recv - <"$W/y.asc"
	[ "$output" = "alice@a.test: gap-y" ]
	sleep 4
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^missing\ alice@a\.test:\ 3\ messages\ did\ not\ arrive\ \(device\ [0-9a-f]{8}\)$ ]]
}

@test "gaps across a DH step (bob replied in between) are still counted" {
	armored p "gap-p"
	echo "gap-q" | as alice nc-send bob@b.test
	run as bob nc-recv
	[ "$output" = "alice@a.test: gap-q" ]
	echo "gap-turn" | as bob nc-send alice@a.test
	as alice nc-recv >/dev/null
	echo "gap-r" | as alice nc-send bob@b.test
	sleep 4
	run as bob nc-recv --json
	echo "$output"
	[ "$(count_type message)" -eq 1 ]
	[ "$(count_type missing)" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep '"type":"missing"' | jq -r .count)" = 1 ]
}

@test "no gaps: the default window is not reached and nothing is reported" {
	rm -f "$W/alice.config"
	echo "gap-z" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	[ "$(count_type missing)" -eq 0 ]
}

@test "gap-window in the config: bad values are a one-line config error (78)" {
	local v
	for v in -1 604801 1x 0x10 "" 01 "1 2" 99999999999999999999 "5\ngap-window 6"; do
		printf "gap-window $v\n" >"$W/alice.config"
		config alice
		run as alice nc-recv
		echo "$v: $output"
		[ "$status" -eq 78 ]
		lines_eq 1
		[[ "$output" == *config:[345]:*gap-window* ]]
	done
	[[ "$output" == *twice* ]]
	rm "$W/alice.config"
	config alice
	run as alice nc-recv
	[ "$status" -eq 0 ]
}
