#!/usr/bin/env bats
# nc-sync backup / restore / export / import (issue 16 item 3): an
# encrypted, incremental backup at the user's relay; a restore into an
# empty NC_HOME with the password or the recovery code is a new device of
# the user with the history, contacts and settings, whose conversations go
# on in new sessions both ways.

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	for i in 1 2 3; do
		NC_HOME=$W/alice nc-send bob@b.test <<<"a to b $i" >/dev/null
		NC_HOME=$W/bob nc-recv >/dev/null
		NC_HOME=$W/bob nc-send alice@a.test <<<"b to a $i" >/dev/null
		NC_HOME=$W/alice nc-recv >/dev/null
	done
	# carol reaches a.test through the hostile proxy (an older relay: a
	# test makes it answer 404 on the batch route)
	hostile_up "$RELAY_URL_a"
	mkuser carol carol@a.test
	sed -i "s|^relay a.test .*|relay a.test $(head -n 1 "$W/proxy.out")|" "$W/carol/config"
	as carol nc-send bob@b.test <<<"c to b" >/dev/null
}

teardown_file() {
	kill "$(cat "$W/proxy.pid")" 2>/dev/null || true
	world_down
}

# The relay's tables as the tests read them: on PostgreSQL (t/1050 runs
# this file so) the user column is usr.
bkq() {   # SQL with USER for the user column: its answer from relay a
	local u=user
	[ -z "${RELAY_DB_a:-}" ] || u=usr
	relay_sql a "${1//USER/$u}"
}

hist() {   # NAME: the bodies of NAME's history, in order
	as "$1" nc-recv --history --json | jq -r '.body'
}

@test "backup: the first one uploads everything and prints the recovery code once" {
	run as alice nc-sync backup --recovery-code
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$(grep '^backup ' <<<"$output")" =~ ^backup\ 1:\ ([0-9]+)\ records,\ ([0-9]+)\ uploaded ]]
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	[[ "$output" == *"recovery code: "* ]]
	sed -n 's/^recovery code: //p' <<<"$output" >"$W/alice.code"
	grep -Eqx '([A-Z2-7]{4}-){7}[A-Z2-7]{4}' "$W/alice.code"
	# nothing of the history or the keys in clear at the relay
	run bkq "SELECT count(*) FROM backup_rec WHERE USER = 'alice'"
	[ "$output" -ge 5 ]
	[ -n "${RELAY_DB_a:-}" ] || ! sqlite3 "$RELAY_DIR_a/relay.db" .dump | grep -q "a to b"
	! grep -rqa "b to a 1" "$RELAY_DIR_a"
}

@test "backup: incremental - nothing new uploads ~1 record, ten messages ~10" {
	run as alice nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .counter <<<"$output")" -eq 2 ]
	[ "$(jq .uploaded <<<"$output")" -le 1 ]   # the meta record (its time)
	for i in $(seq 1 10); do as bob nc-send alice@a.test <<<"more $i" >/dev/null; done
	as alice nc-recv >/dev/null
	run as alice nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	up=$(jq .uploaded <<<"$output")
	[ "$up" -ge 1 ] && [ "$up" -le 12 ]
	[ "$(jq .counter <<<"$output")" -eq 3 ]
	# the relay keeps only what the newest manifest lists
	n=$(bkq "SELECT count(*) FROM backup_rec WHERE USER = 'alice'")
	[ "$n" -eq "$(jq .records <<<"$output")" ]
}

@test "restore: with the password into an empty home - history, contacts, new device" {
	as alice nc-recv --history | sed 's/^[^ ]* //' >/dev/null
	hist alice >"$W/alice.hist"
	config alice2
	run as alice2 nc-sync restore alice@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$(grep '^restored' <<<"$output")" == "restored alice@a.test from backup 3 of "*": 1 contacts, 16 messages" ]]
	diff <(hist alice2) "$W/alice.hist"
	# the same identity, another device
	[ "$(as alice2 nc-keys show | grep -i fingerprint)" = "$(as alice nc-keys show | grep -i fingerprint)" ]
	# bob's trust in alice's key is not asked again, and restored history
	# is not printed as new
	run as alice2 nc-recv
	[ "$status" -eq 0 ]
	[[ "$output" != *"a to b 1"* ]]
}

@test "restore: conversations go on both ways in new sessions" {
	run as alice2 nc-send bob@b.test <<<"from the restored home"
	echo "$output"
	[ "$status" -eq 0 ]
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"from the restored home"* ]]
	run as bob nc-send alice@a.test <<<"back to the restored home"
	[ "$status" -eq 0 ]
	run as alice2 nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"back to the restored home"* ]]
}

