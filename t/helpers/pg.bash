# pg.bash - a real PostgreSQL server for tests, in a temporary directory,
# reached on a Unix socket there (no TCP port). Run as an unprivileged
# user when we are root (initdb refuses root): nobody, through runuser.
#   pg_bindir                 the server's programs (empty: none installed)
#   pg_start DIR              initdb + start; DIR must not exist
#   pg_stop DIR [MODE]        shut down (waits): fast, or MODE (immediate:
#                             no checkpoint, for a server about to be removed)
#   pg_kill DIR               SIGKILL the postmaster and its backends
#   pg_restart DIR            start again after a kill or stop
#   pg_createdb DIR NAME      a fresh database; prints its conninfo (a URI)
#   pg_sql DIR DB SQL         run SQL, unaligned output (DB: a name or URI)
# DIR: a short path (the socket path must fit 107 bytes).

pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] &&
			{ echo "$d"; return 0; }
	done
	d=$(dirname "$(command -v initdb 2>/dev/null)" 2>/dev/null)
	[ -n "$d" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && echo "$d"
}

_pg_as() {   # run as the server's owner
	if [ "$(id -u)" = 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=$1 bin
	bin=$(pg_bindir)
	[ -n "$bin" ] || { echo "pg_start: no PostgreSQL server installed" >&2; return 1; }
	mkdir -m 0700 "$dir" || return 1
	[ "$(id -u)" = 0 ] && chown nobody "$dir"
	_pg_as "$bin/initdb" -D "$dir/data" -U nc --auth=trust -E UTF8 --no-instructions \
	    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	# small and quick for tests; fsync stays on: the durability tests
	# kill it and expect every acknowledged commit back
	cat >>"$dir/data/postgresql.conf" <<-CONF
	listen_addresses = ''
	unix_socket_directories = '$dir'
	max_connections = 200
	shared_buffers = 32MB
	logging_collector = off
	CONF
	pg_restart "$dir"
}

pg_restart() {
	local dir=$1 bin
	bin=$(pg_bindir)
	# 3>&-: the server must not hold bats' output open (bats would wait
	# for it at the end of the file)
	_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
	    >/dev/null 3>&- || { tail -n 20 "$dir/server.log" >&2; return 1; }
}

pg_stop() {
	local dir=$1 mode=${2:-fast} bin
	bin=$(pg_bindir)
	[ -f "$dir/data/postmaster.pid" ] || return 0
	_pg_as "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || true
}

pg_kill() {
	local dir=$1 pid
	pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	pkill -KILL -P "$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	sleep 0.1   # its backends, orphaned, notice and exit
}

pg_sql() {
	local dir=$1 db=$2 bin
	shift 2
	bin=$(pg_bindir)
	"$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$dir" -U nc -d "$db" -c "$*"
}

pg_createdb() {
	local dir=$1 name=$2
	pg_sql "$dir" postgres "CREATE DATABASE $name" >/dev/null || return 1
	echo "postgresql:///$name?host=$dir&user=nc"
}
