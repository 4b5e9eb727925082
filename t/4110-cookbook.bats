#!/usr/bin/env bats
# newchat(7)'s cookbook: every example block is extracted from the page
# source (t/helpers/examples.bash) and run as written, with sh, against
# two real relays and two users; each test checks what its recipe is for.
# The only stand-in: commands that the recipes find in /usr/local/bin
# (make install) are found in the build directory, and mail(1) is a stub
# that records what it was given.

load helpers/relay
load helpers/client
load helpers/examples

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	examples_extract "$W/ex" "$BATS_TEST_DIRNAME/../man/newchat.7"
	# ~ of the recipes: a home whose alice/ and bob/ are the devices
	mkdir -p "$W/home"
	ln -s "$W/alice" "$W/home/alice"
	ln -s "$W/bob" "$W/home/bob"
}

teardown_file() { world_down; }

setup() {
	world_load
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	# the bot's process group (setsid made it its leader)
	[ -z "${bot:-}" ] || kill -- "-$bot" 2>/dev/null || true
}

# ex USER NAME: run example NAME with sh as USER (NC_HOME) in the cwd
ex() {
	local script
	script=$(example "$W/ex" "$2") || return 1
	HOME=$W/home NC_HOME=$W/$1 sh -c "$script"
}

# wait_for USER PATTERN [SECONDS]: nc-recv as USER until PATTERN shows
wait_for() {
	local i
	for i in $(seq "${3:-20}"); do
		as "$1" nc-recv >>"$BATS_TEST_TMPDIR/$1.seen" 2>&1 || true
		grep -q -- "$2" "$BATS_TEST_TMPDIR/$1.seen" && return 0
		sleep 1
	done
	cat "$BATS_TEST_TMPDIR/$1.seen" >&2
	return 1
}

