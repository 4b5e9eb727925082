#!/usr/bin/env bats
# nc-media over a network that cuts connections part-way (nc-hostile's cut
# action between the client and a real relay): an upload cut at ~10%, ~50%
# and ~90% resumes at the last segment the relay acknowledged - the relay's
# own offset route says where, and the bytes the proxy forwarded show
# nothing was sent again but the cut segment's - and a download cut
# part-way resumes with Range. Each ends with a verified file. A link
# slowed down by the proxy shows the progress bar's time left.

load helpers/relay
load helpers/client

SEG=262144   # NC_MEDIA_SEGMENT: a 4 MiB file is 17 acknowledged appends

setup_file() {
	world_up
	mkuser alice alice@a.test
	mkdir -p "$W/rec"
	: >"$W/script"
	nc-hostile -l 127.0.0.1:0 -u "$RELAY_URL_a" -s "$W/script" -r "$W/rec" \
	    >"$W/hostile.out" 2>"$W/hostile.err" 3>&- &
	echo $! >"$W/hostile.pid"
	for _ in $(seq 100); do [ -s "$W/hostile.out" ] && break; sleep 0.05; done
	head -n 1 "$W/hostile.out" >"$W/hostile.url"
	[ -s "$W/hostile.url" ]
	# alice's relay is reached through the proxy from now on
	sed -i "s|^relay a.test .*|relay a.test $(cat "$W/hostile.url")|" "$W/alice/config"
	head -c 4194304 /dev/urandom >"$W/f"
}

teardown_file() {
	[ -f "$W/hostile.pid" ] && kill "$(cat "$W/hostile.pid")" 2>/dev/null
	world_down
}

setup() {
	world_load
	H=$(cat "$W/hostile.url")
	OUT=$BATS_TEST_TMPDIR/out
	rm -rf "$OUT"
	mkdir -p "$OUT"
	: >"$W/script"
	curl -s -X POST "$H/_hostile/reset" >/dev/null
	touch "$W/rec/log"
	LOG0=$(wc -l <"$W/rec/log")
}

# newlog: the proxy's log lines since the test began.
newlog() { tail -n +$((LOG0 + 1)) "$W/rec/log"; }

