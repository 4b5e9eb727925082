/* bench-ratchet.c - encrypt+decrypt of 100-byte messages with our Double
 * Ratchet in two patterns (alternating direction: a DH ratchet step every
 * message; a one-direction burst of 10,000), the libsodium floor for the
 * same patterns, and the full sealed envelope with where its time goes.
 * Prints "name value" lines (messages per second) for t/bench/ratchet.sh.
 *
 * The floor is the primitive work the Double Ratchet of protocol.md 2.4
 * cannot avoid, called straight from libsodium with no state, parsing or
 * checks: per alternating message a new ratchet key (X25519 base point),
 * two X25519 (receiving and sending chain), two KDF_RK (HKDF-SHA256, 64
 * bytes), KDF_CK on both sides (4 HMAC-SHA256), a random nonce and one
 * XChaCha20-Poly1305 encryption and decryption; per burst message the same
 * without the X25519 and KDF_RK work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../unit/crypto-util.h"
#include "envelope.h"
#include "hkdf.h"

#define MSG 100

static double
now(void)
{
	struct timespec ts;

	/* CPU time of this process: the machine is shared, and other
	 * processes' time slices are not ours to count. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static tuser A, B;
static uint8_t pt[MSG];

static void
session(nc_ratchet **a, nc_ratchet **b)
{
	if (tsession(&A, &B, 1, a, b) != 0)
		abort();
}

/* One message from s to r: encrypt + decrypt. */
static void
one(nc_ratchet *s, nc_ratchet *r, nc_buf *c, nc_buf *p)
{
	nc_buf_reset(c);
	nc_buf_reset(p);
	if (nc_ratchet_encrypt(s, c, pt, MSG) != 0 ||
	    nc_ratchet_decrypt(r, p, c->p, c->len) != 0 || p->len != MSG)
		abort();
}

static double
ours(int alternating, int n)
{
	nc_ratchet *a, *b;
	nc_buf c = NC_BUF_INIT, p = NC_BUF_INIT;
	double t;

	session(&a, &b);
	one(a, b, &c, &p);   /* b can send from here on */
	t = now();
	for (int i = 0; i < n; i++) {
		if (alternating && (i & 1))
			one(b, a, &c, &p);
		else
			one(a, b, &c, &p);
	}
	t = now() - t;
	nc_buf_free(&c);
	nc_buf_free(&p);
	nc_ratchet_free(a);
	nc_ratchet_free(b);
	return n / t;
}

static void
floor_ck(uint8_t ck[32], uint8_t mk[32])
{
	static const uint8_t one_ = 1, two = 2;

	crypto_auth_hmacsha256(mk, &one_, 1, ck);
	crypto_auth_hmacsha256(ck, &two, 1, ck);
}

static double
floor_rate(int alternating, int n)
{
	uint8_t rk[32], cks[32], ckr[32], mk[32], mk2[32], o[64], dh[32];
	uint8_t sk_a[32], pk_a[32], sk_b[32], pk_b[32], nonce[24];
	uint8_t ct[MSG + 16], out[MSG];
	unsigned long long l;
	double t;

	randombytes_buf(rk, 32);
	randombytes_buf(cks, 32);
	memcpy(ckr, cks, 32);
	randombytes_buf(sk_a, 32);
	randombytes_buf(sk_b, 32);
	crypto_scalarmult_base(pk_a, sk_a);
	crypto_scalarmult_base(pk_b, sk_b);
	t = now();
	for (int i = 0; i < n; i++) {
		floor_ck(cks, mk);
		randombytes_buf(nonce, sizeof nonce);
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &l, pt, MSG, rk, 32,
		    NULL, nonce, mk);
		if (alternating) {
			/* receiver: DH with the new key, KDF_RK; new own key,
			 * DH, KDF_RK */
			if (crypto_scalarmult(dh, sk_b, pk_a) != 0 ||
			    nc_hkdf(o, 64, rk, 32, dh, 32, (const uint8_t *)"x", 1) != 0)
				abort();
			memcpy(ckr, o + 32, 32);
			randombytes_buf(sk_b, 32);
			crypto_scalarmult_base(pk_b, sk_b);
			if (crypto_scalarmult(dh, sk_b, pk_a) != 0 ||
			    nc_hkdf(o, 64, o, 32, dh, 32, (const uint8_t *)"x", 1) != 0)
				abort();
			memcpy(cks, ckr, 32);   /* keep the stream decryptable */
		}
		floor_ck(ckr, mk2);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &l, NULL, ct,
		    sizeof ct, rk, 32, nonce, mk2) != 0 && !alternating)
			abort();
		if (!alternating)
			continue;
		memcpy(ckr, cks, 32);
	}
	t = now() - t;
	return n / t;
}

