/* vrf.h - ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381, suite 0x03) on
 * libsodium's edwards25519: the key log's labels are VRF outputs of
 * user names, so that the directory cannot be enumerated, while the relay
 * proves each label belongs to the name asked for.
 *
 * Keys are Ed25519's: a 32-byte seed, the public key as crypto_sign makes
 * it. A proof is Gamma (32) || c (16) || s (32); the output (beta) 64 bytes. */
#ifndef NC_VRF_H
#define NC_VRF_H

#include <stddef.h>
#include <stdint.h>

#define NC_VRF_SEED 32
#define NC_VRF_PK 32
#define NC_VRF_PROOF 80
#define NC_VRF_OUTPUT 64

/* The public key of a seed (crypto_sign_seed_keypair's). */
void nc_vrf_public(uint8_t pk[NC_VRF_PK], const uint8_t seed[NC_VRF_SEED]);

/* pi for alpha under the key; 0, or NC_ESOFTWARE if alpha hashes to no
 * point in 256 tries (never happens: each try succeeds with 1/2). */
int nc_vrf_prove(uint8_t proof[NC_VRF_PROOF], const uint8_t seed[NC_VRF_SEED],
    const uint8_t *alpha, size_t alphalen) __attribute__((warn_unused_result));

/* 0 and beta if proof is pk's proof for alpha; NC_ESECURITY if not (a bad
 * key, a point that does not decode, s not reduced, a wrong challenge). */
int nc_vrf_verify(uint8_t beta[NC_VRF_OUTPUT], const uint8_t pk[NC_VRF_PK],
    const uint8_t proof[NC_VRF_PROOF], const uint8_t *alpha, size_t alphalen)
	__attribute__((warn_unused_result));

/* beta from a proof the caller made (after nc_vrf_prove). */
int nc_vrf_output(uint8_t beta[NC_VRF_OUTPUT], const uint8_t proof[NC_VRF_PROOF])
	__attribute__((warn_unused_result));

#endif
