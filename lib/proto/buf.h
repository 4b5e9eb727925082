/* buf.h - bounded growable byte buffers; secret buffers live in sodium_malloc'd
 * memory and are wiped when they grow or are freed. */
#ifndef NC_BUF_H
#define NC_BUF_H

#include <stddef.h>
#include <stdint.h>

/* No buffer ever grows beyond this: every input is bounded well below it. */
#define NC_BUF_MAX ((size_t)256 << 20)

typedef struct {
	uint8_t *p;
	size_t len, cap;
	int secret;   /* storage from sodium_malloc, wiped on growth and free */
} nc_buf;

#define NC_BUF_INIT { NULL, 0, 0, 0 }
#define NC_SECBUF_INIT { NULL, 0, 0, 1 }

/* All return 0, or NC_EOSERR/NC_EDATA (over NC_BUF_MAX) with nc_fail set. */
int nc_buf_reserve(nc_buf *b, size_t extra) __attribute__((warn_unused_result));
int nc_buf_add(nc_buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int nc_buf_addstr(nc_buf *b, const char *s) __attribute__((warn_unused_result));
int nc_buf_printf(nc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
/* Ensure p[len] == 0 (not counted in len), so text can be used as a C string. */
int nc_buf_nul(nc_buf *b) __attribute__((warn_unused_result));
void nc_buf_reset(nc_buf *b);   /* len = 0, wiping a secret buffer's content */
void nc_buf_free(nc_buf *b);

/* Secret memory, zeroed: locked, guarded, not in core dumps, wiped when
 * freed (give the size it was allocated with). NULL when out of memory. */
void *nc_secmem_alloc(size_t n);
void nc_secmem_free(void *p, size_t n);


#endif
