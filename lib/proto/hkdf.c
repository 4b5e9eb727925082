/* hkdf.c - HKDF, RFC 5869, on crypto_auth_hmacsha256's and
 * crypto_auth_hmacsha512's multi-part API (the one-shot forms take only
 * fixed-size keys). One expand serves both hashes. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"

/* HMAC(key, a || b || c) for one hash; empty parts may be NULL. */
typedef void (*hmac_fn)(uint8_t *out, const uint8_t *key, size_t keylen,
    const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c, size_t cn);

static void
hmac256(uint8_t *out, const uint8_t *key, size_t keylen, const uint8_t *a, size_t an,
    const uint8_t *b, size_t bn, const uint8_t *c, size_t cn)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	if (an)
		crypto_auth_hmacsha256_update(&st, a, an);
	if (bn)
		crypto_auth_hmacsha256_update(&st, b, bn);
	if (cn)
		crypto_auth_hmacsha256_update(&st, c, cn);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

static void
hmac512(uint8_t *out, const uint8_t *key, size_t keylen, const uint8_t *a, size_t an,
    const uint8_t *b, size_t bn, const uint8_t *c, size_t cn)
{
	crypto_auth_hmacsha512_state st;

	crypto_auth_hmacsha512_init(&st, key, keylen);
	if (an)
		crypto_auth_hmacsha512_update(&st, a, an);
	if (bn)
		crypto_auth_hmacsha512_update(&st, b, bn);
	if (cn)
		crypto_auth_hmacsha512_update(&st, c, cn);
	crypto_auth_hmacsha512_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* PRK = HMAC(salt, ikm); an empty salt means hashlen zero bytes. */
static void
extract(uint8_t *prk, size_t hashlen, hmac_fn mac, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen)
{
	static const uint8_t zero[64];

	if (saltlen == 0)   /* RFC 5869 2.2: HashLen zeros */
		salt = zero, saltlen = hashlen;
	mac(prk, salt, saltlen, ikm, ikmlen, NULL, 0, NULL, 0);
}

/* T(i) = HMAC(PRK, T(i-1) || info || i), out = T(1) || T(2) ... */
static int
expand(uint8_t *out, size_t outlen, size_t hashlen, hmac_fn mac, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
{
	uint8_t t[64];
	size_t done = 0, k;
	unsigned char i;

	if (outlen > 255 * hashlen)
		return nc_fail(NC_ESOFTWARE, "hkdf: output longer than %zu bytes", 255 * hashlen);
	for (i = 1; done < outlen; i++) {
		mac(t, prk, prklen, t, i > 1 ? hashlen : 0, info, infolen, &i, 1);
		k = outlen - done < hashlen ? outlen - done : hashlen;
		memcpy(out + done, t, k);
		done += k;
	}
	sodium_memzero(t, sizeof t);
	return 0;
}

int
nc_hkdf_extract(uint8_t prk[NC_HKDF_PRKBYTES], const uint8_t *salt,
    size_t saltlen, const uint8_t *ikm, size_t ikmlen)
{
	extract(prk, NC_HKDF_PRKBYTES, hmac256, salt, saltlen, ikm, ikmlen);
	return 0;
}

int
nc_hkdf_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
{
	return expand(out, outlen, NC_HKDF_PRKBYTES, hmac256, prk, prklen, info, infolen);
}

int
nc_hkdf(uint8_t *out, size_t outlen, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen)
{
	uint8_t prk[NC_HKDF_PRKBYTES];
	int rc;

	if (outlen > NC_HKDF_MAXBYTES)
		return nc_fail(NC_ESOFTWARE, "hkdf: output longer than %d bytes",
		    NC_HKDF_MAXBYTES);
	nc_hkdf_extract(prk, salt, saltlen, ikm, ikmlen);
	rc = nc_hkdf_expand(out, outlen, prk, sizeof prk, info, infolen);
	sodium_memzero(prk, sizeof prk);
	return rc;
}

int
nc_hkdf512_extract(uint8_t prk[NC_HKDF512_PRKBYTES], const uint8_t *salt,
    size_t saltlen, const uint8_t *ikm, size_t ikmlen)
{
	extract(prk, NC_HKDF512_PRKBYTES, hmac512, salt, saltlen, ikm, ikmlen);
	return 0;
}

int
nc_hkdf512_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
{
	return expand(out, outlen, NC_HKDF512_PRKBYTES, hmac512, prk, prklen, info, infolen);
}