@test "cookbook: every example block of newchat(7) is marked, and none is left out" {
	[ ! -s "$W/ex/.unmarked" ] || { cat "$W/ex/.unmarked"; false; }
	[ ! -s "$W/ex/.notrun" ] || { cat "$W/ex/.notrun"; false; }
	# every marked name has its test in this file
	for f in "$W"/ex/*; do
		grep -qE "^@test \"cookbook: ([a-z-]+, )*$(basename "$f")[:,]" "$BATS_TEST_FILENAME" ||
		    { echo "no test for $(basename "$f")"; false; }
	done
	[ "$(ls "$W/ex" | wc -l)" -eq 20 ]
}

@test "cookbook: the extracted text is what the reader sees (mandoc)" {
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/newchat.7" | col -bx | sed 's/^[[:space:]]*//' >"$BATS_TEST_TMPDIR/page"
	for f in "$W"/ex/*; do
		while IFS= read -r line; do
			line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//')
			grep -qxF -- "$line" "$BATS_TEST_TMPDIR/page" ||
			    { echo "$(basename "$f"): not on the page: $line"; false; }
		done <"$f"
	done
}

# crontab NAME: the PATH (cronpath) and the command (job) of the crontab
# of example NAME; cron ends a command at an unescaped %
crontab() {
	local tab
	tab=$(example "$W/ex" "$1") || return 1
	cronpath=$(printf '%s\n' "$tab" | sed -n 's/^PATH=//p')
	[ -n "$cronpath" ] || return 1
	job=$(printf '%s\n' "$tab" | grep -E '^[*0-9]' | sed -E 's/^([^ ]+ +){5}//')
	[ -n "$job" ] || return 1
	! printf '%s' "$job" | grep -q '[^\\]%'
}

# cron_home USER: a home for cron whose default NC_HOME is $W/USER, in $h
cron_home() {
	h=$BATS_TEST_TMPDIR/cronhome
	mkdir -p "$h/.local/share" "$h/bin"
	ln -sfn "$W/$1" "$h/.local/share/newchat"
}

@test "cookbook: cron-mail: new messages are mailed once, with cron's environment" {
	crontab cron-mail
	cron_home bob                      # bob's default NC_HOME
	cat >"$h/bin/mail" <<-'EOF'
	#!/bin/sh
	[ ! -e "$HOME/mail-fails" ] || exit 1
	n=$(ls "$HOME" | grep -c '^mail\.') 
	{ echo "args: $*"; cat; } >"$HOME/mail.$n"
	EOF
	chmod +x "$h/bin/mail"
	cron() {
		env -i HOME="$h" LOGNAME=bob SHELL=/bin/sh \
		    PATH="$h/bin:$NC_BIN:$cronpath" /bin/sh -c "$job"
	}
	as alice nc-send bob@b.test <<<"cron one" >/dev/null
	cron
	[ -f "$h/mail.0" ]
	grep -qx 'args: -s newchat me' "$h/mail.0"
	grep -q 'alice@a.test: cron one' "$h/mail.0"
	cron                               # nothing new: no mail, status 0
	[ ! -e "$h/mail.1" ]
	# a mail that fails is kept for the next run
	touch "$h/mail-fails"
	as alice nc-send bob@b.test <<<"cron two" >/dev/null
	run cron
	[ ! -e "$h/mail.1" ]
	rm "$h/mail-fails"
	as alice nc-send bob@b.test <<<"cron three" >/dev/null
	cron
	grep -q 'alice@a.test: cron two' "$h/mail.1"
	grep -q 'alice@a.test: cron three' "$h/mail.1"
	! grep -q 'cron one' "$h/mail.1"
}

@test "cookbook: bot: answers each message once, and not its own user's sent copies" {
	mkuser bobphone bob@b.test            # bob's second device
	script=$(example "$W/ex" bot)
	HOME=$W/home NC_HOME=$W/bob setsid sh -c "$script" >"$BATS_TEST_TMPDIR/bot.out" 2>&1 &
	bot=$!
	as alice nc-send bob@b.test <<<"hi bot" >/dev/null
	wait_for alice 'bob@b.test: you said: hi bot' 30
	# bob writes from his phone: the bot sees a sent copy, from bob
	as bobphone nc-send alice@a.test <<<"from my phone" >/dev/null
	# the bot answers in order: once "next" is answered, the copy was seen
	as alice nc-send bob@b.test <<<"next" >/dev/null
	wait_for alice 'bob@b.test: you said: next' 30
	run as bobphone nc-recv
	echo "$output"
	[[ "$output" != *"you said: from my phone"* ]]
	[ "$(grep -c 'you said' "$BATS_TEST_TMPDIR/alice.seen")" -eq 2 ]
	! grep -q 'you said: from my phone' "$BATS_TEST_TMPDIR/alice.seen"
	! grep -q 'nc-send' "$BATS_TEST_TMPDIR/bot.out"
}

@test "cookbook: alerts: alarms are printed, messages are kept in the log" {
	as alice nc-send bob@b.test <<<"keep me" >/dev/null
	# a forged envelope in bob's mailbox (anyone may deliver)
	curl -s "$RELAY_URL_b/v1/users/bob/devicelist" -o dl
	ulen=$(od -An -tu1 -j2 -N2 dl | awk '{print $1 * 256 + $2}')
	dev=$(od -An -tx1 -j $((2 + 2 + ulen + 8 + 32 + 8 + 2)) -N16 dl | tr -d ' \n')
	head -c 400 /dev/urandom >forged
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @forged \
	    "$RELAY_URL_b/v1/users/bob/devices/$dev/mailbox/$(ncreq hex 16)")" = 201 ]
	rm -f "$W/home/newchat.jsonl"
	ex bob alerts >out 2>err         # nc-recv says on stderr it refused one
	cat out err
	[ "$(wc -l <out)" -eq 1 ]
	[ "$(jq -r .type out)" = alarm ]
	# nothing was lost: the message is in the log, with the alarm
	[ "$(jq -r 'select(.type=="message") | .body' "$W/home/newchat.jsonl")" = "keep me" ]
	[ "$(jq -c 'select(.type=="alarm")' "$W/home/newchat.jsonl" | wc -l)" -eq 1 ]
	rm -f "$W/home/newchat.jsonl"
}

@test "cookbook: offline-send, offline-read: the file carries the message" {
	run ex alice offline-send
	[ "$status" -eq 0 ]
	grep -q -- '-----BEGIN NEWCHAT ENVELOPE-----' for-bob.asc
	run ex bob offline-read
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: meet at 5"* ]]
}

@test "cookbook: queued: silent when sent, says 'queued' when the relay is down" {
	run ex alice queued
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c queued)" -eq 0 ]
	relay_down b
	run ex alice queued
	relay_up b
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *queued* ]]
	[[ "$output" != *"not sent"* ]]
	# and a failure that is not "queued" is told apart
	run env HOME="$W/home" NC_HOME="$W/alice" sh -c \
	    "$(example "$W/ex" queued | sed 's/bob@b.test/nobody@b.test/')"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not sent"* ]]
}

@test "cookbook: group-ops: a group across providers, a report to it, one state hash for all" {
	as bob nc-recv >/dev/null       # what earlier recipes sent him
	run ex alice group-ops
	echo "$output"
	[ "$status" -eq 0 ]
	lines=$(printf '%s\n' "$output" | wc -l)
	[ "$lines" -eq 3 ]
	id=$(printf '%s\n' "$output" | sed -n 1p)
	[[ "$id" =~ ^[0-9a-f]{32}$ ]]
	state=$(printf '%s\n' "$output" | sed -n 3p)
	[[ "$state" =~ ^[0-9a-f]{64}$ ]]
	run as bob nc-recv
	echo "$output"
	[ "$status" -eq 0 ]
	# (after what the queued recipe left in alice's outbox)
	printf '%s\n' "$output" | grep -A1 -xF "[ops] alice@a.test created the group: alice@a.test bob@b.test" |
	    tail -n 1 | grep -q '^\[ops\] alice@a.test: .*load average'
	[ "$(as bob nc-group show ops | sed -n 's/^state //p')" = "$state" ]
}

@test "cookbook: two-homes: ~/alice is alice's device, with her conversation" {
	as alice nc-send bob@b.test <<<"history line" >/dev/null
	run ex alice two-homes
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"history line"* ]]
	run ex bob two-homes      # NC_HOME given in the recipe wins
	[[ "$output" == *"history line"* ]]
}

# link-new, link-old: the laptop's code, used on alice's first device
@test "cookbook: link-new, link-old: a laptop linked by code gets the identity and history" {
	as alice nc-send bob@b.test <<<"before the laptop" >/dev/null
	config laptop
	script=$(example "$W/ex" link-new)
	HOME=$W/home NC_HOME=$W/laptop sh -c "$script" >laptop.out 2>laptop.err &
	pid=$!
	for _ in $(seq 100); do
		[ -s laptop.out ] && break
		sleep 0.1
	done
	code=$(head -n 1 laptop.out)
	[[ "$code" =~ ^[a-z2-7]{4}(-[a-z2-7]{1,4})+$ ]]
	# the page's code, as the laptop showed this one
	script=$(example "$W/ex" link-old | sed -E "s/[a-z2-7]{4}(-[a-z2-7]{1,4}){4,}/$code/")
	[[ "$script" == *"$code"* ]]
	run env HOME="$W/home" NC_HOME="$W/alice" sh -c "$script"
	echo "$output"
	[ "$status" -eq 0 ]
	wait "$pid"
	cat laptop.err
	# the same identity, with the history
	[ "$(tail -n 1 laptop.out)" = "$(grep '^alice@a.test ' "$W/alice.keygen")" ]
	run as laptop nc-recv --history bob@b.test
	[[ "$output" == *"before the laptop"* ]]
	# the laptop's hello gives its name to alice's device
	run as alice nc-recv
	[[ "$output" == *"added: alice@a.test (laptop)"* ]]
	run as alice nc-sync devices
	echo "$output"
	[[ "$output" == *" laptop "* ]]
	# bob's next message reaches the laptop
	as bob nc-send alice@a.test <<<"to the laptop too" >/dev/null
	run as laptop nc-recv
	[[ "$output" == *"bob@b.test: to the laptop too"* ]]
}

@test "cookbook: revoke: the laptop is dropped; its commands exit 77" {
	as laptop nc-sync devices --json >devices.json
	cat devices.json
	lap=$(jq -r 'select(.this) | .device' devices.json)
	run ex alice revoke
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$lap laptop "* ]]         # nc-sync devices listed it
	[ "$(printf '%s\n' "$output" | tail -n 1)" = "$lap" ]
	run as alice nc-sync devices
	[[ "$output" != *"$lap"* ]]
	run as laptop nc-recv
	[ "$status" -eq 77 ]
	run as laptop nc-send bob@b.test <<<"from the lost laptop"
	[ "$status" -eq 77 ]
}

@test "cookbook: backup-first, cron-backup, restore: a backup from cron restored on a new machine" {
	run ex alice backup-first           # NC_PASSWORD: the terminal's prompt
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"backup 1: "* ]]
	grep -Eq '^recovery code: ([A-Z2-7]{4}-){7}[A-Z2-7]{4}$' <<<"$output"
	as bob nc-send alice@a.test <<<"after the first backup" >/dev/null
	as alice nc-recv >/dev/null
	crontab cron-backup
	cron_home alice
	# cron: no password, no terminal; nothing printed, so nothing mailed
	run env -i HOME="$h" LOGNAME=alice SHELL=/bin/sh \
	    PATH="$NC_BIN:$cronpath" /bin/sh -c "$job"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run as alice nc-sync backup --json
	[ "$(jq .counter <<<"$output")" -eq 3 ]     # the cron's was number 2
	# the new machine
	config alice-new
	run ex alice-new restore
	echo "$output"
	[ "$status" -eq 0 ]
	run as alice-new nc-recv --history bob@b.test
	[[ "$output" == *"before the laptop"* ]]
	[[ "$output" == *"after the first backup"* ]]
	as alice-new nc-send bob@b.test <<<"from the new machine" >/dev/null
	run as bob nc-recv
	[[ "$output" == *"alice@a.test: from the new machine"* ]]
}

@test "cookbook: attach-send, attach-save: a photo sent with a message, saved by bob" {
	head -c 100000 /dev/urandom >holiday.jpg
	run ex alice attach-send
	echo "$output"
	[ "$status" -eq 0 ]
	rm -rf "$W/home/Downloads"
	run ex bob attach-save
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice@a.test: the photos from Friday"* ]]
	cmp holiday.jpg "$W/home/Downloads/holiday.jpg"
	[ "$(stat -c %a "$W/home/Downloads/holiday.jpg")" = 600 ]
	# saved once: a second run fetches nothing again
	run ex bob attach-save
	[ "$status" -eq 0 ]
	[ "$(ls "$W/home/Downloads" | wc -l)" -eq 1 ]
}

@test "cookbook: share-dir, attach-fetch: a directory sent, fetched by a script from --json" {
	rm -rf slides "$W/home/inbox"
	mkdir -p slides/img
	echo "# Monday" >slides/talk.md
	head -c 30000 /dev/urandom >"slides/img/a b.png"
	run ex alice share-dir
	echo "$output"
	[ "$status" -eq 0 ]
	run ex bob attach-fetch
	echo "$output"
	[ "$status" -eq 0 ]
	diff -r slides "$W/home/inbox/slides"
}

@test "cookbook: held: strangers' messages held; carol's read, mallory's dropped unread" {
	FIRST_CONTACT=hold mkuser dave dave@a.test
	mkuser carol carol@a.test
	mkuser mallory mallory@b.test
	as carol nc-send dave@a.test <<<"hi dave, it's carol" >/dev/null
	as mallory nc-send dave@a.test <<<"click here" >/dev/null
	run as dave nc-recv
	echo "$output"
	[ "$(grep -c '^held ' <<<"$output")" -eq 2 ]
	[[ "$output" != *"hi dave"* ]]
	run ex dave held
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"carol@a.test: 1 message held since "* ]]
	[[ "$output" == *"mallory@b.test: 1 message held since "* ]]
	[[ "$output" == *"carol@a.test: hi dave, it's carol"* ]]
	[[ "$output" != *"click here"* ]]
	run as dave nc-recv --held
	[ -z "$output" ]
	run as dave nc-recv --history
	[[ "$output" != *"click here"* ]]
}

@test "cookbook: cron-audit: the self-audit from cron is silent while consistent" {
	crontab cron-audit
	cron_home alice
	run env -i HOME="$h" LOGNAME=alice SHELL=/bin/sh \
	    PATH="$NC_BIN:$cronpath" /bin/sh -c "$job"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# what it runs says "consistent" (t/threat/T24: the inconsistent case)
	run as alice nc-keys audit --self
	[[ "$output" == *"alice@a.test: consistent: version "* ]]
}
