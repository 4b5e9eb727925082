/* session.c - X3DH session set-up, ratchet state kept encrypted in the
 * state database, and the receive transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "armor.h"
#include "directory.h"
#include "envelope.h"
#include "err.h"
#include "event.h"
#include "gap.h"
#include "gbatch.h"
#include "groupmsg.h"
#include "groupapp.h"
#include "held.h"
#include "heal.h"
#include "hex.h"
#include "media.h"
#include "relayc.h"
#include "session.h"
#include "devinfo.h"
#include "wire.h"

static void
rowname(char *out, size_t max, const char *user, const uint8_t dev[16])
{
	char h[33];

	nc_hex_encode(h, dev, 16);
	snprintf(out, max, "%s/%s", user, h);
}

/* The stored session with (user, dev), the current one or (prev) the one
 * before: NULL and rc 0 when there is none. */
static nc_ratchet *
session_get(nc_state *s, const char *user, const uint8_t dev[16], int prev,
    int *rc)
{
	sqlite3_stmt *st;
	nc_buf pt = NC_SECBUF_INIT;
	nc_ratchet *r = NULL;
	char row[400];

	*rc = 0;
	if ((*rc = nc_state_stmt(s, &st, prev ?
	    "SELECT prev FROM session WHERE user = ? AND dev = ?" :
	    "SELECT v FROM session WHERE user = ? AND dev = ?")) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_BLOB) {
		rowname(row, sizeof row, user, dev);
		if (prev)
			strcat(row, "/prev");
		*rc = nc_state_unseal(s, "session", row, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), &pt);
		if (*rc == 0 && (r = nc_ratchet_load(pt.p, pt.len)) == NULL)
			*rc = nc_fail(NC_ESOFTWARE, "state: session %s: %s", row,
			    nc_errmsg());
	}
	nc_state_release(s, st);
	nc_buf_free(&pt);
	return r;
}

static nc_ratchet *
session_load(nc_state *s, const char *user, const uint8_t dev[16], int *rc)
{
	return session_get(s, user, dev, 0, rc);
}

static int
seal_state(nc_state *s, const char *row, const nc_ratchet *r, nc_buf *ct)
{
	nc_buf pt = NC_SECBUF_INIT;
	int rc;

	if ((rc = nc_ratchet_save(r, &pt)) == 0)
		rc = nc_state_seal(s, "session", row, pt.p, pt.len, ct);
	nc_buf_free(&pt);
	return rc;
}

/* Store the current session; prev: 0 keep the previous one as it is,
 * 1 replace it with `old` (NULL: none). */
static int
session_put(nc_state *s, const char *user, const uint8_t dev[16],
    const nc_ratchet *r, int prev, const nc_ratchet *old)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT, pct = NC_BUF_INIT;
	char row[400], prow[420];
	int rc;

	rowname(row, sizeof row, user, dev);
	snprintf(prow, sizeof prow, "%s/prev", row);
	if ((rc = seal_state(s, row, r, &ct)) != 0 ||
	    (prev && old && (rc = seal_state(s, prow, old, &pct)) != 0) ||
	    (rc = nc_state_stmt(s, &st, prev ?
	    "INSERT INTO session(user, dev, v, prev, updated) VALUES (?1, ?2, ?3,"
	    " ?4, ?5) ON CONFLICT(user, dev) DO UPDATE SET v = ?3, prev = ?4,"
	    " updated = ?5" :
	    "INSERT INTO session(user, dev, v, prev, updated) VALUES (?1, ?2, ?3,"
	    " NULL, ?5) ON CONFLICT(user, dev) DO UPDATE SET v = ?3,"
	    " updated = ?5")) != 0)
		goto done;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, ct.p, (int)ct.len, SQLITE_STATIC);
	if (prev && old)
		sqlite3_bind_blob(st, 4, pct.p, (int)pct.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	rc = nc_state_run_release(s, st);
	s->scrub = 1;   /* the state it replaced must not stay in the WAL */
done:
	nc_buf_free(&ct);
	nc_buf_free(&pct);
	return rc;
}

static int
session_save(nc_state *s, const char *user, const uint8_t dev[16],
    const nc_ratchet *r)
{
	return session_put(s, user, dev, r, 0, NULL);
}

/* A session to send with: one there, and not marked for a restart. */
static int
has_session(nc_state *s, const char *user, const uint8_t dev[16])
{
	sqlite3_stmt *st;
	int found = 0;

	if (nc_state_stmt(s, &st, "SELECT 1 FROM session WHERE user = ? AND"
	    " dev = ? AND restart = 0") != 0)
		return 0;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	nc_state_release(s, st);
	return found;
}

static void
party_self(nc_party *p, const nc_self *self)
{
	memset(p, 0, sizeof *p);
	strcpy(p->user, self->addr);
	memcpy(p->identity, self->list.identity, 32);
	memcpy(p->dev, self->dev->id, NC_DEVID_LEN);
	memcpy(p->sign_pk, self->dev->sign_pk, 32);
	memcpy(p->dh_pk, self->dev->dh_pk, 32);
}

static void
party_peer(nc_party *p, const nc_devlist *l, int i)
{
	memset(p, 0, sizeof *p);
	strcpy(p->user, l->user);
	memcpy(p->identity, l->identity, 32);
	memcpy(p->dev, l->dev[i].id, NC_DEVID_LEN);
	memcpy(p->sign_pk, l->dev[i].sign_pk, 32);
	memcpy(p->dh_pk, l->dev[i].dh_pk, 32);
}

static int
is_self_dev(const nc_self *self, const nc_devlist *l, int i)
{
	return strcmp(l->user, self->addr) == 0 &&
	    memcmp(l->dev[i].id, self->dev->id, NC_DEVID_LEN) == 0;
}

typedef struct {
	int (*want)(const uint8_t dev[16], void *arg);
	int (*still)(void *arg);
	void *arg;
} dev_filter;

