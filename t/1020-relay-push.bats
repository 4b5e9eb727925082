#!/usr/bin/env bats
# nc-relayd: push endpoints and wake-ups (protocol.md 1.12). A device
# registers an endpoint (signed, checked with one POST that must answer
# 2xx); a delivery into its mailbox sends the fixed, content-free body
# there, one per burst, never following a redirect; an endpoint that fails
# PUSH_FAILS_MAX (5) times in a row is dropped; a slow one delays no
# delivery. The endpoint is t/helpers/push-recv.py on loopback.

load helpers/relay
load helpers/relay-req



setup() {
	T=$BATS_TEST_TMPDIR
	WAKE=$(printf 'newchat wake v1' | xxd -p)
	python3 "$BATS_TEST_DIRNAME/helpers/push-recv.py" "$T/push.log" >"$T/push.url" &
	PUSHPID=$!
	for _ in $(seq 100); do [ -s "$T/push.url" ] && break; sleep 0.05; done
	P=$(head -n 1 "$T/push.url")
	: >"$T/push.log"
	relay_start A a.test --push-allow-local
	U=$RELAY_URL_A
	newuser alice
	newuser bob
	dev=$(devid alice)
}

teardown() {
	relay_stop_all
	kill "$PUSHPID" 2>/dev/null || true
	wait "$PUSHPID" 2>/dev/null || true
}

# pushbody URL FILE: u8 1, str URL
pushbody() {
	{ printf '01%04x' "${#1}" | xxd -r -p; printf '%s' "$1"; } >"$2"
}

# deliver N envelopes of SIZE bytes into alice's mailbox, each 201: one
# curl, one after the other on one connection (a burst, even on a busy
# machine)
deliver() {
	local i a=()
	head -c "$2" /dev/urandom >"$T/env"
	for ((i = 0; i < $1; i++)); do
		[ $i -gt 0 ] && a+=(--next)
		a+=(-s -o /dev/null -w '%{http_code}\n' -X PUT --data-binary @"$T/env"
		    "$U/v1/users/alice/devices/$dev/mailbox/$(head -c 16 /dev/urandom | xxd -p)")
	done
	curl "${a[@]}" >"$T/codes"
	[ "$(sort -u "$T/codes")" = 201 ] && [ "$(wc -l <"$T/codes")" -eq "$1" ]
}

lines() {
	wc -l <"$T/push.log" | tr -d ' '
}

# wait_lines N: until the receiver logged N requests (at most 10 s)
wait_lines() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(lines)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "push: registration is checked with one wake-up; a burst of deliveries gives one, content-free" {
	pushbody "$P/ok/t1" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 201 ]
	[ "$(lines)" = 1 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 200 ]
	cmp "$T/resp" "$T/pb"
	deliver 5 300
	wait_lines 2
	sleep 1.5   # nothing more comes for that burst
	[ "$(lines)" = 2 ]
	# a second burst of other sizes: one more, the same bytes
	deliver 3 20000
	wait_lines 3
	sleep 1.5
	[ "$(lines)" = 3 ]
	cat "$T/push.log"
	# every request: POST, the fixed 15 bytes, nothing else in headers
	# (no sender, size, id: the body is constant and nothing else varies)
	[ "$(awk '{ print $1, $2, $3, $4 }' "$T/push.log" | sort -u)" = "POST /ok/t1 15 $WAKE" ]
	[ "$(awk '{ print $5 }' "$T/push.log" | sort -u)" = "accept,content-length,content-type,host,ttl" ]
	! grep -q alice "$T/push.log"
}

@test "push: registration needs the device's own signature" {
	pushbody "$P/ok/t2" "$T/pb"
	[ "$(req PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 401 ]
	[ "$(sreq "$T/bob" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 401 ]
	[ "$(req GET "/v1/users/alice/devices/$dev/push")" = 401 ]
	[ "$(req DELETE "/v1/users/alice/devices/$dev/push")" = 401 ]
	[ "$(lines)" = 0 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 404 ]
}

@test "push: a redirecting endpoint is refused at registration and never followed" {
	pushbody "$P/redirect/t3" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 400 ]
	grep -q 'answered 302, a redirect' "$T/resp"
	[ "$(lines)" = 1 ]
	grep -q '^POST /redirect/t3 ' "$T/push.log"
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 404 ]
	deliver 1 100
	sleep 1.5
	[ "$(lines)" = 1 ]
	! grep -q /ok/ "$T/push.log"
}

