/* vrf.c - RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI, composed of libsodium's
 * edwards25519 point and scalar operations and SHA-512.
 *
 * One pitfall of libsodium 1.0.18: crypto_core_ed25519_is_valid_point and
 * the scalar multiplications accept only points of the prime-order
 * subgroup, while try-and-increment takes any point on the curve and then
 * multiplies it by the cofactor. A candidate is therefore tested, and the
 * cofactor cleared, with crypto_core_ed25519_add (which asks only that its
 * operands decode to points on the curve): 8P = ((P + P) + 2P) + 4P. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "vrf.h"

#define SUITE 0x03
#define CLEN 16

/* 8P, or -1 if p does not decode to a point on the curve */
static int
times8(uint8_t out[32], const uint8_t p[32])
{
	uint8_t a[32], b[32];

	if (crypto_core_ed25519_add(a, p, p) != 0 ||
	    crypto_core_ed25519_add(b, a, a) != 0 ||
	    crypto_core_ed25519_add(out, b, b) != 0)
		return -1;
	return 0;
}

/* RFC 8032 5.1.3 asks a canonical encoding: y below p = 2^255 - 19 */
static int
canonical(const uint8_t p[32])
{
	static const uint8_t pm[32] = {   /* p, little-endian */
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	uint8_t y[32];
	int i;

	memcpy(y, p, 32);
	y[31] &= 0x7f;
	for (i = 31; i >= 0; i--)
		if (y[i] != pm[i])
			return y[i] < pm[i];
	return 0;
}

/* 5.4.1.1 encode_to_curve_try_and_increment, salt = the public key */
static int
hash_to_curve(uint8_t h[32], const uint8_t pk[32], const uint8_t *alpha,
    size_t alphalen)
{
	crypto_hash_sha512_state st;
	uint8_t d[64], head[2] = { SUITE, 0x01 }, ctr[2] = { 0, 0x00 };
	unsigned i;

	for (i = 0; i < 256; i++) {
		ctr[0] = (uint8_t)i;
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, head, 2);
		crypto_hash_sha512_update(&st, pk, 32);
		crypto_hash_sha512_update(&st, alpha, alphalen);
		crypto_hash_sha512_update(&st, ctr, 2);
		crypto_hash_sha512_final(&st, d);
		if (canonical(d) && times8(h, d) == 0)
			return 0;
	}
	return nc_fail(NC_ESOFTWARE, "vrf: no point in 256 tries");
}

/* 5.4.3 challenge_generation: the first 16 bytes of SHA-512(suite || 2 ||
 * P1..P5 || 0), as a scalar */
static void
challenge(uint8_t c[32], const uint8_t *p1, const uint8_t *p2, const uint8_t *p3,
    const uint8_t *p4, const uint8_t *p5)
{
	crypto_hash_sha512_state st;
	uint8_t d[64], head[2] = { SUITE, 0x02 };

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, head, 2);
	crypto_hash_sha512_update(&st, p1, 32);
	crypto_hash_sha512_update(&st, p2, 32);
	crypto_hash_sha512_update(&st, p3, 32);
	crypto_hash_sha512_update(&st, p4, 32);
	crypto_hash_sha512_update(&st, p5, 32);
	crypto_hash_sha512_update(&st, (const uint8_t *)"\0", 1);
	crypto_hash_sha512_final(&st, d);
	memset(c, 0, 32);
	memcpy(c, d, CLEN);
}

void
nc_vrf_public(uint8_t pk[NC_VRF_PK], const uint8_t seed[NC_VRF_SEED])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof sk);
}

int
nc_vrf_prove(uint8_t proof[NC_VRF_PROOF], const uint8_t seed[NC_VRF_SEED],
    const uint8_t *alpha, size_t alphalen)
{
	crypto_hash_sha512_state st;
	uint8_t hs[64], x[32], pk[32], h[32], k[32], kb[32], kh[32], c[32], cx[32];
	int rc;

	/* 5.1 step 1, RFC 8032 5.1.5: x is the clamped first half of SHA-512(SK) */
	crypto_hash_sha512(hs, seed, NC_VRF_SEED);
	memcpy(x, hs, 32);
	x[0] &= 248;
	x[31] &= 127;
	x[31] |= 64;
	nc_vrf_public(pk, seed);
	if ((rc = hash_to_curve(h, pk, alpha, alphalen)) != 0)
		goto done;
	/* 5.4.2.2 nonce: SHA-512(second half of SHA-512(SK) || H) mod q */
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, hs + 32, 32);
	crypto_hash_sha512_update(&st, h, 32);
	crypto_hash_sha512_final(&st, hs);
	crypto_core_ed25519_scalar_reduce(k, hs);
	if (crypto_scalarmult_ed25519_noclamp(proof, x, h) != 0 ||   /* Gamma */
	    crypto_scalarmult_ed25519_base_noclamp(kb, k) != 0 ||
	    crypto_scalarmult_ed25519_noclamp(kh, k, h) != 0) {
		rc = nc_fail(NC_ESOFTWARE, "vrf: degenerate point");
		goto done;
	}
	challenge(c, pk, h, proof, kb, kh);
	memcpy(proof + 32, c, CLEN);
	crypto_core_ed25519_scalar_mul(cx, c, x);   /* s = k + c x mod q */
	crypto_core_ed25519_scalar_add(proof + 32 + CLEN, k, cx);
