/* store_ops.h - the two storage backends behind store.h (store_sqlite.c,
 * store_pg.c) and the table of calls store.c dispatches through. Private
 * to the backends and store.c.
 *
 * A backend's struct store begins with its table: store.c reads it there.
 * STORE_CALLS lists every call but open, close, kt_keys and shared, each as
 * X(return type, name, parameters, arguments); a backend names its own
 * functions PREFIX_name (e.g. sq_deliver) and, with STORE_PREFIX and
 * STORE_SHARED defined, fills its table with STORE_TABLE, so a signature that strays from store.h does not
 * compile. */
#ifndef RELAY_STORE_OPS_H
#define RELAY_STORE_OPS_H

#include "store.h"

#define STORE_CALLS(X) \
	X(int, invite_add, (struct store *s, const char *code), (s, code)) \
	X(int, user_create, (struct store *s, const char *user, const struct store_account *a, \
	    const uint8_t dev_pk[NC_PK_LEN], const char *invite, int64_t now), \
	    (s, user, a, dev_pk, invite, now)) \
	X(int, user_get, (struct store *s, const char *user, struct store_account *a), \
	    (s, user, a)) \
	X(int, opaque_get, (struct store *s, const char *user, uint8_t record[192], int *cost), \
	    (s, user, record, cost)) \
	X(int, opaque_common_cost, (struct store *s, int *cost), (s, cost)) \
	X(int, opaque_set, (struct store *s, const char *user, const uint8_t record[192], \
	    int cost, const uint8_t *backup, size_t n), (s, user, record, cost, backup, n)) \
	X(int, user_delete, (struct store *s, const char *user), (s, user)) \
	X(int, nonce_put, (struct store *s, const char *user, const uint8_t n[NC_NONCE_LEN], \
	    int64_t expires, int64_t now), (s, user, n, expires, now)) \
	X(int, nonce_take, (struct store *s, const char *user, const uint8_t n[NC_NONCE_LEN], \
	    int64_t now), (s, user, n, now)) \
	X(int, device_add, (struct store *s, const char *user, const uint8_t pk[NC_PK_LEN]), \
	    (s, user, pk)) \
	X(int, device_key, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    uint8_t pk[NC_PK_LEN]), (s, user, dev, pk)) \
	X(int, device_joining, (struct store *s, const char *user, \
	    const uint8_t dev[NC_DEVID_LEN], uint8_t pk[NC_PK_LEN]), (s, user, dev, pk)) \
	X(int, idbackup_put, (struct store *s, const char *user, const uint8_t *p, size_t n), \
	    (s, user, p, n)) \
	X(int, idbackup_get, (struct store *s, const char *user, nc_buf *out), (s, user, out)) \
	X(int, devlist_put, (struct store *s, const char *user, uint64_t version, \
	    const uint8_t identity[NC_PK_LEN], const uint8_t *list, size_t len, \
	    const uint8_t (*dev)[NC_DEVID_LEN], const uint8_t (*pk)[NC_PK_LEN], size_t ndev, \
	    const struct store_kt_leaf *kt), \
	    (s, user, version, identity, list, len, dev, pk, ndev, kt)) \
	X(int, devlist_get, (struct store *s, const char *user, nc_buf *out, uint64_t *version), \
	    (s, user, out, version)) \
	X(int, prekeys_put, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    const struct nc_prekeys *k), (s, user, dev, k)) \
	X(int, prekeys_count, (struct store *s, const char *user, \
	    const uint8_t dev[NC_DEVID_LEN], struct nc_prekey_count *c), (s, user, dev, c)) \
	X(int, claim, (struct store *s, const char *user, const struct nc_claim_req *q, \
	    struct nc_claim_resp *r), (s, user, q, r)) \
	X(int, deliver, (struct store *s, const char *user, const struct store_env *e, \
	    size_t n, const uint64_t *version, uint64_t *cur, int64_t now), \
	    (s, user, e, n, version, cur, now)) \
	X(int, list, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    uint64_t after, unsigned limit, store_row_fn row, void *arg), \
	    (s, user, dev, after, limit, row, arg)) \
	X(int, ack, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    const struct nc_ack *a), (s, user, dev, a)) \
	X(int, blob_tmp, (struct store *s, char *path, size_t pathlen, int *fd), \
	    (s, path, pathlen, fd)) \
	X(int, blob_put, (struct store *s, const uint8_t id[32], const char *tmp, \
	    uint64_t size, const uint8_t delhash[32], int64_t expires), \
	    (s, id, tmp, size, delhash, expires)) \
	X(int, blob_open, (struct store *s, const uint8_t id[32], int64_t now, int *fd, \
	    uint64_t *size), (s, id, now, fd, size)) \
	X(int, blob_delete, (struct store *s, const uint8_t id[32], const uint8_t delhash[32]), \
	    (s, id, delhash)) \
	X(int, blob_create, (struct store *s, const uint8_t id[32], uint64_t length, \
	    const uint8_t delhash[32], int64_t expires), (s, id, length, delhash, expires)) \
	X(int, blob_part, (struct store *s, const uint8_t id[32], uint64_t off, uint64_t n, \
	    struct blob_w *w), (s, id, off, n, w)) \
	X(int, blob_append, (struct store *s, const uint8_t id[32], uint64_t off, \
	    const char *tmp, struct blob_w *w, uint64_t n, int64_t now, uint64_t *cur), \
	    (s, id, off, tmp, w, n, now, cur)) \
	X(int, blob_offset, (struct store *s, const uint8_t id[32], int64_t now, \
	    uint64_t *off, uint64_t *length), (s, id, now, off, length)) \
	X(int64_t, kt_size, (struct store *s), (s)) \
	X(int, kt_prove, (struct store *s, const char *user, uint64_t version, uint64_t since, \
	    nc_kt_proof *p), (s, user, version, since, p)) \
	X(int, kt_head, (struct store *s, nc_kt_head *h), (s, h)) \
	X(int, kt_consistency, (struct store *s, uint64_t from, uint64_t to, nc_kt_cons *c), \
	    (s, from, to, c)) \
	X(int, kt_entries, (struct store *s, uint64_t start, size_t count, nc_kt_entries *e), \
	    (s, start, count, e)) \
	X(int, kt_label, (struct store *s, const char *user, uint64_t version, \
	    nc_kt_labelproof *l), (s, user, version, l)) \
	X(int, kt_backfill, (struct store *s, store_kt_fill_fn fn, void *arg), (s, fn, arg)) \
	X(int, backup_rec_put, (struct store *s, const char *user, \
	    const struct store_backup_rec *v, size_t n), (s, user, v, n)) \
	X(int, backup_rec_get, (struct store *s, const char *user, const uint8_t hash[32], \
	    nc_buf *out), (s, user, hash, out)) \
	X(int, backup_head_put, (struct store *s, const char *user, \
	    const struct store_backup_head *h), (s, user, h)) \
	X(int, backup_head_get, (struct store *s, const char *user, uint8_t access[32], \
	    nc_buf *keys, nc_buf *manifest), (s, user, access, keys, manifest)) \
	X(int, counter, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    const struct nc_counter_req *q, struct nc_counter *out), (s, user, dev, q, out)) \
	X(int, link_open, (struct store *s, const char *user, const uint8_t box[NC_LINK_BOX], \
	    int64_t expires, int64_t now), (s, user, box, expires, now)) \
	X(int, link_put, (struct store *s, const char *user, const uint8_t box[NC_LINK_BOX], \
	    const uint8_t *p, size_t n, int64_t now), (s, user, box, p, n, now)) \
	X(int, link_take, (struct store *s, const char *user, const uint8_t box[NC_LINK_BOX], \
	    int64_t now, nc_buf *out), (s, user, box, now, out)) \
	X(int, push_set, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    const char *url), (s, user, dev, url)) \
	X(int, push_drop, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    const char *url), (s, user, dev, url)) \
	X(int, push_get, (struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN], \
	    char *out, size_t n), (s, user, dev, out, n)) \
	X(int, sweep, (struct store *s, int64_t now), (s, now)) \
	X(int, shared_rate, (struct store *s, const uint8_t key[16], double rate, double burst, \
	    double now, unsigned *wait), (s, key, rate, burst, now, wait)) \
	X(int, shared_replay, (struct store *s, const uint8_t key[16], int64_t expires, \
	    int64_t now), (s, key, expires, now))

