#!/usr/bin/env bats
# T1: the attacker reads messages on the wire and in the relay's storage.
# Mechanism: end-to-end AEAD (X3DH + Double Ratchet), sealed sender.
# Shows: the plaintext never appears in captured traffic (every request and
# response body the hostile proxies saw) nor in the relays' data dirs.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	# Plaintexts an attacker would look for; distinctive so grep cannot
	# match by accident.
	export M1="t01-secret-$RANDOM-alpha-quokka" M2="t01-secret-$RANDOM-beta-wombat"
	echo "$M1" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/bob.out"
	echo "$M2" | as bob nc-send alice@a.test
	as alice nc-recv --json >"$W/alice.out"
}

@test "T1: both messages arrived (the capture is of a working conversation)" {
	grep -qF "$M1" "$W/bob.out"
	grep -qF "$M2" "$W/alice.out"
	[ "$(deliveries b | wc -l)" -ge 1 ]
	[ "$(deliveries a | wc -l)" -ge 1 ]
}

@test "T1: no plaintext in any body the network attacker captured" {
	run grep -rlaF -e "$M1" -e "$M2" "$HA_REC" "$HB_REC"
	[ "$status" -eq 1 ]
	# nor in base64 (a lazy "encoding" would still be readable)
	local b1 b2
	b1=$(printf '%s' "$M1" | base64 | cut -c1-16)
	b2=$(printf '%s' "$M2" | base64 | cut -c1-16)
	run grep -rlaF -e "$b1" -e "$b2" "$HA_REC" "$HB_REC"
	[ "$status" -eq 1 ]
}

@test "T1: no plaintext in either relay's storage (database, WAL, any file)" {
	run grep -rlaF -e "$M1" -e "$M2" "$W/relay-a" "$W/relay-b"
	[ "$status" -eq 1 ]
}

@test "T1: the delivered envelope does not name the sender (sealed sender)" {
	local f
	for f in $(deliveries b | awk '{print $1}'); do
		run grep -caF "alice" "$HB_REC/$f.req"
		[ "$output" = 0 ]
	done
}

@test "T1: armored envelopes (nc-send -o -) carry no plaintext either" {
	echo "$M1" | as alice nc-send -o - bob@b.test >"$W/e.asc"
	grep -q '^-----BEGIN NEWCHAT ENVELOPE-----$' "$W/e.asc"
	dearmor <"$W/e.asc" >"$W/e.bin"
	run grep -caF "$M1" "$W/e.bin"
	[ "$output" = 0 ]
}