/* Device i of l is one to encrypt to: not this one, and wanted. */
static int
target(const nc_self *self, const nc_devlist *l, int i, const dev_filter *f)
{
	return !is_self_dev(self, l, i) &&
	    (f->want == NULL || f->want(l->dev[i].id, f->arg));
}

/* Claim bundles for the target devices of l we have no session with. */
static int
claim(nc_state *s, const nc_devlist *l, const nc_self *self, int offline,
    const dev_filter *f, nc_bundle *b, uint8_t (*bdev)[NC_DEVID_LEN],
    size_t *nb)
{
	uint8_t want[NC_DEVLIST_MAX][NC_DEVID_LEN];
	char name[NC_USER_MAX + 1];
	const char *at = strchr(l->user, '@');
	nc_relay *r = NULL;
	size_t n = 0;
	int i, rc;

	*nb = 0;
	for (i = 0; i < l->n; i++)
		if (target(self, l, i, f) && !has_session(s, l->user, l->dev[i].id))
			memcpy(want[n++], l->dev[i].id, NC_DEVID_LEN);
	if (n == 0)
		return 0;
	if (offline)
		return nc_fail(NC_EUNAVAIL, "%s: no session yet; a relay is needed "
		    "to start one", l->user);
	memcpy(name, l->user, (size_t)(at - l->user));
	name[at - l->user] = '\0';
	if ((rc = nc_relay_open(&r, s->home, at + 1)) != 0)
		return rc;
	rc = nc_relay_claim(r, name, (const uint8_t (*)[NC_DEVID_LEN])want, n,
	    b, bdev, nb);
	nc_relay_close(r);
	return rc;
}

static int
add_outenv(nc_state *s, const uint8_t envid[16], const char *msgid,
    const char *peer, const uint8_t dev[16], const nc_buf *env)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_stmt(s, &st, "INSERT INTO outenv(envid, id, peer, dev,"
	    " env) VALUES (?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, peer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, dev, 16, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, env->p, (int)env->len, SQLITE_STATIC);
	if ((rc = nc_state_run_release(s, st)) != 0)
		return rc;
	return nc_heal_sent(s, envid, msgid, peer, dev);
}

/* Encrypt to device i of l inside the open transaction. */
static int
encrypt_one(nc_state *s, nc_self *self, const nc_devlist *l, int i,
    const nc_bundle *b, const char *msgid, const nc_payload *pl,
    nc_buf *armored)
{
	nc_ratchet *st, *old = NULL;
	nc_party me, peer;
	nc_cert cert;
	nc_x3dh_out x;
	nc_buf env = NC_BUF_INIT;
	uint8_t envid[16];
	int rc, fresh = 0;

	st = session_load(s, l->user, l->dev[i].id, &rc);
	if (rc != 0)
		return rc;
	/* Marked for a restart (this device found its state stale, or could
	 * not decrypt the peer): a new session, the old one kept as the
	 * previous for what is still on its way under it. */
	if (st != NULL && !has_session(s, l->user, l->dev[i].id)) {
		old = st;
		st = NULL;
	}
	party_self(&me, self);
	party_peer(&peer, l, i);
	if (st == NULL) {
		/* (old, a session marked for a restart, is freed at done) */
		if (b == NULL) {
			rc = nc_fail(NC_ETEMP, "%s: no prekeys for a device", l->user);
			goto done;
		}
		if ((rc = nc_x3dh_initiate(&x, &me, self->dev, &peer, b)) != 0)
			goto done;
		st = nc_ratchet_init_initiator(&x);
		sodium_memzero(&x, sizeof x);
		if (st == NULL) {
			rc = nc_fail(NC_ESOFTWARE, "ratchet: %s", nc_errmsg());
			goto done;
		}
		fresh = 1;
	}
	cert.who = me;
	cert.devlist_version = self->list.version;
	if ((rc = nc_envelope_make(&env, envid, st, self->dev, &cert,
	    l->dev[i].id, l->dev[i].dh_pk, pl)) != 0 ||
	    (rc = (old ? session_put(s, l->user, l->dev[i].id, st, 1, old) :
	    session_save(s, l->user, l->dev[i].id, st))) != 0 ||
	    (fresh && (rc = nc_heal_started(s, l->user, l->dev[i].id, 1)) != 0) ||
	    (!armored && (rc = add_outenv(s, envid, msgid, l->user,
	    l->dev[i].id, &env)) != 0))
		goto done;
	if (armored)
		rc = nc_armor_encode(armored, env.p, env.len);
done:
	nc_ratchet_free(st);
	nc_ratchet_free(old);
	nc_buf_free(&env);
	return rc;
}

/* Gossip (protocol.md 2.5, 3.4): the newest key-log heads this device
 * holds for the domain of addr and its own, from local state only (no
 * request: nothing on the hot path). */
static void
gossip_add(nc_state *s, nc_payload *pl, const char *addr)
{
	const char *dom = strchr(addr, '@');
	char key[16 + NC_DOMAIN_MAX];
	nc_buf b = NC_BUF_INIT;

	if (dom == NULL || pl->ngossip >= NC_PL_GOSSIP_MAX ||
	    strlen(++dom) > NC_DOMAIN_MAX)
		return;
	for (size_t i = 0; i < pl->ngossip; i++)
		if (strcmp(pl->gossip[i].domain, dom) == 0)
			return;
	snprintf(key, sizeof key, "kt/%s/head", dom);
	if (nc_state_get(s, key, &b) == 0 && b.len == NC_PL_HEAD_LEN) {
		snprintf(pl->gossip[pl->ngossip].domain, NC_DOMAIN_MAX + 1, "%s", dom);
		memcpy(pl->gossip[pl->ngossip++].head, b.p, NC_PL_HEAD_LEN);
	}
	nc_buf_free(&b);
}

/* A peer's gossiped heads that differ from this device's: kept for
 * nc_keylog_gossip (lib/app/keylog.c), which checks them after the batch,
 * outside the transaction. Heads equal to ours cost nothing more. */
