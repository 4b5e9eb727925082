/* oprf.c - RFC 9497 OPRF, mode 0x00, suite ristretto255-SHA512, composed
 * of libsodium's ristretto255 group, scalar arithmetic and SHA-512. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "oprf.h"
#include "rng.h"

/* contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier */
static const uint8_t ctx[] = "OPRFV1-\x00-ristretto255-SHA512";
#define CTX_LEN (sizeof ctx - 1)

int
nc_xmd_sha512(uint8_t *out, size_t outlen, const uint8_t *msg, size_t msglen,
    const uint8_t *dst, size_t dstlen)
{
	static const uint8_t zpad[128];   /* the hash's block size */
	crypto_hash_sha512_state st;
	uint8_t b0[64], bi[64], lib[2] = { (uint8_t)(outlen >> 8), (uint8_t)outlen };
	uint8_t dlen = (uint8_t)dstlen, i, k;
	size_t ell = (outlen + 63) / 64, done = 0, n;

	if (outlen == 0 || ell > 255 || dstlen > 255)
		return nc_fail(NC_ESOFTWARE, "expand_message_xmd: bad lengths");
	crypto_hash_sha512_init(&st);   /* b_0 = H(Z_pad || msg || l_i_b || 0 || DST') */
	crypto_hash_sha512_update(&st, zpad, sizeof zpad);
	crypto_hash_sha512_update(&st, msg, msglen);
	crypto_hash_sha512_update(&st, lib, 2);
	crypto_hash_sha512_update(&st, (const uint8_t *)"\0", 1);
	crypto_hash_sha512_update(&st, dst, dstlen);
	crypto_hash_sha512_update(&st, &dlen, 1);
	crypto_hash_sha512_final(&st, b0);
	memset(bi, 0, sizeof bi);
	for (i = 1; done < outlen; i++) {
		/* b_i = H((b_0 xor b_(i-1)) || i || DST'), b_0 xor 0 = b_0 */
		for (k = 0; k < 64; k++)
			bi[k] ^= b0[k];
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, bi, sizeof bi);
		crypto_hash_sha512_update(&st, &i, 1);
		crypto_hash_sha512_update(&st, dst, dstlen);
		crypto_hash_sha512_update(&st, &dlen, 1);
		crypto_hash_sha512_final(&st, bi);
		n = outlen - done < 64 ? outlen - done : 64;
		memcpy(out + done, bi, n);
		done += n;
	}
	sodium_memzero(b0, sizeof b0);
	sodium_memzero(bi, sizeof bi);
	sodium_memzero(&st, sizeof st);
	return 0;
}

/* DST = prefix || contextString */
static size_t
dst(uint8_t *d, const char *prefix)
{
	size_t n = strlen(prefix);

	memcpy(d, prefix, n);
	memcpy(d + n, ctx, CTX_LEN);
	return n + CTX_LEN;
}

static int
hash_to_group(uint8_t e[32], const uint8_t *in, size_t inlen)
{
	uint8_t u[64], d[64];
	int rc = nc_xmd_sha512(u, sizeof u, in, inlen, d, dst(d, "HashToGroup-"));

	if (rc == 0)
		crypto_core_ristretto255_from_hash(e, u);
	sodium_memzero(u, sizeof u);
	return rc;
}

int
nc_oprf_element_ok(const uint8_t e[32])
{
	static const uint8_t identity[32];

	return crypto_core_ristretto255_is_valid_point(e) &&
	    sodium_memcmp(e, identity, 32) != 0;
}

