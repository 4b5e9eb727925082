#!/usr/bin/env bats
# T23: a message from a stranger makes the recipient beacon (security
# review, issue 14 item 5): checking the sender's certificate needs its
# device list from the relay of the domain the sender names, and that
# request tells the domain when, and from which address, the recipient
# reads. Mechanism (lib/store/held.c): with the default config a message
# from a sender not known yet is held - its seal opened to learn who claims
# to send it, nothing decrypted, no receipt, no request anywhere but the
# recipient's own relay - until the recipient releases it (nc-recv
# --release), writes to the sender, or drops it (--reject); with a proxy
# configured the sender is looked up at once, through the proxy.
# Shows: bob (defaults) asks a.test nothing while alice's messages wait,
# prints them as held, not as messages; --release looks alice up, checks
# and prints them in order; a forged "alice" (the attacker's own relay
# signs her list) is refused at release; writing to a sender releases
# without --release, and so does writing from another of the user's
# devices (its sent copy); --reject drops; through a proxy every a.test
# request passes the proxy.

WORLD_NEEDS="nc-keys python3"
load lib

# a.test's requests since mark (its recording proxy's log)
a_mark() { wc -l <"$HA_REC/log" 2>/dev/null || echo 0; }
a_since() { tail -n +"$(($1 + 1))" "$HA_REC/log" 2>/dev/null; }

world_setup() {
	evil_start a.test
	user alice alice@a.test
	user carol carol@a.test
	user dave dave@a.test
	FIRST_CONTACT= user bob bob@b.test
	# the attacker's "alice": her own relay signs a list for that name
	user fake alice@a.test a.test="$HE_URL"
	true
}

@test "T23: a stranger's message is held: nothing asked of a.test, nothing printed as read" {
	echo "t23-one" | as alice nc-send bob@b.test
	echo "t23-two" | as alice nc-send bob@b.test
	m=$(a_mark)
	run as bob nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *t23-* ]]
	[ "$(count_held "$output")" -eq 2 ]
	printf '%s\n' "$output" | jq -se 'map(select(.type == "held")) |
	    all(.from == "alice@a.test" and .status == "unverified" and
	    (.device | test("^[0-9a-f]{32}$")) and (.envelope | test("^[0-9a-f]{32}$")))'
	# not a single request to the sender's domain
	[ -z "$(a_since "$m")" ]
	# listed, still without asking
	run as bob nc-recv --held
	[ "$status" -eq 0 ]
	[[ "$output" == "alice@a.test: 2 messages held since "*"(nc-recv --release alice@a.test reads them)" ]]
	run as bob nc-recv --held --json
	printf '%s\n' "$output" | jq -e '.type == "held" and .from == "alice@a.test" and .count == 2'
	run as bob nc-recv
	[ "$status" -eq 0 ]
	[ -z "$(a_since "$m")" ]
	# alice gets no receipt either
	run as alice nc-recv --json
	[[ "$output" != *'"type":"receipt"'* ]]
}

@test "T23: --release looks the sender up, checks it, prints the messages in order" {
	m=$(a_mark)
	run as bob nc-recv --release alice@a.test
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'alice@a.test: t23-one\nalice@a.test: t23-two')" ]
	# now a.test was asked (alice's device list)
	a_since "$m" | grep -q 'GET /v1/users/alice/devicelist'
	run as bob nc-recv --held
	[ -z "$output" ]
	# alice is a contact now: her next message is read at once
	echo "t23-three" | as alice nc-send bob@b.test
	run as bob nc-recv
	[ "$output" = "alice@a.test: t23-three" ]
	# and bob's receipts reached alice
	run as alice nc-recv --json
	[ "$(count_type receipt)" -ge 1 ]
}

@test "T23: a forged sender is refused at release (exit 1, an alarm, nothing printed)" {
	echo "t23-fake pay mallory" | as fake nc-send bob@b.test
	run as bob nc-recv --json
	[ "$status" -eq 1 ]   # bob knows alice now: checked at once, refused
	[[ "$output" != *t23-fake* ]]
	[[ "$output" == *'"type":"alarm"'* ]]
}

