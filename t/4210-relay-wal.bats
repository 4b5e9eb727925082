#!/usr/bin/env bats
# The relay's WAL stays bounded under continuous load (issue 13, item 4):
# writers deliver without pause while readers list the mailboxes, so there
# is always a reader in the log and passive checkpoints alone never start
# it over (it reached 1 GB for a 48 MB database). The writer restarts the
# log once it holds 8 MB and journal_size_limit cuts the file back to
# 16 MB: the bound checked here is 24 MB (8 MB + a batch's worth + slack),
# sampled every 0.2 s through the whole run.

bats_require_minimum_version 1.5.0
load helpers/relay
load helpers/relay-req

setup() {
	T=$BATS_TEST_TMPDIR
	export NC_RELAY_HEALTH_SECS=5
	relay_start A a.test --rate-anon 0
	U=$RELAY_URL_A
}

teardown() {
	relay_stop_all
}

# writer N SECONDS: PUT 8 KiB envelopes to the four users' devices from
# one curl process (keep-alive), batch after batch, for SECONDS.
writer() {
	local n=$1 end=$((SECONDS + $2)) i u k=0 cfg=$T/w$1.cfg
	local -a dev=("$(cat "$T/u0.dev")" "$(cat "$T/u1.dev")" "$(cat "$T/u2.dev")" "$(cat "$T/u3.dev")")
	while ((SECONDS < end)); do
		: >"$cfg"
		for ((i = 0; i < 400; i++, k++)); do
			printf 'url = "%s/v1/users/u%d/devices/%s/mailbox/%02x%030x"\nupload-file = "%s"\noutput = "/dev/null"\n' \
			    "$U" $((i % 4)) "${dev[i % 4]}" "$n" "$k" "$T/env" >>"$cfg"
		done
		curl -s -K "$cfg" -H 'Content-Type: application/octet-stream' || true
	done
}

# reader SECONDS: list the mailboxes (100 envelopes a page) and acknowledge
# what came, without pause.
reader() {
	local end=$((SECONDS + $1)) u p
	while ((SECONDS < end)); do
		for u in u0 u1 u2 u3; do
			p="/v1/users/$u/devices/$(cat "$T/$u.dev")/mailbox"
			sreq "$T/$u" GET "$p?limit=100" >/dev/null || true
			ncreq show mailbox "$T/resp" 2>/dev/null | awk '{print $2}' | head -n 100 >"$T/ids.$u" || true
			[ -s "$T/ids.$u" ] || continue
			ncreq ack $(cat "$T/ids.$u") >"$T/ack.$u" 2>/dev/null || continue
			sreq "$T/$u" POST "$p/ack" "$T/ack.$u" >/dev/null || true
		done
	done
}

@test "relay WAL: under 40 s of deliveries and reads it stays below 24 MB; a health line reports it" {
	local u max=0 s secs=40
	head -c 8192 /dev/urandom >"$T/env"
	for u in u0 u1 u2 u3; do
		newuser "$u"
		devid "$u" >"$T/$u.dev"
	done
	writer 1 "$secs" & w1=$!
	writer 2 "$secs" & w2=$!
	reader "$secs" & r1=$!
	while kill -0 "$w1" 2>/dev/null; do
		s=$(stat -c %s "$RELAY_DIR_A/relay.db-wal" 2>/dev/null || echo 0)
		((s > max)) && max=$s
		sleep 0.2
	done
	wait "$w1" "$w2" "$r1" || true
	echo "largest WAL: $max bytes; database $(stat -c %s "$RELAY_DIR_A/relay.db")" >&3
	[ "$max" -lt $((24 << 20)) ]
	# the health line, every 5 s here: enough load that an unbounded log
	# would have passed the bound (~8 KiB a commit)
	grep 'health' "$RELAY_DIR_A.err" | tail -n 1 >&3
	grep -Eq '^nc-relayd: health: ok, WAL [0-9.]+ MB' "$RELAY_DIR_A.err"
	c=$(grep -oE '[0-9]+ commits,' "$RELAY_DIR_A.err" | tail -n 1 | cut -d' ' -f1)
	[ "$c" -gt 3000 ]
	grep -Eq ' [1-9][0-9]* WAL restarts' "$RELAY_DIR_A.err"
	grep -v '^nc-relayd: health: ok,' "$RELAY_DIR_A.err" && false
	# the health lines are expected here (and go on every 5 s until the
	# relay stops): stopped first, then anything else is still reported
	relay_stop A
	sed -i '/^nc-relayd: health: ok,/d' "$RELAY_DIR_A.err"
}
