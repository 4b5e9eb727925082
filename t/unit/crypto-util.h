/* crypto-util.h - shared by the crypto unit tests: a deterministic RNG for
 * nc_random (so runs and known answers reproduce), test users and devices,
 * and a session between two devices. */
#ifndef NC_CRYPTO_UTIL_H
#define NC_CRYPTO_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "devlist.h"
#include "err.h"
#include "keys.h"
#include "ratchet.h"
#include "rng.h"
#include "x3dh.h"

/* ChaCha20 keystream from a seed, re-keyed per call by a counter. */
typedef struct {
	uint8_t seed[32];
	uint64_t ctr;
} det_rng;

static det_rng test_rng_state;

static inline void
det_random(void *ctx, void *p, size_t n)
{
	det_rng *r = ctx;
	uint8_t in[40], k[32];

	memcpy(in, r->seed, 32);
	memcpy(in + 32, &r->ctr, 8);
	r->ctr++;
	crypto_generichash(k, 32, in, sizeof in, NULL, 0);
	randombytes_buf_deterministic(p, n, k);
}

static inline void
det_seed(uint64_t s)
{
	memset(&test_rng_state, 0, sizeof test_rng_state);
	memcpy(test_rng_state.seed, &s, sizeof s);
	nc_random_set_test(det_random, &test_rng_state);
}

/* A user with one device, its party description and prekeys. */
typedef struct {
	nc_idkey *id;
	nc_device *dev;
	nc_party party;
	nc_spk spk;
	nc_otpk otpk;
} tuser;

static inline void
tuser_make(tuser *u, const char *addr)
{
	memset(u, 0, sizeof *u);
	u->id = nc_idkey_gen();
	u->dev = nc_device_gen();
	if (u->id == NULL || u->dev == NULL)
		abort();
	strcpy(u->party.user, addr);
	memcpy(u->party.identity, u->id->pk, 32);
	memcpy(u->party.dev, u->dev->id, NC_DEVID_LEN);
	memcpy(u->party.sign_pk, u->dev->sign_pk, 32);
	memcpy(u->party.dh_pk, u->dev->dh_pk, 32);
	if (nc_spk_gen(&u->spk, u->dev, 7, 1700000000) != 0 ||
	    nc_otpk_gen(&u->otpk, 42) != 0)
		abort();
}

static inline void
tuser_free(tuser *u)
{
	nc_idkey_free(u->id);
	nc_device_free(u->dev);
	nc_spk_wipe(&u->spk);
	nc_otpk_wipe(&u->otpk);
}

static inline void
tbundle(nc_bundle *b, const tuser *u, int otpk)
{
	memset(b, 0, sizeof *b);
	b->spk_id = u->spk.id;
	memcpy(b->spk_pk, u->spk.pk, 32);
	memcpy(b->spk_sig, u->spk.sig, 64);
	if (otpk) {
		b->has_otpk = 1;
		b->otpk_id = u->otpk.id;
		memcpy(b->otpk_pk, u->otpk.pk, 32);
	}
}

/* a initiates to b; both sessions ready (b's before its first message). */
static inline int
tsession(tuser *a, tuser *b, int otpk, nc_ratchet **sa, nc_ratchet **sb)
{
	nc_bundle bun;
	nc_x3dh_out xa, xb;

	tbundle(&bun, b, otpk);
	if (nc_x3dh_initiate(&xa, &a->party, a->dev, &b->party, &bun) != 0)
		return -1;
	if (nc_x3dh_respond(&xb, &b->party, b->dev, &b->spk,
	    otpk ? &b->otpk : NULL, &a->party, &xa.hdr) != 0)
		return -1;
	*sa = nc_ratchet_init_initiator(&xa);
	*sb = nc_ratchet_init_responder(&xb, &b->spk);
	sodium_memzero(&xa, sizeof xa);
	sodium_memzero(&xb, sizeof xb);
	return *sa && *sb ? 0 : -1;
}

/* The serialized state, for before/after comparisons. */
static inline nc_buf
tsave(const nc_ratchet *st)
{
	nc_buf b = NC_BUF_INIT;

	if (nc_ratchet_save(st, &b) != 0)
		abort();
	return b;
}

static inline int
tsame(const nc_ratchet *st, const nc_buf *before)
{
	nc_buf b = tsave(st);
	int same = b.len == before->len && memcmp(b.p, before->p, b.len) == 0;

	nc_buf_free(&b);
	return same;
}

static inline int
quick(void)
{
	const char *q = getenv("NC_QUICK");

	return q != NULL && *q == '1';
}

static inline int
asan(void)
{
	const char *q = getenv("NC_ASAN");

	return q != NULL && *q == '1';
}

#endif
