#!/usr/bin/env bats
# Several devices of one user: a new device takes the identity key from its
# password-sealed backup and lists itself; messages reach every device;
# "sent" copies reach our other devices; our devices report a new one.

load helpers/relay
load helpers/client

setup_file() {
	world_up --rate-login 1000   # the 32-device test logs in 64 times
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

devs() {   # NAME ADDR: the device ids NAME's NC_HOME lists for ADDR
	as "$1" nc-keys show "$2" | sed -n 's/^  device: *//p' | sort
}

# the relay's stored identity-key backup of USER on relay a, in hex
backup_hex() { sqlite3 "$RELAY_DIR_a/relay.db" "SELECT hex(v) FROM idbackup WHERE user = '$1'"; }
set_backup() { sqlite3 "$RELAY_DIR_a/relay.db" "UPDATE idbackup SET v = X'$2' WHERE user = '$1'"; }

@test "devices: a second device gets the same fingerprint and is listed" {
	devs alice alice@a.test >"$W/alice.dev1"
	[ "$(wc -l <"$W/alice.dev1")" -eq 1 ]
	[ -n "$(backup_hex alice)" ]
	config alice2
	run as alice2 nc-keygen alice@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep '^alice@a.test ' <<<"$output")" = "$(cat "$W/alice.keygen")" ]
	[[ "$output" == *"device added to alice@a.test and listed"* ]]
	devs alice2 alice@a.test >"$W/alice.devs"
	[ "$(wc -l <"$W/alice.devs")" -eq 2 ]
	grep -qxFf "$W/alice.dev1" "$W/alice.devs"
	grep -vxFf "$W/alice.dev1" "$W/alice.devs" >"$W/alice.dev2"
	# bob, meeting alice now, sees both devices under the one fingerprint
	run as bob nc-send alice@a.test <<<"hello both"
	[ "$status" -eq 0 ]
	[ "$(devs bob alice@a.test)" = "$(cat "$W/alice.devs")" ]
}

