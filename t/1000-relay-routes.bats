#!/usr/bin/env bats
# nc-relayd: every route with curl, against a real relay on 127.0.0.1:0.

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

@test "relay: well-known descriptor names the domain and the URL" {
	[ "$(req GET /.well-known/newchat)" = 200 ]
	grep -qx 'newchat 1' "$T/resp"
	grep -qx 'domain a.test' "$T/resp"
	grep -qx "relay $U" "$T/resp"
}

@test "relay: register; a taken name, bad names and bad bodies are refused" {
	newuser alice
	mkdir -p "$T/eve"; ncreq keygen "$T/eve"; ncreq register "$T/eve" >"$T/eve/reg"
	[ "$(req POST /v1/users/alice "$T/eve/reg")" = 409 ]
	grep -q 'name taken' "$T/resp"
	[ "$(req POST /v1/users/Alice "$T/eve/reg")" = 400 ]
	[ "$(req POST /v1/users/a%2fb "$T/eve/reg")" = 404 ]
	long=$(printf 'a%.0s' {1..65})
	[ "$(req POST "/v1/users/$long" "$T/eve/reg")" = 400 ]
	head -c 50 "$T/eve/reg" >"$T/short"
	[ "$(req POST /v1/users/bob "$T/short")" = 400 ]
	[ "$(req POST /v1/users/bob/challenge)" = 404 ]   # nothing was created
	# the taken name still logs in with alice's account
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
}

@test "relay: --invite-only takes single-use invites from --issue-invite" {
	relay_start B b.test --invite-only
	U=$RELAY_URL_B
	mkdir -p "$T/carol"; ncreq keygen "$T/carol"; ncreq register "$T/carol" >"$T/reg0"
	[ "$(req POST /v1/users/carol "$T/reg0")" = 403 ]
	code=$(relay_cmd B --issue-invite)
	[[ $code =~ ^[0-9a-f]{32}$ ]]
	ncreq register "$T/carol" "$code" >"$T/reg1"
	[ "$(req POST /v1/users/carol "$T/reg1")" = 201 ]
	mkdir -p "$T/dave"; ncreq keygen "$T/dave"; ncreq register "$T/dave" "$code" >"$T/reg2"
	[ "$(req POST /v1/users/dave "$T/reg2")" = 403 ]
}

@test "relay: add a device by password login; wrong password is 401 and changes nothing" {
	newuser alice
	mkdir -p "$T/phone" "$T/thief"
	ncreq keygen "$T/phone"; ncreq keygen "$T/thief"
	cp "$T/phone/dev.sk" "$T/thief/dev.sk"   # the thief has the device, not the password
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	cp "$T/resp" "$T/chal"
	ncreq adddev "$T/thief" "$T/phone" alice@a.test "$T/chal" >"$T/bad"
	[ "$(req POST /v1/users/alice/devices "$T/bad")" = 401 ]
	grep -q 'wrong password' "$T/resp"
	dev=$(devid phone)
	[ "$(sreq "$T/phone" GET "/v1/users/alice/devices/$dev/prekeys")" = 401 ]
	# the nonce was consumed by the failed attempt
	ncreq adddev "$T/alice" "$T/phone" alice@a.test "$T/chal" >"$T/good"
	[ "$(req POST /v1/users/alice/devices "$T/good")" = 401 ]
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq adddev "$T/alice" "$T/phone" alice@a.test "$T/resp" >"$T/good"
	[ "$(req POST /v1/users/alice/devices "$T/good")" = 201 ]
	[ "$(sreq "$T/phone" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp")" = "0 0" ]
}