@test "restore: with the recovery code (no password), into another empty home" {
	config alice3
	run env -u NC_PASSWORD NC_HOME="$W/alice3" nc-sync restore alice@a.test --recovery-code <"$W/alice.code"
	echo "$output"
	[ "$status" -eq 0 ]
	diff <(hist alice3 | head -16) "$W/alice.hist"
	run as alice3 nc-send bob@b.test <<<"from the code's home"
	[ "$status" -eq 0 ]
	run as bob nc-recv
	[[ "$output" == *"from the code's home"* ]]
	run as bob nc-send alice@a.test <<<"to every alice"
	[ "$status" -eq 0 ]
	run as alice3 nc-recv
	[[ "$output" == *"to every alice"* ]]
}

@test "restore: a wrong code or password opens nothing (77), the home stays empty" {
	config alice4
	run env NC_HOME="$W/alice4" nc-sync restore alice@a.test --recovery-code <<<"AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
	echo "$output"
	[ "$status" -eq 77 ]
	run env NC_HOME="$W/alice4" NC_PASSWORD=wrong nc-sync restore alice@a.test
	echo "$output"
	[ "$status" -eq 77 ]
	[ ! -e "$W/alice4/state.db" ]
	# a home with an identity is refused
	run as alice nc-sync restore alice@a.test
	[ "$status" -ne 0 ]
}

@test "export/import: one archive file, the same records; a stolen file opens nothing" {
	run as alice nc-sync export "$W/alice.tar"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$W/alice.tar")" = 600 ]
	tar -tf "$W/alice.tar" | grep -qx 'newchat-backup/head'
	! grep -qa "a to b" "$W/alice.tar"
	config alice5
	run env NC_HOME="$W/alice5" NC_PASSWORD=wrong nc-sync import "$W/alice.tar"
	[ "$status" -eq 77 ]
	[ ! -e "$W/alice5/state.db" ]
	run env -u NC_PASSWORD NC_HOME="$W/alice5" nc-sync import "$W/alice.tar" --recovery-code <<<"BBBB-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
	[ "$status" -eq 77 ]
	run env -u NC_PASSWORD NC_HOME="$W/alice5" nc-sync import "$W/alice.tar" --recovery-code <"$W/alice.code"
	echo "$output"
	[ "$status" -eq 0 ]
	diff <(hist alice5 | head -16) "$W/alice.hist"
}

@test "backup: a device without the identity key, and usage errors" {
	run as bob nc-sync backup --min-counter 3
	[ "$status" -eq 64 ]
	run as bob nc-sync restore
	[ "$status" -eq 64 ]
	run as bob nc-sync restore not-an-address
	[ "$status" -eq 64 ]
}

@test "backup: a message with a file is restored as one (its attachments, not its payload as text)" {
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/menu.pdf"
	as bob nc-send --attach "$BATS_TEST_TMPDIR/menu.pdf" alice@a.test <<<"the menu" >/dev/null
	as alice nc-recv >/dev/null
	run as alice nc-sync backup
	[ "$status" -eq 0 ]
	want=$(as alice nc-recv --history --json | jq -c 'select(.body == "the menu") | .attachments | map(.name, .size, .hash)')
	[ "$(jq -c '.[0:2]' <<<"$want")" = '["menu.pdf",5000]' ]
	config alice6
	run as alice6 nc-sync restore alice@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(as alice6 nc-recv --history --json | jq -c 'select(.body == "the menu") | .attachments | map(.name, .size, .hash)')
	[ "$got" = "$want" ]
}

@test "backup: to an older relay (404 or 405 on the batch route), record by record" {
	echo 'drop POST /v1/users/carol/backup/records status=404' >"$W/script"
	run as carol nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	recs=$(jq .records <<<"$output")
	[ "$recs" -ge 4 ]
	[ "$(jq .uploaded <<<"$output")" -eq "$recs" ]
	# one batch tried, then every record by the PUT older relays have
	[ "$(grep -c ' POST /v1/users/carol/backup/records 404 ' "$W/rec/log")" -eq 1 ]
	[ "$(grep -Ec ' PUT /v1/users/carol/backup/records/[0-9a-f]{64} 201 ' "$W/rec/log")" -eq "$recs" ]
	[ "$(bkq "SELECT count(*) FROM backup_rec WHERE USER = 'carol'")" -eq "$recs" ]
	# 405 the same; the next backup's new records go singly too
	as bob nc-send carol@a.test <<<"b to c" >/dev/null
	as carol nc-recv >/dev/null
	echo 'drop POST /v1/users/carol/backup/records status=405' >"$W/script"
	run as carol nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' POST /v1/users/carol/backup/records 405 ' "$W/rec/log")" -eq 1 ]
	[ "$(grep -Ec ' PUT /v1/users/carol/backup/records/[0-9a-f]{64} 201 ' "$W/rec/log")" -eq \
	    $((recs + $(jq .uploaded <<<"$output"))) ]
	: >"$W/script"
	config carol2
	run as carol2 nc-sync restore carol@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	diff <(hist carol2) <(hist carol)
}

