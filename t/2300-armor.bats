#!/usr/bin/env bats
# Armored envelopes: nc-send -o - delivers nothing; nc-recv - decrypts them
# in any order; a flipped byte is an alarm (exit 1) and nothing of it shows;
# the same envelope read twice is nothing to do.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }
setup() { world_load; }

# b64flip FILE N: flip one bit of byte N of the first armored block's payload.
b64flip() {
	sed -n '/^-----BEGIN/,/^-----END/p' "$1" | sed '1d;$d' | base64 -d >"$W/bin"
	b=$(od -An -tu1 -j "$2" -N1 "$W/bin" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 1) & 255)))" |
	    dd of="$W/bin" bs=1 seek="$2" conv=notrunc status=none
	echo "-----BEGIN NEWCHAT ENVELOPE-----"
	base64 -w 64 "$W/bin"
	echo "-----END NEWCHAT ENVELOPE-----"
}

@test "send -o -: armored envelopes on stdout, nothing delivered" {
	run as alice nc-send -o - bob@b.test <<<"armored-0"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "-----BEGIN NEWCHAT ENVELOPE-----" ]
	[ "${lines[-1]}" = "-----END NEWCHAT ENVELOPE-----" ]
	printf '%s\n' "$output" >"$W/e0.asc"
	run as bob nc-recv
	[ -z "$output" ]
	run as bob nc-recv - <"$W/e0.asc"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: armored-0" ]
}

@test "recv -: twenty envelopes read in reverse order, each printed once" {
	for i in $(seq 1 20); do
		as alice nc-send -o - bob@b.test <<<"rev-$i" >"$W/r$i.asc"
	done
	for i in $(seq 20 -1 1); do cat "$W/r$i.asc"; done >"$W/all.asc"
	run as bob nc-recv --json - <"$W/all.asc"
	[ "$status" -eq 0 ]
	[ "$(count_type message)" -eq 20 ]
	[ "$(printf '%s\n' "$output" | jq -r .body | tr '\n' ' ')" = \
	    "$(for i in $(seq 20 -1 1); do printf 'rev-%d ' "$i"; done)" ]
	# read again: the same envelope, nothing to do
	run as bob nc-recv --json - <"$W/r3.asc"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# its id again with other bytes: a replay, refused
	b64flip "$W/r3.asc" 100 >"$W/r3bad.asc"
	run as bob nc-recv --json - <"$W/r3bad.asc"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	[[ "$output" == *replayed* ]]
	[[ "$output" != *rev-3* ]]
}

@test "recv -: a flipped byte -> exit 1, one alarm, nothing of the body; the good one still opens" {
	as alice nc-send -o - bob@b.test <<<"flip-secret" >"$W/f.asc"
	for off in 0 5 20 40 100 200; do
		b64flip "$W/f.asc" "$off" >"$W/bad.asc"
		run as bob nc-recv --json - <"$W/bad.asc"
		echo "offset $off: $status $output"
		[ "$status" -eq 1 ]
		[ "$(count_type alarm)" -eq 1 ]
		[[ "$output" != *flip-secret* ]]
	done
	run as bob nc-recv - <"$W/f.asc"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: flip-secret" ]
}

@test "recv -: good ones are printed before exit 1 for a bad one in the stream" {
	as alice nc-send -o - bob@b.test <<<"good-1" >"$W/g1.asc"
	as alice nc-send -o - bob@b.test <<<"bad-2" >"$W/g2.asc"
	as alice nc-send -o - bob@b.test <<<"good-3" >"$W/g3.asc"
	{ cat "$W/g1.asc"; b64flip "$W/g2.asc" 60; cat "$W/g3.asc"; } >"$W/mix.asc"
	run as bob nc-recv - <"$W/mix.asc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"alice@a.test: good-1"* ]]
	[[ "$output" == *"alice@a.test: good-3"* ]]
	[[ "$output" != *bad-2* ]]
	[[ "$output" == *alarm* ]]
}

@test "recv -: malformed armor -> 65" {
	printf -- '-----BEGIN NEWCHAT ENVELOPE-----\n!!!!\n-----END NEWCHAT ENVELOPE-----\n' >"$W/junk.asc"
	run as bob nc-recv - <"$W/junk.asc"
	[ "$status" -eq 65 ]
}

@test "mailbox: a flipped byte on the relay -> alarm, exit 1, neighbours printed" {
	as alice nc-send bob@b.test <<<"mb-1" >/dev/null
	as alice nc-send bob@b.test <<<"mb-2" >/dev/null
	as alice nc-send bob@b.test <<<"mb-3" >/dev/null
	# tamper with the second stored envelope inside the relay's database
	db=$RELAY_DIR_b/relay.db
	cur=$(sqlite3 "$db" "SELECT cursor FROM mail ORDER BY cursor LIMIT 1 OFFSET 1")
	hex=$(sqlite3 "$db" "SELECT hex(env) FROM mail WHERE cursor = $cur")
	c=${hex:160:2}
	c=$(printf '%02X' $((0x$c ^ 1)))
	sqlite3 "$db" "UPDATE mail SET env = X'${hex:0:160}$c${hex:162}' WHERE cursor = $cur"
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"alice@a.test: mb-1"* ]]
	[[ "$output" == *"alice@a.test: mb-3"* ]]
	[[ "$output" != *mb-2* ]]
	[[ "$output" == *alarm* ]]
	# acknowledged: not refused again next time
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