@test "relay: account deletion needs the password and removes everything" {
	newuser alice
	dev=$(devid alice)
	ncreq devlist "$T/alice" alice@a.test 1 >"$T/dl"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl")" = 201 ]
	ncreq idbackup "$T/alice" alice@a.test >"$T/idb"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/idbackup "$T/idb")" = 201 ]
	[ "$(relay_sql A "SELECT count(*) FROM idbackup")" = 1 ]
	echo hello >"$T/env"
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)" "$T/env")" = 201 ]
	mkdir -p "$T/x"; ncreq keygen "$T/x"
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq delete "$T/x" alice@a.test "$T/resp" >"$T/del"
	[ "$(req DELETE /v1/users/alice "$T/del")" = 401 ]
	[ "$(req GET /v1/users/alice/devicelist)" = 200 ]
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq delete "$T/alice" alice@a.test "$T/resp" >"$T/del"
	[ "$(req DELETE /v1/users/alice "$T/del")" = 204 ]
	[ "$(req GET /v1/users/alice/devicelist)" = 404 ]
	[ "$(req POST /v1/users/alice/challenge)" = 404 ]
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)" "$T/env")" = 404 ]
	relay_sql A "SELECT (SELECT count(*) FROM users) +
	    (SELECT count(*) FROM devices) + (SELECT count(*) FROM mail) +
	    (SELECT count(*) FROM nonces) + (SELECT count(*) FROM otpk) +
	    (SELECT count(*) FROM idbackup)" >"$T/n"
	[ "$(cat "$T/n")" = 0 ]
	newuser alice   # the name is free again
}

@test "relay: identity-key backup: signed PUT, checked shape and key; add-device answers with it" {
	newuser alice
	mkdir -p "$T/phone" "$T/o"; ncreq keygen "$T/phone"; ncreq keygen "$T/o"
	# before any backup, adding a device answers 201 with an empty body
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq adddev "$T/alice" "$T/phone" alice@a.test "$T/resp" >"$T/add"
	[ "$(req POST /v1/users/alice/devices "$T/add")" = 201 ]
	[ ! -s "$T/resp" ]
	ncreq devlist "$T/alice" alice@a.test 1 >"$T/dl"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl")" = 201 ]
	ncreq idbackup "$T/alice" alice@a.test >"$T/idb"
	[ "$(stat -c %s "$T/idb")" = 106 ]
	[ "$(req PUT /v1/users/alice/idbackup "$T/idb")" = 401 ]          # unsigned
	[ "$(sreq "$T/o" PUT /v1/users/alice/idbackup "$T/idb")" = 401 ]  # not a device
	head -c 105 "$T/idb" >"$T/short"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/idbackup "$T/short")" = 400 ]
	head -c 300 /dev/zero >"$T/big"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/idbackup "$T/big")" = 413 ]
	ncreq idbackup "$T/o" alice@a.test >"$T/other"      # another identity key
	[ "$(sreq "$T/alice" PUT /v1/users/alice/idbackup "$T/other")" = 403 ]
	grep -q 'another identity key' "$T/resp"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/idbackup "$T/idb")" = 201 ]
	# a password login answers with it, byte for byte; a known device too
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq adddev "$T/alice" "$T/phone" alice@a.test "$T/resp" >"$T/add"
	[ "$(req POST /v1/users/alice/devices "$T/add")" = 201 ]
	cmp "$T/resp" "$T/idb"
	# a wrong password gets 401 and not the backup
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq adddev "$T/o" "$T/o" alice@a.test "$T/resp" >"$T/bad"
	[ "$(req POST /v1/users/alice/devices "$T/bad")" = 401 ]
	! cmp -s "$T/resp" "$T/idb"
}

