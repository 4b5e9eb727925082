/* wire.h - the canonical binary encoding: big-endian integers, byte strings
 * with a u32 length prefix, text with a u16 length prefix (UTF-8, no NUL),
 * fixed-size fields without prefix. Decoding is strict and bounded: every
 * read states its maximum, and the first error sticks, so a decoder can read
 * all fields and check once at the end (nc_dec_end). */
#ifndef NC_WIRE_H
#define NC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Encoding appends to a buffer; errors stick in *err (first one kept). */
typedef struct {
	nc_buf *b;
	int err;
} nc_enc;

void nc_enc_init(nc_enc *e, nc_buf *b);
void nc_put_u8(nc_enc *e, uint8_t v);
void nc_put_u16(nc_enc *e, uint16_t v);
void nc_put_u32(nc_enc *e, uint32_t v);
void nc_put_u64(nc_enc *e, uint64_t v);
void nc_put_fixed(nc_enc *e, const void *p, size_t n);        /* no prefix */
void nc_put_bytes(nc_enc *e, const void *p, size_t n);        /* u32 length */
void nc_put_str(nc_enc *e, const char *s);                    /* u16 length */
/* 0, or the first error (and its message). */
int nc_enc_end(nc_enc *e) __attribute__((warn_unused_result));

typedef struct {
	const uint8_t *p;
	size_t len, pos;
	int err;
} nc_dec;

void nc_dec_init(nc_dec *d, const void *p, size_t len);
uint8_t nc_get_u8(nc_dec *d);
uint16_t nc_get_u16(nc_dec *d);
uint32_t nc_get_u32(nc_dec *d);
uint64_t nc_get_u64(nc_dec *d);
/* Pointers into the input, valid as long as it is; NULL after an error. */
const uint8_t *nc_get_fixed(nc_dec *d, size_t n);
const uint8_t *nc_get_bytes(nc_dec *d, size_t max, size_t *n);
/* Copies text (validated UTF-8, no NUL, at most max bytes) into out, which
 * has room for max + 1 bytes; "" after an error. */
void nc_get_str(nc_dec *d, char *out, size_t max);
/* Fails the decoder unless cond holds: for checks on decoded values. */
void nc_dec_check(nc_dec *d, int cond, const char *what);
size_t nc_dec_left(const nc_dec *d);
/* 0 if everything decoded and nothing is left over; NC_EDATA otherwise. */
int nc_dec_end(nc_dec *d, const char *what) __attribute__((warn_unused_result));

/* 1 if p[0..n) is valid UTF-8 (no overlongs, surrogates or NUL). */
int nc_utf8_valid(const void *p, size_t n);

#endif
