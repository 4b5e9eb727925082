/* fuzz-armor.c - the armor decoder never reads out of bounds, and whatever
 * it accepts is canonical: re-encoding a decoded block gives back the very
 * text it came from (minus CRs), which decodes to the same payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "armor.h"
#include "buf.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_block(const char *text, size_t from, size_t to, const nc_buf *d)
{
	nc_buf a = NC_BUF_INIT, again = NC_BUF_INIT, src = NC_BUF_INIT;
	const char *b = NULL;
	size_t pos = 0, m = strlen(NC_ARMOR_BEGIN);

	/* The block starts at the last BEGIN before its end. */
	for (size_t i = from; i + m <= to; i++)
		if (memcmp(text + i, NC_ARMOR_BEGIN, m) == 0)
			b = text + i;
	if (b == NULL)
		abort();
	for (const char *s = b; s < text + to; s++)
		if (*s != '\r' && nc_buf_add(&src, s, 1) != 0)
			abort();
	if (src.len > 0 && src.p[src.len - 1] != '\n' &&
	    nc_buf_add(&src, "\n", 1) != 0)
		abort();
	if (nc_armor_encode(&a, d->p, d->len) != 0)
		abort();
	if (a.len != src.len || memcmp(a.p, src.p, a.len) != 0)
		abort();
	if (nc_armor_next((char *)a.p, a.len, &pos, &again, d->len) != 0 ||
	    again.len != d->len || memcmp(again.p, d->p, d->len) != 0 ||
	    pos != a.len)
		abort();
	nc_buf_free(&a);
	nc_buf_free(&again);
	nc_buf_free(&src);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	nc_buf d = NC_BUF_INIT;
	size_t pos = 0, before;
	int rc;

	(void)nc_armor_detect(text, size);
	for (;;) {
		before = pos;
		d.len = 0;
		rc = nc_armor_next(text, size, &pos, &d, 1 << 16);
		if (rc != 0) {
			if ((rc == 1 && pos != size) || (rc != 1 && pos != before))
				abort();
			break;
		}
		if (pos <= before || pos > size)
			abort();
		check_block(text, before, pos, &d);
	}
	nc_buf_free(&d);
	return 0;
}
