# t/threat/lib.bash - worlds for the threat tests: real relays on loopback,
# each behind an nc-hostile proxy (the attacker owns the network), and users
# whose NC_HOMEs point at the proxies. Loaded by every t/threat/T*.bats.
#
#   world_start              relays a.test, b.test (+ proxies), sets
#                            A_URL B_URL (real) HA_URL HB_URL (proxies),
#                            HA_REC HB_REC (record dirs), HA_SCRIPT HB_SCRIPT
#   user NAME ADDR [DOM=URL ...]  new NC_HOME $W/NAME + nc-keygen ADDR
#   as NAME CMD...           run CMD with NC_HOME=$W/NAME
#   hostile B|A 'RULE...'    replace the proxy's script (one rule a line)
#   steal NAME COPY          copy NAME's NC_HOME as it is now
#   world_stop               kill everything this world started
#
# A test file defines world_setup (users and what every test shares): the
# setup_file, teardown_file and setup below start the world, call it, check
# each test's world and stop it. WORLD_NEEDS="CMD..." set before `load lib`
# names commands beyond the usual ones the file needs.
#
# Tests need the client commands; until they land, needs() skips honestly.

: "${NC_BIN:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}"
PATH=$NC_BIN:$NC_BIN/t:$PATH   # commands, and test tools (nc-hostile)
export NC_PASSWORD=correct-horse-battery NC_PWHASH_COST=interactive

# needs CMD...: skip the test unless every command exists.
needs() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			skip "needs $c (not yet landed)"
	done
}

# setup_file cannot skip in bats 1.8: it notes what is missing here and
# setup() calls world_check, which skips each test with that reason.
WORLD_CMDS="nc-relayd nc-hostile nc-keygen nc-send nc-recv"
world_missing() {
	local c
	for c in $WORLD_CMDS "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "$c"; return 0; }
	done
	return 1
}
world_check() {
	[ -z "${WORLD_SKIP:-}" ] || skip "needs $WORLD_SKIP (not yet landed)"
	[ -n "${W:-}" ] || skip "world did not start"
}

_pids_file() { echo "$W/.pids"; }

# _spawn OUTFILE CMD...: start CMD in the background, remember its pid,
# wait for its first stdout line (the URL it serves) and print it.
_spawn() {
	local out=$1 i url
	shift
	"$@" >"$out" 2>"$out.err" 3>&- &
	echo $! >>"$(_pids_file)"
	for i in $(seq 1 100); do
		url=$(head -n 1 "$out" 2>/dev/null)
		[ -n "$url" ] && { echo "$url"; return 0; }
		sleep 0.05
	done
	echo "cannot start: $*" >&2
	cat "$out.err" >&2
	return 1
}

_relay() {   # _relay NAME DOMAIN -> URL
	mkdir -p "$W/relay-$1"
	_spawn "$W/relay-$1.out" nc-relayd -d "$W/relay-$1" -l 127.0.0.1:0 -D "$2"
}

_proxy() {   # _proxy NAME UPSTREAM -> URL
	mkdir -p "$W/rec-$1"
	: >"$W/script-$1"
	_spawn "$W/proxy-$1.out" nc-hostile -l 127.0.0.1:0 -u "$2" \
	    -s "$W/script-$1" -r "$W/rec-$1"
}

world_start() {
	if WORLD_SKIP=$(world_missing "$@"); then
		export WORLD_SKIP
		return 0
	fi
	W=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/w$$
	mkdir -p "$W"
	: >"$(_pids_file)"
	A_URL=$(_relay a a.test) || return 1
	B_URL=$(_relay b b.test) || return 1
	HA_URL=$(_proxy a "$A_URL") || return 1
	HB_URL=$(_proxy b "$B_URL") || return 1
	HA_REC=$W/rec-a HB_REC=$W/rec-b
	HA_SCRIPT=$W/script-a HB_SCRIPT=$W/script-b
	export W A_URL B_URL HA_URL HB_URL HA_REC HB_REC HA_SCRIPT HB_SCRIPT
}