static int
gossip_note(nc_state *s, const char *peer, const nc_payload *pl)
{
	char key[16 + NC_DOMAIN_MAX + NC_ADDR_MAX];
	nc_buf b = NC_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < pl->ngossip && rc == 0; i++) {
		snprintf(key, sizeof key, "kt/%s/head", pl->gossip[i].domain);
		nc_buf_reset(&b);
		if (nc_state_get(s, key, &b) != 0)
			continue;   /* no log of that domain known here */
		if (b.len == NC_PL_HEAD_LEN &&
		    memcmp(b.p, pl->gossip[i].head, NC_PL_HEAD_LEN) == 0)
			continue;
		snprintf(key, sizeof key, "ktg/%s/%s", pl->gossip[i].domain, peer);
		rc = nc_state_put(s, key, pl->gossip[i].head, NC_PL_HEAD_LEN);
	}
	nc_buf_free(&b);
	return rc;
}

static int
encrypt_to(nc_state *s, nc_self *self, const nc_devlist *l,
    const char *msgid, const nc_payload *pl0, int offline, nc_buf *armored,
    const dev_filter *f)
{
	nc_payload gpl = *pl0, *pl = &gpl;
	nc_bundle b[NC_DEVLIST_MAX];
	uint8_t bdev[NC_DEVLIST_MAX][NC_DEVID_LEN];
	size_t nb, j;
	int i, rc;

	gpl.ngossip = 0;
	gossip_add(s, pl, l->user);
	gossip_add(s, pl, self->addr);
	if ((rc = claim(s, l, self, offline, f, b, bdev, &nb)) != 0)
		return rc;
	if ((rc = nc_state_begin(s)) != 0) {
		sodium_memzero(b, sizeof b);
		return rc;
	}
	if (f->still && !f->still(f->arg)) {
		nc_state_rollback(s);
		sodium_memzero(b, sizeof b);
		return 0;
	}
	for (i = 0; i < l->n && rc == 0; i++) {
		const nc_bundle *bi = NULL;

		if (!target(self, l, i, f))
			continue;
		for (j = 0; j < nb; j++)
			if (memcmp(bdev[j], l->dev[i].id, NC_DEVID_LEN) == 0)
				bi = &b[j];
		rc = encrypt_one(s, self, l, i, bi, msgid, pl, armored);
	}
	sodium_memzero(b, sizeof b);
	if (rc != 0) {
		nc_state_rollback(s);
		return rc;
	}
	/* On disk before an envelope made with the advanced chain leaves:
	 * no message key is ever used twice, even after a power failure. */
	nc_state_durable(s);
	return nc_state_commit(s);
}

int
nc_session_encrypt(nc_state *s, nc_self *self, const nc_devlist *l,
    const char *msgid, const nc_payload *pl, int offline, nc_buf *armored)
{
	dev_filter f = { NULL, NULL, NULL };

	return encrypt_to(s, self, l, msgid, pl, offline, armored, &f);
}

int
nc_session_encrypt_some(nc_state *s, nc_self *self, const nc_devlist *l,
    const char *msgid, const nc_payload *pl,
    int (*want)(const uint8_t dev[16], void *arg), int (*still)(void *arg),
    void *arg)
{
	dev_filter f = { want, still, arg };

	return encrypt_to(s, self, l, msgid, pl, 0, NULL, &f);
}

/* --- receiving --- */

/* 1 when envid was processed before (*same: with the bytes whose hash is
 * h, or a row from before hashes were kept), 0 not, -1 error. */
static int
seen_as(nc_state *s, const uint8_t envid[16], const uint8_t h[32], int *same)
{
	sqlite3_stmt *st;
	int found;

	if (nc_state_prep(s, &st, "SELECT h FROM seen WHERE envid = ?") != 0)
		return -1;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found && same)
		*same = sqlite3_column_type(st, 0) == SQLITE_NULL ||
		    (sqlite3_column_bytes(st, 0) == 32 &&
		    memcmp(sqlite3_column_blob(st, 0), h, 32) == 0);
	sqlite3_finalize(st);
	return found;
}

static int
seen(nc_state *s, const uint8_t envid[16])
{
	return seen_as(s, envid, NULL, NULL);
}

int
nc_session_prune(nc_state *s, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM replay WHERE at < ?")) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, now - NC_SPK_GRACE_SECS);
	if ((rc = nc_state_done(s, st)) != 0 ||
	    (rc = nc_state_prep(s, &st, "DELETE FROM seen WHERE at < ?")) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, now - NC_SEEN_KEEP_SECS);
	if ((rc = nc_state_done(s, st)) != 0 ||
	    (rc = nc_held_prune(s, now)) != 0 || (rc = nc_heal_prune(s, now)) != 0)
		goto fail;
	nc_state_lazy(s);   /* lost to a power failure: pruned next time */
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

int
nc_session_prekeys_prune(nc_state *s, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	/* (Those a held envelope needs stay: held.h bounds their number
	 * and age.) */
	if ((rc = nc_state_prep(s, &st, "DELETE FROM prekey WHERE kind = 2 AND"
	    " (created < ?1 OR rowid NOT IN (SELECT rowid FROM prekey WHERE"
	    " kind = 2 ORDER BY created DESC, id DESC LIMIT ?2)) AND id NOT IN"
	    " (SELECT otpk FROM held WHERE otpk IS NOT NULL)")) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, now - NC_OTPK_LIFE);
	sqlite3_bind_int(st, 2, NC_OTPK_KEEP);
	if ((rc = nc_state_done(s, st)) != 0)
		goto fail;
	if (sqlite3_changes(s->db) > 0)
		s->scrub = 1;   /* secrets: not to be left in the WAL either */
	nc_state_lazy(s);   /* lost to a power failure: pruned next time */
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

static int
mark_seen(nc_state *s, const uint8_t envid[16], const uint8_t h[32])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st,
	    "INSERT OR IGNORE INTO seen(envid, at, h) VALUES (?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 3, h, 32, SQLITE_STATIC);
	return nc_state_done(s, st);
}

/* Load a prekey secret: kind 1 spk, 2 otpk. 1 found, 0 not, <0 error. */
static int
prekey_load(nc_state *s, int kind, uint32_t id, nc_buf *pt)
{
	sqlite3_stmt *st;
	char row[32];
	int rc;

	if ((rc = nc_state_prep(s, &st,
	    "SELECT v FROM prekey WHERE kind = ? AND id = ?")) != 0)
		return -rc;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return 0;
	}
	snprintf(row, sizeof row, "%d/%u", kind, id);
	rc = nc_state_unseal(s, "prekey", row, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), pt);
	sqlite3_finalize(st);
	return rc ? -rc : 1;
}

