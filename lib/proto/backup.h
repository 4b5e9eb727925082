/* backup.h - the encrypted backup, the pure part (issue 16): a random
 * backup root key, wrapped for the relay under a secret only the user has
 * (OPAQUE's export key, or a recovery code); records encrypted under keys
 * derived from the root key, their ids hidden by a keyed hash; and a
 * manifest signed by the identity key that lists every record with its
 * hash and carries a counter that only increases - so a relay can neither
 * read the backup nor drop, inject or swap records unnoticed, and serving
 * an older manifest is caught by whoever knows a newer counter.
 *
 *   wrapped  = u8 1 || nonce[24] || XChaCha20-Poly1305(W, root key,
 *              AD "newchat backup root v1" 0 || user)
 *              W = HKDF-SHA256(secret, info "newchat backup wrap v1")
 *   record   = u8 1 || nonce[24] || XChaCha20-Poly1305(K_rec,
 *              str id || bytes data, AD "newchat backup record v1" 0 || hid)
 *   hid      = BLAKE2b-256(key K_id, id)
 *   manifest = u8 1 || str user || u64 counter || u32 n ||
 *              n x (hid[32] || BLAKE2b-256(record)[32]), sorted by hid ||
 *              sig[64] (Ed25519, identity key, over "newchat backup
 *              manifest v1" 0 || everything before it)
 * K_rec and K_id: BLAKE2b-256 keyed by the root key over their labels. */
#ifndef NC_BACKUP_H
#define NC_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NC_BACKUP_KEY 32
#define NC_BACKUP_ID_MAX 200
#define NC_BACKUP_RECORD_MAX ((size_t)16 << 20)
#define NC_BACKUP_ENTRIES_MAX 1000000
#define NC_BACKUP_CODE_BYTES 20           /* a recovery code: 160 bits */
#define NC_BACKUP_CODE_LEN 39             /* 32 base32 letters in 8 groups of 4, 7 dashes */

int nc_backup_wrap(nc_buf *out, const uint8_t root[NC_BACKUP_KEY], const uint8_t *secret,
    size_t secretlen, const char *user) __attribute__((warn_unused_result));
/* NC_EPERM if the secret is not the one it was wrapped with. */
int nc_backup_unwrap(uint8_t root[NC_BACKUP_KEY], const uint8_t *wrapped, size_t n,
    const uint8_t *secret, size_t secretlen, const char *user)
	__attribute__((warn_unused_result));

/* A recovery code: 20 random bytes, shown as "ABCD-EFGH-..." (RFC 4648
 * base32, no padding); parsing takes lower case and spaces for dashes. */
void nc_backup_code_format(char out[NC_BACKUP_CODE_LEN + 1],
    const uint8_t code[NC_BACKUP_CODE_BYTES]);
int nc_backup_code_parse(uint8_t code[NC_BACKUP_CODE_BYTES], const char *s)
	__attribute__((warn_unused_result));

void nc_backup_hid(uint8_t hid[32], const uint8_t root[NC_BACKUP_KEY], const char *id);
int nc_backup_record_seal(nc_buf *out, uint8_t hid[32], const uint8_t root[NC_BACKUP_KEY],
    const char *id, const uint8_t *data, size_t n) __attribute__((warn_unused_result));
/* Opens a record that the manifest lists under hid; id gets its id, and
 * data its data, appended (data is as it was when it fails). */
int nc_backup_record_open(char id[NC_BACKUP_ID_MAX + 1], nc_buf *data,
    const uint8_t root[NC_BACKUP_KEY], const uint8_t hid[32], const uint8_t *rec, size_t n)
	__attribute__((warn_unused_result));
void nc_backup_record_hash(uint8_t out[32], const uint8_t *rec, size_t n);

typedef struct {
	uint8_t hid[32];
	uint8_t hash[32];
} nc_backup_entry;

typedef struct {
	uint64_t counter;
	uint32_t n;
	nc_backup_entry *e;        /* sorted by hid, unique */
} nc_backup_manifest;

/* Sorts m's entries, refuses duplicates, signs. */
int nc_backup_manifest_sign(nc_buf *out, nc_backup_manifest *m, const char *user,
    const uint8_t idsk[64]) __attribute__((warn_unused_result));
/* NC_ESECURITY for another user's manifest, a bad signature, or a counter
 * below min_counter (an older backup served: a rollback); NC_EDATA for bad
 * encoding. m->e is malloc'd: nc_backup_manifest_free. */
int nc_backup_manifest_verify(nc_backup_manifest *m, const uint8_t *p, size_t n,
    const char *user, const uint8_t idpk[32], uint64_t min_counter)
	__attribute__((warn_unused_result));
/* Decoding alone, the signature unchecked (to find the identity record
 * whose key checks it): user gets the user it names. NC_EDATA. */
int nc_backup_manifest_parse(nc_backup_manifest *m, char user[401], const uint8_t *p,
    size_t n) __attribute__((warn_unused_result));
void nc_backup_manifest_free(nc_backup_manifest *m);
/* The entry for hid, or NULL. */
const nc_backup_entry *nc_backup_manifest_find(const nc_backup_manifest *m,
    const uint8_t hid[32]);

