/* outbox.c - queueing, delivery with idempotent envelope ids, backoff,
 * TTL expiry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "directory.h"
#include "err.h"
#include "event.h"
#include "hex.h"
#include "held.h"
#include "heal.h"
#include "outbox.h"
#include "payload.h"
#include "relayc.h"
#include "session.h"

#define BATCH 64
#define FLUSH_AT_ONCE NC_FLUSH_AT_ONCE

int
nc_outbox_add(nc_state *s, const char *msgid, const char *peer,
    const uint8_t *body, size_t n, int64_t ttl)
{
	return nc_outbox_add_files(s, msgid, peer, body, n, ttl, 0);
}

int
nc_outbox_add_files(nc_state *s, const char *msgid, const char *peer,
    const uint8_t *body, size_t n, int64_t ttl, int files)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char row[600];
	int64_t now = (int64_t)time(NULL);
	int rc;

	snprintf(row, sizeof row, "1/%s/%s", peer, msgid);
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_seal(s, "message", row, body, n, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT INTO message(id, dir, peer, dev,"
	    " time, body, status, files) VALUES (?, 1, ?, '', ?, ?, ?, ?)")) != 0)
		goto fail;
	sqlite3_bind_int(st, 6, files != 0);
	/* ttl < 0: exported armored, never queued. */
	sqlite3_bind_text(st, 5, ttl < 0 ? "armored" : "queued", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_blob(st, 4, ct.p, (int)ct.len, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0)
		goto fail;
	if (ttl < 0)
		goto out;
	if ((rc = nc_state_prep(s, &st, "INSERT INTO outbox(id, peer, created,"
	    " expires, next_try) VALUES (?, ?, ?, ?, 0)")) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now + ttl);
	if ((rc = nc_state_done(s, st)) != 0)
		goto fail;
out:
	nc_buf_free(&ct);
	return nc_state_commit(s);
fail:
	nc_buf_free(&ct);
	nc_state_rollback(s);
	return rc;
}

int
nc_outbox_copy(nc_state *s, const char *msgid, const char *self, int64_t ttl)
{
	sqlite3_stmt *st;
	int64_t now = (int64_t)time(NULL);
	int rc;

	if ((rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO outbox(id, peer,"
	    " created, expires, next_try) VALUES (?, ?, ?, ?, 0)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, self, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now + ttl);
	return nc_state_done(s, st);
}

void
nc_outbox_status(nc_state *s, const char *id, const char *peer, char out[16])
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (nc_state_prep(s, &st, "SELECT status FROM message WHERE dir = 1 AND"
	    " id = ? AND peer = ?") != 0)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 16, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* Run one statement binding text ?1 (peer) and optional text ?2. */
static int
run(nc_state *s, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_stmt(s, &st, sql)) != 0)   /* sql: a literal */
		return rc;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	return nc_state_run_release(s, st);
}

/* Give up on message id to peer: a failure event, nothing left queued. */
static int
give_up(nc_state *s, const char *id, const char *peer, const char *why)
{
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = run(s, "DELETE FROM outbox WHERE peer = ?1 AND id = ?2", peer, id)) ||
	    (rc = run(s, "DELETE FROM outenv WHERE peer = ?1 AND id = ?2", peer, id)) ||
	    (rc = run(s, "UPDATE message SET status = 'failed' WHERE dir = 1 AND"
	    " peer = ?1 AND id = ?2", peer, id)) ||
	    (rc = nc_event_add(s, "failure", id, peer, "", why, 0))) {
		nc_state_rollback(s);
		return rc;
	}
	return nc_state_commit(s);
}

