#!/usr/bin/env bats
# Files in messages: nc-send --attach uploads once to the sender's relay
# (a.test) and sends the links; the receiver (b.test) sees them in text
# and --json and fetches them with nc-media get or nc-recv --save DIR:
# verified first, 0600, never outside DIR, never over a file (a suffix).
# A hostile sender's names ("../x", "/etc/passwd", control characters)
# and a blob changed at the relay are refused with nothing written.
# Our other device gets the files in the sent copy (payload type 6); the
# upload draws a progress bar on a terminal only.

bats_require_minimum_version 1.5.0

load helpers/relay
load helpers/client

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
}

teardown_file() { world_down; }

setup() {
	world_load
	SAVE=$BATS_TEST_TMPDIR/save
	rm -rf "$SAVE"
	mkdir -p "$SAVE"
	# whatever earlier tests left for bob is read now
	as bob nc-recv >/dev/null 2>&1 || true
}

# json_field NAME: the first "NAME":"value" in $output
json_field() {
	printf '%s\n' "$output" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 |
	    sed -E "s/^\"$1\":\"(.*)\"$/\1/"
}

@test "attach: a file and a text to a user of another relay; --json and text name it and how to fetch it" {
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/photo.png"
	run as alice nc-send --attach "$BATS_TEST_TMPDIR/photo.png" bob@b.test <<<"look at this"
	[ "$status" -eq 0 ]
	run as bob nc-recv --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"body":"look at this","attachments":[{"name":"photo.png","size":200000,"type":"image/png","hash":"'* ]]
	[[ "$output" != *'"saved"'* ]]
	link=$(json_field link)
	[[ "$link" == "$RELAY_URL_a/v1/blobs/"*"#k="* ]]
	# the hash is the link's
	[[ "$link" == *"&h=$(json_field hash)&n="* ]]
	as bob nc-media -q get "$link" -o "$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/photo.png" "$BATS_TEST_TMPDIR/got"
	# text: the body, then a line per file with its fetch command
	run as bob nc-recv --history alice@a.test
	[[ "$output" == *"alice@a.test: look at this"* ]]
	[[ "$output" == *"alice@a.test: [file] photo.png (200000 bytes, image/png): nc-media get '$link'"* ]]
	# the sender's own history has it too
	run as alice nc-recv --history --json
	[[ "$output" == *'"name":"photo.png"'* ]]
}

@test "attach: files alone (no text), two of them, to two users; uploaded once" {
	mkuser carol carol@b.test
	echo one >"$BATS_TEST_TMPDIR/a.txt"
	echo two >"$BATS_TEST_TMPDIR/b.txt"
	run as alice nc-send --attach "$BATS_TEST_TMPDIR/a.txt" --attach "$BATS_TEST_TMPDIR/b.txt" \
	    bob@b.test carol@b.test </dev/null
	[ "$status" -eq 0 ]
	# one upload per file whatever the number of recipients
	run as alice nc-media ls
	[ "$(printf '%s\n' "$output" | grep -c "a.txt")" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c "b.txt")" -eq 1 ]
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '\[file\]')" -eq 2 ]
	# no empty text line
	[ "$(printf '%s\n' "$output" | grep -c '^alice@a.test: $')" -eq 0 ]
	run as carol nc-recv --save "$SAVE" --json
	[ "$status" -eq 0 ]
	[ "$(cat "$SAVE/a.txt")" = one ]
	[ "$(cat "$SAVE/b.txt")" = two ]
	[[ "$output" == *"\"saved\":\"$SAVE/a.txt\""* ]]
	[[ "$output" == *"\"saved\":\"$SAVE/b.txt\""* ]]
}

@test "attach: --save writes 0600 into DIR, never over a file or through a link: a suffix" {
	echo first >"$BATS_TEST_TMPDIR/notes.txt"
	echo mine >"$SAVE/notes.txt"
	ln -s "$BATS_TEST_TMPDIR/outside" "$SAVE/notes-1.txt"
	as alice nc-send --attach "$BATS_TEST_TMPDIR/notes.txt" bob@b.test <<<"notes"
	run as bob nc-recv --save "$SAVE"
	[ "$status" -eq 0 ]
	[ "$(cat "$SAVE/notes.txt")" = mine ]
	[ ! -e "$BATS_TEST_TMPDIR/outside" ]
	[ "$(cat "$SAVE/notes-2.txt")" = first ]
	[ "$(stat -c %a "$SAVE/notes-2.txt")" = 600 ]
	[[ "$output" == *"alice@a.test: [file] notes.txt (6 bytes, text/plain) saved to $SAVE/notes-2.txt"* ]]
	# nothing else was left in DIR (no temporary file)
	[ "$(ls -A "$SAVE" | wc -l)" -eq 3 ]
	# a dot file is not saved hidden
	echo dot >"$BATS_TEST_TMPDIR/.profile"
	as alice nc-send --attach "$BATS_TEST_TMPDIR/.profile" bob@b.test </dev/null
	as bob nc-recv --save "$SAVE"
	[ "$(cat "$SAVE/_profile")" = dot ]
	[ ! -e "$SAVE/.profile" ]
	# printed once: a second run saves nothing again
	run as bob nc-recv --save "$SAVE"
	[ "$output" = "" ]
	[ "$(ls -A "$SAVE" | wc -l)" -eq 4 ]
}

@test "attach: a hostile sender's names (../x, /etc/passwd, control characters) are refused, nothing written" {
	local name link
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	for name in "../x" "/etc/passwd" "a$(printf '\033')[2Jb" ".." "sub/x"; do
		link=$(printf 'evil' | "$NC_BIN/t/nc-forge-media" file "$RELAY_URL_a" "$name" "$BATS_TEST_TMPDIR/ct")
		curl -sf -T "$BATS_TEST_TMPDIR/ct" -H "X-NC-Delete-Hash: $(printf '%064d' 0)" \
		    "${link%%#*}" >/dev/null
		NC_HOME=$W/alice "$NC_BIN/t/nc-forge-media" send "$link" innocent.txt bob@b.test
		run --separate-stderr as bob nc-recv --save "$SAVE"
		[ "$status" -eq 1 ]
		[[ "$output" == "alice@a.test: [file] innocent.txt (1 bytes): nc-media get '$link'" ]]
		[[ "$stderr" == *"innocent.txt from alice@a.test: not saved: media: malformed file header"* ]]
		[[ "$stderr" == *"nc-recv: 1 attachment not saved (named above)"* ]]
		[[ "$stderr" != *"state:"* ]]
		[ -z "$(ls -A "$SAVE")" ]
		[ ! -e "$BATS_TEST_TMPDIR/x" ] && [ ! -e "$SAVE/../x" ]
	done
	# the announced name itself must be one the format allows: such a
	# message is refused whole (a forged list), nothing stored
	run env NC_HOME="$W/alice" "$NC_BIN/t/nc-forge-media" send "$link" "../x" bob@b.test
	[ "$status" -ne 0 ]
}

@test "attach: a blob changed at the relay (wrong hash) is refused, nothing written; the message still says how to fetch it" {
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/doc.pdf"
	as alice nc-send --attach "$BATS_TEST_TMPDIR/doc.pdf" bob@b.test <<<"the report"
	link=$(as alice nc-media ls | grep doc.pdf | cut -f1)
	id=${link%%#*}
	f=$RELAY_DIR_a/blobs/${id##*/}
	flip "$f" 50000
	run --separate-stderr as bob nc-recv --save "$SAVE" --json
	[ "$status" -eq 1 ]
	[[ "$output" == *'"body":"the report"'* ]]
	[[ "$output" != *'"saved"'* ]]
	[[ "$stderr" == *"doc.pdf from alice@a.test: not saved: media: "* ]]
	[[ "$stderr" != *"#k="* ]]   # the key stays off stderr
	[ -z "$(ls -A "$SAVE")" ]
}

@test "attach: usage - --attach with --flush/--queue, --save with --history; a missing file sends nothing" {
	run as alice nc-send --flush --attach /etc/hostname
	[ "$status" -eq 64 ]
	run as bob nc-recv --history --save "$SAVE"
	[ "$status" -eq 64 ]
	run as alice nc-send --attach "$BATS_TEST_TMPDIR/nope" bob@b.test </dev/null
	[ "$status" -eq 65 ]
	[[ "$output" == *"nope"* ]]
	run as bob nc-recv
	[ "$output" = "" ]
}

@test "attach: the sent copy (payload type 6) brings the files to our other device; --save fetches only what others sent" {
	config alice2
	as alice2 nc-keygen alice@a.test >/dev/null
	as alice nc-recv >/dev/null   # the new device's hello: copies go to it
	head -c 70000 /dev/urandom >"$BATS_TEST_TMPDIR/pic.jpg"
	run as alice nc-send --attach "$BATS_TEST_TMPDIR/pic.jpg" bob@b.test <<<"from the phone"
	[ "$status" -eq 0 ]
	id=$output
	run as alice2 nc-recv --save "$SAVE" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"id\":\"$id\",\"from\":\"alice@a.test\",\"to\":\"bob@b.test\""*'"sent":true'* ]]
	[[ "$output" == *'"body":"from the phone","attachments":[{"name":"pic.jpg","size":70000,"type":"image/jpeg","hash":"'* ]]
	[[ "$output" != *'"saved"'* ]]
	[ -z "$(ls -A "$SAVE")" ]
	link=$(json_field link)
	# the same link the sending device uploaded, fetchable here
	[ "$link" = "$(as alice nc-media ls | grep pic.jpg | cut -f1)" ]
	as alice2 nc-media -q get "$link" -o "$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/pic.jpg" "$BATS_TEST_TMPDIR/got"
	# text: from us to bob, the file and how to fetch it
	run as alice2 nc-recv --history bob@b.test
	[[ "$output" == *" > bob@b.test: from the phone"* ]]
	[[ "$output" == *" > bob@b.test: [file] pic.jpg (70000 bytes, image/jpeg): nc-media get '$link'"* ]]
	# bob got it once, with the file
	run as bob nc-recv --save "$SAVE"
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: [file] pic.jpg (70000 bytes, image/jpeg) saved to $SAVE/pic.jpg"* ]]
	cmp "$BATS_TEST_TMPDIR/pic.jpg" "$SAVE/pic.jpg"
}

@test "attach: a progress bar on stderr when it is a terminal (script(1)'s pty), nothing otherwise" {
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/big.bin"
	# stdout to a file: what the pty shows is stderr alone
	run script -qec "NC_HOME='$W/alice' nc-send --attach '$BATS_TEST_TMPDIR/big.bin' bob@b.test </dev/null >'$BATS_TEST_TMPDIR/id'" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" =~ uploading\ [0-9.]+\ KiB\ in\ [0-9.]+\ s\ \([0-9.]+\ [KMG]?i?B/s\) ]]
	[ -s "$BATS_TEST_TMPDIR/id" ]
	# not a terminal: not a byte on stderr
	run --separate-stderr as alice nc-send --attach "$BATS_TEST_TMPDIR/big.bin" bob@b.test </dev/null
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# nor with -q on a terminal
	run script -qec "NC_HOME='$W/alice' nc-send -q --attach '$BATS_TEST_TMPDIR/big.bin' bob@b.test </dev/null" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# blobs N: how many blobs of exactly N bytes both relays hold
blobs() { find "$RELAY_DIR_a/blobs" "$RELAY_DIR_b/blobs" -type f -size "$1c" | wc -l; }

@test "attach: files sent to a group go up once; every member sees them, --save fetches them" {
	local gid l n
	[ -d "$W/carol" ] || mkuser carol carol@b.test
	gid=$(as alice nc-group create pics bob@b.test carol@b.test)
	as bob nc-recv >/dev/null
	as carol nc-recv >/dev/null
	head -c 150000 /dev/urandom >"$BATS_TEST_TMPDIR/x.png"
	head -c 123457 /dev/urandom >"$BATS_TEST_TMPDIR/y.bin"
	run as alice nc-send -g pics --attach "$BATS_TEST_TMPDIR/x.png" \
	    --attach "$BATS_TEST_TMPDIR/y.bin" <<<"for the album"
	[ "$status" -eq 0 ]
	run as bob nc-recv --json
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"from\":\"alice@a.test\""*"\"group\":\"$gid\""*'"body":"for the album","attachments":[{"name":"x.png","size":150000,"type":"image/png"'*'{"name":"y.bin","size":123457,'* ]]
	# one blob per file at the relays, whatever the number of members
	# (counted by the size of its ciphertext), each the one in the link
	[ "$(printf '%s\n' "$output" | grep -o '"link":"[^"]*"' | wc -l)" -eq 2 ]
	for l in $(printf '%s\n' "$output" | grep -o '"link":"[^"]*"' | cut -d'"' -f4); do
		n=${l##*&n=}
		[ "$(blobs "$n")" -eq 1 ]
		u=${l%%#*}
		[ -f "$RELAY_DIR_a/blobs/${u##*/}" ]
	done
	[ "$(as alice nc-media ls | grep -c 'x.png')" -eq 1 ]
	run as carol nc-recv --save "$SAVE"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[pics] alice@a.test: for the album"* ]]
	[[ "$output" == *"[pics] alice@a.test: [file] x.png (150000 bytes, image/png) saved to $SAVE/x.png"* ]]
	cmp "$BATS_TEST_TMPDIR/x.png" "$SAVE/x.png"
	cmp "$BATS_TEST_TMPDIR/y.bin" "$SAVE/y.bin"
	# links and text past what a group message holds: 65, nothing sent
	run as alice nc-send -g pics --attach "$BATS_TEST_TMPDIR/y.bin" \
	    < <(head -c 65500 /dev/zero | tr '\0' a)
	[ "$status" -eq 65 ]
	[[ "$output" == *"more than a group message holds (65536): nothing sent"* ]]
	run as bob nc-recv
	[ "$output" = "" ]
}
