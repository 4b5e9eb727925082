/* test-vrf.c - ECVRF-EDWARDS25519-SHA512-TAI (lib/proto/vrf.c) against RFC
 * 9381's examples 16-18 (t/vectors/vrf-rfc9381.txt): the public key, the
 * proof byte for byte and the output; then refusals: every byte of a
 * proof changed, another input, another key, s not reduced, a key of small
 * order, and a Gamma outside the prime-order subgroup. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "vrf.h"
#include "check.h"

static size_t
unhex(uint8_t *out, size_t max, const char *s)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	if (sodium_hex2bin(out, max, s, strlen(s), NULL, &n, NULL) != 0)
		return (size_t)-1;
	return n;
}

static void
refusals(const uint8_t seed[32], const uint8_t pk[32], const uint8_t *alpha, size_t an,
    const uint8_t pi[80])
{
	uint8_t bad[80], beta[64], other[32], ones[32];
	size_t i;
	int refused = 0;

	for (i = 0; i < 80; i++) {
		memcpy(bad, pi, 80);
		bad[i] ^= 0x04;
		refused += nc_vrf_verify(beta, pk, bad, alpha, an) == NC_ESECURITY;
	}
	CHECK_INT(refused, 80);
	CHECK_INT(nc_vrf_verify(beta, pk, pi, (const uint8_t *)"x", 1), NC_ESECURITY);
	memcpy(other, seed, 32);
	other[0] ^= 1;
	nc_vrf_public(other, other);
	CHECK_INT(nc_vrf_verify(beta, other, pi, alpha, an), NC_ESECURITY);
	/* s + q: the same point, not reduced */
	{
		static const uint8_t q[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
		    0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0,
		    0, 0, 0, 0, 0, 0, 0, 0x10 };
		unsigned carry = 0;
		memcpy(bad, pi, 80);
		for (i = 0; i < 32; i++) {
			carry += (unsigned)bad[48 + i] + q[i];
			bad[48 + i] = (uint8_t)carry;
			carry >>= 8;
		}
		CHECK_INT(nc_vrf_verify(beta, pk, bad, alpha, an), NC_ESECURITY);
	}
	/* a public key of small order (the identity) */
	memset(ones, 0, 32);
	ones[0] = 1;
	CHECK_INT(nc_vrf_verify(beta, ones, pi, alpha, an), NC_ESECURITY);
	/* Gamma plus a point of order 2 ((0, -1)): on the curve, not in the
	 * subgroup */
	{
		uint8_t t2[32];
		memset(t2, 0xff, 32);
		t2[0] = 0xec;
		t2[31] = 0x7f;
		memcpy(bad, pi, 80);
		CHECK_INT(crypto_core_ed25519_add(bad, pi, t2), 0);
		CHECK_INT(nc_vrf_verify(beta, pk, bad, alpha, an), NC_ESECURITY);
	}
}

int
main(void)
{
	FILE *f;
	char line[1024], *fld[5], *save;
	int n = 0, i;

	if (sodium_init() < 0)
		return 2;
	f = fopen("t/vectors/vrf-rfc9381.txt", "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof line, f)) {
		uint8_t seed[32], pk[32], alpha[64], pi[80], beta[64], mypk[32], mypi[80], out[64];
		size_t an, bn;
		const char *b;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		fld[0] = strtok_r(line, " \n", &save);
		for (i = 1; i < 5; i++)
			fld[i] = strtok_r(NULL, " \n", &save);
		if (fld[4] == NULL)
			continue;
		CHECK_INT(unhex(seed, 32, fld[0]), 32);
		CHECK_INT(unhex(pk, 32, fld[1]), 32);
		an = unhex(alpha, sizeof alpha, fld[2]);
		CHECK_INT(unhex(pi, 80, fld[3]), 80);
		b = fld[4];
		if (strstr(b, "..."))
			*strstr(fld[4], "...") = '\0';
		bn = unhex(beta, 64, b);
		CHECK(bn == 64 || (bn >= 14 && bn < 64));

		nc_vrf_public(mypk, seed);
		CHECK_MEM(mypk, pk, 32);
		CHECK_INT(nc_vrf_prove(mypi, seed, alpha, an), 0);
		CHECK_MEM(mypi, pi, 80);
		CHECK_INT(nc_vrf_verify(out, pk, pi, alpha, an), 0);
		CHECK_MEM(out, beta, bn);
		CHECK_INT(nc_vrf_output(out, mypi), 0);
		CHECK_MEM(out, beta, bn);
		refusals(seed, pk, alpha, an, pi);
		n++;
	}
	if (f)
		fclose(f);
	CHECK_INT(n, 3);
	printf("# RFC 9381 examples: %d\n", n);
	/* fresh keys and inputs: prove, verify, same output */
	for (i = 0; i < 50; i++) {
		uint8_t seed[32], pk[32], pi[80], b1[64], b2[64], alpha[20];
		randombytes_buf(seed, sizeof seed);
		randombytes_buf(alpha, sizeof alpha);
		nc_vrf_public(pk, seed);
		CHECK_INT(nc_vrf_prove(pi, seed, alpha, (size_t)i % sizeof alpha), 0);
		CHECK_INT(nc_vrf_verify(b1, pk, pi, alpha, (size_t)i % sizeof alpha), 0);
		CHECK_INT(nc_vrf_output(b2, pi), 0);
		CHECK_MEM(b1, b2, 64);
	}
	return check_done("vrf");
}
