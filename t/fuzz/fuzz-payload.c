/* fuzz-payload.c - the plaintext of a ratchet message (protocol.md 2.5),
 * with its gossiped tree heads, must decode strictly, and what decodes
 * must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nc_payload pl;
	nc_buf b = NC_BUF_INIT;

	if (nc_payload_decode(&pl, data, size) != 0)
		return 0;
	if (pl.ngossip > NC_PL_GOSSIP_MAX || nc_payload_encode(&pl, &b) != 0 ||
	    b.len != size || memcmp(b.p, data, size) != 0)
		abort();   /* the encoding is canonical */
	nc_buf_free(&b);
	return 0;
}