@test "push: a dead endpoint is dropped after 5 failed wake-ups in a row" {
	pushbody "$P/fail/t4" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 201 ]
	for n in 2 3 4 5; do
		deliver 1 100
		wait_lines "$n"
		sleep 0.2
	done
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 200 ]   # 4 failed
	deliver 1 100
	wait_lines 6
	for _ in $(seq 50); do
		[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 404 ] && break
		sleep 0.1
	done
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 404 ]
	deliver 1 100
	sleep 1.5
	[ "$(lines)" = 6 ]
	# a new registration starts over
	pushbody "$P/ok/t4b" "$T/pb2"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb2")" = 201 ]
}

@test "push: a slow endpoint delays no delivery, and gets one wake-up at a time" {
	pushbody "$P/slow/t5" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 201 ]
	deliver 1 100
	wait_lines 2          # the wake-up is held 8 s by the endpoint
	for i in 1 2 3; do
		s=$(date +%s%N)
		deliver 1 100
		ms=$(( ($(date +%s%N) - s) / 1000000 ))
		echo "delivery $i: $ms ms"
		[ "$ms" -lt 2000 ]   # the endpoint holds the push 8 s (timeout: 5 s)
		sleep 0.5
	done
	sleep 1
	[ "$(lines)" = 2 ]    # the one in flight, nothing beside it
	# the relay stops without waiting for the endpoint
	s=$(date +%s)
	relay_stop A
	[ $(( $(date +%s) - s )) -lt 5 ]
}

@test "push: DELETE removes the endpoint; so does deleting the device from the list" {
	pushbody "$P/ok/t6" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 201 ]
	[ "$(sreq "$T/alice" DELETE "/v1/users/alice/devices/$dev/push")" = 204 ]
	[ "$(sreq "$T/alice" DELETE "/v1/users/alice/devices/$dev/push")" = 204 ]
	[ "$(sreq "$T/alice" GET "/v1/users/alice/devices/$dev/push")" = 404 ]
	deliver 2 100
	sleep 1.5
	[ "$(lines)" = 1 ]
}

@test "push: bodies are strict (scheme, user part, fragment, length, trailing bytes)" {
	for u in "ftp://127.0.0.1/x" "http://user@127.0.0.1/x" "http://127.0.0.1/x#f" \
	    "http://127.0.0.1/a b" "http:///x" "http://127.0.0.1:0/x" "http://127.0.0.1:65536/" \
	    "http://-a.test/" "http://a..test/" "http://127.0.0.1/%zz" "HTTP://127.0.0.1/x"; do
		pushbody "$u" "$T/pb"
		[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 400 ] ||
		    { echo "accepted: $u"; return 1; }
	done
	pushbody "$P/ok/t7" "$T/pb"
	{ cat "$T/pb"; printf x; } >"$T/long"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/long")" = 400 ]
	printf '\002' >"$T/v2"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/v2")" = 400 ]
	head -c 1004 /dev/zero >"$T/big"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/big")" = 413 ]
	[ "$(lines)" = 0 ]
	# the longest that is taken: 1000 bytes; 1001 is past the body limit
	u="$P/ok/"
	u="$u$(head -c $((1000 - ${#u})) /dev/zero | tr '\0' b)"
	pushbody "${u}b" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 413 ]
	pushbody "$u" "$T/pb"
	[ "$(sreq "$T/alice" PUT "/v1/users/alice/devices/$dev/push" "$T/pb")" = 201 ]
}

@test "push: without --push-allow-local only https to public addresses" {
	relay_start B b.test
	U=$RELAY_URL_B
	newuser carol
	d=$(devid carol)
	pushbody "$P/ok/t8" "$T/pb"
	[ "$(sreq "$T/carol" PUT "/v1/users/carol/devices/$d/push" "$T/pb")" = 400 ]
	grep -q 'must be an https:// URL' "$T/resp"
	pushbody "https://127.0.0.1:${P##*:}/ok/t8" "$T/pb"
	[ "$(sreq "$T/carol" PUT "/v1/users/carol/devices/$d/push" "$T/pb")" = 400 ]
	grep -q 'loopback, private or reserved' "$T/resp"
	pushbody "https://localhost:${P##*:}/ok/t8" "$T/pb"
	[ "$(sreq "$T/carol" PUT "/v1/users/carol/devices/$d/push" "$T/pb")" = 400 ]
	pushbody "https://[::1]:${P##*:}/ok/t8" "$T/pb"
	[ "$(sreq "$T/carol" PUT "/v1/users/carol/devices/$d/push" "$T/pb")" = 400 ]
	[ "$(lines)" = 0 ]
}
