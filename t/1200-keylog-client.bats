#!/usr/bin/env bats
# The key log, client side (issue 19): every device-list fetch is checked
# against the relay's log (nc-keys show gives the proof's position), nc-keys
# history lists a user's versions, nc-keys audit replays a log from where
# the last audit stopped.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	as alice nc-send bob@b.test <<<"hello" >/dev/null
}

teardown_file() { world_down; }
setup() { world_load; }

kv() { sqlite3 "$W/$1/state.db" "SELECT hex(v) FROM kv WHERE k = '$2'"; }

@test "keylog: a fetched list is proved; show gives its leaf, version and the tree head" {
	run as alice nc-keys --json show bob@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -e '.key_log.version == 1 and .key_log.tree_size >= 1
	    and (.key_log.root | length) == 64 and (.key_log.leaf | type) == "number"'
	run as alice nc-keys show bob@b.test
	[[ "$output" == *"key log:       version 1, leaf "* ]]
	# the pins and the head seen are in kv
	[ "$(kv alice kt/b.test/log | wc -c)" -eq 65 ]
	[ -n "$(kv alice kt/b.test/head)" ]
}

@test "keylog: bob's keys change (a new device): alice sees version 2 with its proof" {
	mkuser bob2 bob@b.test
	old=$(as alice nc-keys --json show bob@b.test | jq .key_log.tree_size)
	run as alice nc-send bob@b.test <<<"to both"
	echo "$output"
	[ "$status" -eq 0 ]
	run as alice nc-keys --json show bob@b.test
	echo "$output"
	printf '%s\n' "$output" | jq -e --argjson old "$old" '.key_log.version == 2
	    and .key_log.tree_size > $old and (.devices | length) == 2'
	run as alice nc-keys --json history bob@b.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -s 'map(.version) == [1,2]')" = true ]
}

@test "keylog: audit of a clean log exits 0 and records its position; a second reads only what is new" {
	run as alice nc-keys --json audit b.test
	echo "$output"
	[ "$status" -eq 0 ]
	size=$(jq .tree_size <<<"$output")
	[ "$(jq .read <<<"$output")" -eq "$size" ]
	[ -n "$(kv alice kt/b.test/audit)" ]
	run as alice nc-keys --json audit b.test
	[ "$status" -eq 0 ]
	[ "$(jq .read <<<"$output")" -eq 0 ]
	mkuser carol carol@b.test
	run as alice nc-keys --json audit b.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .read <<<"$output")" -eq 1 ]
	[ "$(jq .from <<<"$output")" -eq "$size" ]
	# without arguments: this user's domain and its contacts'
	run as alice nc-keys audit
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"a.test: consistent"* && "$output" == *"b.test: consistent"* ]]
}

@test "keylog: an audit state that does not match the log is exit 1, one line" {
	cp -r "$W/alice" "$W/alice-bad"
	sqlite3 "$W/alice-bad/state.db" "UPDATE kv SET v = zeroblob(length(v))
	    WHERE k = 'kt/b.test/audit'"
	sqlite3 "$W/alice-bad/state.db" "UPDATE kv SET v = X'$(printf '%016x' 1)' ||
	    substr(v, 9) WHERE k = 'kt/b.test/audit'"
	mkuser dave dave@b.test
	run as alice-bad nc-keys audit b.test
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$output" | grep -c .)" -eq 1 ]
}

@test "policy: log by default; verified holds messages to a contact not verified until nc-keys verify; tofu; set in the config" {
	run as alice nc-keys --json policy
	[ "$status" -eq 0 ]
	[ "$output" = '{"policy":"log"}' ]
	run as alice nc-keys policy verified
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "policy: verified "* ]]
	[ "$(grep -c '^policy ' "$W/alice/config")" -eq 1 ]
	grep -qx 'policy verified' "$W/alice/config"
	grep -q '^relay b.test ' "$W/alice/config"   # the other lines kept
	# bob is not verified: held, nothing reaches him
	run as alice nc-send bob@b.test <<<"pol-held"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bob@b.test: not verified"* ]]
	run as bob nc-recv
	[[ "$output" != *pol-held* ]]
	# compared and marked verified: the held message goes at the next
	# flush (as after nc-keys trust), new ones at once
	n=$(as alice nc-keys verify bob@b.test)
	as alice nc-keys verify bob@b.test "$n"
	as alice nc-send --flush
	run as alice nc-send bob@b.test <<<"pol-verified"
	echo "$output"
	[ "$status" -eq 0 ]
	run as bob nc-recv
	echo "$output"
	[[ "$output" == *pol-held* && "$output" == *pol-verified* ]]
	# tofu (bots): sends as before; one policy line, replaced
	run as alice nc-keys policy tofu
	[ "$status" -eq 0 ]
	grep -qx 'policy tofu' "$W/alice/config"
	[ "$(grep -c '^policy ' "$W/alice/config")" -eq 1 ]
	run as alice nc-send bob@b.test <<<"pol-tofu"
	[ "$status" -eq 0 ]
	run as alice nc-keys policy nonsense
	[ "$status" -eq 64 ]
	run as alice nc-keys policy log
	[ "$status" -eq 0 ]
	grep -qx 'policy log' "$W/alice/config"
}
