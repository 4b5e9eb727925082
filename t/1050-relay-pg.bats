#!/usr/bin/env bats
# nc-relayd on PostgreSQL (--db): a real server in a temporary directory
# (initdb + pg_ctl, as nobody when we are root; a Unix socket, no port).
# The relay's route, limits, durability and counter tests, and nc-sync's
# backup and restore, run again with
# every relay on it (NC_RELAY_DB=pg), then four relay processes share one
# database: prekey claims, device-list versions and long-polls across
# them, and the data directory's lock they share. No PostgreSQL installed is a failure, not a skip (make deps
# installs it). Under the sanitizers (NC_ASAN, NC_QUICK: check-asan and
# check-tsan) the suites run again are fewer and smaller: the routes, the
# counter, push and 400 envelopes killed at random instead of 2,000; the tests
# of four relays on one database run in full everywhere.

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

# For the two tests that make a batch: hold_row USER locks USER's row at
# relay A in a psql session of our own (fd 5 feeds it), and returns once
# it holds it; wait_for locked, then queued N (N connections to relay A
# established and read whole by it: receive queues empty, /proc/net/tcp's
# local address, state 01, queues), each for up to 10 s; release_row
# commits and ends the session. put NAME ID FILE: one envelope for
# alice's device $a at $U in the background, "code NAME" into $T/codes.
hold_row() {
	mkfifo "$T/sql"
	"$(pg_bindir)/psql" -X -q -h "$NC_PG_DIR" -U nc -d "$RELAY_DB_A" <"$T/sql" >/dev/null &
	psql_pid=$!
	exec 5>"$T/sql"
	echo "BEGIN; SELECT 1 FROM users WHERE name = '$1' FOR UPDATE;" >&5
	wait_for holding
}
holding() { [ "$(relay_sql A "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'")" -ge 1 ]; }
locked() { [ "$(relay_sql A "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted")" -ge 1 ]; }
queued() {
	awk -v p=":$(printf '%04X' "${U##*:}")" -v want="$1" '$2 ~ p "$" && $4 == "01" {
	    split($5, q, ":"); n++; if (q[2] !~ /^0+$/) bad = 1 }
	    END { exit !(n >= want && !bad) }' /proc/net/tcp
}
wait_for() {
	for _ in $(seq 200); do "$@" && return 0; sleep 0.05; done
	"$@"
}
release_row() {
	echo "COMMIT;" >&5
	exec 5>&-
	wait "$psql_pid"
}
put() {
	curl -s -o /dev/null -w "%{http_code} $1\n" -X PUT \
	    -H 'Content-Type: application/octet-stream' --data-binary @"$T/$3" \
	    "$U/v1/users/alice/devices/$a/mailbox/$2" >>"$T/codes" &
	puts="$puts $!"
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

@test "pg: the relay's limits, backup, counter, push and shutdown tests, and nc-sync's backups, pass on PostgreSQL" {
	if [ -n "${NC_ASAN:-}${NC_QUICK:-}" ]; then
		suite_on_pg "$BATS_TEST_DIRNAME/1008-relay-backup.bats" \
		    "$BATS_TEST_DIRNAME/1010-relay-counter.bats" \
		    "$BATS_TEST_DIRNAME/1020-relay-push.bats"
	else
		suite_on_pg "$BATS_TEST_DIRNAME/1001-relay-limits.bats" \
		    "$BATS_TEST_DIRNAME/1003-relay-stop.bats" \
		    "$BATS_TEST_DIRNAME/1008-relay-backup.bats" \
		    "$BATS_TEST_DIRNAME/1010-relay-counter.bats" \
		    "$BATS_TEST_DIRNAME/1020-relay-push.bats" \
		    "$BATS_TEST_DIRNAME/2750-sync-backup.bats"
	fi
}

@test "pg: SIGKILL of two relays and a crash of the server during concurrent deliveries lose no acknowledged envelope" {
	[ -z "${NC_ASAN:-}" ] || export NC_QUICK=1
	suite_on_pg "$BATS_TEST_DIRNAME/1002-relay-durability.bats"
}

# Deliveries waiting in one process are committed together (group commit,
# store_pg.c): each is still answered for itself. 52 at once to a mailbox
# of 20: ids sent twice with the same bytes, twice with other bytes, and
# to a user who does not exist, mixed in one batch.
@test "pg: concurrent deliveries committed together are each answered alone; only the 201s are stored" {
	NC_RELAY_DB=pg relay_start A a.test --rate-anon 0 --mailbox-max 20
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	head -c 400 /dev/urandom >"$T/b1"
	head -c 400 /dev/urandom >"$T/b2"
	put() {   # USER ID BODY: "code user id body" appended to $T/codes
		curl -s -o /dev/null -w "%{http_code} $1 $2 $3\n" -X PUT \
		    -H 'Content-Type: application/octet-stream' --data-binary @"$T/$3" \
		    "$U/v1/users/$1/devices/$dev/mailbox/$2" >>"$T/codes" &
		puts="$puts $!"
	}
	puts=
	for i in $(seq 0 31); do
		id=$(printf '%032x' "$i")
		put alice "$id" b1
		case $((i % 8)) in
		0|4) put alice "$id" b2 ;;     # other bytes: 409, or 507
		1|5) put alice "$id" b1 ;;     # a retry: 201 again, or 507
		2) put nobody "$id" b1 ;;      # 404
		esac
	done
	for p in $puts; do wait "$p"; done
	[ "$(wc -l <"$T/codes")" = 52 ]
	[ -z "$(grep -Ev '^(201|409|507) alice |^404 nobody ' "$T/codes")" ]
	[ "$(grep -c '^404 nobody ' "$T/codes")" = 4 ]
	awk '$1 == 201 {print $3}' "$T/codes" | sort -u >"$T/acked"
	awk '$1 == 201 {print $3, $4}' "$T/codes" | sort -u | awk '{print $1}' |
	    uniq -d >"$T/both"
	[ ! -s "$T/both" ]                               # never both bytes
	mailbox_ids "$T/alice" alice "$dev" "$T/listed"
	[ "$(wc -l <"$T/listed")" = 20 ]                 # the mailbox filled
	[ -z "$(uniq -d "$T/listed")" ]
	cmp "$T/acked" "$T/listed"                       # every 201, no other
}