static int
expire(nc_state *s, const char *peer, nc_flush *f)
{
	sqlite3_stmt *st;
	char ids[BATCH][40];
	int n = 0, i, rc;

	if ((rc = nc_state_prep(s, &st, "SELECT id FROM outbox WHERE peer = ?"
	    " AND expires < ? LIMIT 64")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	while (n < BATCH && sqlite3_step(st) == SQLITE_ROW)
		snprintf(ids[n++], sizeof ids[0], "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		if ((rc = give_up(s, ids[i], peer, "not accepted within its TTL")) != 0)
			return rc;
		f->failed++;
	}
	return 0;
}

/* Message id to peer is accepted once none of its envelopes remain. */
int
nc_outbox_settle(nc_state *s, const char *peer, const char *id)
{
	int rc;

	if ((rc = run(s, "UPDATE message SET status = 'accepted' WHERE"
	    " dir = 1 AND peer = ?1 AND id = ?2 AND status = 'queued' AND"
	    " NOT EXISTS (SELECT 1 FROM outenv e WHERE e.peer = ?1 AND"
	    " e.id = ?2)", peer, id)) != 0)
		return rc;
	return run(s, "DELETE FROM outbox WHERE peer = ?1 AND id = ?2 AND"
	    " NOT EXISTS (SELECT 1 FROM outenv e WHERE e.peer = ?1 AND"
	    " e.id = ?2)", peer, id);
}

/* The payload of a copy for our own devices: the text and every
 * recipient of message id (protocol.md 2.5, type 4). */
static int
sent_copy(nc_state *s, const char *id, const nc_buf *text, nc_buf *out)
{
	static char to[NC_PL_TO_MAX][NC_ADDR_MAX + 1];
	const char *tov[NC_PL_TO_MAX];
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if ((rc = nc_state_prep(s, &st, "SELECT peer FROM message WHERE dir = 1"
	    " AND id = ? ORDER BY seq LIMIT 64")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (n < NC_PL_TO_MAX && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(to[n], sizeof to[n], "%s", sqlite3_column_text(st, 0));
		tov[n] = to[n];
		n++;
	}
	sqlite3_finalize(st);
	return nc_sent_encode(out, tov, n, text->p, text->len);
}

/* 1 if message id to peer carries files (its body an attachment
 * payload), 0 if not, -rc. */
static int
has_files(nc_state *s, const char *peer, const char *id)
{
	sqlite3_stmt *st;
	int files = 0, rc;

	if ((rc = nc_state_prep(s, &st, "SELECT files FROM message WHERE dir = 1"
	    " AND peer = ? AND id = ?")) != 0)
		return -rc;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		files = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return files;
}

/* The payload of sent message id to peer (`from`: the peer of the message
 * row it was read from; they differ for a copy to our own devices, whose
 * body is in copy). */
static int
load_payload(nc_state *s, const nc_self *self, const char *peer,
    const char *from, const char *id, int64_t time, const void *sealed,
    size_t n, nc_payload *pl, nc_buf *body, nc_buf *copy)
{
	char row[600];
	int rc, own = strcmp(peer, self->addr) == 0;

	snprintf(row, sizeof row, "1/%s/%s", from, id);
	memset(pl, 0, sizeof *pl);
	if ((rc = has_files(s, from, id)) < 0)
		return -rc;
	pl->type = rc ? (own ? NC_PL_SENT_FILES : NC_PL_FILES) :
	    (own ? NC_PL_SENT : NC_PL_TEXT);
	pl->time = (uint64_t)time;
	nc_buf_reset(body);
	nc_buf_reset(copy);
	if ((rc = nc_state_unseal(s, "message", row, sealed, n, body)) != 0 ||
	    (rc = nc_hex_decode(pl->id, 16, id, strlen(id))) != 0 ||
	    (own && (rc = sent_copy(s, id, body, copy)) != 0))
		return rc;
	pl->body = own ? copy->p : body->p;
	pl->bodylen = own ? copy->len : body->len;
	return 0;
}

/* Message id to peer, for the checks made inside a transaction. */
struct lacking {
	nc_state *s;
	const char *peer, *id;
};

/* Message q->id to q->peer is still queued and has no envelopes: checked
 * again inside the transaction that would make them. */
static int
still_queued(void *arg)
{
	struct lacking *q = arg;
	sqlite3_stmt *st;
	int yes = 0;

	if (nc_state_prep(q->s, &st, "SELECT 1 FROM outbox o WHERE o.peer = ?1"
	    " AND o.id = ?2 AND NOT EXISTS (SELECT 1 FROM outenv e WHERE"
	    " e.peer = ?1 AND e.id = ?2)") != 0)
		return 0;
	sqlite3_bind_text(st, 1, q->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->id, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* Encrypt the queued messages to peer that have no envelopes yet. Those
 * queued for our own address are copies for our other devices: any
 * message row of theirs holds the text. */
static int
encrypt_queued(nc_state *s, nc_self *self, const nc_devlist *l,
    const char *only, int all)
{
	sqlite3_stmt *st;
	nc_buf body = NC_SECBUF_INIT, copy = NC_SECBUF_INIT;
	nc_payload pl;
	char id[40], from[NC_ADDR_MAX + 1];
	struct lacking q = { s, l->user, id };
	int rc;

	for (;;) {
		if ((rc = nc_state_prep(s, &st, "SELECT o.id, m.time, m.body, m.peer"
		    " FROM outbox o JOIN message m ON m.dir = 1 AND m.id = o.id AND"
		    " (m.peer = o.peer OR ?5) WHERE o.peer = ?1 AND (?2 IS NULL OR"
		    " o.id = ?2) AND (?3 OR o.next_try <= ?4) AND NOT EXISTS (SELECT"
		    " 1 FROM outenv e WHERE e.peer = o.peer AND e.id = o.id)"
		    " ORDER BY o.rowid LIMIT 1")) != 0)
			return rc;
		sqlite3_bind_text(st, 1, l->user, -1, SQLITE_STATIC);
		if (only)
			sqlite3_bind_text(st, 2, only, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, all);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		sqlite3_bind_int(st, 5, strcmp(l->user, self->addr) == 0);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			break;
		}
		snprintf(id, sizeof id, "%s", sqlite3_column_text(st, 0));
		snprintf(from, sizeof from, "%s", sqlite3_column_text(st, 3));
		rc = load_payload(s, self, l->user, from, id,
		    sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), &pl, &body, &copy);
		sqlite3_finalize(st);
		/* Another process may have taken it meanwhile. */
		if (rc == 0)
			rc = nc_session_encrypt_some(s, self, l, id, &pl, NULL,
			    still_queued, &q);
		/* A user's only device has no one to copy to: accepted as it
		 * is, not looked at again. */
		if (rc == 0 && (rc = nc_state_begin(s)) == 0) {
			if ((rc = nc_outbox_settle(s, l->user, id)) == 0)
				rc = nc_state_commit(s);
			else
				nc_state_rollback(s);
		}
		if (rc != 0)
			break;
	}
	nc_buf_free(&body);
	nc_buf_free(&copy);
	return rc;
}

static int
backoff(nc_state *s, const char *peer)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "UPDATE outbox SET tries = tries + 1,"
	    " next_try = ?2 + min(3600, 15 << min(tries, 8)) WHERE peer = ?1")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	return nc_state_done(s, st);
}

/* The relay took the n envelopes of a batch: forget exactly those (not
 * "every row up to the last": another process may have emptied the table
 * meanwhile, and a newer envelope reuse a row number); a message none of
 * whose envelopes remain is accepted. */
static int
delivered(nc_state *s, const char *peer, const nc_relay_item *it,
    char (*ids)[40], int n)
{
	sqlite3_stmt *st;
	int rc, i;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM outenv WHERE"
	    " envid = ?")) != 0)
		goto fail;
	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_blob(st, 1, it[i].envid, 16, SQLITE_STATIC);
		rc = nc_state_run(s, st);
	}
	sqlite3_finalize(st);
	if (rc != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (ids[i][0] == '\0')
			continue;   /* a receipt */
		if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
			continue;   /* the same message, to another device */
		if ((rc = nc_outbox_settle(s, peer, ids[i])) != 0)
			goto fail;
	}
	/* Lost to a power failure, the envelopes are sent again under the
	 * same ids, which the relay and the recipient take once. */
	nc_state_lazy(s);
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

