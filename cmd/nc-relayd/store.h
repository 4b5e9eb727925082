/* store.h - the relay's storage, behind one narrow interface. Backends:
 * store_sqlite.c (embedded default, one relay process) and store_pg.c
 * (PostgreSQL, any number of relay processes on one database); store.c
 * passes each call to the one that opened the store. Every call is
 * thread-safe. A write returns only after its commit is durable. */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "relaymsg.h"
#include "buf.h"
#include "kt.h"
#include "blobfs.h"

enum store_rc {
	ST_OK = 0,
	ST_NOTFOUND,   /* no such user, device or object */
	ST_EXISTS,     /* name taken, blob id taken */
	ST_CONFLICT,   /* same envelope id, other bytes; device-list version */
	ST_STALE,      /* batch addressed to another device-list version */
	ST_FORBIDDEN,  /* bad invite, wrong delete token, identity key changed */
	ST_GONE,       /* device not in the current device list */
	ST_FULL,       /* quota */
	ST_ERR         /* storage failure */
};

struct store;

struct store_limits {
	uint32_t mail_count;      /* envelopes held per device */
	uint64_t mail_bytes;      /* bytes held per device */
	uint32_t otpk_max;        /* one-time prekeys held per device */
	uint32_t devices_max;     /* devices per user */
	uint32_t nonces_max;      /* outstanding login challenges per user */
	uint32_t backup_records;  /* backup records held per user */
	uint64_t backup_bytes;    /* and their bytes */
};

/* cost != 0: an OPAQUE account (record, cost name 1..3, protocol.md
 * 1.2); else an old-scheme one (auth_pk, salt, Argon2id limits). */
struct store_account {
	uint8_t auth_pk[NC_PK_LEN];
	uint8_t salt[NC_SALT_LEN];
	uint64_t opslimit, memlimit;
	uint8_t record[192];
	int cost;
};

/* Called after each commit with every (user, device) that got mail; link
 * 1: dev is a provisioning box (store_link_put) that got its message. */
typedef void (*store_mail_fn)(void *arg, const char *user, const uint8_t dev[NC_DEVID_LEN],
    int link);

int store_open(struct store **s, const char *dir, const struct store_limits *l,
    store_mail_fn on_mail, void *arg);
/* PostgreSQL: conninfo (a postgresql:// URI or key=value string) names the
 * database; dir still holds the blob files (shared by the processes of one
 * host). on_mail is also called for mail that other processes delivered. */
int store_open_pg(struct store **s, const char *conninfo, const char *dir,
    const struct store_limits *l, store_mail_fn on_mail, void *arg);
void store_close(struct store *s);   /* finishes queued writes first */

/* 1 if the store is shared by many relay processes (PostgreSQL): rate
 * limits and the replay memory then live in it too (ratelimit.c,
 * replay.c), through these two calls, which a store that is not shared
 * answers ST_ERR. key: a keyed hash naming the bucket or the request. */
int store_shared(const struct store *s);
/* Take one token from bucket key (refilling at rate per second up to
 * burst); *wait: 0 if taken, else the seconds until one is there. */
int store_shared_rate(struct store *s, const uint8_t key[16], double rate, double burst,
    double now, unsigned *wait);
/* ST_OK: first sight, remembered until expires; ST_EXISTS: seen before. */
int store_shared_replay(struct store *s, const uint8_t key[16], int64_t expires,
    int64_t now);

int store_invite_add(struct store *s, const char *code);

/* invite NULL: open registration; else the invite is consumed. */
int store_user_create(struct store *s, const char *user, const struct store_account *a,
    const uint8_t dev_pk[NC_PK_LEN], const char *invite, int64_t now);
/* An old-scheme account's auth key: ST_NOTFOUND for a migrated one. */
int store_user_get(struct store *s, const char *user, struct store_account *a);
/* An OPAQUE account's record and cost: ST_NOTFOUND if none. */
int store_opaque_get(struct store *s, const char *user, uint8_t record[192], int *cost);
/* The cost name most OPAQUE accounts have (ST_NOTFOUND: none yet). */
int store_opaque_common_cost(struct store *s, int *cost);
/* Set user's OPAQUE record (a password change, or the migration of an
 * old-scheme account, whose auth key and open challenges go), and its
 * identity-key backup (if n > 0), in one transaction. */
int store_opaque_set(struct store *s, const char *user, const uint8_t record[192],
    int cost, const uint8_t *backup, size_t n);
int store_user_delete(struct store *s, const char *user);

int store_nonce_put(struct store *s, const char *user, const uint8_t n[NC_NONCE_LEN],
    int64_t expires, int64_t now);
/* Consumes the nonce: ST_OK if it existed unexpired, ST_NOTFOUND otherwise. */
int store_nonce_take(struct store *s, const char *user, const uint8_t n[NC_NONCE_LEN],
    int64_t now);

int store_device_add(struct store *s, const char *user, const uint8_t pk[NC_PK_LEN]);
/* The signing key of a current device of user (in the device list once one
 * is published): ST_OK, ST_NOTFOUND, ST_GONE. */
