/* opaque-login.c - what an OPAQUE login costs (not part of make check;
 * t/bench/opaque.sh builds and runs it):
 *   1. the client's whole login (KE1, KE3 with Argon2id at the cost name
 *      COST) beside Argon2id alone at that cost, wall time, best of N;
 *   2. the relay's CPU per login: KE2 from a record, the token sealed,
 *      then KE3 checked and the token opened, mean over M.
 * Usage: opaque-login [interactive|moderate|sensitive [N [M]]]; prints
 * "name value unit" lines. opaque-login ke1 FILE writes the body of a
 * login request (u8 2, KE1) for wrk (t/bench/login.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "opaque.h"

static double
secs(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "opaque-login: %s failed\n", what);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	const char *cost = argc > 1 ? argv[1] : "moderate";
	int n = argc > 2 ? atoi(argv[2]) : 3, m = argc > 3 ? atoi(argv[3]) : 300, i;
	static const uint8_t pw[] = "correct horse battery staple";
	static const char addr[] = "alice@a.test", dom[] = "a.test", ctx[] = "newchat opaque v1";
	struct nc_opaque_ids ids = { (const uint8_t *)ctx, sizeof ctx - 1,
	    (const uint8_t *)addr, (const uint8_t *)dom, sizeof addr - 1, sizeof dom - 1 };
	struct nc_opaque_ksf ksf;
	struct nc_opaque_client c;
	struct nc_opaque_server s;
	uint8_t seed[32], sk[32], pk[32], oprf[64], req[32], resp[64], rec[192];
	uint8_t ex[64], ke1[96], ke2[320], ke3[64], sess[64], sess2[64], out[64];
	uint8_t tkey[32], tok[24 + 152 + 16], pt[152];
	double best = 1e9, bestk = 1e9, t0, cpu;

	must(sodium_init() >= 0, "sodium_init");
	if (strcmp(cost, "ke1") == 0 && argc == 3) {
		FILE *f = fopen(argv[2], "wb");
		uint8_t v = 2;

		must(f != NULL && nc_opaque_ke1(&c, ke1, pw, sizeof pw - 1) == 0 &&
		    fwrite(&v, 1, 1, f) == 1 && fwrite(ke1, 1, sizeof ke1, f) == sizeof ke1 &&
		    fclose(f) == 0, "ke1");
		return 0;
	}
	if (strcmp(cost, "interactive") == 0) {
		ksf.ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		ksf.mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(cost, "sensitive") == 0) {
		ksf.ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		ksf.mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
	} else {
		ksf.ops = crypto_pwhash_OPSLIMIT_MODERATE;
		ksf.mem = crypto_pwhash_MEMLIMIT_MODERATE;
	}
	randombytes_buf(seed, sizeof seed);
	randombytes_buf(oprf, sizeof oprf);
	randombytes_buf(tkey, sizeof tkey);
	must(nc_opaque_server_keypair(sk, pk, seed) == 0, "keypair");
	must(nc_opaque_reg_start(&c, req, pw, sizeof pw - 1) == 0 &&
	    nc_opaque_reg_respond(resp, req, pk, (const uint8_t *)addr, sizeof addr - 1,
	    oprf) == 0 && nc_opaque_reg_finish(&c, rec, ex, pw, sizeof pw - 1, resp,
	    &ids, &ksf) == 0, "registration");
	for (i = 0; i < n; i++) {
		/* Argon2id alone, as the KSF runs it (salt zero, 64 bytes) */
		uint8_t salt[16] = { 0 };
		t0 = secs(CLOCK_MONOTONIC);
		must(crypto_pwhash(out, 64, (const char *)pw, sizeof pw - 1, salt,
		    ksf.ops, ksf.mem, crypto_pwhash_ALG_ARGON2ID13) == 0, "argon2id");
		t0 = secs(CLOCK_MONOTONIC) - t0;
		if (t0 < bestk)
			bestk = t0;
		/* the client's side of a login (the relay's KE2 made beforehand
		 * is not the client's time) */
		must(nc_opaque_ke1(&c, ke1, pw, sizeof pw - 1) == 0, "ke1");
		must(nc_opaque_ke2(&s, ke2, &ids, sk, pk, rec, (const uint8_t *)addr,
		    sizeof addr - 1, oprf, ke1) == 0, "ke2");
		t0 = secs(CLOCK_MONOTONIC);
		must(nc_opaque_ke1(&c, ke1, pw, sizeof pw - 1) == 0, "ke1");
		t0 = secs(CLOCK_MONOTONIC) - t0;
		must(nc_opaque_ke2(&s, ke2, &ids, sk, pk, rec, (const uint8_t *)addr,
		    sizeof addr - 1, oprf, ke1) == 0, "ke2");
		{
			double t1 = secs(CLOCK_MONOTONIC);
			must(nc_opaque_ke3(&c, ke3, sess, ex, pw, sizeof pw - 1, ke2,
			    &ids, &ksf) == 0, "ke3");
			t0 += secs(CLOCK_MONOTONIC) - t1;
		}
		if (t0 < best)
			best = t0;
	}
	/* The relay: KE2, the token sealed; KE3 compared, the token opened. */
	t0 = secs(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < m; i++) {
		must(nc_opaque_ke2(&s, ke2, &ids, sk, pk, rec, (const uint8_t *)addr,
		    sizeof addr - 1, oprf, ke1) == 0, "ke2");
		memcpy(pt + 24, s.expected_ke3, 64);
		memcpy(pt + 88, s.session_key, 64);
		randombytes_buf(tok, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(tok + 24, NULL, pt, sizeof pt,
		    (const uint8_t *)addr, sizeof addr - 1, NULL, tok, tkey);
		must(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, tok + 24,
		    sizeof tok - 24, (const uint8_t *)addr, sizeof addr - 1, tok, tkey) == 0,
		    "token");
		(void)!sodium_memcmp(pt + 24, ke3, 64);
		(void)!nc_opaque_server_finish(&s, sess2, s.expected_ke3);
	}
	cpu = (secs(CLOCK_PROCESS_CPUTIME_ID) - t0) / m;
	printf("argon2id_%s %.1f ms\n", cost, bestk * 1e3);
	printf("client_login_%s %.1f ms\n", cost, best * 1e3);
	printf("relay_cpu_per_login %.3f ms\n", cpu * 1e3);
	return 0;
}