static int
simple(nc_state *s, const char *sql, const void *blob, size_t n, int64_t v)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, sql)) != 0)
		return rc;
	if (blob)
		sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, v);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, blob ? (sqlite3_int64)time(NULL) : 0);
	return nc_state_done(s, st);
}

/* A new responder session from a prekey message. *replayed: refused
 * because its first message was taken before (a replay, never a reason
 * to heal). */
static nc_ratchet *
respond(nc_state *s, nc_self *self, const nc_unsealed *u, int *rc,
    int *replayed)
{
	nc_buf spkb = NC_SECBUF_INIT, otpkb = NC_SECBUF_INIT;
	nc_spk spk;
	nc_otpk otpk;
	nc_party me;
	nc_x3dh_out x;
	nc_ratchet *st = NULL;
	uint8_t tag[32];
	int f, have_otpk = 0;

	nc_x3dh_replay_tag(tag, u->hdr.spk_id, u->hdr.ek);
	memset(&spk, 0, sizeof spk);
	memset(&otpk, 0, sizeof otpk);
	{
		sqlite3_stmt *q;
		if ((*rc = nc_state_prep(s, &q, "SELECT 1 FROM replay WHERE tag = ?")) != 0)
			return NULL;
		sqlite3_bind_blob(q, 1, tag, 32, SQLITE_STATIC);
		f = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
		if (f) {
			*replayed = 1;
			*rc = nc_fail(NC_ESECURITY, "replayed first message");
			return NULL;
		}
	}
	if ((f = prekey_load(s, 1, u->hdr.spk_id, &spkb)) <= 0) {
		*rc = f < 0 ? -f : nc_fail(NC_ESECURITY, "unknown signed prekey");
		goto done;
	}
	if ((*rc = nc_spk_decode(&spk, spkb.p, spkb.len)) != 0)
		goto done;
	if (u->hdr.has_otpk) {
		if ((f = prekey_load(s, 2, u->hdr.otpk_id, &otpkb)) <= 0) {
			*rc = f < 0 ? -f : nc_fail(NC_ESECURITY,
			    "one-time prekey already used (replayed message?)");
			goto done;
		}
		if ((*rc = nc_otpk_decode(&otpk, otpkb.p, otpkb.len)) != 0)
			goto done;
		have_otpk = 1;
	}
	party_self(&me, self);
	if ((*rc = nc_x3dh_respond(&x, &me, self->dev, &spk,
	    have_otpk ? &otpk : NULL, &u->cert.who, &u->hdr)) != 0)
		goto done;
	if ((st = nc_ratchet_init_responder(&x, &spk)) == NULL)
		*rc = nc_fail(NC_ESOFTWARE, "ratchet: %s", nc_errmsg());
	sodium_memzero(&x, sizeof x);
	if (st == NULL)
		goto done;
	/* Used up in the same transaction as the message is stored. */
	if ((*rc = simple(s, "INSERT INTO replay(tag, at) VALUES (?, ?)", tag, 32,
	    0)) != 0 || (have_otpk && (*rc = simple(s,
	    "DELETE FROM prekey WHERE kind = 2 AND id = ?", NULL, 0,
	    u->hdr.otpk_id)) != 0)) {
		nc_ratchet_free(st);
		st = NULL;
	}
done:
	nc_spk_wipe(&spk);
	nc_otpk_wipe(&otpk);
	nc_buf_free(&spkb);
	nc_buf_free(&otpkb);
	return st;
}

/* A message's body: UTF-8 text, or (files) an attachment payload. */
static int
body_ok(const uint8_t *p, size_t n, int files)
{
	static _Thread_local nc_media_attach a[NC_MEDIA_ATTACH_MAX];
	const uint8_t *t;
	size_t na, tn;

	if (files ? nc_media_attach_dec(a, &na, &t, &tn, p, n) != 0 :
	    !nc_utf8_valid(p, n))
		return nc_fail(NC_ESECURITY, files ? "malformed attachments" :
		    "message text is not UTF-8");
	return 0;
}

static int
store_text(nc_state *s, const nc_unsealed *u, const nc_payload *pl)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char id[33], dev[33];
	int rc, files = pl->type == NC_PL_FILES;

	if ((rc = body_ok(pl->body, pl->bodylen, files)) != 0)
		return rc;
	nc_hex_encode(id, pl->id, 16);
	nc_hex_encode(dev, u->cert.who.dev, 16);
	if ((rc = nc_state_seal_msg(s, 0, u->cert.who.user, id, pl->body, pl->bodylen,
	    &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO message(id, dir,"
	    " peer, dev, time, body, status, files) VALUES (?, 0, ?, ?, ?, ?,"
	    " 'received', ?)")) != 0)
		goto done;
	sqlite3_bind_int(st, 6, files);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->cert.who.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, dev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)pl->time);
	sqlite3_bind_blob(st, 5, ct.p, (int)ct.len, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0)
		goto done;
	/* A message id seen before (resent under another envelope id) is
	 * neither stored nor printed again. */
	if (sqlite3_changes(s->db) == 0)
		goto done;
	if ((rc = nc_event_add(s, "message", id, u->cert.who.user, dev, "",
	    sqlite3_last_insert_rowid(s->db))) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO rcpt(peer, dev, id)"
	    " VALUES (?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_text(st, 1, u->cert.who.user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, u->cert.who.dev, 16, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, pl->id, 16, SQLITE_STATIC);
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}