done:
	sodium_memzero(hs, sizeof hs);
	sodium_memzero(x, sizeof x);
	sodium_memzero(k, sizeof k);
	sodium_memzero(kh, sizeof kh);
	sodium_memzero(kb, sizeof kb);
	sodium_memzero(cx, sizeof cx);
	sodium_memzero(&st, sizeof st);
	return rc;
}

int
nc_vrf_output(uint8_t beta[NC_VRF_OUTPUT], const uint8_t proof[NC_VRF_PROOF])
{
	crypto_hash_sha512_state st;
	uint8_t g8[32], head[2] = { SUITE, 0x03 };

	if (!canonical(proof) || times8(g8, proof) != 0)
		return nc_fail(NC_ESECURITY, "vrf: Gamma is not a point");
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, head, 2);
	crypto_hash_sha512_update(&st, g8, 32);
	crypto_hash_sha512_update(&st, (const uint8_t *)"\0", 1);
	crypto_hash_sha512_final(&st, beta);
	return 0;
}

/* s below the group order q (a scalar libsodium reduces to itself) */
static int
reduced(const uint8_t s[32])
{
	uint8_t wide[64] = { 0 }, r[32];

	memcpy(wide, s, 32);
	crypto_core_ed25519_scalar_reduce(r, wide);
	return sodium_memcmp(r, s, 32) == 0;
}

int
nc_vrf_verify(uint8_t beta[NC_VRF_OUTPUT], const uint8_t pk[NC_VRF_PK],
    const uint8_t proof[NC_VRF_PROOF], const uint8_t *alpha, size_t alphalen)
{
	const uint8_t *gamma = proof, *s = proof + 32 + CLEN;
	uint8_t c[32] = { 0 }, h[32], sb[32], cy[32], sh[32], cg[32], u[32], v[32], c2[32];

	/* a key of the prime-order subgroup, not of small order (validate_key);
	 * a client verifies many proofs under its provider's one key, so the
	 * last key found valid is remembered (a quarter of the verification's
	 * decoding work) */
	static _Thread_local uint8_t valid_pk[NC_VRF_PK];
	static _Thread_local int have_valid;

	if (!have_valid || sodium_memcmp(valid_pk, pk, NC_VRF_PK) != 0) {
		if (!crypto_core_ed25519_is_valid_point(pk))
			return nc_fail(NC_ESECURITY, "vrf: not a valid public key");
		memcpy(valid_pk, pk, NC_VRF_PK);
		have_valid = 1;
	}
	memcpy(c, proof + 32, CLEN);
	if (!canonical(gamma) || !reduced(s))
		return nc_fail(NC_ESECURITY, "vrf: proof does not decode");
	if (hash_to_curve(h, pk, alpha, alphalen) != 0)
		return NC_ESOFTWARE;
	/* U = s B - c Y, V = s H - c Gamma. Gamma outside the prime-order
	 * subgroup is refused by the multiplication: no honest proof has one. */
	if (crypto_scalarmult_ed25519_base_noclamp(sb, s) != 0 ||
	    crypto_scalarmult_ed25519_noclamp(cy, c, pk) != 0 ||
	    crypto_scalarmult_ed25519_noclamp(sh, s, h) != 0 ||
	    crypto_scalarmult_ed25519_noclamp(cg, c, gamma) != 0 ||
	    crypto_core_ed25519_sub(u, sb, cy) != 0 ||
	    crypto_core_ed25519_sub(v, sh, cg) != 0)
		return nc_fail(NC_ESECURITY, "vrf: proof does not verify");
	challenge(c2, pk, h, gamma, u, v);
	if (sodium_memcmp(c, c2, 32) != 0)
		return nc_fail(NC_ESECURITY, "vrf: proof does not verify");
	return nc_vrf_output(beta, proof);
}
