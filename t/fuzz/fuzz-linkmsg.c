/* fuzz-linkmsg.c - the provisioning (link) message: its decoder must never
 * read out of bounds, whatever the counts claim; the sealed form is
 * refused unless it opens. The first byte chooses: 0 the plaintext
 * decoder, else the sealed form (opened with a fixed key). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count(void *ctx, const nc_link_contact *c)
{
	(*(size_t *)ctx) += c->listlen;
	return 0;
}

static int
hist(void *ctx, const nc_link_hist *h)
{
	(*(size_t *)ctx) += h->bodylen;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[32];
	nc_link_msg m;
	nc_buf pt = NC_BUF_INIT;
	size_t total = 0;

	if (size < 1)
		return 0;
	if (sodium_init() < 0)
		abort();
	if (data[0] == 0) {
		(void)!nc_link_decode(&m, data + 1, size - 1, count, hist, &total);
		return 0;
	}
	memset(sk, 7, sizeof sk);
	crypto_scalarmult_base(pk, sk);
	if (nc_link_open(&pt, pk, sk, data + 1, size - 1) == 0)
		(void)!nc_link_decode(&m, pt.p, pt.len, NULL, NULL, NULL);
	nc_buf_free(&pt);
	return 0;
}