/* A copy of a message one of our own devices sent: kept in the history
 * of each conversation it went to, and shown once. Only our own user's
 * devices may write into our sent history. */
static int
store_sent(nc_state *s, const nc_self *self, const nc_unsealed *u,
    const nc_payload *pl)
{
	static _Thread_local nc_sent sc;
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char id[33], dev[33];
	uint16_t i;
	int rc = 0, files = pl->type == NC_PL_SENT_FILES;

	if (strcmp(u->cert.who.user, self->addr) != 0)
		return nc_fail(NC_ESECURITY, "a sent copy from another user");
	if (nc_sent_decode(&sc, pl->body, pl->bodylen) != 0)
		return nc_fail(NC_ESECURITY, "%s", nc_errmsg());
	if ((rc = body_ok(sc.text, sc.textlen, files)) != 0)
		return rc;
	nc_hex_encode(id, pl->id, 16);
	nc_hex_encode(dev, u->cert.who.dev, 16);
	for (i = 0; i < sc.nto && rc == 0; i++) {
		nc_buf_reset(&ct);
		if ((rc = nc_state_seal_msg(s, 1, sc.to[i], id, sc.text, sc.textlen,
		    &ct)) != 0 || (rc = nc_state_prep(s, &st, "INSERT OR IGNORE"
		    " INTO message(id, dir, peer, dev, time, body, status, files)"
		    " VALUES (?, 1, ?, ?, ?, ?, 'sent', ?)")) != 0)
			break;
		sqlite3_bind_int(st, 6, files);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sc.to[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, dev, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)pl->time);
		sqlite3_bind_blob(st, 5, ct.p, (int)ct.len, SQLITE_STATIC);
		if ((rc = nc_state_done(s, st)) != 0 || sqlite3_changes(s->db) == 0)
			continue;
		rc = nc_event_add(s, "message", id, sc.to[i], dev, "",
		    sqlite3_last_insert_rowid(s->db));
	}
	nc_buf_free(&ct);
	return rc;
}

