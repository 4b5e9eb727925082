/* hex.h - lowercase hexadecimal, strictly decoded (ids in URLs and headers). */
#ifndef NC_HEX_H
#define NC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2n lowercase hex digits and a NUL to out (room for 2n + 1). */
void nc_hex_encode(char *out, const void *in, size_t n);
/* Decodes exactly 2n lowercase hex digits of s[0..slen) into out[0..n).
 * 0, or NC_EDATA (wrong length, upper case, non-hex); out is untouched on
 * failure. */
int nc_hex_decode(void *out, size_t n, const char *s, size_t slen)
	__attribute__((warn_unused_result));

#endif
