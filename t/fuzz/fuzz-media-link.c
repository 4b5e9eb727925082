/* fuzz-media-link.c - the link parser (lib/proto/media.c) never reads out
 * of bounds, and what it accepts is canonical: the parts it returns make
 * the very same text again, and parse to the same parts. The attachment
 * payload likewise: what decodes re-encodes to the same bytes.
 * The first byte picks: even, the rest is a link; odd, an attachment
 * payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_link(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[NC_MEDIA_LINK_MAX + 1];
	nc_media_link l, l2;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (nc_media_link_parse(&l, s) == 0) {
		/* the text up to a NUL in the input is what was parsed */
		if (nc_media_link_make(&l, out, sizeof out) != 0 ||
		    strcmp(out, s) != 0)
			abort();
		if (nc_media_link_parse(&l2, out) != 0 ||
		    strcmp(l2.url, l.url) != 0 || strcmp(l2.base, l.base) != 0 ||
		    memcmp(l2.id, l.id, 32) != 0 || memcmp(l2.key, l.key, 32) != 0 ||
		    memcmp(l2.hash, l.hash, 32) != 0 || l2.ctsize != l.ctsize)
			abort();
		if (strlen(l.url) > NC_MEDIA_URL_MAX || strncmp(l.url, l.base,
		    strlen(l.base)) != 0)
			abort();
	}
	free(s);
}

static void
attach(const uint8_t *data, size_t size)
{
	static nc_media_attach a[NC_MEDIA_ATTACH_MAX], b[NC_MEDIA_ATTACH_MAX];
	nc_buf out = NC_BUF_INIT;
	const uint8_t *t, *t2;
	size_t n, m, tn, tn2;

	if (nc_media_attach_dec(a, &n, &t, &tn, data, size) == 0) {
		if (n < 1 || n > NC_MEDIA_ATTACH_MAX ||
		    nc_media_attach_enc(&out, a, n, t, tn) != 0 || out.len != size ||
		    memcmp(out.p, data, size) != 0 ||
		    nc_media_attach_dec(b, &m, &t2, &tn2, out.p, out.len) != 0 ||
		    m != n || tn2 != tn || memcmp(t, t2, tn) != 0)
			abort();
	}
	nc_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		attach(data + 1, size - 1);
	else
		one_link(data + 1, size - 1);
	return 0;
}
