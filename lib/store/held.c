/* held.c - messages from senders not known yet: kept unopened until the
 * user chooses to look the sender up (see held.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "directory.h"
#include "err.h"
#include "event.h"
#include "held.h"
#include "hex.h"
#include "home.h"
#include "json.h"

static int
policy(nc_state *s, nc_rx *rx)
{
	nc_config *cfg;
	int rc;

	if (rx->first == 0) {
		if ((rc = nc_config_load(&cfg, s->home)) != 0)
			return -rc;
		rx->first = nc_config_first_contact(cfg);
		nc_config_free(cfg);
	}
	return rx->first;
}

/* 1 when this user wrote to peer - from this device or another (a sent
 * copy), or in a history a link or a restore brought: someone the user
 * chose to talk to is no stranger, and looking it up tells its domain
 * nothing the conversation did not. 0 not, -rc. */
static int
wrote_to(nc_state *s, const char *peer)
{
	sqlite3_stmt *st;
	int rc, f;

	if ((rc = nc_state_prep(s, &st, "SELECT 1 FROM message WHERE dir = 1"
	    " AND peer = ? LIMIT 1")) != 0)
		return -rc;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	f = sqlite3_step(st);
	rc = f == SQLITE_ROW ? 1 : f == SQLITE_DONE ? 0 : -nc_state_dberr(s, "read");
	sqlite3_finalize(st);
	return rc;
}

int
nc_held_take(nc_state *s, const nc_unsealed *u, const uint8_t envid[16],
    const uint8_t *env, size_t n, nc_rx *rx)
{
	const char *user = u->cert.who.user;
	sqlite3_stmt *st;
	nc_devlist l;
	nc_buf ct = NC_BUF_INIT;
	char id[33], dev[33];
	int rc, p;

	if (rx->nohold)
		return 1;
	if ((rc = nc_dir_show(s, user, &l, NULL, NULL, NULL)) != NC_ENOUSER)
		return rc == 0 ? 1 : rc;
	nc_clearerr();
	if ((p = wrote_to(s, user)) != 0)
		return p < 0 ? -p : 1;
	if ((p = policy(s, rx)) < 0)
		return -p;
	if (p != NC_FIRST_HOLD)
		return 1;
	nc_hex_encode(id, envid, 16);
	nc_hex_encode(dev, u->cert.who.dev, 16);
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "SELECT count(*) >= ? FROM held")) != 0)
		goto fail;
	sqlite3_bind_int(st, 1, NC_HELD_MAX);
	p = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (p) {
		/* A stranger cannot fill the disk: dropped, and said. */
		nc_state_rollback(s);
		rx->dropped++;
		return 0;
	}
	if ((rc = nc_state_seal(s, "held", id, env, n, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO held(envid, peer,"
	    " dev, at, spk, otpk, env) VALUES (?, ?, ?, ?, ?, ?, ?)")) != 0)
		goto fail;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, u->cert.who.dev, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	/* The prekeys it will need stay until it is released or dropped. */
	if (u->prekey)
		sqlite3_bind_int64(st, 5, u->hdr.spk_id);
	if (u->prekey && u->hdr.has_otpk)
		sqlite3_bind_int64(st, 6, u->hdr.otpk_id);
	sqlite3_bind_blob(st, 7, ct.p, (int)ct.len, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0)
		goto fail;
	if (sqlite3_changes(s->db) > 0) {
		if ((rc = nc_event_add(s, "held", id, user, dev, "", 0)) != 0)
			goto fail;
		rx->held++;
	} else if (rx->direct)
		rx->again++;
	nc_buf_free(&ct);
	return nc_state_commit(s);   /* synced before the ack (inbox.c) */
fail:
	nc_buf_free(&ct);
	nc_state_rollback(s);
	return rc;
}

/* The oldest held envelope of peer (NULL: of any contact, or anyone this
 * user wrote to: wrote_to) after skip others: 1 found, 0 none, -rc. */
