/* hkdf.c - HKDF, RFC 5869, on crypto_auth_hmacsha256's and
 * crypto_auth_hmacsha512's multi-part API (the one-shot forms take only
 * fixed-size keys). */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"

int
nc_hkdf_extract(uint8_t prk[NC_HKDF_PRKBYTES], const uint8_t *salt,
    size_t saltlen, const uint8_t *ikm, size_t ikmlen)
{
	static const uint8_t zero[NC_HKDF_PRKBYTES];
	crypto_auth_hmacsha256_state st;

	if (saltlen == 0)   /* RFC 5869 2.2: HashLen zeros */
		salt = zero, saltlen = sizeof zero;
	crypto_auth_hmacsha256_init(&st, salt, saltlen);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	sodium_memzero(&st, sizeof st);
	return 0;
}

int
nc_hkdf_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
{
	crypto_auth_hmacsha256_state st;
	uint8_t t[NC_HKDF_PRKBYTES];
	size_t done = 0, k;
	unsigned char i;

	if (outlen > NC_HKDF_MAXBYTES)
		return nc_fail(NC_ESOFTWARE, "hkdf: output longer than %d bytes",
		    NC_HKDF_MAXBYTES);
	for (i = 1; done < outlen; i++) {
		crypto_auth_hmacsha256_init(&st, prk, prklen);
		if (i > 1)   /* T(i) = HMAC(PRK, T(i-1) || info || i) */
			crypto_auth_hmacsha256_update(&st, t, sizeof t);
		if (infolen > 0)
			crypto_auth_hmacsha256_update(&st, info, infolen);
		crypto_auth_hmacsha256_update(&st, &i, 1);
		crypto_auth_hmacsha256_final(&st, t);
		k = outlen - done < sizeof t ? outlen - done : sizeof t;
		memcpy(out + done, t, k);
		done += k;
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(t, sizeof t);
	return 0;
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
	static const uint8_t zero[NC_HKDF512_PRKBYTES];
	crypto_auth_hmacsha512_state st;

	if (saltlen == 0)
		salt = zero, saltlen = sizeof zero;
	crypto_auth_hmacsha512_init(&st, salt, saltlen);
	crypto_auth_hmacsha512_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha512_final(&st, prk);
	sodium_memzero(&st, sizeof st);
	return 0;
}

int
nc_hkdf512_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
{
	crypto_auth_hmacsha512_state st;
	uint8_t t[NC_HKDF512_PRKBYTES];
	size_t done = 0, k;
	unsigned char i;

	if (outlen > NC_HKDF512_MAXBYTES)
		return nc_fail(NC_ESOFTWARE, "hkdf: output longer than %d bytes",
		    NC_HKDF512_MAXBYTES);
	for (i = 1; done < outlen; i++) {
		crypto_auth_hmacsha512_init(&st, prk, prklen);
		if (i > 1)
			crypto_auth_hmacsha512_update(&st, t, sizeof t);
		if (infolen > 0)
			crypto_auth_hmacsha512_update(&st, info, infolen);
		crypto_auth_hmacsha512_update(&st, &i, 1);
		crypto_auth_hmacsha512_final(&st, t);
		k = outlen - done < sizeof t ? outlen - done : sizeof t;
		memcpy(out + done, t, k);
		done += k;
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(t, sizeof t);
	return 0;
}
