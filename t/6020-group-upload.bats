#!/usr/bin/env bats
# One upload per provider (issue 17 item 4, protocol.md 1.6.1): a group
# message goes once to each relay that hosts members, with a sealed header
# for each device; every device reads it once; the relay's batch route is
# idempotent, bounded (413) and blind; a hostile header is an alarm, not
# a crash. Relays behind recording proxies (t/threat/lib.bash) count the
# uploads.

load threat/lib

# Batches here hold a few devices: their headers sealed in two threads all
# the same, as from 64 devices on (lib/app/groupbatch.c), so that this
# file, run under ThreadSanitizer too, covers that path.
export NC_GROUP_THREADS=2

world_setup() {
	user alice alice@a.test
	user alice2 alice@a.test      # alice's second device
	as alice nc-recv >/dev/null   # alice's first device learns of it
	user bob bob@b.test
	user bob2 bob@b.test          # bob's second device
	user carol carol@b.test
	as alice nc-group create club bob@b.test carol@b.test >"$W/gid"
	local u
	for u in alice2 bob bob2 carol; do
		as "$u" nc-recv >/dev/null
	done
	# the first message carries alice's sender key (pairwise) too
	echo "first" | as alice nc-send -g club >/dev/null
	for u in alice2 bob bob2 carol; do
		as "$u" nc-recv >/dev/null
	done
}

batches() { grep -c " PUT /v1/batches/[0-9a-f]* 201" "$W/rec-$1/log" || true; }
pairwise() { deliveries "$1" | grep -c . || true; }

@test "group upload: one PUT per relay, no pairwise envelope, every device once" {
	local a0 b0 da db u
	a0=$(batches a) b0=$(batches b) da=$(pairwise a) db=$(pairwise b)
	run as alice nc-send -g club <<<"once each"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(batches a)" -eq $((a0 + 1)) ]
	[ "$(batches b)" -eq $((b0 + 1)) ]
	[ "$(pairwise a)" -eq "$da" ]
	[ "$(pairwise b)" -eq "$db" ]
	for u in alice2 bob bob2 carol; do
		run as "$u" nc-recv --json
		echo "$u: $output"
		[ "$status" -eq 0 ]
		[ "$(printf '%s\n' "$output" | grep -c '"once each"')" -eq 1 ]
		printf '%s\n' "$output" | jq -se --arg g "$(cat "$W/gid")" \
		    'map(select(.type == "message")) | length == 1 and
		     .[0].group == $g and .[0].from == "alice@a.test"'
	done
	# what b.test stored says nothing of the group or the sender
	local id
	id=$(grep " PUT /v1/batches/" "$W/rec-b/log" | tail -1 | cut -d' ' -f1)
	! grep -q "alice" "$W/rec-b/$id.req"
	! grep -q "club" "$W/rec-b/$id.req"
}

@test "group upload: the batch PUT again is idempotent; under another id it is an alarm" {
	local id path other
	echo "replayed" | as alice nc-send -g club >/dev/null
	read -r id _ path _ < <(grep " PUT /v1/batches/" "$W/rec-b/log" | tail -1)
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
	    --data-binary @"$W/rec-b/$id.req" "$B_URL$path")" = 201 ]
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"replayed"')" -eq 1 ]
	# the relay (or anyone) files it again under a fresh id: the header is
	# bound to its envelope id, so it opens for no one
	other=/v1/batches/$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
	    --data-binary @"$W/rec-b/$id.req" "$B_URL$other")" = 201 ]
	run as bob2 nc-recv --json
	echo "$output"
	[ "$(printf '%s\n' "$output" | grep -c '"replayed"')" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	[[ "$output" == *"group envelope refused"* ]]
	as bob nc-recv >/dev/null 2>&1 || true   # its copy of the same
}

