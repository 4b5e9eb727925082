#!/usr/bin/env bats
# Sessions that heal (issue 16 item 4, protocol.md 2.13): a copy of
# NC_HOME restored after a few messages, or a device whose sessions are
# gone, must not break a conversation. The stale device finds out before
# it sends (its counter at the relay is ahead) and starts new sessions;
# a receiver takes a new session from a listed device of a known
# identity (a "session" event, never an alarm); a message no session can
# decrypt is reported missing on the receiver and "failure" on its
# sender. A relay cannot roll a session back with a held-back message or
# an old session's first message, nor pass off another identity key as a
# restart.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	mkuser carol carol@a.test
	mkuser dave dave@b.test
	echo hi | as alice nc-send bob@b.test >/dev/null
	as bob nc-recv >/dev/null
	echo hey | as bob nc-send alice@a.test >/dev/null
	as alice nc-recv >/dev/null
}

teardown_file() { world_down; }
setup() { world_load; }

# exchange A B TEXT: A sends TEXT to B's address, B receives; $output is
# B's nc-recv --json, which must show TEXT; no alarm either side.
exchange() {
	local to=$2@${3}
	echo "$4" | as "$1" nc-send "$to" >/dev/null
	run as "$2" nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type alarm)" -eq 0 ]
	has --arg b "$4" 'select(.type == "message") | select(.body == $b)'
}

# has [JQ ARGS] FILTER: some line of $output passes the filter
has() {
	printf '%s\n' "$output" | jq -c "$@" | grep -q .
}

restore() {   # restore NAME: the home replaced by the copy made before
	rm -rf "$W/$1"
	cp -a "$W/$1.copy" "$W/$1"
}

@test "heal: a restored copy of alice's home, bob writes first: reported both sides, then every message gets through" {
	cp -a "$W/alice" "$W/alice.copy"
	for i in 1 2 3; do
		exchange alice bob b.test "a$i"
		exchange bob alice a.test "b$i"
	done
	restore alice
	# into the broken window: bob's session is ahead of the copy's
	lost=$(echo "into the window" | as bob nc-send alice@a.test)
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type alarm)" -eq 0 ]
	[[ "$output" != *"into the window"* ]]
	has 'select(.type == "missing") | select(.peer == "bob@b.test" and .count == 1)'
	# then, within one round trip, both ways
	echo a4 | as alice nc-send bob@b.test >/dev/null
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type alarm)" -eq 0 ]
	has 'select(.type == "session") | select(.peer == "alice@a.test" and .status == "restarted" and (.device | test("^[0-9a-f]{32}$")) and (.reason | length) > 0)'
	has 'select(.type == "message") | select(.body == "a4")'
	# bob learns which of his messages did not arrive
	has --arg id "$lost" 'select(.type == "failure") | select(.id == $id and .to == "alice@a.test")'
	run as bob nc-recv --history alice@a.test
	[[ "$output" == *"[failed] alice@a.test: into the window"* ]]
	exchange bob alice a.test b4
	exchange alice bob b.test a5
	exchange bob alice a.test b5
	rm -rf "$W/alice.copy"
}

@test "heal: a restored copy that writes first finds out before it sends: its message arrives" {
	cp -a "$W/alice" "$W/alice.copy"
	for i in 1 2 3; do
		exchange bob alice a.test "c$i"
		exchange alice bob b.test "d$i"
	done
	restore alice
	echo "first after restore" | as alice nc-send bob@b.test >/dev/null
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type alarm)" -eq 0 ]
	[ "$(count_type missing)" -eq 0 ]
	has 'select(.type == "session") | select(.peer == "alice@a.test")'
	has 'select(.type == "message") | select(.body == "first after restore")'
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	# the copy says what it did, in text too
	run as alice nc-recv --history --json
	exchange bob alice a.test c4
	exchange alice bob b.test d4
	rm -rf "$W/alice.copy"
}

@test "heal: the session event as text" {
	sqlite3 "$W/alice/state.db" "DELETE FROM session"
	echo "after a wipe" | as alice nc-send bob@b.test >/dev/null
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"session alice@a.test restarted: its device started a new session (device "* ]]
	[[ "$output" == *"alice@a.test: after a wipe"* ]]
	exchange bob alice a.test e1
}

@test "heal: a device that lost its sessions entirely: the peer's message is reported, then both ways work" {
	sqlite3 "$W/bob/state.db" "DELETE FROM session"
	lost=$(echo "to a device without sessions" | as alice nc-send bob@b.test)
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type alarm)" -eq 0 ]
	has 'select(.type == "missing") | select(.peer == "alice@a.test" and .count >= 1)'
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type alarm)" -eq 0 ]
	has --arg id "$lost" 'select(.type == "failure") | select(.id == $id)'
	has 'select(.type == "session") | select(.peer == "bob@b.test")'
	exchange alice bob b.test f1
	exchange bob alice a.test f2
	exchange alice bob b.test f3
}

# Carol starts a session with dave (S1) and writes two first messages
# before hearing back; the relay holds the second back. Carol loses her
# sessions and starts S2; later S3.
@test "T16 heal: a held-back message of a replaced session decrypts but does not roll the session back" {
	as carol nc-send -o - dave@b.test <<<"s1 first" >"$W/s1a.asc"
	as carol nc-send -o - dave@b.test <<<"s1 held back" >"$W/s1b.asc"
	as carol nc-send -o - dave@b.test <<<"s1 held back too" >"$W/s1c.asc"
	run as dave nc-recv - <"$W/s1a.asc"
	[ "$output" = "carol@a.test: s1 first" ]
	sqlite3 "$W/carol/state.db" "DELETE FROM session"
	exchange carol dave b.test "s2 first"
	# the relay delivers the held-back S1 message now
	run as dave nc-recv - <"$W/s1b.asc"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "carol@a.test: s1 held back" ]
	# dave still sends with S2, which is all carol has
	exchange dave carol a.test "to s2"
}

@test "T16 heal: an old session's first message replayed after newer sessions is refused, nothing rolls back" {
	sqlite3 "$W/carol/state.db" "DELETE FROM session"
	exchange carol dave b.test "s3 first"
	exchange dave carol a.test "to s3"
	run as dave nc-recv --json - <"$W/s1c.asc"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -eq 1 ]
	[[ "$output" == *"replayed first message"* ]]
	[[ "$output" != *"held back too"* ]]
	[ "$(count_type session)" -eq 0 ]
	exchange dave carol a.test "still s3"
	exchange carol dave b.test "s3 again"
}

@test "T16 heal: a new session under another identity key is an alarm, never a restart" {
	# a relay that also claims a.test, with its own "alice@a.test"
	relay_start f a.test
	declare -p RELAY_URL_f RELAY_PID_f | sed 's/^declare -[a-z-]* /export /' >>"$W/relays.env"
	mkdir -p "$W/malice"
	chmod 700 "$W/malice"
	{ echo "relay a.test $RELAY_URL_f"; echo "relay b.test $RELAY_URL_b"; } >"$W/malice/config"
	NC_HOME=$W/malice nc-keygen alice@a.test >/dev/null
	as malice nc-send bob@b.test <<<"a restart, honest" >/dev/null
	cp "$W/bob/config" "$W/bob.config.keep"
	sed -i "s|^relay a.test .*|relay a.test $RELAY_URL_f|" "$W/bob/config"
	run as bob nc-recv --json
	cp "$W/bob.config.keep" "$W/bob/config"
	RELAY_NAMES=f relay_stop f || true
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(count_type alarm)" -ge 1 ]
	[ "$(count_type session)" -eq 0 ]
	[[ "$output" != *"a restart, honest"* ]]
}