@test "restore: records read in fetches, several when they pass 8 MiB together; from an older relay (404 on the fetch) one by one" {
	: >"$W/script"
	# 256 messages of 64 KiB: at least three records of more than 4 MiB
	# (64 messages each), no two of which one fetch's answer holds
	fill-history "$W/carol" 256 bob@b.test - 65536
	run as carol nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	recs=$(jq .records <<<"$output")
	: >"$W/rec/log"
	config carol3
	cp "$W/carol/config" "$W/carol3/config"   # through the proxy
	run as carol3 nc-sync restore carol@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	# the identity record's, then three at least for the ten records
	[ "$(grep -c ' POST /v1/users/carol/backup/fetch 200 ' "$W/rec/log")" -ge 4 ]
	! grep -q ' GET /v1/users/carol/backup/records/' "$W/rec/log"
	[ "$(hist carol3 | grep -c '^message [0-9]* of the bench history ')" -eq 256 ]
	echo 'drop POST /v1/users/carol/backup/fetch status=404' >"$W/script"
	: >"$W/rec/log"
	config carol4
	cp "$W/carol/config" "$W/carol4/config"
	run as carol4 nc-sync restore carol@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' POST /v1/users/carol/backup/fetch 404 ' "$W/rec/log")" -eq 1 ]
	# (the identity record twice: read first alone, its key checks the manifest)
	[ "$(grep -Ec ' GET /v1/users/carol/backup/records/[0-9a-f]{64} 200 ' "$W/rec/log")" -eq $((recs + 1)) ]
	: >"$W/script"
	diff <(hist carol4) <(hist carol3)
}

@test "backup: past the relay's quota (507) nothing is stored and it says so; a later one completes" {
	mkuser dave dave@a.test
	as dave nc-send bob@b.test <<<"d to b" >/dev/null
	relay_stop a
	export RELAY_ARGS_a="--backup-max 3"
	relay_restart a
	world_save
	run as dave nc-sync backup --json
	echo "$output"
	[ "$status" -eq 75 ]
	lines_eq 1
	[[ "$output" == *"relay of a.test holds no more for dave (507, its backup quota): this backup was not made"*"ask its operator"* ]]
	[ "$(bkq "SELECT count(*) FROM backup_rec WHERE USER = 'dave'")" -eq 0 ]
	[ "$(bkq "SELECT count(*) FROM backup WHERE USER = 'dave'")" -eq 0 ]
	# the quota raised (the default), the next backup is the first, whole
	relay_stop a
	export RELAY_ARGS_a=
	relay_restart a
	world_save
	run as dave nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .counter <<<"$output")" -eq 1 ]
	[ "$(jq .uploaded <<<"$output")" -eq "$(jq .records <<<"$output")" ]
	[ "$(bkq "SELECT count(*) FROM backup_rec WHERE USER = 'dave'")" -eq "$(jq .records <<<"$output")" ]
}

@test "backup: a record the relay lost goes again, and the backup completes" {
	as alice nc-sync backup --json >/dev/null
	before=$(bkq "SELECT counter FROM backup WHERE USER = 'alice'")
	bkq "DELETE FROM backup_rec WHERE USER = 'alice' AND
	    hash = (SELECT hash FROM backup_rec WHERE USER = 'alice' LIMIT 1)"
	run as alice nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .counter <<<"$output")" -eq $((before + 1)) ]
	# every record again, after what the first pass sent (the meta record
	# when its time changed)
	up=$(jq .uploaded <<<"$output") recs=$(jq .records <<<"$output")
	[ "$up" -ge "$recs" ] && [ "$up" -le $((recs + 1)) ]
	n=$(bkq "SELECT count(*) FROM backup_rec WHERE USER = 'alice'")
	[ "$n" -eq "$(jq .records <<<"$output")" ]
	# and the next one is incremental again
	run as alice nc-sync backup --json
	[ "$status" -eq 0 ]
	[ "$(jq .uploaded <<<"$output")" -le 1 ]
}

@test "relay: a backup slot an older relay stored (records inside the key's b-tree) is taken over at its start" {
	[ -z "${RELAY_DB_a:-}" ] || skip "the sqlite store's own layout"
	n=$(relay_sql a "SELECT count(*) FROM backup_rec WHERE user = 'alice'")
	[ "$n" -ge 5 ]
	world_load   # the relay the quota test restarted
	relay_stop a
	relay_sql a "CREATE TABLE old_rec(user TEXT, hash BLOB, v BLOB NOT NULL,
	    keep INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(user, hash)) WITHOUT ROWID;
	    INSERT INTO old_rec SELECT user, hash, v, keep FROM backup_rec;
	    DROP TABLE backup_rec; ALTER TABLE old_rec RENAME TO backup_rec"
	relay_restart a
	world_save
	! relay_sql a "SELECT sql FROM sqlite_master WHERE name = 'backup_rec'" | grep -q "WITHOUT ROWID"
	[ "$(relay_sql a "SELECT count(*) FROM backup_rec WHERE user = 'alice'")" -eq "$n" ]
	relay_db_ok a
	run as alice nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .uploaded <<<"$output")" -le 1 ]
	hist alice >"$W/alice.hist"
	config alice4
	run as alice4 nc-sync restore alice@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	diff <(hist alice4) "$W/alice.hist"
}