/* ---- the relay's backup slot (protocol.md 1.9) ----
 * locator = BLAKE2b-256(key secret, "newchat backup locator v1"): where
 *           the root key wrapped by that secret is found, so a relay's
 *           answer names no wrapped key to whoever lacks the secret
 * token   = BLAKE2b-256(key root, "newchat backup access v1"): reads the
 *           manifest and records; the relay keeps access = BLAKE2b-256(token)
 * head    = u8 1 || fixed[32] access || keys || u32 m || fixed[m] manifest
 * keys    = u8 k (0..4) || k x (fixed[32] locator || u16 n (1..256) ||
 *           fixed[n] wrapped) */
#define NC_BACKUP_WRAPS_MAX 4
#define NC_BACKUP_WRAPPED_MAX 256
#define NC_BACKUP_SLOT_ENTRIES 65536      /* records a relay's slot lists */
#define NC_BACKUP_MANIFEST_MAX (1 + 2 + 400 + 8 + 4 + (size_t)NC_BACKUP_SLOT_ENTRIES * 64 + 64)
#define NC_BACKUP_HEAD_MAX (1 + 32 + 1 + NC_BACKUP_WRAPS_MAX * (32 + 2 + NC_BACKUP_WRAPPED_MAX) + \
	4 + NC_BACKUP_MANIFEST_MAX)
#define NC_BACKUP_RECORD_WIRE_MAX ((size_t)8 << 20)   /* one record at the relay */

void nc_backup_locator(uint8_t out[32], const uint8_t *secret, size_t n);
void nc_backup_token(uint8_t token[32], uint8_t access[32], const uint8_t root[NC_BACKUP_KEY]);

typedef struct {
	uint8_t locator[32];
	uint16_t n;
	uint8_t wrapped[NC_BACKUP_WRAPPED_MAX];
} nc_backup_wrap_slot;

typedef struct {
	uint8_t access[32];
	uint8_t k;
	nc_backup_wrap_slot keys[NC_BACKUP_WRAPS_MAX];
	const uint8_t *keys_enc;   /* decode: the keys part as sent */
	size_t keys_len;
	const uint8_t *manifest;   /* points into the encoding / the caller's */
	size_t manifest_len;
} nc_backup_head;

int nc_backup_head_encode(nc_buf *out, const nc_backup_head *h)
	__attribute__((warn_unused_result));
/* Strict; the pointers point into p. NC_EDATA. */
int nc_backup_head_decode(nc_backup_head *h, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
/* The wrapped key under locator in an encoded keys part: 0 (*w, *wn point
 * into keys), NC_ENOUSER when none, NC_EDATA when malformed. */
int nc_backup_keys_find(const uint8_t *keys, size_t n, const uint8_t locator[32],
    const uint8_t **w, size_t *wn) __attribute__((warn_unused_result));

/* Records in one request (protocol.md 1.9, POST .../backup/records):
 * batch = u8 1 || u16 n (1..NC_BACKUP_BATCH_RECS) || n x bytes record
 * (u32 length 1..NC_BACKUP_RECORD_WIRE_MAX), at most NC_BACKUP_BATCH_MAX
 * bytes in all. */
#define NC_BACKUP_BATCH_RECS 1024
#define NC_BACKUP_BATCH_MAX ((size_t)8 << 20)
typedef struct {
	const uint8_t *p;
	size_t n;
} nc_backup_span;
/* 1 if a record of n bytes can join batch b (empty: a new one). */
int nc_backup_batch_fits(const nc_buf *b, size_t n);
/* Appends one record to b (empty: starts the batch); NC_EDATA when it
 * does not fit. */
int nc_backup_batch_add(nc_buf *b, const uint8_t *rec, size_t n)
	__attribute__((warn_unused_result));
/* Strict: v (room for NC_BACKUP_BATCH_RECS) gets the records, pointing
 * into p, and *count their number. NC_EDATA. */
int nc_backup_batch_decode(nc_backup_span *v, size_t *count, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Records read by hash in one request (protocol.md 1.9, POST
 * .../backup/fetch): the request is u8 1 || u16 n (1..NC_BACKUP_BATCH_RECS)
 * || n x fixed[32] hash; the answer u8 1 || u16 k (1..n: the first k
 * asked, in order) || k x bytes record (u32 length, 0 for a record the
 * relay does not hold), at most NC_BACKUP_FETCH_MAX bytes: the relay
 * stops before a record that would take it past NC_BACKUP_BATCH_MAX,
 * unless it is the first. */
#define NC_BACKUP_FETCH_MAX (NC_BACKUP_BATCH_MAX + 7)
/* The request for hashes h[0..n) (32 bytes each, contiguous). */
int nc_backup_fetch_req(nc_buf *out, const uint8_t *h, size_t n)
	__attribute__((warn_unused_result));
/* Strict: *h points into p at *n hashes. NC_EDATA. */
int nc_backup_fetch_req_decode(const uint8_t **h, size_t *n, const uint8_t *p, size_t len)
	__attribute__((warn_unused_result));
/* Strict: v (room for asked) gets the k records answered (n 0: not
 * held), pointing into p. NC_EDATA, also for more than asked. */
int nc_backup_fetch_decode(nc_backup_span *v, size_t *k, size_t asked,
    const uint8_t *p, size_t len) __attribute__((warn_unused_result));

#endif
