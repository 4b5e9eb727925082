#!/usr/bin/env bats
# T24 (with T14, T16): the relay shows alice's contacts a device list of
# alice's that it keeps from alice's own devices (a device of its own, or
# one added with a stolen password, hidden from her). The key log makes the
# entry visible, not impossible; alice's devices must look for it (issue
# 19, monitoring). Mechanism: at its hourly self-check (nc-recv) or at
# `nc-keys audit --self`, a device asks the log (GET /v1/kt/label, the VRF
# proof checked) whether a version after the list its relay serves it
# exists, and that the leaf of its own version is the one that proved it.
# Shows: the relay (the hostile proxy) serves alice the list she knew while
# its log holds a newer one: `nc-keys audit --self` and nc-recv both exit 1
# with one "key log: ..." line and an alarm event; with the proxy honest
# the same newer list is alice's phone, reported as a device, no alarm.
# alice has two devices (the laptop linked by code): the alarm is raised on
# each of them. What it cannot do is name the device the hidden list adds:
# the log holds the identity key and the hash of the signed list, not the
# list (threat-model.md, "Monitoring one's own keys").

WORLD_NEEDS="nc-keys curl"
load lib

# link NEW: a device of alice's linked by code from her first device
link() {
	local i
	mkdir -m 700 "$W/$1"
	cp "$W/alice/config" "$W/$1/config"
	NC_HOME=$W/$1 nc-keygen --link alice@a.test >"$W/$1.out" 2>"$W/$1.err" &
	for i in $(seq 1 100); do
		[ -s "$W/$1.out" ] && break
		sleep 0.1
	done
	as alice nc-sync link "$(head -n 1 "$W/$1.out")" 2>/dev/null
	wait $!
}

world_setup() {
	user alice alice@a.test
	link laptop
	# each has seen the other (the "device" events of the link)
	as alice nc-recv >/dev/null
	as laptop nc-recv >/dev/null
	# alice's devices have checked their list (version 2) against the
	# newest head
	as alice nc-keys audit --self >/dev/null
	as laptop nc-keys audit --self >/dev/null
	# alice's list as her relay serves it now, with its proof from the
	# head she saw (the newest: u64 size first)
	size=$(curl -sf "$A_URL/v1/kt/head" | od -An -tu8 --endian=big -N8 | tr -d ' ')
	curl -sf -H "X-NC-KT-Since: $size" -o "$W/v1.devlist" -D "$W/v1.hdr" \
	    "$A_URL/v1/users/alice/devicelist"
	sed -n 's/^X-NC-KT-Proof: *//Ip' "$W/v1.hdr" | tr -d '\r\n' >"$W/v1.proof"
	# the relay's log gains version 3 of alice's list (here: a device
	# added with the password; it could be the relay's own)
	user phone alice@a.test
	true
}

recheck() {
	local d
	for d in alice laptop; do
		sqlite3 "$W/$d/state.db" "DELETE FROM kv WHERE k = 'devlist_check'"
	done
}

@test "T24: the world: the log holds version 3 of alice's list" {
	[ -s "$W/v1.proof" ]
	run curl -sf -o /dev/null -w '%{http_code}' "$A_URL/v1/kt/label?user=alice&version=3"
	[ "$output" = 200 ]
}

@test "T24: audit --self: a version the relay hides from alice is an alarm (exit 1)" {
	hostile a "replace GET /v1/users/alice/devicelist file=$W/v1.devlist ktproof=$W/v1.proof"
	run as alice nc-keys audit --self
	echo "$output"
	[ "$status" -eq 1 ]
	one_line_err "$output"
	[[ "$output" == *"key log: the log of a.test holds version 3 of alice@a.test's device list, but its relay serves this device version 2"* ]]
}

@test "T24: nc-recv raises it at the next self-check of each of alice's devices: exit 1, an alarm event" {
	hostile a "replace GET /v1/users/alice/devicelist file=$W/v1.devlist ktproof=$W/v1.proof"
	recheck
	for d in alice laptop; do
		run as $d nc-recv --json
		echo "$d: $output"
		[ "$status" -eq 1 ]
		printf '%s\n' "$output" | grep '"type":"alarm"' | grep -q 'holds version 3'
		[[ "$output" != *'"type":"device"'* ]]
	done
}

@test "T24: control: served honestly, the new list is alice's phone: reported, no alarm" {
	hostile a ""
	recheck
	for d in alice laptop; do
		run as $d nc-recv --json
		echo "$d: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *'"type":"device"'* ]]
		[[ "$output" != *'"type":"alarm"'* ]]
		run as $d nc-keys audit --self
		[ "$status" -eq 0 ]
		[[ "$output" == "alice@a.test: consistent: version 3 (leaf "*") is the newest the log holds" ]]
	done
}
