/* test-kt.c - the key log's pure part (lib/proto/kt.c): known answers for
 * its label, commitment, leaf and head signature (t/vectors/kt-kat.txt,
 * made by this project: the keytrans draft has no vectors; NC_KAT_PRINT=1
 * prints them anew), then a log of 40 device-list versions: every fetch
 * proof verifies, with and without an earlier head; and each attack is
 * refused - a list the log does not hold, a label proven for another
 * user, a forged inclusion proof, a head not signed by the log key, an
 * older head, a split view, a consistency proof from another size, a
 * truncated or padded proof. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "kt.h"
#include "check.h"

#define LEAVES 40
static nc_merkle_hash leaf[LEAVES];

static int
perfect(void *ctx, unsigned level, uint64_t index, nc_merkle_hash out)
{
	nc_merkle_hash l, r;

	(void)ctx;
	if (((index + 1) << level) > LEAVES)
		return NC_ESOFTWARE;
	if (level == 0) {
		memcpy(out, leaf[index], 32);
		return 0;
	}
	if (perfect(ctx, level - 1, 2 * index, l) || perfect(ctx, level - 1, 2 * index + 1, r))
		return NC_ESOFTWARE;
	nc_merkle_node(out, l, r);
	return 0;
}

static uint8_t log_pk[32], log_sk[64], vrf_seed[32], vrf_pk[32], idpk[32];
static uint8_t opening[LEAVES][32];
static char users[LEAVES][32], lists[LEAVES][40];

static void
kat_check(const char *name, const uint8_t *p, size_t n)
{
	check_kat_hex("t/vectors/kt-kat.txt", name, p, n);
}

/* Fixed keys and inputs: the known answers. */
static void
kat(void)
{
	uint8_t seed[32], label[32], proof[80], c[32], lf[NC_KT_LEAF];
	nc_kt_head h = { 7, { 0 }, 1700000000, { 0 } };
	nc_merkle_hash lh;
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(log_pk, log_sk, seed);
	seed[0] = 0x80;
	memcpy(vrf_seed, seed, 32);
	nc_vrf_public(vrf_pk, vrf_seed);
	seed[0] = 0x40;
	memcpy(idpk, seed, 32);   /* stands for an identity key: only hashed */
	CHECK_INT(nc_kt_label(label, proof, vrf_seed, "alice@a.test", 1), 0);
	kat_check("label", label, 32);
	kat_check("vrf_proof", proof, 80);
	memset(opening[0], 0x11, 32);
	nc_kt_commit(c, opening[0], label, idpk, (const uint8_t *)"a device list", 13);
	kat_check("commitment", c, 32);
	nc_kt_leaf(lf, label, c);
	nc_merkle_leaf(lh, lf, sizeof lf);
	kat_check("leaf_hash", lh, 32);
	memcpy(h.root, lh, 32);
	nc_kt_head_sign(&h, log_sk, "a.test");
	kat_check("head_sig", h.sig, 64);
	CHECK_INT(nc_kt_head_verify(&h, log_pk, "a.test"), 0);
	CHECK_INT(nc_kt_head_verify(&h, log_pk, "b.test"), NC_ESECURITY);
}

/* A proof for leaf i in the tree of size, consistent from `since`. */
static void
prove(nc_kt_proof *p, uint64_t i, uint64_t size, uint64_t since)
{
	uint8_t label[32];

	memset(p, 0, sizeof *p);
	p->version = 1 + i % 3;
	CHECK_INT(nc_kt_label(label, p->vrf, vrf_seed, users[i], p->version), 0);
	memcpy(p->opening, opening[i], 32);
	p->index = i;
	p->head.size = size;
	p->head.time = 1700000000 + size;
	CHECK_INT(nc_merkle_range(p->head.root, perfect, NULL, 0, size), 0);
	nc_kt_head_sign(&p->head, log_sk, "a.test");
	CHECK_INT(nc_merkle_inclusion_proof(p->incl, &p->nincl, perfect, NULL, i, size), 0);
	p->since = since;
	if (since)
		CHECK_INT(nc_merkle_consistency_proof(p->cons, &p->ncons, perfect, NULL, since, size), 0);
}

