/* hkdf.h - HKDF (RFC 5869) over libsodium's HMAC-SHA256 and HMAC-SHA512,
 * which libsodium 1.0.18 lacks: SHA-256 for the messaging protocol,
 * SHA-512 for OPAQUE. Keys, salts and info may be of any length. */
#ifndef NC_HKDF_H
#define NC_HKDF_H

#include <stddef.h>
#include <stdint.h>

#define NC_HKDF_PRKBYTES 32                    /* SHA-256 output */
#define NC_HKDF_MAXBYTES (255 * NC_HKDF_PRKBYTES)

/* PRK = HMAC(salt, ikm); an empty salt means 32 zero bytes. Returns 0. */
int nc_hkdf_extract(uint8_t prk[NC_HKDF_PRKBYTES], const uint8_t *salt,
    size_t saltlen, const uint8_t *ikm, size_t ikmlen);

/* out = T(1) || T(2) || ... truncated to outlen bytes. 0, or NC_ESOFTWARE
 * (with nc_fail) when outlen > NC_HKDF_MAXBYTES: out is then untouched. */
int nc_hkdf_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
	__attribute__((warn_unused_result));

/* Extract then expand, wiping the PRK. */
int nc_hkdf(uint8_t *out, size_t outlen, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen)
	__attribute__((warn_unused_result));

#define NC_HKDF512_PRKBYTES 64
#define NC_HKDF512_MAXBYTES (255 * NC_HKDF512_PRKBYTES)

/* The same with HMAC-SHA512: an empty salt means 64 zero bytes. */
int nc_hkdf512_extract(uint8_t prk[NC_HKDF512_PRKBYTES], const uint8_t *salt,
    size_t saltlen, const uint8_t *ikm, size_t ikmlen);
int nc_hkdf512_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
    size_t prklen, const uint8_t *info, size_t infolen)
	__attribute__((warn_unused_result));

#endif
