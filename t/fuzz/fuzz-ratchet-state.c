/* fuzz-ratchet-state.c - the session-state loader must never read out of
 * bounds; what loads must save to the same bytes (one encoding per state). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratchet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nc_ratchet *st = nc_ratchet_load(data, size);
	nc_buf b = NC_BUF_INIT, c = NC_BUF_INIT, p = NC_BUF_INIT;

	if (st == NULL)
		return 0;
	if (nc_ratchet_save(st, &b) != 0 || b.len != size ||
	    memcmp(b.p, data, size) != 0)
		abort();
	/* Whatever a crafted state holds, using it stays in bounds. */
	if (nc_ratchet_encrypt(st, &c, (const uint8_t *)"x", 1) == 0) {
		volatile int rc = nc_ratchet_decrypt(st, &p, c.p, c.len);
		(void)rc;
	}
	nc_buf_free(&b);
	nc_buf_free(&c);
	nc_buf_free(&p);
	nc_ratchet_free(st);
	return 0;
}