static int
verify(const nc_kt_proof *p, uint64_t i, const nc_kt_head *last)
{
	return nc_kt_verify(p, log_pk, vrf_pk, "a.test", users[i], idpk,
	    (const uint8_t *)lists[i], strlen(lists[i]), last);
}

static void
log_of_40(void)
{
	nc_kt_proof p, q;
	nc_kt_head last;
	nc_buf b = NC_BUF_INIT;
	uint64_t i, size;
	int ok = 0, n = 0;

	for (i = 0; i < LEAVES; i++) {
		uint8_t label[32], proof[80], c[32], lf[NC_KT_LEAF];
		snprintf(users[i], sizeof users[i], "user%d@a.test", (int)i % 13);
		snprintf(lists[i], sizeof lists[i], "device list %d", (int)i);
		randombytes_buf(opening[i], 32);
		CHECK_INT(nc_kt_label(label, proof, vrf_seed, users[i], 1 + i % 3), 0);
		nc_kt_commit(c, opening[i], label, idpk, (const uint8_t *)lists[i], strlen(lists[i]));
		nc_kt_leaf(lf, label, c);
		nc_merkle_leaf(leaf[i], lf, sizeof lf);
	}
	/* every leaf in every tree that holds it; from the previous size on
	 * (NC_QUICK, the valgrind and TSan passes: the trees up to 12 leaves,
	 * each check below being a VRF and a signature verification) */
	uint64_t most = getenv("NC_QUICK") ? 12 : LEAVES;
	for (size = 1; size <= most; size++)
		for (i = 0; i < size; i++) {
			prove(&p, i, size, size > 1 ? size - 1 : 0);
			last.size = size > 1 ? size - 1 : 0;
			if (last.size)
				CHECK_INT(nc_merkle_range(last.root, perfect, NULL, 0, last.size), 0);
			ok += verify(&p, i, &last) == 0;
			n++;
			/* through the encoding */
			nc_buf_reset(&b);
			CHECK_INT(nc_kt_proof_encode(&b, &p), 0);
			CHECK_INT(nc_kt_proof_decode(&q, b.p, b.len), 0);
			ok += verify(&q, i, &last) == 0;
			n++;
		}
	CHECK_INT(ok, n);
	printf("# %d fetch proofs verified (trees of 1..%d leaves)\n", ok, (int)most);

	prove(&p, 17, 30, 20);
	CHECK_INT(nc_merkle_range(last.root, perfect, NULL, 0, 20), 0);
	last.size = 20;
	CHECK_INT(verify(&p, 17, &last), 0);
	CHECK_INT(verify(&p, 17, NULL), 0);
	/* a device list the log does not hold (the relay swapped the keys) */
	CHECK_INT(nc_kt_verify(&p, log_pk, vrf_pk, "a.test", users[17], idpk,
	    (const uint8_t *)"evil list", 9, &last), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "not in the log") != NULL);
	/* another identity key with the same list */
	{
		uint8_t other[32];
		memcpy(other, idpk, 32);
		other[5] ^= 1;
		CHECK_INT(nc_kt_verify(&p, log_pk, vrf_pk, "a.test", users[17], other,
		    (const uint8_t *)lists[17], strlen(lists[17]), &last), NC_ESECURITY);
	}
	/* the label proven for another user (the relay serves bob's entry as alice's) */
	CHECK_INT(nc_kt_verify(&p, log_pk, vrf_pk, "a.test", "mallory@a.test", idpk,
	    (const uint8_t *)lists[17], strlen(lists[17]), &last), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "VRF") != NULL);
	/* a label proven once: a fetch of that version again does not
	 * verify the VRF proof, but the proof must give the same label */
	{
		uint8_t lab[NC_KT_LABEL], keep[NC_KT_LABEL];
		const uint8_t *dl = (const uint8_t *)lists[17];
		size_t dn = strlen(lists[17]);

		CHECK_INT(nc_kt_verify_label(&p, log_pk, vrf_pk, "a.test", users[17], idpk,
		    dl, dn, &last, lab, 0), 0);
		memcpy(keep, lab, sizeof keep);
		/* its response broken, Gamma (so the label) kept: refused when
		 * the proof is verified, accepted from the cache: not verified */
		q = p;
		q.vrf[70] ^= 1;
		CHECK_INT(nc_kt_verify_label(&q, log_pk, vrf_pk, "a.test", users[17], idpk,
		    dl, dn, &last, lab, 0), NC_ESECURITY);
		CHECK(strstr(nc_errmsg(), "VRF proof does not verify") != NULL);
		CHECK_INT(nc_kt_verify_label(&q, log_pk, vrf_pk, "a.test", users[17], idpk,
		    dl, dn, &last, keep, 1), 0);
		/* a genuine VRF proof of another version: another label for this
		 * version than the one proven (the relay equivocates) */
		q = p;
		CHECK_INT(nc_kt_label(lab, q.vrf, vrf_seed, users[17], p.version + 3), 0);
		CHECK_INT(nc_kt_verify_label(&q, log_pk, vrf_pk, "a.test", users[17], idpk,
		    dl, dn, &last, keep, 1), NC_ESECURITY);
		CHECK(strstr(nc_errmsg(), "another label than the one proven before") != NULL);
		/* a Gamma that is no point */
		memset(q.vrf, 0xff, 32);
		CHECK_INT(nc_kt_verify_label(&q, log_pk, vrf_pk, "a.test", users[17], idpk,
		    dl, dn, &last, keep, 1), NC_ESECURITY);
	}
	/* another version than the label's */
	q = p;
	q.version++;
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	/* a forged inclusion proof, another index */
	q = p;
	q.incl[1][7] ^= 0x80;
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	q = p;
	q.index = 16;
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	/* a head the log key did not sign, or signed for another domain */
	q = p;
	q.head.time++;
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "not signed") != NULL);
	CHECK_INT(nc_kt_verify(&p, log_pk, vrf_pk, "b.test", users[17], idpk,
	    (const uint8_t *)lists[17], strlen(lists[17]), &last), NC_ESECURITY);
	/* an older head than one seen */
	prove(&q, 17, 25, 0);
	last.size = 28;
	CHECK_INT(nc_merkle_range(last.root, perfect, NULL, 0, 28), 0);
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "older") != NULL);
	/* a split view: the head this client saw before is of another tree */
	last.size = 20;
	CHECK_INT(nc_merkle_range(last.root, perfect, NULL, 0, 20), 0);
	last.root[0] ^= 1;
	CHECK_INT(verify(&p, 17, &last), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "split") != NULL);
	last.root[0] ^= 1;
	/* a consistency proof from another size, or none */
	prove(&q, 17, 30, 21);
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	prove(&q, 17, 30, 0);
	CHECK_INT(verify(&q, 17, &last), NC_ESECURITY);
	/* decoding: truncated, padded, a leaf outside its tree */
	nc_buf_reset(&b);
	CHECK_INT(nc_kt_proof_encode(&b, &p), 0);
	CHECK_INT(nc_kt_proof_decode(&q, b.p, b.len - 1), NC_EDATA);
	CHECK_INT(nc_buf_add(&b, "x", 1), 0);
	CHECK_INT(nc_kt_proof_decode(&q, b.p, b.len), NC_EDATA);
	q = p;
	q.index = q.head.size;
	nc_buf_reset(&b);
	CHECK_INT(nc_kt_proof_encode(&b, &q), 0);
	CHECK_INT(nc_kt_proof_decode(&q, b.p, b.len), NC_EDATA);
	nc_buf_free(&b);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	kat();
	log_of_40();
	return check_done("kt");
}
