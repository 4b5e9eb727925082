/* fuzz-netproc.c - the frames between a command and its network helper:
 * the decoders must never read out of bounds, and what decodes must encode
 * back to the same bytes. The first byte picks the decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nc_netproc_req q;
	nc_http_resp resp = NC_HTTP_RESP_INIT;
	nc_buf b = NC_BUF_INIT;
	char msg[512];
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (nc_netproc_req_dec(&q, data + 1, size - 1) == 0 &&
		    nc_netproc_req_enc(&b, &q.req) == 0 &&
		    (b.len != size - 1 || memcmp(b.p, data + 1, b.len) != 0))
			abort();
	} else if (nc_netproc_resp_dec(data + 1, size - 1, 4096, &rc, msg,
	    sizeof msg, &resp) == 0 && nc_netproc_resp_enc(&b, rc, msg,
	    &resp) == 0 &&
	    (b.len != size - 1 || memcmp(b.p, data + 1, b.len) != 0))
		abort();
	nc_buf_free(&b);
	nc_http_resp_free(&resp);
	return 0;
}
