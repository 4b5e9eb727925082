/* hkdf.h - HKDF-SHA256 (RFC 5869) over libsodium's HMAC-SHA256, which
 * libsodium 1.0.18 lacks. Keys, salts and info may be of any length. */
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

#endif
