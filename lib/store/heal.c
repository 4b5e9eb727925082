/* heal.c - sessions that heal: missing messages told to their sender,
 * new sessions where the old ones are out of step. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "heal.h"
#include "hex.h"
#include "relayc.h"
#include "session.h"

/* Runs sql with ?1 = text a, ?2 = 16-byte blob b, ?3 = blob c (16 bytes,
 * or unbound when NULL), ?4 = v. */
static int
run4(nc_state *s, const char *sql, const char *a, const uint8_t *b,
    const uint8_t *c, int64_t v)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, sql)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, b, 16, SQLITE_STATIC);
	if (c)
		sqlite3_bind_blob(st, 3, c, 16, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, v);
	return nc_state_done(s, st);
}

int
nc_heal_sent(nc_state *s, const uint8_t envid[16], const char *msgid,
    const char *peer, const uint8_t dev[16])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_stmt(s, &st, "INSERT OR IGNORE INTO sentenv(envid,"
	    " id, peer, dev, at) VALUES (?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, peer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, dev, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	return nc_state_run_release(s, st);
}

int
nc_heal_started(nc_state *s, const char *user, const uint8_t dev[16],
    int ours)
{
	return run4(s, ours ? "UPDATE session SET restart = 0, healed = ?4 WHERE"
	    " user = ?1 AND dev = ?2" : "UPDATE session SET restart = 0 WHERE"
	    " user = ?1 AND dev = ?2", user, dev, NULL, (int64_t)time(NULL));
}

int
nc_heal_spoken(nc_state *s, const char *user, const uint8_t dev[16])
{
	return run4(s, "UPDATE heal SET restart = 0 WHERE peer = ?1 AND dev = ?2"
	    " AND restart = 1", user, dev, NULL, 0);
}

