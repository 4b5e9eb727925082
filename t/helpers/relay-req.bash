# relay-req.bash - curl wrappers for relay tests (needs relay.bash first).
#   U: the relay's base URL; T: a scratch dir ($BATS_TEST_TMPDIR by default).
#   req METHOD PATH [BODYFILE] [curl args]   prints the status; body in $T/resp
#   sreq KEYDIR METHOD PATH [BODYFILE]       the same, device-signed
#   newuser NAME [INVITE]                    keys in $T/NAME, registered
#   devid NAME                               the device id of $T/NAME
#   adddev USER NAME [DOMAIN]                a second device of USER (keys
#                                            in $T/NAME) added: 201
#   mailbox_ids KEYDIR USER DEV OUT          every envelope id listed, page
#                                            by page, into OUT (sorted)

req() {
	local m=$1 p=$2 body=${3:-}
	shift 3 2>/dev/null || shift $#
	if [ -n "$body" ]; then
		curl -s -o "${T:-$BATS_TEST_TMPDIR}/resp" -w '%{http_code}' -X "$m" \
		    -H 'Content-Type: application/octet-stream' --data-binary @"$body" "$@" "$U$p"
	else
		curl -s -o "${T:-$BATS_TEST_TMPDIR}/resp" -w '%{http_code}' -X "$m" "$@" "$U$p"
	fi
}

# Each signed request gets its own second (now + a counter kept in a file,
# since callers run us in $(...)), so equal requests are not replays.
sreq() {
	local dir=$1 m=$2 p=$3 body=${4:-}
	local t=${T:-$BATS_TEST_TMPDIR} n
	n=$(( $(cat "$t/.sreq" 2>/dev/null || echo 0) + 1 ))
	echo "$n" >"$t/.sreq"
	NCREQ_TIME=$(( $(date +%s) + n % 250 )) ncreq sign "$dir" "$m" "$p" $body \
	    >"$t/hdr.$$" || return 1
	req "$m" "$p" "$body" -H @"$t/hdr.$$"
}

newuser() {
	local t=${T:-$BATS_TEST_TMPDIR}
	mkdir -p "$t/$1"
	ncreq keygen "$t/$1"
	ncreq register "$t/$1" ${2:-} >"$t/$1/reg"
	[ "$(req POST "/v1/users/$1" "$t/$1/reg")" = 201 ]
}

adddev() {
	local t=${T:-$BATS_TEST_TMPDIR}
	mkdir -p "$t/$2"
	ncreq keygen "$t/$2"
	[ "$(req POST "/v1/users/$1/challenge")" = 200 ] || return 1
	ncreq adddev "$t/$1" "$t/$2" "$1@${3:-a.test}" "$t/resp" >"$t/add"
	[ "$(req POST "/v1/users/$1/devices" "$t/add")" = 201 ]
}

devid() {
	ncreq devid "${T:-$BATS_TEST_TMPDIR}/$1"
}

mailbox_ids() {
	local dir=$1 user=$2 dev=$3 out=$4 after=0 t=${T:-$BATS_TEST_TMPDIR}
	: >"$out.u"
	while :; do
		[ "$(sreq "$dir" GET "/v1/users/$user/devices/$dev/mailbox?after=$after")" = 200 ] ||
			return 1
		ncreq show mailbox "$t/resp" >"$t/page"
		[ -s "$t/page" ] || break
		awk '{print $2}' "$t/page" >>"$out.u"
		after=$(tail -n 1 "$t/page" | awk '{print $1}')
	done
	sort "$out.u" >"$out"
	rm -f "$out.u"
}
