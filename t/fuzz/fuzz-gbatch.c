/* fuzz-gbatch.c - a group message's batch (lib/proto/gbatch.c) on hostile
 * bytes: the relay's decoder of PUT /v1/batches bodies and the device's
 * decoder of the mailbox entry (envelope version 2) are strict and
 * bounded, what decodes re-encodes to the same bytes, and a header that
 * is not sealed to the device never opens. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gbatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nc_gb_batch b;
	static uint8_t sk[32], pk[32];
	uint8_t head[NC_GB_ENTRY_HEAD], h[32];
	nc_buf out = NC_BUF_INIT;
	nc_gb_entry e;
	nc_gb_ref r;

	if (sodium_init() < 0)
		abort();
	if (pk[0] == 0 && pk[1] == 0)
		crypto_box_keypair(pk, sk);
	if (nc_gb_batch_dec(&b, data, size) == 0) {
		if (b.too_many || b.nmbox < 1 || b.nmbox > NC_GB_MAX ||
		    nc_gb_batch_enc(&out, &b) != 0 || out.len != size ||
		    memcmp(out.p, data, size) != 0)
			abort();
	}
	if (nc_gb_entry_dec(&e, data, size) == 0) {
		nc_gb_entry_head(head, e.envid, e.dev, e.hdr, e.bloblen);
		if (size != sizeof head + e.bloblen || memcmp(head, data, sizeof head) != 0)
			abort();
		crypto_generichash(h, sizeof h, e.blob, e.bloblen, NULL, 0);
		if (nc_gb_header_open(&r, e.hdr, e.envid, e.dev, sk, pk, h) == 0)
			abort();   /* forged without the device's key */
	}
	nc_buf_free(&out);
	return 0;
}