@test "T23: a forged stranger is held, then refused at release" {
	user fakedave dave2@a.test a.test="$HE_URL"
	echo "t23-fake2" | as fakedave nc-send bob@b.test
	run as bob nc-recv --json
	[ "$status" -eq 0 ]
	[ "$(count_held "$output")" -eq 1 ]
	run as bob nc-recv --json --release dave2@a.test
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" != *t23-fake2* ]]
	[[ "$output" == *'"type":"alarm"'* ]]
	run as bob nc-recv --held
	[ -z "$output" ]
}

@test "T23: writing to the sender releases what it sent, before the reply" {
	echo "t23-carol" | as carol nc-send bob@b.test
	run as bob nc-recv
	[[ "$output" == "held carol@a.test: "* ]]
	echo "t23-reply" | as bob nc-send carol@a.test
	run as bob nc-recv
	echo "$output"
	[ "$output" = "carol@a.test: t23-carol" ]
	run as carol nc-recv
	[[ "$output" == *"bob@b.test: t23-reply"* ]]
}

@test "T23: someone the user wrote to from another device is no stranger" {
	FIRST_CONTACT= user bob2 bob@b.test
	user frank frank@a.test
	# held on bob's second device, which has not met frank
	echo "t23-frank-1" | as frank nc-send bob@b.test
	run as bob2 nc-recv
	[[ "$output" == "held frank@a.test: "* ]]
	# bob answers from his first device: the second gets the sent copy,
	# and with it frank is a contact there: what was held is read, and
	# frank's next message is not held
	as bob nc-recv >/dev/null
	echo "t23-bob-1" | as bob nc-send frank@a.test
	run as bob2 nc-recv
	echo "$output"
	[[ "$output" == *"frank@a.test: t23-frank-1"* ]]
	echo "t23-frank-2" | as frank nc-send bob@b.test
	run as bob2 nc-recv
	echo "$output"
	[ "$output" = "frank@a.test: t23-frank-2" ]
	run as bob2 nc-recv --held
	[ -z "$output" ]
}

@test "T23: --reject drops what is held, unread; nothing asked" {
	echo "t23-spam" | as dave nc-send bob@b.test
	as bob nc-recv >/dev/null
	m=$(a_mark)
	run as bob nc-recv --reject dave@a.test
	[ "$status" -eq 0 ]
	[ "$output" = "nc-recv: 1 message from dave@a.test dropped unread" ]
	run as bob nc-recv --held
	[ -z "$output" ]
	[ -z "$(a_since "$m")" ]
	run as bob nc-recv --release dave@a.test
	[ "$status" -eq 0 ]
	[ "$output" = "nc-recv: nothing held from dave@a.test" ]
}

@test "T23: with a proxy configured the sender is looked up at once, through it" {
	FIRST_CONTACT= user erin erin@b.test
	python3 "$BATS_TEST_DIRNAME/../helpers/fwd-proxy.py" "$W/fwd.log" \
	    >"$W/fwd.out" 2>"$W/fwd.err" 3>&- &
	echo $! >>"$W/.pids"
	for _ in $(seq 1 100); do
		[ -s "$W/fwd.out" ] && break
		sleep 0.05
	done
	echo "proxy $(head -n 1 "$W/fwd.out")" >>"$W/erin/config"
	echo "t23-proxied" | as dave nc-send erin@b.test
	m=$(a_mark)
	run as erin nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "dave@a.test: t23-proxied" ]
	# every request a.test saw from erin came through the proxy
	n=$(a_since "$m" | grep -c . || true)
	[ "$n" -ge 1 ]
	[ "$(grep -c "$HA_URL/" "$W/fwd.log")" -ge "$n" ]
	grep -q "GET $HA_URL/v1/users/dave/devicelist" "$W/fwd.log"
}

count_held() { printf '%s\n' "$1" | grep -c '"type":"held"' || true; }