@test "relay: a device added by password may sign the first list naming it, nothing else" {
	newuser alice
	mkdir -p "$T/phone" "$T/tab" "$T/o"
	ncreq keygen "$T/phone"; ncreq keygen "$T/tab"; ncreq keygen "$T/o"
	cp "$T/alice/id.sk" "$T/phone/id.sk"; cp "$T/alice/id.sk" "$T/tab/id.sk"
	ncreq devlist "$T/alice" alice@a.test 1 >"$T/dl1"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl1")" = 201 ]
	for d in phone tab; do
		[ "$(req POST /v1/users/alice/challenge)" = 200 ]
		ncreq adddev "$T/alice" "$T/$d" alice@a.test "$T/resp" >"$T/add"
		[ "$(req POST /v1/users/alice/devices "$T/add")" = 201 ]
	done
	pdev=$(devid phone)
	# not listed yet: it cannot sign anything else
	[ "$(sreq "$T/phone" GET "/v1/users/alice/devices/$pdev/prekeys")" = 401 ]
	# a list that does not name the signer: refused
	ncreq devlist "$T/alice" alice@a.test 2 "$T/tab" >"$T/dl2tab"
	[ "$(sreq "$T/phone" PUT /v1/users/alice/devicelist "$T/dl2tab")" = 401 ]
	# a stranger named in a list another identity key signs: refused (a
	# list the pinned key signs lists it: the next test)
	ncreq devlist "$T/o" alice@a.test 2 "$T/o" >"$T/dl2o"
	[ "$(sreq "$T/o" PUT /v1/users/alice/devicelist "$T/dl2o")" = 401 ]
	# the phone signs the list naming it: accepted, and it is current now
	ncreq devlist "$T/alice" alice@a.test 2 "$T/phone" >"$T/dl2"
	[ "$(sreq "$T/phone" PUT /v1/users/alice/devicelist "$T/dl2")" = 201 ]
	[ "$(sreq "$T/phone" GET "/v1/users/alice/devices/$pdev/prekeys")" = 200 ]
	# dropped from a later list, it cannot list itself again
	ncreq devlist "$T/alice" alice@a.test 3 >"$T/dl3"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl3")" = 201 ]
	ncreq devlist "$T/alice" alice@a.test 4 "$T/phone" >"$T/dl4"
	[ "$(sreq "$T/phone" PUT /v1/users/alice/devicelist "$T/dl4")" = 401 ]
	# ... until it is added by password again
	[ "$(req POST /v1/users/alice/challenge)" = 200 ]
	ncreq adddev "$T/alice" "$T/phone" alice@a.test "$T/resp" >"$T/add"
	[ "$(req POST /v1/users/alice/devices "$T/add")" = 201 ]
	[ "$(sreq "$T/phone" PUT /v1/users/alice/devicelist "$T/dl4")" = 201 ]
}

@test "relay: a device it does not know lists itself by a list the pinned identity key signs (protocol.md 1.3)" {
	newuser alice
	mkdir -p "$T/new" "$T/o"
	ncreq keygen "$T/new"; ncreq keygen "$T/o"
	cp "$T/alice/id.sk" "$T/new/id.sk"
	# no list at the relay yet: nothing is pinned, nothing joins
	ncreq devlist "$T/alice" alice@a.test 1 "$T/new" >"$T/dl1n"
	[ "$(sreq "$T/new" PUT /v1/users/alice/devicelist "$T/dl1n")" = 401 ]
	ncreq devlist "$T/alice" alice@a.test 1 >"$T/dl1"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl1")" = 201 ]
	ndev=$(devid new)
	# signed by another identity key: refused, the relay's list unchanged
	ncreq devlist "$T/o" alice@a.test 2 "$T/new" >"$T/dl2o"
	[ "$(sreq "$T/new" PUT /v1/users/alice/devicelist "$T/dl2o")" = 401 ]
	# a list that does not name the signer: refused
	ncreq devlist "$T/alice" alice@a.test 2 "$T/o" >"$T/dl2x"
	[ "$(sreq "$T/new" PUT /v1/users/alice/devicelist "$T/dl2x")" = 401 ]
	# the pinned key's list naming it: accepted, and it is current now
	ncreq devlist "$T/alice" alice@a.test 2 "$T/new" >"$T/dl2"
	[ "$(sreq "$T/new" PUT /v1/users/alice/devicelist "$T/dl2")" = 201 ]
	[ "$(sreq "$T/new" GET "/v1/users/alice/devices/$ndev/prekeys")" = 200 ]
	# an old version is still refused (no rollback through this door)
	ncreq keygen "$T/o"; cp "$T/alice/id.sk" "$T/o/id.sk"
	ncreq devlist "$T/alice" alice@a.test 2 "$T/o" >"$T/dl2b"
	[ "$(sreq "$T/o" PUT /v1/users/alice/devicelist "$T/dl2b")" = 409 ]
}

