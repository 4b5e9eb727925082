#!/usr/bin/env bats
# nc-relayd counts rate limits per client, not per exact address: an IPv6
# client is its /64, and behind a reverse proxy named by --trust-proxy the
# client is the address that proxy appended to X-Forwarded-For. Anyone
# else's X-Forwarded-For is ignored.

load helpers/relay
load helpers/relay-req

setup() { T=$BATS_TEST_TMPDIR; }
teardown() { relay_stop_all; }

# reg NAME FORWARDED-FOR: a registration, answered code printed
reg() {
	mkdir -p "$T/$1"
	ncreq keygen "$T/$1"
	ncreq register "$T/$1" >"$T/$1/reg"
	req POST "/v1/users/$1" "$T/$1/reg" -H "X-Forwarded-For: $2"
}

@test "relay clients: behind the trusted proxy, one IPv6 /64 is one client" {
	relay_start A a.test --rate-register 2 --trust-proxy 127.0.0.1
	U=$RELAY_URL_A
	[ "$(reg u1 '2001:db8:1:2::1')" = 201 ]
	[ "$(reg u2 '2001:db8:1:2:ffff:ffff:ffff:ffff')" = 201 ]
	[ "$(reg u3 '[2001:db8:1:2::3]')" = 429 ]
	# the next /64, and IPv4 clients, have allowances of their own
	[ "$(reg u4 '2001:db8:1:3::1')" = 201 ]
	[ "$(reg u5 '203.0.113.7')" = 201 ]
	[ "$(reg u6 '203.0.113.8')" = 201 ]
	# an IPv4-mapped address is that IPv4 client
	[ "$(reg u7 '::ffff:203.0.113.7')" = 201 ]
	[ "$(reg u8 '::ffff:203.0.113.7')" = 429 ]
}

@test "relay clients: the proxy's last entry counts, not what the client wrote before it" {
	relay_start A a.test --rate-register 1 --trust-proxy 127.0.0.1
	U=$RELAY_URL_A
	[ "$(reg u1 '198.51.100.1, 203.0.113.9')" = 201 ]
	[ "$(reg u2 '198.51.100.2, 203.0.113.9')" = 429 ]
	# a header that is not an address: the proxy itself is the client
	[ "$(reg u3 'unknown')" = 201 ]
	[ "$(reg u4 'garbage, ')" = 429 ]
}

@test "relay clients: X-Forwarded-For from anyone but the named proxy is ignored" {
	relay_start A a.test --rate-register 2 --trust-proxy 127.0.0.2
	U=$RELAY_URL_A
	[ "$(reg u1 '203.0.113.1')" = 201 ]
	[ "$(reg u2 '203.0.113.2')" = 201 ]
	[ "$(reg u3 '203.0.113.3')" = 429 ]
	relay_start B b.test --rate-register 1
	U=$RELAY_URL_B
	[ "$(reg v1 '203.0.113.1')" = 201 ]
	[ "$(reg v2 '203.0.113.2')" = 429 ]
}

@test "relay clients: --trust-proxy takes an address, else a usage error" {
	run nc-relayd -d "$T/x" -l 127.0.0.1:0 -D a.test --trust-proxy proxy.example
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "nc-relayd: --trust-proxy takes an IP address (e.g. --trust-proxy 127.0.0.1), not 'proxy.example'" ]
}