put() {   # put FILE: the status of PUT /v1/batches/<random> with FILE
	curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$1" \
	    "$B_URL/v1/batches/$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

@test "group upload: over the bounds is 413, malformed is 400" {
	# 1001 users; 40 users x 32 devices (1280 mailboxes); 33 devices of a
	# user; a body cut short
	python3 - "$W" <<'PY'
import struct, sys
def batch(users, devs):
    b = b"\x01" + struct.pack(">I", 200) + bytes(200) + struct.pack(">H", users)
    for u in range(users):
        name = b"u%04d" % u
        b += struct.pack(">H", len(name)) + name + bytes(8) + bytes([devs])
        b += (bytes(16) + bytes(76)) * devs
    return b
for f, b in (("users", batch(1001, 1)), ("mbox", batch(40, 32)),
             ("devs", batch(2, 33)), ("cut", batch(40, 32)[:100])):
    open("%s/%s.bin" % (sys.argv[1], f), "wb").write(b)
PY
	[ "$(put "$W/users.bin")" = 413 ]
	[ "$(put "$W/mbox.bin")" = 413 ]
	[ "$(put "$W/devs.bin")" = 400 ]
	[ "$(put "$W/cut.bin")" = 400 ]
}

@test "group upload: a hostile header is an alarm at the device, no crash" {
	local dev
	# bob's device list version and first device, as alice pinned them
	dev=$(as alice nc-keys show bob@b.test | sed -n 's/^  device: *//p' | head -1)
	[ -n "$dev" ]
	curl -s -o "$W/bob.list" "$B_URL/v1/users/bob/devicelist"
	python3 - "$dev" "$W/bob.list" >"$W/evil.bin" <<'PY'
import os, struct, sys
dev, l = bytes.fromhex(sys.argv[1]), open(sys.argv[2], "rb").read()
n = struct.unpack(">H", l[2:4])[0]
ver = struct.unpack(">Q", l[4 + n:12 + n])[0]   # protocol.md 2.1
b = b"\x01" + struct.pack(">I", 300) + os.urandom(300) + struct.pack(">H", 1)
b += struct.pack(">H", 3) + b"bob" + struct.pack(">Q", ver) + b"\x01" + dev + os.urandom(76)
sys.stdout.buffer.write(b)
PY
	[ "$(put "$W/evil.bin")" = 201 ]
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	[[ "$output" == *"group envelope refused"* ]]
	# the relay still serves, and the group still works
	echo "after" | as alice nc-send -g club >/dev/null
	run as bob nc-recv --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"after"'* ]]
}

@test "group upload: a removal goes once to each relay, as a message of the epoch it ends; the removed member sees it and reads nothing after" {
	local a0 b0 da db u
	for u in alice2 bob bob2 carol; do   # what the tests before left
		as "$u" nc-recv >/dev/null 2>&1 || true
	done
	a0=$(batches a) b0=$(batches b) da=$(pairwise a) db=$(pairwise b)
	run as alice nc-group -v remove club carol@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	# alice's key of the epoch is out: no pairwise envelope at all
	[ "$(batches a)" -eq $((a0 + 1)) ]
	[ "$(batches b)" -eq $((b0 + 1)) ]
	[ "$(pairwise a)" -eq "$da" ]
	[ "$(pairwise b)" -eq "$db" ]
	for u in alice2 bob bob2 carol; do
		run as "$u" nc-recv --json
		echo "$u: $output"
		[ "$status" -eq 0 ]
		printf '%s\n' "$output" | jq -se 'map(select(.type == "group")) |
		    length == 1 and .[0].event == "removed" and
		    .[0].members == ["carol@b.test"] and .[0].by == "alice@a.test"'
	done
	[ "$(as carol nc-group show --json club | jq -r .member)" = false ]
	echo "after the removal" | as alice nc-send -g club >/dev/null
	run as carol nc-recv --json
	echo "carol: $output"
	[[ "$output" != *"after the removal"* ]]
	[ "$(count_type alarm)" -eq 0 ]
	run as bob nc-recv --json
	[ "$(printf '%s\n' "$output" | grep -c '"after the removal"')" -eq 1 ]
	[ "$(as bob nc-group show --json club | jq -r .state)" = \
	    "$(as alice nc-group show --json club | jq -r .state)" ]
}

@test "group upload: a batch refused because a device list changed (409) goes again with the lists fetched now, not pairwise" {
	local b0 c0 db u
	user bob3 bob@b.test   # bob's list changes; alice pinned the old one
	b0=$(batches b) db=$(pairwise b)
	c0=$(grep -c " PUT /v1/batches/[0-9a-f]* 409" "$W/rec-b/log" || true)
	run as alice nc-send -v -g club <<<"after a new device"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c " PUT /v1/batches/[0-9a-f]* 409" "$W/rec-b/log")" -eq $((c0 + 1)) ]
	[ "$(batches b)" -eq $((b0 + 1)) ]
	[ "$(pairwise b)" -eq "$db" ]
	# alice2, and bob's three devices (the new one listed now)
	[[ "$output" == *"device lists changed; the batch again"* ]]
	[[ "$output" == *" to 4 mailboxes in 2 batches"* ]]
	for u in bob bob2; do
		run as "$u" nc-recv --json
		echo "$u: $output"
		[ "$(printf '%s\n' "$output" | grep -c '"after a new device"')" -eq 1 ]
	done
}

