#!/usr/bin/env bats
# nc-relayd's data backed up while the relay runs and restored as
# contrib/backup.md says: sqlite's VACUUM INTO (or pg_dump -Fc when
# NC_RELAY_DB=pg: t/1050 runs this file again on PostgreSQL), then blobs/
# and the two key files; the restore goes into a stopped relay. The
# restored relay works, lists every envelope acknowledged before the
# backup began, serves the blob, and shows the pinned keys unchanged.

load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	[ -z "${flood:-}" ] || kill "$flood" 2>/dev/null || true
	relay_stop_all
}

backup_db() {   # NAME FILE: the backup of a running relay's database
	local db
	db=$(eval echo "\${RELAY_DB_$1:-}")
	if [ -n "$db" ]; then
		"$(pg_bindir)/pg_dump" -Fc -f "$2" -d "$db"
	else
		sqlite3 "$(eval echo "\$RELAY_DIR_$1")/relay.db" "VACUUM INTO '$2'"
	fi
}

restore_db() {   # FILE NAME: into a stopped relay's database
	local db dir
	db=$(eval echo "\${RELAY_DB_$2:-}")
	dir=$(eval echo "\$RELAY_DIR_$2")
	if [ -n "$db" ]; then
		"$(pg_bindir)/pg_restore" --clean --if-exists --no-owner -d "$db" "$1"
	else
		rm -f "$dir/relay.db-wal" "$dir/relay.db-shm"
		cp "$1" "$dir/relay.db"
	fi
}

pins() {   # the keys clients pin, from the descriptor
	curl -s "$1/.well-known/newchat" | grep -E '^(kt-log|kt-vrf|opaque) '
}

@test "relay backup: taken while deliveries run, restored into a stopped relay, which works" {
	n=100
	[ "${NC_QUICK:-0}" = 1 ] && n=60
	relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
	newuser alice
	dev=$(devid alice)
	pins "$RELAY_URL_A" >"$T/pins.a"
	[ "$(wc -l <"$T/pins.a")" = 3 ]
	id=$(ncreq hex 32); tok=$(ncreq hex 32)
	dh=$(printf '%s' "$tok" | xxd -r -p | b2sum -l 256 | cut -d' ' -f1)
	head -c 5000 /dev/urandom >"$T/blob"
	[ "$(req PUT "/v1/blobs/$id" "$T/blob" -H "X-NC-Delete-Hash: $dh")" = 201 ]
	ncreq flood "$U/v1/users/alice/devices/$dev/mailbox" 1 "$n" "$T/ok" 2>"$T/errors" &
	flood=$!
	while [ "$(cat "$T/ok" 2>/dev/null | wc -l)" -lt $((n / 4)) ]; do
		kill -0 "$flood"
		sleep 0.02
	done
	sort "$T/ok" >"$T/before"   # acknowledged before the backup began
	umask 077
	backup_db A "$T/bk.db"
	mkdir "$T/bk"
	cp -a "$RELAY_DIR_A/blobs" "$RELAY_DIR_A/kt.key" "$RELAY_DIR_A/opaque.key" "$T/bk/"
	wait "$flood"
	flood=
	[ ! -s "$T/errors" ]
	relay_stop A
	# a relay of its own, started once (its own keys), stopped, restored
	relay_start B a.test --rate-anon 0
	relay_stop B
	restore_db "$T/bk.db" B
	rm -rf "$RELAY_DIR_B/blobs"
	cp -a "$T/bk/." "$RELAY_DIR_B/"
	relay_restart B
	relay_db_ok B
	U=$RELAY_URL_B
	pins "$RELAY_URL_B" | cmp - "$T/pins.a"
	mailbox_ids "$T/alice" alice "$dev" "$T/listed"
	[ -z "$(comm -23 "$T/before" "$T/listed")" ]   # every 201 before it
	sort "$T/ok" | comm -13 - "$T/listed" >"$T/extra"
	[ ! -s "$T/extra" ]                              # nothing else
	[ "$(req GET "/v1/blobs/$id")" = 200 ]
	cmp "$T/resp" "$T/blob"
	# and it goes on: a delivery, listed
	echo hello >"$T/m"
	e=$(ncreq hex 16)
	[ "$(req PUT "/v1/users/alice/devices/$dev/mailbox/$e" "$T/m")" = 201 ]
	mailbox_ids "$T/alice" alice "$dev" "$T/listed2"
	grep -qx "$e" "$T/listed2"
	relay_stop B
}
