#!/usr/bin/env bats
# nc-keygen: a new user and first device, registered; refusals and exit codes.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
}

teardown_file() { world_down; }

@test "nc-keygen: prints the fingerprint; NC_HOME 0700, key file 0600" {
	grep -qE '^alice@a.test( [0-9a-f]{4}){8}$' "$W/alice.keygen"
	[ "$(stat -c %a "$W/alice")" = 700 ]
	[ "$(stat -c %a "$W/alice/storage.key")" = 600 ]
	# sqlite makes its files with the umask: ours is 077, whatever the user's
	local f
	for f in "$W/alice"/state.db*; do
		[ "$(stat -c %a "$f")" = 600 ]
	done
	umask 022
	as alice nc-keys show alice@a.test >/dev/null
	for f in "$W/alice"/state.db*; do
		[ "$(stat -c %a "$f")" = 600 ]
	done
	[ "$(stat -c %s "$W/alice/storage.key")" = 32 ]
}

@test "nc-keygen: published the device list and 100 one-time prekeys" {
	curl -sf -o "$W/dl" "$RELAY_URL_a/v1/users/alice/devicelist"
	[ "$(stat -c %s "$W/dl")" -gt 100 ]
	# secrets at rest are encrypted: no device-list bytes' secrets in clear,
	# and the prekey rows are sealed (version byte 1, then a nonce)
	[ "$(sqlite3 "$W/alice/state.db" "SELECT count(*) FROM prekey WHERE kind = 2")" -eq 100 ]
	# the secrets: the device's keys, the identity key and the backup key
	# (made at sign-up: nc-sync(1)), every one sealed
	[ "$(sqlite3 "$W/alice/state.db" "SELECT group_concat(k, ' ') FROM (SELECT k FROM kv WHERE secret = 1 ORDER BY k)")" = "backup-root device idkey" ]
	[ "$(sqlite3 "$W/alice/state.db" "SELECT count(*) FROM kv WHERE secret = 1 AND hex(substr(v,1,1)) != '01'")" -eq 0 ]
}

@test "nc-keygen: refuses to overwrite an identity (73), one-line error" {
	run as alice nc-keygen alice@a.test
	[ "$status" -eq 73 ]
	[[ "$output" == "nc-keygen: "* ]]
	lines_eq 1
}

@test "nc-keygen: a taken name with the wrong password -> 77, nothing left behind" {
	config mallory
	NC_PASSWORD=wrong run as mallory nc-keygen alice@a.test
	[ "$status" -eq 77 ]
	[[ "$output" == *"wrong user or password"* ]]
	[ ! -e "$W/mallory/storage.key" ]
}

@test "nc-keygen: usage errors -> 64; -h and -V -> 0" {
	run nc-keygen
	[ "$status" -eq 64 ]
	run nc-keygen --bogus x@a.test
	[ "$status" -eq 64 ]
	config bad
	run as bad nc-keygen 'Not Valid@a.test'
	[ "$status" -eq 64 ]
	run nc-keygen -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run nc-keygen -V
	[ "$status" -eq 0 ]
}

@test "nc-keygen: relay unreachable -> 69, no identity left behind" {
	mkdir -p "$W/lost"
	chmod 700 "$W/lost"
	echo "relay c.test http://127.0.0.1:1" >"$W/lost/config"
	run as lost nc-keygen carol@c.test
	[ "$status" -eq 69 ]
	[ ! -e "$W/lost/storage.key" ]
	# and it can be retried once the relay is there
	[ ! -e "$W/lost/state.db" ]
}

@test "nc-keygen: no password available -> 78" {
	config nopw
	run env -u NC_PASSWORD NC_HOME="$W/nopw" setsid -w nc-keygen dave@a.test </dev/null
	[ "$status" -eq 78 ]
}

@test "nc-keygen: NC_PASSWORD_FILE is read (first line)" {
	config pwfile
	printf 'file-pw\nignored\n' >"$W/pw"
	run env -u NC_PASSWORD NC_PASSWORD_FILE="$W/pw" NC_HOME="$W/pwfile" nc-keygen erin@a.test
	[ "$status" -eq 0 ]
	config pwfile2
	# the same password from the file logs in as another device of erin
	NC_PASSWORD=file-pw run as pwfile2 nc-keygen erin@a.test
	[ "$status" -eq 0 ]
}

@test "commands without an identity -> 78" {
	config empty
	run as empty nc-recv
	[ "$status" -eq 78 ]
	[[ "$output" == nc-recv:* ]]
	run as empty nc-send bob@b.test <<<"x"
	[ "$status" -eq 78 ]
}
