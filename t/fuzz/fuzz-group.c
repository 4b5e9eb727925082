/* fuzz-group.c - the group decoders (lib/proto/group.c) on hostile bytes:
 * a state, a commit checked against a fixed group, a sender-key
 * distribution message, a message ref, and a blob opened with a fixed
 * key. Nothing reads out of bounds; what decodes re-encodes to the same
 * bytes; no commit but one signed by the group's admin is ever accepted,
 * and no blob opens without the sender's signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nc_group_state g;
static nc_skey k;
static uint8_t admin_sk[64];

static void
setup(void)
{
	static int done;
	uint8_t seed[32] = { 1 }, pk[32], id[16] = { 2 }, pk2[32], sk2[64];

	if (done++)
		return;
	if (sodium_init() < 0)
		abort();
	crypto_sign_seed_keypair(pk, admin_sk, seed);
	seed[0] = 2;
	crypto_sign_seed_keypair(pk2, sk2, seed);
	if (nc_group_new(&g, id, "fuzz", "alice@a.test", pk) != 0 ||
	    nc_group_put(&g, "bob@b.test", pk2, NC_GROUP_MEMBER) != 0)
		abort();
	nc_skey_new(&k, &g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nc_group_state s;
	nc_skey sk;
	nc_group_ref r;
	nc_buf b = NC_BUF_INIT;
	char who[NC_ADDR_MAX + 1];

	setup();
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if (nc_group_decode(&s, data + 1, size - 1) == 0) {
			if (nc_group_encode(&s, &b) != 0 || b.len != size - 1 ||
			    memcmp(b.p, data + 1, b.len) != 0)
				abort();   /* one encoding per state */
			nc_group_free(&s);
		}
		break;
	case 1:
		if (nc_group_verify(&s, who, &g, data + 1, size - 1) == 0)
			abort();   /* forging needs alice's (or bob's) identity key */
		break;
	case 2:
		if (nc_skey_from_dist(&sk, data + 1, size - 1) == 0 && size - 1 != NC_SKEY_DIST_LEN)
			abort();
		break;
	case 3:
		if (nc_group_ref_decode(&r, data + 1, size - 1) == 0 && size - 1 != NC_GROUP_REF_LEN)
			abort();
		break;
	default:
		memset(&r, 0, sizeof r);
		memcpy(r.group, g.id, sizeof r.group);
		memcpy(r.key, k.id, sizeof r.key);
		crypto_generichash(r.hash, 32, data + 1, size - 1,
		    (const uint8_t *)"newchat group blob v1", 21);
		sk = k;
		if (nc_group_open(&b, &sk, &g, &r, data + 1, size - 1) == 0)
			abort();   /* no blob opens without the signature */
	}
	nc_buf_free(&b);
	return 0;
}
