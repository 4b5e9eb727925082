#!/usr/bin/env bats
# T19 (split view, with T21): the provider b.test shows alice one key log
# and bob another - two trees signed by its one log key. Mechanism (issue
# 19, gossip; protocol.md 2.5, 3.4): every message carries, inside the
# end-to-end encryption, the newest tree heads its sender holds for the
# recipient's domain and its own; the receiver checks a head that differs
# from its own against the pinned log key, then compares: one size with
# another root, or a tree the provider cannot prove consistent with its
# own, is an alarm after the batch. The world: relay b.test is forked (a
# copy of its data, its log key with it, run as a second instance); each
# copy appends a different user, alice reads the fork, bob the original.
# Shows: heads that agree raise nothing; a newer head that extends the
# receiver's is proved by one consistency proof from the provider and
# adopted, and when the provider does not answer that request the head is
# kept and checked at the next nc-recv (no alarm meanwhile); after the
# fork one message either way is an alarm at the receiver (exit 1, the
# message still shown), once per pair of heads, also when the gossiped
# head is larger and the provider's consistency proof fails against the
# receiver's own; a gossiped head the provider did not sign is ignored;
# last (alice's nc-recv tries the message again at every run), a
# device-list fetch whose head does not extend the one held is refused,
# nothing sent.

WORLD_NEEDS="nc-keys sqlite3"
load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	echo "t25-hello" | as alice nc-send bob@b.test
	as bob nc-recv --json >"$W/o1"
	echo "t25-back" | as bob nc-send alice@a.test
	as alice nc-recv --json >"$W/o2"
}

head_of() {   # head_of NAME DOMAIN: the newest head NAME holds, in hex
	sqlite3 "$W/$1/state.db" "SELECT hex(v) FROM kv WHERE k = 'kt/$2/head'"
}

size_of() {   # size_of HEX-HEAD: its tree size (u64, big-endian, first)
	echo $((16#${1:0:16}))
}

gossip_rows() {   # gossip_rows NAME: gossiped heads NAME has yet to check
	sqlite3 "$W/$1/state.db" "SELECT count(*) FROM kv WHERE k >= 'ktg/' AND k < 'ktg0'"
}

# grow USER: b.test's log grows by USER's list, and bob sees it (his head
# is then ahead of alice's)
grow() {
	user "$1" "$1@b.test"
	as bob nc-keys show "$1@b.test" >/dev/null
	[ "$(size_of "$(head_of bob b.test)")" -gt "$(size_of "$(head_of alice b.test)")" ]
}

@test "T25: heads that agree: no alarm either way" {
	echo "t25-agree" | as alice nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *t25-agree* ]]
	[[ "$output" != *'"alarm"'* ]]
	echo "t25-agree2" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *'"alarm"'* ]]
}

@test "T25: a newer head that extends hers: one consistency proof, adopted, no alarm" {
	grow carol
	mine=$(head_of alice b.test) theirs=$(head_of bob b.test)
	echo "t25-newer" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *t25-newer* ]]
	[[ "$output" != *'"alarm"'* ]]
	[ "$(head_of alice b.test)" = "$theirs" ]
	[ "$(gossip_rows alice)" -eq 0 ]
	grep -q "GET /v1/kt/consistency?from=$(size_of "$mine")&to=$(size_of "$theirs") 200" \
	    "$HB_REC/log"
}

@test "T25: the provider does not answer the check: the head is kept, no alarm; checked at the next nc-recv" {
	grow erin
	mine=$(head_of alice b.test) theirs=$(head_of bob b.test)
	hostile b "drop GET /v1/kt/consistency status=503"
	echo "t25-retry" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	hostile b ""
	[ "$status" -eq 0 ]
	[[ "$output" == *t25-retry* ]]
	[[ "$output" != *'"alarm"'* ]]
	[ "$(head_of alice b.test)" = "$mine" ]
	[ "$(gossip_rows alice)" -eq 1 ]
	grep -q "GET /v1/kt/consistency?from=$(size_of "$mine")&to=$(size_of "$theirs") 503" \
	    "$HB_REC/log"
	# the provider answers again: no new message, the kept head is checked
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *'"alarm"'* ]]
	[ "$(head_of alice b.test)" = "$theirs" ]
	[ "$(gossip_rows alice)" -eq 0 ]
	grep -q "GET /v1/kt/consistency?from=$(size_of "$mine")&to=$(size_of "$theirs") 200" \
	    "$HB_REC/log"
}

