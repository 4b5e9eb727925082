/* devlist.h - the signed device list (protocol.md 2.1): which devices
 * (signing + DH keys) belong to a user, signed by the user identity key,
 * versioned so a relay cannot roll it back. */
#ifndef NC_DEVLIST_H
#define NC_DEVLIST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NC_DEVLIST_MAX 32          /* devices per list */
#define NC_USER_MAX 64             /* the part before '@' */
#define NC_DOMAIN_MAX 253
#define NC_ADDR_MAX (NC_USER_MAX + 1 + NC_DOMAIN_MAX)   /* user@domain */
#define NC_DEVLIST_ENC_MAX (2 + 2 + NC_ADDR_MAX + 8 + 32 + 8 + 2 + \
	NC_DEVLIST_MAX * 80 + 64)

#define NC_DEVID_LEN 16

typedef struct {
	uint8_t id[NC_DEVID_LEN];  /* BLAKE2b-128(sign_pk) */
	uint8_t sign_pk[32];       /* Ed25519 */
	uint8_t dh_pk[32];         /* X25519 identity key of the device */
} nc_devlist_dev;

typedef struct {
	char user[NC_ADDR_MAX + 1];   /* "alice@a.test" */
	uint64_t version;             /* strictly increasing */
	uint8_t identity[32];         /* user identity key (Ed25519) */
	uint64_t created;             /* unix seconds */
	uint16_t n;                   /* 1..NC_DEVLIST_MAX */
	nc_devlist_dev dev[NC_DEVLIST_MAX];
	uint8_t sig[64];
} nc_devlist;

/* 1 if s is a valid "user@domain" (protocol.md 0). */
int nc_addr_valid(const char *s);

/* device id = BLAKE2b-128 of the Ed25519 signing public key. */
void nc_devid(uint8_t id[NC_DEVID_LEN], const uint8_t sign_pk[32]);

/* Fill l->identity from identity_sk and sign everything else in l (user,
 * version, created, n, dev[] must be set; dev[i].id is recomputed).
 * identity_sk: libsodium's 64-byte Ed25519 secret key. */
int nc_devlist_sign(nc_devlist *l, const uint8_t identity_sk[64])
	__attribute__((warn_unused_result));

/* Append the wire encoding of a signed list to out. */
int nc_devlist_encode(const nc_devlist *l, nc_buf *out)
	__attribute__((warn_unused_result));

/* Strict decode: format, limits, valid address, device ids that match
 * their keys, no duplicate device, no trailing bytes. Does NOT check the
 * signature (nc_devlist_verify). 0 or NC_EDATA. */
int nc_devlist_decode(nc_devlist *l, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* 0 if l->sig is the identity key's signature over the encoding, else
 * NC_ESECURITY. */
int nc_devlist_verify(const nc_devlist *l) __attribute__((warn_unused_result));

/* decode + verify in one call. */
int nc_devlist_parse(nc_devlist *l, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Index of device id in l, or -1. */
int nc_devlist_find(const nc_devlist *l, const uint8_t id[NC_DEVID_LEN]);

/* BLAKE2b-256 of the encoded list (for the key-transparency log). */
int nc_devlist_hash(const nc_devlist *l, uint8_t out[32])
	__attribute__((warn_unused_result));

#endif
