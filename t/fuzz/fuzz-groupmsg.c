/* fuzz-groupmsg.c - group payloads (lib/proto/groupmsg.c) on hostile
 * bytes, both as the payload and as a blob's plaintext: strict, bounded,
 * and what decodes re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "groupmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nc_gm_inner in;
	nc_buf b = NC_BUF_INIT;
	nc_gm m;

	if (nc_gm_decode(&m, data, size) == 0 && (nc_gm_encode(&b, &m) != 0 ||
	    b.len != size || memcmp(b.p, data, size) != 0))
		abort();
	if (m.kind == NC_GM_SYNC) {
		char user[NC_ADDR_MAX + 1];
		uint8_t dev[16];
		const uint8_t *dist;
		size_t off = 0;
		unsigned i;

		for (i = 0; i < m.nkeys; i++)
			if (nc_gm_sync_key(&m, &off, user, dev, &dist) != 0)
				abort();
		if (off != m.keyslen)
			abort();
	}
	nc_buf_reset(&b);
	if (nc_gm_inner_decode(&in, data, size) == 0 &&
	    (nc_gm_inner_encode(&b, &in) != 0 || b.len != size ||
	    memcmp(b.p, data, size) != 0))
		abort();
	nc_buf_free(&b);
	return 0;
}
