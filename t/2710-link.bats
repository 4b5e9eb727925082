#!/usr/bin/env bats
# Device management and linking by code (issue 16 items 1 and 2):
# nc-sync devices, nc-keygen --link / nc-sync link, nc-sync revoke.

bats_require_minimum_version 1.5.0

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

@test "devices: one device, marked as this one, in text and JSON" {
	run --separate-stderr as alice nc-sync devices
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 1
	[[ "$output" =~ ^\*\ [0-9a-f]{32}\  ]]
	[[ "$output" == *"now (this device)"* ]]
	run --separate-stderr as alice nc-sync devices --json
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 1
	[[ "$output" =~ ^\{\"type\":\"device\",\"device\":\"[0-9a-f]{32}\",\"name\":\".*\",\"added\":\".*\",\"last_seen\":\"[0-9T:-]+Z\",\"this\":true\}$ ]]
}

@test "nc-sync: usage errors are 64; -h is usage on stdout" {
	run --separate-stderr nc-sync
	[ "$status" -eq 64 ]
	run --separate-stderr nc-sync nosuch
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"nosuch: no such command"* ]]
	run --separate-stderr as alice nc-sync devices extra
	[ "$status" -eq 64 ]
	run --separate-stderr nc-sync -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run --separate-stderr nc-sync devices -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}
