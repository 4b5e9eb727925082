#!/usr/bin/env bats
# nc-relayd durability: deliveries that got 201 survive SIGKILL at random
# moments; after every restart the database passes integrity_check; every
# acknowledged envelope is listed exactly once. On PostgreSQL
# (NC_RELAY_DB=pg, run by t/1050) two relay processes share the database,
# the one killed is picked at random, and the server itself is stopped
# once without a checkpoint (pg_ctl -m immediate, a crash) and restarted.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	[ -z "${clients:-}" ] || kill $clients 2>/dev/null || true
	relay_stop_all
}

kill_restart() {   # SIGKILL a relay, check its database, start it again
	local r
	r=$(echo $relays | tr ' ' '\n' | shuf -n 1)
	relay_kill "$r"
	kills=$((kills + 1))
	relay_db_ok "$r"
	relay_restart "$r"
}

wait_acked() {   # until N quarters of the flood are acknowledged, or it ended
	while alive && [ "$(cat "$T"/ok.* 2>/dev/null | wc -l)" -lt $((total * $1 / 4)) ]; do
		sleep 0.02
	done
}

alive() {   # any of $clients still running
	local p
	for p in $clients; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}

# PostgreSQL crashes and comes back.
pg_crash() {
	pg_stop "$NC_PG_DIR" immediate
	pg_restart "$NC_PG_DIR"
	pgkills=$((pgkills + 1))
}

# What a relay may say on stderr about the crash (once each way, whenever
# it notices): taken off its stderr, which must then be empty.
pg_crash_said() {
	local r err
	for r in $relays; do
		err=$(_relay_err "$r")
		sed -i -e '/^nc-relayd: database: reachable again$/d' \
		    -e '/^nc-relayd: database: .*; requests answer 503 until it is back$/d' "$err"
	done
}

@test "relay durability: SIGKILL during 8 concurrent delivery streams loses no acknowledged envelope" {
	total=2000
	[ "${NC_QUICK:-0}" = 1 ] && total=400
	per=$((total / 8))
	relays=A
	relay_start A a.test --rate-anon 0
	if [ "${NC_RELAY_DB:-}" = pg ]; then
		relays="A B"
		relay_start B a.test --db-of A --rate-anon 0
	fi
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	# the server's crash recovery replays the WAL since its last
	# checkpoint: this test's, not every earlier test's on the server
	[ "$relays" = A ] || relay_sql A CHECKPOINT
	clients=
	for c in 1 2 3 4 5 6 7 8; do
		[ $((c % 2)) = 0 ] && [ "$relays" != A ] && u=$RELAY_URL_B || u=$RELAY_URL_A
		ncreq flood "$u/v1/users/alice/devices/$dev/mailbox" "$c" "$per" "$T/ok.$c" \
		    2>>"$T/errors" &
		clients="$clients $!"
	done
	kills=0 pgkills=0
	# Kills at set points of the flood (sqlite: a quarter and half of it
	# acknowledged; PostgreSQL: the server crashes at a quarter, relays
	# are killed at half and three quarters); then more kills at random
	# moments while the clients run. A fast flood may end before a set
	# point (deliveries committed together go quickly): the kill or crash
	# is then made after it, and all that was acknowledged must be there.
	if [ "$relays" = A ]; then
		wait_acked 1; kill_restart
		wait_acked 2; kill_restart
	else
		wait_acked 1; pg_crash
		wait_acked 2; kill_restart
		wait_acked 3; kill_restart
	fi
	while alive; do
		sleep "0.$((RANDOM % 7 + 2))"
		kill_restart
	done
	for p in $clients; do wait "$p"; done
	clients=
	[ ! -s "$T/errors" ]
	[ "$kills" -ge 2 ]
	[ "$relays" = A ] || [ "$pgkills" = 1 ]
	cat "$T"/ok.* | sort >"$T/acked"
	[ "$(wc -l <"$T/acked")" = "$total" ]
	mailbox_ids "$T/alice" alice "$dev" "$T/listed.s"
	[ -z "$(uniq -d "$T/listed.s")" ]                 # nothing twice
	[ -z "$(comm -23 "$T/acked" "$T/listed.s")" ]     # every 201 is there
	for r in $relays; do relay_stop "$r"; done
	[ "$relays" = A ] || pg_crash_said
	relay_db_ok A
}