static int
store_receipt(nc_state *s, const nc_unsealed *u, const nc_payload *pl)
{
	sqlite3_stmt *st;
	char id[33];
	uint16_t i;
	int rc;

	for (i = 0; i < pl->nacks; i++) {
		nc_hex_encode(id, pl->acks + 16 * i, 16);
		if ((rc = nc_state_prep(s, &st, "UPDATE message SET status ="
		    " 'delivered' WHERE dir = 1 AND peer = ? AND id = ? AND"
		    " status != 'delivered'")) != 0)
			return rc;
		sqlite3_bind_text(st, 1, u->cert.who.user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		if ((rc = nc_state_done(s, st)) != 0)
			return rc;
		if (sqlite3_changes(s->db) > 0 && (rc = nc_event_add(s, "receipt",
		    id, u->cert.who.user, "", "", 0)) != 0)
			return rc;
	}
	return 0;
}

/* The decrypt-and-store transaction: the current session, then the
 * previous one, then (a prekey message) a new one. *outofstep: it failed
 * only because no session here decrypts it (protocol.md 2.13): the
 * envelope is genuine (sealed by a listed device), so the sessions are
 * out of step - not tampered, forged or replayed. */
static int
receive_txn(nc_state *s, nc_self *self, const uint8_t envid[16],
    const uint8_t h[32], const nc_unsealed *u, nc_rx *rx, int *outofstep)
{
	nc_buf pt = NC_SECBUF_INIT;
	nc_payload pl;
	nc_ratchet *cur = NULL, *prev = NULL, *fresh = NULL;
	const char *user = u->cert.who.user;
	const uint8_t *dev = u->cert.who.dev;
	nc_ratchet *keep[2];
	uint32_t lost = 0;
	int rc, f, which = -1, replayed = 0, prev_pending = 0;

	if ((f = seen(s, envid)) != 0)
		return f < 0 ? NC_ESOFTWARE : 0;
	cur = session_load(s, user, dev, &rc);
	if (rc == 0)
		prev = session_get(s, user, dev, 1, &rc);
	if (rc != 0)
		goto done;
	/* Only a session we started and that never got an answer may become
	 * current again by decrypting (two devices that started sessions at
	 * once converge so): one the peer or we replaced by a restart stays
	 * replaced, so that a message held back under it cannot roll the
	 * conversation back to it. */
	prev_pending = prev && nc_ratchet_pending(prev, NULL);
	rc = nc_fail(NC_ESECURITY, "no session with this device");
	if (cur && (lost = nc_ratchet_lost(cur),
	    rc = nc_envelope_decrypt(&pl, &pt, cur, u)) == 0)
		which = 0;
	if (which < 0 && prev) {
		nc_buf_reset(&pt);
		lost = nc_ratchet_lost(prev);
		if ((rc = nc_envelope_decrypt(&pl, &pt, prev, u)) == 0)
			which = 1;
	}
	if (which < 0 && u->prekey) {
		/* The peer started a new session (or this is the first). */
		if ((fresh = respond(s, self, u, &rc, &replayed)) == NULL) {
			*outofstep = rc == NC_ESECURITY && !replayed;
			goto done;
		}
		nc_buf_reset(&pt);
		if ((rc = nc_envelope_decrypt(&pl, &pt, fresh, u)) != 0)
			nc_fail(rc, "cannot decrypt first message: %s", nc_errmsg());
		else
			which = 2;
		rx->prekey++;
	} else if (which < 0)
		nc_fail(rc, "cannot decrypt (tampered, forged or replayed): %s",
		    nc_errmsg());
	if (which < 0) {
		*outofstep = rc == NC_ESECURITY;
		goto done;
	}
	/* The peer restarted: said before what came with the new session. */
	if (which == 2 && cur != NULL && (rc = nc_heal_restarted(s, user, dev,
	    "its device started a new session")) != 0)
		goto done;
	/* Our own devices: when each was last heard from, and the name a
	 * new one gives itself in its hello (u8 1, u8 1, u8 n, name). */
	if (strcmp(user, self->addr) == 0 &&
	    (rc = nc_devinfo_set_seen(s, dev, (int64_t)time(NULL))) != 0)
		goto done;
	if (pl.type == NC_PL_CONTROL && strcmp(user, self->addr) == 0 &&
	    pl.bodylen >= 3 && pl.body[0] == 1 && pl.body[1] == 1 &&
	    pl.bodylen == 3u + pl.body[2] && nc_devname_valid((const char *)
	    pl.body + 3, pl.body[2])) {
		char hex[33], name[NC_DEVNAME_MAX + 1];

		nc_hex_encode(hex, dev, NC_DEVID_LEN);
		memcpy(name, pl.body + 3, pl.body[2]);
		name[pl.body[2]] = '\0';
		if ((rc = nc_devinfo_set_name(s, hex, name)) != 0)
			goto done;
	}
	if (pl.type == NC_PL_TEXT || pl.type == NC_PL_FILES)
		rc = store_text(s, u, &pl);
	else if (pl.type == NC_PL_SENT || pl.type == NC_PL_SENT_FILES)
		rc = store_sent(s, self, u, &pl);
	else if (pl.type == NC_PL_RECEIPT)
		rc = store_receipt(s, u, &pl);
	else if (pl.type == NC_PL_CONTROL)
		rc = nc_heal_control(s, user, dev, &pl);
	else if (pl.type == NC_PL_GROUP)
		rc = nc_group_receive(s, self, user, dev, u->cert.who.identity,
		    pl.body, pl.bodylen, &rx->security);
	if (rc == 0 && pl.ngossip > 0)
		rc = gossip_note(s, user, &pl);
	if (rc != 0)
		goto done;
	/* The session that decrypted becomes the current one (the newest
	 * wins: a replaced one decrypts, but stays the previous one). */
	if (which == 0)
		rc = session_save(s, user, dev, cur);
	else if (which == 1 && prev_pending)
		rc = session_put(s, user, dev, prev, 1, cur);
	else if (which == 1)
		rc = session_put(s, user, dev, cur, 1, prev);
	else {
		rc = session_put(s, user, dev, fresh, 1, cur);
		/* The peer's new session is the one to use (a restart of ours
		 * that was due is no longer needed). */
		if (rc == 0)
			rc = nc_heal_started(s, user, dev, 0);
	}
	/* It speaks the session that is current now. */
	if (rc == 0 && (which != 1 || prev_pending))
		rc = nc_heal_spoken(s, user, dev);
	/* Counters show what never came; a skipped key used now fills a gap. */
	keep[0] = which == 0 ? cur : which == 1 ? prev : fresh;
	keep[1] = which == 0 ? prev : cur;
	if (rc == 0)
		rc = nc_gap_sync(s, user, dev, keep, 2, which != 2 &&
		    nc_ratchet_lost(keep[0]) == lost, rx->received);
	if (rc == 0 && (rc = mark_seen(s, envid, h)) == 0)
		rx->stored++;
done:
	nc_ratchet_free(cur);
	nc_ratchet_free(prev);
	nc_ratchet_free(fresh);
	nc_buf_free(&pt);
	return rc;
}

static int
alarm(nc_state *s, nc_rx *rx, const uint8_t envid[16], const uint8_t h[32],
    const char *peer, const char *why)
{
	int rc;

	if (rx->direct)
		return nc_event_direct(rx->direct, rx->json, "alarm", peer, why);
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_event_add(s, "alarm", "", peer, "", why, 0)) != 0 ||
	    (rc = mark_seen(s, envid, h)) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	return nc_state_commit(s);   /* synced before the ack (inbox.c) */
}

static int
in_list(const nc_devlist *l, const uint8_t dev[NC_DEVID_LEN])
{
	int i;

	for (i = 0; i < l->n; i++)
		if (memcmp(l->dev[i].id, dev, NC_DEVID_LEN) == 0)
			return 1;
	return 0;
}

/* dev is one of this user's devices: in our list as loaded, as last
 * fetched, or (once a run: a device added since) as the relay has it now;
 * offline, a device we have not heard of yet is not ours. */
static int
own_device(nc_state *s, nc_self *self, const uint8_t dev[NC_DEVID_LEN],
    nc_rx *rx)
{
	nc_devlist l;

	if (in_list(&self->list, dev) ||
	    (nc_dir_show(s, self->addr, &l, NULL, NULL, NULL) == 0 &&
	    in_list(&l, dev)))
		return 1;
	if (rx->refreshed++)
		return 0;
	return nc_dir_get(s, self->addr, 1, &l) == 0 && in_list(&l, dev);
}

/* How long a contact's pinned device list is trusted without asking its
 * relay again: a device the user dropped keeps speaking for the user at
 * most this long to a contact who only receives. NC_DEVLIST_MAXAGE
 * (seconds) is for tests. */
static int64_t
devlist_maxage(void)
{
	const char *e = getenv("NC_DEVLIST_MAXAGE");
	char *end;
	long long v;

	if (e == NULL || *e == '\0')
		return NC_DEVLIST_MAXAGE;
	v = strtoll(e, &end, 10);
	return *end == '\0' && v >= 0 ? (int64_t)v : NC_DEVLIST_MAXAGE;
}

/* The device list of the certificate's user to check it against: the
 * pinned one while it is fresh; fetched again when it names no such device,
 * when the certificate proves a newer list exists, or when the last check
 * is older than the bound (a dropped device then fails the check: the
 * newest list seen is the one that decides). */
