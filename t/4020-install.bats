#!/usr/bin/env bats
# make install: commands, man pages (newchat-config(5) too) and the bash and
# zsh completions of contrib/completion; make uninstall takes them away. The
# bash completion completes subcommands, options, known contacts and groups,
# and offers every option and sub-command a command's usage (--help) and
# getopt table name.

load helpers/relay
load helpers/client

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkuser bob bob@b.test
	echo hi | as alice nc-send bob@b.test >/dev/null
	as alice nc-group create friends bob@b.test >/dev/null
	as alice nc-group create 'book club' >/dev/null
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
	for c in nc-keygen nc-keys nc-send nc-recv nc-sync nc-media nc-group nc-relayd; do
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
	[ "$output" = "$(printf '%s\n' show history audit verify trust policy)" ]
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

@test "bash completion: nc-group sub-commands, group names of NC_HOME for -g" {
	command -v sqlite3 >/dev/null || skip "needs sqlite3"
	run comp nc-group ""
	[ "$output" = "$(printf '%s\n' create add remove admin leave rename list show log)" ]
	run comp nc-sync re
	[ "$output" = "$(printf 'restore\nrevoke')" ]
	run comp nc-sync restore --m
	[ "$output" = --min-counter ]
	run comp nc-recv --re
	[ "$output" = "$(printf -- '--release\n--reject')" ]
	run comp nc-relayd --po
	[ "$output" = --polls-max ]
	export NC_HOME=$W/alice PATH=$NC_BIN:$PATH
	run comp nc-send -g f
	[ "$output" = friends ]
	run comp nc-send --group ""
	[ "$output" = "$(printf '%s\n' 'book\ club' friends | sort)" ] ||
	    [ "$output" = "$(printf '%s\n' friends 'book\ club')" ]
	run comp nc-send -t 30 -g bo
	[ "$output" = 'book\ club' ]
	run comp nc-group show fr
	[ "$output" = friends ]
	run comp nc-group add friends b
	[ "$output" = bob@b.test ]
	run comp nc-group create team b
	[ "$output" = bob@b.test ]
	run comp nc-group list --j
	[ "$output" = --json ]
	# without nc-group, the ids of state.db
	PATH=/usr/bin:/bin run comp nc-group show ""
	[[ "$output" =~ ^[0-9a-f]{32}$'\n'[0-9a-f]{32}$ ]]
	run comp nc-keys audit b
	[ "$output" = b.test ]
	# files where a file is taken
	: >"$BATS_TEST_TMPDIR/pic.png"
	run comp nc-send --attach "$BATS_TEST_TMPDIR/pic"
	[ "$output" = "$BATS_TEST_TMPDIR/pic.png" ]
	run comp nc-sync export "$BATS_TEST_TMPDIR/pic"
	[ "$output" = "$BATS_TEST_TMPDIR/pic.png" ]
	# a home without groups, or none at all: nothing, nothing created
	export NC_HOME=$W/none
	run comp nc-send -g ""
	[ -z "$output" ]
	[ ! -e "$W/none" ]
}

# offered CMD [SUB]: every option the bash completion offers there
offered() {
	comp "$@" - | tr '\n' ' '
}

