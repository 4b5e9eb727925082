#!/usr/bin/env bats
# T23: the relay holds the encrypted backup (nc-sync backup, protocol.md
# 1.9, 3.6) and tampers with it; a thief holds the backup file.
# Mechanism: records sealed under keys derived from a random root key that
# only the password's OPAQUE export key or the recovery code unwraps; a
# manifest signed by the identity key lists every record's keyed id and
# hash under a counter; a restore checks the signature, the counter
# against --min-counter, and every record before it writes anything.
# Shows: an older manifest served (rollback), a record dropped, a record
# replaced, a manifest changed -> restore exits 1 naming it, the home
# stays empty; a stolen export opens nothing without the password or the
# code; a hostile archive (.., absolute path, symlink, zip bomb, too many
# entries) imports nothing and writes nothing outside NC_HOME; a restored
# home holds no session (T9/T10: a backup carries no message key).

load ../helpers/relay
load ../helpers/client

db() { sqlite3 "$RELAY_DIR_a/relay.db" "$@"; }

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	for i in 1 2 3; do
		NC_HOME=$W/bob nc-send alice@a.test <<<"t23 old $i" >/dev/null
	done
	NC_HOME=$W/alice nc-recv >/dev/null
	NC_HOME=$W/alice nc-sync backup >/dev/null
	# the relay keeps backup 1 aside
	db ".dump backup" | grep '^INSERT' >"$W/head1.sql"
	db ".dump backup_rec" | grep '^INSERT' >"$W/recs1.sql"
	for i in 1 2 3; do
		NC_HOME=$W/bob nc-send alice@a.test <<<"t23 new $i" >/dev/null
	done
	NC_HOME=$W/alice nc-recv >/dev/null
	NC_HOME=$W/alice nc-sync backup >"$W/backup2" 2>&1 || { cat "$W/backup2" >&2; return 1; }
	db ".backup '$W/relay2.db'"   # the WAL too
}

teardown_file() { world_down; }

setup() {
	world_load
	# every test starts from backup 2 as the relay holds it
	db "DELETE FROM backup; DELETE FROM backup_rec;"
	sqlite3 "$W/relay2.db" ".dump backup" | grep '^INSERT' | db
	sqlite3 "$W/relay2.db" ".dump backup_rec" | grep '^INSERT' | db
	rm -rf "$W/r"
	config r
}

restore() { NC_HOME=$W/r nc-sync restore alice@a.test "$@"; }

empty() { [ ! -e "$W/r/state.db" ] && [ ! -e "$W/r/storage.key" ]; }

@test "T23: the genuine backup restores (the control)" {
	run restore --min-counter 2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"from backup 2 of"* ]]
	run as r nc-recv --history
	[[ "$output" == *"t23 new 3"* ]]
	# no session came with it (T9/T10): none with bob until one starts
	# anew (the only ones are the new device's hello to alice's other)
	[ "$(sqlite3 "$W/r/state.db" "SELECT count(*) FROM session WHERE user != 'alice@a.test'")" -eq 0 ]
}

@test "T23: an older manifest served (rollback) -> exit 1 with --min-counter" {
	db "DELETE FROM backup; DELETE FROM backup_rec;"
	db <"$W/head1.sql"
	db <"$W/recs1.sql"
	run restore --min-counter 2
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"older backup (1, newest known 2)"* ]]
	empty
	# without the number, the restore says which backup it took
	run restore
	[ "$status" -eq 0 ]
	[[ "$output" == *"from backup 1 of"* ]]
}

@test "T23: a record dropped -> exit 1, nothing written" {
	h=$(db "SELECT hex(hash) FROM backup_rec WHERE user = 'alice' ORDER BY length(v) DESC LIMIT 1")
	db "DELETE FROM backup_rec WHERE hash = X'$h'"
	run restore
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"missing (dropped)"* ]]
	empty
}

