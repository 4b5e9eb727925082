#!/usr/bin/env bats
# One-time prekeys cannot be drained anonymously (security review, issue 14
# item 3, the relay's part): claims are counted per target device, 20 at
# once then one per 5 minutes; past that the relay answers 429 with
# Retry-After and hands out nothing. Other devices are not affected.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	mkuser carol carol@b.test
}
teardown_file() { world_down; }
setup() { world_load; }

# claim USER: one anonymous claim of every device; prints the HTTP status
claim() {
	curl -s -o "$W/claim.out" -D "$W/claim.hdr" -w '%{http_code}' \
	    -X POST --data-binary '' "$RELAY_URL_b/v1/users/$1/prekeys/claim"
}

@test "claim throttle: 20 claims of bob's device, then 429 with Retry-After, nothing handed out" {
	for i in $(seq 1 20); do
		code=$(claim bob)
		[ "$code" = 200 ] || { echo "claim $i: $code"; false; }
	done
	# bundle: u8 1, u16 n, dev[16], u32, spk[32], sig[64], u8 has_otpk
	[ "$(od -An -tu1 -j 119 -N1 "$W/claim.out" | tr -d ' ')" = 1 ]
	code=$(claim bob)
	echo "claim 21: $code"; cat "$W/claim.hdr"
	[ "$code" = 429 ]
	grep -qi '^retry-after: [1-9]' "$W/claim.hdr"
	# the throttle is per device, not per caller: another address-free
	# client is refused too, and the pool keeps what is left
	[ "$(claim bob)" = 429 ]
}

@test "claim throttle: another user's device is not affected" {
	[ "$(claim carol)" = 200 ]
}

@test "claim throttle: a sender that meets it queues (75) and says when, nothing lost" {
	run as alice nc-send bob@b.test <<<"after-drain"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$(printf '%s\n' "$output" | grep -c '^nc-send:')" -eq 1 ]
	run as alice nc-send --queue
	[[ "$output" == *bob@b.test* ]]
}