# The batch run again without a job: a delivery of several envelopes (all
# or nothing) refused after one of them was stored undoes the batch's
# transaction, and the batch runs again without it. To have it in one
# batch with others, the first delivery's batch waits on alice's row,
# locked by a session of our own, while the others queue behind it in the
# relay (each read whole: no byte left unread on its socket); then the
# lock goes. The others: 6 single envelopes (201), 2 batches of two that
# are refused half-way (409 and 410: nothing of them stored), one that
# is stored whole (201).
@test "pg: a batch with a delivery refused half-way runs again without it; the others are stored once" {
	NC_RELAY_DB=pg relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
	newuser alice
	a=$(devid alice)
	adddev alice phone
	p=$(devid phone)
	ncreq devlist "$T/alice" alice@a.test 7 >"$T/dl"   # alice's device only
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl")" = 201 ]
	head -c 300 /dev/urandom >"$T/m"
	head -c 300 /dev/urandom >"$T/other"
	used=$(ncreq hex 16)
	[ "$(req PUT "/v1/users/alice/devices/$a/mailbox/$used" "$T/m")" = 201 ]
	# half-way: a new envelope, then the used id with other bytes (409);
	# a new one, then one for the device dropped from the list (410)
	h1=$(ncreq hex 16); h2=$(ncreq hex 16); w1=$(ncreq hex 16); w2=$(ncreq hex 16)
	ncreq deliver 7 "$a:$h1:$T/m" "$a:$used:$T/other" >"$T/half1"
	ncreq deliver 7 "$a:$h2:$T/m" "$p:$(ncreq hex 16):$T/m" >"$T/half2"
	ncreq deliver 7 "$a:$w1:$T/m" "$a:$w2:$T/m" >"$T/whole"
	hold_row alice   # ours before the first delivery comes
	post() {   # FILE: a batch, "code FILE" into $T/codes
		curl -s -o /dev/null -w "%{http_code} $1\n" -X POST \
		    -H 'Content-Type: application/octet-stream' --data-binary @"$T/$1" \
		    "$U/v1/users/alice/deliver" >>"$T/codes" &
		puts="$puts $!"
	}
	puts=
	id=$(ncreq hex 16); put "$id" "$id" m
	wait_for locked   # the first batch waits for alice's row
	for i in 1 2 3; do id=$(ncreq hex 16); put "$id" "$id" m; done
	post half1; post half2; post whole
	for i in 1 2 3; do id=$(ncreq hex 16); put "$id" "$id" m; done
	wait_for queued 10   # all ten read whole by the relay
	release_row
	for x in $puts; do wait "$x"; done
	[ "$(wc -l <"$T/codes")" = 10 ]
	[ "$(grep -c '^201 ' "$T/codes")" = 8 ]
	grep -q '^409 half1$' "$T/codes"
	grep -q '^410 half2$' "$T/codes"
	grep -q '^201 whole$' "$T/codes"
	{ awk '$1 == 201 && $2 != "whole" {print $2}' "$T/codes"; echo "$used"; echo "$w1"; echo "$w2"; } |
	    sort >"$T/acked"
	mailbox_ids "$T/alice" alice "$a" "$T/listed"
	cmp "$T/acked" "$T/listed"            # every 201 once; nothing of half1, half2
	[ "$(relay_sql A "SELECT mail_n FROM devices WHERE dev = '\\x$a'")" = 10 ]
	# the batches the nine after the first went in (by their transactions)
	echo "# batches: $(relay_sql A "SELECT count(DISTINCT xmin::text) FROM mail WHERE envid <> '\\x$used'") (the first delivery's and the rest's: 2)" >&3
}

