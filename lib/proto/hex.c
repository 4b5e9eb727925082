/* hex.c - lowercase hexadecimal. */
#include "err.h"
#include "hex.h"

static const char digits[] = "0123456789abcdef";

void
nc_hex_encode(char *out, const void *in, size_t n)
{
	const uint8_t *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
nc_hex_decode(void *out, size_t n, const char *s, size_t slen)
{
	uint8_t *p = out;
	size_t i;

	if (n > SIZE_MAX / 2 || slen != 2 * n)
		return nc_fail(NC_EDATA, "hex: want %zu digits", 2 * n);
	for (i = 0; i < slen; i++)
		if (nibble(s[i]) < 0)
			return nc_fail(NC_EDATA, "hex: not a lowercase hex digit");
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
	return 0;
}
