#!/usr/bin/env bats
# T9: the attacker obtains all session keys of two participants at a point
# (both devices' states stolen together).
# Mechanism: keys deleted after use; the state holds only current chains.
# Shows: no ciphertext captured before the theft opens with either stolen
# state, in either direction, including the first (X3DH) message; nor with
# any older snapshot the thief can rebuild from the copied state.db-wal
# (issue 14 item 4: the WAL is checkpointed and truncated after session
# changes, so it holds no earlier ratchet state).

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	local i
	for i in 1 2 3; do
		seal alice bob@b.test "t09-a$i" "$W/a$i.asc"
		as bob nc-recv --json - <"$W/a$i.asc" >>"$W/o"
		seal bob alice@a.test "t09-b$i" "$W/b$i.asc"
		as alice nc-recv --json - <"$W/b$i.asc" >>"$W/o"
	done
	steal alice alice-stolen
	steal bob bob-stolen
}

# opens_from_wal COPY FILE TEXT: 0 if any older snapshot rebuilt from
# COPY's state.db-wal (the log cut after each of its commit frames, the
# wal-index dropped so sqlite reads the log again) prints TEXT from FILE.
opens_from_wal() {
	local wal=$W/$1/state.db-wal ps n i off
	[ -s "$wal" ] || return 1
	ps=$(od -An -tu4 --endian=big -j8 -N4 "$wal" | tr -d ' ')
	n=$((($(stat -c %s "$wal") - 32) / (24 + ps)))
	for ((i = 1; i <= n; i++)); do
		off=$((32 + (i - 1) * (24 + ps)))
		# a commit frame records the database size after it
		[ "$(od -An -tu4 --endian=big -j$((off + 4)) -N4 "$wal" | tr -d ' ')" != 0 ] ||
			continue
		rm -rf "${W:?}/.snap"
		cp -a "$W/$1" "$W/.snap"
		rm -f "$W/.snap/state.db-shm"
		truncate -s $((off + 24 + ps)) "$W/.snap/state.db-wal"
		if opens .snap "$2" "$3"; then
			echo "# opened with the snapshot of WAL frame $i of $n" >&3
			return 0
		fi
	done
	return 1
}

@test "T9: all six messages were read before the theft" {
	[ "$(grep -c '"type":"message"' "$W/o")" -eq 6 ]
}

@test "T9: bob's stolen state opens none of alice's old messages (first one included)" {
	local i
	for i in 1 2 3; do
		! opens bob-stolen "$W/a$i.asc" "t09-a$i"
	done
}

@test "T9: alice's stolen state opens none of bob's old messages" {
	local i
	for i in 1 2 3; do
		! opens alice-stolen "$W/b$i.asc" "t09-b$i"
	done
}

@test "T9: a sender's stolen state cannot open what it sent" {
	! opens alice-stolen "$W/a3.asc" t09-a3
	! opens bob-stolen "$W/b3.asc" t09-b3
}

@test "T9: control: the stolen states are working devices (they open new mail)" {
	seal alice bob@b.test "t09-new-a" "$W/na.asc"
	opens bob-stolen "$W/na.asc" t09-new-a
	seal bob alice@a.test "t09-new-b" "$W/nb.asc"
	opens alice-stolen "$W/nb.asc" t09-new-b
}

@test "T9: no older state rebuilt from the stolen WAL opens an old message" {
	local i
	for i in 1 2 3; do
		! opens_from_wal bob-stolen "$W/a$i.asc" "t09-a$i"
		! opens_from_wal alice-stolen "$W/b$i.asc" "t09-b$i"
	done
}
