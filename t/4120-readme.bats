#!/usr/bin/env bats
# README.md's examples, run as written against two real relays. A marked
# ```console block is a transcript: a line "$ CMD" is a command of alice's
# first device, "NAME$ CMD" one of device NAME (bob; phone, alice's
# second device); the lines up to the next command are what it prints
# (stdout and stderr). Each command runs in one shell, in order, and its
# output must be the transcript's once what changes from run to run (ids,
# fingerprints, safety numbers, times, ports) is replaced by placeholders
# and the local "seq" of JSON events is left out.
# Two comments are cues for the world: "# b.test is down" stops b.test's
# relay before its command, "# later" starts it again.

load helpers/relay
load helpers/client
load helpers/examples

# The defaults a reader gets: a first message from a sender not known yet
# is held (helpers/client.bash looks senders up at once for other tests).
export FIRST_CONTACT=

setup_file() {
	world_up
	examples_extract "$W/ex" "$BATS_TEST_DIRNAME/../README.md"
	config alice            # her config exists before nc-keygen
	mkuser bob bob@b.test
	config phone
}

teardown_file() { world_down; }

setup() { world_load; }

# What varies from run to run, as placeholders.
norm() {
	sed -E -e 's/[0-9a-f]{4}( [0-9a-f]{4}){7}/<fingerprint>/g' \
	    -e 's/[0-9]{5}( [0-9]{5}){11}/<safety number>/g' \
	    -e 's/[0-9a-f]{32}/<id>/g' \
	    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g' \
	    -e 's#http://127\.0\.0\.1:[0-9]+#<url>#g' \
	    -e 's/"seq":[0-9]+,//g' -e 's/,"seq":[0-9]+//g' -e 's/[[:space:]]+$//'
}

# transcript NAME: run example NAME; compare each command's output
transcript() {
	local f=$W/ex/$1 d=$BATS_TEST_TMPDIR/run n=0 line user cmd rc=0 lines
	mkdir -p "$d"
	: >"$d/want"
	: >"$d/got"
	mapfile -t lines <"$f"
	for line in "${lines[@]}"; do
		if [[ $line =~ ^([a-z]*)\$\ (.*)$ ]]; then
			user=${BASH_REMATCH[1]:-alice} cmd=${BASH_REMATCH[2]}
			n=$((n + 1))
			echo "@@ $n $line" >>"$d/want"
			echo "@@ $n $line" >>"$d/got"
			case $cmd in
			*"# b.test is down"*) relay_down b ;;
			*"# later"*) relay_up b ;;
			esac
			# $? of the previous command, as the transcript's shell has it
			(cd "$d" || exit 99
			    export NC_HOME=$W/$user
			    (exit $rc)
			    eval "$cmd") >>"$d/got" 2>&1 </dev/null && rc=0 || rc=$?
		else
			printf '%s\n' "$line" >>"$d/want"
		fi
	done
	[ "$n" -gt 0 ]
	norm <"$d/want" >"$d/want.n"
	norm <"$d/got" >"$d/got.n"
	diff -u "$d/want.n" "$d/got.n"
}

@test "readme: every example block is marked; the few not run say why" {
	[ ! -s "$W/ex/.unmarked" ] || { cat "$W/ex/.unmarked"; false; }
	cat "$W/ex/.notrun"
	[ "$(wc -l <"$W/ex/.notrun")" -le 2 ]
	for f in "$W"/ex/*; do
		grep -qE "^@test \"readme: $(basename "$f"):" "$BATS_TEST_FILENAME" ||
		    { echo "no test for $(basename "$f")"; false; }
	done
}

@test "readme: session: two users on two relays, as the transcript shows" {
	transcript session
}

@test "readme: second-device: a second device joins and gets the copies" {
	transcript second-device
}

@test "readme: files: a file shared by link, fetched and verified by bob" {
	transcript files
}
