/* gbatch.h - one upload per provider for a group message (issue 17 item
 * 4, protocol.md 1.6.1 and 2.7.1): the sender-key blob travels once to
 * each relay that hosts members, with a small sealed header for each
 * recipient device. The relay files "header + blob" into each mailbox as
 * an envelope of version 2; it sees mailboxes and one blob, never the
 * group, its name or the sender.
 *
 * The header is sealed to the device's X25519 identity key with a fresh
 * ephemeral key: BLAKE2b-256 keyed with the DH result over a label, the
 * ephemeral and the device's key gives a one-time key for
 * ChaCha20-Poly1305 (nonce zero), whose associated data binds the
 * envelope id, the device id and the blob's hash (nc_group_blob_hash). Inside:
 * group id, sender-key id and index, enough to find the key the blob is
 * signed with; whose key it is the receiver knows from the pairwise
 * session that brought it. */
#ifndef NC_GBATCH_H
#define NC_GBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "group.h"
#include "relaymsg.h"

#define NC_GB_REF_LEN (NC_GROUP_ID + NC_SKEY_ID + 4)       /* 28 */
#define NC_GB_HDR_LEN (32 + NC_GB_REF_LEN + 16)            /* 76 */
#define NC_GB_MAX 1000           /* mailboxes per batch */
#define NC_GB_USERS_MAX NC_GB_MAX
#define NC_GB_DEVS_MAX 32        /* devices per user (NC_DEVLIST_MAX) */
/* A mailbox entry: u8 2 || envid || dev || header || u32 n || blob. */
#define NC_GB_ENTRY_HEAD (1 + NC_ENVID_LEN + NC_DEVID_LEN + NC_GB_HDR_LEN + 4)
#define NC_GB_BLOB_MAX (NC_ENVELOPE_MAX - NC_GB_ENTRY_HEAD)
/* The largest batch body the format allows. */
#define NC_GB_BODY_MAX ((uint64_t)1 + 4 + NC_GB_BLOB_MAX + 2 + \
	(uint64_t)NC_GB_USERS_MAX * (2 + NC_USER_MAX + 8 + 1) + \
	(uint64_t)NC_GB_MAX * (NC_DEVID_LEN + NC_GB_HDR_LEN))
#define NC_GB_ENVELOPE_VERSION 2
/* What one batch may make a relay store: mailboxes x (blob + entry head). */
#define NC_GB_STORE_MAX ((uint64_t)32 << 20)

/* What a header says. */
typedef struct {
	uint8_t group[NC_GROUP_ID];
	uint8_t key[NC_SKEY_ID];
	uint32_t index;
} nc_gb_ref;

/* The batch's ephemeral X25519 key pair (esk from nc_random), shared by
 * the headers of one batch and never by two batches (protocol.md 2.7.1). */
void nc_gb_eph(uint8_t esk[32], uint8_t epk[32]);
/* Seal r for device (dev, dh_pk) under the ephemeral (esk, epk), for the
 * blob whose nc_group_blob_hash is blobhash, in the batch envid. 0, or
 * NC_EDATA for a key that gives an all-zero DH. Two devices of a batch
 * with the same dh_pk would get one key: the caller gives each repeat an
 * ephemeral of its own. */
int nc_gb_header_seal(uint8_t out[NC_GB_HDR_LEN], const uint8_t esk[32],
    const uint8_t epk[32], const uint8_t envid[NC_ENVID_LEN],
    const uint8_t dev[NC_DEVID_LEN], const uint8_t dh_pk[32],
    const uint8_t blobhash[32], const nc_gb_ref *r) __attribute__((warn_unused_result));
/* Seal r for each of the n devices (dev[i], pk[i]) into hdr[i], in the
 * batch envid: one ephemeral for the batch, and one of its own for each
 * repeat of a dh_pk already in it. 0, or the first device's error. */
int nc_gb_seal_all(uint8_t (*hdr)[NC_GB_HDR_LEN], const uint8_t *const *dev,
    const uint8_t *const *pk, size_t n, const uint8_t envid[NC_ENVID_LEN],
    const uint8_t blobhash[32], const nc_gb_ref *r) __attribute__((warn_unused_result));
/* Open with the device's key pair: 0, or NC_ESECURITY (not for us, or
 * moved to another blob, envelope or device). */
int nc_gb_header_open(nc_gb_ref *r, const uint8_t hdr[NC_GB_HDR_LEN],
    const uint8_t envid[NC_ENVID_LEN], const uint8_t dev[NC_DEVID_LEN],
    const uint8_t dh_sk[32], const uint8_t dh_pk[32], const uint8_t blobhash[32])
	__attribute__((warn_unused_result));

/* PUT /v1/batches/{envid}: u8 1 || bytes blob (1..NC_GB_BLOB_MAX) ||
 * u16 users (1..1000) || users x (str user (ascending, by bytes) || u64 device-list version ||
 * u8 devs (1..32) || devs x (dev[16] || header[76])); 1..1000 mailboxes
 * in all. Decoded, pointers point into the input. */
typedef struct {
	const uint8_t *dev, *hdr;
} nc_gb_mbox;
typedef struct {
	char name[NC_USER_MAX + 1];
	uint64_t version;
	uint16_t first, n;     /* its mailboxes: mbox[first .. first + n) */
} nc_gb_user;
typedef struct {
	const uint8_t *blob;
	size_t bloblen;
	uint16_t nusers, nmbox;
	int too_many;          /* decoding failed on a count over the bounds */
	nc_gb_user user[NC_GB_USERS_MAX];
	nc_gb_mbox mbox[NC_GB_MAX];
} nc_gb_batch;

int nc_gb_batch_enc(nc_buf *b, const nc_gb_batch *g) __attribute__((warn_unused_result));
int nc_gb_batch_dec(nc_gb_batch *g, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* The mailbox entry's bytes before the blob (the relay stores them, then
 * the blob). */
void nc_gb_entry_head(uint8_t out[NC_GB_ENTRY_HEAD], const uint8_t envid[NC_ENVID_LEN],
    const uint8_t dev[NC_DEVID_LEN], const uint8_t hdr[NC_GB_HDR_LEN], size_t bloblen);
/* A mailbox entry of version 2: strict; pointers point into p. */
typedef struct {
	uint8_t envid[NC_ENVID_LEN], dev[NC_DEVID_LEN];
	const uint8_t *hdr, *blob;
	size_t bloblen;
} nc_gb_entry;
int nc_gb_entry_dec(nc_gb_entry *e, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

#endif
