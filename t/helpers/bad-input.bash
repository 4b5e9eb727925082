# t/helpers/bad-input.bash - the bad-input catalogue's helpers: one relay
# for a whole file, requests from case tables, and the checks every case
# shares (status, one-line reason, relay alive, stored state unchanged).

: "${NC_BIN:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build}"
PATH=$NC_BIN:$NC_BIN/t:$PATH   # commands, and test tools (ncreq)

bi_relay_start() {
	BI=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/bi$$
	mkdir -p "$BI/relay"
	export BI
	command -v nc-relayd >/dev/null 2>&1 || { export BI_SKIP="nc-relayd"; return 0; }
	nc-relayd -d "$BI/relay" -l 127.0.0.1:0 -D a.test $BI_RELAY_FLAGS \
	    >"$BI/relay.out" 2>"$BI/relay.err" 3>&- &
	echo $! >"$BI/relay.pid"
	local i
	for i in $(seq 1 100); do
		URL=$(head -n 1 "$BI/relay.out" 2>/dev/null)
		[ -n "$URL" ] && break
		sleep 0.05
	done
	[ -n "$URL" ] || { cat "$BI/relay.err" >&2; return 1; }
	export URL RPID=$(cat "$BI/relay.pid")
}

bi_relay_stop() {
	[ -f "${BI:-/nonexistent}/relay.pid" ] || return 0
	local p
	p=$(cat "$BI/relay.pid")
	kill "$p" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	return 0
}

bi_relay_check() {
	[ -z "${BI_SKIP:-}" ] || skip "needs $BI_SKIP (not yet landed)"
}

# hex SPEC...: bytes from hex tokens; "*N:HH" is N bytes of HH; a leading
# "TRUNCn" keeps the first n bytes of the rest.
mkbody() {
	perl -e '
		my ($cut, $out) = (undef, "");
		for (split /\s+/, join(" ", @ARGV)) {
			next if $_ eq "";
			if (/^TRUNC(\d+)$/) { $cut = $1; next }
			if (/^\*(\d+):([0-9a-fA-F]{2})$/) { $out .= chr(hex $2) x $1; next }
			$out .= pack("H*", $_);
		}
		$out = substr($out, 0, $cut) if defined $cut;
		binmode STDOUT; print $out;' -- "$@"
}

