#!/usr/bin/env bats
# A relay whose disk fills recovers by itself when space returns (issue 13):
# its data dir is a small tmpfs; a big file beside the database fills it;
# deliveries then get 503 (never a 201 for what was not stored), and once
# the file is deleted the next deliveries get 201, without a restart, and
# also after a restart made while the disk was full. Needs root (mount);
# skipped, saying why, where tmpfs cannot be mounted.

bats_require_minimum_version 1.5.0
load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
	MNT=$T/A   # relay_start A keeps its data in $BATS_TEST_TMPDIR/A
	mkdir -p "$MNT"
	mount -t tmpfs -o size=8m,mode=0700 tmpfs "$MNT" 2>"$T/mount.err" ||
		skip "cannot mount a tmpfs for the relay's data dir (needs root): $(head -n 1 "$T/mount.err")"
	MOUNTED=1
	export NC_RELAY_HEALTH_SECS=3600   # only the failing / working lines
	relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
	head -c 8192 /dev/urandom >"$T/env"
	newuser u0
	DEV=$(devid u0)
	: >"$T/status"
}

teardown() {
	relay_stop_all
	[ -z "${MOUNTED:-}" ] || umount "$MNT" || umount -l "$MNT"
}

# deliver FROM TO: PUT envelopes FROM..TO (ids are the numbers) eight at a
# time, so that they share commits; "ID STATUS" lines go to $T/status, and
# this round's to $T/round.
deliver() {
	local i cfg=$T/put.cfg
	: >"$cfg"
	for ((i = $1; i <= $2; i++)); do
		printf 'url = "%s/v1/users/u0/devices/%s/mailbox/%032x"\nupload-file = "%s"\noutput = "/dev/null"\n' \
		    "$U" "$DEV" "$i" "$T/env" >>"$cfg"
	done
	curl -s --no-progress-meter --parallel --parallel-max 8 -K "$cfg" -H 'Content-Type: application/octet-stream' \
	    -w '%{url_effective} %{http_code}\n' | sed -E 's|.*/mailbox/([0-9a-f]+) |\1 |' >"$T/round"
	cat "$T/round" >>"$T/status"
}

# until_full: deliveries in rounds of 20 (ids from $NEXT on) until a whole
# round gets 503: the disk is full then. What fit before in the free pages
# of the log and the database got 201, rightly (check_stored checks it);
# at most 30 rounds.
NEXT=100
until_full() {
	local r
	for ((r = 0; r < 30; r++)); do
		deliver "$NEXT" $((NEXT + 19))
		NEXT=$((NEXT + 20))
		[ "$(grep -c ' 503$' "$T/round")" -lt 20 ] || return 0
	done
	echo "30 rounds of deliveries and the disk is not full" >&2
	return 1
}

# fill: a file beside the database takes every free byte of the tmpfs.
fill() {
	dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
	[ "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" -eq 0 ]
}

# The ids in the mailbox, one a line, page after page.
listed() {
	local after=0
	while :; do
		[ "$(sreq "$T/u0" GET "/v1/users/u0/devices/$DEV/mailbox?after=$after&limit=100")" = 200 ]
		ncreq show mailbox "$T/resp" >"$T/page"
		[ -s "$T/page" ] || break
		awk '{print $2}' "$T/page"
		after=$(tail -n 1 "$T/page" | cut -d' ' -f1)
	done | sort
}

# Every status is 201 or 503, and what the mailbox holds is exactly what
# got 201: nothing answered 201 is missing, nothing answered 503 was kept.
check_stored() {
	if grep -vE '^[0-9a-f]{32} (201|503)$' "$T/status"; then return 1; fi
	diff <(awk '$2 == 201 {print $1}' "$T/status" | sort) <(listed)
}

@test "disk full: deliveries get 503, never 201 for what was not stored; space freed: 201 again without a restart" {
	deliver 1 10
	[ "$(grep -c ' 201$' "$T/status")" -eq 10 ]
	fill
	until_full
	echo "full disk: $(($(grep -c ' 201$' "$T/status") - 10)) stored in its free pages, then $(grep -c ' 503$' "$T/status") answered 503" >&3
	# the 503 says why
	[ "$(req PUT "/v1/users/u0/devices/$DEV/mailbox/$(printf '%032x' 99)" "$T/env")" = 503 ]
	echo "$(printf '%032x' 99) 503" >>"$T/status"
	cat "$T/resp" >&3; echo >&3
	grep -q 'retry later' "$T/resp"
	grep -q '^nc-relayd: health: writes failing: database or disk is full,' "$RELAY_DIR_A.err"
	check_stored

	rm "$MNT/fill"
	deliver 5000 5019
	[ "$(grep -c ' 201$' "$T/round")" -eq 20 ]
	check_stored
	grep -q '^nc-relayd: health: writes work again,' "$RELAY_DIR_A.err"
	# one line when writes start failing, one when they work again; a
	# commit that still fits in free pages while the disk is full makes
	# them alternate more than once, but they always alternate, failing
	# first and working last
	grep -o 'health: writes [a-z]*' "$RELAY_DIR_A.err" >"$T/health"
	awk '$3 != (NR % 2 ? "failing" : "work") { bad = 1 } END { exit bad || NR == 0 || NR % 2 }' "$T/health"
	grep -v '^nc-relayd: health: writes' "$RELAY_DIR_A.err" && false
	: >"$RELAY_DIR_A.err"   # the health lines are expected here
}

@test "disk full: a relay restarted (killed, or stopped) while the disk is full starts, answers 503, and recovers when space returns" {
	deliver 1 10
	fill
	relay_kill A
	relay_restart A
	until_full
	check_stored
	# stopped cleanly, with the disk still full: it exits 0 and starts again
	relay_stop A
	relay_restart A
	until_full
	check_stored

	rm "$MNT/fill"
	deliver 5000 5019
	[ "$(grep -c ' 201$' "$T/round")" -eq 20 ]
	check_stored
	grep -q '^nc-relayd: health: writes work again,' "$RELAY_DIR_A.err"
	grep -v '^nc-relayd: health: ' "$RELAY_DIR_A.err" && false
	: >"$RELAY_DIR_A.err"
}

@test "disk full: a relay stopped while there was space, started when the disk has filled, starts and recovers" {
	deliver 1 10
	relay_stop A
	fill
	relay_restart A
	until_full
	check_stored
	rm "$MNT/fill"
	deliver 5000 5019
	[ "$(grep -c ' 201$' "$T/round")" -eq 20 ]
	check_stored
	grep -v '^nc-relayd: health: ' "$RELAY_DIR_A.err" && false
	: >"$RELAY_DIR_A.err"
}
