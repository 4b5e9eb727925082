#!/usr/bin/env bats
# OPAQUE login (issue 15, protocol.md 1.2): register, add a device, a wrong
# password and an unknown user alike (77, one line, nothing changed), the
# relay's key pinned, the password changed, the account deleted.

load helpers/relay
load helpers/client

setup_file() {
	world_up --rate-login 1000
	mkuser alice alice@a.test
}

teardown_file() { world_down; }

db() { sqlite3 "$RELAY_DIR_a/relay.db" "$1"; }
devs() { as "$1" nc-keys show "$2" | sed -n 's/^  device: *//p' | sort; }

@test "opaque: registration leaves a record, no auth key or salt, a v2 backup" {
	[ "$(db "SELECT length(record), cost FROM opaque WHERE user = 'alice'")" = "192|1" ]
	[ "$(db "SELECT auth_pk IS NULL AND salt IS NULL FROM users WHERE name = 'alice'")" = 1 ]
	[ "$(db "SELECT hex(substr(v, 1, 2)) FROM idbackup WHERE user = 'alice'")" = 0286 ]
	# the relay publishes its AKE key, and the client pinned that one
	pk=$(curl -sf "$RELAY_URL_a/.well-known/newchat" | sed -n 's/^opaque //p')
	[ ${#pk} -eq 64 ]
	[ "$(sqlite3 "$W/alice/state.db" "SELECT lower(hex(v)) FROM kv WHERE k = 'opaque-pk'")" = "$pk" ]
	[ -f "$RELAY_DIR_a/opaque.key" ]
	[ "$(stat -c %a "$RELAY_DIR_a/opaque.key")" = 600 ]
}

@test "opaque: a second device logs in, takes the identity key and is listed" {
	config alice2
	run as alice2 nc-keygen alice@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"device added to alice@a.test and listed"* ]]
	[ "$(grep '^alice@a.test ' <<<"$output")" = "$(cat "$W/alice.keygen")" ]
	[ "$(devs alice2 alice@a.test | wc -l)" -eq 2 ]
}

# one run of nc-keygen [FLAG] ADDR in a fresh NC_HOME NAME with password
# PW: prints its wall time in ms, leaves the output and exit in $W/NAME.out
attempt() {
	local t0 t1 flag=
	[ $# -eq 4 ] && { flag=$4; }
	rm -rf "$W/$1"
	config "$1"
	t0=$(date +%s%N)
	NC_PASSWORD=$3 NC_HOME=$W/$1 nc-keygen $flag "$2" >"$W/$1.out" 2>&1 &&
	    echo "exit 0" >>"$W/$1.out" || echo "exit $?" >>"$W/$1.out"
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

@test "opaque: a wrong password and an unknown user: the same 77 line, nothing changed, alike in time" {
	db "SELECT user, hex(dev), listed FROM devices ORDER BY 1, 2" >"$W/devs.before"
	: >"$W/t.wrong"; : >"$W/t.unknown"
	attempt w alice@a.test wrong >/dev/null
	[ "$(cat "$W/w.out")" = "nc-keygen: alice@a.test: wrong user or password
exit 77" ]
	[ ! -e "$W/w/state.db" ]
	# a login alone (no sign-up): --delete, of alice with a wrong password
	# and of a name nobody has
	for i in 1 2 3 4 5 6; do
		attempt w alice@a.test wrong --delete >>"$W/t.wrong"
		[ "$(cat "$W/w.out")" = "nc-keygen: alice@a.test: wrong user or password
exit 77" ]
		attempt u nobody@a.test wrong --delete >>"$W/t.unknown"
		[ "$(cat "$W/u.out")" = "nc-keygen: nobody@a.test: wrong user or password
exit 77" ] || { cat "$W/u.out"; false; }
	done
	db "SELECT user, hex(dev), listed FROM devices ORDER BY 1, 2" >"$W/devs.after"
	cmp "$W/devs.before" "$W/devs.after"
	[ -z "$(db "SELECT 1 FROM users WHERE name = 'nobody'")" ]
	# the two distributions (ms), for the report; their medians are close
	sort -n "$W/t.wrong" | tr '\n' ' ' >&3; echo "ms (wrong password)" >&3
	sort -n "$W/t.unknown" | tr '\n' ' ' >&3; echo "ms (unknown user)" >&3
	mw=$(sort -n "$W/t.wrong" | sed -n 3p); mu=$(sort -n "$W/t.unknown" | sed -n 3p)
	[ $(( mw * 2 )) -gt "$mu" ] && [ $(( mu * 2 )) -gt "$mw" ]
}

@test "opaque: the password changes; the old one no longer logs in, other devices keep working" {
	NC_NEW_PASSWORD=new-horse-staple run as alice nc-keygen --passwd
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"password changed"* ]]
	[ "$(db "SELECT hex(substr(v, 1, 2)) FROM idbackup WHERE user = 'alice'")" = 0286 ]
	attempt old alice@a.test correct-horse >/dev/null
	[ "$(tail -1 "$W/old.out")" = "exit 77" ]
	grep -q "wrong user or password" "$W/old.out"
	attempt new alice@a.test new-horse-staple >/dev/null
	cat "$W/new.out"
	[ "$(tail -1 "$W/new.out")" = "exit 0" ]
	grep -q "and listed" "$W/new.out"
	# the second device still reads and sends
	run as alice2 nc-recv
	[ "$status" -eq 0 ]
	# a wrong current password changes nothing
	rec=$(db "SELECT hex(record) FROM opaque WHERE user = 'alice'")
	NC_PASSWORD=wrong NC_NEW_PASSWORD=x-y-z-w-v run as alice nc-keygen --passwd
	[ "$status" -eq 77 ]
	[ "$(db "SELECT hex(record) FROM opaque WHERE user = 'alice'")" = "$rec" ]
}

@test "opaque: a changed relay key is an alarm (1), not a silent re-pin" {
	mkuser carol carol@a.test
	sqlite3 "$W/carol/state.db" "UPDATE kv SET v = zeroblob(32) WHERE k = 'opaque-pk'"
	run as carol nc-keygen --backup
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the relay's OPAQUE key changed"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "opaque: a deleted account answers every route as an unknown name" {
	mkuser dave dave@a.test
	run as dave nc-keygen --delete dave@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	for u in dave neverwas; do
		for r in "GET devicelist" "POST challenge" "GET devices/00000000000000000000000000000000/prekeys"; do
			set -- $r
			curl -s -o /dev/null -w '%{http_code}\n' -X "$1" "$RELAY_URL_a/v1/users/$u/$2"
		done >"$W/routes.$u"
	done
	cmp "$W/routes.dave" "$W/routes.neverwas"
	attempt d2 dave@a.test correct-horse --delete >/dev/null
	[ "$(cat "$W/d2.out")" = "nc-keygen: dave@a.test: wrong user or password
exit 77" ]
	[ -z "$(db "SELECT 1 FROM opaque WHERE user = 'dave'")" ]
	# and deleting again, or an unknown one: the same 77
	# and a sign-up may take the name again
	attempt d3 dave@a.test another-pass-word >/dev/null
	[ "$(tail -1 "$W/d3.out")" = "exit 0" ]
}
