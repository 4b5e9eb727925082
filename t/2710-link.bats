#!/usr/bin/env bats
# Device management and linking by code (issue 16 items 1 and 2):
# nc-sync devices, nc-keygen --link / nc-sync link, nc-sync revoke.

bats_require_minimum_version 1.5.0

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

@test "devices: one device, marked as this one, in text and JSON" {
	run --separate-stderr as alice nc-sync devices
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 1
	[[ "$output" =~ ^\*\ [0-9a-f]{32}\  ]]
	[[ "$output" == *"now (this device)"* ]]
	run --separate-stderr as alice nc-sync devices --json
	echo "$output"
	[ "$status" -eq 0 ]
	lines_eq 1
	[[ "$output" =~ ^\{\"type\":\"device\",\"device\":\"[0-9a-f]{32}\",\"name\":\".*\",\"added\":\".*\",\"last_seen\":\"[0-9T:-]+Z\",\"this\":true\}$ ]]
}

@test "nc-sync: usage errors are 64; -h is usage on stdout" {
	run --separate-stderr nc-sync
	[ "$status" -eq 64 ]
	run --separate-stderr nc-sync nosuch
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"nosuch: no such command"* ]]
	run --separate-stderr as alice nc-sync devices extra
	[ "$status" -eq 64 ]
	run --separate-stderr nc-sync -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run --separate-stderr nc-sync devices -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}

# link NEW [NAME]: nc-keygen --link on $W/NEW in the background; the code
# it prints in $W/NEW.code, its output in $W/NEW.out, its pid in LINK_PID
link_start() {
	config "$1"
	NC_HOME=$W/$1 nc-keygen --link ${2:+--name "$2"} alice@a.test \
	    >"$W/$1.out" 2>"$W/$1.err" &
	LINK_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$W/$1.out" ] && break
		sleep 0.1
	done
	head -n 1 "$W/$1.out" >"$W/$1.code"
	[ -s "$W/$1.code" ]
}

@test "link: history and contacts arrive; the new device lists itself and is reported" {
	echo "before the laptop" | as alice nc-send bob@b.test >/dev/null
	as bob nc-recv >/dev/null
	echo "reply from bob" | as bob nc-send alice@a.test >/dev/null
	as alice nc-recv >/dev/null
	as alice nc-keys verify bob@b.test "$(as alice nc-keys verify bob@b.test)" >/dev/null
	link_start laptop laptop
	code=$(cat "$W/laptop.code")
	[[ "$code" =~ ^[a-z2-7]{4}(-[a-z2-7]{1,4})+$ ]]
	run --separate-stderr as alice nc-sync link "$code"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"1 contact and 2 messages"* ]]
	wait "$LINK_PID"
	cat "$W/laptop.err"
	grep -q "linked to alice@a.test: 1 contact and 2 messages" "$W/laptop.err"
	# the same identity
	[ "$(tail -n 1 "$W/laptop.out")" = "$(grep '^alice@a.test ' "$W/alice.keygen")" ]
	# history, both ways, readable; not printed as news
	run as laptop nc-recv --history
	echo "$output"
	[[ "$output" == *"before the laptop"* ]]
	[[ "$output" == *"reply from bob"* ]]
	# the contact with its trust state
	run as laptop nc-keys show bob@b.test
	[[ "$output" == *"verified"* ]]
	# both list two devices; alice hears of the laptop by name
	run as alice nc-recv --json
	echo "$output"
	[[ "$output" == *'"type":"device"'*'"status":"added","name":"laptop"'* ]]
	run as alice nc-sync devices --json
	echo "$output"
	lines_eq 2
	# one object a line, each whole
	[ "$(printf '%s\n' "$output" | jq -s 'map(.type) | join(" ")')" = '"device device"' ]
	[[ "$output" == *'"name":"laptop"'* ]]
	# a message to alice reaches the laptop too, and its reply reaches bob
	echo "to both" | as bob nc-send alice@a.test >/dev/null
	run as laptop nc-recv
	[[ "$output" == *"to both"* ]]
	echo "from the laptop" | as laptop nc-send bob@b.test >/dev/null
	run as bob nc-recv
	[[ "$output" == *"from the laptop"* ]]
}

@test "link: a code works once; a used code is refused" {
	run --separate-stderr as alice nc-sync link "$(cat "$W/laptop.code")"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"used already"* ]]
}