static int
sender_list(nc_state *s, const nc_cert *c, nc_devlist *l)
{
	const char *user = c->who.user;
	int64_t now = (int64_t)time(NULL);
	char k[16 + NC_ADDR_MAX];
	int rc, changed = 0;

	snprintf(k, sizeof k, "devlist_check/%s", user);
	rc = nc_dir_show(s, user, l, &changed, NULL, NULL);
	if (rc == 0 && nc_cert_check(c, l) == 0 &&
	    c->devlist_version <= l->version &&
	    nc_state_get_int(s, k, 0) + devlist_maxage() > now)
		return 0;
	if (rc != 0 && rc != NC_ENOUSER)
		return rc;
	rc = nc_dir_get(s, user, 1, l);
	if (rc == 0)
		return nc_state_put_int(s, k, now);
	/* The pinned list, even while a changed key awaits trust: messages
	 * from the devices we trust still count. */
	if (rc == NC_ESECURITY && nc_dir_show(s, user, l, &changed, NULL,
	    NULL) == 0 && changed)
		return nc_state_put_int(s, k, now);
	return rc;
}

/* A group message that came once to the provider (envelope version 2,
 * protocol.md 2.7.1): its header opened with this device's key, then the
 * group code finds the sender key (and so the sender) and the blob's
 * signature proves it. Nothing here says who sent it before that. */
static int
batch_receive(nc_state *s, nc_self *self, const uint8_t *env, size_t n,
    uint8_t envid[16], const uint8_t h[32], nc_rx *rx)
{
	nc_gb_entry e;
	nc_gb_ref r;
	nc_gm m;
	nc_buf body = NC_BUF_INIT;
	uint8_t zero[32] = { 0 };
	char why[300];
	int rc, f, same = 0;

	if (nc_gb_entry_dec(&e, env, n) != 0) {
		rc = alarm(s, rx, envid, h, "", "malformed group envelope refused");
		return rc ? rc : nc_fail(NC_ESECURITY, "malformed group envelope");
	}
	memcpy(envid, e.envid, 16);
	if ((f = seen_as(s, envid, h, &same)) != 0) {
		if (f > 0 && rx->direct && same)
			rx->again++;
		return f < 0 ? NC_ESOFTWARE : 0;
	}
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_BATCHED;
	nc_group_blob_hash(m.ref.hash, e.blob, e.bloblen);
	if (sodium_memcmp(e.dev, self->dev->id, 16) != 0 ||
	    nc_gb_header_open(&r, e.hdr, e.envid, e.dev, self->dev->dh_sk,
	    self->dev->dh_pk, m.ref.hash) != 0) {
		snprintf(why, sizeof why, "group envelope refused: %s",
		    sodium_memcmp(e.dev, self->dev->id, 16) != 0 ?
		    "addressed to another device" : nc_errmsg());
		rc = alarm(s, rx, envid, h, "", why);
		return rc ? rc : nc_fail(NC_ESECURITY, "%s", why);
	}
	memcpy(m.ref.group, r.group, NC_GROUP_ID);
	memcpy(m.ref.key, r.key, NC_SKEY_ID);
	m.ref.index = r.index;
	m.blob = e.blob;
	m.bloblen = e.bloblen;
	if (nc_gm_encode(&body, &m) != 0) {
		nc_buf_free(&body);
		rc = alarm(s, rx, envid, h, "", "group envelope refused: blob too large");
		return rc ? rc : nc_fail(NC_ESECURITY, "group envelope: blob too large");
	}
	if ((rc = nc_state_begin(s)) != 0)
		goto out;
	if ((rc = nc_group_receive(s, self, "", zero, zero, body.p, body.len,
	    &rx->security)) != 0 || (rc = mark_seen(s, envid, h)) != 0) {
		nc_state_rollback(s);
		goto out;
	}
	rx->stored++;
	rc = nc_state_commit(s);   /* synced before the ack (inbox.c) */
out:
	nc_buf_free(&body);
	return rc;
}

int
nc_session_receive(nc_state *s, nc_self *self, const uint8_t *env, size_t n,
    uint8_t envid[16], nc_rx *rx)
{
	nc_buf buf = NC_SECBUF_INIT;
	nc_envelope e;
	nc_unsealed u;
	nc_devlist l;
	uint8_t h[32];
	char why[600];
	int rc, f, same = 0, outofstep = 0;

	memset(envid, 0, 16);
	if (n >= 17)
		memcpy(envid, env + 1, 16);   /* for the seen mark if it fails */
	crypto_generichash(h, sizeof h, env, n, NULL, 0);
	if (n >= 1 && env[0] == NC_GB_ENVELOPE_VERSION) {
		rc = batch_receive(s, self, env, n, envid, h, rx);
		goto out;
	}
	/* A file may hold one envelope for each of the user's devices: the
	 * others' are not ours to open, and not forged either. (One for a
	 * device that is not this user's is refused below, as injected.) */
	if (rx->direct && nc_envelope_decode(&e, env, n) == 0 &&
	    sodium_memcmp(e.rcpt, self->dev->id, NC_DEVID_LEN) != 0 &&
	    own_device(s, self, e.rcpt, rx)) {
		rx->other++;
		rc = 0;
		goto out;
	}
	if ((f = seen_as(s, envid, h, &same)) != 0) {
		rc = f < 0 ? NC_ESOFTWARE : 0;
		/* From the mailbox a re-fetch after a crash; from a file, the
		 * same envelope read again, or a replay under its id. */
		if (f > 0 && rx->direct && same)
			rx->again++;
		else if (f > 0 && rx->direct) {
			rc = alarm(s, rx, envid, h, "",
			    "replayed envelope (its id was seen with other content)");
			rc = rc ? rc : nc_fail(NC_ESECURITY, "replayed envelope");
		}
		goto out;
	}
	if ((rc = nc_envelope_open(&u, &buf, envid, self->dev, env, n)) != 0) {
		snprintf(why, sizeof why, "tampered or forged envelope: %s",
		    nc_errmsg());
		rc = alarm(s, rx, envid, h, "", why);
		rc = rc ? rc : nc_fail(NC_ESECURITY, "%s", why);
		goto out;
	}
	/* A sender not known yet is not looked up now (held.h). */
	if ((rc = nc_held_take(s, &u, envid, env, n, rx)) != 1)
		goto out;
	/* The sender must be a device its user's trusted list names. */
	rc = sender_list(s, &u.cert, &l);
	if (rc == 0 && (rc = nc_cert_check(&u.cert, &l)) != 0)
		rc = nc_fail(NC_ESECURITY, "sender's device is not in its device list");
	if (rc == NC_ESECURITY || rc == NC_ENOUSER) {
		snprintf(why, sizeof why, "refused envelope: %s", nc_errmsg());
		rc = alarm(s, rx, envid, h, u.cert.who.user, why);
		rc = rc ? rc : nc_fail(NC_ESECURITY, "%s", why);
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = nc_state_begin(s)) != 0)
		goto out;
	if ((rc = receive_txn(s, self, envid, h, &u, rx, &outofstep)) == 0) {
		/* Synced before the ack, once for a whole batch (inbox.c). */
		rc = nc_state_commit(s);
		goto out;
	}
	nc_state_rollback(s);
	/* Genuine but undecryptable here: reported missing, and the sender's
	 * device is told (with a new session): never an alarm, never silently
	 * lost. */
	if (rc == NC_ESECURITY && outofstep && !rx->direct) {
		snprintf(why, sizeof why, "%s", nc_errmsg());
		if ((rc = nc_state_begin(s)) != 0)
			goto out;
		if ((rc = nc_heal_missing(s, u.cert.who.user, u.cert.who.dev,
		    envid, why)) != 0 || (rc = mark_seen(s, envid, h)) != 0) {
			nc_state_rollback(s);
			goto out;
		}
		rc = nc_state_commit(s);
		rx->stored++;
		goto out;
	}
	if (rc == NC_ESECURITY || rc == NC_EDATA) {
		snprintf(why, sizeof why, "%s", nc_errmsg());
		rc = alarm(s, rx, envid, h, u.cert.who.user, why);
		rc = rc ? rc : nc_fail(NC_ESECURITY, "%s: %s", u.cert.who.user, why);
	}
