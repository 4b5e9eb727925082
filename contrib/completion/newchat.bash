# newchat.bash - bash completion for the Newchat commands (nc-keygen,
# nc-keys, nc-send, nc-recv, nc-media, nc-relayd). `make install` puts it
# in $(PREFIX)/share/bash-completion/completions/ under each command's name,
# where bash-completion finds it; or source it from ~/.bashrc.
# Addresses are completed from the contacts of $NC_HOME (read-only, with
# sqlite3 if it is installed).

_newchat_home() {
	printf '%s\n' "${NC_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/newchat}"
}

# Contacts this device knows (user@domain), one a line.
_newchat_contacts() {
	local db
	db="$(_newchat_home)/state.db"
	[ -r "$db" ] && command -v sqlite3 >/dev/null 2>&1 || return 0
	sqlite3 -readonly "$db" "SELECT user FROM contact" 2>/dev/null
}

_newchat() {
	local cmd=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD-1]} opts sub="" i
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in -*) ;; *) sub=${COMP_WORDS[i]}; break ;; esac
	done
	case $cmd in
	nc-keygen)
		opts="--json --backup --delete --help --version -h -q -v -V"
		;;
	nc-keys)
		opts="--json --help --version -h -q -v -V"
		if [ -z "$sub" ] && [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "show verify trust" -- "$cur")
			return 0
		fi
		;;
	nc-send)
		opts="--json --flush --queue --cancel --ttl --wait --output --help
		    --version -f -j -o -t -w -h -q -v -V"
		case $prev in
		-o|--output) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
		-t|--ttl|-w|--wait|--cancel) return 0 ;;
		esac
		;;
	nc-recv)
		opts="--json --follow --history --unread --since --cursor-file
		    --push-endpoint --help --version -h -q -v -V -"
		case $prev in
		--cursor-file) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
		--since) return 0 ;;
		--push-endpoint) mapfile -t COMPREPLY < <(compgen -W none -- "$cur"); return 0 ;;
		esac
		if [[ $cur != -* ]] && [[ " ${COMP_WORDS[*]} " != *" --history "* ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")   # armored files
			return 0
		fi
		;;
	nc-sync)
		opts="--json --help --version -h -q -v -V"
		if [ -z "$sub" ] && [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "link devices revoke" -- "$cur")
			return 0
		fi
		;;
	nc-media)
		opts="--json --ttl --output --help --version -o -h -q -v -V"
		if [ -z "$sub" ] && [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "put get rm ls" -- "$cur")
			return 0
		fi
		case $prev in
		-o|--output|put) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
		esac
		[[ $cur == -* ]] || return 0
		;;
	nc-relayd)
		case $prev in
		-d) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
		--tls-cert|--tls-key) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
		-l|-D|--public-url|--threads|--workers|--conns-per-ip|--rate-*|\
		--blob-max|--request-timeout|--mailbox-max|--trust-proxy) return 0 ;;
		esac
		opts="-d -l -D --tls-cert --tls-key --invite-only --public-url
		    --threads --workers --conns-per-ip --rate-register --rate-login
		    --rate-anon --blob-max --request-timeout --mailbox-max
		    --trust-proxy --issue-invite --help --version -h -V"
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return 0
		;;
	*) return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -W "$(_newchat_contacts)" -- "$cur")
	fi
	return 0
}

complete -F _newchat nc-keygen nc-keys nc-send nc-recv nc-sync nc-media nc-relayd
