# client.bash - worlds of users for the client tests (t/2*.bats): relays
# a.test and b.test on 127.0.0.1:0 and NC_HOMEs whose config names them.
#   load helpers/relay; load helpers/client
#   world_up              (in setup_file) relays a and b; W = the world dir
#   mkuser NAME ADDR      NC_HOME $W/NAME with a config, then nc-keygen ADDR
#   as NAME CMD...        CMD with NC_HOME=$W/NAME
#   hostile_up URL        nc-hostile in front of URL ($W/script, $W/rec)
#   world_down            (in teardown_file)
export NC_PASSWORD=correct-horse NC_PWHASH_COST=interactive
unset NC_PASSWORD_FILE NC_PROXY

world_up() {
	export BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR
	W=$BATS_FILE_TMPDIR
	export W
	relay_start a a.test "$@"
	relay_start b b.test "$@"
	world_save
}

# Each test runs in its own process: a relay restarted in one test is
# recorded here so later tests (and teardown) find its pid and URL.
world_load() {
	[ -f "$W/relays.env" ] && . "$W/relays.env"
	return 0
}

world_save() {
	declare -p RELAY_URL_a RELAY_PID_a RELAY_URL_b RELAY_PID_b 2>/dev/null |
	    sed 's/^declare -[a-z-]* /export /' >"$W/relays.env"
}

world_down() {
	world_load
	relay_stop_all
}

# relay_down NAME / relay_up NAME: stop a relay; start it again on its data
# (a new port: every NC_HOME's config is rewritten).
relay_down() {
	world_load
	relay_stop "$1" || true
	world_save
}

relay_up() {
	local d
	world_load
	relay_restart "$1"
	world_save
	for d in "$W"/*/; do
		[ -f "$d/config" ] && config "$(basename "$d")"
	done
	return 0
}

# config NAME: point NAME's NC_HOME at the relays as they run now.
config() {
	world_load
	mkdir -p "$W/$1"
	chmod 700 "$W/$1"
	{
		echo "relay a.test $RELAY_URL_a"
		echo "relay b.test $RELAY_URL_b"
		# Messages from senders not known yet are looked up at once, as
		# before the default became holding them (held.h; t/4620 tests
		# that, and README's transcript runs with FIRST_CONTACT= unset).
		[ -z "${FIRST_CONTACT-fetch}" ] ||
		    echo "first-contact ${FIRST_CONTACT-fetch}"
		# more lines for NAME's config (e.g. gap-window), kept on rewrites
		[ ! -f "$W/$1.config" ] || cat "$W/$1.config"
	} >"$W/$1/config"
}

mkuser() {
	config "$1"
	NC_HOME=$W/$1 nc-keygen "$2" >"$W/$1.keygen" 2>&1 || {
		cat "$W/$1.keygen" >&2
		return 1
	}
}

# flip FILE OFFSET: the byte at OFFSET changed (complemented: writing a
# constant leaves it as it was once in 256 runs)
flip() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1)
f.seek(o); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

as() {
	local name=$1
	shift
	NC_HOME=$W/$name "$@"
}

# hostile_up URL: nc-hostile (the threat tests' proxy) in front of URL,
# following the rules in $W/script (empty: pass), recording into $W/rec;
# its URL is the first line of $W/proxy.out, its pid in $W/proxy.pid
hostile_up() {
	mkdir -p "$W/rec"
	: >"$W/script"
	nc-hostile -l 127.0.0.1:0 -u "$1" -s "$W/script" -r "$W/rec" \
	    >"$W/proxy.out" 2>"$W/proxy.err" 3>&- &
	echo $! >"$W/proxy.pid"
	for _ in $(seq 1 100); do
		[ -s "$W/proxy.out" ] && return 0
		sleep 0.05
	done
	return 1
}

# lines N: $output has exactly N lines
lines_eq() {
	[ "$(printf '%s\n' "$output" | grep -c .)" -eq "$1" ]
}

count_type() {
	printf '%s\n' "$output" | grep -c "\"type\":\"$1\"" || true
}
