#!/usr/bin/env bats
# T21 (with T14, T16, T17, T19): the relay serves keys its key log does not
# prove. Mechanism: every device-list fetch carries the log's proof
# (protocol.md 1.4, 3.4), checked against the log and VRF keys pinned for
# the domain and against the last tree head seen (lib/app/keylog.c).
# Shows, with the default policy: a list swapped in without a proof, with a
# forged proof, or with a proof from another log (the attacker's own relay)
# is an alarm, exit 1, and nothing reaches the attacker (a version whose
# label alice proved before: another label is the alarm, the VRF proof is
# not verified again); the genuine list with its genuine proof still works
# afterwards.

WORLD_NEEDS=nc-keys
load lib

world_setup() {
	evil_start b.test
	user alice alice@a.test
	user bob bob@b.test
	echo "t21-before" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/o"
	user malbob bob@b.test b.test="$HE_URL"
	curl -sf -o "$W/real.devlist" -D "$W/real.hdr" "$B_URL/v1/users/bob/devicelist"
	sed -n 's/^X-NC-KT-Proof: *//Ip' "$W/real.hdr" | tr -d '\r\n' >"$W/real.proof"
	curl -sf -o "$W/mal.devlist" -D "$W/mal.hdr" "$EVIL_URL/v1/users/bob/devicelist"
	sed -n 's/^X-NC-KT-Proof: *//Ip' "$W/mal.hdr" | tr -d '\r\n' >"$W/mal.proof"
	: >"$W/none.proof"
	# a forged proof: the real one with one base64 letter changed (byte
	# 30: in the VRF proof's Gamma, which gives the label)
	sed 's/^\(.\{40\}\)./\1A/' "$W/real.proof" >"$W/forged.proof"
	cmp -s "$W/forged.proof" "$W/real.proof" && sed -i 's/^\(.\{40\}\)./\1B/' "$W/forged.proof"
	true
}

# serve LIST PROOF: bob's list and proof as the network answers them, and
# deliveries refused as to devices no longer listed (410), which makes
# alice fetch the list again.
serve() {
	hostile b "replace GET /v1/users/bob/devicelist file=$W/$1.devlist ktproof=$W/$2.proof
drop POST /v1/users/bob/deliver status=410
drop PUT /v1/users/bob/devices/*/mailbox/* status=410"
}
mal_got_nothing() {
	! grep -q "$(devlist_dev "$W/mal.devlist")" "$HB_REC/log"
	run as malbob nc-recv --json
	[[ "$output" != *t21-* ]]
}

@test "T21: both proofs were captured (the world is as the tests need)" {
	[ -s "$W/real.proof" ] && [ -s "$W/mal.proof" ]
	! cmp -s "$W/forged.proof" "$W/real.proof"
}

@test "T21: mallory's list without a proof: key-log alarm, exit 1, nothing to mallory" {
	serve mal none
	run as alice nc-send bob@b.test <<<"t21-none"
	hostile b ""
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"key log: "*"without a proof"* ]]
	mal_got_nothing
}

@test "T21: the real list with a forged proof: alarm, exit 1" {
	serve real forged
	run as alice nc-send bob@b.test <<<"t21-forged"
	hostile b ""
	echo "$output"
	[ "$status" -eq 1 ]
	# alice proved this version of bob's list before: she kept its label
	# and compares, she does not verify the VRF proof again
	[[ "$output" == *"key log: the relay gives version 1 of bob@b.test another label than the one proven before (it equivocates)"* ]]
}

@test "T21: mallory's list with the proof of the attacker's own log: alarm, exit 1" {
	serve mal mal
	run as alice nc-send bob@b.test <<<"t21-otherlog"
	hostile b ""
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"key log: "* ]]
	mal_got_nothing
}

@test "T21: the genuine list and proof: the held messages reach bob, and only bob" {
	run as alice nc-send --flush
	run as bob nc-recv --json
	echo "$output"
	[[ "$output" == *t21-* ]]
	mal_got_nothing
}
