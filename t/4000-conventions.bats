#!/usr/bin/env bats
# Conventions a shell user expects (issue 12 item 7): --help and --version,
# nc-keys verify with the number as displayed, the password prompt, read-only
# commands that create nothing, nc-relayd's address and data-dir errors.

bats_require_minimum_version 1.5.0

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

@test "--help: usage on stdout, exit 0, for every command and nc-relayd" {
	local c
	for c in nc-keygen nc-keys nc-send nc-recv nc-sync nc-group nc-relayd; do
		run --separate-stderr "$c" --help
		[ "$status" -eq 0 ]
		[[ "$output" == usage:* ]]
		[ -z "$stderr" ]
	done
}

@test "--version: one string for all, nc-xxx (newchat) VERSION" {
	local c v
	v=$(sed -n 's/^#define NC_VERSION "\(.*\)"$/\1/p' "$BATS_TEST_DIRNAME/../lib/app/version.h")
	[ -n "$v" ]
	for c in nc-keygen nc-keys nc-send nc-recv nc-sync nc-group nc-relayd; do
		run "$c" --version
		[ "$status" -eq 0 ]
		[ "$output" = "$c (newchat) $v" ]
		run "$c" -V
		[ "$output" = "$c (newchat) $v" ]
	done
}

@test "nc-keys verify: the safety number as displayed, unquoted or quoted" {
	local sn
	sn=$(as alice nc-keys verify bob@b.test)
	[[ "$sn" =~ ^[0-9]{5}( [0-9]{5}){11}$ ]]
	# twelve separate words, as pasted from nc-keys show
	# shellcheck disable=SC2086
	run as alice nc-keys verify bob@b.test $sn
	[ "$status" -eq 0 ]
	[[ "$output" == *"bob@b.test: verified"* ]]
	run as alice nc-keys show bob@b.test
	[[ "$output" == *"status:        verified"* ]]
	# one quoted word still works; so does the number without spaces
	run as alice nc-keys verify bob@b.test "$sn"
	[ "$status" -eq 0 ]
	run as alice nc-keys verify bob@b.test "${sn// /}"
	[ "$status" -eq 0 ]
	# a different number, as separate words: a security failure (1)
	# shellcheck disable=SC2086
	run as alice nc-keys verify bob@b.test ${sn//1/2}
	[ "$status" -eq 1 ]
	[[ "$output" == *"safety numbers differ"* ]]
}

@test "nc-keys verify: not 60 digits is a usage error (64), not a mismatch" {
	local sn
	sn=$(as alice nc-keys verify bob@b.test)
	# shellcheck disable=SC2086
	run as alice nc-keys verify bob@b.test ${sn% *}
	[ "$status" -eq 64 ]
	[[ "$output" == "nc-keys: not a safety number"* ]]
	run as alice nc-keys verify bob@b.test "$sn" 12345
	[ "$status" -eq 64 ]
	run as alice nc-keys verify bob@b.test "${sn}x"
	[ "$status" -eq 64 ]
}

@test "read-only commands never create NC_HOME" {
	local h=$W/nothing/here
	run env NC_HOME="$h" nc-keys show
	[ "$status" -eq 78 ]
	[[ "$output" == "nc-keys: no identity in $h (run nc-keygen"* ]]
	[ ! -e "$W/nothing" ]
	run env NC_HOME="$h" nc-recv
	[ "$status" -eq 78 ]
	[ ! -e "$W/nothing" ]
	run env NC_HOME="$h" nc-keys verify bob@b.test
	[ "$status" -eq 78 ]
	[ ! -e "$W/nothing" ]
	# the default home too (XDG): nothing appears under HOME
	mkdir "$W/fakehome"
	run env -u NC_HOME -u XDG_DATA_HOME HOME="$W/fakehome" nc-keys show
	[ "$status" -eq 78 ]
	[ -z "$(ls -A "$W/fakehome")" ]
}

@test "password: empty is a usage error (64); nothing is left behind" {
	config empty
	: >"$W/emptypw"
	run env -u NC_PASSWORD NC_PASSWORD_FILE="$W/emptypw" NC_HOME="$W/empty" \
	    nc-keygen carol@a.test
	[ "$status" -eq 64 ]
	[[ "$output" == "nc-keygen: empty password"* ]]
	[ ! -e "$W/empty/storage.key" ]
}

@test "password: a short one gets a warning, and works" {
	config shortpw
	NC_PASSWORD=abc run as shortpw nc-keygen dave@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"nc-keygen: warning: the password for dave@a.test is short (3 characters)"* ]]
	# logging in with it (another device) does not warn again
	config shortpw2
	NC_PASSWORD=abc run as shortpw2 nc-keygen dave@a.test
	[ "$status" -eq 0 ]
	[[ "$output" != *warning* ]]
}

