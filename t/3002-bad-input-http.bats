#!/usr/bin/env bats
# Bad input at the HTTP level, over a raw socket: malformed request lines
# and headers, lying lengths, and slow requests (the relay runs with a 2 s
# total deadline per request). Each asserts the status (or a closed
# connection where HTTP allows no answer), a relay still running, and no
# change to its stored state.

load helpers/bad-input

setup_file() {
	export BI_RELAY_FLAGS="--rate-register 0 --rate-login 0 --rate-anon 0 --request-timeout 2"
	bi_relay_start
	bi_provision
}

teardown_file() { bi_relay_stop; }
setup() { bi_relay_check; }

# raw WANT REQUEST-PRINTF [DELAY]: send bytes, read the answer (5 s at
# most); WANT: status regex, or "closed" for no answer at all.
raw() {
	local want=$1 req=$2 port=${URL##*:} before after line rc=0
	before=$(rstate)
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	(trap '' PIPE; printf -- "$req") >&5 2>/dev/null || true   # may be cut off
	line=$(timeout 5 head -n 1 <&5 | tr -d '\r') || rc=$?
	exec 5<&- 5>&-
	after=$(rstate)
	echo "answer: ${line:-<none>} (rc $rc)"
	kill -0 "$RPID"
	[ "$rc" -ne 124 ]                            # not left hanging
	if [ -z "$line" ]; then
		[[ "|$want|" == *"|closed|"* ]]          # closed without an answer
	else
		[[ $line =~ ^HTTP/1\.[01]\ ($want)\  ]]
	fi
	[ "$before" = "$after" ] || { rdump >"$BI/now"; diff "$BI/ref" "$BI/now"; }
}

# slow WANT PART1 PART2 SECONDS: PART1, a pause, then PART2.
slow() {
	local port=${URL##*:} before after line start
	before=$(rstate)
	start=$(date +%s)
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	(trap '' PIPE; printf -- "$2") >&5 2>/dev/null || true
	sleep "$4"
	(trap '' PIPE; printf -- "$3") >&5 2>/dev/null || true  # cut off by now
	line=$(timeout 8 head -n 1 <&5 | tr -d '\r') || true
	exec 5<&- 5>&-
	after=$(rstate)
	echo "answer after $(($(date +%s) - start)) s: ${line:-<none>}"
	kill -0 "$RPID"
	[ -z "$line" ] || [[ $line =~ ^HTTP/1\.[01]\ ($1)\  ]]
	[ "$before" = "$after" ] || { rdump >"$BI/now"; diff "$BI/ref" "$BI/now"; }
}

@test "http 01: garbage request line -> 400 or closed" { raw '400|closed' 'HELLO\r\n\r\n'; }
@test "http 02: request line without version -> 400" { raw '400|505' 'GET /\r\n\r\n'; }
@test "http 03: HTTP/2 preface on a 1.1 port" { raw '400|505|closed' 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'; }
@test "http 04: HTTP/7.0 -> 505" { raw '400|505' 'GET / HTTP/7.0\r\nHost: x\r\n\r\n'; }
@test "http 05: NUL in the request target -> 400" { raw '400|404' 'GET /v1/\0x HTTP/1.1\r\nHost: x\r\n\r\n'; }
@test "http 06: header line without a colon -> 400" { raw 400 'GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n'; }
@test "http 07: Content-Length not a number -> 400" { raw '400|413' 'PUT /v1/blobs/aa HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n'; }
@test "http 08: negative Content-Length -> 400" { raw '400|413' 'POST /v1/users/bob/deliver HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'; }
@test "http 09: two different Content-Lengths -> 400" { raw '400|413' 'POST /v1/users/bob/deliver HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 9\r\n\r\nabc'; }
@test "http 10: Content-Length of 10^15 on a delivery -> 413 at once" { raw 413 "PUT /v1/users/bob/devices/$BOBDEV/mailbox/$(printf 'ab%.0s' $(seq 16)) HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\n"; }
@test "http 11: Content-Length of 2^64 -> 400 or 413" { raw '400|413' 'POST /v1/users/bob/deliver HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n'; }
@test "http 12: obsolete header folding -> 400 or unfolded" { raw '400|404' 'GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n'; }
@test "http 13: request line of 20000 bytes -> 414 or 400" { raw '400|414|431' "GET /$(printf 'a%.0s' $(seq 20000)) HTTP/1.1\r\nHost: x\r\n\r\n"; }
@test "http 14: slow headers (slowloris): cut off by the deadline" { slow '400|408' 'GET /v1/users/bob/devicelist HTTP/1.1\r\nHost: x\r\n' 'X-A: b\r\n\r\n' 4; }
@test "http 15: slow body (10 of 100 bytes, then silence): cut off, nothing stored" { slow '400|408' "PUT /v1/users/bob/devices/$BOBDEV/mailbox/$(printf 'cd%.0s' $(seq 16)) HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789" '' 4; }
@test "http 16: half a request line, then silence: cut off" { slow '400|408' 'GET /v1/users/bo' '' 4; }