@test "relay: device lists: strictly increasing versions, pinned identity, signed" {
	newuser alice
	ncreq devlist "$T/alice" alice@a.test 1 >"$T/dl1"
	ncreq devlist "$T/alice" alice@a.test 2 >"$T/dl2"
	[ "$(req GET /v1/users/alice/devicelist)" = 404 ]
	[ "$(req PUT /v1/users/alice/devicelist "$T/dl1")" = 401 ]   # not signed
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl1")" = 201 ]
	[ "$(req GET /v1/users/alice/devicelist)" = 200 ]
	cmp "$T/resp" "$T/dl1"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl1")" = 409 ]
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl2")" = 201 ]
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl1")" = 409 ]
	grep -q 'not newer' "$T/resp"
	req GET /v1/users/alice/devicelist >/dev/null
	cmp "$T/resp" "$T/dl2"
	# another identity key, a list for another user, a broken signature
	cp "$T/alice/id.sk" "$T/id.keep"; mkdir -p "$T/o"; ncreq keygen "$T/o"
	cp "$T/o/id.sk" "$T/alice/id.sk"
	ncreq devlist "$T/alice" alice@a.test 3 >"$T/dl3"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl3")" = 403 ]
	cp "$T/id.keep" "$T/alice/id.sk"
	ncreq devlist "$T/alice" bob@a.test 4 >"$T/dlb"
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dlb")" = 400 ]
	ncreq devlist "$T/alice" alice@a.test 5 >"$T/dl5"
	last=$(tail -c 1 "$T/dl5" | od -An -tu1 | tr -d ' ')   # flip the signature's last byte
	printf "\\x$(printf %02x $(( (last + 1) % 256 )))" |
	    dd of="$T/dl5" bs=1 seek=$(( $(stat -c %s "$T/dl5") - 1 )) conv=notrunc 2>/dev/null
	[ "$(tail -c 1 "$T/dl5" | od -An -tu1 | tr -d ' ')" != "$last" ]
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl5")" = 400 ]
	req GET /v1/users/alice/devicelist >/dev/null
	cmp "$T/resp" "$T/dl2"
}

@test "relay: prekeys upload, count, claim; only the device itself may upload" {
	newuser alice
	newuser bob
	dev=$(devid alice)
	ncreq prekeys "$T/alice" 10 >"$T/pk"
	[ "$(sreq "$T/bob" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 401 ]
	[ "$(req PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 401 ]
	# a signed prekey whose signature does not verify: 400, nothing kept
	cp "$T/pk" "$T/badpk"
	b=$(od -An -tu1 -j 50 -N1 "$T/pk" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" |
	    dd of="$T/badpk" bs=1 seek=50 conv=notrunc status=none
	run cmp -s "$T/pk" "$T/badpk"
	[ "$status" -eq 1 ]
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/badpk")" = 400 ]
	grep -q 'bad signature' "$T/resp"
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp")" = "0 0" ]
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp")" = "1 10" ]
	[ "$(req POST /v1/users/alice/prekeys/claim)" = 200 ]
	[ "$(ncreq show claim "$T/resp")" = "$dev 1 1" ]
	ncreq claim "$dev" >"$T/cl"
	[ "$(req POST /v1/users/alice/prekeys/claim "$T/cl")" = 200 ]
	[ "$(ncreq show claim "$T/resp")" = "$dev 1 2" ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp")" = "1 8" ]
	ncreq claim "$(ncreq hex 16)" >"$T/cl"
	[ "$(req POST /v1/users/alice/prekeys/claim "$T/cl")" = 404 ]
	[ "$(req POST /v1/users/nobody/prekeys/claim)" = 404 ]
}

