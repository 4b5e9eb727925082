/* api_backup.c - the encrypted backup slot (protocol.md 1.9): records by
 * content hash and one signed head per user, written by the user's
 * devices and read with a token only the backup's key gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "backup.h"
#include "hex.h"
#include "ratelimit.h"

static int
hash_seg(struct call *c, const char *s, uint8_t out[32])
{
	if (nc_hex_decode(out, 32, s, strlen(s)) == 0)
		return 0;
	fail(c->a, 400, "bad hash: want 64 lowercase hex digits");
	return 1;
}

/* 0 if the request carries the read token of user's backup; else 1,
 * answered (401 wrong or missing token, 404 no backup). */
static int
token_ok(struct call *c, const char *user)
{
	const char *t = c->q->h_backup_token;
	uint8_t tok[32], h[32], access[32];
	int rc;

	if (t == NULL || nc_hex_decode(tok, 32, t, strlen(t)) != 0) {
		fail(c->a, 401, "missing or bad X-NC-Backup-Token");
		return 1;
	}
	if ((rc = store_backup_head_get(c->r->store, user, access, NULL, NULL)) != ST_OK) {
		fail_store(c->a, rc, "backup");
		return 1;
	}
	crypto_generichash(h, 32, tok, 32, NULL, 0);
	if (sodium_memcmp(h, access, 32) != 0) {
		fail(c->a, 401, "wrong backup token");
		return 1;
	}
	return 0;
}

/* 201 once v[0..n) are stored, in one transaction. */
static void
put_records(struct call *c, const char *user, const struct store_backup_rec *v, size_t n)
{
	int rc = store_backup_rec_put(c->r->store, user, v, n);

	if (rc != ST_OK)
		fail_store(c->a, rc, "backup");
	else
		reply(c->a, 201);
}

void
h_backup_rec_put(struct call *c)
{
	const char *user = c->seg[2];
	struct store_backup_rec v;
	uint8_t h[32];

	if (bad_user(c, user) || hash_seg(c, c->seg[5], v.hash) || unsigned_req(c, user, NULL))
		return;
	crypto_generichash(h, 32, c->q->body, c->q->body_len, NULL, 0);
	if (c->q->body_len == 0 || sodium_memcmp(h, v.hash, 32) != 0) {
		fail(c->a, 400, "backup record: the body's BLAKE2b-256 is not the path's hash");
		return;
	}
	v.p = c->q->body;
	v.n = c->q->body_len;
	put_records(c, user, &v, 1);
}

/* Many records in one request: each stored under its BLAKE2b-256. */
void
h_backup_recs_post(struct call *c)
{
	static _Thread_local nc_backup_span sp[NC_BACKUP_BATCH_RECS];
	static _Thread_local struct store_backup_rec v[NC_BACKUP_BATCH_RECS];
	const char *user = c->seg[2];
	size_t n;

	if (bad_user(c, user) || unsigned_req(c, user, NULL))
		return;
	if (nc_backup_batch_decode(sp, &n, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, "bad backup batch: u8 1, u16 n (1..1024), n x u32-length records");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		crypto_generichash(v[i].hash, 32, sp[i].p, sp[i].n, NULL, 0);
		v[i].p = sp[i].p;
		v[i].n = sp[i].n;
	}
	put_records(c, user, v, n);
}

void
h_backup_rec_get(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t hash[32];
	int rc;

	if (bad_user(c, user) || hash_seg(c, c->seg[5], hash) || token_ok(c, user))
		return;
	if ((rc = store_backup_rec_get(c->r->store, user, hash, &c->a->body)) != ST_OK)
		fail_store(c->a, rc, "backup record");
	else
		reply(c->a, 200);
}

/* Records by hash, in the order asked, as many as fit NC_BACKUP_BATCH_MAX
 * (the first always): a restore reads 10^5 messages' ~1,600 records in a
 * few requests rather than one each. */
