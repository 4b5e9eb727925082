/* keys.h - long-lived keys: the user identity key, a device's keys, signed
 * and one-time prekeys, fingerprints and safety numbers (protocol.md 2.2).
 * Secret-holding objects come from the _gen and _decode functions in sodium_malloc'd
 * memory and are wiped by *_free. Every encoding starts with u8 version 1
 * and a type byte (NC_KT_*). */
#ifndef NC_KEYS_H
#define NC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "devlist.h"

/* Type bytes of key encodings (public 0x0_, secret 0x8_). */
enum {
	NC_KT_IDENTITY_PK = 0x01,   /* user identity key, Ed25519 */
	NC_KT_SIGN_PK = 0x02,       /* device signing key, Ed25519 */
	NC_KT_DH_PK = 0x03,         /* device identity DH key, X25519 */
	NC_KT_SPK_PK = 0x04,        /* signed prekey, X25519 */
	NC_KT_OTPK_PK = 0x05,       /* one-time prekey, X25519 */
	NC_KT_IDENTITY_SK = 0x81,
	NC_KT_DEVICE_SK = 0x82,
	NC_KT_SPK_SK = 0x84,
	NC_KT_OTPK_SK = 0x85
};

/* User identity key (Ed25519). */
typedef struct {
	uint8_t pk[32];
	uint8_t sk[64];
} nc_idkey;

/* A device: Ed25519 signing key + X25519 identity (DH) key. */
typedef struct {
	uint8_t id[NC_DEVID_LEN];   /* BLAKE2b-128(sign_pk) */
	uint8_t sign_pk[32];
	uint8_t sign_sk[64];
	uint8_t dh_pk[32];
	uint8_t dh_sk[32];
	/* Static DH results with peer devices (sealed sender computes the
	 * same X25519 for every envelope), in sodium_malloc'd memory, made by
	 * nc_device_gen/decode; NULL means none. One thread per device. */
	struct nc_dhcache *dhcache;
	/* Between nc_seal_share_begin and _end (seal.h): the ephemeral the
	 * envelopes sealed meanwhile share; NULL otherwise. */
	struct nc_sealshare *share;
} nc_device;

/* Signed prekey: X25519 key pair signed by the device signing key over
 * "newchat spk v1" 0x00 || u32 id || pk. */
typedef struct {
	uint32_t id;
	uint64_t created;   /* unix seconds, for rotation */
	uint8_t pk[32];
	uint8_t sk[32];
	uint8_t sig[64];
} nc_spk;

/* One-time prekey. */
typedef struct {
	uint32_t id;
	uint8_t pk[32];
	uint8_t sk[32];
} nc_otpk;

/* Encoded sizes (u8 1, u8 type, ...). */
#define NC_IDKEY_SK_ENC 34          /* 1, 0x81, fixed[32] seed */
#define NC_DEVICE_SK_ENC 66         /* 1, 0x82, fixed[32] sign seed, fixed[32] dh sk */
#define NC_SPK_SK_ENC 142           /* 1, 0x84, u32 id, u64 created, pk, sk, sig */
#define NC_OTPK_SK_ENC 70           /* 1, 0x85, u32 id, pk, sk */
#define NC_PK_ENC 34                /* 1, type, fixed[32] */

/* Signed prekey rotation: a new one every week; the previous one is kept
 * (to answer late first messages) for a grace period. */
#define NC_SPK_ROTATE_SECS (7 * 86400)
#define NC_SPK_GRACE_SECS (14 * 86400)

nc_idkey *nc_idkey_gen(void);
nc_idkey *nc_idkey_decode(const uint8_t *p, size_t n);   /* NULL: nc_errmsg */
int nc_idkey_encode(const nc_idkey *k, nc_buf *secret_out)
	__attribute__((warn_unused_result));
void nc_idkey_free(nc_idkey *k);

nc_device *nc_device_gen(void);
nc_device *nc_device_decode(const uint8_t *p, size_t n);
int nc_device_encode(const nc_device *d, nc_buf *secret_out)
	__attribute__((warn_unused_result));
void nc_device_free(nc_device *d);
/* The list entry for this device. */
void nc_device_entry(const nc_device *d, nc_devlist_dev *out);
/* X25519(d's DH key, peer) through d's cache; fails (NC_ESECURITY) on a
 * low-order peer key, which is never cached. */
int nc_device_dh(uint8_t out[32], const nc_device *d, const uint8_t peer[32])
	__attribute__((warn_unused_result));

/* Signed prekeys and one-time prekeys live in caller memory (the store
 * keeps them encrypted); wipe them with nc_spk_wipe / nc_otpk_wipe. */
int nc_spk_gen(nc_spk *out, const nc_device *d, uint32_t id, uint64_t now)
	__attribute__((warn_unused_result));
/* sig: the signed-prekey signature of (id, pk) by a device signing key. */
void nc_spk_sign(uint8_t sig[64], const uint8_t sign_sk[64], uint32_t id,
    const uint8_t pk[32]);
/* 0 or NC_ESECURITY: sig is d's signature of (id, pk). */
int nc_spk_verify(const uint8_t sign_pk[32], uint32_t id, const uint8_t pk[32],
    const uint8_t sig[64]) __attribute__((warn_unused_result));
int nc_spk_encode(const nc_spk *k, nc_buf *secret_out) __attribute__((warn_unused_result));
int nc_spk_decode(nc_spk *k, const uint8_t *p, size_t n) __attribute__((warn_unused_result));
void nc_spk_wipe(nc_spk *k);
/* 1 if a signed prekey created at `created` is due for rotation at now;
 * nc_spk_expired: 1 if it is past its grace period (delete it). */
int nc_spk_due(uint64_t created, uint64_t now);
int nc_spk_expired(uint64_t created, uint64_t now);

int nc_otpk_gen(nc_otpk *out, uint32_t id) __attribute__((warn_unused_result));
int nc_otpk_encode(const nc_otpk *k, nc_buf *secret_out) __attribute__((warn_unused_result));
int nc_otpk_decode(nc_otpk *k, const uint8_t *p, size_t n) __attribute__((warn_unused_result));
void nc_otpk_wipe(nc_otpk *k);

/* Public-key encoding with its type byte: u8 1, u8 type, fixed[32]. */
int nc_pk_encode(nc_buf *out, int type, const uint8_t pk[32])
	__attribute__((warn_unused_result));
int nc_pk_decode(uint8_t pk[32], int type, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Fingerprint of a user identity key: 32 hex digits in 8 groups of 4,
 * "1a2b 3c4d ...", from BLAKE2b-128 keyed by "newchat fingerprint v1". */
#define NC_FPR_LEN 40   /* 32 hex + 7 spaces + NUL */
void nc_fingerprint(char out[NC_FPR_LEN], const uint8_t identity_pk[32]);

/* Safety number of two users: 60 digits in 12 groups of 5, the same on
 * both sides (order-independent), as Signal shows them. */
#define NC_SAFETY_LEN 72   /* 60 digits + 11 spaces + NUL */
int nc_safety_number(char out[NC_SAFETY_LEN], const char *user_a,
    const uint8_t identity_a[32], const char *user_b, const uint8_t identity_b[32])
	__attribute__((warn_unused_result));

#endif
