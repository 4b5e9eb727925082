# newchat.bash - bash completion for the Newchat commands (nc-keygen,
# nc-keys, nc-send, nc-recv, nc-sync, nc-media, nc-group, nc-relayd).
# `make install` puts it in $(PREFIX)/share/bash-completion/completions/
# under each command's name, where bash-completion finds it; or source it
# from ~/.bashrc.
# Addresses and held senders are completed from the state of $NC_HOME
# (read-only, with sqlite3 if it is installed; nothing is created), group
# names from nc-group list.
# t/4020-install.bats fails when a command's usage names an option or
# sub-command that is not completed here.

_newchat_home() {
	printf '%s\n' "${NC_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/newchat}"
}

# _newchat_sql QUERY: its rows from state.db, one a line
_newchat_sql() {
	local db
	db="$(_newchat_home)/state.db"
	[ -r "$db" ] && command -v sqlite3 >/dev/null 2>&1 || return 0
	sqlite3 -readonly "$db" "$1" 2>/dev/null
}

# Contacts this device knows (user@domain).
_newchat_contacts() { _newchat_sql "SELECT user FROM contact"; }

# Their domains (nc-keys audit DOMAIN).
_newchat_domains() { _newchat_sql "SELECT DISTINCT substr(user, instr(user, '@') + 1) FROM contact"; }

# Senders whose messages are held (nc-recv --release/--reject).
_newchat_held() { _newchat_sql "SELECT DISTINCT peer FROM held"; }

# _newchat_groups [member]: group names (of the groups this user is in
# with "member"), as nc-group list prints them (local, no network: the
# names are sealed in state.db); without nc-group, the ids from state.db.
_newchat_groups() {
	local line re='^[0-9a-f]{32} (.*) epoch [0-9]+, [0-9]+ members?( \(not a member\))?$'
	[ -r "$(_newchat_home)/state.db" ] || return 0
	if ! command -v nc-group >/dev/null 2>&1; then
		_newchat_sql "SELECT lower(hex(id)) FROM grp"
		return 0
	fi
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		[ "${1-}" = member ] && [ -n "${BASH_REMATCH[2]}" ] && continue
		printf '%s\n' "${BASH_REMATCH[1]}"
	done < <(nc-group -q list </dev/null 2>/dev/null)
}

# _newchat_reply WORDS-COMMAND...: COMPREPLY from the lines a command
# prints that start with $cur (names may hold spaces: quoted)
_newchat_reply() {
	local w
	while IFS= read -r w; do
		[ -n "$w" ] && [[ $w == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$w")")
	done < <("$@")
}

_newchat_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }
_newchat_files() { mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }
_newchat_dirs() { mapfile -t COMPREPLY < <(compgen -d -- "$cur"); }