# linkid LINK / linksize LINK
linkid() { local u=${1%%#*}; echo "${u##*/}"; }
linksize() { echo "${1##*&n=}"; }

# direct LINK: the same link at the relay itself, not through the proxy.
direct() { echo "${1/#$H/$RELAY_URL_a}"; }

# fwd N: the bytes the proxy forwarded for exchange N (what it sent when it
# changed the body, else what it received).
fwd() {
	local f=$W/rec/$1
	if [ -f "$f.sent" ]; then stat -c %s "$f.sent"; else stat -c %s "$f.req"; fi
}

# cut_upload PERCENT: put $W/f with the connection cut PERCENT% into the
# ciphertext; check the resume at the relay and the file fetched back.
cut_upload() {
	local pct=$1 n pos k after off link id line num cutline bytes
	# the ciphertext's size: the same file put without a cut first
	n=$(linksize "$(as alice nc-media put "$W/f")")
	pos=$((n * pct / 100))
	k=$((pos / SEG + 1))
	after=$((pos % SEG))
	off=$(((k - 1) * SEG))
	: >"$W/script"
	curl -s -X POST "$H/_hostile/reset" >/dev/null
	LOG0=$(wc -l <"$W/rec/log")
	echo "cut PATCH /v1/blobs/* n=$k after=$after" >"$W/script"
	link=$(NC_MEDIA_SEGMENT=$SEG as alice nc-media -q put "$W/f") || return 1
	: >"$W/script"
	id=$(linkid "$link")
	[ "$(linksize "$link")" -eq "$n" ]
	newlog >"$BATS_TEST_TMPDIR/log"
	# every append before the cut taken at once (the relay lets an
	# upload's lock go before it answers, so the next append never finds
	# it held: a 409, a backoff and one more PATCH than counted)
	sed -n "/ cut /q;p" "$BATS_TEST_TMPDIR/log" | grep " PATCH " | grep -v " 200 pass$" &&
	    return 1
	# one cut, where it was asked for, in the segment at off
	cutline=$(grep " cut " "$BATS_TEST_TMPDIR/log")
	[ "$(printf '%s\n' "$cutline" | wc -l)" -eq 1 ] || { cat "$BATS_TEST_TMPDIR/log"; return 1; }
	[[ "$cutline" == *" PATCH /v1/blobs/$id?offset=$off 0 cut $after/"* ]] ||
	    { echo "$cutline"; return 1; }
	# then the client asked the relay where it got to: its offset route
	# answered off (not 0: what was acknowledged before the cut is kept)
	num=$(grep -A1 -F "$cutline" "$BATS_TEST_TMPDIR/log" | tail -n 1 | cut -d' ' -f1)
	line=$(grep "^$num " "$BATS_TEST_TMPDIR/log")
	[[ "$line" == "$num GET /v1/blobs/$id/upload 200 pass" ]] || { echo "$line"; return 1; }
	[ "$(head -n 1 "$W/rec/$num.resp")" = "offset $off" ] || { cat "$W/rec/$num.resp"; return 1; }
	[ "$off" -gt 0 ]
	# and resumed there
	grep -A2 -F "$cutline" "$BATS_TEST_TMPDIR/log" | grep -q " PATCH /v1/blobs/$id?offset=$off 200 pass$"
	# nothing sent again but the cut segment's first bytes: the relay
	# received n + after bytes in all, and one create
	bytes=0
	for num in $(grep " PATCH /v1/blobs/$id?" "$BATS_TEST_TMPDIR/log" | cut -d' ' -f1); do
		bytes=$((bytes + $(fwd "$num")))
	done
	[ "$bytes" -eq $((n + after)) ] || { echo "forwarded $bytes, want $((n + after))"; return 1; }
	[ "$(grep -c " POST /v1/blobs/$id?length=$n 201 " "$BATS_TEST_TMPDIR/log")" -eq 1 ]
	[ "$(grep -c " POST " "$BATS_TEST_TMPDIR/log")" -eq 1 ]
	# the relay holds the whole upload, and it verifies
	[ "$(curl -s "$RELAY_URL_a/v1/blobs/$id/upload")" = "offset $n
length $n" ]
	rm -f "$OUT/f"
	as alice nc-media -q get "$(direct "$link")" -o "$OUT"
	cmp "$W/f" "$OUT/f"
}

@test "media resume: an upload cut at ~10% resumes at the relay's offset" {
	cut_upload 10
}

@test "media resume: an upload cut at ~50% resumes at the relay's offset" {
	cut_upload 50
}

@test "media resume: an upload cut at ~90% resumes at the relay's offset" {
	cut_upload 90
}

@test "media resume: a download cut part-way resumes with Range and verifies" {
	local link n after pct num
	link=$(as alice nc-media put "$W/f")
	n=$(linksize "$link")
	for pct in 10 50 90; do
		after=$((n * pct / 100))
		curl -s -X POST "$H/_hostile/reset" >/dev/null
		LOG0=$(wc -l <"$W/rec/log")
		echo "cut GET /v1/blobs/* n=1 after=$after" >"$W/script"
		rm -f "$OUT/f"
		as alice nc-media -q get "$link" -o "$OUT"
		: >"$W/script"
		cmp "$W/f" "$OUT/f"
		newlog >"$BATS_TEST_TMPDIR/log"
		# two GETs: the first cut after `after` bytes of n, the second a
		# 206 holding exactly the rest
		[ "$(wc -l <"$BATS_TEST_TMPDIR/log")" -eq 2 ] || { cat "$BATS_TEST_TMPDIR/log"; false; }
		[[ "$(head -n 1 "$BATS_TEST_TMPDIR/log")" == *" GET /v1/blobs/$(linkid "$link") 200 cut $after/$n" ]]
		[[ "$(tail -n 1 "$BATS_TEST_TMPDIR/log")" == *" GET /v1/blobs/$(linkid "$link") 206 pass" ]]
		num=$(tail -n 1 "$BATS_TEST_TMPDIR/log" | cut -d' ' -f1)
		[ "$(stat -c %s "$W/rec/$num.resp")" -eq $((n - after)) ]
	done
	# nothing left beside the file
	[ "$(ls -A "$OUT")" = f ]
}

@test "media resume: a resumed download answered from another place than asked -> 65, nothing written" {
	local link n id
	link=$(as alice nc-media put "$W/f")
	n=$(linksize "$link")
	id=$(linkid "$link")
	# the second answer is the whole blob again, as a 206 with no range
	printf '%s\n' "cut GET /v1/blobs/* n=1 after=$((n / 2))" \
	    "replace GET /v1/blobs/* n=2 status=206 file=$RELAY_DIR_a/blobs/$id" >"$W/script"
	run as alice nc-media get "$link" -o "$OUT"
	: >"$W/script"
	[ "$status" -eq 65 ]
	[ "$output" = "nc-media: relay answered a range that was not asked for" ]
	[ -z "$(ls -A "$OUT")" ]
}

@test "media: the progress bar on a slow link: size, rate and time left on stderr when it is a terminal" {
	local link
	head -c 262144 /dev/urandom >"$BATS_TEST_TMPDIR/g"
	# the first append and the first fetch held 300 ms: the bar drawn
	# after them has a rate to tell the time left by
	printf '%s\n' "delay PATCH /v1/blobs/* n=1 ms=300" "delay GET /v1/blobs/* n=1 ms=300" >"$W/script"
	run script -qec "NC_MEDIA_SEGMENT=65536 NC_HOME='$W/alice' nc-media put '$BATS_TEST_TMPDIR/g' >'$BATS_TEST_TMPDIR/link'" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" =~ uploading\ [0-9.]+\ KiB\ /\ [0-9.]+\ KiB\ \ [0-9.]+\ [KMG]?i?B/s\ \ 0:[0-9][0-9]\ left ]]
	[[ "$output" =~ uploading\ [0-9.]+\ KiB\ in\ [0-9.]+\ s\ \([0-9.]+\ [KMG]?i?B/s\) ]]
	link=$(cat "$BATS_TEST_TMPDIR/link")
	run script -qec "NC_HOME='$W/alice' nc-media get '$link' -o '$OUT'" /dev/null </dev/null
	: >"$W/script"
	[ "$status" -eq 0 ]
	[[ "$output" =~ downloading\ [0-9.]+\ KiB\ /\ [0-9.]+\ KiB\ \ [0-9.]+\ [KMG]?i?B/s\ \ 0:[0-9][0-9]\ left ]]
	cmp "$BATS_TEST_TMPDIR/g" "$OUT/g"
	# not a terminal: no bar, only the line saying what was fetched
	as alice nc-media get "$(direct "$link")" -o - 2>"$BATS_TEST_TMPDIR/err" |
	    cmp - "$BATS_TEST_TMPDIR/g"
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "nc-media: g (262144 bytes, application/octet-stream)" ]
}

@test "media: NC_PROXY is honoured: put (create and appends) and get go through it" {
	local link id pid
	python3 "$BATS_TEST_DIRNAME/helpers/fwd-proxy.py" "$W/fwd.log" \
	    >"$W/fwd.out" 2>"$W/fwd.err" 3>&- &
	pid=$!
	for _ in $(seq 1 100); do [ -s "$W/fwd.out" ] && break; sleep 0.05; done
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/p"
	link=$(NC_PROXY=$(head -n 1 "$W/fwd.out") NC_MEDIA_SEGMENT=131072 \
	    as alice nc-media -q put "$BATS_TEST_TMPDIR/p")
	rm -f "$OUT/p"
	NC_PROXY=$(head -n 1 "$W/fwd.out") as alice nc-media -q get "$link" -o "$OUT"
	kill "$pid"
	cmp "$BATS_TEST_TMPDIR/p" "$OUT/p"
	id=$(linkid "$link")
	grep -q "^POST $H/v1/blobs/$id?length=[0-9]* 201$" "$W/fwd.log"
	[ "$(grep -c "^PATCH $H/v1/blobs/$id?offset=[0-9]* 200$" "$W/fwd.log")" -eq 2 ]
	grep -q "^GET $H/v1/blobs/$id 200$" "$W/fwd.log"
}

# An append is written into the upload's file as it arrives and counted
# only once synced: a body cut short, or a relay killed amid one, leaves
# the offset at the last acknowledged append - the bytes past it on disk
# never count - and the upload goes on from there to a whole blob.
@test "media resume: an append cut short or cut by a relay crash leaves the acknowledged offset" {
	local id u b=$BATS_TEST_TMPDIR/b part port
	id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	u=$RELAY_URL_a/v1/blobs/$id
	part=$RELAY_DIR_a/blobs/$id.part
	head -c 300000 /dev/urandom >"$b"
	curl -sf -X POST -H "X-NC-Delete-Hash: $(printf '%064d' 0)" "$u?length=300000"
	[ "$(head -c 100000 "$b" | curl -sf -X PATCH --data-binary @- "$u?offset=0")" = "offset 100000" ]
	port=${RELAY_URL_a##*:}
	# half of a 100000-byte append, then the sender waits: the bytes are
	# in the file, not in the offset
	halfway() {
		exec 7<>"/dev/tcp/127.0.0.1/$port"
		printf 'PATCH /v1/blobs/%s?offset=100000 HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n' "$id" >&7
		tail -c +100001 "$b" | head -c 50000 >&7
		for _ in $(seq 200); do [ "$(stat -c %s "$part")" -ge 150000 ] && break; sleep 0.02; done
		[ "$(stat -c %s "$part")" -eq 150000 ]
		[ "$(curl -s "$u/upload")" = "offset 100000
length 300000" ]
	}
	halfway
	exec 7>&-   # the sender goes: the relay cuts what it did not count
	for _ in $(seq 200); do [ "$(stat -c %s "$part")" -eq 100000 ] && break; sleep 0.02; done
	[ "$(stat -c %s "$part")" -eq 100000 ]
	[ "$(curl -s "$u/upload")" = "offset 100000
length 300000" ]
	halfway
	relay_kill a   # amid the append
	exec 7>&-
	relay_restart a
	world_save
	# the half append is still on disk, and does not count
	[ "$(stat -c %s "$part")" -eq 150000 ]
	[ "$(curl -s "$u/upload")" = "offset 100000
length 300000" ]
	# at another offset: told where the upload is
	[ "$(tail -c +150001 "$b" | curl -s -X PATCH --data-binary @- "$u?offset=150000")" = "offset 100000: append at the upload's offset" ]
	[ "$(tail -c +100001 "$b" | curl -sf -X PATCH --data-binary @- "$u?offset=100000")" = "offset 300000" ]
	[ ! -e "$part" ] && [ ! -e "${part%.part}.off" ]
	curl -sf "$u" | cmp - "$b"
}
