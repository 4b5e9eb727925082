#!/usr/bin/env bats
# T20: the attacker swaps a contact's changed key between the user's check
# and `nc-keys trust` (security review, issue 14 item 1).
# Mechanism: while a changed key is pending, every nc-recv / nc-send
# --flush fetches the list again, so the relay decides what is pending;
# `nc-keys trust USER FINGERPRINT|SAFETY-NUMBER` compares what the user
# checked with the pending key and pins it in the same transaction; another
# key while one is pending is a louder alarm and voids a confirmation made
# by `nc-keys verify`; show and verify give the pending key's safety number.
# This is the layer below the key log: alice runs "policy tofu" (as with a
# relay that publishes no log); with the log, K2 has no proof and is
# refused outright.
# Shows: bob really re-keyed (K1, fingerprint F1, which alice checks with
# him); the network then serves mallory's K2; trust F1 is refused (exit 1),
# nothing is pinned and nothing reaches mallory; with K1 served again,
# trust F1 pins exactly K1 and the held message goes to the new bob only.

WORLD_NEEDS=nc-keys
load lib

world_setup() {
	evil_start b.test
	user alice alice@a.test
	# The layer below the key log: a key change the log does not prove is
	# refused before it can be pending (T21), so alice takes keys on first
	# use here ("policy tofu", as for a relay without a log).
	echo "policy tofu" >>"$W/alice/config"
	user bob bob@b.test
	echo "t20-before" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/o"
	# bob's genuine new identity (K1), on a relay of its own
	NEWB_URL=$(_relay newb b.test)
	echo "export NEWB_URL=$NEWB_URL" >"$W/newb.env"
	user newbob bob@b.test b.test="$NEWB_URL"
	# mallory's "bob@b.test" (K2) on the attacker's relay
	user malbob bob@b.test b.test="$HE_URL"
	curl -sf -o "$W/k1.devlist" "$NEWB_URL/v1/users/bob/devicelist"
	curl -sf -o "$W/k2.devlist" "$EVIL_URL/v1/users/bob/devicelist"
}

f1() { sed 's/^bob@b.test //' "$W/newbob.keygen"; }
f2() { sed 's/^bob@b.test //' "$W/malbob.keygen"; }
# serve K: the network answers bob's list with K's, and refuses deliveries
# to the old devices as a relay that no longer lists them (410): that is
# what makes a sender fetch the list again.
serve() {
	hostile b "replace GET /v1/users/bob/devicelist file=$W/$1.devlist
drop POST /v1/users/bob/deliver status=410
drop PUT /v1/users/bob/devices/*/mailbox/* status=410"
}
mal_got_nothing() {
	! grep -q "$(devlist_dev "$W/k2.devlist")" "$HB_REC/log"
	run as malbob nc-recv --json
	[[ "$output" != *t20-* ]]
}

@test "T20: bob re-keys: held, alarm; show and verify give the new key's safety number" {
	grep -q t20-before "$W/o"
	serve k1
	run as alice nc-send bob@b.test <<<"t20-held"
	echo "$output"
	[ "$status" -eq 1 ]
	run as alice nc-keys show bob@b.test
	echo "$output"
	[[ "$output" == *"new key:       $(f1)"* ]]
	# the number alice reads is the one bob's new device shows
	sn1=$(as newbob nc-keys verify alice@a.test)
	[[ "$output" == *"new safety number: $sn1"* ]]
	[ "$(as alice nc-keys verify bob@b.test 2>"$W/err")" = "$sn1" ]
	grep -q "NEW identity key" "$W/err"
	run as alice nc-keys --json show bob@b.test
	printf '%s\n' "$output" | jq -e --arg sn "$sn1" --arg f "$(f1)" \
	    '.status == "changed" and .new_fingerprint == $f and .new_safety_number == $sn'
}

@test "T20: K2 swapped in after the check: louder alarm, trust F1 refused, nothing pinned" {
	serve k2
	run as alice nc-recv --json    # a background read fetches the list
	echo "$output"
	printf '%s\n' "$output" | grep '"type":"alarm"' | grep -q 'CHANGED AGAIN'
	run as alice nc-keys trust bob@b.test $(f1)
	echo "$output"
	[ "$status" -eq 1 ]
	one_line_err "$output"
	[[ "$output" == *"not the one you checked"* ]]
	[[ "$output" == *"$(f2)"* ]]
	# the safety number checked with the real bob does not pin K2 either
	run as alice nc-keys trust bob@b.test $(as newbob nc-keys verify alice@a.test)
	[ "$status" -eq 1 ]
	# naming no key is a usage error, not a trust
	run as alice nc-keys trust bob@b.test
	[ "$status" -eq 64 ]
	run as alice nc-keys show bob@b.test
	echo "$output"
	[[ "$output" == *"CHANGED AGAIN"* ]]
	[[ "$output" == *"new key:       $(f2)"* ]]
	run as alice nc-send --flush
	[ "$status" -eq 1 ]
	mal_got_nothing
}

@test "T20: a confirmation by verify is void once another key comes" {
	serve k1
	as alice nc-send --flush || true
	sn1=$(as newbob nc-keys verify alice@a.test)
	run as alice nc-keys verify bob@b.test $sn1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"trust"* ]]
	run as alice nc-keys --json show bob@b.test
	printf '%s\n' "$output" | jq -e '.new_confirmed == true'
	serve k2
	as alice nc-send --flush || true
	run as alice nc-keys --json show bob@b.test
	printf '%s\n' "$output" | jq -e '.new_confirmed == false'
	run as alice nc-keys trust bob@b.test
	echo "$output"
	[ "$status" -eq 64 ]
	run as alice nc-keys show bob@b.test
	[[ "$output" == *"new key:       $(f2)"* ]]
	mal_got_nothing
}

@test "T20: K1 served again: trust F1 (as displayed, unquoted) pins exactly K1" {
	serve k1
	as alice nc-send --flush || true
	run as alice nc-keys trust bob@b.test $(f1)
	echo "$output"
	[ "$status" -eq 0 ]
	hostile b ""
	run as alice nc-keys show bob@b.test
	echo "$output"
	[[ "$output" == *"fingerprint:   $(f1)"* ]]
	[[ "$output" != *CHANGED* ]]
	# bob's new relay: the held message goes to K1's device, and only there
	. "$W/newb.env"
	sed -i "s|^relay b.test .*|relay b.test $NEWB_URL|" "$W/alice/config"
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as newbob nc-recv --json
	echo "$output"
	[[ "$output" == *t20-held* ]]
	mal_got_nothing
}