# expand S: "<c*N>" -> N times c; BOBDEV, BOBDEVUP, BLOBID, NOW, NOW+3600.
expand() {
	local s=$1 now
	while [[ $s == *'<'* && $s =~ \<(.)\*([0-9]+)\> ]]; do
		s=${s/"${BASH_REMATCH[0]}"/$(printf "%${BASH_REMATCH[2]}s" "" | tr ' ' "${BASH_REMATCH[1]}")}
	done
	s=${s//BOBDEVHEX/$BOBDEV}
	s=${s//BOBDEVUP/${BOBDEV^^}}
	s=${s//BOBDEV/$BOBDEV}
	s=${s//BLOBID/$BLOBID}
	if [[ $s == *NOW* ]]; then
		printf -v now '%(%s)T' -1
		s=${s//NOW+3600/$((now + 3600))}
		s=${s//NOW/$now}
	fi
	printf '%s' "$s"
}

# rstate: what the relay has written: every file's size and mtime (ns),
# cheap enough for every case (-shm left out: readers touch it).
rstate() {
	find "$BI/relay" -type f ! -name '*-shm' -printf '%P %s %T@\n'
}

# rdump: the relay's stored state, logically: the sqlite dump and every
# other file's content. No case may change it, so one reference, taken
# after provisioning, serves the whole file; it is compared whenever
# rstate shows a write (sqlite may write to the WAL and roll back).
rdump() {
	local f
	for f in "$BI"/relay/*.db; do
		[ -f "$f" ] && sqlite3 -readonly "$f" .dump
	done
	find "$BI/relay" -type f ! -name '*.db' ! -name '*.db-*' -printf '%P %s\n' | sort
	find "$BI/relay" -type f ! -name '*.db' ! -name '*.db-*' -exec cksum {} + | sort
}

# rq WANT METHOD TARGET BODY [HEADER...]: one request; WANT is an
# extended regex of statuses ("400|404").
rq() {
	local want=$1 m=$2 path body=$4 h hs=() before after code lines
	path=$(expand "$3")
	shift 4
	if [[ $body == @* ]]; then
		cp "$BI/${body#@}" "$BI/body"
	elif [ -n "$body" ]; then
		mkbody "$(expand "$body")" >"$BI/body"
	else
		: >"$BI/body"
	fi
	for h in "$@"; do
		if [ "$h" = SIGN ]; then       # a valid signature, made now
			ncreq sign "$BI/bob" "$m" "$path" "$BI/body" >"$BI/sig"
			hs+=(-H @"$BI/sig")
		elif [[ $h =~ ^MANY:([0-9]+):([0-9]+)$ ]]; then
			local i v
			v=$(printf "%${BASH_REMATCH[2]}s" "" | tr ' ' v)
			for ((i = 0; i < BASH_REMATCH[1]; i++)); do hs+=(-H "X-H$i: $v"); done
		else
			hs+=(-H "$(expand "$h")")
		fi
	done
	[ "$m" = GET ] || [ "$m" = DELETE -a ! -s "$BI/body" ] ||
	    hs+=(--data-binary @"$BI/body")
	# A large body waits for the relay's verdict (100-continue) instead of
	# racing its upload against an early 413 and the close: a reset can
	# eat the answer on a loaded machine.
	local expect='Expect:'
	[ "$(stat -c %s "$BI/body")" -le 65536 ] || expect='Expect: 100-continue'
	before=$(rstate)
	code=$(curl -sS --path-as-is -o "$BI/resp" -D "$BI/hdrs" -w '%{http_code}' \
	    -X "$m" -H "$expect" -H 'Content-Type: application/octet-stream' \
	    "${hs[@]}" "$URL$path" 2>"$BI/curl.err") || true
	# (a relay that refuses a large body early closes while curl still
	# sends: curl fails, but the status came back)
	after=$(rstate)
	local resp
	resp=$(tr -d '\0' <"$BI/resp")
	echo "status $code, reason: ${resp:0:300}"
	kill -0 "$RPID"                          # no crash
	[[ $code =~ ^($want)$ ]]
	if [ "$before" != "$after" ]; then      # written: same logical state?
		rdump >"$BI/now"
		diff "$BI/ref" "$BI/now" || { echo "stored state changed"; return 1; }
	fi
	if grep -qi '^content-type: text/plain' "$BI/hdrs"; then
		[ -n "$resp" ]                       # a reason,
		[[ ${resp%$'\n'} != *$'\n'* ]]       # on one line
	fi
}

# bi_provision: bob@a.test with real keys (the relay's ncreq helper):
# registered, a signed device list (version 1), prekeys, one envelope
# (id 01..01) delivered; a blob BLOBID. Without ncreq: skip.
bi_provision() {
	[ -z "${BI_SKIP:-}" ] || return 0
	command -v ncreq >/dev/null 2>&1 || { export BI_SKIP="ncreq"; return 0; }
	local k=$BI/bob
	mkdir -p "$k"
	ncreq keygen "$k"
	BOBDEV=$(ncreq devid "$k")
	export BOBDEV
	ncreq register "$k" >"$BI/reg"
	bi_ok 201 POST /v1/users/bob "$BI/reg"
	ncreq devlist "$k" bob@a.test 1 >"$BI/dl"
	bi_ok 201 PUT /v1/users/bob/devicelist "$BI/dl" sign
	ncreq prekeys "$k" 5 >"$BI/pk"
	bi_ok 201 PUT "/v1/users/bob/devices/$BOBDEV/prekeys" "$BI/pk" sign
	printf 'first envelope' >"$BI/env"
	bi_ok 201 PUT "/v1/users/bob/devices/$BOBDEV/mailbox/$(printf '01%.0s' {1..16})" "$BI/env"
	# device lists for the devicelist cases
	ncreq devlist "$k" alice@a.test 2 >"$BI/dl-alice"
	cp "$BI/dl" "$BI/dl-v1"
	ncreq devlist "$k" bob@a.test 0 >"$BI/dl-v0"
	ncreq devlist "$k" bob@a.test 2 >"$BI/dl2"
	{ cat "$BI/dl2"; printf '\0'; } >"$BI/dl-trail"
	head -c -1 "$BI/dl2" >"$BI/dl-cut"
	perl -0777 -pe 'substr($_, -1, 1) ^= "\x01"' "$BI/dl2" >"$BI/dl-badsig"
	mkdir -p "$BI/mal"
	ncreq keygen "$BI/mal"
	cp "$BI/mal/id.sk" "$BI/mal-id.sk"
	cp "$k"/* "$BI/mal/" && cp "$BI/mal-id.sk" "$BI/mal/id.sk"
	ncreq devlist "$BI/mal" bob@a.test 2 >"$BI/dl-mal"
	BLOBID=$(ncreq hex 32)
	printf blob >"$BI/blob"
	bi_ok 201 PUT "/v1/blobs/$BLOBID" "$BI/blob" "" \
	    -H "X-NC-Delete-Hash: $(printf 'token' | b2sum -l 256 | cut -d' ' -f1)"
	export BLOBID
	rdump >"$BI/ref"
}

# bi_ok WANT METHOD PATH BODYFILE [sign] [curl args]: a setup request.
bi_ok() {
	local want=$1 m=$2 p=$3 f=$4 sign=${5:-} code
	shift 4; shift $(($# > 0 ? 1 : 0))
	local hs=()
	if [ "$sign" = sign ]; then
		ncreq sign "$BI/bob" "$m" "$p" "$f" >"$BI/sig"
		hs=(-H @"$BI/sig")
	fi
	code=$(curl -s -o "$BI/resp" -w '%{http_code}' -X "$m" --data-binary @"$f" \
	    "${hs[@]}" "$@" "$URL$p")
	[ "$code" = "$want" ] || {
		echo "setup: $m $p: $code $(cat "$BI/resp")" >&2
		return 1
	}
}

# ---- commands -----------------------------------------------------------
# bi_world_start: relays a.test and b.test; alice@a.test and bob@b.test
# with a session; $BI/E.bin: a genuine envelope from alice to bob, never
# opened (payload cases are made from it).
bi_world_start() {
	BI=${BATS_FILE_TMPDIR:-$BATS_TMPDIR}/bic$$
	mkdir -p "$BI"
	export BI
	local c
	for c in nc-relayd nc-keygen nc-send nc-recv nc-keys; do
		command -v $c >/dev/null 2>&1 || { export BI_SKIP=$c; return 0; }
	done
	export NC_PASSWORD=correct-horse-battery NC_PWHASH_COST=interactive
	BI_A=$(bi_spawn a a.test) && BI_B=$(bi_spawn b b.test) || return 1
	export BI_A BI_B
	bi_home alice && bi_home bob && bi_home fresh || return 1
	NC_HOME=$BI/alice nc-keygen alice@a.test >/dev/null || return 1
	NC_HOME=$BI/bob nc-keygen bob@b.test >/dev/null || return 1
	echo hi | NC_HOME=$BI/alice nc-send bob@b.test >/dev/null || return 1
	NC_HOME=$BI/bob nc-recv >/dev/null || return 1
	echo "the genuine one" | NC_HOME=$BI/alice nc-send -o - bob@b.test >"$BI/E.asc" || return 1
	sed '1d;$d' "$BI/E.asc" | base64 -d >"$BI/E.bin"
}

bi_spawn() {   # NAME DOMAIN -> URL
	mkdir -p "$BI/relay-$1"
	nc-relayd -d "$BI/relay-$1" -l 127.0.0.1:0 -D "$2" >"$BI/relay-$1.out" \
	    2>"$BI/relay-$1.err" 3>&- &
	echo $! >>"$BI/pids"
	local i
	for i in $(seq 1 100); do
		[ -s "$BI/relay-$1.out" ] && { head -n 1 "$BI/relay-$1.out"; return 0; }
		sleep 0.05
	done
	return 1
}

bi_home() {
	mkdir -p -m 700 "$BI/$1"
	printf 'relay a.test %s\nrelay b.test %s\n' "$BI_A" "$BI_B" >"$BI/$1/config"
}

bi_world_stop() {
	[ -f "${BI:-/nonexistent}/pids" ] || return 0
	local p
	while read -r p; do kill "$p" 2>/dev/null; done <"$BI/pids"
	while read -r p; do
		for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done <"$BI/pids"
	return 0
}

bi_world_check() {
	[ -z "${BI_SKIP:-}" ] || skip "needs $BI_SKIP (not yet landed)"
}

# hstate DIR: a device's stored state (sqlite dumps, other files' sums).
hstate() {
	local f
	for f in "$1"/*.db; do
		[ -f "$f" ] && sqlite3 -readonly "$f" .dump
	done
	find "$1" -type f ! -name '*.db' ! -name '*.db-*' -exec cksum {} + 2>/dev/null | sort
}

# b64 FILE COLS: base64 of FILE in lines of COLS (0: one line).
b64() { base64 -w "$2" "$1"; }

# armor_text SPEC: printf SPEC with @BEGIN@ @END@ @B64@ (E.bin, 64 cols),
# @B64_n@ (n cols), @B64NONL@ (no final newline), @B64X:c@ (c put at
# column 10 of the first line), @HUGE@, @LONGLINE@, @RANDOM@.
armor_text() {
	local s=$1 x
	s=${s//@BEGIN@/-----BEGIN NEWCHAT ENVELOPE-----}
	s=${s//@END@/-----END NEWCHAT ENVELOPE-----}
	while [[ $s =~ @B64_([0-9]+)@ ]]; do
		s=${s/"${BASH_REMATCH[0]}"/$(b64 "$BI/E.bin" "${BASH_REMATCH[1]}")\\n}
	done
	if [[ $s =~ @B64X:([^@]+)@ ]]; then
		x=$(b64 "$BI/E.bin" 64)
		s=${s/"${BASH_REMATCH[0]}"/${x:0:10}${BASH_REMATCH[1]}${x:11}\\n}
	fi
	s=${s//@B64NONL@/$(b64 "$BI/E.bin" 64)}
	s=${s//@B64@/$(b64 "$BI/E.bin" 64)\\n}
	case $s in
	*@HUGE@*)
		printf -- "${s%%@HUGE@*}"
		head -c $((30 << 20)) /dev/zero | base64 -w 64
		printf -- "${s#*@HUGE@}"
		return ;;
	*@LONGLINE@*)
		printf -- "${s%%@LONGLINE@*}"
		head -c $((3 << 20)) /dev/zero | base64 -w 0
		printf -- "${s#*@LONGLINE@}"
		return ;;
	*@RANDOM@*)
		head -c 5000 /dev/urandom
		return ;;
	esac
	printf -- "$s"
}

# payload SPEC: bytes: hex tokens and *N:HH (as mkbody), @REAL@ (E.bin),
# @CUTn@ / @CUTHALF@ / @CUTM1@ / @CUTM16@, @TAIL1@ (all but byte 0),
# @RANDn@, @SWAP@, @ZEROTAIL@.
payload() {
	local t len
	len=$(stat -c %s "$BI/E.bin")
	for t in $1; do
		case $t in
		@REAL@) cat "$BI/E.bin" ;;
		@CUTHALF@) head -c $((len / 2)) "$BI/E.bin" ;;
		@CUTM1@) head -c $((len - 1)) "$BI/E.bin" ;;
		@CUTM16@) head -c $((len - 16)) "$BI/E.bin" ;;
		@CUT*@) t=${t#@CUT}; head -c "${t%@}" "$BI/E.bin" ;;
		@TAIL1@) tail -c +2 "$BI/E.bin" ;;
		@RAND*@) t=${t#@RAND}; head -c "${t%@}" /dev/urandom ;;
		@SWAP@) tail -c +$((len / 2 + 1)) "$BI/E.bin"; head -c $((len / 2)) "$BI/E.bin" ;;
		@ZEROTAIL@) head -c $((len - 16)) "$BI/E.bin"; head -c 16 /dev/zero ;;
		*) mkbody "$t" ;;
		esac
	done
}

# check_err WANT RC ERRFILE CMD: the exit code, no death by signal, and
# the error: one "nc-xxx: reason" line, optionally followed by
# "nc-xxx: hint: ..." lines; for a usage error (64) the usage text may
# stand in for or follow the reason.
check_err() {
	local want=$1 rc=$2 err=$3 cmd=$4
	echo "exit $rc; stderr:"; head -c 600 "$err"; echo
	[ "$rc" -lt 128 ]                                   # no signal death
	[ "$rc" -eq "$want" ]
	[ -s "$err" ]
	if [ "$want" -eq 64 ]; then
		head -n 1 "$err" | grep -qE "^($cmd: .|usage: $cmd)"
		! tail -n +2 "$err" | grep -vqE '^(usage: |  |       |'"$cmd"': hint: )'
	else
		head -n 1 "$err" | grep -qE "^$cmd: ."          # "nc-xxx: reason"
		! tail -n +2 "$err" | grep -vqE "^$cmd: hint: "
	fi
}

# arm WANT SPEC: bob reads armor SPEC with nc-recv -.
arm() {
	local rc=0 before after
	armor_text "$2" >"$BI/in"
	before=$(hstate "$BI/bob")
	NC_HOME=$BI/bob nc-recv - <"$BI/in" >"$BI/out" 2>"$BI/err" || rc=$?
	after=$(hstate "$BI/bob")
	check_err "$1" "$rc" "$BI/err" nc-recv
	[ ! -s "$BI/out" ]                                  # nothing printed
	[ "$before" = "$after" ]
}

# pay SPEC: a well-formed armor block whose payload is SPEC: forged (1),
# an alarm on stdout, no message.
pay() {
	local rc=0 before after
	payload "$1" >"$BI/p.bin"
	{
		echo "-----BEGIN NEWCHAT ENVELOPE-----"
		base64 -w 64 "$BI/p.bin"
		echo "-----END NEWCHAT ENVELOPE-----"
	} >"$BI/in"
	before=$(hstate "$BI/bob")
	NC_HOME=$BI/bob nc-recv --json - <"$BI/in" >"$BI/out" 2>"$BI/err" || rc=$?
	after=$(hstate "$BI/bob")
	check_err 1 "$rc" "$BI/err" nc-recv
	grep -q '"type":"alarm"' "$BI/out"
	! grep -q '"type":"message"' "$BI/out"
	! grep -q 'the genuine one' "$BI/out"
	[ "$before" = "$after" ]
}

# cmdcase WANT STDIN WHO CMD [ARGS...]: WHO's NC_HOME (bob, fresh).
cmdcase() {
	local want=$1 in=$2 who=$3 c=$4 rc=0 before after
	shift 4
	case $in in
	@BIGMSG@) head -c $((64 * 1024 + 1)) /dev/zero | tr '\0' a >"$BI/in" ;;
	*) printf "$in" >"$BI/in" ;;
	esac
	before=$(hstate "$BI/$who")
	NC_HOME=$BI/$who "$c" "$@" <"$BI/in" >"$BI/out" 2>"$BI/err" || rc=$?
	after=$(hstate "$BI/$who")
	check_err "$want" "$rc" "$BI/err" "$c"
	[ "$before" = "$after" ]
}

# cfgcase WANT SPEC: a copy of bob's device with config SPEC; nc-recv.
cfgcase() {
	local rc=0 h=$BI/cfg before after i
	rm -rf "$h"
	cp -a "$BI/bob" "$h"
	case $2 in
	*@LONGURL@*) printf "${2//@LONGURL@/http://$(printf 'x%.0s' {1..3000})}" ;;
	@LONGCFG@) for i in $(seq 1 1200); do printf '# %060d\n' 0; done ;;
	@MANYLINES@) for i in $(seq 1 1001); do echo "#"; done ;;
	@BINARY@) head -c 3000 /dev/urandom ;;
	*) printf "$2" ;;
	esac >"$h/config"
	before=$(hstate "$h")
	NC_HOME=$h nc-recv >"$BI/out" 2>"$BI/err" || rc=$?
	after=$(hstate "$h")
	check_err "$1" "$rc" "$BI/err" nc-recv
	[ "$before" = "$after" ]
}

# NC_HOME cases: nc-recv refuses the directory before touching anything.
home_try() {   # WANT [env assignments...]
	local want=$1 rc=0
	shift
	env "$@" nc-recv >"$BI/out" 2>"$BI/err" || rc=$?
	check_err "$want" "$rc" "$BI/err" nc-recv
}
home_relative() { (cd "$BI" && home_try "$1" NC_HOME=bob); }
home_file() { : >"$BI/afile"; home_try "$1" NC_HOME="$BI/afile"; }
home_open() {
	rm -rf "$BI/open"; cp -a "$BI/bob" "$BI/open"; chmod 755 "$BI/open"
	home_try "$1" NC_HOME="$BI/open"
}
home_group() {
	rm -rf "$BI/grp"; cp -a "$BI/bob" "$BI/grp"; chmod 770 "$BI/grp"
	home_try "$1" NC_HOME="$BI/grp"
}
home_other() {
	rm -rf "$BI/other"; cp -a "$BI/bob" "$BI/other"; chown -R 65534:65534 "$BI/other"
	home_try "$1" NC_HOME="$BI/other"
}
home_unset() { home_try "$1" -u NC_HOME -u HOME -u XDG_DATA_HOME; }
home_symlink_open() {
	rm -rf "$BI/wide" "$BI/link"; cp -a "$BI/bob" "$BI/wide"; chmod 777 "$BI/wide"
	ln -s "$BI/wide" "$BI/link"
	home_try "$1" NC_HOME="$BI/link"
}
home_long() { home_try "$1" NC_HOME="/$(printf 'd%.0s' {1..5000})"; }
