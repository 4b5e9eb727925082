#!/usr/bin/env bats
# nc-send names the real reason of a temporary failure instead of "relay
# unreachable": a relay's 503 (full disk) or 429 is queued (75) with the
# relay's own words, on stderr, in --json and in --queue; a refusal that is
# not temporary (403) keeps the message queued, prints its id and exits
# with its own status. Uses the threat world's proxy in front of b.test.

bats_require_minimum_version 1.5.0
load threat/lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	# a session first, so that only the delivery is refused below
	echo "hello" | as alice nc-send bob@b.test >/dev/null
	as bob nc-recv >/dev/null
}

ID='^[0-9a-f]{32}$'

refuse() {   # refuse STATUS BODY: b.test answers deliveries so
	printf '%s' "$2" >"$W/refusal"
	hostile b "replace POST /v1/users/bob/deliver status=$1 file=$W/refusal"
}

flush_after() {
	hostile b ""
	as alice nc-send --flush
	run as bob nc-recv
}

@test "a relay's 503 'disk full': queued, 75, its words named; --queue shows them" {
	refuse 503 "disk full"
	run --separate-stderr as alice nc-send bob@b.test <<<"full disk"
	echo "$stderr"
	[ "$status" -eq 75 ]
	[[ "$output" =~ $ID ]]
	[ "$stderr" = "nc-send: bob@b.test: queued: relay of b.test answered 503 disk full; nc-send --flush retries, nc-send --queue shows it" ]
	[[ "$stderr" != *unreachable* ]]
	run as alice nc-send --queue
	[[ "$output" == "$(printf '%s' "${output%% *}") bob@b.test "*" queued relay of b.test answered 503 disk full" ]]
	flush_after
	[ "$output" = "alice@a.test: full disk" ]
}

@test "a relay's 429: queued, 75, named in --json" {
	refuse 429 "too many requests"
	run --separate-stderr as alice nc-send --json bob@b.test <<<"busy"
	[ "$status" -eq 75 ]
	printf '%s\n' "$output" | jq -e '.state == "queued" and .exit == 75 and
	    .reason == "relay of b.test answered 429 too many requests"'
	flush_after
	[ "$output" = "alice@a.test: busy" ]
}

@test "a refusal that is not temporary (403): the message waits, its id is printed, exit 77" {
	refuse 403 "forbidden"
	run --separate-stderr as alice nc-send bob@b.test <<<"refused"
	echo "$stderr"
	[ "$status" -eq 77 ]
	[[ "$output" =~ $ID ]]
	[ "$stderr" = "nc-send: bob@b.test: relay of b.test answered 403 forbidden; it waits in the outbox (nc-send --queue, --cancel ID)" ]
	run as alice nc-send --queue --json
	printf '%s\n' "$output" | jq -e '.error == "relay of b.test answered 403 forbidden"'
	flush_after
	[ "$output" = "alice@a.test: refused" ]
}
