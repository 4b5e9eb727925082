#!/usr/bin/env bats
# T15/T13, groups end to end through nc-hostile: the relay replays an
# old membership commit, drops a commit for one member, and tries to add a
# member with commit envelopes it holds (re-addressed, or a byte flipped),
# and shows one member another blob under a message's index (T13).
# Mechanism: sender keys travel inside the pairwise sessions, and a commit
# goes once to each provider as a message of the epoch it ends, sealed
# under its author's sender key (protocol.md 3.5): a replay, re-address or
# tamper of a pairwise envelope stops at the ratchet (2.4-2.7), one of a
# group envelope at its sealed header (2.7.1) or the sender key's AEAD,
# before the group rules (3.5 "Receiving") are reached; a commit, or the
# sender key it needs, withheld leaves the member at its epoch, holding
# later group messages for later.
# Shows: no state change (state hash equal to the others'), no group event,
# nothing forged printed; an alarm where the envelope does not open; a gap
# in the pairwise counter reported as missing.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@b.test
	echo "gap-window 0" >>"$W/carol/config"   # a gap is reported at once
	as alice nc-group create t15 bob@b.test carol@b.test >"$W/gid"
	as bob nc-recv --json >/dev/null
	as carol nc-recv --json >/dev/null
}

gid() { cat "$W/gid"; }
ghash() { as "$1" nc-group show --json "$(gid)" | jq -r .state; }
gepoch() { as "$1" nc-group show --json "$(gid)" | jq -r .epoch; }
# first_envelope REQ PATH: the (first) envelope of a recorded delivery: a
# mailbox PUT's body, or the first item of a batch delivery (protocol.md
# 1.6: u8 1, u64, u16 n, then fixed[16] dev, fixed[16] envid, bytes env).
first_envelope() {
	local len
	case $2 in
	*/deliver)
		len=$(od -An -tu1 -j43 -N4 "$1" | awk '{print (($1 * 256 + $2) * 256 + $3) * 256 + $4}')
		tail -c +48 "$1" | head -c "$len" ;;
	*) cat "$1" ;;
	esac
}
loglen() { wc -l <"$HB_REC/log"; }

@test "T15: an old commit envelope re-delivered after a newer commit: ignored, state hash as the others'" {
	local l0 l1 id m path n=0
	l0=$(loglen)
	as alice nc-group rename "$(gid)" t15-one
	l1=$(loglen)
	as carol nc-recv --json >/dev/null
	as alice nc-group rename "$(gid)" t15-two
	run as carol nc-recv --json
	echo "$output"
	[ "$(gepoch carol)" = 2 ]
	# the relay re-delivers carol's epoch-1 envelopes, under fresh ids,
	# and the batch that carried the commit (under its own id: under
	# another, the headers open for no one, t/6020)
	sed -n "$((l0 + 1)),${l1}p" "$HB_REC/log" |
	    grep -E '^[0-9]+ (PUT /v1/users/carol/devices/[0-9a-f]+/mailbox/|POST /v1/users/carol/deliver|PUT /v1/batches/)' >"$W/old"
	grep -q ' PUT /v1/batches/' "$W/old"
	hostile b "replay * /v1/users/carol/* times=1"
	while read -r id m path _; do
		curl -s -o /dev/null -X "$m" --data-binary @"$HB_REC/$id.req" "$HB_URL$path"
		n=$((n + 1))
	done <"$W/old"
	hostile b ""
	[ "$n" -ge 1 ]
	run as carol nc-recv --json
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(gepoch carol)" = 2 ]
	[ "$(ghash carol)" = "$(ghash alice)" ]
	as bob nc-recv --json >/dev/null
	[ "$(ghash bob)" = "$(ghash alice)" ]
}

