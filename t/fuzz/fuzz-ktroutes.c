/* fuzz-ktroutes.c - what the key log's routes answer, from a hostile
 * relay (lib/proto/kt.c): a head, a consistency proof, a page of entries,
 * a label proof. The first byte picks the decoder; each reads nothing out
 * of bounds, re-encodes what it accepts to the same bytes, and nothing
 * unsigned by the fixed keys verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const nc_buf *b, const uint8_t *p, size_t n)
{
	if (b->len != n || memcmp(b->p, p, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t log_pk[32], log_sk[64], vrf_pk[32];
	static nc_kt_cons c;
	static nc_kt_entries e;
	static int ready;
	nc_kt_head h;
	nc_kt_labelproof l;
	uint8_t label[NC_KT_LABEL];
	nc_buf b = NC_BUF_INIT;
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	if (!ready++) {
		uint8_t seed[32] = { 5 };
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(log_pk, log_sk, seed);
		seed[0] = 6;
		nc_vrf_public(vrf_pk, seed);
	}
	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (nc_kt_head_decode(&h, p, n) != 0)
			break;
		if (nc_kt_head_encode(&b, &h) != 0)
			abort();
		same(&b, p, n);
		if (nc_kt_head_verify(&h, log_pk, "a.test") == 0)
			abort();   /* a head the log key never signed */
		break;
	case 1:
		if (nc_kt_cons_decode(&c, p, n) != 0)
			break;
		if (c.from > c.to || c.n > NC_MERKLE_PROOF_MAX || nc_kt_cons_encode(&b, &c) != 0)
			abort();
		same(&b, p, n);
		break;
	case 2:
		if (nc_kt_entries_decode(&e, p, n) != 0)
			break;
		if (e.n > NC_KT_ENTRIES_MAX || nc_kt_entries_encode(&b, &e) != 0)
			abort();
		same(&b, p, n);
		break;
	default:
		if (nc_kt_labelproof_decode(&l, p, n) != 0)
			break;
		if (nc_kt_labelproof_encode(&b, &l) != 0)
			abort();
		same(&b, p, n);
		if (nc_kt_labelproof_verify(label, &l, vrf_pk, "alice@a.test") == 0)
			abort();   /* no VRF proof from the fixed key in the corpus */
		break;
	}
	nc_buf_free(&b);
	return 0;
}
