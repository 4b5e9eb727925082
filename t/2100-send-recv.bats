#!/usr/bin/env bats
# nc-send / nc-recv between two relays: text and JSON lines, receipts,
# exit codes, history, nothing printed twice.

load helpers/relay
load helpers/client

setup() { world_load; }

teardown() {
	[ -z "${pid:-}" ] || kill "$pid" 2>/dev/null || true
}

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

@test "send: exit 0, prints the message id; recv prints it once as text" {
	run as alice nc-send bob@b.test <<<"hello bob"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: hello bob" ]
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "recv --json: the message line has every field; the sender gets a receipt" {
	id=$(as alice nc-send bob@b.test <<<'quote " backslash \ tab	end')
	run as bob nc-recv --json
	[ "$status" -eq 0 ]
	lines_eq 1
	printf '%s\n' "$output" | jq -e --arg id "$id" '.type == "message" and .id == $id
	    and .from == "alice@a.test" and (.device | test("^[0-9a-f]{32}$"))
	    and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))
	    and .body == "quote \" backslash \\ tab\tend"'
	run as alice nc-recv --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -s -e --arg id "$id" 'map(select(.type == "receipt" and .id == $id))
	    | length == 1 and .[0].from == "bob@b.test"
	    and .[0].status == "delivered"'
}

@test "recv: multi-line bodies keep the sender prefix on every line; controls escaped" {
	printf 'one\ntwo\033[31m\n' | as alice nc-send bob@b.test
	run as bob nc-recv
	[ "${lines[0]}" = "alice@a.test: one" ]
	[ "${lines[1]}" = "alice@a.test: two?[31m" ]
}

@test "send: a message in both directions, both ways in order" {
	for i in 1 2 3; do as alice nc-send bob@b.test <<<"a$i" >/dev/null; done
	for i in 1 2 3; do as bob nc-send alice@a.test <<<"b$i" >/dev/null; done
	run as bob nc-recv
	[ "$output" = "$(printf 'alice@a.test: a1\nalice@a.test: a2\nalice@a.test: a3')" ]
	run as alice nc-recv
	printf '%s\n' "$output" | grep -v '^receipt' >"$W/o"
	[ "$(cat "$W/o")" = "$(printf 'bob@b.test: b1\nbob@b.test: b2\nbob@b.test: b3')" ]
}

@test "send: unknown user -> 67, one line" {
	run as alice nc-send nobody@b.test <<<"x"
	[ "$status" -eq 67 ]
	lines_eq 1
	[[ "$output" == "nc-send: nobody@b.test: no such user" ]]
}

@test "send: more than 64 KiB -> 65 with a hint; not UTF-8 or empty -> 65" {
	run as alice nc-send bob@b.test < <(head -c 70000 /dev/zero | tr '\0' a)
	[ "$status" -eq 65 ]
	[[ "$output" == *"nc-send: hint: "* ]]
	run as alice nc-send bob@b.test < <(printf '\xff\xfe')
	[ "$status" -eq 65 ]
	run as alice nc-send bob@b.test </dev/null
	[ "$status" -eq 65 ]
	# exactly 64 KiB is fine
	run as alice nc-send bob@b.test < <(head -c 65536 /dev/zero | tr '\0' b)
	[ "$status" -eq 0 ]
	run as bob nc-recv --json
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -r .body | wc -c)" -eq 65537 ]
}

@test "usage: bad arguments -> 64 for every command; -h, -V -> 0" {
	for c in "nc-send" "nc-send --bogus bob@b.test" "nc-send not-an-address" \
	    "nc-send --flush bob@b.test" "nc-send --ttl x bob@b.test" \
	    "nc-send --cancel not-an-id" "nc-recv --since 1" "nc-recv --follow -" \
	    "nc-keys" "nc-keys frob" "nc-keys trust"; do
		run as alice $c </dev/null
		echo "$c: $status"
		[ "$status" -eq 64 ]
	done
	for c in nc-send nc-recv nc-keys nc-keygen; do
		run $c -h
		[ "$status" -eq 0 ]
		run $c -V
		[ "$status" -eq 0 ]
		[[ "$output" == "$c "* ]]
	done
}

