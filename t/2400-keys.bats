#!/usr/bin/env bats
# Keys: trust on first use, safety numbers, an identity-key change is an
# alarm, nc-send refuses the contact (exit 1) and holds its messages until
# nc-keys trust.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	as alice nc-send bob@b.test <<<"before" >/dev/null
	as bob nc-recv >/dev/null
	# another "bob@b.test" with other keys, on a relay that also claims b.test
	relay_start e b.test
	world_save
	declare -p RELAY_URL_e RELAY_PID_e | sed 's/^declare -[a-z-]* /export /' >>"$W/relays.env"
	mkdir -p "$W/newbob"
	chmod 700 "$W/newbob"
	{ echo "relay a.test $RELAY_URL_a"; echo "relay b.test $RELAY_URL_e"; echo "first-contact fetch"; } >"$W/newbob/config"
	NC_HOME=$W/newbob nc-keygen bob@b.test >/dev/null
}

teardown_file() {
	world_load
	RELAY_NAMES="a b e"
	relay_stop_all
}
setup() { world_load; }

# The other relay keeps its own key log: alice forgets the b.test log she
# pinned (else the swap is a key-log alarm, t/1200 and T21 test that).
to_new_bob() {
	sed -i "s|^relay b.test .*|relay b.test $RELAY_URL_e|" "$W/alice/config"
	sqlite3 "$W/alice/state.db" "DELETE FROM kv WHERE k LIKE 'kt/b.test/%'"
}

@test "keys show: fingerprint, trusted on first use, devices, safety number" {
	run as alice nc-keys show bob@b.test
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "bob@b.test" ]]
	[[ "$output" == *"trusted on first use"* ]]
	fpr=$(sed 's/^bob@b.test //' "$W/bob.keygen")
	[[ "$output" == *"$fpr"* ]]
	run as alice nc-keys --json show bob@b.test
	printf '%s\n' "$output" | jq -e '.user == "bob@b.test" and .status == "trusted"
	    and (.devices | length) == 1 and (.safety_number | length) == 71'
	run as alice nc-keys show
	[[ "${lines[0]}" == "alice@a.test" ]]
}

@test "keys verify: both sides compute the same number; a match verifies, a mismatch is 1" {
	a=$(as alice nc-keys verify bob@b.test)
	b=$(as bob nc-keys verify alice@a.test)
	[ "$a" = "$b" ]
	[[ "$a" =~ ^[0-9]{5}( [0-9]{5}){11}$ ]]
	run as alice nc-keys verify bob@b.test "${a//1/2}"
	[ "$status" -eq 1 ]
	run as alice nc-keys verify bob@b.test "$a"
	[ "$status" -eq 0 ]
	run as alice nc-keys show bob@b.test
	[[ "$output" == *verified* ]]
	run as alice nc-keys show nobody@b.test
	[ "$status" -eq 67 ]
}

@test "key change: nc-send refuses (exit 1, one line), an alarm, nothing delivered" {
	to_new_bob
	run as alice nc-send bob@b.test <<<"held-1"
	echo "$output"
	[ "$status" -eq 1 ]
	# one line on stderr; the id of the held message on stdout
	[ "$(printf '%s\n' "$output" | grep -c '^nc-send:')" -eq 1 ]
	printf '%s\n' "$output" | grep -qE '^[0-9a-f]{32}$'
	[[ "$output" == "nc-send: bob@b.test: "*"changed"* ]]
	run as alice nc-send bob@b.test <<<"held-2"
	[ "$status" -eq 1 ]
	run as alice nc-recv --json
	echo "$output"
	[ "$(count_type alarm)" -eq 1 ]
	printf '%s\n' "$output" | grep '"type":"alarm"' | grep -q '"peer":"bob@b.test"'
	run as newbob nc-recv
	[ -z "$output" ]
	run as alice nc-send --flush
	[ "$status" -eq 1 ]
	run as alice nc-keys show bob@b.test
	[[ "$output" == *"CHANGED"* ]]
	[[ "$output" == *"new key:"* ]]
}

@test "key change: nc-keys trust releases the held messages to the new key, in order" {
	run as alice nc-keys trust bob@b.test "$(as alice nc-keys --json show bob@b.test | jq -r .new_fingerprint)"
	[ "$status" -eq 0 ]
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as newbob nc-recv
	[ "$output" = "$(printf 'alice@a.test: held-1\nalice@a.test: held-2')" ]
	run as alice nc-keys show bob@b.test
	[[ "$output" == *"trusted on first use"* ]]
	[[ "$output" != *CHANGED* ]]
}

@test "key change seen by the receiver: the impostor's message is an alarm, exit 1" {
	# newbob (trusted by alice now) writes to the old bob's contact alice?
	# the old bob pinned alice; a different alice@a.test writes to bob:
	relay_start f a.test
	declare -p RELAY_URL_f RELAY_PID_f | sed 's/^declare -[a-z-]* /export /' >>"$W/relays.env"
	mkdir -p "$W/malice"
	chmod 700 "$W/malice"
	{ echo "relay a.test $RELAY_URL_f"; echo "relay b.test $RELAY_URL_b"; echo "first-contact fetch"; } >"$W/malice/config"
	NC_HOME=$W/malice nc-keygen alice@a.test >/dev/null
	as malice nc-send bob@b.test <<<"impostor" >/dev/null
	# bob's view of a.test is the impostor's relay now
	sed -i "s|^relay a.test .*|relay a.test $RELAY_URL_f|" "$W/bob/config"
	run as bob nc-recv --json
	RELAY_NAMES=f relay_stop f || true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *impostor* ]]
	printf '%s\n' "$output" | grep '"type":"alarm"' | grep -q 'alice@a.test'
}