@test "devices: the first device reports the new one (JSON and text)" {
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	dev2=$(cat "$W/alice.dev2")
	[ "$(count_type device)" -eq 1 ]
	[[ "$output" == *"{\"type\":\"device\",\"user\":\"alice@a.test\",\"device\":\"$dev2\",\"status\":\"added\",\"name\":\"\",\"seq\":"* ]]
	# bob's message came to this device too, once
	[ "$(grep -c '"body":"hello both' <<<"$output")" -eq 1 ]
	run as alice nc-recv --json
	[ "$status" -eq 0 ]
	[ "$(count_type device)" -eq 0 ]
}

@test "devices: bob's message reaches both of alice's devices exactly once" {
	run as alice2 nc-recv --json
	[ "$status" -eq 0 ]
	[ "$(grep -c '"body":"hello both' <<<"$output")" -eq 1 ]
	[ "$(count_type device)" -eq 0 ]   # its own addition is no news to it
	run as bob nc-send alice@a.test <<<"second"
	[ "$status" -eq 0 ]
	for d in alice alice2; do
		run as $d nc-recv --json
		[ "$status" -eq 0 ]
		[ "$(grep -c '"body":"second' <<<"$output")" -eq 1 ]
		run as $d nc-recv --json
		[ "$(grep -c '"body":"second' <<<"$output")" -eq 0 ]
	done
}

@test "devices: a message from one device reaches bob once and the other as a sent copy" {
	run as alice nc-send bob@b.test <<<"from one"
	[ "$status" -eq 0 ]
	id=$output
	run as bob nc-recv --json
	[ "$(grep -c '"body":"from one' <<<"$output")" -eq 1 ]
	[[ "$output" == *"\"from\":\"alice@a.test\""* ]]
	run as alice2 nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '"body":"from one' <<<"$output")" -eq 1 ]
	[[ "$output" == *"\"id\":\"$id\",\"from\":\"alice@a.test\",\"to\":\"bob@b.test\""*'"sent":true'* ]]
	run as alice2 nc-recv --history bob@b.test --json
	[[ "$output" == *"\"id\":\"$id\""*'"dir":"out","status":"sent"'* ]]
	# text form: one line, from us to bob
	run as alice2 nc-send bob@b.test <<<"from two"
	[ "$status" -eq 0 ]
	run as alice nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "alice@a.test > bob@b.test: from two" <<<"$output"
	[ "$(grep -c 'from two' <<<"$output")" -eq 1 ]
	run as bob nc-recv
	[ "$output" = "alice@a.test: from two" ]
}

@test "devices: the receipt goes to the sending device; --wait still works" {
	as bob nc-recv >/dev/null
	(sleep 1; NC_HOME=$W/bob nc-recv >/dev/null) &
	run as alice2 nc-send --wait 20 bob@b.test <<<"wait for me"
	wait
	echo "$output"
	[ "$status" -eq 0 ]
	run as alice2 nc-recv --history bob@b.test --json
	[[ "$output" == *'"body":"wait for me","dir":"out","status":"delivered"'* ]]
}

@test "devices: a device the sender does not know of yet still gets the copy (409, refetch)" {
	config alice6
	as alice6 nc-keygen alice@a.test
	# alice has not read the new device's hello: her pinned list is old
	run as alice nc-send bob@b.test <<<"to three"
	[ "$status" -eq 0 ]
	run as alice6 nc-recv --json
	echo "$output"
	[ "$(grep -c '"body":"to three","sent":true' <<<"$output")" -eq 1 ]
	run as alice2 nc-recv --json
	[ "$(grep -c '"body":"to three","sent":true' <<<"$output")" -eq 1 ]
	[ "$(count_type device)" -eq 1 ]
	run as alice nc-recv --json
	[ "$(count_type device)" -eq 1 ]   # once, though both the 409 and the hello told it
	run as bob nc-recv --json
	[ "$(grep -c '"body":"to three' <<<"$output")" -eq 1 ]
}

@test "devices: a wrong password -> 77, nothing changes" {
	curl -sf -o "$W/dl.before" "$RELAY_URL_a/v1/users/alice/devicelist"
	config alice3
	NC_PASSWORD=wrong run as alice3 nc-keygen alice@a.test
	[ "$status" -eq 77 ]
	[[ "$output" == *"wrong user or password"* ]]
	lines_eq 1
	[ ! -e "$W/alice3/state.db" ]
	curl -sf -o "$W/dl.after" "$RELAY_URL_a/v1/users/alice/devicelist"
	cmp "$W/dl.before" "$W/dl.after"
}

@test "devices: a tampered or malformed backup -> clean error, no state left" {
	good=$(backup_hex alice)
	curl -sf -o "$W/dl.before" "$RELAY_URL_a/v1/users/alice/devicelist"
	# flip one bit of the ciphertext
	last=${good: -2}
	set_backup alice "${good:0:${#good}-2}$(printf %02X $(( 0x$last ^ 1 )))"
	config alice4
	run as alice4 nc-keygen alice@a.test
	echo "$output"
	[ "$status" -eq 1 ]
	lines_eq 1
	[[ "$output" == "nc-keygen: alice@a.test: identity-key backup does not open"* ]]
	[ ! -e "$W/alice4/state.db" ] && [ ! -e "$W/alice4/storage.key" ]
	# garbage of the wrong size
	set_backup alice "0186DEADBEEF"
	run as alice4 nc-keygen alice@a.test
	[ "$status" -eq 65 ]
	lines_eq 1
	[[ "$output" == *"malformed identity-key backup"* ]]
	[ ! -e "$W/alice4/state.db" ]
	set_backup alice "$good"
	curl -sf -o "$W/dl.after" "$RELAY_URL_a/v1/users/alice/devicelist"
	cmp "$W/dl.before" "$W/dl.after"
}

@test "devices: a backup of another identity key than the list's -> 1, refused" {
	# The backup is sealed under the OPAQUE export key: only the password
	# holder makes one. So the mismatch is made the other way round: the
	# backup stays, the relay's list is signed by another identity key.
	read -r v dl < <(sqlite3 -separator ' ' "$RELAY_DIR_a/relay.db" \
	    "SELECT dl_version, hex(dl) FROM users WHERE name = 'alice'")
	mkdir -p "$W/evil"
	ncreq keygen "$W/evil"
	ncreq devlist "$W/evil" alice@a.test "$v" >"$W/evil.dl"
	sqlite3 "$RELAY_DIR_a/relay.db" "UPDATE users SET
	    dl = X'$(od -An -tx1 -v "$W/evil.dl" | tr -d ' \n')' WHERE name = 'alice'"
	config alice5
	run as alice5 nc-keygen alice@a.test
	echo "$output"
	sqlite3 "$RELAY_DIR_a/relay.db" "UPDATE users SET dl = X'$dl' WHERE name = 'alice'"
	[ "$status" -eq 1 ]
	lines_eq 1
	[[ "$output" == *"the identity key in the backup does not sign the device list"* ]]
	[ ! -e "$W/alice5/state.db" ]
}

@test "devices: an account without a backup: the device is added, unlisted, and says so" {
	mkuser carol carol@a.test
	sqlite3 "$RELAY_DIR_a/relay.db" "DELETE FROM idbackup WHERE user = 'carol'"
	config carol2
	run as carol2 nc-keygen carol@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"holds no identity-key backup"* ]]
	[ "$(devs carol carol@a.test | wc -l)" -eq 1 ]
	# the device holding the identity key puts a backup there
	run as carol2 nc-keygen --backup
	[ "$status" -eq 77 ]
	[[ "$output" == *"does not hold the identity key"* ]]
	NC_PASSWORD=wrong run as carol nc-keygen --backup
	[ "$status" -eq 77 ]
	[ -z "$(sqlite3 "$RELAY_DIR_a/relay.db" "SELECT 1 FROM idbackup WHERE user = 'carol'")" ]
	run as carol nc-keygen --backup
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"identity-key backup stored at the relay"* ]]
	run as carol nc-keygen --backup
	[ "$status" -eq 0 ]
	[[ "$output" == *"already at the relay"* ]]
	config carol3
	run as carol3 nc-keygen carol@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"and listed"* ]]
	[ "$(devs carol3 carol@a.test | wc -l)" -eq 2 ]
	run nc-keygen --backup carol@a.test
	[ "$status" -eq 64 ]
}

