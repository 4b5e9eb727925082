/* syncbackup.c - nc-sync backup, restore, export, import (syncbackup.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archload.h"
#include "cli.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "hex.h"
#include "home.h"
#include "keys.h"
#include "media.h"
#include "ordpool.h"
#include "relayc.h"
#include "syncbackup.h"
#include "wire.h"

#define K_ROOT "backup-root"         /* kv, secret: the root key */
#define K_WRAP_PW "backup-wrap-pw"   /* kv: locator || wrapped (password) */
#define K_WRAP_CODE "backup-wrap-code"
#define K_COUNTER "backup-counter"   /* kv: the last manifest's counter */
#define FP_KEY "newchat backup fingerprint v1"
#define ARCH_DIR "newchat-backup/"
#define ARCH_HEAD ARCH_DIR "head"
#define ARCH_RECS ARCH_DIR "records/"
/* kv settings a backup carries (plain, not secrets). */
static const char *const settings[] = { "opaque-pk", "opaque-cost", NULL };

/* ---- one backup run ---- */

/* Records go to the relay in batches of about this many bytes, up to
 * INFLIGHT of them at once (send_batch); the first is smaller, so that
 * the relay starts storing sooner. */
#define BATCH_BYTES ((size_t)4 << 20)
#define BATCH_FIRST ((size_t)1 << 20)
#define INFLIGHT 2

typedef struct {
	char id[NC_BACKUP_ID_MAX + 1];
	uint8_t fp[32], hid[32], hash[32];
} ent;

typedef struct {
	nc_state *s;
	nc_self *self;
	nc_relay *r;                 /* backup: the relay, else NULL */
	nc_buf batch;                /* backup: records not sent yet (backup.h) */
	nc_buf sent[INFLIGHT];       /* backup: batches the relay is storing, */
	nc_relay_pending pend[INFLIGHT];   /* their requests: pending of them, */
	int pending, oldest;         /* the oldest at sent[oldest] */
	size_t batches;              /* batches sent */
	int single;                  /* backup: the relay has no batch route */
	nc_buf body;                 /* a message body opened (secret, reused) */
	nc_buf data;                 /* the record being made (secret: reused,
	                              * a 16-32 KB one a record was an mmap,
	                              * an mlock and a munmap each) */
	struct archive *a;           /* export: the archive */
	sqlite3_stmt *hist;          /* build_hist's, compiled once a run */
	uint8_t *root, fpk[32];      /* root: sodium_malloc'd */
	ent *old, *cur;              /* the last backup's (sorted by id), this one's */
	size_t nold, ncur, capcur;
	nc_sync_stats *st;
} run;

static int
cmp_ent(const void *a, const void *b)
{
	return strcmp(((const ent *)a)->id, ((const ent *)b)->id);
}

static int
arch_entry(struct archive *a, const char *name, const uint8_t *p, size_t n)
{
	struct archive_entry *e = nc_ar.archive_entry_new();
	int ok;

	if (e == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	nc_ar.archive_entry_set_pathname(e, name);
	nc_ar.archive_entry_set_filetype(e, AE_IFREG);
	nc_ar.archive_entry_set_perm(e, 0600);
	nc_ar.archive_entry_set_size(e, (la_int64_t)n);
	ok = nc_ar.archive_write_header(a, e) == ARCHIVE_OK &&
	    nc_ar.archive_write_data(a, p, n) == (la_ssize_t)n;
	nc_ar.archive_entry_free(e);
	return ok ? 0 : nc_fail(NC_EIO, "archive: %s", nc_ar.archive_error_string(a));
}

/* A batch's records one by one, by the PUT every relay has. */
static int
put_singly(run *u, const nc_buf *batch)
{
	nc_backup_span *v = malloc(NC_BACKUP_BATCH_RECS * sizeof *v);
	uint8_t h[32];
	size_t n = 0;
	int rc;

	if (v == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	rc = nc_backup_batch_decode(v, &n, batch->p, batch->len);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		nc_backup_record_hash(h, v[i].p, v[i].n);
		rc = nc_relay_backup_put_record(u->r, u->self->name, u->self->dev, h,
		    v[i].p, v[i].n);
	}
	free(v);
	return rc;
}

/* The answer to the oldest batch in flight, if any; to a relay older
 * than the batch route (404/405 on it), one request a record, for the
 * rest of the run. */
static int
settle_batch(run *u)
{
	int rc, unrouted, i = u->oldest;

	if (u->pending == 0)
		return 0;
	u->pending--;
	u->oldest = (i + 1) % INFLIGHT;
	rc = nc_relay_backup_put_records_wait(u->r, u->self->name, u->self->dev,
	    &u->sent[i], &u->pend[i], &unrouted);
	if (rc != 0 && unrouted) {
		u->single = 1;
		nc_clearerr();
		rc = put_singly(u, &u->sent[i]);
	}
	nc_buf_reset(&u->sent[i]);
	return rc;
}

/* The batch to the relay, in a request that the relay stores while the
 * next batch is made and sent. Two in flight: with one, the relay stood
 * idle while a batch travelled (4 MB through the network helper, ~35 ms
 * on loopback here) and the client while it was stored (~50 ms). */
static int
send_batch(run *u)
{
	nc_buf t;
	int rc, i;

	if (u->batch.len == 0)
		return 0;
	if (u->pending == INFLIGHT && (rc = settle_batch(u)) != 0)
		return rc;
	if (u->single) {
		rc = put_singly(u, &u->batch);
		nc_buf_reset(&u->batch);
		return rc;
	}
	i = (u->oldest + u->pending) % INFLIGHT;
	t = u->sent[i];
	u->sent[i] = u->batch;
	u->batch = t;
	nc_relay_backup_put_records_start(u->r, u->self->name, u->self->dev,
	    &u->sent[i], &u->pend[i]);
	u->pending++;
	u->batches++;
	return 0;
}

/* Every batch in flight answered; the first error, if any. */
static int
settle_all(run *u)
{
	int rc = 0, r;

	while (u->pending > 0)
		if ((r = settle_batch(u)) != 0 && rc == 0)
			rc = r;
	return rc;
}

/* Every record made so far stored at the relay. */
static int
flush_batch(run *u)
{
	int rc = send_batch(u), r = settle_all(u);

	return rc != 0 ? rc : r;
}

/* rec into the batch, sent first when rec would take it past BATCH_BYTES;
 * a record larger than that, or any to a relay without batches, goes
 * alone. */
static int
batch_record(run *u, const ent *e, const nc_buf *rec)
{
	int rc;

	if (rec->len > BATCH_BYTES - 7 || u->single)
		return nc_relay_backup_put_record(u->r, u->self->name, u->self->dev, e->hash,
		    rec->p, rec->len);
	if ((u->batch.len + 4 + rec->len > (u->batches ? BATCH_BYTES : BATCH_FIRST) ||
	    !nc_backup_batch_fits(&u->batch, rec->len)) && (rc = send_batch(u)) != 0)
		return rc;
	return nc_backup_batch_add(&u->batch, rec->p, rec->len);
}

/* A sealed record (e->hash its hash) where this run sends it (to the
 * relay: in a batch, sent by flush_batch at the latest). */
static int
put_sealed(run *u, const ent *e, const nc_buf *rec)
{
	char name[sizeof ARCH_RECS + 64];
	int rc;

	if (u->a) {
		memcpy(name, ARCH_RECS, sizeof ARCH_RECS - 1);
		nc_hex_encode(name + sizeof ARCH_RECS - 1, e->hash, 32);
		rc = arch_entry(u->a, name, rec->p, rec->len);
	} else
		rc = batch_record(u, e, rec);
	if (rc == 0) {
		u->st->uploaded++;
		u->st->bytes_uploaded += rec->len;
	}
	return rc;
}

/* Seal data as record e->id (e->hid and e->hash set) and send it. */
static int
put_record(run *u, ent *e, const uint8_t *data, size_t n)
{
	nc_buf rec = NC_BUF_INIT;
	int rc;

	if ((rc = nc_backup_record_seal(&rec, e->hid, u->root, e->id, data, n)) == 0) {
		nc_backup_record_hash(e->hash, rec.p, rec.len);
		rc = put_sealed(u, e, &rec);
	}
	nc_buf_free(&rec);
	return rc;
}

/* Makes a record's content into out. */
typedef int (*build_fn)(run *u, const void *arg, nc_buf *out);

/* The next entry of this run, for record id with content fingerprint fp,
 * in *out (u->ncur counts it once the caller has it stored); *same set
 * when the last backup has the same (hid and hash copied), else it is to
 * be made. */
static int
ent_next(run *u, const char *id, const uint8_t fp[32], ent **out, int *same)
{
	ent key, *e, *o;

	if (u->ncur == u->capcur) {
		size_t c = u->capcur ? 2 * u->capcur : 256;
		ent *v = realloc(u->cur, c * sizeof *v);
		if (v == NULL)
			return nc_fail(NC_EOSERR, "out of memory");
		u->cur = v;
		u->capcur = c;
	}
	if (u->ncur >= NC_BACKUP_SLOT_ENTRIES)
		return nc_fail(NC_EDATA, "backup: more than %d records", NC_BACKUP_SLOT_ENTRIES);
	*out = e = &u->cur[u->ncur];
	memset(e, 0, sizeof *e);
	snprintf(e->id, sizeof e->id, "%s", id);
	memcpy(e->fp, fp, 32);
	snprintf(key.id, sizeof key.id, "%s", id);
	o = u->a || u->nold == 0 ? NULL :
	    bsearch(&key, u->old, u->nold, sizeof *u->old, cmp_ent);
	if ((*same = o && sodium_memcmp(o->fp, fp, 32) == 0)) {
		memcpy(e->hid, o->hid, 32);
		memcpy(e->hash, o->hash, 32);
	}
	return 0;
}

/* The record id with content fingerprint fp: kept as it was when the last
 * backup had the same, else made by build(arg, out) and sent. */
static int
record(run *u, const char *id, const uint8_t fp[32], build_fn build, const void *arg)
{
	nc_buf *data = &u->data;
	ent *e;
	int rc, same;

	if ((rc = ent_next(u, id, fp, &e, &same)) != 0 || same) {
		u->ncur += rc == 0;
		return rc;
	}
	if ((rc = build(u, arg, data)) == 0 && (rc = put_record(u, e, data->p, data->len)) == 0)
		u->ncur++;
	nc_buf_reset(data);   /* wiped, and empty for the next record */
	return rc;
}

/* A record whose content is small: built first, fingerprinted by it. */
static int
copy_build(run *u, const void *arg, nc_buf *out)
{
	const nc_buf *b = arg;

	(void)u;
	return nc_buf_add(out, b->p, b->len);
}

static int
small_record(run *u, const char *id, const nc_buf *data)
{
	uint8_t fp[32];

	crypto_generichash(fp, 32, data->p, data->len, u->fpk, 32);
	return record(u, id, fp, copy_build, data);
}

static int
rec_identity(run *u)
{
	nc_buf b = NC_SECBUF_INIT;
	int rc;

	if ((rc = nc_idkey_encode(u->self->id, &b)) == 0)
		rc = small_record(u, "identity", &b);
	nc_buf_free(&b);
	return rc;
}

static int
rec_meta(run *u)
{
	nc_buf b = NC_BUF_INIT;
	nc_enc e;
	int rc;

	nc_enc_init(&e, &b);
	nc_put_u8(&e, 1);
	nc_put_str(&e, u->self->addr);
	nc_put_u64(&e, (uint64_t)time(NULL));
	if ((rc = nc_enc_end(&e)) == 0)
		rc = small_record(u, "meta", &b);
	nc_buf_free(&b);
	return rc;
}

static int
rec_config(run *u)
{
	nc_buf b = NC_BUF_INIT;
	char path[4200];
	uint8_t chunk[4096];
	FILE *f;
	size_t k;
	int rc = 0;

	snprintf(path, sizeof path, "%s/config", u->s->home);
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? 0 : nc_fail(NC_EIO, "%s: %s", path, strerror(errno));
	while (rc == 0 && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
		if ((rc = nc_buf_add(&b, chunk, k)) == 0 && b.len > NC_CONFIG_MAXSIZE)
			rc = nc_fail(NC_ECONFIG, "%s: larger than %d bytes", path,
			    NC_CONFIG_MAXSIZE);
	if (rc == 0 && ferror(f))
		rc = nc_fail(NC_EIO, "%s: read error", path);
	fclose(f);
	if (rc == 0)
		rc = small_record(u, "config", &b);
	nc_buf_free(&b);
	return rc;
}

static int
rec_settings(run *u)
{
	nc_buf b = NC_BUF_INIT, v = NC_BUF_INIT;
	uint16_t n = 0;
	nc_enc e;
	int rc = 0, i;

	for (i = 0; settings[i]; i++)
		if (nc_state_get(u->s, settings[i], &v) == 0)
			n++;
	nc_enc_init(&e, &b);
	nc_put_u8(&e, 1);
	nc_put_u16(&e, n);
	for (i = 0; settings[i]; i++) {
		nc_buf_reset(&v);
		if (nc_state_get(u->s, settings[i], &v) != 0)
			continue;
		nc_put_str(&e, settings[i]);
		nc_put_bytes(&e, v.p, v.len);
	}
	if ((rc = nc_enc_end(&e)) == 0)
		rc = small_record(u, "settings", &b);
	nc_buf_free(&b);
	nc_buf_free(&v);
	return rc;
}

static void
put_col(nc_enc *e, sqlite3_stmt *st, int col)
{
	nc_put_bytes(e, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
}

/* Every contact but ourselves: pinned identity, lists, trust. */
static int
rec_contacts(run *u)
{
	sqlite3_stmt *st;
	nc_buf b = NC_BUF_INIT;
	char id[NC_BACKUP_ID_MAX + 1];
	const char *user;
	nc_enc e;
	int rc;

	if ((rc = nc_state_prep(u->s, &st, "SELECT user, identity, devlist, version,"
	    " changed, new_devlist, verified, first_seen FROM contact ORDER BY user")) != 0)
		return rc;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		user = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(user, u->self->addr) == 0)
			continue;
		nc_buf_reset(&b);
		nc_enc_init(&e, &b);
		nc_put_u8(&e, 1);
		nc_put_str(&e, user);
		put_col(&e, st, 1);
		put_col(&e, st, 2);
		nc_put_u64(&e, (uint64_t)sqlite3_column_int64(st, 3));
		nc_put_u8(&e, (uint8_t)sqlite3_column_int(st, 4));
		nc_put_u8(&e, sqlite3_column_type(st, 5) != SQLITE_NULL);
		put_col(&e, st, 5);
		nc_put_u8(&e, (uint8_t)sqlite3_column_int(st, 6));
		nc_put_u64(&e, (uint64_t)sqlite3_column_int64(st, 7));
		snprintf(id, sizeof id, "contact/%s", user);
		if ((rc = nc_enc_end(&e)) == 0)
			rc = small_record(u, id, &b);
	}
	sqlite3_finalize(st);
	nc_buf_free(&b);
	return rc;
}

/* History chunk k's record from st (HIST_SQL, on the connection it
 * reads): its messages in order, bodies opened with s's at-rest key into
 * body (secret, reused: a sodium_malloc is an mmap, an mlock and a munmap,
 * and a munmap in a process of several threads stops the others). */
#define HIST_SQL "SELECT id, dir, peer, dev, time, body, status, files FROM message" \
	" WHERE seq >= ? AND seq < ? ORDER BY seq"

static int
hist_encode(const nc_state *s, sqlite3_stmt *st, int64_t k, nc_buf *body, nc_buf *out)
{
	size_t count_at;
	uint16_t n = 0;
	nc_enc e;
	int rc = 0, dir;
	const char *id, *peer;

	sqlite3_bind_int64(st, 1, k * NC_SYNC_HIST_CHUNK);
	sqlite3_bind_int64(st, 2, (k + 1) * NC_SYNC_HIST_CHUNK);
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	count_at = out->len;
	nc_put_u16(&e, 0);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		dir = sqlite3_column_int(st, 1);
		peer = (const char *)sqlite3_column_text(st, 2);
		nc_buf_reset(body);
		if ((rc = nc_state_unseal_msg(s, dir, peer, id, sqlite3_column_blob(st, 5),
		    (size_t)sqlite3_column_bytes(st, 5), body)) != 0)
			break;
		nc_put_str(&e, id);
		/* bit 1: the body is an attachment payload (as a link's history) */
		nc_put_u8(&e, (uint8_t)(dir | (sqlite3_column_int(st, 7) ? 2 : 0)));
		nc_put_str(&e, peer);
		nc_put_str(&e, (const char *)sqlite3_column_text(st, 3));
		nc_put_u64(&e, (uint64_t)sqlite3_column_int64(st, 4));
		nc_put_bytes(&e, body->p, body->len);
		nc_put_str(&e, (const char *)sqlite3_column_text(st, 6));
		n++;
	}
	sqlite3_reset(st);
	nc_buf_reset(body);
	if (rc == 0 && (rc = nc_enc_end(&e)) == 0) {
		out->p[count_at] = (uint8_t)(n >> 8);
		out->p[count_at + 1] = (uint8_t)n;
	}
	return rc;
}