int store_device_key(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    uint8_t pk[NC_PK_LEN]);

/* The signing key of a device added by password and not listed since (it
 * may sign the device list that first lists it): ST_OK, ST_NOTFOUND,
 * ST_GONE (listed now, or dropped from a list). */
int store_device_joining(struct store *s, const char *user,
    const uint8_t dev[NC_DEVID_LEN], uint8_t pk[NC_PK_LEN]);

/* The identity-key backup (opaque to the relay): one per user, replaced
 * by a newer one, deleted with the account; get appends nothing if none. */
int store_idbackup_put(struct store *s, const char *user, const uint8_t *p, size_t n);
int store_idbackup_get(struct store *s, const char *user, nc_buf *out);

/* The encrypted backup slot (protocol.md 1.9), opaque to the relay:
 * records by the BLAKE2b-256 of their bytes, put n at once in one
 * transaction (a hash held is kept, and counts against no limit;
 * ST_FULL, nothing stored, when a new one would go past the limits'
 * backup_records or backup_bytes for the user), and one
 * head per user. A head's counter must exceed the stored one
 * (ST_CONFLICT); every record it lists must be held (ST_STALE, nothing
 * changed); records it does not list are deleted with its commit. All of
 * it goes with the account. */
struct store_backup_head {
	uint64_t counter;
	uint8_t access[32];             /* BLAKE2b-256 of the read token */
	const uint8_t *keys, *manifest; /* stored as given */
	size_t keys_len, manifest_len;
	const uint8_t (*hashes)[32];    /* the records the manifest lists */
	size_t n;
};
struct store_backup_rec {
	uint8_t hash[32];
	const uint8_t *p;
	size_t n;
};
int store_backup_rec_put(struct store *s, const char *user,
    const struct store_backup_rec *v, size_t n);
int store_backup_rec_get(struct store *s, const char *user, const uint8_t hash[32],
    nc_buf *out);
int store_backup_head_put(struct store *s, const char *user,
    const struct store_backup_head *h);
/* access, and (each unless NULL) the keys and the manifest; ST_NOTFOUND. */
int store_backup_head_get(struct store *s, const char *user, uint8_t access[32],
    nc_buf *keys, nc_buf *manifest);
/* A device-list version's leaf in the key log (kt.h), made by the caller
 * (the VRF takes half a millisecond: not on the writer's thread). */
struct store_kt_leaf {
	uint8_t label[NC_KT_LABEL];
	uint8_t commitment[32];
	uint8_t opening[32];
	uint8_t vrf[NC_VRF_PROOF];   /* the label's proof, kept for fetches */
};

/* A verified list: version must exceed the stored one (ST_CONFLICT) and the
 * identity key match the pinned one (ST_FORBIDDEN). kt is appended to the
 * key log in the same transaction: an acknowledged list is in the log. */
int store_devlist_put(struct store *s, const char *user, uint64_t version,
    const uint8_t identity[NC_PK_LEN], const uint8_t *list, size_t len,
    const uint8_t (*dev)[NC_DEVID_LEN], const uint8_t (*pk)[NC_PK_LEN], size_t ndev,
    const struct store_kt_leaf *kt);
int store_devlist_get(struct store *s, const char *user, nc_buf *out, uint64_t *version);

int store_prekeys_put(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_prekeys *k);
int store_prekeys_count(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    struct nc_prekey_count *c);
/* A device's counter, compared and set (relaymsg.h): ST_OK, out the new
 * value; ST_CONFLICT, out the value held; ST_NOTFOUND, ST_GONE. */
int store_counter(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_counter_req *q, struct nc_counter *out);
/* Atomically hands out one one-time prekey per device (q->n == 0: every
 * current device). Devices without a signed prekey are left out. */
int store_claim(struct store *s, const char *user, const struct nc_claim_req *q,
    struct nc_claim_resp *r);

struct store_env {
	const uint8_t *dev, *envid, *env;
	size_t len;
	/* A group batch (store_deliver's user NULL): the mailbox's user, the
	 * device-list version its sender saw (ST_STALE otherwise), and bytes
	 * stored after env's (the stored envelope is env || tail). */
	const char *user;
	const uint64_t *version;
	const uint8_t *tail;
	size_t tail_len;
};
/* All or nothing. version NULL: any; otherwise ST_STALE unless *version is
 * the current device-list version (then *cur says which it is). Retries of
 * stored ids with the same bytes are ok and store nothing. user NULL: each
 * e[i] names its user and version (a group batch, in one transaction). */
int store_deliver(struct store *s, const char *user, const struct store_env *e,
    size_t n, const uint64_t *version, uint64_t *cur, int64_t now);

/* The bytes a backend stores for e (env, or env || tail joined into
 * *joined, which the caller frees); NULL when out of memory. */
const uint8_t *store_env_bytes(const struct store_env *e, size_t *len,
    uint8_t **joined);

typedef int (*store_row_fn)(void *arg, uint64_t cursor, const uint8_t envid[NC_ENVID_LEN],
    uint64_t received, const void *env, size_t len);
