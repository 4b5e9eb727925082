/* buf.c - bounded growable byte buffers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"

int
nc_buf_reserve(nc_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (extra > NC_BUF_MAX || b->len > NC_BUF_MAX - extra - 1)
		return nc_fail(NC_EDATA, "input too large");
	need = b->len + extra + 1;   /* room for nc_buf_nul */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (b->secret) {
		if ((p = sodium_malloc(cap)) == NULL)
			return nc_fail(NC_EOSERR, "out of memory");
		if (b->p) {
			memcpy(p, b->p, b->len);
			sodium_free(b->p);   /* wipes */
		}
	} else if ((p = realloc(b->p, cap)) == NULL) {
		return nc_fail(NC_EOSERR, "out of memory");
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int
nc_buf_add(nc_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if ((rc = nc_buf_reserve(b, n)) != 0)
		return rc;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int
nc_buf_addstr(nc_buf *b, const char *s)
{
	return nc_buf_add(b, s, strlen(s));
}

int
nc_buf_printf(nc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return nc_fail(NC_ESOFTWARE, "format error");
	if ((rc = nc_buf_reserve(b, (size_t)n)) != 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
nc_buf_nul(nc_buf *b)
{
	int rc;

	if ((rc = nc_buf_reserve(b, 0)) != 0)
		return rc;
	b->p[b->len] = 0;
	return 0;
}

void
nc_buf_reset(nc_buf *b)
{
	if (b->secret && b->p)
		sodium_memzero(b->p, b->cap);
	b->len = 0;
}

void
nc_buf_free(nc_buf *b)
{
	if (b->secret)
		sodium_free(b->p);
	else
		free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int
nc_buf_readfd(nc_buf *b, int fd, size_t max)
{
	ssize_t n;
	int rc;

	for (;;) {
		if ((rc = nc_buf_reserve(b, 65536)) != 0)
			return rc;
		n = read(fd, b->p + b->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nc_fail(NC_EIO, "read: %s", strerror(errno));
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		if (b->len > max)
			return nc_fail(NC_EDATA, "input longer than %zu bytes", max);
	}
}
