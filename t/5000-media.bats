#!/usr/bin/env bats
# nc-media: files and directories shared by encrypted link. Round trips of
# every size that matters to the chunking, pipes both ways, ls and rm,
# expiry; and every kind of tampering (key, hash, truncation, extension,
# swapped chunks) is exit 1 with nothing written.

load helpers/relay
load helpers/client

setup_file() {
	export NC_RELAY_SWEEP_SECS=1   # the expiry sweeper every second
	world_up
	mkuser alice alice@a.test
}

teardown_file() { world_down; }
setup() {
	world_load
	OUT=$BATS_TEST_TMPDIR/out
	rm -rf "$OUT"
	mkdir -p "$OUT"
}

# roundtrip FILE: put, get into $OUT, compare.
roundtrip() {
	local link
	link=$(as alice nc-media put "$1") || return 1
	rm -f "$OUT/$(basename "$1")"
	as alice nc-media -q get "$link" -o "$OUT" || return 1
	cmp "$1" "$OUT/$(basename "$1")"
}

# blobfile LINK: the relay's file holding LINK's ciphertext.
blobfile() {
	local id=${1%%#*}
	echo "$RELAY_DIR_a/blobs/${id##*/}"
}

# relink LINK FILE: LINK with its hash and size made those of FILE (so the
# chunks themselves must catch a change, not the hash).
relink() {
	local h n
	h=$("$NC_BIN/t/nc-forge-media" hash "$2")
	n=$(stat -c %s "$2")
	echo "$1" | sed -E "s/&h=[0-9a-f]{64}&n=[0-9]+$/\&h=$h\&n=$n/"
}

# sync_size LINK: the relay's record of LINK's size made its file's (so
# the relay serves a changed file whole, as a hostile relay would).
sync_size() {
	local id=${1%%#*}
	id=${id##*/}
	sqlite3 "$RELAY_DIR_a/relay.db" "UPDATE blobs SET size = $(stat -c %s "$(blobfile "$1")") WHERE id = x'$id'"
}

# empty_out: nothing, not even a temporary file, was left in $OUT.
empty_out() {
	[ -z "$(ls -A "$OUT")" ] || { ls -la "$OUT"; return 1; }
}

@test "media: round trips of 0, 1, 64 KiB - 1, 64 KiB, 64 KiB + 1 bytes and 3 MB" {
	local n
	for n in 0 1 65535 65536 65537 3000000; do
		head -c "$n" /dev/urandom >"$BATS_TEST_TMPDIR/f$n"
		roundtrip "$BATS_TEST_TMPDIR/f$n"
	done
}

@test "media: the link is a URL with key, hash and size in the fragment; ls and --json" {
	echo "a note" >"$BATS_TEST_TMPDIR/note.txt"
	run as alice nc-media put "$BATS_TEST_TMPDIR/note.txt"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^http://127\.0\.0\.1:[0-9]+/v1/blobs/[0-9a-f]{64}#k=[0-9a-f]{64}\&h=[0-9a-f]{64}\&n=[0-9]+$ ]]
	link=$output
	run as alice nc-media ls --json
	[ "$status" -eq 0 ]
	line=$(printf '%s\n' "$output" | grep -F "\"link\":\"$link\"")
	[ "$(jq -r .name <<<"$line")" = note.txt ]
	[ "$(jq -r .type <<<"$line")" = text/plain ]
	[ "$(jq -r .size <<<"$line")" = 7 ]
	run as alice nc-media ls
	[[ "$output" == *"$link	note.txt	7	"* ]]
	# the relay stores the padded ciphertext: not the exact size
	[ "$(stat -c %s "$(blobfile "$link")")" -gt 7 ]
}

@test "media: - both ways in pipes" {
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/p"
	link=$(cat "$BATS_TEST_TMPDIR/p" | as alice nc-media put -)
	as alice nc-media get "$link" -o - | cmp - "$BATS_TEST_TMPDIR/p"
	# get needs no NC_HOME at all
	NC_HOME=$BATS_TEST_TMPDIR/nobody nc-media get "$link" -o - |
	    cmp - "$BATS_TEST_TMPDIR/p"
}

# complete_blobs: the relay's complete blobs (not uploads in progress).
complete_blobs() {
	ls "$RELAY_DIR_a/blobs" | grep -E '^[0-9a-f]{64}$' | sort || true
}

# uploads: the relay's uploads in progress (ID.part).
uploads() {
	ls "$RELAY_DIR_a/blobs" | grep -E '^[0-9a-f]{64}\.part$' | sort || true
}

# A file changed while nc-media reads it, at its first read (the shim
# t/preload/change-on-read.c; under ASan its link-order check is waived:
# the shim only wraps read). The upload it had created is deleted at the
# relay (not left until it expires).
@test "media: a file that grows, shrinks or changes in place while it is read -> 75, one line, no blob" {
	local f=$BATS_TEST_TMPDIR/moving.bin before n0 how parts
	before=$(complete_blobs)
	parts=$(uploads)
	n0=$(as alice nc-media ls | wc -l)
	for how in grow shrink modify; do
		head -c 300000 /dev/urandom >"$f"
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		    LD_PRELOAD=$NC_BIN/t/change-on-read.so NC_TEST_CHANGE=$f \
		    NC_TEST_CHANGE_HOW=$how run as alice nc-media put "$f"
		[ "$status" -eq 75 ] || { echo "$how: $status $output"; return 1; }
		[ "${#lines[@]}" -eq 1 ]
		[ "$output" = "nc-media: $f: changed while it was read; put it again" ] ||
		    { echo "$how: $output"; return 1; }
	done
	# nothing usable was uploaded, nothing recorded, nothing left
	[ "$(complete_blobs)" = "$before" ]
	[ "$(uploads)" = "$parts" ] || { echo "left: $(uploads)"; return 1; }
	[ "$(as alice nc-media ls | wc -l)" -eq "$n0" ]
}

@test "media: get without -o takes the header's name and never overwrites" {
	echo data >"$BATS_TEST_TMPDIR/named.bin"
	link=$(as alice nc-media put "$BATS_TEST_TMPDIR/named.bin")
	cd "$OUT"
	as alice nc-media -q get "$link"
	cmp named.bin "$BATS_TEST_TMPDIR/named.bin"
	run as alice nc-media get "$link"
	[ "$status" -eq 73 ]
	[[ "$output" == *"named.bin exists"* ]]
	[ "$(ls -A | wc -l)" -eq 1 ]
}

@test "media: rm deletes at the relay and forgets; another home cannot" {
	echo gone >"$BATS_TEST_TMPDIR/gone"
	link=$(as alice nc-media put "$BATS_TEST_TMPDIR/gone")
	f=$(blobfile "$link")
	[ -f "$f" ]
	mkuser bob2 bob2@a.test
	run as bob2 nc-media rm "$link"
	[ "$status" -eq 67 ]
	[ -f "$f" ]
	run as alice nc-media rm "$link"
	[ "$status" -eq 0 ]
	[ ! -e "$f" ]
	run as alice nc-media get "$link" -o "$OUT"
	[ "$status" -eq 67 ]
	empty_out
	run as alice nc-media ls
	[[ "$output" != *"$link"* ]]
}

@test "media: --ttl: the relay refuses the link once expired" {
	echo brief >"$BATS_TEST_TMPDIR/brief"
	link=$(as alice nc-media put --ttl 1 "$BATS_TEST_TMPDIR/brief")
	[ -f "$(blobfile "$link")" ]
	sleep 2.2
	run as alice nc-media get "$link" -o "$OUT"
	[ "$status" -eq 67 ]
	[[ "$output" == *"expired or deleted"* ]]
	empty_out
	# and the sweeper (every second here) removes its file from the disk
	for _ in $(seq 50); do [ -e "$(blobfile "$link")" ] || break; sleep 0.1; done
	[ ! -e "$(blobfile "$link")" ]
	run as alice nc-media put --ttl 3x "$BATS_TEST_TMPDIR/brief"
	[ "$status" -eq 64 ]
}

@test "media: a wrong key or a wrong hash in the link -> exit 1, nothing written" {
	head -c 150000 /dev/urandom >"$BATS_TEST_TMPDIR/k"
	link=$(as alice nc-media put "$BATS_TEST_TMPDIR/k")
	bad=$(echo "$link" | sed -E 's/#k=(.)/#k=\1\1/; s/#k=(.{64})./#k=\1/')
	[ "$bad" != "$link" ]
	run as alice nc-media get "$bad" -o "$OUT"
	[ "$status" -eq 1 ]
	empty_out
	bad=$(echo "$link" | sed -E 's/&h=0/\&h=1/; t; s/&h=./\&h=0/')
	run as alice nc-media get "$bad" -o "$OUT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"hash"* ]]
	empty_out
	run as alice nc-media get "$bad" -o -
	[ "$status" -eq 1 ]
	[ "$output" = "nc-media: media: the file's hash is not the link's (the file was changed, cut or extended)" ]
}

@test "media: a changed, truncated, extended or reordered ciphertext -> exit 1, nothing written" {
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/t"
	link=$(as alice nc-media put "$BATS_TEST_TMPDIR/t")
	f=$(blobfile "$link")
	cp "$f" "$BATS_TEST_TMPDIR/orig"
	restore() { cp "$BATS_TEST_TMPDIR/orig" "$f"; sync_size "$link"; }
	try() {   # try LINK: exit 1 and nothing in $OUT, stdout empty with -o -
		run as alice nc-media get "$1" -o "$OUT"
		[ "$status" -eq 1 ] || { echo "$output"; return 1; }
		empty_out
		run as alice nc-media get "$1" -o -
		[ "$status" -eq 1 ]
		[[ "$output" == nc-media:* ]]
		[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	}
	# one flipped byte (the link's hash catches it; then the chunk does)
	flip "$f" 100000
	try "$link"
	try "$(relink "$link" "$f")"
	restore
	# truncated at a chunk boundary: no final chunk
	head -c $((24 + 2 * 65553)) "$BATS_TEST_TMPDIR/orig" >"$f"
	sync_size "$link"
	try "$link"
	try "$(relink "$link" "$f")"
	restore
	# extended by one more chunk's worth
	head -c 65553 /dev/urandom >>"$f"
	sync_size "$link"
	try "$link"
	try "$(relink "$link" "$f")"
	restore
	# chunks 1 and 2 swapped
	{ head -c 24 "$BATS_TEST_TMPDIR/orig"
	  dd if="$BATS_TEST_TMPDIR/orig" bs=65553 skip=0 count=1 iflag=skip_bytes skip=$((24 + 65553)) status=none
	  dd if="$BATS_TEST_TMPDIR/orig" bs=65553 count=1 iflag=skip_bytes skip=24 status=none
	  tail -c +$((24 + 2 * 65553 + 1)) "$BATS_TEST_TMPDIR/orig"; } >"$f"
	[ "$(stat -c %s "$f")" -eq "$(stat -c %s "$BATS_TEST_TMPDIR/orig")" ]
	try "$link"
	try "$(relink "$link" "$f")"
	restore
	as alice nc-media -q get "$link" -o "$OUT"
	cmp "$OUT/t" "$BATS_TEST_TMPDIR/t"
}

@test "media: links that are not links -> 65" {
	for l in "" "http://x/v1/blobs/00" "ftp://h/v1/blobs/$(printf '0%.0s' $(seq 64))#k=&h=&n=1" \
	    "$(as alice nc-media ls | head -n 1 | cut -f1 | sed 's/&n=.*//')"; do
		run as alice nc-media get "$l" -o "$OUT"
		[ "$status" -eq 65 ]
	done
	run as alice nc-media get
	[ "$status" -eq 64 ]
}

@test "media: a directory tree with odd names round-trips; never over an existing one" {
	d=$BATS_TEST_TMPDIR/tree
	mkdir -p "$d/sub dir/ünï cødé" "$d/.hidden" "$d/empty"
	echo a >"$d/a b.txt"
	printf 'x\ty' >"$d/sub dir/ünï cødé/tab	name"
	echo '$(rm -rf /)' >"$d/-rf"
	head -c 100000 /dev/urandom >"$d/.hidden/big"
	ln -s "a b.txt" "$d/link"
	: >"$d/empty-file"
	link=$(as alice nc-media put "$d")
	as alice nc-media -q get "$link" -o "$OUT"
	diff -r "$d" "$OUT/tree"
	[ "$(readlink "$OUT/tree/link")" = "a b.txt" ]
	[ "$(ls -A "$OUT")" = tree ]
	run as alice nc-media get "$link" -o "$OUT"
	[ "$status" -eq 73 ]
	# as a tar on stdout
	mkdir "$BATS_TEST_TMPDIR/x"
	as alice nc-media get "$link" -o - | tar xf - -C "$BATS_TEST_TMPDIR/x"
	diff -r "$d" "$BATS_TEST_TMPDIR/x/tree"
}

# evil NAME: put the tar $BATS_TEST_TMPDIR/NAME as a directory archive,
# then get it: exit 65 with a reason, nothing in $OUT or $OUTSIDE.
evil() {
	local link
	link=$(NC_MEDIA_AS_ARCHIVE=1 as alice nc-media put "$BATS_TEST_TMPDIR/$1") || return 1
	run as alice nc-media get "$link" -o "$OUT"
	[ "$status" -eq 65 ] || { echo "$1: $status $output"; return 1; }
	[[ "$output" == "nc-media: archive: "* ]] || { echo "$output"; return 1; }
	empty_out
	[ -z "$(ls -A "$OUTSIDE")" ] || { echo "$1 wrote outside"; ls -la "$OUTSIDE"; return 1; }
}

@test "media: hostile archives: .., absolute paths, symlink escapes, hard links, fifos, caps" {
	OUTSIDE=$BATS_TEST_TMPDIR/outside
	mkdir -p "$OUTSIDE"
	s=$BATS_TEST_TMPDIR/src
	mkdir -p "$s/tree" "$s/other/tree/link"
	echo x >"$s/x"
	cd "$s"
	# tree/../x and tree/../../outside/x
	tar -P -cf "$BATS_TEST_TMPDIR/tree" tree tree/../x
	evil tree
	# an absolute path
	tar -P -cf "$BATS_TEST_TMPDIR/tree" tree "$s/x"
	evil tree
	# a symbolic link out, then a file written through it
	ln -s "$OUTSIDE" tree/link
	echo through >other/tree/link/f
	tar -cf "$BATS_TEST_TMPDIR/tree" tree tree/link
	tar -C other -rf "$BATS_TEST_TMPDIR/tree" tree/link/f
	evil tree
	rm tree/link
	# a hard link
	echo h >tree/h1
	ln tree/h1 tree/h2
	tar -cf "$BATS_TEST_TMPDIR/tree" tree
	evil tree
	rm tree/h2
	# a fifo (device nodes are refused the same way)
	mkfifo tree/fifo
	tar -cf "$BATS_TEST_TMPDIR/tree" tree
	evil tree
	rm tree/fifo
	# past the caps on entries and on bytes
	for i in 1 2 3 4 5 6; do echo "$i" >"tree/f$i"; done
	tar -cf "$BATS_TEST_TMPDIR/tree" tree
	NC_MEDIA_MAX_ENTRIES=5 evil tree
	head -c 5000 /dev/urandom >tree/big
	tar -cf "$BATS_TEST_TMPDIR/tree" tree
	NC_MEDIA_MAX_BYTES=4000 evil tree
	# the same archive within the caps is fine
	link=$(NC_MEDIA_AS_ARCHIVE=1 as alice nc-media put "$BATS_TEST_TMPDIR/tree")
	as alice nc-media -q get "$link" -o "$OUT"
	diff -r tree "$OUT/tree"
}

@test "media: the relay never sees the name, the type, the content or the exact size" {
	d=$BATS_TEST_TMPDIR/canary-dir
	mkdir -p "$d"
	for i in $(seq 1 2000); do echo "CANARY-CONTENT-7f3a $i"; done >"$d/canary-name-91c2.txt"
	link=$(as alice nc-media put "$d/canary-name-91c2.txt")
	link2=$(as alice nc-media put "$d")
	sleep 0.2
	for c in CANARY-CONTENT-7f3a canary-name-91c2 canary-dir text/plain application/x-tar; do
		run grep -rla -- "$c" "$RELAY_DIR_a"
		[ "$status" -eq 1 ] || { echo "$c found: $output"; false; }
	done
	size=$(stat -c %s "$d/canary-name-91c2.txt")
	[ "$(stat -c %s "$(blobfile "$link")")" -ne $((size + 24 + 17)) ]
	[ "$(stat -c %s "$(blobfile "$link")")" -gt "$size" ]
	# and the key never left the client: not in the relay's files either
	key=$(echo "$link" | sed -E 's/.*#k=([0-9a-f]{64}).*/\1/')
	run grep -rla -- "$key" "$RELAY_DIR_a"
	[ "$status" -eq 1 ]
}
