#!/usr/bin/env bats
# Bad input to the commands: one @test per malformed input - armor syntax
# (exit 65), armored payloads that are not envelopes (exit 1: forged),
# command lines (64), message texts (65), config files and NC_HOMEs (78).
# Each asserts the documented exit code, no death by signal, stderr of one
# "nc-xxx: reason" line (usage text may follow a 64), nothing on stdout
# where nothing may be printed, and the device's stored state unchanged.

load helpers/bad-input

setup_file() {
	bi_world_start
}

teardown_file() { bi_world_stop; }
setup() { bi_world_check; }

@test "cmd 001: armor: plain text" { arm 65 'hello\n'; }
@test "cmd 002: armor: BEGIN only" { arm 65 '@BEGIN@\n'; }
@test "cmd 003: armor: no END line" { arm 65 '@BEGIN@\n@B64@'; }
@test "cmd 004: armor: no BEGIN line" { arm 65 '@B64@@END@\n'; }
@test "cmd 005: armor: END before BEGIN" { arm 65 '@END@\n@BEGIN@\n@B64@@END@\n'; }
@test "cmd 006: armor: BEGIN twice" { arm 65 '@BEGIN@\n@BEGIN@\n@B64@@END@\n'; }
@test "cmd 007: armor: another label" { arm 65 '-----BEGIN NEWCHAT MESSAGE-----\n@B64@-----END NEWCHAT MESSAGE-----\n'; }
@test "cmd 008: armor: lowercase label" { arm 65 '-----begin newchat envelope-----\n@B64@-----end newchat envelope-----\n'; }
@test "cmd 009: armor: four dashes" { arm 65 '----BEGIN NEWCHAT ENVELOPE-----\n@B64@@END@\n'; }
@test "cmd 010: armor: six dashes on END" { arm 65 '@BEGIN@\n@B64@------END NEWCHAT ENVELOPE-----\n'; }
@test "cmd 011: armor: space after BEGIN" { arm 65 '@BEGIN@ \n@B64@@END@\n'; }
@test "cmd 012: armor: space before BEGIN" { arm 65 ' @BEGIN@\n@B64@@END@\n'; }
@test "cmd 013: armor: tab after END" { arm 65 '@BEGIN@\n@B64@@END@\t\n'; }
@test "cmd 014: armor: 76-column lines" { arm 65 '@BEGIN@\n@B64_76@@END@\n'; }
@test "cmd 015: armor: 63-column lines" { arm 65 '@BEGIN@\n@B64_63@@END@\n'; }
@test "cmd 016: armor: 65-column lines" { arm 65 '@BEGIN@\n@B64_65@@END@\n'; }
@test "cmd 017: armor: one long line" { arm 65 '@BEGIN@\n@B64_0@@END@\n'; }
@test "cmd 018: armor: blank line inside the block" { arm 65 '@BEGIN@\n\n@B64@@END@\n'; }
@test "cmd 019: armor: END glued to data" { arm 65 '@BEGIN@\n@B64NONL@@END@\n'; }
@test "cmd 020: armor: garbage on the END line" { arm 65 '@BEGIN@\n@B64@@END@garbage\n'; }
@test "cmd 021: armor: garbage before BEGIN" { arm 65 'junk\n@BEGIN@\n@B64@@END@\n'; }
@test "cmd 022: armor: CR-only line ends" { arm 65 '@BEGIN@\r@B64@@END@\r'; }
@test "cmd 023: armor: NUL byte before BEGIN" { arm 65 '\0@BEGIN@\n@B64@@END@\n'; }
@test "cmd 024: armor: BEGIN with a trailing NUL" { arm 65 '@BEGIN@\0\n@B64@@END@\n'; }
@test "cmd 025: armor: base64 with ! in line 1" { arm 65 '@BEGIN@\n@B64X:!@@END@\n'; }
@test "cmd 026: armor: base64 with - in line 1" { arm 65 '@BEGIN@\n@B64X:-@@END@\n'; }
@test "cmd 027: armor: base64 with _ (URL-safe) in line 1" { arm 65 '@BEGIN@\n@B64X:_@@END@\n'; }
@test "cmd 028: armor: base64 with * in line 1" { arm 65 '@BEGIN@\n@B64X:*@@END@\n'; }
@test "cmd 029: armor: base64 with . in line 1" { arm 65 '@BEGIN@\n@B64X:.@@END@\n'; }
@test "cmd 030: armor: base64 with a space in line 1" { arm 65 '@BEGIN@\n@B64X: @@END@\n'; }
@test "cmd 031: armor: base64 with a tab in line 1" { arm 65 '@BEGIN@\n@B64X:\t@@END@\n'; }
@test "cmd 032: armor: base64 with NUL in line 1" { arm 65 '@BEGIN@\n@B64X:\0@@END@\n'; }
@test "cmd 033: armor: base64 with UTF-8 e-acute in line 1" { arm 65 '@BEGIN@\n@B64X:\303\251@@END@\n'; }
@test "cmd 034: armor: base64 with byte 0xff in line 1" { arm 65 '@BEGIN@\n@B64X:\377@@END@\n'; }
@test "cmd 035: armor: base64 with ~ in line 1" { arm 65 '@BEGIN@\n@B64X:~@@END@\n'; }
@test "cmd 036: armor: base64 with a quote in line 1" { arm 65 '@BEGIN@\n@B64X:"@@END@\n'; }
@test "cmd 037: armor: base64 with a backslash in line 1" { arm 65 '@BEGIN@\n@B64X:\\@@END@\n'; }
@test "cmd 038: armor: base64 with = mid-line in line 1" { arm 65 '@BEGIN@\n@B64X:=@@END@\n'; }
@test "cmd 039: armor: base64 with a lone CR in line 1" { arm 65 '@BEGIN@\n@B64X:\r@@END@\n'; }
@test "cmd 040: armor: base64 with # in line 1" { arm 65 '@BEGIN@\n@B64X:#@@END@\n'; }
@test "cmd 041: armor: base64 missing padding" { arm 65 '@BEGIN@\nQQ\n@END@\n'; }
@test "cmd 042: armor: base64 one pad of two" { arm 65 '@BEGIN@\nQQ=\n@END@\n'; }
@test "cmd 043: armor: base64 three pads" { arm 65 '@BEGIN@\nQQ===\n@END@\n'; }
@test "cmd 044: armor: base64 three pads, one char" { arm 65 '@BEGIN@\nQ===\n@END@\n'; }
@test "cmd 045: armor: base64 non-canonical bits (QR==)" { arm 65 '@BEGIN@\nQR==\n@END@\n'; }
@test "cmd 046: armor: base64 non-canonical bits (QUJ=)" { arm 65 '@BEGIN@\nQUJ=\n@END@\n'; }
@test "cmd 047: armor: base64 leading pad" { arm 65 '@BEGIN@\n=QQ=\n@END@\n'; }
@test "cmd 048: armor: base64 only pads" { arm 65 '@BEGIN@\n====\n@END@\n'; }
@test "cmd 049: armor: base64 pad after a full quantum" { arm 65 '@BEGIN@\nQUFB=\n@END@\n'; }
@test "cmd 050: armor: base64 one character" { arm 65 '@BEGIN@\nQ\n@END@\n'; }
@test "cmd 051: armor: base64 data after padding" { arm 65 '@BEGIN@\nQUFBQQ==QUFB\n@END@\n'; }
@test "cmd 052: armor: base64 three characters" { arm 65 '@BEGIN@\nQUF\n@END@\n'; }
@test "cmd 053: armor: stream of 40 MiB of base64 lines" { arm 65 '@BEGIN@\n@HUGE@@END@\n'; }
@test "cmd 054: armor: a 4 MiB line" { arm 65 '@BEGIN@\n@LONGLINE@\n@END@\n'; }
@test "cmd 055: armor: binary garbage" { arm 65 '@RANDOM@'; }
@test "cmd 056: payload: nothing (an empty block)" { pay ''; }
@test "cmd 057: payload: one byte" { pay '01'; }
@test "cmd 058: payload: 16 zero bytes" { pay '00 *15:00'; }
@test "cmd 059: payload: 100 zero bytes" { pay '*100:00'; }
@test "cmd 060: payload: 100 0xff bytes" { pay '*100:ff'; }
@test "cmd 061: payload: version byte 2" { pay '02 @TAIL1@'; }
@test "cmd 062: payload: version byte 0" { pay '00 @TAIL1@'; }
@test "cmd 063: payload: the first byte of a real envelope" { pay '@CUT1@'; }
@test "cmd 064: payload: the first 17 bytes" { pay '@CUT17@'; }
@test "cmd 065: payload: the first 33 bytes" { pay '@CUT33@'; }
@test "cmd 066: payload: the first 64 bytes" { pay '@CUT64@'; }
@test "cmd 067: payload: half a real envelope" { pay '@CUTHALF@'; }
@test "cmd 068: payload: a real envelope less its last byte" { pay '@CUTM1@'; }
@test "cmd 069: payload: less its tag" { pay '@CUTM16@'; }
@test "cmd 070: payload: a real envelope and a trailing byte" { pay '@REAL@ 00'; }
@test "cmd 071: payload: two real envelopes in one block" { pay '@REAL@ @REAL@'; }
@test "cmd 072: payload: 200 random bytes" { pay '@RAND200@'; }
@test "cmd 073: payload: 64 KiB of random bytes" { pay '@RAND65536@'; }
@test "cmd 074: payload: a real envelope with two halves swapped" { pay '@SWAP@'; }
@test "cmd 075: payload: a real envelope with its last 16 bytes zeroed" { pay '@ZEROTAIL@'; }
@test "cmd 076: payload: a real envelope with its last byte changed" { pay '@CUTM1@ 00'; }
@test "cmd 077: nc-send: recipient empty" { cmdcase 64 'hi\n' bob nc-send ''; }
@test "cmd 078: nc-send: recipient no domain" { cmdcase 64 'hi\n' bob nc-send bob; }
@test "cmd 079: nc-send: recipient no user" { cmdcase 64 'hi\n' bob nc-send @b.test; }
@test "cmd 080: nc-send: recipient no domain after @" { cmdcase 64 'hi\n' bob nc-send bob@; }
@test "cmd 081: nc-send: recipient uppercase user" { cmdcase 64 'hi\n' bob nc-send Bob@b.test; }
@test "cmd 082: nc-send: recipient a space" { cmdcase 64 'hi\n' bob nc-send 'bo b@b.test'; }
@test "cmd 083: nc-send: recipient two @" { cmdcase 64 'hi\n' bob nc-send bob@b.test@c; }
@test "cmd 084: nc-send: recipient uppercase domain" { cmdcase 64 'hi\n' bob nc-send bob@B.TEST; }
@test "cmd 085: nc-send: recipient empty label" { cmdcase 64 'hi\n' bob nc-send 'bob@b..test'; }
@test "cmd 086: nc-send: recipient label starting with -" { cmdcase 64 'hi\n' bob nc-send 'bob@-b.test'; }
@test "cmd 087: nc-send: recipient 65-character user" { cmdcase 64 'hi\n' bob nc-send $(printf 'a%.0s' $(seq 65))@b.test; }
@test "cmd 088: nc-send: recipient non-ASCII" { cmdcase 64 'hi\n' bob nc-send $'b\xc3\xb6b@b.test'; }
@test "cmd 089: nc-send: recipient invalid UTF-8" { cmdcase 64 'hi\n' bob nc-send $'b\xffb@b.test'; }
@test "cmd 090: nc-send: recipient path in user" { cmdcase 64 'hi\n' bob nc-send '../bob@b.test'; }
@test "cmd 091: nc-send: recipient slash in domain" { cmdcase 64 'hi\n' bob nc-send 'bob@b.test/x'; }
@test "cmd 092: nc-send: recipient underscore in domain" { cmdcase 64 'hi\n' bob nc-send 'bob@b_test'; }
@test "cmd 093: nc-send: recipient leading dot" { cmdcase 64 'hi\n' bob nc-send 'bob@.b.test'; }
@test "cmd 094: nc-send: recipient trailing space in user" { cmdcase 64 'hi\n' bob nc-send 'bob @b.test'; }
@test "cmd 095: nc-send: recipient newline" { cmdcase 64 'hi\n' bob nc-send $'bob\n@b.test'; }
@test "cmd 096: nc-send: recipient trailing space" { cmdcase 64 'hi\n' bob nc-send 'bob@b.test '; }
@test "cmd 097: nc-send: unknown option -Z" { cmdcase 64 'hi\n' bob nc-send -Z bob@b.test; }
@test "cmd 098: nc-send: unknown long option" { cmdcase 64 'hi\n' bob nc-send --bogus bob@b.test; }
@test "cmd 099: nc-send: --ttl not a number" { cmdcase 64 'hi\n' bob nc-send --ttl abc alice@a.test; }
@test "cmd 100: nc-send: negative --ttl" { cmdcase 64 'hi\n' bob nc-send --ttl -1 alice@a.test; }
@test "cmd 101: nc-send: --wait not a number" { cmdcase 64 'hi\n' bob nc-send --wait abc alice@a.test; }
@test "cmd 102: nc-send: -o without argument" { cmdcase 64 'hi\n' bob nc-send -o; }
@test "cmd 103: nc-send: --flush with a recipient" { cmdcase 64 'hi\n' bob nc-send --flush alice@a.test; }
@test "cmd 104: nc-send: no recipient" { cmdcase 64 'hi\n' bob nc-send ; }
@test "cmd 105: nc-send: -o with --flush" { cmdcase 64 'hi\n' bob nc-send -o - --flush; }
@test "cmd 157: nc-send: --ttl one second past 365 days" { cmdcase 64 'hi\n' bob nc-send --ttl 31536001 alice@a.test; }
@test "cmd 106: nc-send: --ttl overflowing" { cmdcase 64 'hi\n' bob nc-send --ttl 99999999999999999999999 alice@a.test; }
@test "cmd 107: nc-send: message of 64 KiB + 1" { cmdcase 65 '@BIGMSG@' bob nc-send alice@a.test; }
@test "cmd 108: nc-send: message with invalid UTF-8" { cmdcase 65 'hi \377\n' bob nc-send alice@a.test; }
@test "cmd 109: nc-send: message with a NUL byte" { cmdcase 65 'hi\0there\n' bob nc-send alice@a.test; }
@test "cmd 110: nc-send: message with an overlong UTF-8 /" { cmdcase 65 '\300\257\n' bob nc-send alice@a.test; }
@test "cmd 111: nc-send: message with a UTF-16 surrogate" { cmdcase 65 '\355\240\200\n' bob nc-send alice@a.test; }
@test "cmd 112: nc-send: message cut inside a UTF-8 sequence" { cmdcase 65 'hi \342\202' bob nc-send alice@a.test; }
@test "cmd 113: nc-recv: unknown option" { cmdcase 64 '' bob nc-recv --bogus; }
@test "cmd 114: nc-recv: an armored file that does not exist" { cmdcase 65 '' bob nc-recv extra; }
@test "cmd 115: nc-recv: stdin twice" { cmdcase 64 '' bob nc-recv - -; }
@test "cmd 116: nc-recv: --history with a bad address" { cmdcase 64 '' bob nc-recv --history Bob@b.test; }
@test "cmd 117: nc-recv: unknown short option" { cmdcase 64 '' bob nc-recv -Z; }
@test "cmd 118: nc-keygen: no address" { cmdcase 64 '' fresh nc-keygen ; }
@test "cmd 119: nc-keygen: no domain" { cmdcase 64 '' fresh nc-keygen bob; }
@test "cmd 120: nc-keygen: uppercase" { cmdcase 64 '' fresh nc-keygen Bob@b.test; }
@test "cmd 121: nc-keygen: two addresses" { cmdcase 64 '' fresh nc-keygen a@b.test c@d.test; }
@test "cmd 122: nc-keygen: unknown option" { cmdcase 64 '' fresh nc-keygen --bogus x@b.test; }
@test "cmd 123: nc-keygen: an identity already there" { cmdcase 73 '' bob nc-keygen bob@b.test; }
@test "cmd 124: nc-keys: no subcommand" { cmdcase 64 '' bob nc-keys ; }
@test "cmd 125: nc-keys: unknown subcommand" { cmdcase 64 '' bob nc-keys bogus; }
@test "cmd 126: nc-keys: show: bad address" { cmdcase 64 '' bob nc-keys show Bob@b.test; }
@test "cmd 127: nc-keys: trust: no address" { cmdcase 64 '' bob nc-keys trust; }
@test "cmd 128: nc-keys: show: extra argument" { cmdcase 64 '' bob nc-keys show a@b.test c; }
@test "cmd 129: config: relay without arguments" { cfgcase 78 'relay\n'; }
@test "cmd 130: config: relay without URL" { cfgcase 78 'relay b.test\n'; }
@test "cmd 131: config: ftp URL" { cfgcase 78 'relay b.test ftp://x\n'; }
@test "cmd 132: config: URL without host" { cfgcase 78 'relay b.test http://\n'; }
@test "cmd 133: config: uppercase domain" { cfgcase 78 'relay B.TEST http://x\n'; }
@test "cmd 134: config: unknown keyword" { cfgcase 78 'bogus line\n'; }
@test "cmd 135: config: extra field" { cfgcase 78 'relay b.test http://x extra\n'; }
@test "cmd 136: config: bad domain" { cfgcase 78 'relay b..test http://x\n'; }
@test "cmd 137: config: URL of 3000 bytes" { cfgcase 78 'relay b.test @LONGURL@\n'; }
@test "cmd 138: config: config of 70 KiB" { cfgcase 78 '@LONGCFG@'; }
@test "cmd 139: config: 1001 lines" { cfgcase 78 '@MANYLINES@'; }
@test "cmd 140: config: NUL byte" { cfgcase 78 'relay b.test http://x\0\n'; }
@test "cmd 141: config: invalid UTF-8" { cfgcase 78 'relay b.t\377st http://x\n'; }
@test "cmd 142: config: relative cafile" { cfgcase 78 'cafile relative/ca.pem\n'; }
@test "cmd 143: config: proxy without URL" { cfgcase 78 'proxy\n'; }
@test "cmd 144: config: tab and extra" { cfgcase 78 'relay b.test\thttp://x extra\n'; }
@test "cmd 145: config: UTF-16 text" { cfgcase 78 '\377\376r\0e\0'; }
@test "cmd 146: config: not an http URL" { cfgcase 78 'relay b.test javascript:alert\n'; }
@test "cmd 147: config: CR inside" { cfgcase 78 'relay b.test http://x\rrelay a.test http://y\n'; }
@test "cmd 148: config: binary garbage" { cfgcase 78 '@BINARY@'; }
@test "cmd 149: NC_HOME: relative path" { home_relative 78; }
@test "cmd 150: NC_HOME: a regular file" { home_file 78; }
@test "cmd 151: NC_HOME: open to others (0755)" { home_open 78; }
@test "cmd 152: NC_HOME: open to the group (0770)" { home_group 78; }
@test "cmd 153: NC_HOME: owned by another user" { home_other 78; }
@test "cmd 154: NC_HOME: unset, no HOME or XDG_DATA_HOME" { home_unset 78; }
@test "cmd 155: NC_HOME: a symlink to a 0777 directory" { home_symlink_open 78; }
@test "cmd 156: NC_HOME: path of 5000 bytes" { home_long 78; }
