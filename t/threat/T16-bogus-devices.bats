#!/usr/bin/env bats
# T16: the attacker adds bogus users or devices.
# Mechanism: registration rate limits; adding a device needs the password;
# device lists are signed by the user's identity key and pinned on first
# use; a user's own devices report every device added to the account.
# Shows: a bogus device never receives a message; a device added with a
# stolen password is reported to the owner; mass registration is refused.

load lib

world_setup() {
	evil_start a.test
	user alice alice@a.test
	user bob bob@b.test
	echo "t16-hello" | as bob nc-send alice@a.test   # bob pins alice's key
	as alice nc-recv >/dev/null
	# mallory's own "alice@a.test" on the attacker's relay: a genuinely
	# signed list, with mallory's identity key and her device
	user mal-alice alice@a.test a.test="$HE_URL"
	curl -sf -o "$W/mal.devlist" "$EVIL_URL/v1/users/alice/devicelist"
	curl -sf -o "$W/alice.devlist" "$A_URL/v1/users/alice/devicelist"
}

@test "T16: a device added without the password is refused; the list is unchanged" {
	mkdir -p "$W/fake"
	chmod 700 "$W/fake"
	cp "$W/alice/config" "$W/fake/config"
	run env NC_PASSWORD=wrong-guess NC_HOME="$W/fake" nc-keygen alice@a.test
	echo "$output"
	[ "$status" -eq 77 ]
	one_line_err "$output"
	curl -sf -o "$W/now.devlist" "$A_URL/v1/users/alice/devicelist"
	cmp "$W/alice.devlist" "$W/now.devlist"
}

@test "T16: a device list listing the attacker's device is refused; it gets nothing" {
	local before
	before=$(deliveries a | wc -l)
	# bob delivers with the list he pinned; to make him fetch another,
	# the attacker must refuse that delivery (410: "not a listed device").
	: >"$W/empty"
	hostile a "replace POST /v1/users/alice/deliver status=410 file=$W/empty
replace GET /v1/users/alice/devicelist file=$W/mal.devlist"
	run as bob nc-send alice@a.test <<<"t16-to-bogus"
	hostile a ""
	echo "$output"
	[ "$status" -eq 1 ]
	one_line_err "$output"
	grep -q ' GET /v1/users/alice/devicelist 200 replace' "$W/rec-a/log"
	[ "$(deliveries a | grep -vc ' replace$')" -eq "$before" ]
	# mallory's device on her own relay got nothing either
	run env NC_HOME="$W/mal-alice" nc-recv --json
	[[ "$output" != *t16-to-bogus* ]]
}

@test "T16: a device added with a stolen password is reported to the owner" {
	user thief alice@a.test
	local dev
	dev=$(devlist_dev "$W/alice.devlist")
	run as alice nc-recv --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_type device)" -eq 1 ]
	local ev
	ev=$(printf '%s\n' "$output" | grep '"type":"device"')
	[ "$(jq -r .user <<<"$ev")" = alice@a.test ]
	[ "$(jq -r .status <<<"$ev")" = added ]
	# the reported device is the thief's, not alice's own
	[[ "$(jq -r .device <<<"$ev")" =~ ^[0-9a-f]{32}$ ]]
	[ "$(jq -r .device <<<"$ev")" != "$dev" ]
	as thief nc-keys show alice@a.test | grep -q "$(jq -r .device <<<"$ev")"
}

@test "T16: mass registration from one address is refused (429)" {
	local i code ok=0 limited=0
	for i in $(seq 1 14); do
		mkdir -p "$W/reg$i"
		ncreq keygen "$W/reg$i"
		ncreq register "$W/reg$i" >"$W/reg$i/body"
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
		    --data-binary @"$W/reg$i/body" "$A_URL/v1/users/bogus$i")
		case $code in
		201) ok=$((ok + 1)) ;;
		429) limited=$((limited + 1)) ;;
		*) echo "unexpected $code"; false ;;
		esac
	done
	echo "201: $ok, 429: $limited"
	[ "$ok" -le 10 ]
	[ "$limited" -ge 4 ]
}