static int
event_dev(nc_state *s, const char *type, const char *id, const char *user,
    const uint8_t dev[16], const char *reason, int64_t n)
{
	sqlite3_stmt *st;
	char devhex[33];
	int rc;

	nc_hex_encode(devhex, dev, 16);
	if ((rc = nc_state_prep(s, &st, "INSERT INTO event(type, id, peer, dev,"
	    " time, reason, n) VALUES (?, ?, ?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, devhex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, n);
	return nc_state_done(s, st);
}

int
nc_heal_restarted(nc_state *s, const char *user, const uint8_t dev[16],
    const char *reason)
{
	return event_dev(s, "session", "restarted", user, dev, reason, 0);
}

int
nc_heal_missing(nc_state *s, const char *user, const uint8_t dev[16],
    const uint8_t envid[16], const char *why)
{
	char reason[800];
	int rc;

	/* why is the ratchet's word for it; the user needs to know what
	 * happens next. */
	(void)why;
	snprintf(reason, sizeof reason, "1 message could not be decrypted (the "
	    "sessions were out of step); its sender is told and a new session "
	    "started");
	if ((rc = event_dev(s, "missing", "", user, dev, reason, 1)) != 0)
		return rc;
	return run4(s, "INSERT OR IGNORE INTO heal(peer, dev, envid) VALUES"
	    " (?1, ?2, ?3)", user, dev, envid, 0);
}

/* The message envelope envid to (user, dev) carried: 1 (msgid set, "" for
 * a receipt or control), 0 not known here. */
static int
sent_msg(nc_state *s, const char *user, const uint8_t dev[16],
    const uint8_t envid[16], char msgid[40])
{
	sqlite3_stmt *st;
	int found;

	if (nc_state_prep(s, &st, "SELECT id FROM sentenv WHERE envid = ?"
	    " AND peer = ? AND dev = ?") != 0)
		return 0;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, dev, 16, SQLITE_STATIC);
	if ((found = sqlite3_step(st) == SQLITE_ROW))
		snprintf(msgid, 40, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return found;
}

/* Message msgid to user did not arrive: failed (unless a receipt said
 * otherwise), with a failure event the first time. */
static int
not_arrived(nc_state *s, const char *user, const char *msgid)
{
	sqlite3_stmt *st;
	char reason[600];
	int rc;

	if ((rc = nc_state_prep(s, &st, "UPDATE message SET status = 'failed'"
	    " WHERE dir = 1 AND peer = ? AND id = ? AND status NOT IN"
	    " ('delivered', 'failed')")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, msgid, -1, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0 || sqlite3_changes(s->db) == 0)
		return rc;
	snprintf(reason, sizeof reason, "%s's device could not decrypt it (the "
	    "sessions were out of step; a new one is in place): send it again",
	    user);
	return nc_event_add(s, "failure", msgid, user, "", reason, 0);
}

int
nc_heal_control(nc_state *s, const char *user, const uint8_t dev[16],
    const nc_payload *pl)
{
	nc_control c;
	char msgid[40], reason[200];
	int64_t unknown = 0;
	uint16_t i;
	int rc;

	/* A control we cannot read is from a newer version: nothing to do. */
	if (nc_control_decode(&c, pl->body, pl->bodylen) != 0 ||
	    c.kind != NC_CTL_UNREAD)
		return 0;
	for (i = 0; i < c.n; i++) {
		if (!sent_msg(s, user, dev, c.envids + 16 * i, msgid))
			unknown++;
		else if (msgid[0] && (rc = not_arrived(s, user, msgid)) != 0)
			return rc;
	}
	if (unknown == 0)
		return 0;
	snprintf(reason, sizeof reason, "%lld message%s sent to it could not be "
	    "decrypted there", (long long)unknown, unknown == 1 ? "" : "s");
	return event_dev(s, "missing", "", user, dev, reason, unknown);
}

/* When this device last started a session with (user, dev) to heal. */
static int64_t
healed_at(nc_state *s, const char *user, const uint8_t dev[16])
{
	sqlite3_stmt *st;
	int64_t t = 0;

	if (nc_state_prep(s, &st, "SELECT healed FROM session WHERE user = ?"
	    " AND dev = ?") != 0)
		return 0;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t;
}

/* The first (peer, dev) owed a notice and up to NC_PL_ACKS_MAX of its
 * envelope ids: 1, or 0 when none is owed. *restart: one of them still
 * asks for a new session. */
static int
owed(nc_state *s, char peer[NC_ADDR_MAX + 1], uint8_t dev[16],
    uint8_t *ids, uint16_t *n, int *restart)
{
	sqlite3_stmt *st;

	*n = 0;
	*restart = 0;
	if (nc_state_prep(s, &st, "SELECT peer, dev FROM heal LIMIT 1") != 0)
		return 0;
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 1) != 16) {
		sqlite3_finalize(st);
		return 0;
	}
	snprintf(peer, NC_ADDR_MAX + 1, "%s", sqlite3_column_text(st, 0));
	memcpy(dev, sqlite3_column_blob(st, 1), 16);
	sqlite3_finalize(st);
	if (nc_state_prep(s, &st, "SELECT envid, restart FROM heal WHERE"
	    " peer = ? AND dev = ? ORDER BY envid LIMIT 500") != 0)
		return 0;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	while (*n < NC_PL_ACKS_MAX && sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == 16) {
			memcpy(ids + 16 * (*n)++, sqlite3_column_blob(st, 0), 16);
			*restart |= sqlite3_column_int(st, 1);
		}
	sqlite3_finalize(st);
	return *n > 0;
}

/* The notice is in the outbox (sent: 1) or cannot go at all (the device
 * is gone: 0): forget the ids; a restart made is recorded. */
static int
settle(nc_state *s, const char *peer, const uint8_t dev[16],
    const uint8_t *ids, uint16_t n, int restarted, int64_t now)
{
	uint16_t i;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		rc = run4(s, "DELETE FROM heal WHERE peer = ?1 AND dev = ?2 AND"
		    " envid = ?3", peer, dev, ids + 16 * i, 0);
	if (rc == 0 && restarted)
		rc = run4(s, "UPDATE session SET healed = ?4 WHERE user = ?1 AND"
		    " dev = ?2", peer, dev, NULL, now);
	if (rc == 0 && restarted)
		rc = nc_heal_restarted(s, peer, dev, "this device could not "
		    "decrypt its messages");
	if (rc != 0) {
		nc_state_rollback(s);
		return rc;
	}
	return nc_state_commit(s);
}

int
nc_heal_owed(nc_state *s, nc_self *self)
{
	static uint8_t ids[NC_PL_ACKS_MAX * 16];
	char peer[NC_ADDR_MAX + 1];
	uint8_t dev[16];
	nc_buf body = NC_BUF_INIT;
	nc_payload pl;
	nc_devlist l;
	int64_t now = (int64_t)time(NULL);
	uint16_t n;
	int rc = 0, i, restart, rounds = 0;

	while (rc == 0 && rounds++ < 64 && owed(s, peer, dev, ids, &n, &restart)) {
		if ((rc = nc_heal_check(s, self, NULL)) != 0 ||
		    (rc = nc_dir_get(s, peer, 0, &l)) != 0)
			break;
		for (i = 0; i < l.n; i++)
			if (memcmp(l.dev[i].id, dev, 16) == 0)
				break;
		if (i == l.n) {   /* no longer listed: nobody to tell */
			rc = settle(s, peer, dev, ids, n, 0, now);
			continue;
		}
		l.dev[0] = l.dev[i];
		l.n = 1;
		/* A new session, unless the device has spoken the current one
		 * since, or one was started a moment ago (the messages still on
		 * their way under the old one fail too). */
		restart = restart && healed_at(s, peer, dev) + NC_HEAL_EVERY <= now;
		if (restart && (rc = run4(s, "UPDATE session SET restart = 1 WHERE"
		    " user = ?1 AND dev = ?2", peer, dev, NULL, 0)) != 0)
			break;
		nc_buf_reset(&body);
		if ((rc = nc_control_encode(&body, NC_CTL_UNREAD, ids, n)) != 0)
			break;
		memset(&pl, 0, sizeof pl);
		pl.type = NC_PL_CONTROL;
		randombytes_buf(pl.id, sizeof pl.id);
		pl.time = (uint64_t)now;
		pl.body = body.p;
		pl.bodylen = body.len;
		if ((rc = nc_session_encrypt(s, self, &l, "", &pl, 0, NULL)) != 0)
			break;
		rc = settle(s, peer, dev, ids, n, restart, now);
	}
	nc_buf_free(&body);
	/* Relay or domain away, no prekeys: the notice stays owed. */
	if (rc == NC_ETEMP || rc == NC_EUNAVAIL || rc == NC_ENOHOST)
		rc = 0;
	return rc;
}

int
nc_heal_prune(nc_state *s, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "DELETE FROM sentenv WHERE at < ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now - NC_SENTENV_KEEP);
	return nc_state_done(s, st);
}

/* --- the device's counter --- */

#define K_N "heal-n"         /* the counter as the relay last confirmed it */
#define K_TAG "heal-tag"     /* its tag (16 bytes) */
#define K_NEXT "heal-next"   /* the tag asked for and not yet confirmed */

static int
get16(nc_state *s, const char *k, uint8_t out[16])
{
	nc_buf b = NC_BUF_INIT;
	int found;

	memset(out, 0, 16);
	found = nc_state_get(s, k, &b) == 0 && b.len == 16;
	if (found)
		memcpy(out, b.p, 16);
	nc_buf_free(&b);
	return found;
}

static int
confirmed(nc_state *s, const struct nc_counter *c)
{
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_put_int(s, K_N, (int64_t)c->n)) != 0 ||
	    (rc = nc_state_put(s, K_TAG, c->tag, 16)) != 0 ||
	    (rc = nc_state_put(s, K_NEXT, "", 0)) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	return nc_state_commit(s);
}

/* What to ask the relay: move from the value confirmed last (cur) to the
 * tag kept from an earlier try, or a new one, kept (synced) before it is
 * asked for, so that a retry after a lost answer asks the same. Read and
 * made in one transaction: another process of this home asking at the
 * same time asks the same. */
static int
question(nc_state *s, struct nc_counter *cur, uint8_t next[16])
{
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	cur->n = (uint64_t)nc_state_get_int(s, K_N, 0);
	get16(s, K_TAG, cur->tag);
	if (!get16(s, K_NEXT, next)) {
		randombytes_buf(next, 16);
		if ((rc = nc_state_put(s, K_NEXT, next, 16)) != 0) {
			nc_state_rollback(s);
			return rc;
		}
		nc_state_durable(s);
	}
	return nc_state_commit(s);
}

/* A value the relay holds that this state knows (confirmed, or asked for
 * by another process of this home meanwhile) is a race, not a copy: a
 * copy never saw the values its original made after it was taken. */
static int
known(nc_state *s, const struct nc_counter *v)
{
	struct nc_counter c;
	uint8_t next[16];

	c.n = (uint64_t)nc_state_get_int(s, K_N, 0);
	get16(s, K_TAG, c.tag);
	if (v->n == c.n && sodium_memcmp(v->tag, c.tag, 16) == 0)
		return 1;
	return get16(s, K_NEXT, next) && v->n == c.n + 1 &&
	    sodium_memcmp(v->tag, next, 16) == 0;
}

/* Ask the relay to move the counter from cur (at once, not in flight). */
static int
move(nc_state *s, nc_self *self, nc_relay *r, const struct nc_counter *cur,
    int flags, int *moved, struct nc_counter *out)
{
	struct nc_counter_req q;
	int rc;

	memset(&q, 0, sizeof q);
	q.flags = (uint8_t)flags;
	if ((rc = question(s, &q.cur, q.next)) != 0)
		return rc;
	q.cur = *cur;
	if ((rc = nc_relay_counter(r, self->name, self->dev, &q, moved, out)) != 0)
		return rc;
	return *moved ? confirmed(s, out) : 0;
}

/* Every session is to be started again: marked, with an event each. */
static int
restart_all(nc_state *s)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "SELECT user, dev FROM session WHERE"
	    " restart = 0")) != 0)
		goto fail;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 1) == 16)
			rc = nc_heal_restarted(s, (const char *)sqlite3_column_text(st,
			    0), sqlite3_column_blob(st, 1), "this device's state is "
			    "older than its relay's (restored from a copy?): a new "
			    "session replaces the old one");
	sqlite3_finalize(st);
	if (rc != 0 || (rc = nc_state_exec(s, "UPDATE session SET restart = 1")) != 0)
		goto fail;
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

