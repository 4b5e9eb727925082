#!/usr/bin/env bats
# A device's unused one-time prekey secrets stay bounded (security review,
# issue 14 item 3, the client's part): drained at the relay and refilled
# again and again, the pool keeps at most 2 x the relay's target (the
# oldest go first), and secrets published longer ago than the longest
# retry window go.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser bob bob@b.test
}
teardown_file() { world_down; }
setup() { world_load; }

secrets() { sqlite3 "$W/bob/state.db" "SELECT count(*) FROM prekey WHERE kind = 2"; }
at_relay() { sqlite3 "$W/b/relay.db" "SELECT count(*) FROM otpk WHERE user = 'bob'"; }

# drain: every one-time prekey at the relay claimed (as the claim route
# does, past its per-device throttle), then bob's next nc-recv refills
drain_refill() {
	sqlite3 "$W/b/relay.db" "DELETE FROM otpk WHERE user = 'bob'"
	sqlite3 "$W/bob/state.db" "DELETE FROM kv WHERE k = 'prekey_check'"
	as bob nc-recv >/dev/null
	[ "$(at_relay)" -eq 100 ]
}

@test "prekey pool: three drain-and-refill rounds keep at most 200 secrets, the newest" {
	as bob nc-recv >/dev/null
	[ "$(secrets)" -eq 100 ]
	for r in 1 2 3; do
		drain_refill
		echo "round $r: $(secrets)"
		[ "$(secrets)" -le 200 ]
	done
	[ "$(secrets)" -eq 200 ]
	# what the relay hands out now still has its secret here
	[ "$(sqlite3 "$W/bob/state.db" "SELECT count(*) FROM prekey WHERE kind = 2 AND id IN ($(sqlite3 "$W/b/relay.db" "SELECT group_concat(id) FROM otpk WHERE user = 'bob'"))")" -eq 100 ]
}

@test "prekey pool: secrets published before the longest retry window go" {
	sqlite3 "$W/bob/state.db" "UPDATE prekey SET created = created - 367 * 86400 WHERE kind = 2 AND id IN (SELECT id FROM prekey WHERE kind = 2 ORDER BY id LIMIT 50)"
	as bob nc-recv >/dev/null
	[ "$(secrets)" -eq 150 ]
}
