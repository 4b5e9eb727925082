#!/usr/bin/env bats
# nc-relayd durability: deliveries that got 201 survive SIGKILL at random
# moments; after every restart the database passes integrity_check; every
# acknowledged envelope is listed exactly once.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	[ -z "${clients:-}" ] || kill $clients 2>/dev/null || true
	relay_stop_all
}

kill_restart() {   # SIGKILL the relay, check its database, start it again
	relay_kill A
	kills=$((kills + 1))
	relay_db_ok A
	relay_restart A
}

alive() {   # any of $clients still running
	local p
	for p in $clients; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}

@test "relay durability: SIGKILL during 8 concurrent delivery streams loses no acknowledged envelope" {
	total=2000
	[ "${NC_QUICK:-0}" = 1 ] && total=400
	per=$((total / 8))
	relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	clients=
	for c in 1 2 3 4 5 6 7 8; do
		ncreq flood "$U/v1/users/alice/devices/$dev/mailbox" "$c" "$per" "$T/ok.$c" \
		    2>>"$T/errors" &
		clients="$clients $!"
	done
	kills=0
	# Two kills at set points of the flood (a quarter, half of it
	# acknowledged), so a fast machine cannot finish before them; then
	# more at random moments while the clients run.
	for part in 4 2; do
		while alive && [ "$(cat "$T"/ok.* 2>/dev/null | wc -l)" -lt $((total / part)) ]; do
			sleep 0.02
		done
		alive || break
		kill_restart
	done
	while alive; do
		sleep "0.$((RANDOM % 7 + 2))"
		kill_restart
	done
	for p in $clients; do wait "$p"; done
	clients=
	[ ! -s "$T/errors" ]
	[ "$kills" -ge 2 ]
	cat "$T"/ok.* | sort >"$T/acked"
	[ "$(wc -l <"$T/acked")" = "$total" ]
	# list the whole mailbox, page by page
	after=0
	: >"$T/listed"
	while :; do
		[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox?after=$after")" = 200 ]
		ncreq show mailbox "$T/resp" >"$T/page"
		[ -s "$T/page" ] || break
		awk '{print $2}' "$T/page" >>"$T/listed"
		after=$(tail -n 1 "$T/page" | awk '{print $1}')
	done
	sort "$T/listed" >"$T/listed.s"
	[ -z "$(uniq -d "$T/listed.s")" ]                 # nothing twice
	[ -z "$(comm -23 "$T/acked" "$T/listed.s")" ]     # every 201 is there
	relay_stop A
	relay_db_ok A
}
