#!/usr/bin/env bats
# T44: the attacker captures logins on the network, or steals the relay's
# database (issue 15, protocol.md 1.2).
# Mechanism: OPAQUE-3DH; an operation carries a single-use login token,
# KE3 and a MAC under the session key; the relay stores a record (no salt,
# no auth key) and the backup is sealed under the export key, which needs
# the relay's OPRF key as well as the password.
# Shows: a captured login replayed, or altered, is refused and changes
# nothing; the stolen database holds no salt or password-equivalent, and
# neither it nor the password opens the backup without the relay's key.

load lib

world_setup() {
	user alice alice@a.test
	curl -sf -o "$W/alice.v1.devlist" "$A_URL/v1/users/alice/devicelist"
}

@test "T44: a captured add-device login replayed or altered is refused" {
	mkdir -p "$W/alice2"
	chmod 700 "$W/alice2"
	cp "$W/alice/config" "$W/alice2/config"
	run env NC_HOME="$W/alice2" nc-keygen alice@a.test
	[ "$status" -eq 0 ]
	n=$(awk '$2 == "POST" && $3 == "/v1/users/alice/devices" && $4 == 201 { print $1 }' "$HA_REC/log" | tail -1)
	[ -n "$n" ]
	sqlite3 "$W/relay-a/relay.db" "SELECT hex(dev) FROM devices WHERE user = 'alice' ORDER BY 1" >"$W/devs.before"
	# the same bytes again: the token was used
	run curl -s -w '\n%{http_code}' --data-binary @"$HA_REC/$n.req" "$A_URL/v1/users/alice/devices"
	echo "$output"
	[ "${lines[1]}" = 401 ]
	[ "${lines[0]}" = "login token used already" ]
	# another device key in the captured request: the MAC fails
	cp "$HA_REC/$n.req" "$W/evil.req"
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$W/evil.req" $((1 + 192 + 64 + 1 + 5))
	run curl -s -w '\n%{http_code}' --data-binary @"$W/evil.req" "$A_URL/v1/users/alice/devices"
	[ "${lines[1]}" = 401 ]
	[ "${lines[0]}" = "wrong user or password" ]
	sqlite3 "$W/relay-a/relay.db" "SELECT hex(dev) FROM devices WHERE user = 'alice' ORDER BY 1" >"$W/devs.after"
	cmp "$W/devs.before" "$W/devs.after"
}

@test "T44: a captured account deletion cannot be replayed on the name's next account" {
	user tmp tmp@a.test
	run env NC_HOME="$W/tmp" nc-keygen --delete tmp@a.test
	[ "$status" -eq 0 ]
	n=$(awk '$2 == "DELETE" && $3 == "/v1/users/tmp" && $4 == 204 { print $1 }' "$HA_REC/log" | tail -1)
	[ -n "$n" ]
	rm -rf "$W/tmp"
	user tmp tmp@a.test
	run curl -s -w '\n%{http_code}' -X DELETE --data-binary @"$HA_REC/$n.req" "$A_URL/v1/users/tmp"
	echo "$output"
	[ "${lines[1]}" = 401 ]
	[ -n "$(sqlite3 "$W/relay-a/relay.db" "SELECT 1 FROM users WHERE name = 'tmp'")" ]
}

@test "T44: a stolen relay database holds no salt or password-equivalent; the backup does not open from it" {
	sqlite3 "$W/relay-a/relay.db" ".backup '$W/stolen.db'"
	# no auth key, salt or Argon2id limits; a record of 192 bytes
	[ "$(sqlite3 "$W/stolen.db" "SELECT count(*) FROM users WHERE auth_pk IS NOT NULL OR salt IS NOT NULL")" = 0 ]
	[ "$(sqlite3 "$W/stolen.db" "SELECT length(record) FROM opaque WHERE user = 'alice'")" = 192 ]
	! grep -qa "$NC_PASSWORD" "$W/stolen.db"
	# the backup is version 2: under the export key, not a password hash
	[ "$(sqlite3 "$W/stolen.db" "SELECT hex(substr(v, 1, 2)) FROM idbackup WHERE user = 'alice'")" = 0286 ]
	# the thief runs a relay on the database (without opaque.key, which
	# is not in it) and logs in with the RIGHT password: the OPRF key is
	# not there, so the envelope, and the backup, do not open
	mkdir -p "$W/relay-thief"
	cp "$W/stolen.db" "$W/relay-thief/relay.db"
	cp "$W/relay-a/kt.key" "$W/relay-thief/"   # all but opaque.key
	[ -f "$W/relay-a/opaque.key" ]
	T_URL=$(_relay thief a.test)
	mkdir -p "$W/thief"
	chmod 700 "$W/thief"
	echo "relay a.test $T_URL" >"$W/thief/config"
	run env NC_HOME="$W/thief" nc-keygen alice@a.test
	echo "$output"
	[ "$status" -eq 77 ]
	[ "$output" = "nc-keygen: alice@a.test: wrong user or password" ]
	[ ! -e "$W/thief/state.db" ]
}

@test "T44: a joining device refuses an older device list than the relay served before (review item 7)" {
	# alice has two devices (the first test), list version 2
	[ "$(sqlite3 "$W/relay-a/relay.db" "SELECT dl_version FROM users WHERE name = 'alice'")" -ge 2 ]
	mkdir -p "$W/alice3"
	chmod 700 "$W/alice3"
	cp "$W/alice/config" "$W/alice3/config"
	# the first fetch (before the login) passes; the one after it is the
	# old list of version 1, genuinely signed
	hostile a "replace GET /v1/users/alice/devicelist* n=2 file=$W/alice.v1.devlist"
	run env NC_HOME="$W/alice3" nc-keygen alice@a.test
	hostile a ""
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the relay serves device list version 1 after serving version 2"* ]]
	[ "${#lines[@]}" -eq 1 ]
	grep -q ' GET /v1/users/alice/devicelist.* 200 replace' "$HA_REC/log"
}