@test "devices: our own list under another identity key -> alarm, nc-recv exits 1" {
	mkuser dave dave@a.test
	mkdir -p "$W/mal"
	ncreq keygen "$W/mal"
	ncreq devlist "$W/mal" dave@a.test 9 >"$W/mal.dl"
	sqlite3 "$RELAY_DIR_a/relay.db" "UPDATE users SET dl_version = 9,
	    dl = X'$(od -An -tx1 -v "$W/mal.dl" | tr -d ' \n')' WHERE name = 'dave'"
	sqlite3 "$W/dave/state.db" "UPDATE kv SET v = '0' WHERE k = 'devlist_check'"
	# the key log does not hold that list: refused by the log first
	run as dave nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	[[ "$output" == *"nc-recv: dave@a.test: our own device list: key log: "*"without a proof"* ]]
	# the layer below (policy tofu, or a relay without a log): the identity
	sqlite3 "$W/dave/state.db" "UPDATE kv SET v = '0' WHERE k = 'devlist_check'"
	echo "policy tofu" >>"$W/dave/config"
	run as dave nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	[[ "$output" == *"identity key changed"* ]]
	[[ "$output" == *"nc-recv: dave@a.test: our own device list is signed by another identity key"* ]]
}

@test "devices: at most 32 devices -> clean error (73)" {
	mkuser erin erin@a.test
	for i in $(seq 2 32); do
		config "erin$i"
		as "erin$i" nc-keygen erin@a.test >/dev/null 2>&1 || { echo "device $i failed"; false; }
	done
	[ "$(devs erin32 erin@a.test | wc -l)" -eq 32 ]
	config erin33
	run as erin33 nc-keygen erin@a.test
	echo "$output"
	[ "$status" -eq 73 ]
	lines_eq 1
	[[ "$output" == *"32 devices"* ]]
	[ ! -e "$W/erin33/state.db" ]
	# the first device learned of all 31 others
	run as erin nc-recv --json
	[ "$(count_type device)" -eq 31 ]
}
