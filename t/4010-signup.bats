#!/usr/bin/env bats
# An interrupted first nc-keygen must not brick a name (issue 13 item 3):
# nc-keygen cut off at each step - the device list, the identity-key
# backup, the prekeys, the relay SIGKILLed between registration and list -
# then run again finishes the same sign-up: one device, reachable, and
# sends to it are delivered. A half-made account can also be deleted with
# the password, and a lost state.db says what to do (issue 13 item 8).

load helpers/relay
load helpers/client

setup_file() {
	world_up
	# a.test is reached through the hostile proxy, which a test scripts
	hostile_up "$RELAY_URL_a"
	mkuser bob bob@b.test
}

teardown_file() {
	kill "$(cat "$W/proxy.pid")" 2>/dev/null || true
	world_down
}

setup() {
	world_load
	PROXY=$(head -n 1 "$W/proxy.out")
	: >"$W/script"
}

# home NAME: an NC_HOME reaching a.test through the proxy
home() {
	mkdir -p "$W/$1"
	chmod 700 "$W/$1"
	{
		echo "relay a.test $PROXY"
		echo "relay b.test $RELAY_URL_b"
		echo "first-contact fetch"   # bob is looked up at once (held.h)
	} >"$W/$1/config"
}

hostile() { printf '%s\n' "$1" >"$W/script"; }

# devices USER: how many devices the relay lists for USER
devices() {
	as bob nc-keys show "$1@a.test" | grep -c '^  device:'
}

# reachable NAME ADDR: bob's message reaches NAME, and NAME's reaches bob
reachable() {
	local id
	id=$(echo "hello $2" | as bob nc-send "$2")
	[ -n "$id" ]
	run as "$1" nc-recv
	[ "$status" -eq 0 ]
	[[ "$output" == *"bob@b.test: hello $2"* ]]
	echo "hi bob" | as "$1" nc-send bob@b.test >/dev/null
	run as bob nc-recv
	[[ "$output" == *"$2: hi bob"* ]]
}

@test "signup: the device list cut off -> 75, keys kept; a retry finishes it" {
	home c1
	hostile 'drop PUT /v1/users/c1/devicelist status=503'
	run as c1 nc-keygen c1@a.test
	[ "$status" -eq 75 ]
	[[ "$output" == *"sign-up not finished: run nc-keygen c1@a.test again to finish it"* ]]
	lines_eq 1
	[ -e "$W/c1/storage.key" ]
	# meanwhile: no list, so no such user to senders; this device says why
	run as bob nc-send c1@a.test <<<"too early"
	[ "$status" -eq 67 ]
	run as c1 nc-recv
	[ "$status" -eq 78 ]
	[[ "$output" == *"sign-up of c1@a.test not finished"* ]]
	hostile ''
	run as c1 nc-keygen c1@a.test
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^c1@a.test( [0-9a-f]{4}){8}$ ]]
	# the same device (registered in the first try) is the only one
	[ "$(devices c1)" -eq 1 ]
	grep -q "POST /v1/users/c1 201" "$W/rec/log"
	[ "$(grep -c "POST /v1/users/c1 " "$W/rec/log")" -eq 1 ]
	reachable c1 c1@a.test
	# finished: a third run refuses, as for any identity
	run as c1 nc-keygen c1@a.test
	[ "$status" -eq 73 ]
}

@test "signup: the relay SIGKILLed between registration and the device list" {
	home c2
	hostile 'delay PUT /v1/users/c2/devicelist ms=3000'
	as c2 nc-keygen c2@a.test >"$W/c2.out" 2>&1 &
	local pid=$! i rc=0
	for ((i = 0; i < 100; i++)); do
		grep -q "POST /v1/users/c2 201" "$W/rec/log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q "POST /v1/users/c2 201" "$W/rec/log"
	sleep 0.5   # the list is held in the proxy now
	relay_kill a
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ]
	grep -q "sign-up not finished" "$W/c2.out"
	relay_restart a   # same port: the proxy finds it again
	world_save
	hostile ''
	run as c2 nc-keygen c2@a.test
	[ "$status" -eq 0 ]
	[ "$(devices c2)" -eq 1 ]
	reachable c2 c2@a.test
}

@test "signup: the identity-key backup cut off; the retry stores it, a second device joins" {
	home c3
	hostile 'drop PUT /v1/users/c3/idbackup status=503'
	run as c3 nc-keygen c3@a.test
	[ "$status" -eq 75 ]
	hostile ''
	run as c3 nc-keygen c3@a.test
	[ "$status" -eq 0 ]
	local fpr=$output
	home c3phone
	run as c3phone nc-keygen c3@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"device added to c3@a.test and listed"* ]]
	[[ "$output" == *"$fpr"* ]]
	[ "$(devices c3)" -eq 2 ]
}

