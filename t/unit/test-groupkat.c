/* test-groupkat.c - known answers of the group formats (lib/proto/group.c,
 * lib/proto/groupmsg.c; protocol.md 3.5) against t/vectors/group-kat.txt:
 * a state's encoding and hash, two commits (Ed25519ph is deterministic),
 * a sender key made from fixed randomness, its chain steps, a group
 * message's inner plaintext, blob and ref, the kind-3 and kind-4 group
 * payloads; and that a member holding the distributed key opens the
 * blob. NC_KAT_PRINT=1 prints the file anew (for a deliberate format
 * change only). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "group.h"
#include "groupmsg.h"
#include "rng.h"

#define KAT "t/vectors/group-kat.txt"

static void
counter_rng(void *ctx, void *p, size_t n)
{
	uint8_t *c = ctx, *o = p;
	size_t i;

	for (i = 0; i < n; i++)
		o[i] = (*c)++;
}

/* Ed25519 key pair i: seed bytes 32 i .. 32 i + 31 */
static void
keypair(int i, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	int j;

	for (j = 0; j < 32; j++)
		seed[j] = (uint8_t)(32 * i + j);
	crypto_sign_seed_keypair(pk, sk, seed);
}

int
main(void)
{
	uint8_t apk[32], ask[64], bpk[32], bsk[64], cpk[32], csk[64];
	uint8_t id[NC_GROUP_ID], h[32], mk[32], dist[NC_SKEY_DIST_LEN];
	uint8_t refb[NC_GROUP_REF_LEN], ctr = 0x80, dev[16];
	nc_group_state g0, g1, v;
	nc_buf b = NC_BUF_INIT, c0 = NC_BUF_INIT, c1 = NC_BUF_INIT;
	nc_buf inner = NC_BUF_INIT, blob = NC_BUF_INIT, pl = NC_BUF_INIT;
	nc_buf plain = NC_BUF_INIT, keys = NC_BUF_INIT;
	char who[NC_ADDR_MAX + 1];
	nc_group_ref ref;
	nc_gm_inner in;
	nc_skey k, r;
	nc_gm m;
	int i;

	if (sodium_init() < 0)
		return 2;
	keypair(0, apk, ask);
	keypair(1, bpk, bsk);
	keypair(2, cpk, csk);
	for (i = 0; i < NC_GROUP_ID; i++)
		id[i] = (uint8_t)(0x10 + i);

	/* epoch 0: alice (admin) and bob */
	CHECK(nc_group_new(&g0, id, "kat", "alice@a.test", apk) == 0);
	CHECK(nc_group_put(&g0, "bob@b.test", bpk, NC_GROUP_MEMBER) == 0);
	CHECK(nc_group_commit(&c0, NULL, &g0, "alice@a.test", ask) == 0);
	CHECK(nc_group_encode(&g0, &b) == 0);
	check_kat_hex(KAT, "state0", b.p, b.len);
	CHECK(nc_group_hash(h, &g0) == 0);
	check_kat_hex(KAT, "state0_hash", h, 32);
	check_kat_hex(KAT, "commit0", c0.p, c0.len);
	CHECK(nc_group_verify(&v, who, NULL, c0.p, c0.len) == 0);
	nc_group_free(&v);

	/* epoch 1: alice adds carol, makes bob admin, renames it */
	CHECK(nc_group_copy(&g1, &g0) == 0);
	CHECK(nc_group_put(&g1, "carol@b.test", cpk, NC_GROUP_MEMBER) == 0);
	CHECK(nc_group_put(&g1, "bob@b.test", bpk, NC_GROUP_ADMIN) == 0);
	snprintf(g1.name, sizeof g1.name, "kat2");
	CHECK(nc_group_commit(&c1, &g0, &g1, "alice@a.test", ask) == 0);
	check_kat_hex(KAT, "commit1", c1.p, c1.len);
	CHECK(nc_group_hash(h, &g1) == 0);
	check_kat_hex(KAT, "state1_hash", h, 32);
	CHECK(nc_group_verify(&v, who, &g0, c1.p, c1.len) == 0);
	nc_group_free(&v);

	/* a sender key for epoch 1 from randomness 80 81 ..., its chain */
	nc_random_set_test(counter_rng, &ctr);
	nc_skey_new(&k, &g1);
	nc_skey_dist(dist, &k);
	check_kat_hex(KAT, "skey_dist", dist, sizeof dist);
	check_kat_hex(KAT, "skey_sign_sk", k.sign_sk, 64);
	CHECK(nc_skey_message_key(mk, &k, 0) == 0);
	check_kat_hex(KAT, "message_key0", mk, 32);
	CHECK(nc_skey_message_key(mk, &k, 1) == 0);
	check_kat_hex(KAT, "message_key1", mk, 32);

	/* a message: id 16 x 77, time 1700000000, one seen entry, "hello" */
	memset(&in, 0, sizeof in);
	memset(in.id, 0x77, 16);
	in.time = 1700000000;
	in.nseen = 1;
	memset(in.seen[0].key, 0x66, NC_SKEY_ID);
	in.seen[0].index = 3;
	memset(in.seen[0].hash, 0x55, 32);
	in.text = (const uint8_t *)"hello";
	in.textlen = 5;
	CHECK(nc_gm_inner_encode(&inner, &in) == 0);
	check_kat_hex(KAT, "inner", inner.p, inner.len);
	memcpy(&r, &k, sizeof r);          /* a member's copy, from dist */
	CHECK(nc_skey_from_dist(&r, dist, sizeof dist) == 0);
	CHECK(nc_group_seal(&blob, &ref, &k, &g1, inner.p, inner.len) == 0);
	nc_random_set_test(NULL, NULL);
	check_kat_hex(KAT, "blob", blob.p, blob.len);
	nc_group_ref_encode(refb, &ref);
	check_kat_hex(KAT, "ref", refb, sizeof refb);
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_MSG;
	m.epoch = g1.epoch;
	CHECK(nc_group_hash(m.state, &g1) == 0);
	m.ref = ref;
	m.blob = blob.p;
	m.bloblen = blob.len;
	CHECK(nc_gm_encode(&pl, &m) == 0);
	check_kat_hex(KAT, "payload_msg", pl.p, pl.len);
	CHECK(nc_group_open(&plain, &r, &g1, &ref, blob.p, blob.len) == 0);
	CHECK(plain.len == inner.len && memcmp(plain.p, inner.p, inner.len) == 0);
	/* inner version 3: commit1 as a message of epoch 1's predecessor
	 * would carry it (same id, time and seen entry) */
	in.commit = 1;
	in.text = c1.p;
	in.textlen = c1.len;
	nc_buf_reset(&inner);
	CHECK(nc_gm_inner_encode(&inner, &in) == 0);
	check_kat_hex(KAT, "inner_commit", inner.p, inner.len);
	{
		nc_gm_inner out;

		CHECK(nc_gm_inner_decode(&out, inner.p, inner.len) == 0);
		CHECK(out.commit && out.textlen == c1.len &&
		    memcmp(out.text, c1.p, c1.len) == 0);
	}

	/* a sync: commit 1 and the key, of device 16 x 0d of alice */
	memset(dev, 0x0d, sizeof dev);
	CHECK(nc_gm_sync_key_put(&keys, "alice@a.test", dev, dist) == 0);
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_SYNC;
	m.commit = c1.p;
	m.commitlen = c1.len;
	m.keys = keys.p;
	m.keyslen = keys.len;
	m.nkeys = 1;
	nc_buf_reset(&pl);
	CHECK(nc_gm_encode(&pl, &m) == 0);
	check_kat_hex(KAT, "payload_sync", pl.p, pl.len);

	sodium_memzero(&k, sizeof k);
	nc_group_free(&g0);
	nc_group_free(&g1);
	nc_buf_free(&b);
	nc_buf_free(&c0);
	nc_buf_free(&c1);
	nc_buf_free(&inner);
	nc_buf_free(&blob);
	nc_buf_free(&pl);
	nc_buf_free(&plain);
	nc_buf_free(&keys);
	return check_done("groupkat");
}
