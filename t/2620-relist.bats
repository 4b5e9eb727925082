#!/usr/bin/env bats
# A device list that changes while messages wait in the outbox: envelopes
# already made for devices still listed are delivered as they are (making
# them again would skip ratchet counters, which the recipient then reports
# as missing messages); devices new to the list get envelopes of their own.
# Uses the threat world's proxy to hold deliveries back.

load threat/lib

setup_file() {
	world_start
	[ -n "${WORLD_SKIP:-}" ] && return 0
	user alice alice@a.test
	user bob bob@b.test
	echo "gap-window 1" >>"$W/bob/config"
	echo "relist-hello" | as alice nc-send bob@b.test
	as bob nc-recv >/dev/null
	echo "relist-reply" | as bob nc-send alice@a.test
	as alice nc-recv >/dev/null
}

teardown_file() { world_stop; }
setup() { world_check; }

@test "relist: queued envelopes survive bob's new device; nothing reported missing" {
	# bob's relay fails alice's deliveries: the messages are encrypted
	# and wait in her outbox
	hostile b "drop POST /v1/users/bob/deliver status=503
drop PUT /v1/users/bob/devices/*/mailbox/* status=503"
	for i in 1 2; do
		run as alice nc-send bob@b.test <<<"relist-q$i"
		[ "$status" -eq 75 ]
	done
	hostile b ""
	# meanwhile bob adds a device: his list is now version 2
	user bob2 bob@b.test
	echo "gap-window 1" >>"$W/bob2/config"
	run as alice nc-send --flush
	echo "$output"
	[ "$status" -eq 0 ]
	sleep 2
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="message") | .body' |
	    tr '\n' ' ')" = "relist-q1 relist-q2 " ]
	[ "$(count_type missing)" -eq 0 ]
	run as bob2 nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="message") | .body' |
	    tr '\n' ' ')" = "relist-q1 relist-q2 " ]
	[ "$(count_type missing)" -eq 0 ]
}

@test "relist: a send on a session is one request; a new device costs a 409, one fetch, and its envelope rides in the retry" {
	: >"$HB_REC/log"
	echo "relist-one" | as alice nc-send bob@b.test
	cat "$HB_REC/log"
	# the pinned list is used: no fetch, one delivery
	[ "$(wc -l <"$HB_REC/log")" -eq 1 ]
	grep -q ' POST /v1/users/bob/deliver 201 ' "$HB_REC/log"
	# another device of bob's since: the relay refuses the delivery made
	# for the old list (409); alice fetches the list once, claims the new
	# device's prekeys, and one more delivery carries all
	user bob3 bob@b.test
	: >"$HB_REC/log"
	echo "relist-two" | as alice nc-send bob@b.test
	cat "$HB_REC/log"
	[ "$(grep -c ' POST /v1/users/bob/deliver 409 ' "$HB_REC/log")" -eq 1 ]
	[ "$(grep -c ' GET /v1/users/bob/devicelist 200 ' "$HB_REC/log")" -eq 1 ]
	[ "$(grep -c ' POST /v1/users/bob/deliver 201 ' "$HB_REC/log")" -eq 1 ]
	[ "$(grep -c ' POST /v1/users/bob/deliver ' "$HB_REC/log")" -eq 2 ]
	for d in bob bob2 bob3; do
		run as "$d" nc-recv --json
		echo "$d: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *relist-two* ]]
		[ "$(count_type missing)" -eq 0 ]
	done
}