@test "state at rest: no message body, session or key in clear in state.db" {
	as alice nc-send bob@b.test <<<"plaintext-canary-4711" >/dev/null
	as alice nc-send bob@b.test <<<"second" >/dev/null
	as bob nc-recv >/dev/null
	for u in alice bob; do
		sqlite3 "$W/$u/state.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
		! grep -a -q plaintext-canary-4711 "$W/$u/state.db"
	done
	# a sealed row moved to another row does not open (AD binds the row)
	rm -rf "$W/bobcopy"
	cp -a "$W/bob" "$W/bobcopy"
	sqlite3 "$W/bobcopy/state.db" "UPDATE message SET body = (SELECT body FROM message
	    ORDER BY seq LIMIT 1) WHERE seq = (SELECT max(seq) FROM message)"
	run as bobcopy nc-recv --history
	[ "$status" -ne 0 ]
	[[ "$output" == *"damaged or moved"* ]]
}

@test "recv --history: both directions, filtered by user, text and JSON" {
	run as bob nc-recv --history alice@a.test
	[ "$status" -eq 0 ]
	[[ "$output" == *" alice@a.test: hello bob"* ]]
	[[ "$output" == *" > alice@a.test: b1"* ]]
	run as bob nc-recv --history --json
	# one whole JSON object a line, however many lines
	[ "$(printf '%s\n' "$output" | wc -l)" -ge 2 ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.type == "message")' | wc -l)" -eq \
	    "$(printf '%s\n' "$output" | wc -l)" ]
	printf '%s\n' "$output" | grep '"dir":"out"' | grep -q '"to":"alice@a.test"'
	printf '%s\n' "$output" | grep '"dir":"in"' | grep -q '"from":"alice@a.test"' 
	run as bob nc-recv --history nobody@b.test
	[ -z "$output" ]
}

@test "state: keys show and recv --history, which only read, write nothing" {
	sums() { cat "$W/bob/state.db" "$W/bob/state.db-wal" 2>/dev/null | sha256sum; }
	before=$(sums)
	as bob nc-keys show alice@a.test >/dev/null
	as bob nc-recv --history >/dev/null
	as bob nc-recv --history --json alice@a.test >/dev/null
	[ "$(sums)" = "$before" ]
}

@test "send --wait: exit 0 once the receipt is back" {
	NC_HOME=$W/bob nc-recv --follow >"$W/follow.out" 2>&1 3>&- &
	pid=$!
	run as alice nc-send --wait 20 bob@b.test <<<"wait for me"
	kill $pid; wait $pid || true
	[ "$status" -eq 0 ]
	grep -q "wait for me" "$W/follow.out"
}

@test "send --wait: no receipt within the time -> 75" {
	run as alice nc-send --wait 1 bob@b.test <<<"nobody reads this"
	echo "$output"
	[ "$status" -eq 75 ]
	as bob nc-recv >/dev/null
}

@test "recv --follow: prints as messages arrive, JSON too, resumes after a relay restart" {
	NC_HOME=$W/bob nc-recv --follow --json >"$W/f.out" 2>"$W/f.err" 3>&- &
	pid=$!
	as alice nc-send bob@b.test <<<"follow-1" >/dev/null
	for i in $(seq 50); do grep -q follow-1 "$W/f.out" && break; sleep 0.1; done
	# the relay comes back on a new port: the follower rereads its config
	relay_down b
	relay_up b
	as alice nc-send bob@b.test <<<"follow-2" >/dev/null
	for i in $(seq 100); do grep -q follow-2 "$W/f.out" && break; sleep 0.1; done
	kill $pid; wait $pid || true
	cat "$W/f.out" "$W/f.err"
	grep -q '"body":"follow-1"' "$W/f.out"
	grep -q '"body":"follow-2"' "$W/f.out"
	[ "$(grep -c follow- "$W/f.out")" -eq 2 ]
}

@test "send to oneself from a user's only device: accepted at once, kept in history" {
	run timeout 20 bash -c 'NC_HOME=$W/alice nc-send alice@a.test <<<"note to self"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	id=$output
	run as alice nc-recv --history alice@a.test --json
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"id\":\"$id\""*'"status":"accepted"'* ]]
	run timeout 20 bash -c 'NC_HOME=$W/alice nc-send --flush'
	[ "$status" -eq 0 ]
}
