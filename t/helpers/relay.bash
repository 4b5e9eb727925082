# relay.bash - start and stop real relays on 127.0.0.1 port 0 for bats tests.
#   load helpers/relay          (from t/*.bats; t/threat/*.bats: ../helpers/relay)
#   relay_start NAME DOMAIN [extra nc-relayd args]   exports RELAY_URL_<NAME>,
#       RELAY_PID_<NAME>, RELAY_DIR_<NAME>; data in $BATS_TEST_TMPDIR/NAME
#   relay_restart NAME          start again on the same data dir and port
#                               (after a stop or kill)
#   relay_stop NAME             SIGTERM, wait; fails unless it exits 0
#   relay_kill NAME             SIGKILL, wait
#   relay_stop_all              for teardown: stops every relay still running
#   relay_cmd NAME ARGS...      nc-relayd on NAME's store (e.g. --issue-invite)
#   relay_sql NAME SQL          a query on NAME's database (sqlite or pg)
# NAME: letters, digits and _ (it becomes part of variable names).
#
# NC_RELAY_DB=pg: every relay stores in PostgreSQL (--db), each in a fresh
# database on the server at NC_PG_DIR (t/1050 starts one), or, without it,
# on a server started for the test and stopped by relay_stop_all.
# RELAY_DB_<NAME> is its conninfo. relay_start NAME DOMAIN --db-of OTHER
# ... shares OTHER's database (several relay processes on one store).

NC_BIN=${NC_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
case ":$PATH:" in *":$NC_BIN/t:"*) ;; *) PATH=$NC_BIN:$NC_BIN/t:$PATH ;; esac
export NC_BIN PATH
RELAY_NAMES=${RELAY_NAMES:-}
# shellcheck source=t/helpers/pg.bash
. "$(dirname "${BASH_SOURCE[0]}")/pg.bash"
_RELAY_PG_OWN=${_RELAY_PG_OWN:-}

_relay_launch() {   # NAME: runs with the args saved by relay_start
	local name=$1 port=${2:-0} dir domain args out url i pid db
	dir=$(eval echo "\$RELAY_DIR_$name")
	db=$(eval echo "\${RELAY_DB_$name:-}")
	domain=$(eval echo "\$RELAY_DOMAIN_$name")
	args=$(eval echo "\$RELAY_ARGS_$name")
	out=$(_relay_err "$name")
	out=${out%.err}.out
	: >"$out"
	# shellcheck disable=SC2086
	nc-relayd -d "$dir" ${db:+--db "$db"} -l "127.0.0.1:$port" -D "$domain" $args \
	    >"$out" 2>>"$(_relay_err "$name")" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		url=$(head -n 1 "$out" 2>/dev/null)
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$(_relay_err "$name")" >&2; return 1; }
		sleep 0.05
	done
	[ -n "$url" ] || { echo "relay $name did not start" >&2; return 1; }
	export "RELAY_URL_$name=$url" "RELAY_PID_$name=$pid"
}

# The database of a new relay NAME on PostgreSQL: a fresh one, or
# OTHER's (--db-of OTHER, taken off the arguments by relay_start).
_relay_pg_db() {
	local name=$1 other=$2
	if [ -n "$other" ]; then
		eval echo "\$RELAY_DB_$other"
		return
	fi
	pg_createdb "$NC_PG_DIR" "nc_$(echo "$name" | tr 'A-Z' 'a-z')_$RANDOM$RANDOM"
}

relay_start() {
	local name=$1 domain=$2 other= db=
	shift 2
	if [ "${1:-}" = --db-of ]; then
		other=$2
		shift 2
	fi
	if [ "${NC_RELAY_DB:-}" = pg ] || [ -n "$other" ]; then
		if [ -z "${NC_PG_DIR:-}" ]; then   # not in $(...): it exports
			_RELAY_PG_OWN=$(mktemp -u /tmp/ncpg.XXXXXX)
			pg_start "$_RELAY_PG_OWN" || return 1
			export NC_PG_DIR=$_RELAY_PG_OWN
		fi
		db=$(_relay_pg_db "$name" "$other") || return 1
		# the blob directory is shared too
		[ -z "$other" ] || export "RELAY_DIR_$name=$(eval echo "\$RELAY_DIR_$other")"
	fi
	[ -n "$other" ] || export "RELAY_DIR_$name=$BATS_TEST_TMPDIR/$name"
	export "RELAY_DOMAIN_$name=$domain" "RELAY_ARGS_$name=$*" "RELAY_DB_$name=$db"
	RELAY_NAMES="$RELAY_NAMES $name"
	_relay_launch "$name"
}