/* The check in flight: started by nc_heal_check_start, answered by the
 * next nc_heal_check (one per process: it is about the device). */
static struct {
	int active;
	nc_relay *r;
	struct nc_counter_req q;
	nc_relay_pending p;
} flight;

static int64_t checked;   /* when this process last asked */

static int
due(int64_t now)
{
	return !flight.active &&
	    !(checked && now - checked < NC_HEAL_RECHECK && now >= checked);
}

int
nc_heal_prepare(nc_state *s)
{
	struct nc_counter_req q;
	int rc = 0;

	if (due((int64_t)time(NULL)))
		rc = question(s, &q.cur, q.next);
	sodium_memzero(&q, sizeof q);
	return rc;
}

int
nc_heal_check_start(nc_state *s, nc_self *self)
{
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (!due(now))
		return 0;
	checked = now;
	memset(&flight.q, 0, sizeof flight.q);
	if (nc_relay_open(&flight.r, s->home, self->domain) != 0)
		return 0;   /* nothing is known, nothing is done */
	if ((rc = question(s, &flight.q.cur, flight.q.next)) != 0) {
		nc_relay_close(flight.r);
		flight.r = NULL;
		return rc;
	}
	nc_relay_counter_start(flight.r, self->name, self->dev, &flight.q,
	    &flight.p);
	flight.active = 1;
	return 0;
}

