#!/usr/bin/env bats
# The examples of the section 1, 5 and 8 man pages, run as written against
# two real relays (issue 12 item 8; newchat(7) is t/4110, the README
# t/4120). Every `.Bd -literal` block is marked (t/helpers/examples.bash).
#
# A transcript is run as t/4120 runs the README's: "$ CMD" is alice's
# device (HOME is a home of this world, NC_HOME its default
# ~/.local/share/newchat), "NAME$ CMD" the device $W/NAME; the lines up to
# the next command are what it prints (stdout and stderr), compared once
# ids, fingerprints, safety numbers, times, ports and queue ages are
# placeholders (norm; --history's times too), the JSON "seq" left out and the home shown as
# /home/alice. A command line ending in \ goes on on the next line.
# What a command takes from an earlier output (an id to cancel, a safety
# number read aloud, a link) is what this run printed there: values
# shown earlier in the transcript are replaced, in the command, by the
# ones this run printed in their place; the relay URLs of the pages
# (ports 36985 for a.test, 40577 for b.test, as in the README) by the
# running relays'. Cues: "# b.test is down" stops b.test's relay before
# its command. A command ending in & runs in the background until the
# test ends; its first line of output is waited for.
# Stand-ins: NC_PASSWORD is set (the terminal's prompt) and ~/.pw holds
# the same password; the files the examples name (holiday.jpg, src/,
# ~/Pictures) are made first. The tests run in order: the sign-up of
# nc-keygen(1) makes the alice the others use, nc-keys(1)'s key change
# comes last.

load helpers/relay
load helpers/client
load helpers/examples

PAGES="nc-keygen.1 nc-send.1 nc-recv.1 nc-keys.1 nc-media.1 nc-group.1 nc-sync.1 nc-relayd.8 newchat-config.5"

setup_file() {
	world_up
	mkuser bob bob@b.test
	mkdir -p "$W/home/.local/share" "$W/home/Pictures"
	# alice's device, for the world's helpers (relay_up rewrites its config)
	ln -s "$W/home/.local/share/newchat" "$W/alice"
	printf '%s\n' "$NC_PASSWORD" >"$W/home/.pw"
	chmod 600 "$W/home/.pw"
	local p
	for p in $PAGES; do
		examples_extract "$W/ex" "$BATS_TEST_DIRNAME/../man/$p"
		cat "$W/ex/.notrun" >>"$W/notrun"
		cat "$W/ex/.unmarked" >>"$W/unmarked"
	done
}

teardown_file() { world_down; }

setup() {
	world_load
	# b.test back up, should a test that stops it have failed
	kill -0 "$RELAY_PID_b" 2>/dev/null || relay_up b
}

teardown() {
	local p
	for p in $(cat "$W"/run-*/bg 2>/dev/null); do
		kill -- "$p" 2>/dev/null || true
	done
	rm -f "$W"/run-*/bg
}

norm() {
	sed -E -e 's/[0-9a-f]{4}( [0-9a-f]{4}){7}/<fingerprint>/g' \
	    -e 's/[0-9]{5}( [0-9]{5}){11}/<safety number>/g' \
	    -e 's/[0-9a-f]{32}/<id>/g' \
	    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g' \
	    -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} /<time> /' \
	    -e 's#http://127\.0\.0\.1:[0-9]+#<url>#g' \
	    -e 's/^(<id> [^ ]+) [0-9]+[smhd] /\1 <age> /' \
	    -e 's/\(state [0-9a-f]{16}\)$/(state <hash>)/' \
	    -e "s#$W/home#/home/alice#g" \
	    -e 's/(no such domain [^ ]+) \([^)]*\)/\1 (<resolver>)/' \
	    -e 's/"seq":[0-9]+,//g' -e 's/,"seq":[0-9]+//g' -e 's/[[:space:]]+$//'
}

# The values a later command may take from an earlier output.
VALUES=('[0-9a-f]{4}( [0-9a-f]{4}){7}' '[0-9]{5}( [0-9]{5}){11}' '[0-9a-f]{32,}')