/* One peer's flush, in two halves (flush_start, flush_finish), so that
 * the first batches to several peers travel at the same time. */
struct pflush {
	const char *peer;
	char name[NC_USER_MAX + 1];
	nc_devlist l;
	nc_relay *r;
	int rc, fatal, tries, stale;
	int64_t mark;    /* outenv rows past this one were made by this run */
	char why[512];   /* flush_start's reason, when rc != 0 */
	/* The batch in flight */
	int n;
	nc_relay_item it[BATCH];
	char ids[BATCH][40];
	nc_relay_pending p;
};

/* Start delivering the next batch of stored envelopes to pf's peer:
 * 1 started, 0 none left, <0 -error. */
static int
batch_start(nc_state *s, struct pflush *pf)
{
	sqlite3_stmt *st;
	nc_buf hold[BATCH];
	int i, rc;

	pf->n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT envid, dev, env, id FROM"
	    " outenv WHERE peer = ? ORDER BY rowid LIMIT 64")) != 0)
		return -rc;
	sqlite3_bind_text(st, 1, pf->l.user, -1, SQLITE_STATIC);
	while (pf->n < BATCH && sqlite3_step(st) == SQLITE_ROW) {
		nc_relay_item *it = &pf->it[pf->n];

		hold[pf->n] = (nc_buf)NC_BUF_INIT;
		memcpy(it->envid, sqlite3_column_blob(st, 0), 16);
		memcpy(it->dev, sqlite3_column_blob(st, 1), 16);
		snprintf(pf->ids[pf->n], sizeof pf->ids[0], "%s",
		    sqlite3_column_text(st, 3));
		if (nc_buf_add(&hold[pf->n], sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) != 0)
			break;
		it->env = hold[pf->n].p;
		it->len = hold[pf->n].len;
		pf->n++;
	}
	sqlite3_finalize(st);
	if (pf->n == 0)
		return 0;
	nc_relay_deliver_start(pf->r, pf->name, pf->l.version, pf->it,
	    (size_t)pf->n, &pf->p);
	for (i = 0; i < pf->n; i++) {   /* copied into the request */
		nc_buf_free(&hold[i]);
		pf->it[i].env = NULL;
	}
	return 1;
}

