#!/usr/bin/env bats
# Two processes of one NC_HOME delivering to the same peer: an answer that
# comes late acknowledges only the envelopes its request carried. (A batch
# used to be forgotten as "every row up to the last one sent"; the row
# numbers of a table emptied meanwhile are used again, so a late answer
# took a newer, never-sent envelope with it, and with it the message.)
# And a queued message is encrypted once, even when two processes pick it
# from the outbox at the same time.
# Uses the threat world's proxy to hold one request back.

load threat/lib

setup_file() {
	world_start
	[ -n "${WORLD_SKIP:-}" ] && return 0
	user alice alice@a.test
	user bob bob@b.test
	echo "gap-window 1" >>"$W/bob/config"
	echo "late-hello" | as alice nc-send bob@b.test
	as bob nc-recv >/dev/null
}

teardown_file() { world_stop; }
setup() { world_check; }

@test "late ack: a delivery answered late does not forget a newer envelope" {
	# A: alice's send of m1, its delivery held for 4 s
	hostile b "delay POST /v1/users/bob/deliver ms=4000"
	as alice nc-send bob@b.test <<<"late-m1" >"$W/a.out" 2>"$W/a.err" &
	a=$!
	sleep 1
	# B: meanwhile a flush delivers m1 again (same envelope id) and is
	# answered at once
	hostile b ""
	run as alice nc-send --flush
	echo "$output"
	[ "$status" -eq 0 ]
	# C: m2 is encrypted but its relay fails it: its envelope waits
	hostile b "drop POST /v1/users/bob/deliver status=503"
	run as alice nc-send bob@b.test <<<"late-m2"
	echo "$output"
	[ "$status" -eq 75 ]
	# A's answer comes now: it acknowledges m1 only
	wait "$a"
	cat "$W/a.err"
	hostile b ""
	run as alice nc-send --flush
	echo "$output"
	[ "$status" -eq 0 ]
	sleep 2
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="message") | .body' |
	    tr '\n' ' ')" = "late-m1 late-m2 " ]
	# m2 went in the envelope made first: no ratchet counter skipped
	[ "$(count_type missing)" -eq 0 ]
}

@test "late claim: a message another process encrypted meanwhile is not encrypted again" {
	# carol is new to alice: her first message needs a prekey claim
	user carol carol@b.test
	: >"$HB_REC/log"
	# A: alice's send to carol, its claim held for 3 s (after A has
	# picked the message from the outbox)
	hostile b "delay POST /v1/users/carol/prekeys/claim n=1 ms=3000"
	as alice nc-send carol@b.test <<<"claim-m1" >"$W/c.out" 2>"$W/c.err" &
	a=$!
	sleep 1
	# B: a flush takes the same message, claims at once, delivers it
	run as alice nc-send --flush
	echo "$output"
	[ "$status" -eq 0 ]
	wait "$a"
	cat "$W/c.err" "$HB_REC/log"
	# A found it done: one delivery, one envelope for carol
	[ "$(grep -c ' POST /v1/users/carol/deliver 201 ' "$HB_REC/log")" -eq 1 ]
	run as carol nc-recv --json
	echo "$output"
	[ "$(count_type message)" -eq 1 ]
	[ "$(count_type missing)" -eq 0 ]
}