static int
build_hist(run *u, const void *arg, nc_buf *out)
{
	int rc;

	if (u->hist == NULL && (rc = nc_state_prep(u->s, &u->hist, HIST_SQL)) != 0)
		return rc;
	return hist_encode(u->s, u->hist, *(const int64_t *)arg, &u->body, out);
}

/* A chunk's fingerprint: its mark in histgen (lib/store/state.c: drawn
 * anew by a trigger whenever a row of the chunk is inserted, changed or
 * deleted), keyed. */
static void
hist_fp(const run *u, int64_t k, int64_t gen, uint8_t fp[32])
{
	crypto_generichash_state h;
	uint8_t w[16];

	for (int i = 0; i < 8; i++) {
		w[i] = (uint8_t)((uint64_t)k >> (56 - 8 * i));
		w[8 + i] = (uint8_t)((uint64_t)gen >> (56 - 8 * i));
	}
	crypto_generichash_init(&h, u->fpk, 32, 32);
	crypto_generichash_update(&h, (const uint8_t *)"histgen", 7);
	crypto_generichash_update(&h, w, sizeof w);
	crypto_generichash_final(&h, fp, 32);
}

/* ---- history chunks made by threads ----
 * A first backup of a long history opens every message body and seals
 * every chunk: CPU work, ~4 us a message here. Past HIST_PAR_MIN chunks
 * to make, worker threads (ordpool.h), each on a read-only connection of
 * its own, make them (read, open, encode, seal, hash) while this thread
 * stores them in order. A worker reads a chunk's mark with its messages,
 * in one transaction: the fingerprint it returns is the one of the
 * content it sealed, even if the chunk changed since the list was read. */
#define HIST_PAR_MIN 16
#define HIST_WINDOW 32

typedef struct {
	int64_t k;
	uint8_t fp[32], hid[32], hash[32];
	nc_buf rec;          /* sealed */
	int gone;            /* the chunk no longer exists */
} hjob;

typedef struct {
	run *u;
	hjob *jobs;
} hpool;

typedef struct {
	const run *u;
	sqlite3 *db;
	sqlite3_stmt *gen, *msg;
	nc_buf body, data;   /* secret, reused */
} hworker;

static int
hjob_make(void *wctx, size_t i, void *arg)
{
	hworker *w = wctx;
	hjob *j = &((hpool *)arg)->jobs[i];
	const run *u = w->u;
	char id[40];
	int rc;

	sqlite3_bind_int64(w->gen, 1, j->k);
	rc = sqlite3_step(w->gen);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(w->gen);
		j->gone = rc == SQLITE_DONE;
		return rc == SQLITE_DONE ? 0 : nc_fail(NC_EOSERR, "state: %s",
		    sqlite3_errmsg(w->db));
	}
	hist_fp(u, j->k, sqlite3_column_int64(w->gen, 0), j->fp);
	sqlite3_reset(w->gen);
	snprintf(id, sizeof id, "hist/%lld", (long long)j->k);
	if ((rc = hist_encode(u->s, w->msg, j->k, &w->body, &w->data)) == 0 &&
	    (rc = nc_backup_record_seal(&j->rec, j->hid, u->root, id, w->data.p,
	    w->data.len)) == 0)
		nc_backup_record_hash(j->hash, j->rec.p, j->rec.len);
	nc_buf_reset(&w->data);
	return rc;
}

/* Job i made: its record stored as this run's next entry. */
static int
hjob_use(size_t i, void *arg)
{
	hpool *hp = arg;
	hjob *j = &hp->jobs[i];
	run *u = hp->u;
	char id[40];
	ent *e;
	int rc = 0, same;

	snprintf(id, sizeof id, "hist/%lld", (long long)j->k);
	if (!j->gone && (rc = ent_next(u, id, j->fp, &e, &same)) == 0) {
		if (!same) {
			memcpy(e->hid, j->hid, 32);
			memcpy(e->hash, j->hash, 32);
			rc = put_sealed(u, e, &j->rec);
		}
		u->ncur += rc == 0;
	}
	nc_buf_free(&j->rec);
	return rc;
}