# fanouts STATUS RELAY: POST /v1/deliveries the proxy of RELAY answered so
fanouts() { grep -c " POST /v1/deliveries $1" "$W/rec-$2/log" || true; }
erin() { deliveries b | grep -c " POST /v1/users/erin/deliver $1" || true; }

@test "group fan-out: pairwise payloads to more than 4 users go in one POST /v1/deliveries to each relay; a 409 names whose list changed, the rest go again" {
	local u p0 e0
	user dave dave@a.test
	user erin erin@b.test
	user frank frank@b.test
	# the new group's commit (kind 1) to 6 users (alice's other device
	# too): one request to each relay
	run as alice nc-group -v create wide bob@b.test carol@b.test \
	    dave@a.test erin@b.test frank@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pairwise: "*" envelopes to 6 users in 2 requests"* ]]
	[ "$(fanouts 201 a)" -eq 1 ]
	[ "$(fanouts 201 b)" -eq 1 ]
	for u in alice2 bob bob2 carol dave erin frank; do
		as "$u" nc-recv >/dev/null
	done
	user erin2 erin@b.test   # erin's list changes; alice pinned the old one
	p0=$(pairwise b) e0=$(erin 201)
	run as alice nc-send -v -g wide <<<"wide hello"
	echo "$output"
	[ "$status" -eq 0 ]
	# b.test named erin alone; the others' keys went again at once, hers
	# one user at a time (to her new device too)
	[[ "$output" == *"pairwise: device lists of 1 users changed"* ]]
	[ "$(fanouts 409 b)" -eq 1 ]
	[ "$(fanouts 201 b)" -eq 2 ]
	[ "$(erin 201)" -eq $((e0 + 1)) ]
	[ "$(pairwise b)" -eq $((p0 + 2)) ]   # erin's: 409, then 201
	for u in alice2 bob bob2 carol dave erin frank; do
		run as "$u" nc-recv --json
		echo "$u: $output"
		[ "$(printf '%s\n' "$output" | grep -c '"wide hello"')" -eq 1 ]
	done
}

@test "group fan-out: a relay that refuses POST /v1/deliveries (one older than the route) gets the sender key user by user" {
	local p0 u
	for u in alice2 bob bob2 carol dave erin frank; do   # what the tests before left
		as "$u" nc-recv >/dev/null 2>&1 || true
	done
	as alice nc-group remove wide frank@b.test >/dev/null
	hostile b "drop POST /v1/deliveries n=1 status=404"
	p0=$(pairwise b)
	run as alice nc-send -v -g wide <<<"after a 404"
	hostile b ""
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pairwise: 1 request refused (relay of b.test answered 404"* ]]
	[ "$(fanouts 404 b)" -eq 1 ]
	# bob, carol and erin: one delivery each
	[ "$(pairwise b)" -eq $((p0 + 3)) ]
	for u in bob carol erin; do
		run as "$u" nc-recv --json
		echo "$u: $output"
		[ "$(printf '%s\n' "$output" | grep -c '"after a 404"')" -eq 1 ]
	done
	run as frank nc-recv --json
	[[ "$output" != *"after a 404"* ]]
}