#define STORE_FIELD(ret, name, params, args) ret (*name) params;
struct store_ops {
	STORE_CALLS(STORE_FIELD)
	void (*close)(struct store *s);
	void (*kt_keys)(struct store *s, const uint8_t *log_sk, const char *domain);
	int shared;   /* one database for many relay processes */
};
#undef STORE_FIELD

#define STORE_PASTE_(p, name) p##_##name
#define STORE_PASTE(p, name) STORE_PASTE_(p, name)
#define STORE_ENTRY(ret, name, params, args) .name = STORE_PASTE(STORE_PREFIX, name),
/* In a backend, with STORE_PREFIX defined (e.g. sq): its table. */
#define STORE_TABLE { STORE_CALLS(STORE_ENTRY) \
	.close = STORE_PASTE(STORE_PREFIX, close), \
	.kt_keys = STORE_PASTE(STORE_PREFIX, kt_keys), \
	.shared = STORE_SHARED }

/* The counter's compare and set (store_counter), the same in both
 * backends: held is the value stored (zeros if none). (n, tag) becomes
 * (n + 1, next): ST_OK, held is the new value, *write says whether to
 * store it (0: this very request was applied already, its answer lost).
 * ST_CONFLICT: held is left as it is, for the answer. */
int store_counter_next(struct nc_counter *held, const struct nc_counter_req *q,
    int *write);

/* The backends' openers (store.c's store_open and store_open_pg call them). */
int sq_open(struct store **s, const char *dir, const struct store_limits *l,
    store_mail_fn on_mail, void *arg);
int pg_open(struct store **s, const char *conninfo, const char *dir,
    const struct store_limits *l, store_mail_fn on_mail, void *arg);

#endif