@test "backup: a history of several batches (one stored while the next is made) restores whole" {
	mkuser erin erin@a.test
	fill-history "$W/erin" 40000 bob@b.test -
	run as erin nc-sync backup --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .uploaded <<<"$output")" -eq "$(jq .records <<<"$output")" ]
	[ "$(jq .bytes <<<"$output")" -gt $((8 << 20)) ]   # three batches of 4 MiB at least
	[ "$(bkq "SELECT count(*) FROM backup_rec WHERE USER = 'erin'")" -eq "$(jq .records <<<"$output")" ]
	config erin2
	run as erin2 nc-sync restore erin@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *", 40000 messages"* ]]
	# every body, in order (fill-history writes no events for the
	# received half, so erin lists only what it sent; erin2 all)
	[ "$(hist erin2 | grep -c '^message [0-9]* of the bench history ')" -eq 40000 ]
	diff <(as erin2 nc-recv --history --json | jq -r 'select(.dir == "out") | .body') <(hist erin)
}

@test "backup: an account's first backup needs no password (its key was wrapped at sign-up): cron can run it" {
	mkuser gina gina@a.test
	as gina nc-send bob@b.test <<<"g to b" >/dev/null
	run env -u NC_PASSWORD NC_HOME="$W/gina" nc-sync backup </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "backup 1: "* ]]
	config gina2
	run as gina2 nc-sync restore gina@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(hist gina2)" = "g to b" ]
}

@test "backup: nc-keygen --passwd stores the backup under the new password; the old one opens nothing" {
	mkuser hank hank@a.test
	as hank nc-send bob@b.test <<<"h to b" >/dev/null
	run as hank nc-sync backup --json
	[ "$status" -eq 0 ]
	[ "$(jq .counter <<<"$output")" -eq 1 ]
	NC_NEW_PASSWORD=hank-new-password run as hank nc-keygen --passwd
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"password changed"* ]]
	[[ "$output" == *"backup stored, opened by the new password"* ]]
	# the head the relay holds now is the next backup's
	[ "$(as hank nc-sync backup --json | jq .counter)" -eq 3 ]
	config hank2
	run as hank2 nc-sync restore hank@a.test
	echo "$output"
	[ "$status" -eq 77 ]
	config hank3
	NC_PASSWORD=hank-new-password run as hank3 nc-sync restore hank@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(hist hank3)" = "h to b" ]
}

@test "export/import: a history made and restored by several threads and by one is the same history" {
	mkuser judy judy@a.test
	fill-history "$W/judy" 3000 bob@b.test -   # 47 chunks: past the threads' threshold
	run as judy nc-sync export "$W/judy-par.ncb"
	[ "$status" -eq 0 ]
	run as judy taskset -c 0 nc-sync export "$W/judy-one.ncb"
	[ "$status" -eq 0 ]
	for f in par one; do
		config "judy-$f"
		pin=()
		[ "$f" = par ] || pin=(taskset -c 0)
		run as "judy-$f" "${pin[@]}" nc-sync import "$W/judy-$f.ncb"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *", 3000 messages"* ]]
	done
	[ "$(hist judy-par | grep -c '^message [0-9]* of the bench history ')" -eq 3000 ]
	diff <(hist judy-par) <(hist judy-one)
}

@test "export/backup: a damaged message body stops them with its name, threads or not; no file, no backup" {
	mkuser kate kate@a.test
	fill-history "$W/kate" 3000 bob@b.test -
	sqlite3 "$W/kate/state.db" "UPDATE message SET body = zeroblob(length(body)) WHERE seq = 2000"
	for pin in "" "taskset -c 0"; do
		run as kate $pin nc-sync export "$W/kate.ncb"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == "nc-sync: state: message 1/bob@b.test/"*": damaged" ]]
		[ "${#lines[@]}" -eq 1 ]
		[ -z "$(find "$W" -maxdepth 1 -name 'kate.ncb*')" ]
	done
	run as kate nc-sync backup
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": damaged"* ]]
	config kate2
	run as kate2 nc-sync restore kate@a.test
	echo "$output"
	[ "$status" -eq 77 ]
	[[ "$output" == *"no backup opens with this password (none stored yet, or"* ]]
}