@test "T15: a commit dropped for one member: it stays at its epoch, shows nothing of the next, reports the gap; handed over later, it catches up" {
	hostile b "drop PUT /v1/users/carol/devices/*/mailbox/* n=1 status=201
drop POST /v1/users/carol/deliver n=1 status=201"
	as alice nc-group rename "$(gid)" t15-three
	hostile b ""
	grep -q ' drop$' "$HB_REC/log"
	run as bob nc-recv --json
	[ "$(gepoch bob)" = 3 ]
	echo "t15-after-drop" | as alice nc-send -g "$(gid)"
	run as carol nc-recv --json
	echo "status $status: $output"
	[[ "$output" != *t15-after-drop* ]]
	[[ "$output" != *t15-three* ]]
	# the gap in alice's pairwise counter (the sender key went after the
	# dropped commit): reported once, naming alice
	[ "$(count_type missing)" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type == "missing") | .peer')" = alice@a.test ]
	[ "$(count_type group)" -eq 0 ]
	[ "$(count_type message)" -eq 0 ]
	[ "$(gepoch carol)" = 2 ]
	run as bob nc-recv --json
	[[ "$output" == *t15-after-drop* ]]
	# the relay hands the withheld commit over after all: carol catches
	# up, then shows the message it kept for later
	local id m path
	read -r id m path _ < <(grep -E ' drop$' "$HB_REC/log" | tail -1)
	curl -s -o /dev/null -X "$m" --data-binary @"$HB_REC/$id.req" "$B_URL$path"
	run as carol nc-recv --json
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | head -1 | jq -e '.type == "group" and .event == "renamed" and .epoch == 3'
	printf '%s\n' "$output" | tail -1 | jq -e '.type == "message" and .body == "t15-after-drop"'
	[ "$(count_type alarm)" -eq 0 ]
	[ "$(ghash carol)" = "$(ghash alice)" ]
}

@test "T15: commit envelopes the relay holds cannot add or change anything: re-addressed or tampered -> alarm, no change" {
	local id m path
	# the envelope carrying the commit the relay withheld from carol,
	# delivered into bob's mailbox beside a real message
	read -r id m path _ < <(grep -E ' (PUT /v1/users/carol/devices/[0-9a-f]+/mailbox/[0-9a-f]+|POST /v1/users/carol/deliver) [0-9]+ drop$' "$HB_REC/log" | tail -1)
	first_envelope "$HB_REC/$id.req" "$path" >"$W/held.bin"
	[ -s "$W/held.bin" ]
	before=$(ghash bob)
	hostile b "inject PUT /v1/users/bob/devices/*/mailbox/* n=1 file=$W/held.bin
inject POST /v1/users/bob/deliver n=1 file=$W/held.bin"
	echo "t15-real" | as alice nc-send bob@b.test
	hostile b ""
	grep -q ' 201 injected$' "$HB_REC/log"
	run as bob nc-recv --json
	echo "status $status: $output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -ge 1 ]
	[ "$(count_type group)" -eq 0 ]
	[[ "$output" == *t15-real* ]]
	[ "$(ghash bob)" = "$before" ]
	# a byte of bob's header flipped in the batch that carries the next
	# commit (alice's key is out: nothing pairwise). Users ascending:
	# carol's entry ends the body, str carol, u64, u8, dev[16], hdr[76]:
	# 108 bytes; bob's header ends just before it.
	hostile b "flip PUT /v1/batches/* n=1 offset=-109"
	as alice nc-group rename "$(gid)" t15-four
	hostile b ""
	grep -q ' flip$' "$HB_REC/log"
	run as bob nc-recv --json
	echo "status $status: $output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -ge 1 ]
	[ "$(count_type group)" -eq 0 ]
	[[ "$output" != *t15-four* ]]
	[ "$(gepoch bob)" = 3 ]
	[ "$(ghash bob)" = "$before" ]
}

@test "T13: the relay shows one member another blob under a message's index: alarm, nothing shown; the next message reads" {
	# (two valid blobs under one index need the sender's signing key: a
	# dishonest member, T13-member.bats)
	as carol nc-recv --json >/dev/null          # the t15-four rename
	echo "t15-m1" | as alice nc-send -g "$(gid)"   # with alice's new key
	run as carol nc-recv --json
	[[ "$output" == *t15-m1* ]]
	echo "t15-m2" | as alice nc-send -g "$(gid)"   # the group envelope only
	hostile b "flip GET /v1/users/carol/devices/*/mailbox n=1 dir=resp offset=-5"
	run as carol nc-recv --json
	hostile b ""
	echo "status $status: $output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -ge 1 ]
	[ "$(count_type message)" -eq 0 ]
	[[ "$output" != *t15-m2* ]]
	echo "t15-m3" | as alice nc-send -g "$(gid)"
	run as carol nc-recv --json
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *t15-m3* ]]
	[ "$(ghash carol)" = "$(ghash alice)" ]
}