# A batch whose statuses depend on each other: one statement for the
# whole batch cannot give them, so it runs one envelope at a time
# (store_pg.c, Q_DELIVER_SET), and each gets the answer it would alone,
# in whatever order they queued: a retry of a stored envelope 201 (held;
# it takes no room), the stored id with other bytes 409, and three new
# envelopes for the last two places of a mailbox of 4, one of them sent
# twice (both copies get the same answer): two are stored, one gets 507.
# The batch is made as in the test above: the first delivery holds the
# way on alice's row, locked by a session of our own, while the others
# queue behind it in the relay.
@test "pg: a batch with an id twice, a retry and the mailbox filling gets the answers of one delivery after another" {
	NC_RELAY_DB=pg relay_start A a.test --rate-anon 0 --mailbox-max 4
	U=$RELAY_URL_A
	newuser alice
	a=$(devid alice)
	head -c 300 /dev/urandom >"$T/m"
	head -c 300 /dev/urandom >"$T/other"
	p1=$(ncreq hex 16); lead=$(ncreq hex 16); x=$(ncreq hex 16)
	n1=$(ncreq hex 16); n2=$(ncreq hex 16)
	[ "$(req PUT "/v1/users/alice/devices/$a/mailbox/$p1" "$T/m")" = 201 ]
	hold_row alice   # ours before the first delivery comes
	puts=
	put lead "$lead" m
	wait_for locked   # the first batch waits for alice's row
	put retry "$p1" m
	put conflict "$p1" other
	put x1 "$x" m
	put x2 "$x" m
	put n1 "$n1" m
	put n2 "$n2" m
	wait_for queued 7   # all seven read whole by the relay
	release_row
	for k in $puts; do wait "$k"; done
	code() { awk -v n="$1" '$2 == n {print $1}' "$T/codes"; }
	[ "$(wc -l <"$T/codes")" = 7 ]
	[ "$(code lead)" = 201 ] && [ "$(code retry)" = 201 ] && [ "$(code conflict)" = 409 ]
	[ "$(code x1)" = "$(code x2)" ]
	[ "$(grep -c '^507 ' "$T/codes")" = "$([ "$(code x1)" = 507 ] && echo 2 || echo 1)" ]
	{ echo "$p1"; echo "$lead"; [ "$(code x1)" = 201 ] && echo "$x"
	  [ "$(code n1)" = 201 ] && echo "$n1"; [ "$(code n2)" = 201 ] && echo "$n2"; } |
	    sort >"$T/stored"
	[ "$(wc -l <"$T/stored")" = 4 ]        # the mailbox full, no more
	mailbox_ids "$T/alice" alice "$a" "$T/listed"
	cmp "$T/stored" "$T/listed"           # every 201 stored once
	[ "$(relay_sql A "SELECT mail_n FROM devices WHERE dev = '\\x$a'")" = 4 ]
	# the retry kept the first bytes
	[ "$(relay_sql A "SELECT count(*) FROM mail WHERE envid = '\\x$p1' AND hash = '\\x$(b2sum -l 256 "$T/m" | cut -c1-64)'")" = 1 ]
}

