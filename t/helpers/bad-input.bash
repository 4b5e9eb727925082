# t/helpers/bad-input.bash - the bad-input catalogue's helpers: one relay
# for a whole file, requests from case tables, and the checks every case
# shares (status, one-line reason, relay alive, stored state unchanged).

: "${NC_BIN:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build}"
PATH=$NC_BIN:$PATH

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
	find "$BI/relay" -type f ! -name '*-shm' -printf '%P %s %T@\n' | sort
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
	else
		mkbody "$(expand "$body")" >"$BI/body"
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
	before=$(rstate)
	code=$(curl -sS --path-as-is -o "$BI/resp" -D "$BI/hdrs" -w '%{http_code}' \
	    -X "$m" -H 'Expect:' -H 'Content-Type: application/octet-stream' \
	    "${hs[@]}" "$URL$path" 2>"$BI/curl.err") || true
	# (a relay that refuses a large body early closes while curl still
	# sends: curl fails, but the status came back)
	after=$(rstate)
	echo "status $code, reason: $(head -c 300 "$BI/resp")"
	kill -0 "$RPID"                          # no crash
	[[ $code =~ ^($want)$ ]]
	if [ "$before" != "$after" ]; then      # written: same logical state?
		rdump >"$BI/now"
		diff "$BI/ref" "$BI/now" || { echo "stored state changed"; return 1; }
	fi
	if grep -qi '^content-type: text/plain' "$BI/hdrs"; then
		lines=$(tr -cd '\n' <"$BI/resp" | wc -c)
		[ "$lines" -le 1 ]                   # one line
		[ -s "$BI/resp" ]                    # with a reason
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