@test "T23: a record replaced by another (injected) -> exit 1" {
	a=$(db "SELECT hex(hash) FROM backup_rec ORDER BY hash LIMIT 1")
	b=$(db "SELECT hex(hash) FROM backup_rec ORDER BY hash DESC LIMIT 1")
	db "UPDATE backup_rec SET v = (SELECT v FROM backup_rec WHERE hash = X'$b') WHERE hash = X'$a'"
	run restore
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not the one the signed manifest lists"* ]]
	empty
}

@test "T23: a manifest changed (a record listed more, a counter raised) -> exit 1" {
	# the counter's last byte: after u8 1, str "alice@a.test" (2 + 12)
	m=$(db "SELECT hex(manifest) FROM backup")
	pre=${m:0:44}; post=${m:46}
	db "UPDATE backup SET manifest = X'${pre}09${post}'"
	run restore
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not signed by alice@a.test's identity key"* ]]
	empty
}

@test "T23: a stolen backup opens nothing without the password or the code" {
	as alice nc-sync export "$W/stolen.tar" >/dev/null
	! grep -qa "t23 old" "$W/stolen.tar"
	run env NC_HOME="$W/r" NC_PASSWORD=guess nc-sync import "$W/stolen.tar"
	[ "$status" -eq 77 ]
	run env -u NC_PASSWORD NC_HOME="$W/r" nc-sync import "$W/stolen.tar" --recovery-code <<<"AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"
	[ "$status" -eq 77 ]
	empty
	# nor does the relay's database: no text, no key in the clear
	! grep -qa "t23 new" "$RELAY_DIR_a/relay.db"
}

@test "T23: hostile archives import nothing and write nothing outside NC_HOME" {
	mkdir -p "$W/ha"
	python3 - "$W/ha" <<'EOF'
import io, sys, tarfile, gzip
d = sys.argv[1]
def tar(name, members, mode="w"):
    with tarfile.open(f"{d}/{name}", mode) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def reg(name, data=b"x"):
    m = tarfile.TarInfo(name); m.size = len(data); return (m, data)
tar("dotdot.tar", [reg("newchat-backup/../../t23-escaped", b"pwned")])
tar("abs.tar", [reg(d + "/t23-absolute", b"pwned")])
s = tarfile.TarInfo("newchat-backup/head"); s.type = tarfile.SYMTYPE; s.linkname = "/etc/passwd"
tar("symlink.tar", [(s, None)])
# 64 MiB of zeros as one entry, gzipped to ~64 KiB: stops at 8 MiB
z = tarfile.TarInfo("newchat-backup/records/" + "0" * 64); z.size = 64 << 20
with tarfile.open(f"{d}/bomb.tar.gz", "w:gz", compresslevel=9) as t:
    class Zeros(io.RawIOBase):
        def __init__(self): self.left = 64 << 20
        def readable(self): return True
        def readinto(self, b):
            n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
    t.addfile(z, io.BufferedReader(Zeros()))
# more entries than a backup can have
with tarfile.open(f"{d}/many.tar", "w") as t:
    for i in range(65540):
        m = tarfile.TarInfo("newchat-backup/records/%064x" % i); m.size = 0
        t.addfile(m)
EOF
	for a in dotdot.tar abs.tar symlink.tar bomb.tar.gz many.tar; do
		run env NC_HOME="$W/r" nc-sync import "$W/ha/$a"
		echo "$a: $output"
		[ "$status" -eq 65 ]
		empty
	done
	[ ! -e "$W/t23-escaped" ] && [ ! -e "$W/ha/t23-escaped" ] && [ ! -e "$W/ha/t23-absolute" ]
	[ -z "$(ls -A "$W/r" | grep -vx config)" ]
	# the bomb stopped at the cap, many.tar at the entry count
	run env NC_HOME="$W/r" nc-sync import "$W/ha/bomb.tar.gz"
	[[ "$output" == *"larger than a backup can be"* ]]
	run env NC_HOME="$W/r" nc-sync import "$W/ha/many.tar"
	[[ "$output" == *"more than 65537 entries"* ]]
}
