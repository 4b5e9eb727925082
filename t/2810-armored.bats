#!/usr/bin/env bats
# No false alarms from armored files: a file with one envelope for each of
# the recipient's devices reads cleanly on each (the others' are skipped
# with a note; one for a device not of this user is still refused as
# injected), reading it twice is nothing to do; nc-recv FILE... and
# standard input redirected from a file are read, /dev/null still fetches.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	mkuser bob2 bob@b.test   # bob's second device, listed before alice looks
}

teardown_file() { world_down; }
setup() { world_load; }

@test "two devices: the armored file exits 0 on each and prints its message once, read twice" {
	as alice nc-send -o - bob@b.test <<<"for-both-devices" >"$W/two.asc"
	[ "$(grep -c BEGIN "$W/two.asc")" -eq 2 ]
	for home in bob bob2; do
		run as "$home" nc-recv - <"$W/two.asc"
		echo "$home: $status $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"alice@a.test: for-both-devices"* ]]
		[[ "$output" == *"nc-recv: 1 envelope addressed to another device: skipped"* ]]
		[[ "$output" != *alarm* ]]
		run as "$home" nc-recv --json - <"$W/two.asc"
		echo "$home again: $status $output"
		[ "$status" -eq 0 ]
		[[ "$output" != *for-both-devices* ]]
		[[ "$output" != *alarm* ]]
	done
	run as bob nc-recv -q "$W/two.asc"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# stored once
	run as bob nc-recv --history alice@a.test
	[ "$(grep -c for-both-devices <<<"$output")" -eq 1 ]
}

@test "an envelope for a device that is not this user's is still an alarm (exit 1)" {
	as alice nc-send -o - bob@b.test <<<"rcpt-flip" >"$W/rf.asc"
	sed -n '1,/^-----END/p' "$W/rf.asc" | sed '1d;$d' | base64 -d >"$W/rf.bin"
	b=$(od -An -tu1 -j 20 -N1 "$W/rf.bin" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" |
	    dd of="$W/rf.bin" bs=1 seek=20 conv=notrunc status=none
	{ echo "-----BEGIN NEWCHAT ENVELOPE-----"; base64 -w 64 "$W/rf.bin"
	  echo "-----END NEWCHAT ENVELOPE-----"; } >"$W/rf-bad.asc"
	run as bob nc-recv "$W/rf-bad.asc"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *rcpt-flip* ]]
	[[ "$output" == *alarm*"not addressed to this device"* ]]
	[[ "$output" != *"addressed to another device: skipped"* ]]
}

@test "nc-recv FILE...: several files, in order; stdin from a file is read" {
	as alice nc-send -o - bob@b.test <<<"file-1" >"$W/f1.asc"
	as alice nc-send -o - bob@b.test <<<"file-2" >"$W/f2.asc"
	as alice nc-send -o - bob@b.test <<<"stdin-3" >"$W/f3.asc"
	run as bob nc-recv -q "$W/f1.asc" "$W/f2.asc"
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: file-1"*"alice@a.test: file-2"* ]]
	run as bob nc-recv -q <"$W/f3.asc"
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: stdin-3"* ]]
	# /dev/null (cron) fetches from the relay
	as alice nc-send bob@b.test <<<"fetched-4" >/dev/null
	run as bob nc-recv </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: fetched-4"* ]]
}

@test "a replay with other content under a seen id is still an alarm (exit 1)" {
	as alice nc-send -o - bob@b.test <<<"replay-me" >"$W/rp.asc"
	run as bob nc-recv -q "$W/rp.asc"
	[ "$status" -eq 0 ]
	sed -n '1,/^-----END/p' "$W/rp.asc" | sed '1d;$d' | base64 -d >"$W/rp.bin"
	b=$(od -An -tu1 -j 120 -N1 "$W/rp.bin" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" |
	    dd of="$W/rp.bin" bs=1 seek=120 conv=notrunc status=none
	{ echo "-----BEGIN NEWCHAT ENVELOPE-----"; base64 -w 64 "$W/rp.bin"
	  echo "-----END NEWCHAT ENVELOPE-----"; } >"$W/rp-bad.asc"
	run as bob nc-recv --json "$W/rp-bad.asc"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"type":"alarm"'*replayed* ]]
}