/* Rows after cursor, in order, until limit rows or row() returns non-zero. */
int store_list(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    uint64_t after, unsigned limit, store_row_fn row, void *arg);
int store_ack(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_ack *a);

/* Blobs: the body is streamed to a file from store_blob_tmp (fd open for
 * writing, path in path[]) and handed over by store_blob_put, which syncs,
 * links and commits it (or leaves the temp file to the caller on error). */
int store_blob_tmp(struct store *s, char *path, size_t pathlen, int *fd);
int store_blob_put(struct store *s, const uint8_t id[32], const char *tmp,
    uint64_t size, const uint8_t delhash[32], int64_t expires);
/* An fd open for reading and the size; ST_NOTFOUND if unknown or expired. */
int store_blob_open(struct store *s, const uint8_t id[32], int64_t now, int *fd,
    uint64_t *size);
int store_blob_delete(struct store *s, const uint8_t id[32], const uint8_t delhash[32]);
/* Resumable uploads: create an empty upload of length bytes (ST_EXISTS),
 * append tmp's n bytes at off, or w's written in place (ST_CONFLICT when
 * off is not the upload's offset, or another append runs; ST_FULL past its
 * length; ST_EXISTS when complete; *cur: the offset after, or as it is),
 * and ask the offset (a complete blob's is its length). A blob is readable
 * once complete. store_blob_part opens the upload for an append of n bytes
 * at off to be written in place (blobfs.h; ST_OK, else the body goes to a
 * temporary file and store_blob_append says why); blobfs_part_end ends it. */
int store_blob_create(struct store *s, const uint8_t id[32], uint64_t length,
    const uint8_t delhash[32], int64_t expires);
int store_blob_part(struct store *s, const uint8_t id[32], uint64_t off, uint64_t n,
    struct blob_w *w);
int store_blob_append(struct store *s, const uint8_t id[32], uint64_t off,
    const char *tmp, struct blob_w *w, uint64_t n, int64_t now, uint64_t *cur);
int store_blob_offset(struct store *s, const uint8_t id[32], int64_t now,
    uint64_t *off, uint64_t *length);

/* The key log (issue 19). store_kt_keys gives the writer the log's signing
 * key and domain (kept by the caller until store_close): every batch of
 * writes that appended leaves commits with a new signed head. */
void store_kt_keys(struct store *s, const uint8_t *log_sk, const char *domain);
/* The number of leaves, or -1. */
int64_t store_kt_size(struct store *s);
/* The fetch proof of user's version against the newest head, with a
 * consistency proof from the tree of since leaves (0: none; larger than
 * the tree: none either, the client sees the smaller head). */
int store_kt_prove(struct store *s, const char *user, uint64_t version, uint64_t since,
    nc_kt_proof *p);
/* ST_NOTFOUND if nothing is logged yet. */
int store_kt_head(struct store *s, nc_kt_head *h);
/* ST_NOTFOUND if to is past the newest head. */
int store_kt_consistency(struct store *s, uint64_t from, uint64_t to, nc_kt_cons *c);
/* Up to count leaves from start (NC_KT_ENTRIES_MAX at most), none past
 * the newest head; ST_NOTFOUND if start is past it. */
int store_kt_entries(struct store *s, uint64_t start, size_t count, nc_kt_entries *e);
int store_kt_label(struct store *s, const char *user, uint64_t version,
    nc_kt_labelproof *l);
/* Every stored device list without a leaf (stored before the log
 * existed): fn makes its leaf, which is appended. */
typedef int (*store_kt_fill_fn)(void *arg, const char *user, uint64_t version,
    const uint8_t identity[NC_PK_LEN], const uint8_t *list, size_t len,
    struct store_kt_leaf *out);
int store_kt_backfill(struct store *s, store_kt_fill_fn fn, void *arg);

/* Provisioning boxes for linking a device (protocol.md 1.11), named by
 * the hash of the new device's code. open: a new empty box of user
 * until expires (ST_NOTFOUND no such user, ST_EXISTS, ST_FULL: 4 open
 * already). put: its one message (ST_NOTFOUND no box or expired,
 * ST_CONFLICT it has one, ST_GONE taken already). take: the message, once
 * (out empty: none yet; then ST_GONE), committed before it returns. */
#define NC_LINK_BOX 16
int store_link_open(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    int64_t expires, int64_t now);
int store_link_put(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    const uint8_t *p, size_t n, int64_t now);
int store_link_take(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    int64_t now, nc_buf *out);

/* A device's push endpoint (protocol.md 1.12): one URL per current
 * device (ST_NOTFOUND, ST_GONE otherwise), replaced by a newer one;
 * deleted with the account and when the device leaves the list. set with
 * url NULL removes it (none held is ST_OK too); drop removes it only while
 * it is still url (a dead endpoint, not the one registered since: ST_OK
 * either way). get: ST_NOTFOUND when there is none; out has n bytes. */
int store_push_set(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const char *url);
int store_push_drop(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const char *url);
int store_push_get(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    char *out, size_t n);

/* Drop expired challenges, blobs and provisioning boxes. */
int store_sweep(struct store *s, int64_t now);

#endif
