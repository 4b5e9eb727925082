/* wire.c - the canonical binary encoding. */
#include <string.h>

#include "err.h"
#include "wire.h"

void
nc_enc_init(nc_enc *e, nc_buf *b)
{
	e->b = b;
	e->err = 0;
}

static void
put(nc_enc *e, const void *p, size_t n)
{
	if (e->err == 0)
		e->err = nc_buf_add(e->b, p, n);
}

void
nc_put_u8(nc_enc *e, uint8_t v)
{
	put(e, &v, 1);
}

void
nc_put_u16(nc_enc *e, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(e, b, sizeof b);
}

void
nc_put_u32(nc_enc *e, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	put(e, b, sizeof b);
}

void
nc_put_u64(nc_enc *e, uint64_t v)
{
	nc_put_u32(e, (uint32_t)(v >> 32));
	nc_put_u32(e, (uint32_t)v);
}

void
nc_put_fixed(nc_enc *e, const void *p, size_t n)
{
	put(e, p, n);
}

void
nc_put_bytes(nc_enc *e, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		if (e->err == 0)
			e->err = nc_fail(NC_EDATA, "field too long");
		return;
	}
	nc_put_u32(e, (uint32_t)n);
	put(e, p, n);
}

void
nc_put_str(nc_enc *e, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT16_MAX || !nc_utf8_valid(s, n)) {
		if (e->err == 0)
			e->err = nc_fail(NC_EDATA, "text field too long or not UTF-8");
		return;
	}
	nc_put_u16(e, (uint16_t)n);
	put(e, s, n);
}

int
nc_enc_end(nc_enc *e)
{
	return e->err;
}

void
nc_dec_init(nc_dec *d, const void *p, size_t len)
{
	d->p = p;
	d->len = len;
	d->pos = 0;
	d->err = 0;
}

static void
dec_fail(nc_dec *d)
{
	d->err = 1;
	d->pos = d->len;
}

static const uint8_t *
take(nc_dec *d, size_t n)
{
	const uint8_t *p;

	if (d->err || n > d->len - d->pos) {
		dec_fail(d);
		return NULL;
	}
	p = d->p + d->pos;
	d->pos += n;
	return p;
}

uint8_t
nc_get_u8(nc_dec *d)
{
	const uint8_t *p = take(d, 1);

	return p ? p[0] : 0;
}

uint16_t
nc_get_u16(nc_dec *d)
{
	const uint8_t *p = take(d, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t
nc_get_u32(nc_dec *d)
{
	const uint8_t *p = take(d, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t
nc_get_u64(nc_dec *d)
{
	uint64_t hi = nc_get_u32(d);

	return hi << 32 | nc_get_u32(d);
}

const uint8_t *
nc_get_fixed(nc_dec *d, size_t n)
{
	return take(d, n);
}

const uint8_t *
nc_get_bytes(nc_dec *d, size_t max, size_t *n)
{
	uint32_t len = nc_get_u32(d);
	const uint8_t *p;

	*n = 0;
	if (d->err)
		return NULL;
	if (len > max) {
		dec_fail(d);
		return NULL;
	}
	if ((p = take(d, len)) != NULL)
		*n = len;
	return p;
}

void
nc_get_str(nc_dec *d, char *out, size_t max)
{
	uint16_t len = nc_get_u16(d);
	const uint8_t *p;

	out[0] = '\0';
	if (d->err)
		return;
	if (len > max) {
		dec_fail(d);
		return;
	}
	if ((p = take(d, len)) == NULL)
		return;
	if (!nc_utf8_valid(p, len)) {
		dec_fail(d);
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

void
nc_dec_check(nc_dec *d, int cond, const char *what)
{
	(void)what;
	if (!cond)
		dec_fail(d);
}

size_t
nc_dec_left(const nc_dec *d)
{
	return d->len - d->pos;
}

int
nc_dec_end(nc_dec *d, const char *what)
{
	if (d->err)
		return nc_fail(NC_EDATA, "%s: malformed or truncated", what);
	if (d->pos != d->len)
		return nc_fail(NC_EDATA, "%s: %zu trailing bytes", what,
		    d->len - d->pos);
	return 0;
}

int
nc_utf8_valid(const void *vp, size_t n)
{
	const uint8_t *p = vp;
	size_t i = 0, k, need;
	uint32_t c, min;

	while (i < n) {
		c = p[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1; c &= 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2; c &= 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3; c &= 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (need > n - i - 1)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}
