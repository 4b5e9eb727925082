/* oprf.h - the OPRF of RFC 9497 in its base mode (0x00) with the suite
 * ristretto255-SHA512, on libsodium's ristretto255: what OPAQUE (opaque.h)
 * is built on. Scalars and elements are 32-byte canonical encodings.
 * Also RFC 9380's expand_message_xmd with SHA-512, which hashing to the
 * group and to scalars uses. */
#ifndef NC_OPRF_H
#define NC_OPRF_H

#include <stddef.h>
#include <stdint.h>

#define NC_OPRF_SCALAR 32
#define NC_OPRF_ELEMENT 32
#define NC_OPRF_OUTPUT 64        /* SHA-512 */

/* RFC 9380 5.3.1 with H = SHA-512: out gets outlen (1..255*64) bytes. */
int nc_xmd_sha512(uint8_t *out, size_t outlen, const uint8_t *msg,
    size_t msglen, const uint8_t *dst, size_t dstlen)
	__attribute__((warn_unused_result));

/* DeriveKeyPair(seed, info) of RFC 9497 3.2.1: sk nonzero, pk = sk*G. */
int nc_oprf_derive_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t *seed,
    size_t seedlen, const uint8_t *info, size_t infolen)
	__attribute__((warn_unused_result));

/* A blind: 32 random bytes (nc_random) below 2^252, so a canonical scalar;
 * drawn again if zero. */
void nc_oprf_random_scalar(uint8_t s[32]);

/* Blind: blinded = blind * HashToGroup(input). NC_EDATA if the input maps
 * to the identity (never, but checked). */
int nc_oprf_blind(uint8_t blinded[32], const uint8_t blind[32],
    const uint8_t *input, size_t inlen) __attribute__((warn_unused_result));

/* BlindEvaluate: evaluated = sk * blinded; NC_EDATA for an element that is
 * not a canonical ristretto255 encoding or is the identity. */
int nc_oprf_evaluate(uint8_t evaluated[32], const uint8_t sk[32],
    const uint8_t blinded[32]) __attribute__((warn_unused_result));

/* Finalize: out = SHA-512(len || input || len || blind^-1 * evaluated ||
 * "Finalize"); NC_EDATA for a bad element. */
int nc_oprf_finalize(uint8_t out[NC_OPRF_OUTPUT], const uint8_t *input,
    size_t inlen, const uint8_t blind[32], const uint8_t evaluated[32])
	__attribute__((warn_unused_result));

/* 1 if e is a canonical encoding of an element other than the identity. */
int nc_oprf_element_ok(const uint8_t e[32]);

#endif
