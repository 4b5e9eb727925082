#!/usr/bin/env bats
# nc-relayd under hostile input: oversized, malformed, slow and too many
# requests get the right 4xx and change nothing; SIGTERM ends cleanly.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	relay_stop_all
}

@test "relay limits: oversized bodies are refused from Content-Length, before reading them" {
	relay_start A a.test
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	head -c $((300 << 10)) /dev/zero >"$T/big"
	# Expect: 100-continue makes curl wait for the relay's verdict instead of
	# racing its upload against the early 413 and the close (a reset can eat
	# the answer on a loaded machine).
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)" "$T/big" \
	    -H 'Expect: 100-continue')" = 413 ]
	grep -q 'too large' "$T/resp"
	head -c 2000 /dev/zero >"$T/reg"
	[ "$(req POST /v1/users/bob "$T/reg")" = 413 ]
	[ "$(req POST /v1/users/bob/challenge "$T/reg")" = 413 ]
	# chunked (no Content-Length) past the limit: 413 once the body ends
	run curl -s -o "$T/resp" -w '%{http_code}' -X PUT -H 'Transfer-Encoding: chunked' \
	    --data-binary @"$T/big" "$U/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)"
	[ "$output" = 413 ]
	grep -q 'too large' "$T/resp"
	run curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' \
	    --data-binary @"$T/reg" "$U/v1/users/bob"
	[ "$output" = 413 ]
	# and one that goes on past twice the limit loses its connection
	head -c $((8 << 20)) /dev/zero >"$T/huge"
	run curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Transfer-Encoding: chunked' \
	    --data-binary @"$T/huge" "$U/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)"
	[ "$output" != 201 ] && [ "$output" != 413 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/mailbox")" = 200 ]
	[ "$(ncreq show mailbox "$T/resp" | wc -l)" = 0 ]
}

@test "relay limits: long targets, huge headers, unknown routes and methods" {
	relay_start A a.test
	U=$RELAY_URL_A
	long=$(head -c 3000 /dev/zero | tr '\0' a)
	[ "$(req GET "/v1/blobs/$long")" = 414 ]
	big=$(head -c 40000 /dev/zero | tr '\0' b)
	code=$(req GET /.well-known/newchat "" -H "X-Big: $big")
	[ "$code" -ge 400 ] && [ "$code" -lt 500 ]
	[ "$(req GET /v2/nothing)" = 404 ]
	[ "$(req GET //v1/users)" = 404 ]
	[ "$(req PATCH /v1/users/alice)" = 405 ]
	[ "$(req GET /v1/users/alice)" = 405 ]
	printf 'garbage' >"$T/g"
	[ "$(req POST /v1/users/alice/deliver "$T/g")" = 400 ]
	[ "$(req POST /v1/users/alice "$T/g")" = 400 ]
	[ "$(req POST /v1/users/alice/challenge)" = 404 ]
	# the relay is still serving
	[ "$(req GET /.well-known/newchat)" = 200 ]
}

@test "relay limits: a slow sender is cut off at the total request deadline" {
	relay_start A a.test --request-timeout 2
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	head -c 100000 /dev/zero >"$T/env"
	s=$(date +%s)
	run curl -s -o /dev/null -w '%{http_code}' --limit-rate 2000 -X PUT \
	    --data-binary @"$T/env" --max-time 20 \
	    "$U/v1/users/alice/devices/$dev/mailbox/$(ncreq hex 16)"
	e=$(date +%s)
	[ "$output" != 201 ]
	[ $((e - s)) -le 6 ]
	[ "$(req GET /.well-known/newchat)" = 200 ]
}

@test "relay limits: registrations are rate limited per address, with Retry-After" {
	relay_start A a.test --rate-register 3
	U=$RELAY_URL_A
	newuser u1; newuser u2; newuser u3
	mkdir -p "$T/u4"; ncreq keygen "$T/u4"; ncreq register "$T/u4" >"$T/u4/reg"
	curl -s -D "$T/hdrs" -o "$T/resp" -X POST --data-binary @"$T/u4/reg" "$U/v1/users/u4" >/dev/null
	head -n 1 "$T/hdrs" | grep -q ' 429'
	grep -qi '^Retry-After: [0-9]' "$T/hdrs"
	[ "$(req POST /v1/users/u4/challenge)" = 404 ]
}

@test "relay limits: connections per address are capped" {
	relay_start A a.test --conns-per-ip 2
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	p="/v1/users/alice/devices/$dev/mailbox?wait=3"
	pids=()
	for i in 1 2; do
		ncreq sign "$T/alice" GET "$p" >"$T/h$i"
		curl -s -o /dev/null -H @"$T/h$i" "$U$p" &
		pids+=($!)
	done
	sleep 0.5
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$U/.well-known/newchat"
	[ "$output" = 000 ]
	wait "${pids[@]}"
	[ "$(req GET /.well-known/newchat)" = 200 ]
}

@test "relay limits: SIGTERM ends long-polls in flight and exits 0" {
	relay_start A a.test
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	p="/v1/users/alice/devices/$dev/mailbox?wait=30"
	ncreq sign "$T/alice" GET "$p" >"$T/h"
	curl -s -o "$T/lp" -w '%{http_code}' -H @"$T/h" "$U$p" >"$T/code" &
	lp=$!
	sleep 0.5
	s=$(date +%s)
	relay_stop A
	wait "$lp"
	e=$(date +%s)
	[ "$(cat "$T/code")" = 200 ]
	[ "$(ncreq show mailbox "$T/lp" | wc -l)" = 0 ]
	[ $((e - s)) -le 3 ]
	relay_db_ok A
}
