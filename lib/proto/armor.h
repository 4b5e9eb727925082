/* armor.h - ASCII armor for envelopes in pipes and files:
 *
 *   -----BEGIN NEWCHAT ENVELOPE-----
 *   base64 (standard alphabet, padded), 64 characters a line, last 1..64
 *   -----END NEWCHAT ENVELOPE-----
 *
 * Several blocks may follow one another on a stream. Blank lines may
 * separate blocks and lines may end in CRLF; everything else is strict
 * (see share/doc/protocol.md section 0), so one payload has exactly one
 * armored form. */
#ifndef NC_ARMOR_H
#define NC_ARMOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NC_ARMOR_BEGIN "-----BEGIN NEWCHAT ENVELOPE-----"
#define NC_ARMOR_END   "-----END NEWCHAT ENVELOPE-----"
#define NC_ARMOR_COLS  64

/* Append one armored block of p[0..n), with a trailing newline, to out.
 * 0, or NC_EOSERR/NC_EDATA (too large) with nc_fail set. */
int nc_armor_encode(nc_buf *out, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Decode the next block of text[*pos..len): appends its payload to out and
 * advances *pos past the END line. Returns 0 with a block decoded, 1 at the
 * end of the input (nothing but whitespace left; *pos = len), NC_EDATA on
 * anything malformed or a payload over max bytes (nc_fail names the line:
 * "armor: line 7: ..."), NC_EOSERR. On error out and *pos are unchanged. */
int nc_armor_next(const char *text, size_t len, size_t *pos, nc_buf *out,
    size_t max) __attribute__((warn_unused_result));

/* 1 if text starts, after optional whitespace, with a BEGIN line: lets a
 * reader accept armored or binary input. */
int nc_armor_detect(const char *text, size_t len);

#endif