int
nc_oprf_derive_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t *seed,
    size_t seedlen, const uint8_t *info, size_t infolen)
{
	static const uint8_t zero[32];
	/* deriveInput = seed || I2OSP(len(info), 2) || info || counter */
	uint8_t in[64 + 2 + 64 + 1], u[64], d[64];
	size_t n = seedlen + 2 + infolen, dl = dst(d, "DeriveKeyPair");
	unsigned counter;
	int rc = 0;

	if (seedlen > 64 || infolen > 64)
		return nc_fail(NC_ESOFTWARE, "oprf: seed or info too long");
	memcpy(in, seed, seedlen);
	in[seedlen] = (uint8_t)(infolen >> 8);
	in[seedlen + 1] = (uint8_t)infolen;
	memcpy(in + seedlen + 2, info, infolen);
	for (counter = 0;; counter++) {
		if (counter > 255) {
			rc = nc_fail(NC_ESOFTWARE, "oprf: DeriveKeyPair found no key");
			break;
		}
		in[n] = (uint8_t)counter;
		if ((rc = nc_xmd_sha512(u, sizeof u, in, n + 1, d, dl)) != 0)
			break;
		crypto_core_ristretto255_scalar_reduce(sk, u);
		if (sodium_memcmp(sk, zero, 32) != 0)
			break;
	}
	if (rc == 0 && crypto_scalarmult_ristretto255_base(pk, sk) != 0)
		rc = nc_fail(NC_ESOFTWARE, "oprf: zero key");
	sodium_memzero(in, sizeof in);
	sodium_memzero(u, sizeof u);
	return rc;
}

void
nc_oprf_random_scalar(uint8_t s[32])
{
	static const uint8_t zero[32];

	do {
		nc_random(s, 32);
		s[31] &= 0x0f;   /* below 2^252 < L: canonical, near uniform */
	} while (sodium_memcmp(s, zero, 32) == 0);
}

int
nc_oprf_blind(uint8_t blinded[32], const uint8_t blind[32], const uint8_t *input,
    size_t inlen)
{
	uint8_t p[32];
	int rc;

	if ((rc = hash_to_group(p, input, inlen)) != 0)
		return rc;
	if (!nc_oprf_element_ok(p) || crypto_scalarmult_ristretto255(blinded, blind, p) != 0)
		rc = nc_fail(NC_EDATA, "oprf: input maps to the identity");
	sodium_memzero(p, sizeof p);
	return rc;
}

int
nc_oprf_evaluate(uint8_t evaluated[32], const uint8_t sk[32],
    const uint8_t blinded[32])
{
	if (!nc_oprf_element_ok(blinded) ||
	    crypto_scalarmult_ristretto255(evaluated, sk, blinded) != 0)
		return nc_fail(NC_EDATA, "oprf: blinded element is not a group element");
	return 0;
}

int
nc_oprf_finalize(uint8_t out[NC_OPRF_OUTPUT], const uint8_t *input, size_t inlen,
    const uint8_t blind[32], const uint8_t evaluated[32])
{
	crypto_hash_sha512_state st;
	uint8_t inv[32], n[32], len[2];
	int rc = 0;

	if (inlen > 0xffff)
		return nc_fail(NC_EDATA, "oprf: input longer than 65535 bytes");
	if (!nc_oprf_element_ok(evaluated) ||
	    crypto_core_ristretto255_scalar_invert(inv, blind) != 0 ||
	    crypto_scalarmult_ristretto255(n, inv, evaluated) != 0) {
		rc = nc_fail(NC_EDATA, "oprf: evaluated element is not a group element");
		goto done;
	}
	crypto_hash_sha512_init(&st);
	len[0] = (uint8_t)(inlen >> 8), len[1] = (uint8_t)inlen;
	crypto_hash_sha512_update(&st, len, 2);
	crypto_hash_sha512_update(&st, input, inlen);
	len[0] = 0, len[1] = 32;
	crypto_hash_sha512_update(&st, len, 2);
	crypto_hash_sha512_update(&st, n, 32);
	crypto_hash_sha512_update(&st, (const uint8_t *)"Finalize", 8);
	crypto_hash_sha512_final(&st, out);
	sodium_memzero(&st, sizeof st);
done:
	sodium_memzero(inv, sizeof inv);
	sodium_memzero(n, sizeof n);
	return rc;
}