@test "relay: 8 processes claiming one-time prekeys at once get distinct keys" {
	# 80 claims of one device: past the per-device claim throttle, which
	# is off with the other anonymous limits (this is about concurrency)
	relay_start C c.test --rate-anon 0
	U=$RELAY_URL_C
	newuser alice
	dev=$(devid alice)
	ncreq prekeys "$T/alice" 100 >"$T/pk"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	pids=()
	for p in 1 2 3 4 5 6 7 8; do
		( for i in 1 2 3 4 5 6 7 8 9 10; do
			curl -s -X POST "$U/v1/users/alice/prekeys/claim" -o "$T/c.$p.$i"
		  done ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for f in "$T"/c.*; do ncreq show claim "$f"; done | awk '{print $3}' >"$T/ids"
	[ "$(wc -l <"$T/ids")" = 80 ]
	! grep -qx -- - "$T/ids"
	[ "$(sort -u "$T/ids" | wc -l)" = 80 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp")" = "1 20" ]
}

@test "relay: mailbox delivery is idempotent by envelope id; list after a cursor; ack deletes" {
	newuser alice
	dev=$(devid alice)
	e1=$(ncreq hex 16); e2=$(ncreq hex 16)
	head -c 400 /dev/urandom >"$T/m1"; head -c 300 /dev/urandom >"$T/m2"
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e1" "$T/m1")" = 201 ]
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e1" "$T/m1")" = 201 ]
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e1" "$T/m2")" = 409 ]
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e2" "$T/m2")" = 201 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox")" = 200 ]
	ncreq show mailbox "$T/resp" >"$T/list"
	[ "$(wc -l <"$T/list")" = 2 ]
	[ "$(awk 'NR==1{print $2, $3}' "$T/list")" = "$e1 400" ]
	[ "$(awk 'NR==2{print $2, $3}' "$T/list")" = "$e2 300" ]
	c1=$(awk 'NR==1{print $1}' "$T/list")
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox?after=$c1")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | awk '{print $2}')" = "$e2" ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox?limit=1")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | wc -l)" = 1 ]
	ncreq ack "$e1" "$(ncreq hex 16)" >"$T/ack"
	[ "$(req POST "/v1/users/alice/devices/$dev/mailbox/ack" "$T/ack")" = 401 ]
	[ "$(sreq "$T/alice" POST "/v1/users/alice/devices/$dev/mailbox/ack" "$T/ack")" = 200 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | awk '{print $2}')" = "$e2" ]
	# unknown device, empty and oversized envelopes, bad ids
	[ "$(req PUT "/v1/users/alice/devices/$(ncreq hex 16)/mailbox/$e1" "$T/m1")" = 404 ]
	[ "$(req PUT "/v1/users/bob/devices/$dev/mailbox/$e1" "$T/m1")" = 404 ]
	: >"$T/empty"
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)" "$T/empty")" = 400 ]
	head -c 262145 /dev/zero >"$T/big"
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)" "$T/big")" = 413 ]
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/XYZ" "$T/m1")" = 400 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox?wait=61")" = 400 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox?bogus=1")" = 400 ]
}

@test "relay: a device dropped from the device list gets 410; batch delivery checks the version" {
	newuser alice
	a=$(devid alice)
	adddev alice phone
	p=$(devid phone)
	echo hi >"$T/m"
	[ "$(req PUT "/v1/users/alice/devices/$p/mailbox/$(ncreq hex 16)" "$T/m")" = 201 ]
	ncreq devlist "$T/alice" alice@a.test 7 >"$T/dl"   # alice's device only
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl")" = 201 ]
	[ "$(req PUT "/v1/users/alice/devices/$p/mailbox/$(ncreq hex 16)" "$T/m")" = 410 ]
	[ "$(sreq "$T/phone" GET "/v1/users/alice/devices/$p/prekeys")" = 401 ]
	ncreq deliver 7 "$a:$(ncreq hex 16):$T/m" "$a:$(ncreq hex 16):$T/m" >"$T/b7"
	ncreq deliver 6 "$a:$(ncreq hex 16):$T/m" >"$T/b6"
	[ "$(req POST /v1/users/alice/deliver "$T/b6")" = 409 ]
	[ "$(ncreq show version "$T/resp")" = 7 ]
	[ "$(req POST /v1/users/alice/deliver "$T/b7")" = 201 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$a/mailbox")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | wc -l)" = 2 ]
	ncreq deliver 7 "$a:$(ncreq hex 16):$T/m" "$p:$(ncreq hex 16):$T/m" >"$T/bp"
	[ "$(req POST /v1/users/alice/deliver "$T/bp")" = 410 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$a/mailbox")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | wc -l)" = 2 ]   # all or nothing
}

# gbatch VER_A VER_B [ORDER]: a group batch (protocol.md 1.6) for alice's
# and bob's devices ($a, $b) with a 300-byte blob; ORDER "ba" puts bob first.
gbatch() {
	python3 - "$a" "$b" "$1" "$2" "${3:-ab}" <<'PY'
import struct, sys
a, b, va, vb, order = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
users = {"a": (b"alice", va, a), "b": (b"bob", vb, b)}
body = b"\x01" + struct.pack(">I", 300) + bytes(range(256)) + bytes(44) + struct.pack(">H", 2)
for k in order:
    name, v, dev = users[k]
    body += struct.pack(">H", len(name)) + name + struct.pack(">Q", v) + b"\x01" + dev + bytes([7]) * 76
sys.stdout.buffer.write(body)
PY
}

