#!/usr/bin/env bats
# nc-relayd on PostgreSQL (--db): a real server in a temporary directory
# (initdb + pg_ctl, as nobody when we are root; a Unix socket, no port).
# The relay's route, limits, durability and counter tests run again with
# every relay on it (NC_RELAY_DB=pg), then two relay processes share one
# database: prekey claims, device-list versions and long-polls across
# them. No PostgreSQL installed is a failure, not a skip (make deps
# installs it). Under the sanitizers (NC_ASAN, NC_QUICK: check-asan and
# check-tsan) the suites run again are fewer and smaller: the routes, the
# counter, push and 400 envelopes killed at random instead of 2,000; the tests
# of two relays on one database run in full everywhere.

load helpers/relay
load helpers/relay-req

setup_file() {
	NC_PG_DIR=$(mktemp -u /tmp/ncpg.XXXXXX)
	export NC_PG_DIR
	pg_start "$NC_PG_DIR" || {
		echo "no PostgreSQL server to test with: run make deps" >&2
		return 1
	}
}

teardown_file() {
	pg_stop "$NC_PG_DIR" immediate
	rm -rf "$NC_PG_DIR"
}

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	relay_stop_all
}

# The relay test files again, each relay in its own database on the
# server (relay.bash). Their relays' stderr is checked as in t/run.
suite_on_pg() {
	run env NC_RELAY_DB=pg bats --tap "$@"
	echo "$output" | grep -E '^(not ok|#)' || true
	[ "$status" -eq 0 ]
	! echo "$output" | grep -q '^not ok'
}

@test "pg: the relay's route tests pass on PostgreSQL" {
	suite_on_pg "$BATS_TEST_DIRNAME/1000-relay-routes.bats"
}

@test "pg: the relay's limits, counter, push and shutdown tests pass on PostgreSQL" {
	if [ -n "${NC_ASAN:-}${NC_QUICK:-}" ]; then
		suite_on_pg "$BATS_TEST_DIRNAME/1010-relay-counter.bats" \
		    "$BATS_TEST_DIRNAME/1020-relay-push.bats"
	else
		suite_on_pg "$BATS_TEST_DIRNAME/1001-relay-limits.bats" \
		    "$BATS_TEST_DIRNAME/1003-relay-stop.bats" \
		    "$BATS_TEST_DIRNAME/1010-relay-counter.bats" \
		    "$BATS_TEST_DIRNAME/1020-relay-push.bats"
	fi
}

@test "pg: SIGKILL during concurrent deliveries loses no acknowledged envelope" {
	[ -z "${NC_ASAN:-}" ] || export NC_QUICK=1
	suite_on_pg "$BATS_TEST_DIRNAME/1002-relay-durability.bats"
}

# Two relay processes, A and B, on one database (and one blob directory).
two_relays() {
	NC_RELAY_DB=pg relay_start A a.test "$@"
	relay_start B a.test --db-of A "$@"
	[ "$(relay_sql A 'SELECT 1')" = 1 ]
}

@test "pg: 8 clients claiming one-time prekeys through two relays get distinct keys" {
	two_relays --rate-anon 0
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	ncreq prekeys "$T/alice" 100 >"$T/pk"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	pids=()
	for p in 1 2 3 4 5 6 7 8; do
		if [ $((p % 2)) = 0 ]; then u=$RELAY_URL_A; else u=$RELAY_URL_B; fi
		( for i in 1 2 3 4 5 6 7 8 9 10; do
			curl -s -X POST "$u/v1/users/alice/prekeys/claim" -o "$T/c.$p.$i"
		  done ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for f in "$T"/c.*; do ncreq show claim "$f"; done | awk '{print $3}' >"$T/ids"
	[ "$(wc -l <"$T/ids")" = 80 ]
	! grep -qx -- - "$T/ids"
	[ "$(sort -u "$T/ids" | wc -l)" = 80 ]
	U=$RELAY_URL_B
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/prekeys")" = 200 ]
	[ "$(ncreq show count "$T/resp")" = "1 20" ]
}

@test "pg: concurrent device-list updates through two relays: versions only increase" {
	two_relays
	U=$RELAY_URL_A
	newuser alice
	for v in $(seq 1 24); do ncreq devlist "$T/alice" alice@a.test "$v" >"$T/dl$v"; done
	now=$(date +%s)
	pids=()
	for v in $(seq 1 24); do
		if [ $((v % 2)) = 0 ]; then u=$RELAY_URL_A; else u=$RELAY_URL_B; fi
		p=/v1/users/alice/devicelist
		NCREQ_TIME=$((now + v)) ncreq sign "$T/alice" PUT "$p" "$T/dl$v" >"$T/h$v"
		( curl -s -o /dev/null -w '%{http_code}' -X PUT -H @"$T/h$v" \
		    -H 'Content-Type: application/octet-stream' --data-binary @"$T/dl$v" \
		    "$u$p" >"$T/code$v" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	: >"$T/ok"
	for v in $(seq 1 24); do
		c=$(cat "$T/code$v")
		[ "$c" = 201 ] || [ "$c" = 409 ] || { echo "version $v: $c"; false; }
		[ "$c" != 201 ] || echo "$v" >>"$T/ok"
	done
	grep -qx 24 "$T/ok"   # the newest is never refused
	# the key log holds exactly the accepted versions, in increasing order
	relay_sql A "SELECT version FROM kt_leaves WHERE usr = 'alice' ORDER BY idx" >"$T/log"
	sort -n "$T/ok" | cmp - "$T/log"
	sort -n -c "$T/log"
	[ -z "$(uniq -d "$T/log")" ]
	for u in "$RELAY_URL_A" "$RELAY_URL_B"; do
		U=$u
		[ "$(req GET /v1/users/alice/devicelist)" = 200 ]
		cmp "$T/resp" "$T/dl24"
	done
	U=$RELAY_URL_B
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl23")" = 409 ]
}

@test "pg: a long-poll held by one relay wakes within 100 ms of a delivery to the other" {
	two_relays
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	after=0
	for round in 1 2 3; do
		p="/v1/users/alice/devices/$dev/mailbox?after=$after&wait=20"
		ncreq sign "$T/alice" GET "$p" >"$T/h"
		( curl -s -H @"$T/h" "$RELAY_URL_A$p" -o "$T/lp"; date +%s.%N >"$T/t_end" ) &
		lp=$!
		sleep 0.5
		echo "ping $round" >"$T/m"
		e=$(ncreq hex 16)
		U=$RELAY_URL_B
		date +%s.%N >"$T/t_put"
		[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e" "$T/m")" = 201 ]
		date +%s.%N >"$T/t_201"
		wait "$lp"
		[ "$(ncreq show mailbox "$T/lp" | awk '{print $2}')" = "$e" ]
		after=$(ncreq show mailbox "$T/lp" | awk '{print $1}')
		d=$(awk -v a="$(cat "$T/t_put")" -v b="$(cat "$T/t_end")" \
		    'BEGIN{printf "%d", (b - a) * 1000}')
		d2=$(awk -v a="$(cat "$T/t_201")" -v b="$(cat "$T/t_end")" \
		    'BEGIN{printf "%d", (b - a) * 1000}')
		echo "# round $round: the poll at A answered $d ms after the PUT to B began, $d2 ms after its 201" >&3
		# B answers 201 after its commit; A's poll (woken only by the
		# NOTIFY: without it, it would wait 20 s) ends within 100 ms
		[ "$d2" -lt 100 ]
	done
}