@test "link: a code expires: the relay refuses it, the new device gives up and keeps nothing" {
	link_start late
	sqlite3 "$RELAY_DIR_a/relay.db" "UPDATE links SET expires = 0 WHERE used = 0"
	run --separate-stderr as alice nc-sync link "$(cat "$W/late.code")"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no such link code (expired"* ]]
	st=0
	wait "$LINK_PID" || st=$?
	[ "$st" -eq 65 ]
	[ ! -e "$W/late/state.db" ]
	run as alice nc-sync devices
	lines_eq 2
}

@test "threat: a wrong code or a replayed link message never adds a device" {
	local db=$RELAY_DIR_a/relay.db
	# a typo: caught by the code's check, nothing sent
	link_start tab
	code=$(cat "$W/tab.code")
	bad=${code:0:5}$([ "${code:5:1}" = a ] && echo b || echo a)${code:6}
	run --separate-stderr as alice nc-sync link "$bad"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"link code"* ]]
	# keep a copy of every link message the relay holds (as a relay could)
	sqlite3 "$db" "CREATE TABLE IF NOT EXISTS stolen(m BLOB);
	    CREATE TRIGGER IF NOT EXISTS steal AFTER UPDATE OF msg ON links
	    WHEN NEW.msg IS NOT NULL BEGIN INSERT INTO stolen VALUES (NEW.msg); END;"
	run as alice nc-sync link "$code"
	[ "$status" -eq 0 ]
	wait "$LINK_PID"
	run as alice nc-sync devices
	lines_eq 3
	# that message put in another new device's box: it does not open
	link_start tab2
	sqlite3 "$db" "UPDATE links SET msg = (SELECT m FROM stolen LIMIT 1) WHERE used = 0"
	st=0
	wait "$LINK_PID" || st=$?
	[ "$st" -eq 1 ]
	grep -q "not made for this code" "$W/tab2.err"
	[ ! -e "$W/tab2/state.db" ]
	sqlite3 "$db" "DROP TRIGGER steal; DROP TABLE stolen;"
	run as alice nc-sync devices
	lines_eq 3
}

@test "revoke: the revoked home gets 77; its mail and keys go; contacts stop sending to it" {
	local db=$RELAY_DIR_a/relay.db lap
	lap=$(as laptop nc-sync devices --json | grep '"this":true' | cut -d'"' -f8)
	[[ "$lap" =~ ^[0-9a-f]{32}$ ]]
	echo "waiting for the laptop" | as bob nc-send alice@a.test >/dev/null
	[ "$(sqlite3 "$db" "SELECT count(*) FROM mail WHERE hex(dev) = upper('$lap')")" -ge 1 ]
	run --separate-stderr as alice nc-sync revoke laptop
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "$lap" ]
	[ "$(sqlite3 "$db" "SELECT count(*) FROM mail WHERE hex(dev) = upper('$lap')")" -eq 0 ]
	[ "$(sqlite3 "$db" "SELECT count(*) FROM otpk WHERE hex(dev) = upper('$lap')")" -eq 0 ]
	run as alice nc-sync devices
	lines_eq 2
	[[ "$output" != *"$lap"* ]]
	# the revoked home
	run --separate-stderr as laptop nc-recv
	echo "$stderr"
	[ "$status" -eq 77 ]
	[[ "$stderr" == "nc-recv: alice@a.test: this device was revoked"* ]]
	run --separate-stderr as laptop nc-send bob@b.test <<<"still here?"
	echo "$stderr"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"revoked"* ]]
	run as bob nc-recv
	[[ "$output" != *"still here?"* ]]
	# bob's next message goes to alice's listed devices only
	echo "after the revocation" | as bob nc-send alice@a.test >/dev/null
	[ "$(sqlite3 "$db" "SELECT count(*) FROM mail WHERE hex(dev) = upper('$lap')")" -eq 0 ]
	run as bob nc-keys show alice@a.test
	[[ "$output" != *"$lap"* ]]
	run as alice nc-recv
	[[ "$output" == *"after the revocation"* ]]
	# the other device reports it, by name
	run as tab nc-recv --json
	echo "$output"
	[[ "$output" == *"\"device\":\"$lap\",\"status\":\"revoked\",\"name\":\"laptop\""* ]]
	[[ "$output" == *"after the revocation"* ]]
	# this device cannot be revoked from itself; an unknown one is 64
	run as alice nc-sync revoke nosuchdevice
	[ "$status" -eq 64 ]
}

@test "link: a history with a file and an armored message (nc-send -o) links, both kept as they were" {
	echo "carried offline" | as alice nc-send -o "$W/off.asc" bob@b.test >/dev/null
	echo "the menu" >"$W/menu.txt"
	echo "with a file" | as alice nc-send --attach "$W/menu.txt" bob@b.test >/dev/null
	link_start desk desk
	run --separate-stderr as alice nc-sync link "$(cat "$W/desk.code")"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	wait "$LINK_PID"
	cat "$W/desk.err"
	run as desk nc-recv --history --json bob@b.test
	echo "$output"
	printf '%s\n' "$output" | jq -se 'any(.[]; .body == "carried offline" and
	    .status == "armored")' >/dev/null
	printf '%s\n' "$output" | jq -se 'any(.[]; .body == "with a file" and
	    .attachments[0].name == "menu.txt")' >/dev/null
}
