#!/usr/bin/env bats
# Discovery never downgrades: a domain's /.well-known/newchat, fetched over
# https, may not send a client to a plain-http relay (first-contact key
# fetches and logins would cross the network in the clear). Only the
# device's own config may name an http:// relay.

load helpers/relay

setup() {
	T=$BATS_TEST_TMPDIR
	command -v openssl >/dev/null || skip "openssl not installed"
	openssl req -x509 -newkey ed25519 -keyout "$T/key.pem" -out "$T/cert.pem" \
	    -days 2 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	export NC_PASSWORD=correct-horse-battery NC_PWHASH_COST=interactive
	mkdir -p -m 0700 "$T/home"
	echo "cafile $T/cert.pem" >"$T/home/config"
}

teardown() {
	[ -z "${PID:-}" ] || { kill "$PID"; wait "$PID" 2>/dev/null || true; }
}

# serve SCHEME [plain]: a relay whose domain is 127.0.0.1:PORT (so that
# https://DOMAIN/.well-known/newchat reaches it), over TLS unless "plain",
# whose descriptor names its relay as SCHEME://127.0.0.1:PORT. Sets PORT,
# DOM, PID.
serve() {
	local i tls=(--tls-cert "$T/cert.pem" --tls-key "$T/key.pem")
	[ "${2:-}" != plain ] || tls=()
	for i in 1 2 3 4 5 6 7 8; do
		PORT=$((20000 + RANDOM % 40000))
		DOM=127.0.0.1:$PORT
		mkdir -p "$T/relay$i"
		nc-relayd -d "$T/relay$i" -l "$DOM" -D "$DOM" "${tls[@]}" \
		    --public-url "$1://$DOM" >"$T/url" 2>"$T/err" &
		PID=$!
		for _ in $(seq 1 100); do
			[ -s "$T/url" ] && return 0
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.05
		done
		wait "$PID" 2>/dev/null || true
		PID=
	done
	cat "$T/err"
	return 1
}

@test "downgrade: an https descriptor naming an http relay is refused (exit 1), nothing made" {
	serve http
	run env NC_HOME="$T/home" nc-keygen "alice@$DOM"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"plain-http relay (http://$DOM)"* ]]
	[[ "$output" == *"add \`relay $DOM URL\` to $T/home/config"* ]]
	# no identity kept here, no registration at the relay
	[ ! -e "$T/home/state.db" ] || [ "$(sqlite3 "$T/home/state.db" "SELECT count(*) FROM kv WHERE k LIKE '%identity%'")" -eq 0 ]
	[ "$(sqlite3 "$(ls -d "$T"/relay* | tail -n 1)/relay.db" 'SELECT count(*) FROM users')" -eq 0 ]
}

@test "downgrade: the same relay named https by its descriptor is used" {
	serve https
	run env NC_HOME="$T/home" nc-keygen "alice@$DOM"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "downgrade: a plain-http relay that the config names itself is used" {
	serve http plain
	echo "relay $DOM http://$DOM" >>"$T/home/config"
	run env NC_HOME="$T/home" nc-keygen "alice@$DOM"
	echo "$output"
	[ "$status" -eq 0 ]
}
