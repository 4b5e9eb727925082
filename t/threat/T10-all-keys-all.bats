#!/usr/bin/env bats
# T10: the attacker obtains all session keys of all participants at a point.
# Mechanism: as T9, for every session.
# Shows: three users, all three pairs talking both ways; every state stolen;
# no captured ciphertext opens with any stolen state.

load lib

world_setup() {
	user alice alice@a.test
	user bob bob@b.test
	user carol carol@a.test
	local s r n=0
	for s in alice bob carol; do
		for r in alice bob carol; do
			[ "$s" = "$r" ] && continue
			local dom=a.test
			[ "$r" = bob ] && dom=b.test
			seal "$s" "$r@$dom" "t10-$s-$r" "$W/$s-$r.asc"
			as "$r" nc-recv --json - <"$W/$s-$r.asc" >>"$W/o"
		done
	done
	for s in alice bob carol; do steal "$s" "$s-stolen"; done
}

@test "T10: all six pairwise messages were read before the theft" {
	[ "$(grep -c '"type":"message"' "$W/o")" -eq 6 ]
}

@test "T10: no stolen state opens any captured ciphertext" {
	local f c opened=0 tried=0
	for f in "$W"/*-*.asc; do
		for c in alice bob carol; do
			tried=$((tried + 1))
			if opens "$c-stolen" "$f" "t10-$(basename "$f" .asc)"; then
				echo "opened $f with $c's stolen state"
				opened=$((opened + 1))
			fi
		done
	done
	echo "# $tried (envelope, stolen state) pairs tried" >&3
	[ "$tried" -eq 18 ]
	[ "$opened" -eq 0 ]
}

@test "T10: control: each stolen state opens new mail sent to it after the theft" {
	seal alice bob@b.test "t10-new-bob" "$W/new-bob.msg"
	seal bob carol@a.test "t10-new-carol" "$W/new-carol.msg"
	seal carol alice@a.test "t10-new-alice" "$W/new-alice.msg"
	opens bob-stolen "$W/new-bob.msg" t10-new-bob
	opens carol-stolen "$W/new-carol.msg" t10-new-carol
	opens alice-stolen "$W/new-alice.msg" t10-new-alice
}
