/* buf.c - bounded growable byte buffers. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifdef ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Secret memory. sodium_malloc costs an mmap, two mprotects, an mlock and
 * a munmap per call, which adds up for buffers made per message; so small
 * blocks (64 bytes to 16 KiB, powers of two) come from one region that is
 * sodium_malloc'd once per process (guard pages, locked, not in core
 * dumps). A block is wiped when it is given back and kept on a free list of
 * its size; larger blocks, and any once the region is used up, get a
 * sodium_malloc of their own. Under ASan, free and unused parts of the
 * region are poisoned, so overruns are still caught. */
#define ARENA_SIZE ((size_t)64 << 10)
#define CLASS_MIN 6    /* 64 bytes */
#define CLASS_MAX 14   /* 16 KiB */

static struct {
	uint8_t *base;
	size_t used;
	void *free[CLASS_MAX + 1];   /* a free block's first bytes: next */
	int failed;
} arena;
static pthread_mutex_t arena_mu = PTHREAD_MUTEX_INITIALIZER;

static int
size_class(size_t n)
{
	int c = CLASS_MIN;

	while (c <= CLASS_MAX && ((size_t)1 << c) < n)
		c++;
	return c;   /* CLASS_MAX + 1: too large for the region */
}

static void *
arena_get(int c)
{
	size_t n = (size_t)1 << c;
	void *p = NULL;

	if (arena.base == NULL && !arena.failed) {
		if (sodium_init() < 0 ||
		    (arena.base = sodium_malloc(ARENA_SIZE)) == NULL)
			arena.failed = 1;
		else
			POISON(arena.base, ARENA_SIZE);
	}
	if (arena.base == NULL)
		return NULL;
	if ((p = arena.free[c]) != NULL) {
		UNPOISON(p, n);
		memcpy(&arena.free[c], p, sizeof p);
	} else if (ARENA_SIZE - arena.used >= n) {
		p = arena.base + arena.used;
		arena.used += n;
		UNPOISON(p, n);
	}
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

void *
nc_secmem_alloc(size_t n)
{
	int c = size_class(n);
	void *p = NULL;

	if (c <= CLASS_MAX) {
		pthread_mutex_lock(&arena_mu);
		p = arena_get(c);
		pthread_mutex_unlock(&arena_mu);
		if (p != NULL)
			return p;
	}
	if (sodium_init() < 0 || (p = sodium_malloc(n)) == NULL)
		return NULL;
	sodium_memzero(p, n);
	return p;
}

void
nc_secmem_free(void *p, size_t n)
{
	uint8_t *q = p;
	size_t size = (size_t)1 << size_class(n);
	int mine;

	if (p == NULL)
		return;
	pthread_mutex_lock(&arena_mu);
	mine = arena.base != NULL && q >= arena.base &&
	    q < arena.base + ARENA_SIZE;
	if (mine) {
		sodium_memzero(p, size);
		memcpy(p, &arena.free[size_class(n)], sizeof p);
		arena.free[size_class(n)] = p;
		POISON(q + sizeof p, size - sizeof p);
	}
	pthread_mutex_unlock(&arena_mu);
	if (!mine)
		sodium_free(p);   /* wipes */
}

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
		if ((p = nc_secmem_alloc(cap)) == NULL)
			return nc_fail(NC_EOSERR, "out of memory");
		if (b->p) {
			memcpy(p, b->p, b->len);
			nc_secmem_free(b->p, b->cap);   /* wipes */
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
		nc_secmem_free(b->p, b->cap);
	else
		free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