/* Its answer: 1 delivered, <0 -error; pf->stale set when the relay has
 * another device list. */
static int
batch_finish(nc_state *s, struct pflush *pf)
{
	uint64_t cur = 0;
	int rc = nc_relay_deliver_wait(&pf->p, pf->name, &cur);

	if (cur != 0)
		pf->stale = 1;
	if (rc == 0 && (rc = delivered(s, pf->l.user, pf->it, pf->ids,
	    pf->n)) == 0)
		return 1;
	return -rc;
}

/* One batch, start to finish: 1 sent, 0 none left, <0 -error. */
static int
send_batch(nc_state *s, struct pflush *pf)
{
	int rc = batch_start(s, pf);

	return rc == 1 ? batch_finish(s, pf) : rc;
}

/* Message lk->id to lk->peer has no envelope for dev yet. */
static int
lacks_envelope(const uint8_t dev[16], void *arg)
{
	struct lacking *lk = arg;
	sqlite3_stmt *st;
	int found = 1;

	if (nc_state_prep(lk->s, &st, "SELECT 1 FROM outenv WHERE peer = ? AND"
	    " id = ? AND dev = ?") != 0)
		return 0;
	sqlite3_bind_text(st, 1, lk->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lk->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, dev, 16, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return !found;
}

static int
listed(const nc_devlist *l, const void *dev)
{
	for (int i = 0; i < l->n; i++)
		if (memcmp(l->dev[i].id, dev, NC_DEVID_LEN) == 0)
			return 1;
	return 0;
}

/* Bring the stored envelopes in line with list l (just fetched, or after
 * a 409/410). Envelopes for devices no longer listed go, receipts
 * included; the messages that have envelopes get more for the devices new
 * to the list. Envelopes already made stay as they are: making them again
 * would use up ratchet counters the peer then reports as missing. */
static int
restart(nc_state *s, nc_self *self, const nc_devlist *l)
{
	sqlite3_stmt *st;
	nc_buf body = NC_SECBUF_INIT, copy = NC_SECBUF_INIT;
	nc_payload pl;
	struct lacking lk = { s, l->user, NULL };
	char from[NC_ADDR_MAX + 1];
	uint8_t gone[256][NC_DEVID_LEN];
	char id[40];
	sqlite3_int64 last = 0;
	int rc = 0, i, ngone = 0;

	/* Collected first: no deleting under an open SELECT of the table. */
	if ((rc = nc_state_prep(s, &st, "SELECT DISTINCT dev FROM outenv"
	    " WHERE peer = ? LIMIT 256")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, l->user, -1, SQLITE_STATIC);
	while (ngone < 256 && sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == NC_DEVID_LEN &&
		    !listed(l, sqlite3_column_blob(st, 0)))
			memcpy(gone[ngone++], sqlite3_column_blob(st, 0), NC_DEVID_LEN);
	sqlite3_finalize(st);
	for (i = 0; i < ngone && rc == 0; i++) {
		if ((rc = nc_state_prep(s, &st, "DELETE FROM outenv WHERE"
		    " peer = ? AND dev = ?")) != 0)
			break;
		sqlite3_bind_text(st, 1, l->user, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, gone[i], NC_DEVID_LEN, SQLITE_STATIC);
		rc = nc_state_done(s, st);
	}
	/* Then, message by message in the order they were made (each
	 * resumes after the first envelope of the one before). */
	while (rc == 0) {
		/* (Copies to our own devices: any message row of the id.) */
		if ((rc = nc_state_prep(s, &st, "SELECT e.id, m.time, m.body, m.peer,"
		    " min(e.rowid) AS first FROM outenv e JOIN message m ON"
		    " m.dir = 1 AND m.id = e.id AND (m.peer = e.peer OR ?3)"
		    " WHERE e.peer = ?1 GROUP BY e.id HAVING first > ?2"
		    " ORDER BY first LIMIT 1")) != 0)
			break;
		sqlite3_bind_text(st, 1, l->user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, last);
		sqlite3_bind_int(st, 3, strcmp(l->user, self->addr) == 0);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			break;
		}
		snprintf(id, sizeof id, "%s", sqlite3_column_text(st, 0));
		snprintf(from, sizeof from, "%s", sqlite3_column_text(st, 3));
		last = sqlite3_column_int64(st, 4);
		rc = load_payload(s, self, l->user, from, id,
		    sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), &pl, &body, &copy);
		sqlite3_finalize(st);
		lk.id = id;
		if (rc == 0)
			rc = nc_session_encrypt_some(s, self, l, id, &pl,
			    lacks_envelope, NULL, &lk);
	}
	nc_buf_free(&body);
	nc_buf_free(&copy);
	return rc;
}

