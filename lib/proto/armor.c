/* armor.c - strict base64 armor, several blocks per stream. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "armor.h"
#include "buf.h"
#include "err.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

struct line {
	const char *p;
	size_t n;      /* without the line end */
	size_t next;   /* offset of the following line */
};

static void
line_at(const char *t, size_t len, size_t pos, struct line *l)
{
	const char *nl = memchr(t + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - t) : len;

	l->p = t + pos;
	l->n = end - pos;
	l->next = nl ? end + 1 : len;
	if (l->n > 0 && l->p[l->n - 1] == '\r')   /* CRLF */
		l->n--;
}

static int
is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (strchr(" \t\r\v\f", l->p[i]) == NULL || l->p[i] == '\0')
			return 0;
	return 1;
}

static int
is_marker(const struct line *l, const char *m)
{
	return l->n == strlen(m) && memcmp(l->p, m, l->n) == 0;
}

static int
is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* Line numbers are computed only when reporting, so walking a long stream
 * stays linear. */
static int
bad(const char *t, size_t at, const char *why)
{
	size_t lineno = 1;

	for (size_t i = 0; i < at; i++)
		lineno += t[i] == '\n';
	return nc_fail(NC_EDATA, "armor: line %zu: %s", lineno, why);
}

int
nc_armor_encode(nc_buf *out, const uint8_t *p, size_t n)
{
	nc_buf b64 = NC_BUF_INIT;
	size_t elen, start = out->len;
	int rc;

	if (n > NC_BUF_MAX / 2)
		return nc_fail(NC_EDATA, "armor: payload too large");
	elen = sodium_base64_ENCODED_LEN(n, B64);
	if ((rc = nc_buf_reserve(&b64, elen)) != 0)
		return rc;
	sodium_bin2base64((char *)b64.p, elen, p, n, B64);
	elen--;   /* the NUL */
	rc = nc_buf_addstr(out, NC_ARMOR_BEGIN "\n");
	for (size_t i = 0; rc == 0 && i < elen; i += NC_ARMOR_COLS) {
		size_t k = elen - i < NC_ARMOR_COLS ? elen - i : NC_ARMOR_COLS;

		if ((rc = nc_buf_add(out, b64.p + i, k)) == 0)
			rc = nc_buf_add(out, "\n", 1);
	}
	if (rc == 0)
		rc = nc_buf_addstr(out, NC_ARMOR_END "\n");
	nc_buf_free(&b64);
	if (rc != 0)
		out->len = start;
	return rc;
}

/* Collect the base64 lines of the block starting after the BEGIN line at
 * *p; leaves *p at the END line. */
static int
collect(const char *t, size_t len, size_t begin, size_t *p, nc_buf *b64,
    size_t maxb64)
{
	struct line l;
	size_t shortline = 0;
	int have_short = 0, rc;

	for (;;) {
		if (*p >= len)
			return bad(t, begin, "BEGIN without END");
		line_at(t, len, *p, &l);
		if (is_marker(&l, NC_ARMOR_END))
			return 0;
		if (is_marker(&l, NC_ARMOR_BEGIN))
			return bad(t, *p, "BEGIN inside a block");
		if (l.n > 0 && l.p[0] == '-')
			return bad(t, *p, "malformed END line");
		if (l.n == 0)
			return bad(t, *p, "empty line inside a block");
		if (l.n > NC_ARMOR_COLS)
			return bad(t, *p, "line longer than 64 characters");
		if (have_short)
			return bad(t, shortline,
			    "line shorter than 64 characters before the last");
		for (size_t i = 0; i < l.n; i++)
			if (!is_b64((unsigned char)l.p[i]))
				return bad(t, *p, "character outside base64");
		if (b64->len + l.n > maxb64)
			return bad(t, *p, "payload too large");
		if ((rc = nc_buf_add(b64, l.p, l.n)) != 0)
			return rc;
		if (l.n < NC_ARMOR_COLS) {
			have_short = 1;
			shortline = *p;
		}
		*p = l.next;
	}
}

/* Decode b64 into out, accepting only the one canonical encoding. */
static int
decode(const char *t, size_t at, const nc_buf *b64, nc_buf *out, size_t max)
{
	nc_buf again = NC_BUF_INIT;
	size_t n = 0, elen;
	int rc;

	if (b64->len % 4 != 0)
		return bad(t, at, "base64 length not a multiple of 4");
	if ((rc = nc_buf_reserve(out, b64->len / 4 * 3)) != 0)
		return rc;
	if (b64->len > 0 && sodium_base642bin(out->p + out->len,
	    b64->len / 4 * 3, (const char *)b64->p, b64->len, NULL, &n, NULL,
	    B64) != 0) {
		sodium_memzero(out->p + out->len, b64->len / 4 * 3);
		return bad(t, at, "invalid base64");
	}
	if (n > max) {
		sodium_memzero(out->p + out->len, n);
		return bad(t, at, "payload too large");
	}
	elen = sodium_base64_ENCODED_LEN(n, B64);
	if ((rc = nc_buf_reserve(&again, elen)) != 0)
		return rc;
	sodium_bin2base64((char *)again.p, elen, out->p + out->len, n, B64);
	rc = elen - 1 == b64->len &&
	    (n == 0 || memcmp(again.p, b64->p, b64->len) == 0);
	nc_buf_free(&again);
	if (!rc) {
		sodium_memzero(out->p + out->len, n);
		return bad(t, at, "non-canonical base64");
	}
	out->len += n;
	return 0;
}

int
nc_armor_next(const char *text, size_t len, size_t *pos, nc_buf *out,
    size_t max)
{
	nc_buf b64 = NC_BUF_INIT;
	struct line l;
	size_t p = *pos, begin, maxb64;
	int rc;

	for (;;) {
		if (p >= len) {
			*pos = len;
			return 1;
		}
		line_at(text, len, p, &l);
		if (!is_blank(&l))
			break;
		p = l.next;
	}
	if (!is_marker(&l, NC_ARMOR_BEGIN))
		return bad(text, p, l.n > 0 && l.p[0] == '-' ?
		    "malformed BEGIN line" : "text outside an armor block");
	begin = p;
	p = l.next;
	if (max > NC_BUF_MAX / 2)
		max = NC_BUF_MAX / 2;
	maxb64 = (max + 2) / 3 * 4;
	rc = collect(text, len, begin, &p, &b64, maxb64);
	if (rc == 0)
		rc = decode(text, p, &b64, out, max);
	nc_buf_free(&b64);
	if (rc != 0)
		return rc;
	line_at(text, len, p, &l);
	*pos = l.next;
	return 0;
}

int
nc_armor_detect(const char *text, size_t len)
{
	size_t i = 0, m = strlen(NC_ARMOR_BEGIN);

	while (i < len && text[i] != '\0' && strchr(" \t\r\n\v\f", text[i]))
		i++;
	return len - i >= m && memcmp(text + i, NC_ARMOR_BEGIN, m) == 0;
}