void
h_backup_fetch(struct call *c)
{
	const char *user = c->seg[2];
	nc_buf *b = &c->a->body;
	const uint8_t *h;
	size_t n, k, at;
	uint8_t head[3] = { 1, 0, 0 }, len[4] = { 0 };
	int rc = ST_OK;

	if (bad_user(c, user) || token_ok(c, user))
		return;
	if (nc_backup_fetch_req_decode(&h, &n, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, "bad backup fetch: u8 1, u16 n (1..1024), n x 32-byte hashes");
		return;
	}
	if (nc_buf_add(b, head, sizeof head) != 0)
		rc = ST_ERR;
	for (k = 0; rc == ST_OK && k < n; k++) {
		at = b->len;
		if (nc_buf_add(b, len, sizeof len) != 0) {
			rc = ST_ERR;
			break;
		}
		rc = store_backup_rec_get(c->r->store, user, h + 32 * k, b);
		if (rc == ST_NOTFOUND)
			rc = ST_OK;   /* length 0: not held */
		if (rc != ST_OK)
			break;
		if (k > 0 && b->len > NC_BACKUP_BATCH_MAX) {
			b->len = at;   /* the next answer starts with it */
			break;
		}
		{
			size_t m = b->len - at - 4;   /* u32, big-endian */

			b->p[at] = (uint8_t)(m >> 24);
			b->p[at + 1] = (uint8_t)(m >> 16);
			b->p[at + 2] = (uint8_t)(m >> 8);
			b->p[at + 3] = (uint8_t)m;
		}
	}
	if (rc != ST_OK) {
		nc_buf_reset(b);
		fail_store(c->a, rc, "backup record");
		return;
	}
	b->p[1] = (uint8_t)(k >> 8);
	b->p[2] = (uint8_t)k;
	reply(c->a, 200);
}

/* The identity key the user's device lists are pinned to. */
static int
pinned_identity(struct call *c, const char *user, uint8_t id[32])
{
	static _Thread_local nc_devlist l;
	nc_buf b = NC_BUF_INIT;
	uint64_t v;
	int rc;

	rc = store_devlist_get(c->r->store, user, &b, &v);
	if (rc == ST_OK && nc_devlist_decode(&l, b.p, b.len) != 0)
		rc = ST_ERR;
	nc_buf_free(&b);
	if (rc != ST_OK) {
		fail_store(c->a, rc, "device list");
		return 1;
	}
	memcpy(id, l.identity, 32);
	return 0;
}

void
h_backup_head_put(struct call *c)
{
	const char *user = c->seg[2];
	struct store_backup_head sh;
	nc_backup_head h;
	nc_backup_manifest m;
	uint8_t (*hashes)[32] = NULL, id[32];
	char addr[NC_ADDR_MAX + 1];
	int rc;

	if (bad_user(c, user) || unsigned_req(c, user, NULL))
		return;
	if (nc_backup_head_decode(&h, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (pinned_identity(c, user, id))
		return;
	/* The manifest must be the user's, signed by its identity key. */
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	if (nc_backup_manifest_verify(&m, h.manifest, h.manifest_len, addr, id, 0) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (m.n > NC_BACKUP_SLOT_ENTRIES) {
		nc_backup_manifest_free(&m);
		fail(c->a, 413, "backup: at most 65536 records");
		return;
	}
	if (m.n > 0 && (hashes = malloc((size_t)m.n * 32)) == NULL) {
		nc_backup_manifest_free(&m);
		fail(c->a, 503, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < m.n; i++)
		memcpy(hashes[i], m.e[i].hash, 32);
	memset(&sh, 0, sizeof sh);
	sh.counter = m.counter;
	memcpy(sh.access, h.access, 32);
	sh.keys = h.keys_enc;
	sh.keys_len = h.keys_len;
	sh.manifest = h.manifest;
	sh.manifest_len = h.manifest_len;
	sh.hashes = (const uint8_t (*)[32])hashes;
	sh.n = m.n;
	rc = store_backup_head_put(c->r->store, user, &sh);
	free(hashes);
	nc_backup_manifest_free(&m);
	if (rc == ST_CONFLICT)
		fail(c->a, 409, "backup: counter not above the stored one");
	else if (rc == ST_STALE)
		fail(c->a, 409, "backup: a record the manifest lists is not stored");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "backup");
	else
		reply(c->a, 201);
}

void
h_backup_head_get(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t access[32];
	int rc;

	if (bad_user(c, user) || token_ok(c, user))
		return;
	rc = store_backup_head_get(c->r->store, user, access, NULL, &c->a->body);
	if (rc != ST_OK)
		fail_store(c->a, rc, "backup");
	else
		reply(c->a, 200);
}

void
h_backup_key_get(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t loc[32], access[32];
	nc_buf keys = NC_BUF_INIT;
	const uint8_t *w;
	size_t wn;
	int rc;

	/* Rate limited as logins: each try is a guess at a locator. */
	if (bad_user(c, user) || hash_seg(c, c->seg[5], loc) || limited(c, RL_LOGIN))
		return;
	rc = store_backup_head_get(c->r->store, user, access, &keys, NULL);
	if (rc == ST_OK) {
		rc = nc_backup_keys_find(keys.p, keys.len, loc, &w, &wn);
		if (rc == 0 && nc_buf_add(&c->a->body, w, wn) == 0)
			reply(c->a, 200);
		else if (rc == 0)
			fail(c->a, 503, "out of memory");
		else
			fail(c->a, 404, "backup: no key under that locator");
	} else
		fail_store(c->a, rc, "backup");
	nc_buf_free(&keys);
}