world_stop() {
	local p f
	[ -n "${W:-}" ] && [ -f "$(_pids_file)" ] || return 0
	# a relay (or proxy) that crashed or complained: reported by t/run
	if [ -n "${NC_RELAY_REPORT:-}" ]; then
		while read -r p; do
			kill -0 "$p" 2>/dev/null ||
				echo "${BATS_TEST_FILENAME##*/}: pid $p ($(cat "/proc/$p/comm" 2>/dev/null || echo ?)) gone before teardown" >>"$NC_RELAY_REPORT"
		done <"$(_pids_file)"
		for f in "$W"/relay-*.out.err; do
			[ -s "$f" ] || continue
			{ echo "${BATS_TEST_FILENAME##*/}: ${f##*/} not empty"
			  tail -n 5 "$f" | sed 's/^/    /'; } >>"$NC_RELAY_REPORT"
		done
	fi
	while read -r p; do
		kill "$p" 2>/dev/null
	done <"$(_pids_file)"
	while read -r p; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null
	done <"$(_pids_file)"
	: >"$(_pids_file)"
}

# user NAME ADDR [DOMAIN=URL ...]: an NC_HOME whose config reaches a.test
# and b.test through the proxies (or the given URLs), and its identity.
user() {
	local name=$1 addr=$2 kv
	shift 2
	mkdir -p "$W/$name"
	chmod 700 "$W/$name"
	{
		echo "relay a.test $HA_URL"
		echo "relay b.test $HB_URL"
		# senders not known yet looked up at once (T45 tests holding)
		[ -z "${FIRST_CONTACT-fetch}" ] ||
		    echo "first-contact ${FIRST_CONTACT-fetch}"
	} >"$W/$name/config"
	for kv in "$@"; do
		sed -i "/^relay ${kv%%=*} /d" "$W/$name/config"
		echo "relay ${kv%%=*} ${kv#*=}" >>"$W/$name/config"
	done
	NC_HOME=$W/$name nc-keygen "$addr" >"$W/$name.keygen" 2>&1 || {
		cat "$W/$name.keygen" >&2
		return 1
	}
}

as() {
	local name=$1
	shift
	NC_HOME=$W/$name "$@"
}

hostile() {   # hostile a|b RULES: the proxy's whole script
	printf '%s\n' "$2" >"$W/script-$1"
}

steal() {     # steal NAME COPY: the attacker's copy of a device's state
	rm -rf "${W:?}/$2"
	cp -a "$W/$1" "$W/$2"
}

# seal FROM TO TEXT OUT: FROM encrypts TEXT to TO as armored envelopes in
# OUT without delivering (nc-send -o -).
seal() {
	printf '%s\n' "$3" | as "$1" nc-send -o - "$2" >"$4"
}

# open_as NAME FILE: NAME reads armored envelopes from FILE (JSON lines);
# sets $status/$output via bats' run in the caller.
open_as() {
	as "$1" nc-recv --json - <"$2"
}