@test "signup: the prekeys cut off -> listed, and the retry publishes them" {
	home c4
	hostile 'drop PUT /v1/users/c4/devices/*/prekeys status=503'
	run as c4 nc-keygen c4@a.test
	[ "$status" -eq 75 ]
	hostile ''
	run as c4 nc-keygen c4@a.test
	[ "$status" -eq 0 ]
	[ "$(devices c4)" -eq 1 ]
	[ "$(sqlite3 "$W/c4/state.db" "SELECT count(*) FROM prekey WHERE kind = 2")" -eq 100 ]
	reachable c4 c4@a.test
}

@test "signup: the registration itself cut off (never reached the relay) -> a retry registers" {
	home c5
	hostile 'drop POST /v1/users/c5 status=503'
	run as c5 nc-keygen c5@a.test
	[ "$status" -eq 75 ]
	[ -e "$W/c5/storage.key" ]
	hostile ''
	run as c5 nc-keygen c5@a.test
	[ "$status" -eq 0 ]
	reachable c5 c5@a.test
}

@test "signup: a second device cut off while listing itself -> the retry lists it once" {
	home c6
	run as c6 nc-keygen c6@a.test
	[ "$status" -eq 0 ]
	home c6phone
	hostile 'drop PUT /v1/users/c6/devicelist status=503'
	run as c6phone nc-keygen c6@a.test
	[ "$status" -eq 75 ]
	[[ "$output" == *"adding this device is not finished: run nc-keygen c6@a.test again"* ]]
	hostile ''
	run as c6phone nc-keygen c6@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"device added to c6@a.test and listed"* ]]
	[ "$(devices c6)" -eq 2 ]
	id=$(echo "to both" | as bob nc-send c6@a.test)
	run as c6phone nc-recv
	[[ "$output" == *"bob@b.test: to both"* ]]
}

@test "signup: a half-made account with its keys lost (older nc-keygen) is finished from a new home" {
	home c7
	hostile 'drop PUT /v1/users/c7/devicelist status=503'
	run as c7 nc-keygen c7@a.test
	[ "$status" -eq 75 ]
	# what nc-keygen used to do: throw the new identity away
	rm -f "$W/c7"/state.db* "$W/c7/storage.key"
	hostile ''
	home c7b
	run as c7b nc-keygen c7@a.test
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^c7@a.test( [0-9a-f]{4}){8}$ ]]
	[ "$(devices c7)" -eq 1 ]
	reachable c7b c7@a.test
}

@test "signup: a half-made account deleted with the password frees the name" {
	home c8
	hostile 'drop PUT /v1/users/c8/devicelist status=503'
	run as c8 nc-keygen c8@a.test
	[ "$status" -eq 75 ]
	[[ "$output" == *"or nc-keygen --delete c8@a.test to give the name up"* ]]
	hostile ''
	NC_PASSWORD=wrong run as c8 nc-keygen --delete c8@a.test
	[ "$status" -eq 77 ]
	[ -e "$W/c8/storage.key" ]
	run as c8 nc-keygen --delete c8@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == "nc-keygen: c8@a.test: account deleted at the relay, and its identity in this NC_HOME" ]]
	[ ! -e "$W/c8/storage.key" ]
	run as bob nc-send c8@a.test <<<"gone"
	[ "$status" -eq 67 ]
	# a deleted user and a wrong password are not told apart
	run as c8 nc-keygen --delete c8@a.test
	[ "$status" -eq 77 ]
	[[ "$output" == *"wrong user or password"* ]]
	# the name is free: a new sign-up with another password
	NC_PASSWORD=another-horse run as c8 nc-keygen c8@a.test
	[ "$status" -eq 0 ]
	reachable c8 c8@a.test
}

@test "signup: a lost state.db -> 73 saying what to do; doing it adds the device again" {
	home c9
	run as c9 nc-keygen c9@a.test
	[ "$status" -eq 0 ]
	local fpr=$output
	rm -f "$W/c9"/state.db*
	run as c9 nc-keygen c9@a.test
	[ "$status" -eq 73 ]
	[[ "$output" == *"holds storage.key but no state.db (the state is lost): to start over, move storage.key away"* ]]
	lines_eq 1
	mv "$W/c9/storage.key" "$W/c9.storage.key.old"
	run as c9 nc-keygen c9@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *"$fpr"* ]]
	reachable c9 c9@a.test
}

@test "signup: refused or unreachable before anything was made -> nothing kept" {
	home c10
	hostile 'drop POST /v1/users/c10/opaque status=503'
	run as c10 nc-keygen c10@a.test
	[ "$status" -eq 75 ]
	[ ! -e "$W/c10/storage.key" ]
}