@test "relay: a group batch fills every mailbox in one commit, idempotent by id" {
	newuser alice; newuser bob
	a=$(devid alice) b=$(devid bob)
	e=$(ncreq hex 16)
	gbatch 0 0 >"$T/gb"
	[ "$(req PUT "/v1/batches/$e" "$T/gb")" = 201 ]
	[ "$(req PUT "/v1/batches/$e" "$T/gb")" = 201 ]   # again: stored once
	for u in alice:$a bob:$b; do
		[ "$(sreq "$T/${u%%:*}" GET "/v1/users/${u%%:*}/devices/${u#*:}/mailbox")" = 200 ]
		ncreq show mailbox "$T/resp" >"$T/list"
		[ "$(wc -l <"$T/list")" = 1 ]
		[ "$(awk '{print $2, $3}' "$T/list")" = "$e 413" ]   # 113 + the blob
	done
	# one stale version: nothing stored for anyone; out of order: 400
	gbatch 0 5 >"$T/gb5"
	[ "$(req PUT "/v1/batches/$(ncreq hex 16)" "$T/gb5")" = 409 ]
	gbatch 0 0 ba >"$T/gba"
	[ "$(req PUT "/v1/batches/$(ncreq hex 16)" "$T/gba")" = 400 ]
	[ "$(req PUT /v1/batches/XYZ "$T/gb")" = 400 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$a/mailbox")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | wc -l)" = 1 ]
	# the same id with other bytes for a mailbox (a header changed): 409
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; sys.stdout.buffer.write(b)' "$T/gb" >"$T/gbx"
	[ "$(req PUT "/v1/batches/$e" "$T/gbx")" = 409 ]
}

@test "relay: a long-poll returns within 1 s of a delivery" {
	newuser alice
	dev=$(devid alice)
	p="/v1/users/alice/devices/$dev/mailbox?wait=20"
	ncreq sign "$T/alice" GET "$p" >"$T/h"
	( curl -s -H @"$T/h" "$U$p" -o "$T/lp"; date +%s.%N >"$T/t_end" ) &
	lp=$!
	sleep 1
	echo ping >"$T/m"
	e=$(ncreq hex 16)
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e" "$T/m")" = 201 ]
	# from the 201 (the commit wakes the poll before it answers): the
	# time of a loaded machine's process start-ups is not the relay's
	date +%s.%N >"$T/t_put"
	wait "$lp"
	[ "$(ncreq show mailbox "$T/lp" | awk '{print $2}')" = "$e" ]
	awk -v a="$(cat "$T/t_put")" -v b="$(cat "$T/t_end")" 'BEGIN{exit !(b - a < 1.0)}'
}

@test "relay: a long-poll with nothing to list ends after wait= seconds, empty" {
	newuser alice
	dev=$(devid alice)
	s=$(date +%s.%N)
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox?wait=1")" = 200 ]
	e=$(date +%s.%N)
	[ "$(ncreq show mailbox "$T/resp" | wc -l)" = 0 ]
	# held about wait= (not answered at once, nor held long past it);
	# the margin is for sanitizers on a loaded machine
	awk -v a="$s" -v b="$e" 'BEGIN{exit !(b - a >= 0.9 && b - a < 10)}'
}

@test "relay: signed requests: replays, stale times and other devices are refused" {
	newuser alice
	dev=$(devid alice)
	p="/v1/users/alice/devices/$dev/prekeys"
	ncreq sign "$T/alice" GET "$p" >"$T/h"
	[ "$(req GET "$p" "" -H @"$T/h")" = 200 ]
	[ "$(req GET "$p" "" -H @"$T/h")" = 401 ]   # a nonce each: reads cannot repeat either
	ncreq prekeys "$T/alice" 1 >"$T/pk"
	ncreq sign "$T/alice" PUT "$p" "$T/pk" >"$T/h"
	[ "$(req PUT "$p" "$T/pk" -H @"$T/h")" = 201 ]
	[ "$(req PUT "$p" "$T/pk" -H @"$T/h")" = 401 ]
	grep -q replayed "$T/resp"
	NCREQ_TIME=$(( $(date +%s) - 400 )) ncreq sign "$T/alice" GET "$p" >"$T/h"
	[ "$(req GET "$p" "" -H @"$T/h")" = 401 ]
	ncreq sign "$T/alice" GET "$p?x" >"$T/h"
	[ "$(req GET "$p" "" -H @"$T/h")" = 401 ]
}