# Four relay processes, A to D, on one database (and one data directory);
# RELAY_URLS: their URLs, A first. url_of N: the Nth of them (mod 4).
four_relays() {
	local r
	NC_RELAY_DB=pg relay_start A a.test "$@"
	for r in B C D; do relay_start "$r" a.test --db-of A "$@"; done
	RELAY_URLS=("$RELAY_URL_A" "$RELAY_URL_B" "$RELAY_URL_C" "$RELAY_URL_D")
	[ "$(relay_sql A 'SELECT 1')" = 1 ]
}

url_of() {
	echo "${RELAY_URLS[$(($1 % 4))]}"
}

@test "pg: 8 clients claiming one-time prekeys through four relays get distinct keys" {
	four_relays --rate-anon 0
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	ncreq prekeys "$T/alice" 100 >"$T/pk"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/prekeys" "$T/pk")" = 201 ]
	pids=()
	for p in 1 2 3 4 5 6 7 8; do
		u=$(url_of "$p")
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

@test "pg: concurrent device-list updates through four relays: versions only increase" {
	four_relays
	U=$RELAY_URL_A
	newuser alice
	for v in $(seq 1 24); do ncreq devlist "$T/alice" alice@a.test "$v" >"$T/dl$v"; done
	now=$(date +%s)
	pids=()
	for v in $(seq 1 24); do
		u=$(url_of "$v")
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
	for u in "${RELAY_URLS[@]}"; do
		U=$u
		[ "$(req GET /v1/users/alice/devicelist)" = 200 ]
		cmp "$T/resp" "$T/dl24"
	done
	U=$RELAY_URL_B
	[ "$(sreq "$T/alice" PUT /v1/users/alice/devicelist "$T/dl23")" = 409 ]
}

