#!/usr/bin/env bats
# make install: commands, man pages (newchat-config(5) too) and the bash and
# zsh completions of contrib/completion; make uninstall takes them away. The
# bash completion completes subcommands, options and known contacts.

load helpers/relay
load helpers/client

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	echo hi | as alice nc-send bob@b.test >/dev/null
}

teardown_file() { world_down; }

@test "make install puts completions and man5 in place; uninstall removes them" {
	local d=$BATS_TEST_TMPDIR/root b
	b=$(basename "$NC_BIN")
	# -o all: install what is built, build nothing here
	run make -s -C "$ROOT" -o all B="$b" DESTDIR="$d" PREFIX=/usr install
	[ "$status" -eq 0 ]
	[ -x "$d/usr/bin/nc-keygen" ]
	[ -f "$d/usr/share/man/man5/newchat-config.5" ]
	for c in nc-keygen nc-keys nc-send nc-recv nc-relayd; do
		[ -f "$d/usr/share/bash-completion/completions/$c" ]
	done
	[ -f "$d/usr/share/zsh/site-functions/_newchat" ]
	head -n 1 "$d/usr/share/zsh/site-functions/_newchat" | grep -q '^#compdef nc-keygen'
	run make -s -C "$ROOT" -o all B="$b" DESTDIR="$d" PREFIX=/usr uninstall
	[ "$status" -eq 0 ]
	[ -z "$(find "$d" -type f)" ]
}

@test "the man pages are clean mdoc, newchat-config(5) names every directive" {
	command -v mandoc >/dev/null || skip "needs mandoc"
	run mandoc -Tlint -Wwarning "$ROOT/man/newchat-config.5" "$ROOT/man/nc-keygen.1" \
	    "$ROOT/man/nc-keys.1" "$ROOT/man/nc-relayd.8"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# every keyword the parser accepts is documented
	for k in $(grep -o 'strcmp(f\[0\], "[a-z-]*")' "$ROOT/lib/app/home.c" | cut -d'"' -f2); do
		grep -q "^\.It Ic $k " "$ROOT/man/newchat-config.5"
	done
}

# comp WORD...: what the bash completion offers for the last word
comp() {
	# shellcheck disable=SC1091
	. "$ROOT/contrib/completion/newchat.bash"
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_newchat
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "bash completion: subcommands, options, contacts of NC_HOME" {
	command -v sqlite3 >/dev/null || skip "needs sqlite3"
	run comp nc-keys ""
	[ "$output" = "$(printf 'show\nverify\ntrust')" ]
	run comp nc-keys ver
	[ "$output" = verify ]
	run comp nc-keygen --de
	[ "$output" = --delete ]
	run comp nc-relayd --ver
	[ "$output" = --version ]
	export NC_HOME=$W/alice
	run comp nc-send b
	[ "$output" = bob@b.test ]
	run comp nc-keys verify b
	[ "$output" = bob@b.test ]
	# nothing is created for a home that is not there
	export NC_HOME=$W/none
	run comp nc-send b
	[ -z "$output" ]
	[ ! -e "$W/none" ]
}