@test "relay: blobs: put, get, conflict, delete by token, expiry, size limit, rate limit" {
	relay_stop A
	relay_start A a.test --blob-max 1048576
	U=$RELAY_URL_A
	id=$(ncreq hex 32); tok=$(ncreq hex 32)
	dh=$(printf '%s' "$tok" | xxd -r -p | b2sum -l 256 | cut -d' ' -f1)
	head -c 700000 /dev/urandom >"$T/blob"
	[ "$(req PUT "/v1/blobs/$id" "$T/blob")" = 400 ]   # no delete hash
	[ "$(req PUT "/v1/blobs/$id" "$T/blob" -H "X-NC-Delete-Hash: $dh")" = 201 ]
	[ "$(req PUT "/v1/blobs/$id" "$T/blob" -H "X-NC-Delete-Hash: $dh")" = 409 ]
	[ "$(req GET "/v1/blobs/$id")" = 200 ]
	cmp "$T/resp" "$T/blob"
	[ "$(req DELETE "/v1/blobs/$id" "" -H "X-NC-Delete-Token: $(ncreq hex 32)")" = 403 ]
	[ "$(req DELETE "/v1/blobs/$id" "" -H "X-NC-Delete-Token: $tok")" = 204 ]
	[ "$(req GET "/v1/blobs/$id")" = 404 ]
	[ "$(ls "$RELAY_DIR_A/blobs" | wc -l)" = 0 ]
	id2=$(ncreq hex 32)
	[ "$(req PUT "/v1/blobs/$id2" "$T/blob" -H "X-NC-Delete-Hash: $dh" -H 'X-NC-Expires: 1')" = 201 ]
	sleep 2.1
	[ "$(req GET "/v1/blobs/$id2")" = 404 ]
	head -c 1048577 /dev/zero >"$T/big"
	[ "$(req PUT "/v1/blobs/$(ncreq hex 32)" "$T/big" -H "X-NC-Delete-Hash: $dh")" = 413 ]
	[ "$(req GET /v1/blobs/nothex)" = 400 ]
	# uploads are anonymous, so rate limited per address (burst 2 x n)
	relay_stop A
	relay_start A a.test --rate-anon 1
	U=$RELAY_URL_A
	echo small >"$T/small"
	args=()
	for i in 1 2 3 4 5 6 7 8; do
		args+=(-T "$T/small" "$U/v1/blobs/$(ncreq hex 32)")
	done
	curl -s -D "$T/hdrs" -o /dev/null -H "X-NC-Delete-Hash: $dh" "${args[@]}"
	[ "$(grep -c '^HTTP/1.1 201' "$T/hdrs")" -ge 2 ]
	[ "$(grep -c '^HTTP/1.1 429' "$T/hdrs")" -ge 1 ]
	grep -qi '^Retry-After: [0-9]' "$T/hdrs"
}