out:
	if (rc == NC_ESECURITY)
		rx->security++;
	nc_buf_free(&buf);
	return rc;
}

/* Receipts owed to peer's dev for the n ids in acks are sent: forget
 * exactly those (another process may have added some meanwhile). Opens
 * the transaction the caller commits. */
static int
forget_rcpt(nc_state *s, const char *peer, const uint8_t dev[16],
    const uint8_t *acks, int n)
{
	sqlite3_stmt *st;
	int rc, i;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM rcpt WHERE peer = ?"
	    " AND dev = ? AND id = ?")) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_blob(st, 3, acks + 16 * i, 16, SQLITE_STATIC);
		rc = nc_state_run(s, st);
	}
	sqlite3_finalize(st);
	if (rc != 0)
		nc_state_rollback(s);
	return rc;
}

/* One receipt envelope per sender device, naming every message owed. */
int
nc_session_receipts(nc_state *s, nc_self *self)
{
	sqlite3_stmt *st;
	nc_devlist l;
	uint8_t acks[NC_PL_ACKS_MAX * 16], dev[16];
	char peer[NC_ADDR_MAX + 1];
	nc_payload pl;
	int rc, i, n, races = 0;

	for (;;) {
		if ((rc = nc_state_prep(s, &st,
		    "SELECT peer, dev FROM rcpt LIMIT 1")) != 0)
			return rc;
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return 0;
		}
		sqlite3_finalize(st);
		/* Receipts are sealed with sessions: not with stale ones. */
		if ((rc = nc_heal_check(s, self, NULL)) != 0 ||
		    (rc = nc_state_prep(s, &st,
		    "SELECT peer, dev FROM rcpt LIMIT 1")) != 0)
			return rc;
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return 0;
		}
		snprintf(peer, sizeof peer, "%s", sqlite3_column_text(st, 0));
		memcpy(dev, sqlite3_column_blob(st, 1), 16);
		sqlite3_finalize(st);
		if ((rc = nc_state_prep(s, &st, "SELECT id FROM rcpt WHERE peer = ?"
		    " AND dev = ? ORDER BY id LIMIT 500")) != 0)
			return rc;
		sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
		for (n = 0; sqlite3_step(st) == SQLITE_ROW && n < NC_PL_ACKS_MAX; n++)
			memcpy(acks + 16 * n, sqlite3_column_blob(st, 0), 16);
		sqlite3_finalize(st);
		/* Another process sent them meanwhile: a receipt of none is no
		 * payload at all. */
		if (n == 0 && ++races > 8)
			return 0;
		if (n == 0)
			continue;
		memset(&pl, 0, sizeof pl);
		pl.type = NC_PL_RECEIPT;
		randombytes_buf(pl.id, sizeof pl.id);
		pl.time = (uint64_t)time(NULL);
		pl.nacks = (uint16_t)n;
		pl.acks = acks;
		/* Only to the device the messages came from. */
		rc = nc_dir_get(s, peer, 0, &l);
		if (rc == 0) {
			for (i = 0; i < l.n; i++)
				if (memcmp(l.dev[i].id, dev, 16) == 0)
					break;
			if (i < l.n) {
				l.dev[0] = l.dev[i];
				l.n = 1;
				rc = nc_session_encrypt(s, self, &l, "", &pl, 1, NULL);
			}
		}
		/* A domain that stops resolving may come back: keep the
		 * receipts owed rather than drop them. */
		if (rc == NC_ETEMP || rc == NC_EUNAVAIL || rc == NC_ENOHOST)
			return 0;   /* later */
		if ((rc = forget_rcpt(s, peer, dev, acks, n)) != 0)
			return rc;
		nc_state_lazy(s);   /* lost, a receipt is sealed again */
		if ((rc = nc_state_commit(s)) != 0)
			return rc;
	}
}
