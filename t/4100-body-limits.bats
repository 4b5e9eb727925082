#!/usr/bin/env bats
# nc-relayd: the body limits of the claim and prekey routes are the largest
# bodies the format allows (protocol.md 1.0), so no well-formed request is
# refused with 413 and nothing larger is read.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
	relay_start A a.test
	U=$RELAY_URL_A
}

teardown() {
	relay_stop_all
}

@test "claim: a claim naming 64 devices (1,027 bytes) is answered with 64 bundles" {
	# A user has at most 32 devices, so the 64 names are 32 devices each
	# named twice: each name takes its own one-time prekey.
	newuser alice
	dirs=()
	for i in $(seq 2 32); do
		mkdir -p "$T/d$i"; ncreq keygen "$T/d$i"; dirs+=("$T/d$i")
	done
	ncreq devlist "$T/alice" alice@a.test 1 "${dirs[@]}" >"$T/dl"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl")" = 201 ]
	devs=()
	for d in "$T/alice" "${dirs[@]}"; do
		dev=$(ncreq devid "$d"); devs+=("$dev")
		ncreq prekeys "$d" 2 >"$T/pk"
		[ "$(sreq "$d" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	done
	ncreq claim "${devs[@]}" "${devs[@]}" >"$T/cl"
	[ "$(stat -c %s "$T/cl")" = 1027 ]
	[ "$(req POST /v1/users/alice/prekeys/claim "$T/cl")" = 200 ]
	ncreq show claim "$T/resp" >"$T/b"
	[ "$(wc -l <"$T/b")" = 64 ]
	# every device twice, each time with another one-time prekey
	[ "$(awk '{print $1}' "$T/b" | sort | uniq -c | awk '$1 != 2' | wc -l)" = 0 ]
	[ "$(awk '{print $1, $3}' "$T/b" | sort -u | wc -l)" = 64 ]
	! grep -q ' -$' "$T/b"
}

@test "claim: one byte over the largest claim is 413" {
	newuser alice
	head -c 1028 /dev/zero >"$T/big"
	[ "$(req POST /v1/users/alice/prekeys/claim "$T/big")" = 413 ]
}

@test "prekeys: the largest upload (7,304 bytes) is taken, one byte more is 413" {
	newuser alice
	dev=$(devid alice)
	ncreq prekeys "$T/alice" 200 >"$T/pk"
	[ "$(stat -c %s "$T/pk")" = 7304 ]
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	cp "$T/pk" "$T/big"; printf 'x' >>"$T/big"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/big")" = 413 ]
}