static int
hworker_open(hworker *w, const run *u)
{
	int rc;

	w->u = u;
	w->body = (nc_buf)NC_SECBUF_INIT;
	w->data = (nc_buf)NC_SECBUF_INIT;
	if ((rc = nc_state_reader(u->s, &w->db)) != 0)
		return rc;
	if (sqlite3_prepare_v2(w->db, "SELECT gen FROM histgen WHERE k = ?", -1, &w->gen,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(w->db, HIST_SQL, -1, &w->msg,
	    NULL) != SQLITE_OK || sqlite3_exec(w->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return nc_fail(NC_EOSERR, "state: %s", sqlite3_errmsg(w->db));
	return 0;
}

static void
hworker_close(hworker *w)
{
	sqlite3_finalize(w->gen);
	sqlite3_finalize(w->msg);
	if (w->db)
		(void)sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(w->db);
	nc_buf_free(&w->body);
	nc_buf_free(&w->data);
}

static int
hist_pool(run *u, hjob *jobs, size_t n, int threads)
{
	hworker w[NC_ORDPOOL_MAX];
	hpool hp = { u, jobs };
	nc_ordpool p = { .n = n, .window = HIST_WINDOW, .threads = threads, .arg = &hp,
	    .make = hjob_make, .use = hjob_use };
	int rc = 0;

	memset(w, 0, sizeof w);
	for (int i = 0; rc == 0 && i < threads; i++) {
		p.wctx[i] = &w[i];
		rc = hworker_open(&w[i], u);
	}
	if (rc == 0)
		rc = nc_ordpool_run(&p);
	for (int i = 0; i < threads; i++)
		hworker_close(&w[i]);
	for (size_t i = 0; i < n; i++)
		nc_buf_free(&jobs[i].rec);
	return rc;
}

/* The history in chunks of NC_SYNC_HIST_CHUNK message rows, fingerprinted
 * by their marks (hist_fp), so a backup reads neither the history nor its
 * bodies to find the chunks that changed, and opens only those. */
static int
rec_history(run *u)
{
	sqlite3_stmt *st;
	hjob *jobs = NULL;
	size_t n = 0, cap = 0;
	char id[40];
	uint8_t fp[32];
	ent *e;
	int64_t k;
	int rc, same, threads = nc_ordpool_threads(NC_ORDPOOL_MAX);

	if ((rc = nc_state_prep(u->s, &st, "SELECT k, gen FROM histgen ORDER BY k")) != 0)
		return rc;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		k = sqlite3_column_int64(st, 0);
		hist_fp(u, k, sqlite3_column_int64(st, 1), fp);
		snprintf(id, sizeof id, "hist/%lld", (long long)k);
		if (threads < 2) {
			rc = record(u, id, fp, build_hist, &k);
			continue;
		}
		/* kept as the last backup had it, or made later (its entry,
		 * not counted, is taken again when it is stored) */
		if ((rc = ent_next(u, id, fp, &e, &same)) != 0 || same) {
			u->ncur += rc == 0;
			continue;
		}
		if (n == cap) {
			hjob *v = realloc(jobs, (cap = cap ? 2 * cap : 256) * sizeof *v);
			if (v == NULL) {
				rc = nc_fail(NC_EOSERR, "out of memory");
				break;
			}
			jobs = v;
		}
		memset(&jobs[n], 0, sizeof jobs[n]);
		jobs[n].k = k;
		memcpy(jobs[n].fp, fp, 32);
		n++;
	}
	sqlite3_finalize(st);
	if (rc == 0 && n >= HIST_PAR_MIN)
		rc = hist_pool(u, jobs, n, threads);
	for (size_t i = 0; rc == 0 && i < n && n < HIST_PAR_MIN; i++) {
		snprintf(id, sizeof id, "hist/%lld", (long long)jobs[i].k);
		rc = record(u, id, jobs[i].fp, build_hist, &jobs[i].k);
	}
	free(jobs);
	return rc;
}

/* The last backup's records, sorted by id. */
static int
load_old(run *u)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	ent *v;
	int rc;

	if ((rc = nc_state_prep(u->s, &st, "SELECT id, fp, hid, hash FROM backup")) != 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (u->nold == cap) {
			cap = cap ? 2 * cap : 256;
			if ((v = realloc(u->old, cap * sizeof *v)) == NULL) {
				rc = nc_fail(NC_EOSERR, "out of memory");
				break;
			}
			u->old = v;
		}
		v = &u->old[u->nold];
		memset(v, 0, sizeof *v);
		snprintf(v->id, sizeof v->id, "%s", (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_bytes(st, 1) != 32 || sqlite3_column_bytes(st, 2) != 32 ||
		    sqlite3_column_bytes(st, 3) != 32)
			continue;   /* damaged: sent again */
		memcpy(v->fp, sqlite3_column_blob(st, 1), 32);
		memcpy(v->hid, sqlite3_column_blob(st, 2), 32);
		memcpy(v->hash, sqlite3_column_blob(st, 3), 32);
		u->nold++;
	}
	sqlite3_finalize(st);
	if (u->nold > 1)
		qsort(u->old, u->nold, sizeof *u->old, cmp_ent);
	return rc;
}

/* This backup's records become the last backup's, with its counter. */
static int
save_cur(run *u, uint64_t counter)
{
	sqlite3_stmt *st, *del = NULL;
	const ent *o;
	int rc;

	/* Only the rows that changed: both lists sorted by id, the old one
	 * by load_old. */
	if (u->ncur > 1)
		qsort(u->cur, u->ncur, sizeof *u->cur, cmp_ent);
	if ((rc = nc_state_begin(u->s)) != 0)
		return rc;
	if ((rc = nc_state_exec(u->s, "DELETE FROM backup WHERE length(fp) != 32 OR"
	    " length(hid) != 32 OR length(hash) != 32")) != 0 ||   /* as load_old */
	    (rc = nc_state_prep(u->s, &del, "DELETE FROM backup WHERE id = ?")) != 0)
		goto fail;
	for (size_t i = 0; rc == 0 && i < u->nold; i++) {
		if (u->ncur > 0 && bsearch(&u->old[i], u->cur, u->ncur, sizeof *u->cur,
		    cmp_ent) != NULL)
			continue;
		sqlite3_bind_text(del, 1, u->old[i].id, -1, SQLITE_STATIC);
		rc = nc_state_run(u->s, del);
	}
	sqlite3_finalize(del);
	if (rc != 0 || (rc = nc_state_prep(u->s, &st, "INSERT OR REPLACE INTO"
	    " backup(id, fp, hid, hash) VALUES (?, ?, ?, ?)")) != 0)
		goto fail;
	for (size_t i = 0; rc == 0 && i < u->ncur; i++) {
		o = u->nold == 0 ? NULL :
		    bsearch(&u->cur[i], u->old, u->nold, sizeof *u->old, cmp_ent);
		if (o && memcmp(o->fp, u->cur[i].fp, 32) == 0 &&
		    memcmp(o->hid, u->cur[i].hid, 32) == 0 &&
		    memcmp(o->hash, u->cur[i].hash, 32) == 0)
			continue;
		sqlite3_bind_text(st, 1, u->cur[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, u->cur[i].fp, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, u->cur[i].hid, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, u->cur[i].hash, 32, SQLITE_STATIC);
		rc = nc_state_run(u->s, st);
	}
	sqlite3_finalize(st);
	if (rc != 0 || (rc = nc_state_put_int(u->s, K_COUNTER, (int64_t)counter)) != 0)
		goto fail;
	return nc_state_commit(u->s);
fail:
	nc_state_rollback(u->s);
	return rc;
}

/* A wrapped copy of the root key under secret: locator || wrapped. */
static int
wrap_slot(run *u, const char *k, const uint8_t *secret, size_t n)
{
	nc_buf w = NC_BUF_INIT, v = NC_BUF_INIT;
	uint8_t loc[32];
	int rc;

	nc_backup_locator(loc, secret, n);
	if ((rc = nc_backup_wrap(&w, u->root, secret, n, u->self->addr)) == 0 &&
	    (rc = nc_buf_add(&v, loc, 32)) == 0 && (rc = nc_buf_add(&v, w.p, w.len)) == 0)
		rc = nc_state_put(u->s, k, v.p, v.len);
	nc_buf_free(&w);
	nc_buf_free(&v);
	return rc;
}

/* The state's root key into u->root; none (or a damaged one): a new
 * random one, *fresh set, not stored yet. */
static int
root_read(run *u, int *fresh)
{
	nc_buf b = NC_SECBUF_INIT;
	int rc = nc_state_get_secret(u->s, K_ROOT, &b);

	*fresh = 0;
	if (rc == 0 && b.len == NC_BACKUP_KEY)
		memcpy(u->root, b.p, NC_BACKUP_KEY);
	else if (rc == 0 || rc == NC_ENOUSER) {
		randombytes_buf(u->root, NC_BACKUP_KEY);
		*fresh = 1;
		rc = 0;
	}
	nc_buf_free(&b);
	return rc;
}

/* The root key's password slot under export key ek (syncbackup.h). */
int
nc_sync_key_wrap(nc_state *s, nc_self *self, const uint8_t ek[64], int create)
{
	run u;
	int rc, fresh;

	memset(&u, 0, sizeof u);
	u.s = s;
	u.self = self;
	if ((u.root = sodium_malloc(NC_BACKUP_KEY)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if ((rc = nc_state_begin(s)) != 0)
		goto out;
	if ((rc = root_read(&u, &fresh)) == 0 && fresh && !create) {
		nc_state_rollback(s);   /* no key: a first backup makes one */
		goto out;
	}
	if (rc == 0 && fresh)
		rc = nc_state_put_secret(s, K_ROOT, u.root, NC_BACKUP_KEY);
	if (rc == 0)
		rc = wrap_slot(&u, K_WRAP_PW, ek, 64);
	if (rc == 0)
		rc = nc_state_commit(s);
	else
		nc_state_rollback(s);
out:
	sodium_free(u.root);
	return rc;
}

int
nc_sync_backed_up(nc_state *s)
{
	return nc_state_get_int(s, K_COUNTER, 0) > 0;
}

/* The root key: the state's, or a new one (wrapped under the password's
 * export key); wrapped again when asked; a new recovery code when asked. */
static int
root_key(run *u, const nc_sync_opts *o)
{
	uint8_t *ek = NULL, code[NC_BACKUP_CODE_BYTES];
	int rc, fresh;

	if ((rc = root_read(u, &fresh)) != 0)
		return rc;
	if ((rc = nc_state_begin(u->s)) != 0)
		return rc;
	if (fresh || o->password) {
		nc_relay *r = u->r;
		if ((ek = sodium_malloc(64)) == NULL) {
			rc = nc_fail(NC_EOSERR, "out of memory");
			goto done;
		}
		if (r == NULL && (rc = nc_relay_open(&r, u->s->home, u->self->domain)) != 0)
			goto done;
		rc = nc_account_export_key(r, u->s, u->self->addr, "to wrap its backup key", ek);
		if (r != u->r)
			nc_relay_close(r);
		if (rc != 0 || (rc = wrap_slot(u, K_WRAP_PW, ek, 64)) != 0)
			goto done;
	}
	if (fresh && (rc = nc_state_put_secret(u->s, K_ROOT, u->root, NC_BACKUP_KEY)) != 0)
		goto done;
	if (o->recovery_code) {
		randombytes_buf(code, sizeof code);
		if ((rc = wrap_slot(u, K_WRAP_CODE, code, sizeof code)) != 0)
			goto done;
		nc_backup_code_format(u->st->code, code);
		sodium_memzero(code, sizeof code);
	}
done:
	if (ek)
		sodium_free(ek);
	if (rc != 0) {
		nc_state_rollback(u->s);
		sodium_memzero(u->st->code, sizeof u->st->code);
		return rc;
	}
	return nc_state_commit(u->s);
}

/* The head: the read token's hash, the wrapped keys, the signed manifest. */
static int
make_head(run *u, uint64_t counter, nc_buf *head)
{
	static const char *const slots[] = { K_WRAP_PW, K_WRAP_CODE };
	nc_backup_manifest m = { counter, 0, NULL };
	nc_backup_head h;
	nc_buf man = NC_BUF_INIT, v = NC_BUF_INIT;
	uint8_t token[32];
	size_t i;
	int rc = 0;

	memset(&h, 0, sizeof h);
	nc_backup_token(token, h.access, u->root);
	sodium_memzero(token, sizeof token);
	for (i = 0; i < 2 && rc == 0; i++) {
		nc_buf_reset(&v);
		if ((rc = nc_state_get(u->s, slots[i], &v)) == NC_ENOUSER) {
			rc = 0;
			continue;
		}
		if (rc == 0 && (v.len <= 32 || v.len - 32 > NC_BACKUP_WRAPPED_MAX))
			rc = nc_fail(NC_ESOFTWARE, "state: %s damaged", slots[i]);
		if (rc == 0) {
			memcpy(h.keys[h.k].locator, v.p, 32);
			h.keys[h.k].n = (uint16_t)(v.len - 32);
			memcpy(h.keys[h.k].wrapped, v.p + 32, v.len - 32);
			h.k++;
		}
	}
	if (rc == 0 && u->ncur > 0 && (m.e = calloc(u->ncur, sizeof *m.e)) == NULL)
		rc = nc_fail(NC_EOSERR, "out of memory");
	for (i = 0; rc == 0 && i < u->ncur; i++) {
		memcpy(m.e[i].hid, u->cur[i].hid, 32);
		memcpy(m.e[i].hash, u->cur[i].hash, 32);
	}
	m.n = (uint32_t)u->ncur;
	if (rc == 0 && (rc = nc_backup_manifest_sign(&man, &m, u->self->addr,
	    u->self->id->sk)) == 0) {
		h.manifest = man.p;
		h.manifest_len = man.len;
		rc = nc_backup_head_encode(head, &h);
	}
	free(m.e);
	nc_buf_free(&man);
	nc_buf_free(&v);
	return rc;
}

static int
run_records(run *u)
{
	int rc;

	if ((rc = rec_identity(u)) != 0 || (rc = rec_meta(u)) != 0 ||
	    (rc = rec_config(u)) != 0 || (rc = rec_settings(u)) != 0 ||
	    (rc = rec_contacts(u)) != 0 || (rc = rec_history(u)) != 0)
		return rc;
	u->st->records = u->ncur;
	return 0;
}

static int
run_begin(run *u, nc_state *s, nc_self *self, nc_sync_stats *st)
{
	memset(u, 0, sizeof *u);
	memset(st, 0, sizeof *st);
	u->data = (nc_buf)NC_SECBUF_INIT;
	u->body = (nc_buf)NC_SECBUF_INIT;
	u->s = s;
	u->self = self;
	u->st = st;
	if (self->id == NULL)
		return nc_fail(NC_EPERM, "%s: this device does not hold the identity key "
		    "(a backup is signed by it); run nc-sync on one that does", self->addr);
	if ((u->root = sodium_malloc(NC_BACKUP_KEY)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	return 0;
}

static void
run_end(run *u)
{
	if (u->root)
		sodium_free(u->root);
	sodium_memzero(u->fpk, sizeof u->fpk);
	nc_buf_free(&u->batch);
	nc_buf_free(&u->sent[0]);
	nc_buf_free(&u->sent[1]);
	nc_buf_free(&u->data);
	nc_buf_free(&u->body);
	sqlite3_finalize(u->hist);
	free(u->old);
	free(u->cur);
}

static uint64_t
next_counter(run *u)
{
	int64_t c = nc_state_get_int(u->s, K_COUNTER, 0);

	return (uint64_t)(c < 0 ? 0 : c) + 1;
}

int
nc_sync_backup(nc_state *s, nc_self *self, const nc_sync_opts *o, nc_sync_stats *st)
{
	nc_buf head = NC_BUF_INIT;
	uint64_t counter;
	run u;
	int rc;

	if ((rc = run_begin(&u, s, self, st)) != 0)
		goto out;
	if ((rc = nc_relay_open(&u.r, s->home, self->domain)) != 0 ||
	    (rc = root_key(&u, o)) != 0)
		goto out;
	crypto_generichash(u.fpk, 32, (const uint8_t *)FP_KEY, sizeof FP_KEY - 1, u.root,
	    NC_BACKUP_KEY);
	counter = next_counter(&u);
	if ((rc = load_old(&u)) != 0 || (rc = run_records(&u)) != 0 ||
	    (rc = flush_batch(&u)) != 0 || (rc = make_head(&u, counter, &head)) != 0)
		goto out;
	rc = nc_relay_backup_put_head(u.r, self->name, self->dev, head.p, head.len);
	if (rc == NC_ETEMP && strstr(nc_errmsg(), "is not stored") != NULL) {
		/* The relay lacks a record this device sent before (its data
		 * restored from an older copy, or pruned by hand): all of them
		 * once more, of which it keeps one copy each, then the head. */
		st->bytes_uploaded += head.len;
		nc_buf_reset(&head);
		u.nold = 0;
		u.ncur = 0;
		if ((rc = run_records(&u)) != 0 || (rc = flush_batch(&u)) != 0 ||
		    (rc = make_head(&u, counter, &head)) != 0)
			goto out;
		rc = nc_relay_backup_put_head(u.r, self->name, self->dev, head.p,
		    head.len);
	}
	if (rc == NC_ETEMP && strstr(nc_errmsg(), "counter") != NULL)
		rc = nc_fail(NC_ESECURITY, "%s: the relay holds a backup newer than this "
		    "device's last one (number %llu): another device backs up too, or "
		    "this state is older than the backup; not replacing it",
		    self->addr, (unsigned long long)counter - 1);
	if (rc == 0)
		rc = save_cur(&u, counter);
	st->counter = counter;
	st->bytes_uploaded += head.len;
out:
	if (u.pending) {   /* failed with batches in flight: their answers awaited */
		char why[512];

		snprintf(why, sizeof why, "%s", nc_errmsg());
		(void)settle_all(&u);
		(void)nc_fail(rc, "%s", why);
	}
	nc_relay_close(u.r);
	nc_buf_free(&head);
	run_end(&u);
	return rc;
}

int
nc_sync_export(nc_state *s, nc_self *self, const nc_sync_opts *o, const char *file,
    nc_sync_stats *st)
{
	nc_buf head = NC_BUF_INIT;
	char tmp[4200];
	uint64_t counter;
	run u;
	int rc, fd = -1;

	if ((rc = run_begin(&u, s, self, st)) != 0 || (rc = nc_archive_load()) != 0)
		goto out;
	if ((rc = root_key(&u, o)) != 0)
		goto out;
	crypto_generichash(u.fpk, 32, (const uint8_t *)FP_KEY, sizeof FP_KEY - 1, u.root,
	    NC_BACKUP_KEY);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", file) >= sizeof tmp) {
		rc = nc_fail(NC_EUSAGE, "%s: path too long", file);
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		rc = nc_fail(NC_ECANTCREAT, "%s: %s", file, strerror(errno));
		goto out;
	}
	if ((u.a = nc_ar.archive_write_new()) == NULL ||
	    nc_ar.archive_write_set_format_pax_restricted(u.a) != ARCHIVE_OK ||
	    nc_ar.archive_write_open_fd(u.a, fd) != ARCHIVE_OK) {
		rc = nc_fail(NC_EIO, "%s: cannot write an archive", file);
		goto out;
	}
	counter = next_counter(&u);
	if ((rc = run_records(&u)) != 0 || (rc = make_head(&u, counter, &head)) != 0 ||
	    (rc = arch_entry(u.a, ARCH_HEAD, head.p, head.len)) != 0)
		goto out;
	if (nc_ar.archive_write_close(u.a) != ARCHIVE_OK) {
		rc = nc_fail(NC_EIO, "%s: %s", file, nc_ar.archive_error_string(u.a));
		goto out;
	}
	if (fsync(fd) != 0 || rename(tmp, file) != 0) {
		rc = nc_fail(NC_EIO, "%s: %s", file, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	/* The counter is used: a later backup must go above it. */
	if ((rc = nc_state_put_int(s, K_COUNTER, (int64_t)counter)) != 0)
		goto out;
	st->counter = counter;
	st->bytes_uploaded += head.len;
out:
	if (u.a)
		nc_ar.archive_write_free(u.a);
	if (fd >= 0)
		close(fd);
	if (fd >= 0 && tmp[0])
		unlink(tmp);
	nc_buf_free(&head);
	run_end(&u);
	return rc;
}

/* ---- restore and import ---- */

typedef struct {
	uint8_t hash[32];
	nc_buf b;
} arec;

/* Where a restore reads from: the relay, or an archive read whole. */
typedef struct {
	nc_relay *r;
	int unfetched;        /* the relay has no fetch route: GETs */
	char name[NC_USER_MAX + 1];
	nc_buf head;          /* archive: its head */
	arec *recs;           /* archive: its records, sorted by hash */
	size_t nrecs;
} source;

static int
cmp_arec(const void *a, const void *b)
{
	return memcmp(((const arec *)a)->hash, ((const arec *)b)->hash, 32);
}

static int
src_key(source *src, const uint8_t loc[32], nc_buf *out)
{
	nc_backup_head h;
	const uint8_t *w;
	size_t wn;
	int rc;

	if (src->r)
		return nc_relay_backup_key(src->r, src->name, loc, out);
	if ((rc = nc_backup_head_decode(&h, src->head.p, src->head.len)) != 0)
		return nc_fail(NC_EDATA, "archive: a bad head: %s", nc_errmsg());
	if ((rc = nc_backup_keys_find(h.keys_enc, h.keys_len, loc, &w, &wn)) != 0)
		return rc == NC_ENOUSER ? nc_fail(NC_ENOUSER, "not found") : rc;
	return nc_buf_add(out, w, wn);
}

static int
src_manifest(source *src, const uint8_t token[32], nc_buf *out)
{
	nc_backup_head h;

	if (src->r)
		return nc_relay_backup_head(src->r, src->name, token, out);
	if (nc_backup_head_decode(&h, src->head.p, src->head.len) != 0)
		return nc_fail(NC_EDATA, "archive: a bad head: %s", nc_errmsg());
	return nc_buf_add(out, h.manifest, h.manifest_len);
}

static int
src_record(source *src, const uint8_t token[32], const uint8_t hash[32], nc_buf *out)
{
	arec key, *a;

	if (src->r)
		return nc_relay_backup_record(src->r, src->name, token, hash, out);
	memcpy(key.hash, hash, 32);
	if (src->nrecs == 0 ||
	    (a = bsearch(&key, src->recs, src->nrecs, sizeof *src->recs, cmp_arec)) == NULL)
		return nc_fail(NC_ENOUSER, "not in the archive");
	return nc_buf_add(out, a->b.p, a->b.len);
}

static void
src_free(source *src)
{
	nc_relay_close(src->r);
	nc_buf_free(&src->head);
	for (size_t i = 0; i < src->nrecs; i++)
		nc_buf_free(&src->recs[i].b);
	free(src->recs);
}

/* An opened record: its data a view into a block of the restore's secret
 * store (not a buffer of its own: 10^5 messages are ~1,600 records, and a
 * secret buffer each cost an mmap, mprotects, an mlock and a munmap with
 * its TLB flush: 1/6 of a restore's CPU time). */
typedef struct {
	char id[NC_BACKUP_ID_MAX + 1];
	nc_buf data;         /* a view: never freed */
	int64_t order;       /* hist/N: N */
} opened;

/* The opened records, in secret blocks of at least STORE_BLOCK that never
 * move once made: one buffer grown by doubling locked, wiped and copied
 * ~64 MB for the 22 MB of a 10^5-message history (another 1/6). */
#define STORE_BLOCK ((size_t)4 << 20)
typedef struct {
	nc_buf *blk;
	size_t n;
} secstore;

/* The block to open a record of n bytes (its plaintext is shorter) into. */
static nc_buf *
store_room(secstore *st, size_t n)
{
	nc_buf *b = st->n ? &st->blk[st->n - 1] : NULL, *nb;

	if (b != NULL && b->cap - b->len > n)
		return b;
	if ((nb = realloc(st->blk, (st->n + 1) * sizeof *nb)) == NULL)
		return NULL;
	st->blk = nb;
	b = &st->blk[st->n];
	*b = (nc_buf)NC_SECBUF_INIT;
	if (nc_buf_reserve(b, n > STORE_BLOCK - 1 ? n : STORE_BLOCK - 1) != 0)
		return NULL;
	st->n++;
	return b;
}

static void
store_free(secstore *st)
{
	for (size_t i = 0; i < st->n; i++)
		nc_buf_free(&st->blk[i]);
	free(st->blk);
	st->blk = NULL;
	st->n = 0;
}

static int
cmp_opened(const void *a, const void *b)
{
	const opened *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

/* A restore reads the manifest's records in order: from the relay by
 * fetches of FETCH_RECS (~3.5 MB of history), FETCH_SLOTS in flight; from
 * a relay without the fetch route by GETs, FETCH_AHEAD in flight (one at a
 * time, 10^5 messages, ~1,600 records, were ~1,600 round trips in a row;
 * 8 at a time still cost the relay a request each); or from an archive. */
#define FETCH_RECS 256
#define FETCH_SLOTS 2
#define FETCH_AHEAD 8

typedef struct {
	nc_relay_pending p;
	uint32_t first, n;           /* the entries asked; n 0: a free slot */
	int waited;
	nc_buf resp;
	nc_backup_span v[FETCH_RECS];
	size_t k;                    /* answered, once waited */
} fetchslot;

typedef struct {
	source *src;
	const uint8_t *token;
	const nc_backup_manifest *m;
	fetchslot s[FETCH_SLOTS];
	uint32_t asked;              /* entries asked by fetches so far */
	nc_relay_pending pend[FETCH_AHEAD];
	uint32_t started, waited;    /* single: GETs started, waited for */
	nc_buf rec;                  /* single, archive: the record */
} fetcher;

#define UNROUTED (-1)

static void
slot_start(fetcher *f, fetchslot *sl, uint32_t first, uint32_t n)
{
	uint8_t h[32 * FETCH_RECS];

	for (uint32_t i = 0; i < n; i++)
		memcpy(h + 32 * i, f->m->e[first + i].hash, 32);
	sl->first = first;
	sl->n = n;
	sl->waited = 0;
	sl->k = 0;
	nc_relay_backup_fetch_start(f->src->r, f->src->name, f->token, h, n, &sl->p);
}

static int
slot_wait(fetchslot *sl)
{
	int unrouted, rc;

	sl->waited = 1;
	if ((rc = nc_relay_backup_fetch_wait(&sl->p, &sl->resp, &unrouted)) != 0)
		return unrouted ? UNROUTED : rc;
	if (nc_backup_fetch_decode(sl->v, &sl->k, sl->n, sl->resp.p, sl->resp.len) != 0)
		return nc_fail(NC_ESECURITY, "backup: the relay's answer to a fetch of "
		    "records is malformed; not restoring");
	return 0;
}

/* Record i, the one after the last asked for, by fetches. */
static int
fetch_batched(fetcher *f, uint32_t i, const uint8_t **p, size_t *n)
{
	fetchslot *sl = NULL;
	uint32_t j;
	int rc;

	for (j = 0; j < FETCH_SLOTS && f->asked < f->m->n; j++)
		if (f->s[j].n == 0) {
			uint32_t k = f->m->n - f->asked;

			slot_start(f, &f->s[j], f->asked, k < FETCH_RECS ? k : FETCH_RECS);
			f->asked += f->s[j].n;
		}
	for (j = 0; j < FETCH_SLOTS; j++)
		if (f->s[j].n && i >= f->s[j].first && i - f->s[j].first < f->s[j].n)
			sl = &f->s[j];
	if (sl == NULL)
		return nc_fail(NC_ESOFTWARE, "backup: record %u asked out of order", i);
	if (!sl->waited && (rc = slot_wait(sl)) != 0)
		return rc;
	if (i - sl->first >= sl->k) {
		/* the answer stopped short (8 MiB): the rest of this
		 * slot's entries asked again, before those of the next */
		slot_start(f, sl, i, sl->first + sl->n - i);
		if ((rc = slot_wait(sl)) != 0)
			return rc == UNROUTED ? nc_fail(NC_EUNAVAIL, "backup: the relay "
			    "refused a fetch it took before") : rc;
	}
	*p = sl->v[i - sl->first].p;
	*n = sl->v[i - sl->first].n;
	if (i + 1 == sl->first + sl->n)
		sl->n = 0;   /* free for the next fetch; *p stays until it is waited */
	return *n == 0 ? NC_ENOUSER : 0;
}

/* Waits for what is in flight (after a failure, or the switch to GETs). */
static void
fetch_drain(fetcher *f)
{
	for (int j = 0; j < FETCH_SLOTS; j++) {
		if (f->s[j].n && !f->s[j].waited)
			(void)slot_wait(&f->s[j]);
		f->s[j].n = 0;
	}
	for (; f->waited < f->started; f->waited++)
		if (nc_relay_backup_record_wait(&f->pend[f->waited % FETCH_AHEAD],
		    &f->rec) != 0)
			continue;
}

/* Record i of the manifest (i from 0 up, one at a time) into *p, *n:
 * valid until the next call. NC_ENOUSER when the source lacks it. */
static int
fetch_next(fetcher *f, uint32_t i, const uint8_t **p, size_t *n)
{
	int rc;

	*p = NULL;
	*n = 0;
	if (f->src->r && !f->src->unfetched) {
		if ((rc = fetch_batched(f, i, p, n)) != UNROUTED)
			return rc;
		/* a relay older than the fetch route: GETs from here */
		nc_clearerr();
		fetch_drain(f);
		f->src->unfetched = 1;
		f->started = f->waited = i;
	}
	nc_buf_reset(&f->rec);
	if (f->src->r) {
		for (; f->started < f->m->n && f->started - i < FETCH_AHEAD; f->started++)
			nc_relay_backup_record_start(f->src->r, f->src->name, f->token,
			    f->m->e[f->started].hash, &f->pend[f->started % FETCH_AHEAD]);
		rc = nc_relay_backup_record_wait(&f->pend[i % FETCH_AHEAD], &f->rec);
		f->waited = i + 1;
	} else
		rc = src_record(f->src, f->token, f->m->e[i].hash, &f->rec);
	*p = f->rec.p;
	*n = f->rec.len;
	return rc;
}

/* Everything the manifest lists, checked, into v (n entries), their data
 * in all (emptied first), checked in the manifest's order, so that the
 * first bad one is the one named. */
static int
fetch_all(source *src, const uint8_t *root, const uint8_t token[32],
    const nc_backup_manifest *m, opened *v, secstore *all)
{
	fetcher *f = calloc(1, sizeof *f);
	const uint8_t *rp = NULL;
	size_t rn = 0, off;
	uint8_t h[32];
	char why[512];
	nc_buf *b;
	int rc = 0;
	char *end;

	store_free(all);
	if (f == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	f->src = src;
	f->token = token;
	f->m = m;
	for (uint32_t i = 0; rc == 0 && i < m->n; i++) {
		rc = fetch_next(f, i, &rp, &rn);
		if (rc == NC_ENOUSER) {
			rc = nc_fail(NC_ESECURITY, "backup: record %u of %u that the signed "
			    "manifest lists is missing (dropped); not restoring", i + 1, m->n);
			break;
		}
		if (rc != 0)
			break;
		nc_backup_record_hash(h, rp, rn);
		if (sodium_memcmp(h, m->e[i].hash, 32) != 0) {
			rc = nc_fail(NC_ESECURITY, "backup: record %u of %u is not the one the "
			    "signed manifest lists (replaced or injected); not restoring",
			    i + 1, m->n);
			break;
		}
		if ((b = store_room(all, rn)) == NULL) {
			rc = nc_fail(NC_EOSERR, "out of memory");
			break;
		}
		off = b->len;
		if ((rc = nc_backup_record_open(v[i].id, b, root, m->e[i].hid, rp, rn)) != 0)
			break;
		v[i].data = (nc_buf)NC_BUF_INIT;
		v[i].data.p = b->p + off;
		v[i].data.len = v[i].data.cap = b->len - off;
		v[i].order = -1;
		if (strncmp(v[i].id, "hist/", 5) == 0) {
			v[i].order = strtoll(v[i].id + 5, &end, 10);
			if (*end != '\0' || v[i].order < 0)
				rc = nc_fail(NC_EDATA, "backup: a bad record id");
		}
	}
	/* after a failure, what is still in flight: waited for, the
	 * failure's reason kept */
	if (rc != 0)
		snprintf(why, sizeof why, "%s", nc_errmsg());
	fetch_drain(f);
	if (rc != 0)
		rc = nc_fail(rc, "%s", why);
	for (int j = 0; j < FETCH_SLOTS; j++)
		nc_buf_free(&f->s[j].resp);
	nc_buf_free(&f->rec);
	free(f);
	return rc;
}

static int
bind_bytes(sqlite3_stmt *st, int col, const uint8_t *p, size_t n)
{
	return sqlite3_bind_blob(st, col, p ? (const void *)p : "", (int)n, SQLITE_STATIC);
}

static int
apply_contact(nc_state *s, const char *self_addr, const nc_buf *d, nc_sync_restored *out)
{
	char user[NC_ADDR_MAX + 1];
	const uint8_t *idk, *dl, *ndl;
	size_t idn, dln, ndln;
	uint64_t version, first;
	int changed, has_new, verified, rc;
	sqlite3_stmt *st;
	nc_dec dec;

	nc_dec_init(&dec, d->p, d->len);
	nc_dec_check(&dec, nc_get_u8(&dec) == 1, "contact record version");
	nc_get_str(&dec, user, NC_ADDR_MAX);
	idk = nc_get_bytes(&dec, 64, &idn);
	dl = nc_get_bytes(&dec, 8192, &dln);
	version = nc_get_u64(&dec);
	changed = nc_get_u8(&dec);
	has_new = nc_get_u8(&dec);
	ndl = nc_get_bytes(&dec, 8192, &ndln);
	verified = nc_get_u8(&dec);
	first = nc_get_u64(&dec);
	nc_dec_check(&dec, version <= INT64_MAX && first <= INT64_MAX, "contact numbers");
	if ((rc = nc_dec_end(&dec, "contact record")) != 0)
		return rc;
	if (s == NULL || strcmp(user, self_addr) == 0)
		return 0;
	if ((rc = nc_state_prep(s, &st, "INSERT OR REPLACE INTO contact(user, identity,"
	    " devlist, version, changed, new_devlist, verified, first_seen)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	bind_bytes(st, 2, idk, idn);
	bind_bytes(st, 3, dl, dln);
	sqlite3_bind_int64(st, 4, (int64_t)version);
	sqlite3_bind_int(st, 5, changed);
	if (has_new)
		bind_bytes(st, 6, ndl, ndln);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int(st, 7, verified);
	sqlite3_bind_int64(st, 8, (int64_t)first);
	if ((rc = nc_state_done(s, st)) == 0)
		out->contacts++;
	return rc;
}

/* The statement a restore runs once a row, prepared once a restore
 * (with the connection's triggers off: see apply_all). */
typedef struct {
	sqlite3_stmt *msg, *gen;
	int64_t chunk;       /* the history chunk (histgen) given a mark last */
	nc_buf ct;
} applier;

/* One message of a history record (hist_encode's layout). */
typedef struct {
	char id[65], peer[NC_ADDR_MAX + 1], dev[65], status[33];
	const uint8_t *body;
	size_t bn;
	uint64_t t;
	int dir, files;
} histmsg;

/* A history record's message count (dec->err set if bad). */
static uint16_t
hist_head(nc_dec *dec, const nc_buf *d)
{
	uint16_t n;

	nc_dec_init(dec, d->p, d->len);
	nc_dec_check(dec, nc_get_u8(dec) == 1, "history record version");
	n = nc_get_u16(dec);
	nc_dec_check(dec, n <= NC_SYNC_HIST_CHUNK, "history record count");
	return n;
}

/* Its next message, checked. */
static void
hist_msg(nc_dec *dec, histmsg *m)
{
	nc_get_str(dec, m->id, 64);
	m->dir = nc_get_u8(dec);
	nc_get_str(dec, m->peer, NC_ADDR_MAX);
	nc_get_str(dec, m->dev, 64);
	m->t = nc_get_u64(dec);
	m->body = nc_get_bytes(dec, NC_BACKUP_RECORD_MAX, &m->bn);
	nc_get_str(dec, m->status, 32);
	m->files = m->dir >> 1;
	m->dir &= 1;
	nc_dec_check(dec, m->files <= 1 && m->t <= INT64_MAX && m->id[0] && m->peer[0] &&
	    (!m->files || (m->body != NULL && nc_media_attach_ok(m->body, m->bn))),
	    "history message");
}

/* A history record's first n bodies sealed at rest ahead of their rows
 * (by restore threads: restore_seal), one after another in ct. */
typedef struct {
	nc_buf ct;
	uint32_t end[NC_SYNC_HIST_CHUNK];
	uint16_t n;
} presealed;

static int
apply_history(nc_state *s, applier *ap, const nc_buf *d, const presealed *pre,
    nc_sync_restored *out)
{
	histmsg m;
	const uint8_t *ct;
	size_t cn;
	uint16_t n, i;
	int64_t k;
	int rc = 0;
	nc_dec dec;

	n = hist_head(&dec, d);
	for (i = 0; rc == 0 && dec.err == 0 && i < n; i++) {
		hist_msg(&dec, &m);
		if (dec.err || s == NULL)
			continue;
		if (pre != NULL && i < pre->n) {
			ct = pre->ct.p + (i ? pre->end[i - 1] : 0);
			cn = pre->end[i] - (i ? pre->end[i - 1] : 0);
		} else {
			nc_buf_reset(&ap->ct);
			if ((rc = nc_state_seal_msg(s, m.dir, m.peer, m.id, m.body, m.bn,
			    &ap->ct)) != 0)
				break;
			ct = ap->ct.p;
			cn = ap->ct.len;
		}
		if (ap->msg == NULL && (rc = nc_state_prep(s, &ap->msg, "INSERT OR IGNORE"
		    " INTO message(id, dir, peer, dev, time, body, status, files)"
		    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) != 0)
			break;
		sqlite3_bind_text(ap->msg, 1, m.id, -1, SQLITE_STATIC);
		sqlite3_bind_int(ap->msg, 2, m.dir);
		sqlite3_bind_text(ap->msg, 3, m.peer, -1, SQLITE_STATIC);
		sqlite3_bind_text(ap->msg, 4, m.dev, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ap->msg, 5, (int64_t)m.t);
		sqlite3_bind_blob(ap->msg, 6, ct, (int)cn, SQLITE_STATIC);
		sqlite3_bind_text(ap->msg, 7, m.status, -1, SQLITE_STATIC);
		sqlite3_bind_int(ap->msg, 8, m.files);
		if ((rc = nc_state_run(s, ap->msg)) != 0 || sqlite3_changes(s->db) == 0)
			continue;
		out->messages++;
		/* histgen_ins's new mark, once a chunk: rows go in in order */
		k = sqlite3_last_insert_rowid(s->db) / NC_SYNC_HIST_CHUNK;
		if (k == ap->chunk || (ap->gen == NULL && (rc = nc_state_prep(s, &ap->gen,
		    "INSERT INTO histgen(k, gen) VALUES (?, random())"
		    " ON CONFLICT(k) DO UPDATE SET gen = excluded.gen")) != 0))
			continue;
		sqlite3_bind_int64(ap->gen, 1, k);
		if ((rc = nc_state_run(s, ap->gen)) == 0)
			ap->chunk = k;
	}
	if (rc == 0)
		rc = nc_dec_end(&dec, "history record");
	return rc;
}

/* ---- a restore's history: bodies sealed at rest by threads ----
 * Sealing each body under the new state's key was 1/8 of a restore's CPU
 * (10^5 messages); the rows go in on this thread (one connection, one
 * transaction) while workers (ordpool.h) seal the records ahead. A
 * worker stops at a record's first bad message or failed seal: the
 * applier seals the rest itself, and finds the fault where it always
 * did. */
typedef struct {
	nc_state *s;
	applier *ap;
	opened *const *recs;     /* the history records, in order */
	presealed *pre;
	nc_sync_restored *out;
} sealrun;

static int
restore_seal(void *wctx, size_t i, void *arg)
{
	sealrun *r = arg;
	presealed *p = &r->pre[i];
	histmsg m;
	uint16_t n;
	nc_dec dec;

	(void)wctx;
	n = hist_head(&dec, &r->recs[i]->data);
	while (dec.err == 0 && p->n < n) {
		hist_msg(&dec, &m);
		if (dec.err || nc_state_seal_msg(r->s, m.dir, m.peer, m.id, m.body, m.bn,
		    &p->ct) != 0)
			break;
		p->end[p->n++] = (uint32_t)p->ct.len;
	}
	nc_clearerr();
	return 0;
}

static int
restore_use(size_t i, void *arg)
{
	sealrun *r = arg;
	int rc = apply_history(r->s, r->ap, &r->recs[i]->data, &r->pre[i], r->out);

	nc_buf_free(&r->pre[i].ct);
	return rc;
}

/* The history records of v (in order), sealed ahead by threads when
 * there are enough of them; 0 or the first error. */
static int
apply_histories(nc_state *s, applier *ap, opened *v, size_t n, nc_sync_restored *out)
{
	opened **recs = NULL;
	sealrun r = { s, ap, NULL, NULL, out };
	nc_ordpool p = { .window = HIST_WINDOW, .arg = &r, .make = restore_seal,
	    .use = restore_use };
	size_t nh = 0;
	int rc = 0;

	p.threads = nc_ordpool_threads(NC_ORDPOOL_MAX);
	for (size_t i = 0; i < n; i++)
		nh += strncmp(v[i].id, "hist/", 5) == 0;
	if (nh < HIST_PAR_MIN || p.threads < 2) {
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (strncmp(v[i].id, "hist/", 5) == 0)
				rc = apply_history(s, ap, &v[i].data, NULL, out);
		return rc;
	}
	if ((recs = malloc(nh * sizeof *recs)) == NULL ||
	    (r.pre = calloc(nh, sizeof *r.pre)) == NULL) {
		free(recs);
		return nc_fail(NC_EOSERR, "out of memory");
	}
	nh = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i].id, "hist/", 5) == 0)
			recs[nh++] = &v[i];
	r.recs = recs;
	p.n = nh;
	rc = nc_ordpool_run(&p);
	for (size_t i = 0; i < nh; i++)
		nc_buf_free(&r.pre[i].ct);
	free(r.pre);
	free(recs);
	return rc;
}

static int
apply_settings(nc_state *s, const nc_buf *d)
{
	char k[65];
	const uint8_t *v;
	size_t vn;
	uint16_t n, i;
	int rc = 0, known;
	nc_dec dec;

	nc_dec_init(&dec, d->p, d->len);
	nc_dec_check(&dec, nc_get_u8(&dec) == 1, "settings record version");
	n = nc_get_u16(&dec);
	for (i = 0; rc == 0 && dec.err == 0 && i < n; i++) {
		nc_get_str(&dec, k, 64);
		v = nc_get_bytes(&dec, 1024, &vn);
		known = 0;
		for (int j = 0; settings[j]; j++)
			known |= strcmp(settings[j], k) == 0;
		if (dec.err == 0 && known && s != NULL)
			rc = nc_state_put(s, k, v, vn);
	}
	if (rc == 0)
		rc = nc_dec_end(&dec, "settings record");
	return rc;
}

static int
apply_meta(const nc_buf *d, const char *addr, nc_sync_restored *out)
{
	char who[NC_ADDR_MAX + 1];
	nc_dec dec;

	nc_dec_init(&dec, d->p, d->len);
	nc_dec_check(&dec, nc_get_u8(&dec) == 1, "meta record version");
	nc_get_str(&dec, who, NC_ADDR_MAX);
	out->time = nc_get_u64(&dec);
	if (nc_dec_end(&dec, "meta record") != 0)
		return NC_EDATA;
	if (addr && strcmp(who, addr) != 0)
		return nc_fail(NC_ESECURITY, "backup: made for %s, not %s", who, addr);
	return 0;
}

/* The config, unless home has one (it may name the relays to reach). */
static int
apply_config(const char *home, const nc_buf *d)
{
	char path[4200], tmp[4300];
	int fd, rc = 0;

	snprintf(path, sizeof path, "%s/config", home);
	if (access(path, F_OK) == 0 || d->len == 0)
		return 0;
	snprintf(tmp, sizeof tmp, "%s.restore", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600)) < 0)
		return nc_fail(NC_EIO, "%s: %s", tmp, strerror(errno));
	if (write(fd, d->p, d->len) != (ssize_t)d->len || fsync(fd) != 0 ||
	    rename(tmp, path) != 0)
		rc = nc_fail(NC_EIO, "%s: %s", path, strerror(errno));
	close(fd);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
nc_sync_record_check(const char *id, const uint8_t *p, size_t n)
{
	nc_sync_restored out;
	nc_buf d = { (uint8_t *)p, n, n, 0 };

	memset(&out, 0, sizeof out);
	if (strncmp(id, "contact/", 8) == 0)
		return apply_contact(NULL, "", &d, &out);
	if (strncmp(id, "hist/", 5) == 0)
		return apply_history(NULL, NULL, &d, NULL, &out);
	if (strcmp(id, "settings") == 0)
		return apply_settings(NULL, &d);
	if (strcmp(id, "meta") == 0)
		return apply_meta(&d, NULL, &out);
	return 0;
}

/* Everything but the identity (taken by the join) into the new state,
 * in one transaction. */
static int
apply_tx(nc_state *s, const char *addr, opened *v, size_t n, nc_sync_restored *out)
{
	applier ap = { NULL, NULL, -1, NC_BUF_INIT };
	sqlite3_stmt *st = NULL;
	int64_t before = 0;
	int rc;
	size_t i;

	qsort(v, n, sizeof *v, cmp_opened);   /* history in order, the rest first */
#ifdef M_TRIM_THRESHOLD
	/* glibc gave the heap's top back to the kernel and took it again at
	 * every row (brk down and up, a TLB flush each: 3/4 of a restore's
	 * CPU time at 10^5 messages); this process ends soon after. */
	(void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	/* One transaction of ~25 MB per 10^5 messages: pages kept in memory
	 * rather than spilled to the WAL and read back (the default cache is 2 MB). */
	if ((rc = nc_state_exec(s, "PRAGMA cache_size=-65536")) != 0 ||
	    (rc = nc_state_prep(s, &st, "SELECT coalesce(max(seq), 0) FROM message")) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		before = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* The message table's triggers (the "sent" event, the history
	 * chunk's mark) each ran once a row, as did a "message" event. Off
	 * for this connection while the rows go in (sqlite re-prepares its
	 * statements at each switch), and their work done in this
	 * transaction: a mark once a chunk (apply_history), the events in
	 * one statement after. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	for (i = 0; rc == 0 && i < n; i++) {
		if (strncmp(v[i].id, "contact/", 8) == 0)
			rc = apply_contact(s, addr, &v[i].data, out);
		else if (strcmp(v[i].id, "settings") == 0)
			rc = apply_settings(s, &v[i].data);
		else if (strcmp(v[i].id, "config") == 0)
			rc = apply_config(s->home, &v[i].data);
	}
	if (rc == 0)   /* after the rest, as they sort */
		rc = apply_histories(s, &ap, v, n, out);
	sqlite3_finalize(ap.msg);
	sqlite3_finalize(ap.gen);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, (int *)NULL);
	/* What message_sent would have done, in the rows' order: a message
	 * sent from this device gets its "sent" event, any other a "message"
	 * event (histgen_ins's marks: apply_history). */
	if (rc == 0 && (rc = nc_state_prep(s, &st, "INSERT INTO event(type, id, peer,"
	    " dev, time, reason, msg, printed) SELECT CASE WHEN sent THEN 'sent' ELSE"
	    " 'message' END, id, peer, CASE WHEN sent THEN '' ELSE dev END, CASE WHEN"
	    " sent THEN time ELSE ?2 END, '', seq, sent FROM (SELECT *, dir = 1 AND"
	    " dev = '' AS sent FROM message WHERE seq > ?1) ORDER BY seq")) == 0) {
		sqlite3_bind_int64(st, 1, before);
		sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
		rc = nc_state_done(s, st);
	}
	/* Restored history is read history: nc-recv prints what comes next. */
	if (rc == 0)
		rc = nc_state_exec(s, "INSERT OR REPLACE INTO kv(k, v, secret) SELECT"
		    " 'read-seq', CAST(coalesce(max(seq), 0) AS TEXT), 0 FROM event");
	nc_buf_free(&ap.ct);
	(void)sqlite3_exec(s->db, "PRAGMA cache_size=-2000", NULL, NULL, NULL);
	if (rc != 0) {
		nc_state_rollback(s);
		return rc;
	}
	nc_state_durable(s);
	return nc_state_commit(s);
}

/* apply_tx with a rollback journal: ~25 MB a 10^5 messages go into a
 * state of a few pages. In WAL mode each page is written twice (to the
 * WAL, then by the checkpoint into state.db); a rollback journal takes
 * only the pages that existed before (the new ones lie past the file's
 * end) and state.db the rest once. synchronous=FULL while it lasts: the
 * journal is synced before state.db is written and state.db before the
 * journal is cut, so a crash leaves the state as it was (the next open
 * rolls the journal back) or with the whole restore. Nothing else has
 * this new state open; WAL again after (and at every open). */
static int
apply_all(nc_state *s, const char *addr, opened *v, size_t n, nc_sync_restored *out)
{
	int rc, rc2;

	if ((rc = nc_state_sync(s)) != 0 || (rc = nc_state_exec(s,
	    "PRAGMA synchronous=FULL; PRAGMA journal_mode=TRUNCATE")) != 0)
		return rc;
	rc = apply_tx(s, addr, v, n, out);
	rc2 = nc_state_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF");
	return rc != 0 ? rc : rc2;
}

/* The backup's own state in the new home: the same root key, wrapped
 * copies and counter, so the next backup goes on from it. */
static int
keep_root(nc_state *s, const uint8_t *root, uint64_t counter)
{
	int rc;

	if ((rc = nc_state_put_secret(s, K_ROOT, root, NC_BACKUP_KEY)) == 0)
		rc = nc_state_put_int(s, K_COUNTER, (int64_t)counter);
	return rc;
}

static int
secret_of(source *src, const char *home, const char *addr, const char *domain,
    const char *code, uint8_t *secret, size_t *n)
{
	nc_relay *r = src->r;
	int rc;

	if (code) {
		*n = NC_BACKUP_CODE_BYTES;
		return nc_backup_code_parse(secret, code);
	}
	*n = 64;
	if (r == NULL && (rc = nc_relay_open(&r, home, domain)) != 0)
		return rc;
	rc = nc_account_export_key(r, NULL, addr, "to restore its backup", secret);
	if (r != src->r)
		nc_relay_close(r);
	return rc;
}

static int
restore_from(source *src, const char *home, const char *addr, const char *code,
    uint64_t min_counter, nc_sync_restored *out)
{
	char user[NC_USER_MAX + 1], domain[NC_DOMAIN_MAX + 1], who[401];
	uint8_t *root = NULL, *secret = NULL, loc[32], token[32], access[32], hid[32];
	nc_buf wrapped = NC_BUF_INIT, man = NC_BUF_INIT;
	secstore all = { NULL, 0 };
	nc_backup_manifest m = { 0, 0, NULL };
	const nc_backup_entry *ie;
	nc_idkey *id = NULL;
	nc_state *s = NULL;
	opened *v = NULL;
	size_t sn = 0;
	const char *at = strchr(addr, '@');
	int rc;

	memset(out, 0, sizeof *out);
	snprintf(out->addr, sizeof out->addr, "%s", addr);
	if (at == NULL || at == addr || (size_t)(at - addr) > NC_USER_MAX ||
	    strlen(at + 1) > NC_DOMAIN_MAX || at[1] == '\0')
		return nc_fail(NC_EUSAGE, "%s: want USER@DOMAIN", addr);
	memcpy(user, addr, (size_t)(at - addr));
	user[at - addr] = '\0';
	snprintf(domain, sizeof domain, "%s", at + 1);
	snprintf(src->name, sizeof src->name, "%s", user);
	if ((root = sodium_malloc(NC_BACKUP_KEY)) == NULL ||
	    (secret = sodium_malloc(64)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	if ((rc = secret_of(src, home, addr, domain, code, secret, &sn)) != 0)
		goto out;
	nc_backup_locator(loc, secret, sn);
	rc = src_key(src, loc, &wrapped);
	if (rc == NC_ENOUSER) {
		rc = nc_fail(NC_EPERM, "%s: no backup opens with this %s (none stored "
		    "yet, or %s)", addr, code ? "recovery code" : "password", code ?
		    "a newer code replaced it" : "the password changed since the last "
		    "backup: nc-sync backup --password wraps it anew; or use the "
		    "recovery code");
		goto out;
	}
	if (rc != 0 || (rc = nc_backup_unwrap(root, wrapped.p, wrapped.len, secret, sn,
	    addr)) != 0)
		goto out;
	nc_backup_token(token, access, root);
	if ((rc = src_manifest(src, token, &man)) != 0)
		goto out;
	/* The identity record first: its key checks the manifest. */
	if ((rc = nc_backup_manifest_parse(&m, who, man.p, man.len)) != 0)
		goto out;
	if (strcmp(who, addr) != 0) {
		rc = nc_fail(NC_ESECURITY, "backup: the manifest names %s, not %s", who, addr);
		goto out;
	}
	nc_backup_hid(hid, root, "identity");
	if ((ie = nc_backup_manifest_find(&m, hid)) == NULL) {
		rc = nc_fail(NC_ESECURITY, "backup: the manifest lists no identity key");
		goto out;
	}
	if ((v = calloc(m.n, sizeof *v)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	{
		nc_backup_manifest one = { m.counter, 1, (nc_backup_entry *)ie };
		if ((rc = fetch_all(src, root, token, &one, v, &all)) != 0)
			goto out;
		id = nc_idkey_decode(v[0].data.p, v[0].data.len);
		store_free(&all);
		if (id == NULL) {
			rc = nc_fail(NC_EDATA, "backup: a bad identity key");
			goto out;
		}
	}
	nc_backup_manifest_free(&m);
	if ((rc = nc_backup_manifest_verify(&m, man.p, man.len, addr, id->pk,
	    min_counter)) != 0 || (rc = fetch_all(src, root, token, &m, v, &all)) != 0)
		goto out;
	out->counter = m.counter;
	out->records = m.n;
	for (uint32_t i = 0; i < m.n; i++) {
		if (strcmp(v[i].id, "meta") == 0)
			rc = apply_meta(&v[i].data, addr, out);
		else
			rc = nc_sync_record_check(v[i].id, v[i].data.p, v[i].data.len);
		if (rc != 0) {
			rc = nc_fail(rc, "backup: record %s: %s", v[i].id, nc_errmsg());
			goto out;
		}
	}
	/* All checked: now this home becomes a device of the user. */
	if ((rc = nc_account_join_id(home, addr, id, &s)) != 0)
		goto out;
	if ((rc = apply_all(s, addr, v, m.n, out)) == 0)
		rc = keep_root(s, root, m.counter);
out:
	store_free(&all);
	free(v);
	nc_backup_manifest_free(&m);
	if (id)
		nc_idkey_free(id);
	nc_state_close(s);
	if (root)
		sodium_free(root);
	if (secret)
		sodium_free(secret);
	sodium_memzero(token, sizeof token);
	nc_buf_free(&wrapped);
	nc_buf_free(&man);
	return rc;
}

int
nc_sync_restore(const char *home, const char *addr, const char *code,
    uint64_t min_counter, nc_sync_restored *out)
{
	source src;
	const char *at = strchr(addr, '@');
	int rc;

	memset(&src, 0, sizeof src);
	if (at == NULL)
		return nc_fail(NC_EUSAGE, "%s: want USER@DOMAIN", addr);
	if ((rc = nc_relay_open(&src.r, home, at + 1)) == 0)
		rc = restore_from(&src, home, addr, code, min_counter, out);
	src_free(&src);
	return rc;
}

/* An archive entry's name: the head, or a record by its hash. */
static int
entry_kind(const char *name, uint8_t hash[32])
{
	if (strcmp(name, ARCH_HEAD) == 0)
		return 1;
	if (strncmp(name, ARCH_RECS, sizeof ARCH_RECS - 1) == 0 &&
	    nc_hex_decode(hash, 32, name + sizeof ARCH_RECS - 1,
	    strlen(name + sizeof ARCH_RECS - 1)) == 0)
		return 2;
	return 0;
}

/* The archive read whole into memory, never onto the disk: only regular
 * entries named as export names them, each at most
 * NC_SYNC_ARCHIVE_ENTRY_MAX, at most NC_SYNC_ARCHIVE_ENTRIES of them and
 * NC_SYNC_ARCHIVE_TOTAL_MAX bytes in all, counted as decompressed. */
static int
read_archive(source *src, const char *file)
{
	struct archive *a;
	struct archive_entry *e;
	uint64_t total = 0;
	uint8_t hash[32], chunk[65536];
	size_t entries = 0, cap = 0;
	la_ssize_t k;
	nc_buf *dst;
	arec *nv;
	int rc = 0, r, kind;
	const char *name;

	if ((rc = nc_archive_load()) != 0)
		return rc;
	if ((a = nc_ar.archive_read_new()) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	nc_ar.archive_read_support_format_tar(a);
	nc_ar.archive_read_support_filter_all(a);
	if (nc_ar.archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		rc = nc_fail(NC_EIO, "%s: %s", file, nc_ar.archive_error_string(a));
		goto out;
	}
	while (rc == 0 && (r = nc_ar.archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		name = nc_ar.archive_entry_pathname(e);
		if (++entries > NC_SYNC_ARCHIVE_ENTRIES) {
			rc = nc_fail(NC_EDATA, "%s: more than %d entries; not a backup",
			    file, NC_SYNC_ARCHIVE_ENTRIES);
			break;
		}
		kind = name && nc_ar.archive_entry_filetype(e) == AE_IFREG ? entry_kind(name, hash) : 0;
		if (kind == 0) {
			rc = nc_fail(NC_EDATA, "%s: entry '%.200s' is not part of a backup "
			    "(only %s and %s<hash> files); nothing imported", file,
			    name ? name : "", ARCH_HEAD, ARCH_RECS);
			break;
		}
		if (kind == 1) {
			if (src->head.len > 0) {
				rc = nc_fail(NC_EDATA, "%s: two heads", file);
				break;
			}
			dst = &src->head;
		} else {
			if (src->nrecs == cap) {
				cap = cap ? 2 * cap : 256;
				if ((nv = realloc(src->recs, cap * sizeof *nv)) == NULL) {
					rc = nc_fail(NC_EOSERR, "out of memory");
					break;
				}
				src->recs = nv;
			}
			nv = &src->recs[src->nrecs++];
			memcpy(nv->hash, hash, 32);
			nv->b = (nc_buf)NC_BUF_INIT;
			dst = &nv->b;
		}
		while ((k = nc_ar.archive_read_data(a, chunk, sizeof chunk)) > 0) {
			total += (uint64_t)k;
			if (dst->len + (size_t)k > NC_SYNC_ARCHIVE_ENTRY_MAX + (kind == 1 ?
			    NC_BACKUP_HEAD_MAX : 0) || total > NC_SYNC_ARCHIVE_TOTAL_MAX) {
				rc = nc_fail(NC_EDATA, "%s: an entry or the whole is larger than "
				    "a backup can be; stopped", file);
				break;
			}
			if ((rc = nc_buf_add(dst, chunk, (size_t)k)) != 0)
				break;
		}
		if (rc == 0 && k < 0)
			rc = nc_fail(NC_EDATA, "%s: %s", file, nc_ar.archive_error_string(a));
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = nc_fail(NC_EDATA, "%s: %s", file, nc_ar.archive_error_string(a));
	if (rc == 0 && src->head.len == 0)
		rc = nc_fail(NC_EDATA, "%s: no %s: not a backup", file, ARCH_HEAD);
	if (rc == 0 && src->nrecs > 1)
		qsort(src->recs, src->nrecs, sizeof *src->recs, cmp_arec);
out:
	nc_ar.archive_read_free(a);
	return rc;
}

int
nc_sync_import(const char *home, const char *file, const char *code,
    uint64_t min_counter, nc_sync_restored *out)
{
	source src;
	nc_backup_manifest m;
	nc_backup_head h;
	char who[401];
	int rc;

	memset(&src, 0, sizeof src);
	memset(out, 0, sizeof *out);
	if ((rc = read_archive(&src, file)) != 0)
		goto out;
	/* Whose: the manifest says (checked once its key is known). */
	if (nc_backup_head_decode(&h, src.head.p, src.head.len) != 0 ||
	    nc_backup_manifest_parse(&m, who, h.manifest, h.manifest_len) != 0) {
		rc = nc_fail(NC_EDATA, "%s: a bad head: %s", file, nc_errmsg());
		goto out;
	}
	nc_backup_manifest_free(&m);
	rc = restore_from(&src, home, who, code, min_counter, out);
out:
	src_free(&src);
	return rc;
}

/* ---- the sub-commands of nc-sync ---- */

static void
usage(FILE *f)
{
	fputs("usage: nc-sync backup [--recovery-code] [--password] [--json]\n"
	    "       nc-sync restore USER@DOMAIN [--recovery-code] [--min-counter N] [--json]\n"
	    "       nc-sync export FILE [--recovery-code] [--password] [--json]\n"
	    "       nc-sync import FILE [--recovery-code] [--min-counter N] [--json]\n"
	    "  backup: encrypted, incremental, to your relay (--recovery-code: a new\n"
	    "    code, shown once; --password: wrap the key under the current password).\n"
	    "  restore: into an empty NC_HOME, with the password or (--recovery-code,\n"
	    "    read from standard input) the code; a new device of the user.\n"
	    "  export, import: the same records as one archive file.\n", f);
}

enum { O_CODE = 256, O_PW, O_MIN };

static const struct option sync_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "version", no_argument, NULL, 'V' },
	{ "recovery-code", no_argument, NULL, O_CODE },
	{ "password", no_argument, NULL, O_PW },
	{ "min-counter", required_argument, NULL, O_MIN },
	{ NULL, 0, NULL, 0 }
};

typedef struct {
	int json, code, password, done;
	uint64_t min;
	const char *arg;
} sync_args;

/* The options and the one operand; -1 to go on, else the exit code. */
static int
parse(int argc, char **argv, int restore, sync_args *a)
{
	char *end;
	int c, rc;

	memset(a, 0, sizeof *a);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hjqvV", sync_opts, NULL)) != -1) {
		if (c == O_CODE)
			a->code = 1;
		else if (c == O_PW && !restore)
			a->password = 1;
		else if (c == O_MIN && restore) {
			errno = 0;
			a->min = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || errno) {
				usage(stderr);
				return NC_EUSAGE;
			}
		} else if (c == O_PW || c == O_MIN) {
			usage(stderr);
			return NC_EUSAGE;
		} else if ((rc = nc_cli_flag(c, usage, &a->json)) >= 0)
			return rc;
	}
	if (argc - optind != (argv[0][0] == 'b' ? 0 : 1)) {
		usage(stderr);
		return NC_EUSAGE;
	}
	a->arg = argv[optind];
	return -1;
}

/* The dispatcher (cmd/nc-sync.c) prints the error. */
static int
finish(int rc)
{
	return rc;
}

static int
print_stats(const nc_sync_stats *st, int json, const char *what)
{
	int rc;

	if (json)
		rc = printf("{\"counter\":%llu,\"records\":%zu,\"uploaded\":%zu,"
		    "\"bytes\":%llu%s%s%s}\n", (unsigned long long)st->counter, st->records,
		    st->uploaded, (unsigned long long)st->bytes_uploaded,
		    st->code[0] ? ",\"recovery_code\":\"" : "", st->code,
		    st->code[0] ? "\"" : "");
	else
		rc = printf("%s %llu: %zu records, %zu %s (%llu bytes)\n%s%s%s", what,
		    (unsigned long long)st->counter, st->records, st->uploaded,
		    what[0] == 'b' ? "uploaded" : "written",
		    (unsigned long long)st->bytes_uploaded,
		    st->code[0] ? "recovery code: " : "", st->code, st->code[0] ? "\n" : "");
	return rc < 0 ? nc_fail(NC_EIO, "standard output: write error") : 0;
}

static int
backup_or_export(int argc, char **argv, int export)
{
	nc_sync_opts o = { 0, 0 };
	nc_sync_stats st;
	sync_args a;
	nc_state *s;
	nc_self self;
	int rc;

	if ((rc = parse(argc, argv, 0, &a)) >= 0)
		return rc;
	o.recovery_code = a.code;
	o.password = a.password;
	if ((rc = nc_cli_open(&s, &self)) != 0)
		return finish(rc);
	rc = export ? nc_sync_export(s, &self, &o, a.arg, &st) :
	    nc_sync_backup(s, &self, &o, &st);
	if (rc == 0)
		rc = print_stats(&st, a.json, export ? "export" : "backup");
	if (rc == 0 && st.code[0] && !a.json)
		nc_cli_hint("write the recovery code down and keep it apart from this "
		    "device: it is shown only now, and opens the backup without the "
		    "password");
	sodium_memzero(&st, sizeof st);
	nc_self_free(&self);
	nc_state_close(s);
	return finish(rc);
}

int
nc_sync_cmd_backup(int argc, char **argv)
{
	return backup_or_export(argc, argv, 0);
}

int
nc_sync_cmd_export(int argc, char **argv)
{
	return backup_or_export(argc, argv, 1);
}

/* The recovery code: the first line of standard input (a prompt first
 * when it is a terminal). */
static int
read_code(char *out, size_t n)
{
	size_t len;

	if (isatty(STDIN_FILENO))
		fputs("Recovery code: ", stderr);
	if (fgets(out, (int)n, stdin) == NULL)
		return nc_fail(NC_EUSAGE, "no recovery code on standard input");
	len = strcspn(out, "\r\n");
	out[len] = '\0';
	return 0;
}

static int
restore_or_import(int argc, char **argv, int import)
{
	char home[4096], *code = NULL;
	nc_sync_restored out;
	sync_args a;
	char when[32];
	time_t t;
	struct tm tm;
	int rc;

	if ((rc = parse(argc, argv, 1, &a)) >= 0)
		return rc;
	if (!import && !nc_addr_valid(a.arg)) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if ((rc = nc_home_open(home, sizeof home)) != 0)
		return finish(rc);
	if (a.code && ((code = sodium_malloc(256)) == NULL ||
	    (rc = read_code(code, 256)) != 0)) {
		rc = code ? rc : nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	rc = import ? nc_sync_import(home, a.arg, code, a.min, &out) :
	    nc_sync_restore(home, a.arg, code, a.min, &out);
	if (rc != 0)
		goto out;
	t = (time_t)out.time;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (a.json)
		rc = printf("{\"user\":\"%s\",\"counter\":%llu,\"made\":\"%s\",\"records\":%zu,"
		    "\"contacts\":%zu,\"messages\":%zu}\n", out.addr,
		    (unsigned long long)out.counter, when, out.records, out.contacts,
		    out.messages);
	else
		rc = printf("restored %s from backup %llu of %s: %zu contacts, %zu messages\n",
		    out.addr, (unsigned long long)out.counter, when, out.contacts,
		    out.messages);
	rc = rc < 0 ? nc_fail(NC_EIO, "standard output: write error") : 0;
	if (rc == 0 && !a.json)
		nc_cli_hint("this is a new device of %s: conversations go on in new "
		    "sessions (your contacts see a device added)", out.addr);
out:
	if (code) {
		sodium_memzero(code, 256);
		sodium_free(code);
	}
	return finish(rc);
}

int
nc_sync_cmd_restore(int argc, char **argv)
{
	return restore_or_import(argc, argv, 0);
}

int
nc_sync_cmd_import(int argc, char **argv)
{
	return restore_or_import(argc, argv, 1);
}