int
nc_heal_check(nc_state *s, nc_self *self, int *stale)
{
	struct nc_counter out, cur;
	nc_relay *r;
	int rc, moved = 0;

	if (stale)
		*stale = 0;
	if ((rc = nc_heal_check_start(s, self)) != 0 || !flight.active)
		return rc;
	flight.active = 0;
	r = flight.r;
	flight.r = NULL;
	rc = nc_relay_counter_wait(r, self->name, self->dev, &flight.q,
	    &flight.p, &moved, &out);
	if (rc == 0 && moved)
		rc = confirmed(s, &out);
	else if (rc == 0 && known(s, &out))
		;   /* another process of this home moved it meanwhile */
	else if (rc == 0) {
		/* Stale: what this device holds is older than what it already
		 * showed. Start again from the relay's value. */
		if (nc_verbose > 0)
			nc_cli_info("this device's state is older than its relay "
			    "says (a restored copy?): starting new sessions");
		if (stale)
			*stale = 1;
		if ((rc = restart_all(s)) == 0 &&
		    (rc = nc_state_put(s, K_NEXT, "", 0)) == 0 &&
		    (rc = move(s, self, r, &out, NC_COUNTER_DROP_OTPK, &moved,
		    &cur)) == 0 && moved)
			rc = nc_prekeys_renew(s, self, r);
	}
	nc_relay_close(r);
	/* Unreachable or refused: nothing learnt; the receivers heal. */
	if (rc == NC_ETEMP || rc == NC_EUNAVAIL || rc == NC_ENOHOST ||
	    rc == NC_EPERM)
		rc = 0;
	return rc;
}
