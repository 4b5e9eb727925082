#!/usr/bin/env bats
# nc-relayd: a device's counter (protocol.md 1.10, sessions that heal):
# compare and set, by that device only; a retry of a set whose answer was
# lost succeeds again; any other value is 409 with what the relay holds.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
	relay_start A a.test
	U=$RELAY_URL_A
	newuser alice
	newuser bob
	dev=$(devid alice)
}

teardown() {
	relay_stop_all
}

# body FILE FLAGS N TAGHEX NEXTHEX
body() {
	printf '01%02x%016x%s%s' "$2" "$3" "$4" "$5" | xxd -r -p >"$1"
}

Z=00000000000000000000000000000000
A1=11111111111111111111111111111111
A2=22222222222222222222222222222222
B1=33333333333333333333333333333333

@test "counter: (0, zero) moves to (1, next); the same request again is 200 (answer lost)" {
	body "$T/c0" 0 0 "$Z" "$A1"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 200 ]
	[ "$(xxd -p "$T/resp" | tr -d '\n')" = "01$(printf %016x 1)$A1" ]
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 200 ]
	[ "$(xxd -p "$T/resp" | tr -d '\n')" = "01$(printf %016x 1)$A1" ]
	body "$T/c1" 0 1 "$A1" "$A2"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c1")" = 200 ]
	[ "$(xxd -p "$T/resp" | tr -d '\n')" = "01$(printf %016x 2)$A2" ]
}

@test "counter: a stale value (a restored copy) is 409 with the relay's; nothing changes" {
	body "$T/c0" 0 0 "$Z" "$A1"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 200 ]
	body "$T/c1" 0 1 "$A1" "$A2"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c1")" = 200 ]
	# the copy still holds (1, A1) and asks for another next
	body "$T/stale" 0 1 "$A1" "$B1"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/stale")" = 409 ]
	[ "$(xxd -p "$T/resp" | tr -d '\n')" = "01$(printf %016x 2)$A2" ]
	# same number, other tag: 409 too
	body "$T/forged" 0 2 "$B1" "$B1"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/forged")" = 409 ]
	[ "$(xxd -p "$T/resp" | tr -d '\n')" = "01$(printf %016x 2)$A2" ]
}

@test "counter: only the device itself; bad bodies are 400" {
	body "$T/c0" 0 0 "$Z" "$A1"
	[ "$(req POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 401 ]
	[ "$(sreq "$T/bob" POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 401 ]
	body "$T/flags" 2 0 "$Z" "$A1"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/flags")" = 400 ]
	head -c 41 "$T/c0" >"$T/short"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/short")" = 400 ]
	{ cat "$T/c0"; printf x; } >"$T/long"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/long")" = 400 ]
	# nothing moved
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 200 ]
}

@test "counter: flag 1 drops the one-time prekeys the relay holds for the device" {
	ncreq prekeys "$T/alice" 5 >"$T/pk"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp" | awk '{print $2}')" = 5 ] || ncreq show count "$T/resp"
	body "$T/c0" 1 0 "$Z" "$A1"
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/counter" "$T/c0")" = 200 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	ncreq show count "$T/resp"
	[[ "$(ncreq show count "$T/resp")" == *" 0"* ]]
}
