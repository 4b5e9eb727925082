#!/usr/bin/env bats
# The clients beside a relay whose disk is full (issue 13): b.test's data
# dir is a small tmpfs, filled by a file beside its database. nc-send is
# answered 503 and says so (queued, 75, the relay's words: not "relay
# unreachable"); nc-recv still reads (the relay serves reads on a full
# disk) and prints nothing twice though its acknowledgements fail; once the
# file is deleted, nc-send --flush delivers, with no relay restart.

bats_require_minimum_version 1.5.0
load helpers/relay
load helpers/client
load helpers/relay-req

setup_file() {
	MNT=$BATS_FILE_TMPDIR/b   # relay_start b keeps its data here
	mkdir -p "$MNT"
	if ! mount -t tmpfs -o size=8m,mode=0700 tmpfs "$MNT" 2>"$BATS_FILE_TMPDIR/mount.err"; then
		echo "$(head -n 1 "$BATS_FILE_TMPDIR/mount.err")" >"$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	# a user of b.test whose mailbox takes the envelopes that fill() sends
	T=$BATS_FILE_TMPDIR U=$RELAY_URL_b newuser junk
	T=$BATS_FILE_TMPDIR devid junk >"$BATS_FILE_TMPDIR/junk.dev"
	head -c 8192 /dev/urandom >"$BATS_FILE_TMPDIR/junk.env"
}

teardown_file() {
	[ -f "$BATS_FILE_TMPDIR/skip" ] && return 0
	# b's health lines (writes failing / working again) are expected here
	grep -v '^nc-relayd: health: writes' "$BATS_FILE_TMPDIR/b.err" >&2 || : >"$BATS_FILE_TMPDIR/b.err"
	world_down
	umount "$BATS_FILE_TMPDIR/b" || umount -l "$BATS_FILE_TMPDIR/b"
}

setup() {
	[ ! -f "$BATS_FILE_TMPDIR/skip" ] ||
		skip "cannot mount a tmpfs for the relay's data dir (needs root): $(cat "$BATS_FILE_TMPDIR/skip")"
	world_load
	MNT=$BATS_FILE_TMPDIR/b
}

# fill: a file beside the database takes every free byte; then envelopes
# to junk until the relay answers 503 three times running: 8 KiB ones, then
# 1-byte ones (until then they fit in the free pages of its log and
# database: a commit that failed leaves the log file longer, and a smaller
# one may fit there).
fill() {
	local i n env T=$BATS_FILE_TMPDIR U=$RELAY_URL_b dev
	dev=$(cat "$T/junk.dev")
	dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
	[ "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" -eq 0 ]
	printf x >"$T/junk.tiny"
	for env in junk.env junk.tiny; do
		for ((i = 0, n = 0; i < 400 && n < 3; i++)); do
			if [ "$(req PUT "/v1/users/junk/devices/$dev/mailbox/$(printf '%08x%024x' $((RANDOM * 32768 + RANDOM)) "$i")" "$T/$env")" = 503 ]; then
				n=$((n + 1))
			else
				n=0
			fi
		done
		[ "$n" -eq 3 ]
	done
}

@test "full disk at the recipient's relay: nc-send queues (75) naming the relay's 503, not 'unreachable'; --flush delivers once space returns" {
	echo "before" | as alice nc-send bob@b.test >/dev/null
	run as bob nc-recv
	[ "$output" = "alice@a.test: before" ]
	fill
	run --separate-stderr as alice nc-send bob@b.test <<<"while full"
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 75 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	[[ "$stderr" == "nc-send: bob@b.test: queued: relay of b.test answered 503 "* ]]
	[[ "$stderr" != *unreachable* ]]
	run as alice nc-send --queue
	echo "$output"
	[[ "$output" == *"answered 503"* ]]
	# still full: --flush keeps it queued, and says why
	run --separate-stderr as alice nc-send --flush
	echo "status $status; stderr: $stderr"
	[ "$status" -eq 75 ]
	[[ "$stderr" != *unreachable* ]]

	rm "$MNT/fill"
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as bob nc-recv
	[ "$output" = "alice@a.test: while full" ]
	run as alice nc-send --queue
	[ -z "$output" ]
}

@test "full disk at the reader's relay: nc-recv prints what is there, once, though its acks fail; later reads print nothing again" {
	echo "one" | as alice nc-send bob@b.test >/dev/null
	echo "two" | as alice nc-send bob@b.test >/dev/null
	fill
	run --separate-stderr as bob nc-recv
	echo "status $status; out: $output; stderr: $stderr"
	[ "$output" = "$(printf 'alice@a.test: one\nalice@a.test: two')" ]
	[[ "$stderr" != *unreachable* ]]
	run --separate-stderr as bob nc-recv
	echo "status $status; out: $output; stderr: $stderr"
	[ -z "$output" ]
	rm "$MNT/fill"
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
