/* fuzz-sent.c - the body of a sent copy (payload type 4) must decode
 * strictly, and what decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nc_sent sc;
	const char *to[NC_PL_TO_MAX];
	nc_buf b = NC_BUF_INIT;

	if (nc_sent_decode(&sc, data, size) != 0)
		return 0;
	for (uint16_t i = 0; i < sc.nto; i++)
		to[i] = sc.to[i];
	if (nc_sent_encode(&b, to, sc.nto, sc.text, sc.textlen) != 0 ||
	    b.len != size || memcmp(b.p, data, size) != 0)
		abort();   /* the encoding is canonical */
	nc_buf_free(&b);
	return 0;
}
