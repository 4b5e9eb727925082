#!/usr/bin/env bats
# T12: the attacker replays a message.
# Mechanism: message keys deleted after use, ratchet counters, remembered
# X3DH (signed prekey, ephemeral key) pairs; relay-side dedupe is not
# trusted (the proxy re-delivers under fresh envelope ids).
# Shows: a replayed envelope is never shown twice: ignored (the same bytes
# again), or exit 1 with an alarm (nc-recv -, its id with other bytes),
# and the message appears exactly once.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
}

@test "T12: the first (X3DH) message delivered three times is shown once" {
	hostile b "replay PUT /v1/users/bob/devices/*/mailbox/* n=1 times=2
replay POST /v1/users/bob/deliver n=1 times=2"
	echo "t12-first" | as alice nc-send bob@b.test
	hostile b ""
	[ "$(grep -c ' 201 replayed$' "$HB_REC/log")" -eq 2 ]
	run as bob nc-recv --json
	echo "$output"
	[ "$(printf '%s\n' "$output" | grep -c t12-first)" -eq 1 ]
	[ "$(count_type message)" -eq 1 ]
}

@test "T12: a ratchet message delivered twice is shown once" {
	hostile b "replay PUT /v1/users/bob/devices/*/mailbox/* n=2 times=1
replay POST /v1/users/bob/deliver n=2 times=1"
	echo "t12-second" | as alice nc-send bob@b.test
	hostile b ""
	run as bob nc-recv --json
	echo "$output"
	[ "$(printf '%s\n' "$output" | grep -c t12-second)" -eq 1 ]
}

@test "T12: an old envelope re-delivered later (after a round trip) is not shown" {
	local f
	echo "t12-reply" | as bob nc-send alice@a.test
	as alice nc-recv --json >/dev/null
	echo "t12-new" | as alice nc-send bob@b.test
	as bob nc-recv --json >/dev/null
	# the attacker re-delivers every envelope it recorded so far, through
	# the proxy, which re-sends each under fresh envelope ids
	hostile b "replay * /v1/users/bob/* times=1"
	local n=0 id m path
	grep -E '^[0-9]+ (PUT /v1/users/bob/devices/[0-9a-f]+/mailbox/|POST /v1/users/bob/deliver)' \
	    "$HB_REC/log" >"$W/redeliver"
	while read -r id m path _; do
		curl -s -o /dev/null -X "$m" --data-binary @"$HB_REC/$id.req" "$HB_URL$path"
		n=$((n + 1))
	done <"$W/redeliver"
	hostile b ""
	[ "$n" -ge 3 ]
	run as bob nc-recv --json
	echo "$output"
	[[ "$output" != *t12-first* ]]
	[[ "$output" != *t12-second* ]]
	[[ "$output" != *t12-new* ]]
	[ "$(count_type message)" -eq 0 ]
}

@test "T12: an armored envelope read twice (nc-recv -): shown once, no false alarm" {
	seal alice bob@b.test "t12-armored" "$W/e.asc"
	run open_as bob "$W/e.asc"
	[ "$status" -eq 0 ]
	[[ "$output" == *t12-armored* ]]
	run open_as bob "$W/e.asc"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *t12-armored* ]]
	[ "$(count_type alarm)" -eq 0 ]
	# (its id with other bytes is an alarm: t/2300, t/2810)
}

@test "T12: the same envelope twice in one stream is shown once" {
	seal alice bob@b.test "t12-twice" "$W/t.asc"
	cat "$W/t.asc" "$W/t.asc" >"$W/tt.asc"
	run open_as bob "$W/tt.asc"
	echo "$output"
	[ "$(printf '%s\n' "$output" | grep -c t12-twice)" -eq 1 ]
}

@test "T12: a sender's own retry of an acknowledged delivery (same ids) is silent" {
	# alice's delivery went through, but say its answer was lost: she
	# sends the same bytes again after bob has read and acknowledged it
	echo "t12-retry" | as alice nc-send bob@b.test
	run as bob nc-recv --json
	[ "$(printf '%s\n' "$output" | grep -c t12-retry)" -eq 1 ]
	local id path
	read -r id _ path _ < <(grep -E '^[0-9]+ POST /v1/users/bob/deliver ' \
	    "$HB_REC/log" | tail -1)
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	    --data-binary @"$HB_REC/$id.req" "$B_URL$path")" = 201 ]
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# and it was acknowledged: the mailbox is empty again
	run as bob nc-recv --json
	[ -z "$output" ]
}