static int
has_messages(nc_state *s, const char *peer)
{
	sqlite3_stmt *st;
	int found = 1;

	if (nc_state_prep(s, &st, "SELECT 1 FROM outbox WHERE peer = ?") != 0)
		return 1;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* The highest outenv row now: what a run makes comes after it. */
static int64_t
outenv_mark(nc_state *s)
{
	sqlite3_stmt *st;
	int64_t mark = INT64_MAX;

	if (nc_state_prep(s, &st, "SELECT coalesce(max(rowid), 0) FROM"
	    " outenv") != 0)
		return mark;
	if (sqlite3_step(st) == SQLITE_ROW)
		mark = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return mark;
}

/* Drop the envelopes made since mark (not sent yet: the caller waits
 * before any leaves); their messages are encrypted again. */
static int
forget_made(nc_state *s, int64_t mark)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "DELETE FROM outenv WHERE rowid > ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, mark);
	return nc_state_done(s, st);
}

/* Encrypt what is queued for pf->peer and start its first batch. */
static void
flush_start(nc_state *s, nc_self *self, struct pflush *pf, const char *only,
    int all, nc_flush *f)
{
	const char *at = strchr(pf->peer, '@');
	int rc, sent, stale = 0;

	if ((rc = expire(s, pf->peer, f)) != 0) {
		pf->rc = rc;
		pf->fatal = 1;
		return;
	}
	/* Everything goes with the list we pinned (fetched and verified the
	 * first time): the relay refuses a delivery made for another version
	 * than its current one (409), or to a device it no longer lists (410
	 * or 404), and only then do we fetch the list again. The relay that
	 * could lie about that could as well serve an old list to a fetch:
	 * fetching first would cost a round trip and prove nothing more. */
	rc = nc_dir_get(s, pf->peer, 0, &pf->l);
	/* A held contact whose relay serves the pinned key again is no
	 * longer held. */
	if (rc == NC_ESECURITY && has_messages(s, pf->peer))
		rc = nc_dir_get(s, pf->peer, 1, &pf->l);
	/* "policy verified": only to contacts whose number was compared */
	if (rc == 0 && strcmp(pf->peer, self->addr) != 0)
		rc = nc_dir_sendable(s, pf->peer);
	/* Writing to a sender whose messages were held (held.h) looked it
	 * up: they are read first, so the reply continues their session. */
	if (rc == 0) {
		nc_rx rx;

		memset(&rx, 0, sizeof rx);
		(void)!nc_held_release(s, self, pf->peer, &rx, NULL);
		rc = encrypt_queued(s, self, &pf->l, only, all);
	}
	/* Nothing made with a session leaves before the counter check's
	 * answer (started by nc_outbox_flush, its round trip beside the
	 * encryption). A stale state made these envelopes with sessions
	 * that are to be restarted: they are dropped, never sent, and the
	 * messages encrypted again with new sessions. */
	if (rc == 0 && (rc = nc_heal_check(s, self, &stale)) == 0 && stale &&
	    (rc = forget_made(s, pf->mark)) == 0)
		rc = encrypt_queued(s, self, &pf->l, only, all);
	if (rc == 0 && at) {
		memcpy(pf->name, pf->peer, (size_t)(at - pf->peer));
		pf->name[at - pf->peer] = '\0';
		if ((rc = nc_relay_open(&pf->r, s->home, at + 1)) == 0 &&
		    (sent = batch_start(s, pf)) < 0)
			rc = -sent;
	}
	pf->rc = rc;
	/* The next peer's start may fail too: its reason would be the one
	 * nc_errmsg() holds when this one finishes. */
	if (rc != 0)
		snprintf(pf->why, sizeof pf->why, "%s", nc_errmsg());
}