@test "pg: long-polls held by three relays wake within 100 ms of a delivery to the fourth (and a link take at once)" {
	four_relays
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	after=0
	for round in 1 2; do
		p="/v1/users/alice/devices/$dev/mailbox?after=$after&wait=20"
		lps=()
		for r in A C D; do
			ncreq sign "$T/alice" GET "$p" >"$T/h$r"
			u=$(eval echo "\$RELAY_URL_$r")
			( curl -s -H @"$T/h$r" "$u$p" -o "$T/lp$r"; echo "$EPOCHREALTIME" >"$T/t_end$r" ) &
			lps+=($!)
		done
		sleep 0.5
		echo "ping $round" >"$T/m"
		e=$(ncreq hex 16)
		U=$RELAY_URL_B
		[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e" "$T/m")" = 201 ]
		echo "$EPOCHREALTIME" >"$T/t_201"
		wait "${lps[@]}"
		for r in A C D; do
			[ "$(ncreq show mailbox "$T/lp$r" | awk '{print $2}')" = "$e" ]
			d=$(awk -v a="$(cat "$T/t_201")" -v b="$(cat "$T/t_end$r")" \
			    'BEGIN{printf "%d", (b - a) * 1000}')
			echo "# round $round: the poll at $r answered $d ms after B's 201" >&3
			# B answers 201 after its commit; the poll (woken only by
			# the NOTIFY: without it, it would wait 20 s) ends within 100 ms
			[ "$d" -lt 100 ]
		done
		after=$(ncreq show mailbox "$T/lpA" | awk '{print $1}')
	done
	# a link box's take (protocol.md 1.11) held at C, the message put at B
	box=$(ncreq hex 16)
	[ "$(req PUT "/v1/users/alice/link/$box")" = 201 ]
	( curl -s "$RELAY_URL_C/v1/users/alice/link/$box?wait=20" -o "$T/took"
	  echo "$EPOCHREALTIME" >"$T/t_endL" ) &
	lps=($!)
	sleep 0.5
	[ "$(sreq "$T/alice" POST "/v1/users/alice/link/$box" "$T/m")" = 201 ]
	echo "$EPOCHREALTIME" >"$T/t_201"
	wait "${lps[@]}"
	cmp "$T/took" "$T/m"
	d=$(awk -v a="$(cat "$T/t_201")" -v b="$(cat "$T/t_endL")" 'BEGIN{printf "%d", (b - a) * 1000}')
	echo "# the link take at C answered $d ms after B's 201" >&3
	[ "$d" -lt 1000 ]
}

@test "pg: relays on --db share their data directory, which a relay on sqlite cannot take, nor they its" {
	NC_RELAY_DB=pg relay_start A a.test
	relay_start B a.test --db-of A
	run nc-relayd -d "$RELAY_DIR_A" -l 127.0.0.1:0 -D a.test
	[ "$status" = 75 ]
	[[ "$output" == *"in use by nc-relayd on PostgreSQL (--db); stop them first"* ]]
	relay_stop A
	relay_stop B
	relay_start S a.test   # sqlite
	run nc-relayd -d "$RELAY_DIR_S" --db "$RELAY_DB_A" -l 127.0.0.1:0 -D a.test
	[ "$status" = 75 ]
	[[ "$output" == *"in use by another nc-relayd on sqlite (pid $RELAY_PID_S)"* ]]
}

@test "pg: after the server restarts, the next requests are answered, not 503 from a pooled connection it closed" {
	NC_RELAY_DB=pg relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	# reads at once (deliveries would be committed together, on one
	# connection), so that the relay's pool holds several connections
	# (besides its listener's)
	: >"$T/get.cfg"
	for i in $(seq 64); do
		printf 'url = "%s/v1/blobs/%064x"\noutput = "/dev/null"\n' "$U" "$i" >>"$T/get.cfg"
	done
	curl -s --no-progress-meter --parallel --parallel-max 16 -K "$T/get.cfg" \
	    -w '%{http_code}\n' >"$T/codes"
	[ "$(grep -c '^404$' "$T/codes")" = 64 ]
	n=$(relay_sql A "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	echo "# the relay's connections: $n" >&3
	[ "$n" -ge 3 ]
	pg_stop "$NC_PG_DIR" fast
	pg_restart "$NC_PG_DIR"
	# a read, tried on two connections at most: the stale ones are
	# left, not tried
	for i in 1 2 3; do
		[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox")" = 200 ]
	done
	# what it said of the restart, if it noticed it at all
	sed -i -e '/^nc-relayd: database: reachable again$/d' \
	    -e '/^nc-relayd: database: .*; requests answer 503 until it is back$/d' \
	    "$(_relay_err A)"
}