# pty USER-INPUT... -- CMD: run CMD on a terminal (script(1)), typing each
# input line a moment after the last (the prompt flushes what came early).
pty() {
	local lines=()
	while [ "$1" != -- ]; do lines+=("$1"); shift; done
	shift
	{
		for l in "${lines[@]}"; do sleep 1; printf '%s\n' "$l"; done
		sleep 2
	} | script -qec "$*" /dev/null
}

@test "password prompt: names the account; a new one asks twice, a login once" {
	command -v script >/dev/null || skip "needs script (bsdutils)"
	unset NC_PASSWORD
	config tty1
	export NC_HOME=$W/tty1
	run pty secret-pass secret-pass -- nc-keygen erin@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"Password for erin@a.test (new account): "* ]]
	[[ "$output" == *"Password for erin@a.test again, to confirm: "* ]]
	[[ "$output" == *"erin@a.test "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]" "* ]]
	config tty2
	export NC_HOME=$W/tty2
	run pty secret-pass -- nc-keygen erin@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"Password for erin@a.test (logging in to add this device): "* ]]
	[[ "$output" != *"again"* ]]
	[[ "$output" == *"device added to erin@a.test"* ]]
}

@test "password prompt: two different answers -> 64, nothing registered" {
	command -v script >/dev/null || skip "needs script (bsdutils)"
	unset NC_PASSWORD
	config tty3
	export NC_HOME=$W/tty3
	run pty one-password other-password -- nc-keygen fay@a.test
	[ "$status" -eq 64 ]
	[[ "$output" == *"passwords do not match"* ]]
	[ ! -e "$W/tty3/storage.key" ]
	run curl -s -o /dev/null -w '%{http_code}' -X POST "$RELAY_URL_a/v1/users/fay/challenge"
	[ "$output" = 404 ]
}

@test "nc-relayd: a bad -l is a usage error (64) with an example" {
	local a
	for a in bogus 127.0.0.1 127.0.0.1:99999 :80 300.1.1.1:80 '[::1:80'; do
		run nc-relayd -d "$W/rbad" -l "$a" -D x.test
		[ "$status" -eq 64 ]
		[[ "$output" == "nc-relayd: -l $a: not an address:port (e.g. -l 127.0.0.1:8080"* ]]
		lines_eq 1
	done
	[ ! -e "$W/rbad" ]
	# an address that is not this machine's: 64 too
	run nc-relayd -d "$W/rbad" -l 192.0.2.1:0 -D x.test
	[ "$status" -eq 64 ]
	[[ "$output" == *"not an address of this machine"* ]]
}

@test "nc-relayd: an address in use says so (64)" {
	local port=${RELAY_URL_a##*:}
	run nc-relayd -d "$W/rinuse" -l "127.0.0.1:$port" -D x.test
	[ "$status" -eq 64 ]
	[[ "$output" == *"nc-relayd: -l 127.0.0.1:$port: address in use"* ]]
}

@test "nc-relayd: a second relay on the same data directory exits with a clear line" {
	run timeout 10 nc-relayd -d "$RELAY_DIR_a" -l 127.0.0.1:0 -D a.test
	[ "$status" -eq 75 ]
	[ "$output" = "nc-relayd: $RELAY_DIR_a: in use by another nc-relayd (pid $RELAY_PID_a); stop it first, or give this one another -d" ]
	# the first one is unharmed
	curl -sf "$RELAY_URL_a/.well-known/newchat" >/dev/null
	# issuing an invite beside a running relay is fine (sqlite shares)
	run nc-relayd -d "$RELAY_DIR_a" --issue-invite
	[ "$status" -eq 0 ]
}

@test "nc-relayd: the lock goes with the process (SIGKILL), a restart works" {
	relay_start c c.test
	relay_kill c
	relay_restart c
	curl -sf "$RELAY_URL_c/.well-known/newchat" >/dev/null
	relay_stop c
}
