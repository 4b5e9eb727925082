#!/usr/bin/env bats
# The tree keeps its shape: lib/ is layered (proto: encodings and
# cryptography, no I/O; store: sqlite state; net: HTTP to relays; app: the
# commands' shared logic), and a clone tests itself with nothing beside it.

setup() { cd "$BATS_TEST_DIRNAME/.."; }

@test "layout: every lib source lives in one of the four layers" {
	run find lib -maxdepth 1 -type f
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run find lib -mindepth 1 -maxdepth 1 -type d
	[ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = "lib/app lib/net lib/proto lib/store " ]
}

@test "layout: lib/proto includes nothing but itself and system headers" {
	local f h bad=
	for f in lib/proto/*.[ch]; do
		for h in $(sed -nE 's/^#include "([^"]+)".*/\1/p' "$f"); do
			[ -e "lib/proto/$h" ] || bad="$bad $f:$h"
		done
	done
	[ -z "$bad" ] || { echo "outside proto:$bad"; false; }
}

@test "layout: lib/proto does no I/O of its own (no files, sockets, sqlite or curl)" {
	run grep -nE '\b(fopen|open|read|write|socket|connect|sqlite3_[a-z_]+|curl_[a-z_]+)\(' lib/proto/*.c
	[ "$status" -eq 1 ]
}

@test "layout: nothing in the build or the tests reads ../shared" {
	run grep -rlE --exclude=0000-layout.bats '\.\./shared|\$SHARED|getenv\("SHARED"\)' Makefile t lib cmd
	[ "$status" -eq 1 ]
}