# subst DIR CMD: CMD with the values shown so far replaced by this run's
subst() {
	local d=$1 cmd=$2 re i w g
	cmd=${cmd//127.0.0.1:36985/${RELAY_URL_a#http://}}
	cmd=${cmd//127.0.0.1:40577/${RELAY_URL_b#http://}}
	for re in "${VALUES[@]}"; do
		mapfile -t w < <(grep -v '^@@ ' "$d/want" | grep -oE "$re" | awk '!s[$0]++')
		mapfile -t g < <(grep -v '^@@ ' "$d/got" | grep -oE "$re" | awk '!s[$0]++')
		for i in "${!w[@]}"; do
			[ -z "${g[$i]:-}" ] || cmd=${cmd//"${w[$i]}"/"${g[$i]}"}
		done
	done
	printf '%s' "$cmd"
}

# transcript [-u USER] NAME...: run the examples NAME... as one
# transcript ($ is USER, default alice); compare each command's output
transcript() {
	local me=alice
	[ "$1" != -u ] || { me=$2; shift 2; }
	local d=$W/run-$1 line user cmd rc=0 n=0 cont=0 lines size i home next next_user
	mkdir -p "$d"
	: >"$d/want"
	: >"$d/got"
	lines=()
	for i in "$@"; do
		mapfile -t -O "${#lines[@]}" lines <"$W/ex/$i" || return 1
	done
	lines+=('$ ')   # runs the last command
	for line in "${lines[@]}"; do
		if [ "$cont" = 1 ]; then
			echo "@@ $n $line" >>"$d/want"
			echo "@@ $n $line" >>"$d/got"
			cmd=${cmd%\\}
			while [[ $cmd == *" " ]]; do cmd=${cmd% }; done
			cmd+=" ${line#"${line%%[! ]*}"}"
			[[ $line == *\\ ]] || cont=0
			continue
		fi
		if [[ $line =~ ^([a-z0-9]*)\$\ (.*)$ ]]; then
			next_user=${BASH_REMATCH[1]:-$me} next=${BASH_REMATCH[2]}
			[ -z "${cmd:-}" ] || run_cmd
			user=$next_user cmd=$next
			[ -n "$cmd" ] || break
			n=$((n + 1))
			echo "@@ $n $line" >>"$d/want"
			echo "@@ $n $line" >>"$d/got"
			[[ $line != *\\ ]] || cont=1
		else
			printf '%s\n' "$line" >>"$d/want"
		fi
	done
	[ "$n" -gt 0 ]
	norm <"$d/want" >"$d/want.n"
	norm <"$d/got" >"$d/got.n"
	diff -u "$d/want.n" "$d/got.n"
}

# run_cmd: the command in $cmd, as $user, in $d (used by transcript)
run_cmd() {
	case $cmd in
	*"# b.test is down"*) relay_down b ;;
	esac
	home=$W/$user
	[ "$user" != alice ] || home=$W/home/.local/share/newchat
	cmd=$(subst "$d" "$cmd")
	size=$(wc -c <"$d/got")
	# $? of the previous command, as the transcript's shell has it
	(cd "$d" || exit 99
	    export HOME=$W/home NC_HOME=$home
	    bg=${!:-}
	    (exit $rc)
	    eval "$cmd"
	    rc=$?
	    [ "${!:-}" = "$bg" ] || echo "$!" >>"$d/bg"
	    exit $rc) >>"$d/got" 2>&1 </dev/null && rc=0 || rc=$?
	if [[ ${cmd%%#*} =~ \&[[:space:]]*$ ]]; then
		for i in $(seq 100); do
			[ "$(wc -c <"$d/got")" -gt "$size" ] && [ -z "$(tail -c 1 "$d/got")" ] && break
			sleep 0.1
		done
	fi
	cmd=
}

# shape NAME CMD...: the JSON lines of example NAME (a line starting with
# a space goes on from the one before) and of CMD have the same keys in
# the same order, in every object, and arrays the same length; a string
# value "..." stands for any string, "TEXT..." for one starting with TEXT,
# a number for any number; the rest is equal
shape() {
	local name=$1 want got i
	shift
	mapfile -t want < <(sed -e ':a' -e '$!N' -e 's/\n / /' -e 'ta' -e 'P;D' "$W/ex/$name")
	run "$@"
	echo "$output"
	mapfile -t got < <(printf '%s\n' "$output" | grep '^{')
	[ "${#got[@]}" -eq "${#want[@]}" ]
	for i in "${!want[@]}"; do
		jq -en --argjson w "${want[$i]}" --argjson g "${got[$i]}" '
		    def like($w; $g):
		        if ($w | type) == "object" then ($g | type) == "object" and
		            ($w | keys_unsorted) == ($g | keys_unsorted) and
		            all($w | keys_unsorted[]; . as $k | like($w[$k]; $g[$k]))
		        elif ($w | type) == "array" then ($g | type) == "array" and
		            ($w | length) == ($g | length) and
		            all(range($w | length); . as $j | like($w[$j]; $g[$j]))
		        elif ($w | type) == "string" and ($w | endswith("...")) then
		            ($g | type) == "string" and ($g | startswith($w | rtrimstr("...")))
		        elif ($w | type) == "number" then ($g | type) == "number"
		        else $g == $w end;
		    like($w; $g)' >/dev/null ||
		    { echo "not the shape of: ${want[$i]}"; return 1; }
	done
}

@test "manpages: every example block is marked; the few not run say why" {
	[ ! -s "$W/unmarked" ] || { cat "$W/unmarked"; false; }
	cat "$W/notrun"
	[ "$(wc -l <"$W/notrun")" -le 2 ]
	for f in "$W"/ex/*; do
		grep -qE "^@test \"manpages: ([a-z0-9-]+, )*$(basename "$f")[:,]" "$BATS_TEST_FILENAME" ||
		    { echo "no test for $(basename "$f")"; false; }
	done
}

@test "manpages: the extracted text is what the reader sees (mandoc)" {
	for p in $PAGES; do
		mandoc -Tascii "$BATS_TEST_DIRNAME/../man/$p" | col -bx | sed 's/^[[:space:]]*//'
	done >"$W/pages"
	for f in "$W"/ex/*; do
		while IFS= read -r line; do
			line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//')
			grep -qxF -- "$line" "$W/pages" ||
			    { echo "$(basename "$f"): not on the page: $line"; false; }
		done <"$f"
	done
}

@test "manpages: keygen-first: alice signs up in the default NC_HOME" {
	transcript keygen-first
	# the world's relays, for the examples to come (where nc-keygen
	# would find b.test's at https://b.test/.well-known/newchat)
	config alice
}

@test "manpages: keygen-second: a second device of alice, with her identity key" {
	transcript keygen-second
	[ "$(grep -oE '[0-9a-f]{4}( [0-9a-f]{4}){7}' "$W/run-keygen-second/got" | sort -u | wc -l)" -eq 1 ]
	[ "$(cut -d' ' -f2- "$W/run-keygen-first/got" | tail -n 1)" = \
	  "$(grep -oE '[0-9a-f]{4}( [0-9a-f]{4}){7}' "$W/run-keygen-second/got" | head -n 1)" ]
}

@test "manpages: keygen-half-way: a sign-up cut off half-way is finished by running it again" {
	# carol's a.test is reached through a proxy that fails her device list once
	mkdir -p "$W/rec"
	echo 'drop PUT /v1/users/carol/devicelist n=1 status=503' >"$W/script"
	nc-hostile -l 127.0.0.1:0 -u "$RELAY_URL_a" -s "$W/script" -r "$W/rec" \
	    >"$W/proxy.out" 2>"$W/proxy.err" 3>&- &
	echo $! >"$W/run-proxy.pid"
	mkdir -p "$W/run-proxy"; echo $! >"$W/run-proxy/bg"
	for _ in $(seq 1 100); do
		[ -s "$W/proxy.out" ] && break
		sleep 0.05
	done
	config carol
	sed -i "s|^relay a.test .*|relay a.test $(head -n 1 "$W/proxy.out")|" "$W/carol/config"
	transcript keygen-half-way
	config carol
	# carol is reachable
	echo hi carol | as bob nc-send carol@a.test
	run as carol nc-recv
	[ "$output" = "bob@b.test: hi carol" ]
}

@test "manpages: send-session: sent, a typo, queued, the queue, cancelled, to a file" {
	transcript send-session
	relay_up b
	# cancelled: not sent when b.test is back
	run as alice nc-send --flush
	[ "$status" -eq 0 ]
	run as bob nc-recv
	echo "$output"
	[ "$(printf '%s\n' "$output" | grep -c 'alice@a.test: ')" -eq 1 ]  # the lunch only
	[[ "$output" == *"Lunch on Friday?"* ]]
	run as carol nc-recv
	[ "$(printf '%s\n' "$output" | grep -c 'alice@a.test: ')" -eq 1 ]
	grep -q -- '-----BEGIN NEWCHAT ENVELOPE-----' "$W/run-send-session/for-bob.asc"
	run as bob nc-recv - <"$W/run-send-session/for-bob.asc"
	[ "$output" = "alice@a.test: hi" ]
}

@test "manpages: send-json: --json, one object per recipient" {
	shape send-json as alice nc-send --json bob@b.test bbo@b.test bob@bb.test <<<"json"
	[ "$status" -eq 68 ]
	as bob nc-recv >/dev/null
}

@test "manpages: send-queue-json: --queue --json" {
	relay_down b
	as alice nc-send bob@b.test <<<"to the queue" || [ $? = 75 ]
	shape send-queue-json as alice nc-send --queue --json
	relay_up b
	as alice nc-send --flush
}

@test "manpages: recv-first: the first message now, the rest later from the log" {
	mkuser erin erin@a.test
	transcript -u erin recv-first
	# the rest was read too: nothing new is left
	run as erin nc-recv
	[ -z "$output" ]
}

@test "manpages: recv-follow: each message's body as it arrives" {
	script=$(example "$W/ex" recv-follow)
	NC_HOME=$W/alice setsid sh -c "$script" >"$W/follow.out" 2>&1 3>&- &
	echo $! >"$W/run-follow.pid"
	mkdir -p "$W/run-follow"
	echo "-$!" >"$W/run-follow/bg"      # its process group
	as bob nc-send alice@a.test <<<"as it arrives" >/dev/null
	for _ in $(seq 1 100); do
		grep -qx 'as it arrives' "$W/follow.out" && break
		sleep 0.1
	done
	cat "$W/follow.out"
	grep -qx 'as it arrives' "$W/follow.out"
	# bodies only: no JSON, no other line
	[ "$(grep -cv '^as it arrives$' "$W/follow.out")" -eq 0 ]
}

@test "manpages: media: a file by link, fetched into a directory; a tar from stdin" {
	mkdir -p "$W/run-media/src"
	head -c 2179457 /dev/urandom >"$W/run-media/holiday.jpg"
	echo x >"$W/run-media/src/a"
	transcript media
	cmp "$W/run-media/holiday.jpg" "$W/home/Pictures/holiday.jpg"
	# the tar's link gives the tar back
	url=$(tail -n 1 "$W/run-media/got")
	as alice nc-media get "$url" -o "$W/src.tar" 2>/dev/null
	[ "$(tar tf "$W/src.tar" | sort | tr '\n' ' ')" = "src/ src/a " ]
}

@test "manpages: relayd-test: a test relay on a free port, invite-only, and an invite" {
	transcript relayd-test
	url=$(sed -n 2p "$W/run-relayd-test/got")
	invite=$(sed -n 4p "$W/run-relayd-test/got")
	mkdir -m 700 "$W/inv"
	echo "relay a.test $url" >"$W/inv/config"
	run env NC_HOME="$W/inv" nc-keygen inv@a.test
	[ "$status" -ne 0 ]                       # invite-only
	run env NC_HOME="$W/inv" NC_INVITE="$invite" nc-keygen inv@a.test
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "manpages: config-demo: the two relays of make demo, as a config" {
	mkdir -m 700 "$W/demo"
	sed -e "s#http://127.0.0.1:36985#$RELAY_URL_a#" -e "s#http://127.0.0.1:40577#$RELAY_URL_b#" \
	    "$W/ex/config-demo" >"$W/demo/config"
	as demo nc-keygen demo@a.test
	id=$(as demo nc-send bob@b.test <<<"from the demo config")
	[ -n "$id" ]
	run as bob nc-recv
	printf '%s\n' "$output" | grep -qx "demo@a.test: from the demo config"
}

@test "manpages: config-other: a proxy, a CA file, a relay URL, a gap window are accepted" {
	mkdir -m 700 "$W/other"
	cp "$W/ex/config-other" "$W/other/config"
	run as other nc-keygen someone@example.org
	echo "$output"
	# not a config error (78): the relay is tried (and not reached: 69)
	[ "$status" -eq 69 ]
	[[ "$output" != *config:* ]]
	# and the same lines with a mistake are refused
	sed 's/^gap-window 600/gap-window soon/' "$W/ex/config-other" >"$W/other/config"
	run as other nc-keygen someone@example.org
	[ "$status" -eq 78 ]
	[[ "$output" == *"config:5:"* ]]
}

@test "manpages: config-mistake: a bad config line, named by its number" {
	transcript config-mistake || { config alice; false; }
	config alice
}

@test "manpages: keys-show, keys-verify: bob's keys, and his safety number read aloud" {
	transcript keys-show keys-verify
	run as alice nc-keys show bob@b.test
	[[ "$output" == *verified* ]]
}

@test "manpages: group-session: a group across two providers; a removed member reads nothing after" {
	for u in bob carol erin; do as $u nc-recv >/dev/null; done
	transcript group-session
	run as erin nc-recv
	echo "$output"
	[ "$(printf '%s\n' "$output" | tail -n 2)" = "$(printf '[friends] alice@a.test removed carol@a.test\n[friends] alice@a.test: Carol has left the team.')" ]
	run as bob nc-recv
	[[ "$output" == *"[friends] alice@a.test: Carol has left the team."* ]]
	# nothing for carol since
	run as carol nc-recv
	[ -z "$output" ]
}

@test "manpages: group-show: list, show, log as alice holds them" {
	transcript group-show
	# bob holds the same state
	[ "$(as bob nc-group show --json friends | jq -r .state)" = \
	  "$(as alice nc-group show --json friends | jq -r .state)" ]
}

@test "manpages: group-list-json, group-show-json, group-log-json: nc-group --json" {
	shape group-list-json as alice nc-group list --json
	shape group-show-json as alice nc-group show --json friends
	shape group-log-json as alice nc-group --json log friends
}

@test "manpages: nc-group(1) names every sub-command, option and exit status of the code" {
	man=$(cat "$BATS_TEST_DIRNAME/../man/nc-group.1")
	src=$BATS_TEST_DIRNAME/../cmd/nc-group.c
	for c in $(grep -o 'strcmp(cmd, "[a-z]*")' "$src" | sed 's/.*"\(.*\)".*/\1/' | sort -u); do
		grep -qE "^\.(It )?Cm .*\b$c\b" <<<"$man" || { echo "sub-command $c"; false; }
	done
	for f in $(grep -o '{ "[a-z-]*", ' "$src" | sed 's/{ "\(.*\)", /\1/'); do
		grep -q -- "Fl -$f" <<<"$man" || { echo "--$f"; false; }
	done
	shorts=$(grep -o 'getopt_long(argc, argv, "[^"]*"' "$src" | sed 's/.*"\(.*\)"/\1/' | tr -d ':+' | fold -w1)
	for c in $shorts; do
		grep -qE "^\.It Fl $c( |$)" <<<"$man" || { echo "-$c"; false; }
	done
	for rc in 0 64 75 77; do
		grep -q "^\.It $rc\$" <<<"$man" || { echo "exit $rc"; false; }
	done
	run nc-group --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
}

# last: bob@b.test's old device is gone after it
@test "manpages: keys-change: a new identity key held until trusted, then sent" {
	config newphone
	transcript keys-change
	run as alice nc-keys show bob@b.test
	[[ "$output" != *CHANGED* ]]
}

# after keys-change: alice's other devices then hear of the laptop
@test "manpages: keygen-link-new, keygen-link-old: a laptop linked by the code it shows" {
	local d=$W/run-link re='[a-z2-7]{4}(-[a-z2-7]{1,4}){4,}' cmd code
	mkdir -p "$d"
	config laptop
	cmd=$(sed -n 's/^laptop\$ //p' "$W/ex/keygen-link-new")
	(cd "$d" && HOME=$W/home NC_HOME=$W/laptop eval "$cmd") >"$d/new" 2>&1 &
	for _ in $(seq 100); do
		code=$(grep -oxE "$re" "$d/new" || true)
		[ -z "$code" ] || break
		sleep 0.1
	done
	[ -n "$code" ]
	cmd=$(sed -n 's/^\$ //p' "$W/ex/keygen-link-old" | sed -E "s/$re/$code/")
	(cd "$d" && HOME=$W/home NC_HOME=$W/home/.local/share/newchat eval "$cmd") >"$d/old" 2>&1
	wait $!
	# the transcripts, with the code and the numbers of what was sent as placeholders
	lnorm() { norm | sed -E -e "s/$re/<code>/" -e 's/[0-9]+ contacts? and [0-9]+ messages/N contacts and M messages/'; }
	diff -u <(sed 1d "$W/ex/keygen-link-new" | lnorm) <(lnorm <"$d/new")
	diff -u <(sed 1d "$W/ex/keygen-link-old" | lnorm) <(lnorm <"$d/old")
	run as laptop nc-sync devices
	[[ "$output" == *" laptop "* ]]
}

@test "manpages: sync-devices-json: nc-sync devices --json, one object a line" {
	shape sync-devices-json as erin nc-sync devices --json
	[ "$status" -eq 0 ]
}

@test "manpages: sync-cron: the nightly backup runs with cron's environment, silent" {
	local tab path job
	tab=$(example "$W/ex" sync-cron)
	path=$(printf '%s\n' "$tab" | sed -n 's/^PATH=//p')
	job=$(printf '%s\n' "$tab" | grep -E '^[*0-9]' | sed -E 's/^([^ ]+ +){5}//')
	[ -n "$path" ] && [ -n "$job" ]
	n=$(as alice nc-sync backup --json | jq .counter)   # by hand, the password
	run env -i HOME="$W/home" LOGNAME=alice SHELL=/bin/sh PATH="$NC_BIN:$path" \
	    /bin/sh -c "$job"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run as alice nc-sync backup --json
	[ "$(jq .counter <<<"$output")" -eq $((n + 2)) ]   # cron's was n + 1
}