static int
next(nc_state *s, const char *peer, int skip, uint8_t envid[16], nc_buf *env)
{
	sqlite3_stmt *st;
	char id[33];
	int rc, f;

	if ((rc = nc_state_prep(s, &st, peer ?
	    "SELECT envid, env FROM held WHERE peer = ?1 ORDER BY at, rowid"
	    " LIMIT 1 OFFSET ?2" :
	    "SELECT envid, env FROM held WHERE peer IN (SELECT user FROM"
	    " contact) OR peer IN (SELECT peer FROM message WHERE dir = 1)"
	    " ORDER BY at, rowid LIMIT 1 OFFSET ?2")) != 0)
		return -rc;
	if (peer)
		sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, skip);
	if ((f = sqlite3_step(st)) != SQLITE_ROW) {
		rc = f == SQLITE_DONE ? 0 : nc_state_dberr(s, "read");
		sqlite3_finalize(st);
		return -rc;
	}
	memcpy(envid, sqlite3_column_blob(st, 0), 16);
	nc_hex_encode(id, envid, 16);
	nc_buf_reset(env);
	rc = nc_state_unseal(s, "held", id, sqlite3_column_blob(st, 1),
	    (size_t)sqlite3_column_bytes(st, 1), env);
	sqlite3_finalize(st);
	return rc ? -rc : 1;
}

static int
forget(nc_state *s, const uint8_t envid[16])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "DELETE FROM held WHERE envid = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, envid, 16, SQLITE_STATIC);
	return nc_state_done(s, st);
}

int
nc_held_release(nc_state *s, nc_self *self, const char *peer, nc_rx *rx,
    int *n)
{
	nc_buf env = NC_BUF_INIT;
	uint8_t envid[16], got[16];
	int rc = 0, rc1, f, skip = 0, nohold = rx->nohold;
	FILE *direct = rx->direct;

	if (n)
		*n = 0;
	rx->nohold = 1;
	rx->direct = NULL;   /* stored and printed as any message */
	while ((f = next(s, peer, skip, envid, &env)) > 0) {
		rc1 = nc_session_receive(s, self, env.p, env.len, got, rx);
		/* Read, or refused for good: it is held no more. (A crash in
		 * between: the next release finds it seen, and forgets it.) */
		if (rc1 == 0 || rc1 == NC_ESECURITY) {
			if ((rc1 = forget(s, envid)) != 0) {
				rc = rc ? rc : rc1;
				break;
			}
			if (n)
				(*n)++;
			continue;
		}
		rc = rc ? rc : rc1;
		skip++;   /* later: the sender's relay is down, ... */
	}
	if (f < 0 && rc == 0)
		rc = -f;
	rx->nohold = nohold;
	rx->direct = direct;
	nc_buf_free(&env);
	return rc;
}

int
nc_held_reject(nc_state *s, const char *peer, int *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM held WHERE peer = ?")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) == 0)
		*n = sqlite3_changes(s->db);
	return rc;
}

int
nc_held_list(nc_state *s, FILE *out, int json)
{
	sqlite3_stmt *st;
	nc_buf o = NC_BUF_INIT;
	char when[32];
	int rc, f = SQLITE_DONE;

	if ((rc = nc_state_prep(s, &st, "SELECT peer, count(*), min(at) FROM"
	    " held GROUP BY peer ORDER BY min(at), peer")) != 0)
		return rc;
	while (rc == 0 && (f = sqlite3_step(st)) == SQLITE_ROW) {
		const char *peer = (const char *)sqlite3_column_text(st, 0);
		int cnt = sqlite3_column_int(st, 1);

		nc_buf_reset(&o);
		if (json) {
			nc_time_iso(when, sqlite3_column_int64(st, 2));
			rc = nc_json_kv(&o, "type", "held") ||
			    nc_json_kv(&o, "from", peer) ||
			    nc_buf_printf(&o, ",\"count\":%d", cnt) ||
			    nc_json_kv(&o, "since", when) ||
			    nc_buf_addstr(&o, "}\n") ? NC_EOSERR : 0;
		} else {
			nc_time_local(when, sqlite3_column_int64(st, 2));
			rc = nc_buf_printf(&o, "%s: %d message%s held since %s "
			    "(nc-recv --release %s reads them)\n", peer, cnt,
			    cnt == 1 ? "" : "s", when, peer);
		}
		if (rc == 0 && (fwrite(o.p, 1, o.len, out) != o.len ||
		    fflush(out) != 0))
			rc = nc_fail(NC_EIO, "write: output error");
	}
	if (rc == 0 && f != SQLITE_DONE)
		rc = nc_state_dberr(s, "read");
	sqlite3_finalize(st);
	nc_buf_free(&o);
	return rc;
}

int
nc_held_prune(nc_state *s, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "DELETE FROM held WHERE at < ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now - NC_HELD_KEEP);
	return nc_state_done(s, st);
}