# usage_items CMD [SUB]: "SUB<TAB>OPTION" for each option and "+<TAB>NAME"
# for each sub-command that CMD --help (CMD SUB -h) prints. Usage lines
# (usage: CMD ..., indented CMD ..., and for a CMD taking a COMMAND the
# "  name ..." lines listing them) give sub-commands: the first bare
# lowercase word, or one after "|" (add|remove, list | show G); an
# option's sub-command is the one before it on its line. Options named
# in the prose (and continuation lines) and on no usage line count for
# SUB; "nc-other --opt" is another command's.
usage_items() {
	local cmd=$1 dsub=${2-} text line t w i sub pos afteropt alt usage inner wasarg
	local prose='^[[(]?(--[a-z][a-z0-9-]*)' seen=" "
	if [ -n "$dsub" ]; then
		text=$("$NC_BIN/$cmd" "$dsub" -h)
	else
		text=$("$NC_BIN/$cmd" --help)
	fi
	while IFS= read -r line; do
		if [[ $text == *" COMMAND "* ]] && [[ $line =~ ^\ \ [a-z]+(\ |$) ]]; then
			line="  $cmd${line#" "}"
		fi
		read -ra t <<<"$line"
		[ "${t[0]-}" = usage: ] && t=("${t[@]:1}")
		usage=0
		[ "${t[0]-}" = "$cmd" ] && [[ $line =~ ^(usage:\ |\ ) ]] && usage=1
		sub=$dsub pos=0 afteropt=0 alt=0 wasarg=0
		for ((i = usage; i < ${#t[@]}; i++)); do
			w=${t[i]}
			if ((!usage)); then
				# prose: --opt, unless after another command's name
				[[ $w =~ $prose ]] || continue
				w=${BASH_REMATCH[1]}
				((i > 0)) && [[ ${t[i-1]} =~ ^\(?nc-[a-z]+$ ]] &&
				    [ "${t[i-1]#(}" != "$cmd" ] && continue
				# one a usage line named is checked there
				[[ $seen == *" $w "* ]] || printf '%s\t%s\n' "$dsub" "$w"
				continue
			fi
			if [ "$w" = "|" ]; then alt=1; continue; fi
			# an option's argument or its alternative (URL | none)
			if ((afteropt && !alt)) || ((alt && wasarg)); then
				[[ $w == -* || $w == \[* ]] || {
					wasarg=1 afteropt=0 alt=0
					continue
				}
			fi
			wasarg=0
			if [[ $w == \[* ]]; then
				inner=${w#[}; inner=${inner%]}
				if ((pos != 2)); then
					if [[ $inner =~ ^(--[a-z][a-z0-9-]*) ]]; then
						printf '%s\t%s\n' "$sub" "${BASH_REMATCH[1]}"
						seen+="${BASH_REMATCH[1]} "
					elif [[ $inner =~ ^-([a-zA-Z]+)$ ]]; then
						inner=${BASH_REMATCH[1]}
						while [ -n "$inner" ]; do
							printf '%s\t-%s\n' "$sub" "${inner:0:1}"
							inner=${inner:1}
						done
					fi
				fi
				afteropt=0
				[[ $w == *]* ]] || afteropt=1
			elif [[ $w =~ ^(--?[a-zA-Z][a-z0-9-]*)$ ]]; then
				((pos != 2)) && printf '%s\t%s\n' "$sub" "$w"
				seen+="$w "
				afteropt=1
			elif [[ $w =~ ^[a-z][a-z|]*$ ]] && ((!afteropt)) && ((pos == 0 || alt)); then
				for w in ${w//|/ }; do printf '+\t%s\n' "$w"; done
				sub=${w%%|*} pos=1
				afteropt=0
			else
				# a placeholder (COMMAND, FILE), unless an option's argument
				((pos == 0 && !afteropt)) && pos=2
				afteropt=0
			fi
			alt=0
		done
	done <<<"$text"
}

@test "bash completion offers every option and sub-command of each usage and getopt table" {
	local cmd c items sub w subs missing="" n=0 f
	for c in "$NC_BIN"/nc-*; do
		[ -x "$c" ] || continue
		cmd=${c##*/}
		items=$(usage_items "$cmd")
		subs=$(printf '%s\n' "$items" | awk -F'\t' '$1 == "+" { print $2 }')
		# a COMMAND's own usage (nc-sync backup -h)
		if "$c" --help | grep -q ' COMMAND '; then
			for sub in $subs; do
				items+=$'\n'$(usage_items "$cmd" "$sub")
			done
		fi
		while IFS=$'\t' read -r sub w; do
			[ -n "$w" ] || continue
			n=$((n + 1))
			if [ "$sub" = + ]; then
				[[ " $(comp "$cmd" "" | tr '\n' ' ') " == *" $w "* ]] ||
				    missing+=" $cmd:$w"
			elif [ -n "$sub" ]; then
				[[ " $(offered "$cmd" "$sub") " == *" $w "* ]] ||
				    missing+=" $cmd $sub:$w"
			else
				[[ " $(offered "$cmd") " == *" $w "* ]] ||
				    missing+=" $cmd:$w"
			fi
		done <<<"$items"
		# the long options of its getopt table
		f=$ROOT/cmd/$cmd.c
		[ -f "$f" ] || f=$ROOT/cmd/$cmd/main.c
		for w in $(grep -o '{ *"[a-z][a-z0-9-]*", *[a-z]*_argument' "$f" | cut -d'"' -f2); do
			n=$((n + 1))
			[[ " $(offered "$cmd") " == *" --$w "* ]] || missing+=" $cmd:--$w"
		done
	done
	echo "checked $n, missing:$missing"
	[ -z "$missing" ]
	# the parser found them (8 commands, ~100 options and sub-commands)
	[ "$n" -ge 150 ]
}

@test "zsh completion parses and compinit binds it to every command (make deps installs zsh)" {
	run bash -n "$ROOT/contrib/completion/newchat.bash"
	[ "$status" -eq 0 ]
	head -n 1 "$ROOT/contrib/completion/_newchat" | grep -qx '#compdef nc-keygen nc-keys nc-send nc-recv nc-sync nc-media nc-group nc-relayd'
	run zsh -n "$ROOT/contrib/completion/_newchat"
	echo "$output"
	[ "$status" -eq 0 ]
	mkdir "$BATS_TEST_TMPDIR/fn"
	cp "$ROOT/contrib/completion/_newchat" "$BATS_TEST_TMPDIR/fn/"
	run env HOME="$BATS_TEST_TMPDIR" zsh -f -c 'fpath=("$1" $fpath)
	    autoload -Uz compinit && compinit -u -d "$1/.zcompdump"
	    for c in nc-keygen nc-keys nc-send nc-recv nc-sync nc-media nc-group nc-relayd; do
		print -r -- "$c ${_comps[$c]}"; done' zsh "$BATS_TEST_TMPDIR/fn"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' _newchat$' <<<"$output")" -eq 8 ]
}
