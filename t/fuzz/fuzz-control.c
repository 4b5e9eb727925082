/* fuzz-control.c - the body of a control payload (type 3: device added,
 * could not decrypt) must decode strictly, and what decodes must
 * re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nc_control c;
	nc_buf b = NC_BUF_INIT;

	if (nc_control_decode(&c, data, size) != 0)
		return 0;
	if (nc_control_encode(&b, c.kind, c.envids, c.n) != 0 ||
	    b.len != size || memcmp(b.p, data, size) != 0)
		abort();   /* the encoding is canonical */
	nc_buf_free(&b);
	return 0;
}
