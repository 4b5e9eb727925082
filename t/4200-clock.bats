#!/usr/bin/env bats
# Signed requests and clocks (issue 13): polling can never lock a device
# out, a wrong clock says so in one line and is followed within a day, and
# a device recovers the moment its clock is right. Every signed request
# carries a fresh nonce (X-NC-Nonce), so the relay refuses any repeat,
# reads too, and no client keeps a time of its own making.

bats_require_minimum_version 1.5.0
load helpers/relay
load helpers/client

setup() { world_load; }

setup_file() {
	command -v faketime >/dev/null || skip "faketime is not installed (make deps)"
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

@test "clock: 400 nc-recv back to back, then one more: every one exits 0" {
	local i bad=0
	echo "first" | as alice nc-send bob@b.test >/dev/null
	for ((i = 0; i < 400; i++)); do
		as bob nc-recv >/dev/null 2>"$W/recv.err" || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ] || { echo "$bad runs failed; last: $(cat "$W/recv.err")"; false; }
	echo "after the polls" | as alice nc-send bob@b.test >/dev/null
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: after the polls" ]
	# nothing is kept ahead of the clock
	[ "$(sqlite3 "$W/bob/state.db" 'SELECT count(*) FROM reqtime')" = 0 ]
}

@test "clock: times an older version stored ahead of the clock are forgotten at once" {
	as bob nc-recv >/dev/null
	sqlite3 "$W/bob/state.db" "UPDATE reqtime SET t = t + 172800;
	    INSERT INTO reqtime(h, t) VALUES (randomblob(32), strftime('%s','now') + 172800)"
	echo "still here" | as alice nc-send bob@b.test >/dev/null
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: still here" ]
	[ "$(sqlite3 "$W/bob/state.db" 'SELECT count(*) FROM reqtime')" = 0 ]
}

@test "clock: 10 minutes fast: one line names the clock, the relay's time is used, all arrives" {
	echo "ten minutes" | as alice nc-send bob@b.test >/dev/null
	rc=0
	NC_HOME=$W/bob ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f +600 nc-recv >"$W/out" 2>"$W/err" || rc=$?
	cat "$W/out" "$W/err"
	[ "$rc" -eq 0 ]
	[ "$(cat "$W/out")" = "alice@a.test: ten minutes" ]
	[ "$(grep -c . "$W/err")" -eq 1 ]
	grep -Eq "^nc-recv: this machine's clock is (59[0-9]|60[0-9]) seconds ahead of the relay of b\.test; signing with the relay's time" "$W/err"
	# right again: no word of the clock, nothing held over
	echo "on time" | as alice nc-send bob@b.test >/dev/null
	run --separate-stderr as bob nc-recv
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: on time" ]
	[ -z "$stderr" ]
}

@test "clock: 10 minutes slow: the same, behind" {
	rc=0
	NC_HOME=$W/bob ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f -600 nc-recv >"$W/out" 2>"$W/err" || rc=$?
	cat "$W/err"
	[ "$rc" -eq 0 ]
	grep -Eq "^nc-recv: this machine's clock is (59[0-9]|60[0-9]) seconds behind the relay of b\.test" "$W/err"
}

@test "clock: 2 days fast: refused with one line naming the clock (77); right again, it works at once" {
	echo "two days" | as alice nc-send bob@b.test >/dev/null
	rc=0
	NC_HOME=$W/bob ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f +2d nc-recv >"$W/out" 2>"$W/err" || rc=$?
	cat "$W/out" "$W/err"
	[ "$rc" -eq 77 ]
	[ ! -s "$W/out" ]
	[ "$(grep -c . "$W/err")" -eq 1 ]
	grep -Eq "^nc-recv: relay of b\.test: this machine's clock is 1728[0-9][0-9] seconds \(2\.0 days\) ahead of the relay: set it right" "$W/err"
	# again: the same (nothing was learnt from the refusal)
	run -77 env NC_HOME="$W/bob" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime -f +2d nc-recv
	run --separate-stderr as bob nc-recv
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "alice@a.test: two days" ]
	[ -z "$stderr" ]
}

@test "clock: the relay refuses a signed request sent twice, a read too (the nonce)" {
	load helpers/relay-req
	U=$RELAY_URL_b T=$W
	mkdir -p "$W/eve"
	ncreq keygen "$W/eve"
	ncreq register "$W/eve" >"$W/eve/reg"
	[ "$(req POST /v1/users/eve "$W/eve/reg")" = 201 ]
	p="/v1/users/eve/devices/$(ncreq devid "$W/eve")/prekeys"
	ncreq sign "$W/eve" GET "$p" >"$W/h"
	grep -Eq '^X-NC-Nonce: [0-9a-f]{32}$' "$W/h"
	[ "$(req GET "$p" "" -H @"$W/h")" = 200 ]
	[ "$(req GET "$p" "" -H @"$W/h")" = 401 ]
	grep -q "replayed request" "$W/resp"
	# the nonce is signed: another one makes a bad signature
	ncreq sign "$W/eve" GET "$p" >"$W/h"
	n=$(sed -n 's/^X-NC-Nonce: //p' "$W/h")
	sed "s/^X-NC-Nonce: .*/X-NC-Nonce: $(printf '%s' "$n" | tr '0-9a-f' '1-9a-f0')/" "$W/h" >"$W/h2"
	[ "$(req GET "$p" "" -H @"$W/h2")" = 401 ]
	grep -q "bad request signature" "$W/resp"
	# and none at all is refused
	grep -v '^X-NC-Nonce' "$W/h" >"$W/h3"
	[ "$(req GET "$p" "" -H @"$W/h3")" = 401 ]
	grep -q "missing request signature headers" "$W/resp"
	[ "$(req GET "$p" "" -H @"$W/h")" = 200 ]
}
