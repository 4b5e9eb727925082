#!/usr/bin/env bats
# An account of the old password scheme (Argon2id auth key, version-1
# backup) moves to OPAQUE at its next login (issue 15, protocol.md 1.2).
# t/fixtures/old-scheme-account.tar.gz holds a relay data dir and an
# NC_HOME made by the code before OPAQUE (commit 1931034, built in a
# scratch worktree): user olduser@a.test, password old-horse-battery,
# NC_PWHASH_COST=interactive, one device. Two relays start on copies of
# its data: on "m" the old device itself logs in (nc-keygen --backup), on
# "j" a new device joins; each login migrates the account.

load helpers/relay
load helpers/client

FX=$BATS_TEST_DIRNAME/fixtures/old-scheme-account.tar.gz

setup_file() {
	export BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR
	W=$BATS_FILE_TMPDIR
	export W
	for r in m j; do
		mkdir -p "$W/fx-$r"
		tar -C "$W/fx-$r" -xzf "$FX"
		mv "$W/fx-$r/relay" "$W/$r"
		chmod 700 "$W/fx-$r/home"
		relay_start "$r" a.test --rate-login 1000
		echo "relay a.test $(eval echo "\$RELAY_URL_$r")" >"$W/fx-$r/home/config"
	done
	export RELAY_URL_m RELAY_URL_j RELAY_DIR_m RELAY_DIR_j
}

teardown_file() { relay_stop_all; }

export NC_PASSWORD=old-horse-battery
db() { sqlite3 "$W/$1/relay.db" "$2"; }
fpr() { NC_HOME=$1 nc-keygen --json | jq -r .fingerprint; }

@test "migrate: the fixture is an old-scheme account" {
	[ "$(db m "SELECT length(auth_pk), ops FROM users WHERE name = 'olduser'")" = "32|2" ]
	[ "$(db m "SELECT hex(substr(v, 1, 2)) FROM idbackup WHERE user = 'olduser'")" = 0186 ]
	[ -z "$(db m "SELECT 1 FROM opaque WHERE user = 'olduser'")" ]
}

@test "migrate: a wrong password -> 77 'wrong user or password', nothing migrated" {
	NC_PASSWORD=wrong run env NC_HOME="$W/fx-m/home" nc-keygen --backup
	echo "$output"
	[ "$status" -eq 77 ]
	[ "$output" = "nc-keygen: olduser@a.test: wrong user or password" ]
	[ "$(db m "SELECT length(auth_pk) FROM users WHERE name = 'olduser'")" = 32 ]
	[ -z "$(db m "SELECT 1 FROM opaque WHERE user = 'olduser'")" ]
}

@test "migrate: the old device's next login moves the account to OPAQUE" {
	run env NC_HOME="$W/fx-m/home" nc-keygen --backup
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(db m "SELECT auth_pk IS NULL AND salt IS NULL FROM users WHERE name = 'olduser'")" = 1 ]
	[ "$(db m "SELECT length(record), cost FROM opaque WHERE user = 'olduser'")" = "192|1" ]
	# the backup, re-sealed under the export key
	[ "$(db m "SELECT hex(substr(v, 1, 2)) FROM idbackup WHERE user = 'olduser'")" = 0286 ]
	# the old scheme's login is gone for it
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RELAY_URL_m/v1/users/olduser/challenge")" = 404 ]
	# and the account works: again (now OPAQUE), and a new device joins
	run env NC_HOME="$W/fx-m/home" nc-keygen --backup
	[ "$status" -eq 0 ]
	[[ "$output" == *"already at the relay"* ]]
	mkdir -m 700 "$W/m2"
	cp "$W/fx-m/home/config" "$W/m2/config"
	run env NC_HOME="$W/m2" nc-keygen olduser@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"and listed"* ]]
	[ "$(fpr "$W/m2")" = "$(fpr "$W/fx-m/home")" ]
	run env NC_HOME="$W/fx-m/home" nc-recv
	[ "$status" -eq 0 ]
}

@test "migrate: a new device's login migrates the account and takes the identity key" {
	mkdir -m 700 "$W/j2"
	cp "$W/fx-j/home/config" "$W/j2/config"
	run env NC_HOME="$W/j2" nc-keygen olduser@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"and listed"* ]]
	[ "$(fpr "$W/j2")" = "$(fpr "$W/fx-j/home")" ]
	[ "$(db j "SELECT auth_pk IS NULL FROM users WHERE name = 'olduser'")" = 1 ]
	[ "$(db j "SELECT hex(substr(v, 1, 2)) FROM idbackup WHERE user = 'olduser'")" = 0286 ]
	[ "$(db j "SELECT count(*) FROM devices WHERE user = 'olduser'")" = 2 ]
	# the old device logs in with OPAQUE now, and reads what arrived
	run env NC_HOME="$W/fx-j/home" nc-keygen --backup
	[ "$status" -eq 0 ]
	run env NC_HOME="$W/fx-j/home" nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
}