@test "T25: the world: b.test forked, alice and bob hold heads of the two trees" {
	mkdir -p "$W/relay-fork/blobs"
	cp "$W/relay-b/kt.key" "$W/relay-fork/"
	sqlite3 "$W/relay-b/relay.db" ".backup '$W/relay-fork/relay.db'"
	FORK_URL=$(_spawn "$W/relay-fork.out" nc-relayd -d "$W/relay-fork" \
	    -l 127.0.0.1:0 -D b.test)
	echo "$FORK_URL" >"$W/fork.url"
	# each copy appends a different user
	user dave dave@b.test
	user mal mal@b.test b.test="$FORK_URL"
	# alice reads the fork once (then her messages go to bob's relay again)
	sed -i "s|^relay b.test .*|relay b.test $FORK_URL|" "$W/alice/config"
	as alice nc-keys show mal@b.test >/dev/null
	sed -i "s|^relay b.test .*|relay b.test $HB_URL|" "$W/alice/config"
	as bob nc-keys show dave@b.test >/dev/null
	[ -n "$(head_of alice b.test)" ] && [ -n "$(head_of bob b.test)" ]
	[ "$(head_of alice b.test)" != "$(head_of bob b.test)" ]
}

@test "T25: bob's message tells alice: an alarm naming bob and b.test, exit 1, the message shown" {
	echo "t25-split" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *t25-split* ]]
	printf '%s\n' "$output" | grep '"type":"alarm"' |
	    grep -q 'key log: provider b.test showed you and bob@b.test different key logs'
}

@test "T25: alice's message tells bob the same, naming alice" {
	echo "t25-split2" | as alice nc-send bob@b.test
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *t25-split2* ]]
	printf '%s\n' "$output" | grep '"type":"alarm"' |
	    grep -q 'key log: provider b.test showed you and alice@a.test different key logs'
}

@test "T25: the same pair of heads again: no second alarm, messages flow" {
	echo "t25-again" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *t25-again* ]]
	[[ "$output" != *'"alarm"'* ]]
}

@test "T25: a larger head that does not extend hers: the provider's consistency proof fails, an alarm" {
	# the original grows past the fork alice holds; bob sees it
	grow frank
	mine=$(head_of alice b.test) theirs=$(head_of bob b.test)
	echo "t25-ahead" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *t25-ahead* ]]
	printf '%s\n' "$output" | grep '"type":"alarm"' |
	    grep 'key log: provider b.test showed you and bob@b.test different key logs' |
	    grep -q 'which do not extend one another'
	[ "$(head_of alice b.test)" = "$mine" ]   # the fork's head is not replaced
	grep -q "GET /v1/kt/consistency?from=$(size_of "$mine")&to=$(size_of "$theirs") 200" \
	    "$HB_REC/log"
}

@test "T25: a gossiped head the provider did not sign: ignored, no alarm" {
	# bob's head of b.test with its root zeroed (the signature no longer
	# verifies); without the check it would differ from alice's: an alarm
	sqlite3 "$W/bob/state.db" "UPDATE kv SET v = substr(v, 1, 8) ||
	    zeroblob(32) || substr(v, 41) WHERE k = 'kt/b.test/head'"
	echo "t25-forged" | as bob nc-send alice@a.test
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *t25-forged* ]]
	[[ "$output" != *'"alarm"'* ]]
}

@test "T25: a fetch whose head does not extend the one alice holds (the fork's): alarm, nothing sent" {
	# frank's list comes from the original relay, with a consistency proof
	# from the size of alice's head, which is the fork's
	mine=$(head_of alice b.test)
	run as alice nc-send frank@b.test <<<"t25-to-frank"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"key log: "* ]]
	[ "$(head_of alice b.test)" = "$mine" ]
	run as frank nc-recv
	[[ "$output" != *t25-to-frank* ]]
}