@test "relay: --tls-cert and --tls-key serve HTTPS" {
	command -v openssl >/dev/null || skip "openssl not installed"
	openssl req -x509 -newkey ed25519 -keyout "$T/key.pem" -out "$T/cert.pem" \
	    -days 2 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	relay_start S s.test --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
	[[ $RELAY_URL_S == https://127.0.0.1:* ]]
	curl -s --cacert "$T/cert.pem" "$RELAY_URL_S/.well-known/newchat" >"$T/wk"
	grep -qx 'domain s.test' "$T/wk"
	! curl -s "$RELAY_URL_S/.well-known/newchat" >/dev/null   # unverified: refused
}

@test "relay: backup records in one batch: signed, strict, all stored at once, a retry stores nothing twice, even into a full slot" {
	relay_stop A
	relay_start A a.test --backup-max 4
	U=$RELAY_URL_A
	newuser alice
	# u8 1, u16 n, n x (u32 len, record)
	batch() {   # OUT N [TRAILER]: N records of 40..40+N bytes
		python3 -c 'import sys, struct
n = int(sys.argv[2]); r = [bytes([i + 1]) * (40 + i) for i in range(n)]
sys.stdout.buffer.write(b"\x01" + struct.pack(">H", n) +
    b"".join(struct.pack(">I", len(x)) + x for x in r) + sys.argv[3].encode())' x "$2" "${3:-}" >"$1"
	}
	batch "$T/b3" 3
	[ "$(req POST /v1/users/alice/backup/records "$T/b3")" = 401 ]   # unsigned
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/b3")" = 201 ]
	[ "$(relay_sql A "SELECT count(*) FROM backup_rec")" = 3 ]
	# the same again (a retry), and one more beside them: only that one is new
	batch "$T/b4" 4
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/b3")" = 201 ]
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/b4")" = 201 ]
	[ "$(relay_sql A "SELECT count(*) FROM backup_rec")" = 4 ]
	# each under its BLAKE2b-256, as the single PUT keys it
	printf '\004%.0s' $(seq 43) >"$T/r4"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/backup/records/$(b2sum -l 256 "$T/r4" | cut -c1-64)" "$T/r4")" = 201 ]
	[ "$(relay_sql A "SELECT count(*) FROM backup_rec")" = 4 ]
	# the slot is exactly full (--backup-max 4): records held already are
	# taken again, by either route; a new one is not, nor its batch
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/b4")" = 201 ]
	batch "$T/b5" 5
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/b5")" = 507 ]
	printf '\005%.0s' $(seq 44) >"$T/r5"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/backup/records/$(b2sum -l 256 "$T/r5" | cut -c1-64)" "$T/r5")" = 507 ]
	[ "$(relay_sql A "SELECT count(*) FROM backup_rec")" = 4 ]
	# strict: bytes left over, no record, another version, an empty record
	batch "$T/bad" 2 x
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/bad")" = 400 ]
	printf '\001\000\000' >"$T/bad"
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/bad")" = 400 ]
	printf '\002\000\001\000\000\000\001x' >"$T/bad"
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/bad")" = 400 ]
	printf '\001\000\001\000\000\000\000' >"$T/bad"
	[ "$(sreq "$T/alice" POST /v1/users/alice/backup/records "$T/bad")" = 400 ]
	grep -q 'bad backup batch' "$T/resp"
	head -c $(( (8 << 20) + 1 )) /dev/zero >"$T/big"
	[ "$(req POST /v1/users/alice/backup/records "$T/big")" = 413 ]
	[ "$(relay_sql A "SELECT count(*) FROM backup_rec")" = 4 ]
	# reading them back in one request needs the backup's token (t/2750
	# reads through it); its body is at most 1,024 hashes
	python3 -c 'import sys; sys.stdout.buffer.write(b"\x01\x00\x01" + bytes(32))' >"$T/f1"
	[ "$(req POST /v1/users/alice/backup/fetch "$T/f1")" = 401 ]
	head -c $(( 3 + 32 * 1024 + 1 )) /dev/zero >"$T/fbig"
	[ "$(req POST /v1/users/alice/backup/fetch "$T/fbig")" = 413 ]
}

@test "relay: link box long-poll: a take with wait= answers when the message is put, 204 when the time runs out" {
	newuser alice
	box=$(ncreq hex 16)
	[ "$(req PUT "/v1/users/alice/link/$box")" = 201 ]
	[ "$(req GET "/v1/users/alice/link/$box?wait=61")" = 400 ]
	[ "$(req GET "/v1/users/alice/link/$box?after=1")" = 400 ]
	[ "$(req GET "/v1/users/alice/link/$box")" = 204 ]   # nothing yet, at once
	t0=$(date +%s%N)
	[ "$(req GET "/v1/users/alice/link/$box?wait=1")" = 204 ]
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 900 ]
	# a take waiting, then the put: it answers with the message at once
	curl -s -o "$T/took" -w '%{http_code}' "$U/v1/users/alice/link/$box?wait=30" >"$T/code" &
	w=$!
	sleep 0.3   # the take is held by then (were it not, it would get 200 all the same)
	echo sealed-link-message >"$T/msg"
	t0=$(date +%s%N)
	[ "$(sreq "$T/alice" POST "/v1/users/alice/link/$box" "$T/msg")" = 201 ]
	wait "$w"
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ]
	[ "$(cat "$T/code")" = 200 ]
	cmp "$T/took" "$T/msg"
	[ "$(req GET "/v1/users/alice/link/$box?wait=5")" = 410 ]   # taken once
}