/* Whole envelopes: payload + ratchet + seal + envelope, and back. */
static double
envelopes(int alternating, int n, int seal_only)
{
	nc_ratchet *st[2];
	tuser *u[2] = { &A, &B };
	nc_cert c[2];
	nc_buf e = NC_BUF_INIT, ub = NC_BUF_INIT, pb = NC_BUF_INIT;
	nc_payload pl = { NC_PL_TEXT, { 1 }, 1700000000, pt, MSG, 0, NULL, NC_PL_NOGOSSIP }, q;
	nc_unsealed un;
	uint8_t id[16];
	double t;

	session(&st[0], &st[1]);
	for (int i = 0; i < 2; i++) {
		memset(&c[i], 0, sizeof c[i]);
		c[i].who = u[i]->party;
		c[i].devlist_version = 1;
	}
	t = now();
	for (int i = -1; i < n; i++) {
		int s = alternating && (i & 1) && i >= 0, r = !s;
		if (i == 0)
			t = now();   /* the first (prekey) message is warm-up */
		nc_buf_reset(&e);
		nc_buf_reset(&ub);
		nc_buf_reset(&pb);
		if (seal_only) {
			/* 2: without the static-DH cache */
			nc_device ds = *u[s]->dev, dr = *u[r]->dev;
			if (seal_only == 2)
				ds.dhcache = dr.dhcache = NULL;
			memset(id, 7, 16);
			if (nc_seal(&e, &ds, &c[s], id, u[r]->party.dev,
			    u[r]->party.dh_pk, NULL, pt, MSG + 86) != 0 ||
			    nc_unseal(&un, &ub, &dr, id, e.p, e.len) != 0)
				abort();
			sodium_memzero(&ds, sizeof ds);
			sodium_memzero(&dr, sizeof dr);
			continue;
		}
		if (nc_envelope_make(&e, id, st[s], u[s]->dev, &c[s], u[r]->party.dev,
		    u[r]->party.dh_pk, &pl) != 0 ||
		    nc_envelope_open(&un, &ub, id, u[r]->dev, e.p, e.len) != 0 ||
		    nc_envelope_decrypt(&q, &pb, st[r], &un) != 0)
			abort();
	}
	t = now() - t;
	nc_buf_free(&e);
	nc_buf_free(&ub);
	nc_buf_free(&pb);
	nc_ratchet_free(st[0]);
	nc_ratchet_free(st[1]);
	return n / t;
}

static double
x25519_rate(int n)
{
	uint8_t sk[32], pk[32], out[32];
	double t;

	randombytes_buf(sk, 32);
	crypto_scalarmult_base(pk, sk);
	t = now();
	for (int i = 0; i < n; i++)
		if (crypto_scalarmult(out, sk, pk) != 0)
			abort();
	t = now() - t;
	return n / t;
}

#define ROUNDS 5

/* Best of ROUNDS, ours and the floor interleaved so both see the same
 * machine. */
static void
pair(const char *name, int alternating, int n)
{
	double o = 0, f = 0, x;

	for (int r = 0; r < ROUNDS; r++) {
		if ((x = ours(alternating, n)) > o)
			o = x;
		if ((x = floor_rate(alternating, n)) > f)
			f = x;
	}
	printf("ours_%s %.0f\nfloor_%s %.0f\n", name, o, name, f);
}

static double
best_env(int a, int n, int s)
{
	double b = 0, x;

	for (int r = 0; r < ROUNDS; r++)
		if ((x = envelopes(a, n, s)) > b)
			b = x;
	return b;
}

int
main(int argc, char **argv)
{
	int alt = argc > 1 ? atoi(argv[1]) : 1000, burst = 10000;

	if (sodium_init() < 0)
		return 2;
	tuser_make(&A, "alice@a.test");
	tuser_make(&B, "bob@b.test");
	memset(pt, 'm', sizeof pt);
	pair("alternating", 1, alt);
	pair("burst", 0, burst);
	printf("envelope_alternating %.0f\n", best_env(1, alt, 0));
	printf("envelope_burst %.0f\n", best_env(0, burst / 4, 0));
	printf("seal_open_only %.0f\n", best_env(0, alt, 1));
	printf("seal_open_uncached %.0f\n", best_env(0, alt, 2));
	printf("x25519_per_sec %.0f\n", x25519_rate(2000));
	tuser_free(&A);
	tuser_free(&B);
	return 0;
}
