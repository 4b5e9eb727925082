/* fuzz-devlist.c - the device list decoder and verifier must never read
 * out of bounds; what decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nc_devlist l;
	nc_buf b = NC_BUF_INIT;

	if (nc_devlist_decode(&l, data, size) != 0)
		return 0;
	volatile int ok = nc_devlist_verify(&l);   /* only that it runs */
	(void)ok;
	if (nc_devlist_encode(&l, &b) != 0 || b.len != size ||
	    memcmp(b.p, data, size) != 0)
		abort();   /* the encoding is canonical */
	nc_buf_free(&b);
	return 0;
}