# dump NAME: a digest of NAME's stored state, to show it did not change.
state_digest() {
	local h=$W/$1 f
	# Sessions, keys, messages, seen ids and replay tags - not where a
	# reader stands, nor what the key log pinned when the device checked
	# its own list meanwhile (those move with any run of nc-recv).
	for f in "$h"/*.db; do
		[ -f "$f" ] || continue
		sqlite3 "$f" .dump 2>/dev/null |
		    grep -vE "^INSERT INTO kv VALUES\('(read-seq|devlist_check[^']*|self_alarm|kt/[^']*)'"
	done | sha256sum | cut -d' ' -f1
}

# armor FILE: the armored form of a binary envelope (protocol.md, armor).
armor() {
	echo "-----BEGIN NEWCHAT ENVELOPE-----"
	base64 -w 64 "$1"
	echo "-----END NEWCHAT ENVELOPE-----"
}

# dearmor: the binary payload of the first armored block on stdin.
dearmor() {
	sed -n '/^-----BEGIN NEWCHAT ENVELOPE-----/,/^-----END NEWCHAT ENVELOPE-----/p' |
	    sed '1d;$d' | tr -d '\r' | base64 -d
}

# flipbyte IN OFFSET OUT: copy IN with the byte at OFFSET xored with 1.
flipbyte() {
	local b
	cp "$1" "$3"
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 1) & 255)))" |
	    dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

# count_type TYPE: JSON lines of that type in $output.
count_type() {
	printf '%s\n' "$output" | grep -c "\"type\":\"$1\"" || true
}

# reports_missing NAME PEER EARLIER: after NAME's gap-window (1 s in these
# tests) one more nc-recv; with the EARLIER output (a slow first run may
# have reported it already) exactly one "missing" event, count 1, for PEER.
reports_missing() {
	sleep 2
	run as "$1" nc-recv --json
	[ "$status" -eq 0 ]
	output=$(cat "$3"; printf '%s\n' "$output")
	echo "$output"
	[ "$(count_type missing)" -eq 1 ]
	local ev
	ev=$(printf '%s\n' "$output" | grep '"type":"missing"')
	[ "$(jq -r .count <<<"$ev")" = 1 ]
	[ "$(jq -r .peer <<<"$ev")" = "$2" ]
}

# mailbox_puts: the deliveries the proxy in front of b.test saw.
deliveries() {
	grep -E ' (PUT /v1/users/[^ ]*/mailbox/|POST /v1/users/[^ ]*/deliver)' "$W/rec-$1/log" || true
}

# stolen_open COPY FILE: the attacker tries FILE with a fresh copy of the
# stolen state COPY (each try starts from the state as stolen).
stolen_open() {
	rm -rf "${W:?}/.try"
	cp -a "$W/$1" "$W/.try"
	NC_HOME=$W/.try nc-recv --json - <"$2"
}

# opens COPY FILE TEXT: 0 if the stolen copy prints TEXT from FILE.
opens() {
	local out
	out=$(stolen_open "$1" "$2" 2>&1)
	[[ "$out" == *"$3"* ]]
}

# evil_start DOMAIN: a second, attacker-run relay claiming DOMAIN, behind
# its own recording proxy: EVIL_URL (relay), HE_URL (proxy), HE_REC.
evil_start() {
	EVIL_URL=$(_relay evil "$1") || return 1
	HE_URL=$(_proxy e "$EVIL_URL") || return 1
	HE_REC=$W/rec-e
	export EVIL_URL HE_URL HE_REC
}

# devlist_dev FILE: the first device id (hex) of a binary device list
# (protocol.md 2.1: u8 1, u8 0x20, str user, u64, fixed[32], u64, u16 n).
devlist_dev() {
	local ulen
	ulen=$(od -An -tu1 -j2 -N2 "$1" | awk '{print $1 * 256 + $2}')
	od -An -tx1 -j $((2 + 2 + ulen + 8 + 32 + 8 + 2)) -N16 "$1" | tr -d ' \n'
}

# one_line: stderr of the last `run` was one "nc-xxx: ..." line (the id
# nc-send prints on stdout for a message it holds is not part of it).
one_line_err() {
	[ "$(printf '%s\n' "$1" | grep -vE '^[0-9a-f]{32}$' | grep -c .)" -eq 1 ] &&
	    printf '%s\n' "$1" | grep -qE '^nc-[a-z]+: '
}

# The scaffold every threat file shares; a file may still define its own.
setup_file() {
	# shellcheck disable=SC2086
	world_start ${WORLD_NEEDS:-}
	[ -n "${WORLD_SKIP:-}" ] || world_setup
}
teardown_file() { world_stop; }
setup() { world_check; }