_newchat() {
	local cmd=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD-1]} opts="" subs="" argopts="" sub=""
	local i npos=0 w skip=0
	COMPREPLY=()
	case $cmd in
	nc-keygen)
		opts="--json --name --link --backup --passwd --delete --help
		    --version -h -j -q -v -V"
		argopts="--name" ;;
	nc-keys)
		opts="--json --self --help --version -h -j -q -v -V"
		subs="show history audit verify trust policy" ;;
	nc-send)
		opts="--json --flush --queue --cancel --ttl --wait --output --group
		    --attach --quiet --verbose --help --version
		    -f -g -j -o -t -w -h -q -v -V"
		argopts="--cancel --ttl --wait --output --group --attach -g -o -t -w" ;;
	nc-recv)
		opts="--json --follow --history --unread --since --cursor-file
		    --held --release --reject --save --push-endpoint --help
		    --version -f -H -h -j -q -v -V -"
		argopts="--since --cursor-file --release --reject --save --push-endpoint" ;;
	nc-sync)
		subs="devices backup restore export import link revoke" ;;
	nc-media)
		opts="--json --ttl --output --help --version -o -h -j -q -v -V"
		subs="put get rm ls"
		argopts="--ttl --output -o" ;;
	nc-group)
		opts="--json --quiet --verbose --help --version -h -j -q -v -V"
		subs="create add remove admin leave rename list show log" ;;
	nc-relayd)
		opts="-d --db -l -D --tls-cert --tls-key --invite-only --public-url
		    --threads --workers --conns-per-ip --conns-max --polls-max
		    --idle-max --rate-register --rate-login --rate-anon --blob-max
		    --backup-max --backup-bytes-max
		    --request-timeout --mailbox-max --trust-proxy --push-allow-local
		    --issue-invite --help --version -h -V"
		argopts="-d --db -l -D --tls-cert --tls-key --public-url --threads
		    --workers --conns-per-ip --conns-max --polls-max --idle-max
		    --rate-register --rate-login --rate-anon --blob-max
		    --backup-max --backup-bytes-max
		    --request-timeout --mailbox-max --trust-proxy" ;;
	*) return 0 ;;
	esac
	# the sub-command and how many arguments follow it (option
	# arguments are not counted)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then skip=0; continue; fi
		case $w in
		--*=*) ;;
		-?*) [[ " ${argopts//$'\n'/ } " == *" $w "* ]] && skip=1 ;;
		*) if [ -n "$subs" ] && [ -z "$sub" ]; then sub=$w; else npos=$((npos + 1)); fi ;;
		esac
	done
	if [ "$cmd" = nc-sync ]; then
		case $sub in
		"") opts="--help --version -h -V" ;;
		backup) opts="--recovery-code --password" ;;
		export) opts="--recovery-code --password" ;;
		restore|import) opts="--recovery-code --min-counter"; argopts="--min-counter" ;;
		link) opts="--history"; argopts="--history" ;;
		esac
		[ -n "$sub" ] && opts="$opts --json --help --version -h -j -q -v -V"
	fi
	# an option's argument
	case $cmd:$prev in
	nc-send:-o|nc-send:--output|nc-send:--attach|nc-recv:--cursor-file|\
	nc-media:-o|nc-media:--output)
		_newchat_files; return 0 ;;
	nc-relayd:--tls-cert|nc-relayd:--tls-key) _newchat_files; return 0 ;;
	nc-recv:--save|nc-relayd:-d) _newchat_dirs; return 0 ;;
	nc-send:-g|nc-send:--group) _newchat_reply _newchat_groups member; return 0 ;;
	nc-recv:--release|nc-recv:--reject) _newchat_reply _newchat_held; return 0 ;;
	nc-recv:--push-endpoint) _newchat_words none; return 0 ;;
	esac
	if [[ " ${argopts//$'\n'/ } " == *" $prev "* ]]; then
		return 0
	fi
	if [[ $cur == -* ]]; then
		_newchat_words "$opts"
		return 0
	fi
	if [ -n "$subs" ] && [ -z "$sub" ]; then
		_newchat_words "$subs"
		return 0
	fi
	case $cmd:$sub in
	nc-keys:audit) _newchat_words "$(_newchat_domains)" ;;
	nc-keys:policy) ((npos == 0)) && _newchat_words "log tofu verified" ;;
	nc-keys:*) ((npos == 0)) && _newchat_words "$(_newchat_contacts)" ;;
	nc-sync:export|nc-sync:import) ((npos == 0)) && _newchat_files ;;
	nc-media:put) ((npos == 0)) && _newchat_files ;;
	nc-group:create) ((npos > 0)) && _newchat_words "$(_newchat_contacts)" ;;
	nc-group:add|nc-group:remove|nc-group:admin)
		if ((npos == 0)); then
			_newchat_reply _newchat_groups
		else
			_newchat_words "$(_newchat_contacts)"
		fi ;;
	nc-group:leave|nc-group:rename|nc-group:show|nc-group:log)
		((npos == 0)) && _newchat_reply _newchat_groups ;;
	nc-recv:)
		if [[ " ${COMP_WORDS[*]} " == *" --history "* ]] ||
		    [[ " ${COMP_WORDS[*]} " == *" -H "* ]]; then
			_newchat_words "$(_newchat_contacts)"
		else
			_newchat_files   # armored envelopes
		fi ;;
	nc-keygen:|nc-send:) _newchat_words "$(_newchat_contacts)" ;;
	esac
	return 0
}

complete -F _newchat nc-keygen nc-keys nc-send nc-recv nc-sync nc-media nc-group nc-relayd