/* Why peer's messages still wait: the reason and exit code of this
 * attempt, shown by nc-send (and --queue). */
static void
note(nc_state *s, const char *peer, int code)
{
	sqlite3_stmt *st;

	if (nc_state_prep(s, &st, "UPDATE outbox SET error = ?2, errcode = ?3"
	    " WHERE peer = ?1") != 0)
		return;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nc_errmsg(), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, code);
	if (nc_state_done(s, st) != 0)
		return;   /* the reason is only shown; the backoff matters */
}

/* The rest of pf's flush: its first batch's answer, the other batches,
 * one retry with a new device list; then the outcome, counted in f.
 * Nonzero only for an error that ends the whole flush. */
static int
flush_finish(nc_state *s, nc_self *self, struct pflush *pf, const char *only,
    int all, nc_flush *f)
{
	const char *peer = pf->peer;
	int rc = pf->rc, sent;

	if (pf->fatal)
		return rc;
	if (rc != 0)
		nc_fail(rc, "%s", pf->why);
	if (rc == 0 && pf->n > 0 && (sent = batch_finish(s, pf)) < 0)
		rc = -sent;
	while (pf->r != NULL) {
		while (rc == 0 && (sent = send_batch(s, pf)) != 0)
			if (sent < 0)
				rc = -sent;
		/* 409/410/404 (the error in rc): a new device list, another
		 * identity key, or no such user any more. Envelopes made for
		 * the old list are kept for the devices still listed; new
		 * devices get their own. Once. */
		if (!pf->stale || pf->tries++ > 0)
			break;
		pf->stale = 0;
		if ((rc = nc_dir_get(s, peer, 1, &pf->l)) != 0 ||
		    (rc = restart(s, self, &pf->l)) != 0 ||
		    (rc = encrypt_queued(s, self, &pf->l, only, all)) != 0)
			break;
	}
	nc_relay_close(pf->r);
	pf->r = NULL;
	switch (rc) {
	case 0:
		break;
	case NC_ESECURITY:
		note(s, peer, rc);
		f->held++;
		f->security++;
		break;
	case NC_ENOUSER: {
		sqlite3_stmt *st;
		char ids[BATCH][40];
		int n = 0, i;

		if (nc_state_prep(s, &st, "SELECT id FROM outbox WHERE peer = ?"
		    " LIMIT 64") == 0) {
			sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
			while (n < BATCH && sqlite3_step(st) == SQLITE_ROW)
				snprintf(ids[n++], 40, "%s", sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		for (i = 0; i < n; i++)
			if (give_up(s, ids[i], peer, "no such user") == 0)
				f->failed++;
		run(s, "DELETE FROM outenv WHERE peer = ?1", peer, NULL);
		f->nouser++;
		break;
	}
	case NC_EUNAVAIL:
	case NC_ETEMP:
	case NC_ENOHOST:   /* queued once: a lookup that fails now may not later */
		note(s, peer, rc);
		backoff(s, peer);
		f->queued++;
		break;
	default:
		note(s, peer, rc);
		if (f->err == 0)
			f->err = rc;
	}
	return 0;
}

int
nc_outbox_flush(nc_state *s, nc_self *self, const char *only, int all,
    nc_flush *f)
{
	sqlite3_stmt *st;
	char peers[256][NC_ADDR_MAX + 1];
	struct pflush *pf;
	int64_t mark = 0;
	int n = 0, i, j, k, rc, rc1;

	memset(f, 0, sizeof *f);
	if ((rc = nc_state_prep(s, &st, "SELECT peer FROM outbox WHERE"
	    " (?1 IS NULL OR id = ?1) AND (?2 OR next_try <= ?3) UNION"
	    " SELECT peer FROM outenv WHERE ?1 IS NULL OR id = ?1")) != 0)
		return rc;
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, all);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	while (n < 256 && sqlite3_step(st) == SQLITE_ROW)
		snprintf(peers[n++], sizeof peers[0], "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	/* Before anything made with a session leaves: a stale state (a
	 * restored copy) starts new sessions instead. The question goes now;
	 * flush_start waits for its answer once the first envelopes are
	 * made. */
	if (n > 0 && (mark = outenv_mark(s), rc = nc_heal_check_start(s,
	    self)) != 0)
		return rc;
	/* A few peers at a time (the network helper's workers): each one's
	 * envelopes are made and committed, its first batch starts, then
	 * the next peer's; then the answers. */
	if ((pf = calloc(FLUSH_AT_ONCE, sizeof *pf)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	for (i = 0; i < n && rc == 0; i += k) {
		k = n - i < FLUSH_AT_ONCE ? n - i : FLUSH_AT_ONCE;
		for (j = 0; j < k; j++) {
			memset(&pf[j], 0, sizeof pf[j]);
			pf[j].peer = peers[i + j];
			pf[j].mark = mark;
			flush_start(s, self, &pf[j], only, all, f);
		}
		/* While the last relays answer: the session states the
		 * envelopes replaced leave the WAL now (nc_state_scrub), its
		 * two syncs beside the round trip, not after it at close,
		 * which then syncs only what the answers change. Busy, it is
		 * left for close. */
		if (i + k >= n)
			nc_state_scrub(s);
		for (j = 0; j < k; j++)
			if ((rc1 = flush_finish(s, self, &pf[j], only, all, f)) != 0 &&
			    rc == 0)
				rc = rc1;
	}
	free(pf);
	/* A check no peer waited for (none had anything to encrypt) is
	 * answered before this returns. */
	if (n > 0 && (rc1 = nc_heal_check(s, self, NULL)) != 0 && rc == 0)
		rc = rc1;
	if (rc != 0)
		return rc;
	/* What is still waiting, after this run. */
	if ((rc = nc_state_prep(s, &st, "SELECT count(*) FROM outbox WHERE"
	    " ?1 IS NULL OR id = ?1")) != 0)
		return rc;
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		f->queued = sqlite3_column_int(st, 0) - f->held;
	sqlite3_finalize(st);
	if (f->queued < 0)
		f->queued = 0;
	return 0;
}

int
nc_outbox_error(nc_state *s, const char *id, const char *peer, char *why,
    size_t max)
{
	sqlite3_stmt *st;
	int code = 0;

	why[0] = '\0';
	if (nc_state_prep(s, &st, "SELECT errcode, error FROM outbox WHERE"
	    " id = ? AND peer = ?") != 0)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		code = sqlite3_column_int(st, 0);
		snprintf(why, max, "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return code;
}

int
nc_outbox_list(nc_state *s, int (*fn)(const nc_outbox_item *, void *),
    void *arg)
{
	sqlite3_stmt *st;
	nc_outbox_item it;
	int rc = 0;

	if ((rc = nc_state_prep(s, &st, "SELECT id, peer, created, expires,"
	    " tries, errcode, error FROM outbox ORDER BY rowid")) != 0)
		return rc;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		memset(&it, 0, sizeof it);
		snprintf(it.id, sizeof it.id, "%s", sqlite3_column_text(st, 0));
		snprintf(it.peer, sizeof it.peer, "%s", sqlite3_column_text(st, 1));
		it.created = sqlite3_column_int64(st, 2);
		it.expires = sqlite3_column_int64(st, 3);
		it.tries = sqlite3_column_int(st, 4);
		it.errcode = sqlite3_column_int(st, 5);
		snprintf(it.error, sizeof it.error, "%s", sqlite3_column_text(st, 6));
		rc = fn(&it, arg);
	}
	sqlite3_finalize(st);
	return rc;
}

int
nc_outbox_cancel(nc_state *s, const char *id, int *n)
{
	int rc;

	*n = 0;
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	/* Its envelopes go unsent (the peer may report the ratchet counters
	 * they used as missing); the rows of recipients that never accepted
	 * it go from the history too: it was not sent to them. */
	if ((rc = run(s, "DELETE FROM outenv WHERE id = ?1", id, NULL)) != 0 ||
	    (rc = run(s, "DELETE FROM message WHERE dir = 1 AND id = ?1 AND"
	    " status = 'queued' AND peer IN (SELECT peer FROM outbox WHERE"
	    " id = ?1)", id, NULL)) != 0 ||
	    (rc = run(s, "DELETE FROM outbox WHERE id = ?1", id, NULL)) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	*n = sqlite3_changes(s->db);
	return nc_state_commit(s);
}