_relay_err() {   # NAME's stderr file: DIR.err (DIR.NAME.err in a shared DIR)
	local dir
	dir=$(eval echo "\$RELAY_DIR_$1")
	if [ "${dir##*/}" = "$1" ]; then echo "$dir.err"; else echo "$dir.$1.err"; fi
}

relay_cmd() {
	local name=$1 dir db
	shift
	dir=$(eval echo "\$RELAY_DIR_$name")
	db=$(eval echo "\${RELAY_DB_$name:-}")
	nc-relayd -d "$dir" ${db:+--db "$db"} "$@"
}

relay_sql() {
	local name=$1 db
	db=$(eval echo "\${RELAY_DB_$name:-}")
	if [ -n "$db" ]; then
		pg_sql "$NC_PG_DIR" "$db" "$2"
	else
		sqlite3 "$(eval echo "\$RELAY_DIR_$name")/relay.db" "$2"
	fi
}

# The store is sound: sqlite's integrity_check; on PostgreSQL (which
# checks itself) that it answers.
relay_db_ok() {
	if [ -n "$(eval echo "\${RELAY_DB_$1:-}")" ]; then
		[ "$(relay_sql "$1" "SELECT 'ok'")" = ok ]
	else
		[ "$(relay_sql "$1" 'PRAGMA integrity_check')" = ok ]
	fi
}

relay_restart() {
	local url port i
	url=$(eval echo "\$RELAY_URL_$1")
	port=${url##*:}
	for ((i = 0; i < 50; i++)); do   # the port may take a moment to free
		_relay_launch "$1" "$port" 2>/dev/null && return 0
		sleep 0.1
	done
	_relay_launch "$1" "$port"
}

relay_pid() {
	eval echo "\${RELAY_PID_$1:-}"
}

relay_stop() {
	local pid rc
	pid=$(relay_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	if [ $rc -eq 127 ]; then   # not our child: wait for it to go
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
		rc=0
	fi
	export "RELAY_PID_$1="
	return $rc
}

relay_kill() {
	local pid
	pid=$(relay_pid "$1")
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	export "RELAY_PID_$1="
	return 0
}

# relay_report WHO ERRFILE WHY: a relay that crashed or complained is
# written down in $NC_RELAY_REPORT (t/run prints them at the end): a relay
# is silent on stderr and exits 0 when stopped.
relay_report() {
	[ -n "${NC_RELAY_REPORT:-}" ] || return 0
	{
		echo "${BATS_TEST_FILENAME##*/}: relay $1: $3"
		[ -s "$2" ] && tail -n 5 "$2" | sed 's/^/    /'
	} >>"$NC_RELAY_REPORT"
}

relay_stop_all() {
	local n pid err rc
	for n in $RELAY_NAMES; do
		pid=$(relay_pid "$n")
		err=$(_relay_err "$n")
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			relay_report "$n" "$err" "gone before teardown"
		fi
		rc=0
		relay_stop "$n" || rc=$?
		if [ $rc -ne 0 ]; then
			relay_report "$n" "$err" "exit status $rc when stopped"
		elif [ -s "$err" ]; then
			relay_report "$n" "$err" "wrote to stderr"
		fi
	done
	RELAY_NAMES=
	if [ -n "$_RELAY_PG_OWN" ]; then
		pg_stop "$_RELAY_PG_OWN" immediate
		rm -rf "$_RELAY_PG_OWN"
		[ "${NC_PG_DIR:-}" != "$_RELAY_PG_OWN" ] || unset NC_PG_DIR
		_RELAY_PG_OWN=
	fi
}
