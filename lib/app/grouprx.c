/* grouprx.c - group traffic received over the pairwise sessions: commits
 * checked against the chain, sender keys kept, messages opened and
 * checked against the transcript; alarms for what an attacker or a
 * dishonest member could do (groupapp.h, protocol.md 3.5). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "event.h"
#include "groupapp.h"
#include "groupdb.h"
#include "groupmsg.h"
#include "hex.h"
#include "json.h"
#include "payload.h"

/* Outcomes besides 0 and the error codes: kept for later. */
#define LATER (-1)

typedef struct {
	nc_state *s;
	nc_self *self;
	const char *user;              /* the sender, as the envelope proved */
	const uint8_t *dev;
	const uint8_t *identity;
	int *alarms;
	int retrying;                  /* from grp_pending */
	int inner;                     /* a commit a message carried */
} rx_ctx;

static int
galarm(rx_ctx *c, const uint8_t id[NC_GROUP_ID], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An alarm event about group id (nothing else happens). */
static int
galarm(rx_ctx *c, const uint8_t id[NC_GROUP_ID], const char *fmt, ...)
{
	char gid[2 * NC_GROUP_ID + 1], name[NC_GROUP_NAME_MAX + 1], why[700];
	char full[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	nc_hex_encode(gid, id, NC_GROUP_ID);
	nc_group_name(c->s, gid, name, sizeof name);
	snprintf(full, sizeof full, "group %s: %s", name, why);
	(*c->alarms)++;
	return nc_event_add(c->s, "alarm", gid, c->user, "", full, 0);
}

static int
in_state(const nc_group_state *g, const char *user)
{
	return nc_group_find(g, user) != NULL;
}

/* Text: control characters shown as '?'. */
static void
printable(char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* "event\tepoch\tname\tmember member ..." */
static int
gevent(nc_state *s, const nc_group_state *g, const char *event,
    const char *by, const nc_group_state *from, const nc_group_state *to,
    int mode)
{
	nc_buf r = NC_BUF_INIT;
	char gid[2 * NC_GROUP_ID + 1];
	uint32_t i;
	int rc, any = 0;

	char name[NC_GROUP_NAME_MAX + 1];

	nc_hex_encode(gid, g->id, NC_GROUP_ID);
	snprintf(name, sizeof name, "%s", g->name);
	printable(name);   /* no tab in the fields */
	rc = nc_buf_printf(&r, "%s\t%llu\t%s\t", event,
	    (unsigned long long)g->epoch, name);
	/* mode 0: every member of to; 1: in to, not in from; 2: in from,
	 * not in to; 3: admins in to who were not in from */
	for (i = 0; rc == 0 && i < to->n; i++) {
		const nc_group_member *m = &to->m[i], *o;

		o = from ? nc_group_find(from, m->addr) : NULL;
		if ((mode == 1 && o) || (mode == 3 && (m->role != NC_GROUP_ADMIN ||
		    (o && o->role == NC_GROUP_ADMIN))))
			continue;
		if (mode == 2 && in_state(from, m->addr))
			continue;
		rc = nc_buf_printf(&r, "%s%s", any++ ? " " : "", m->addr);
	}
	if (rc == 0 && (rc = nc_buf_nul(&r)) == 0 && any)
		rc = nc_event_add(s, "group", gid, by, "", (const char *)r.p, 0);
	nc_buf_free(&r);
	return rc;
}

/* The events a change from a to b makes. */
static int
change_events(nc_state *s, const nc_group_state *a, const nc_group_state *b,
    const char *by)
{
	int rc = 0;

	if (a == NULL)
		return gevent(s, b, "created", by, NULL, b, 0);
	if ((rc = gevent(s, b, "added", by, a, b, 1)) != 0)
		return rc;
	/* removed: those of a not in b (left: the author alone) */
	{
		uint32_t i;
		int gone = 0, self_only = 1;

		for (i = 0; i < a->n; i++)
			if (!in_state(b, a->m[i].addr)) {
				gone++;
				self_only &= strcmp(a->m[i].addr, by) == 0;
			}
		if (gone && (rc = gevent(s, b, gone == 1 && self_only ? "left" :
		    "removed", by, b, a, 2)) != 0)
			return rc;
	}
	if ((rc = gevent(s, b, "admin", by, a, b, 3)) != 0)
		return rc;
	if (strcmp(a->name, b->name) != 0)
		rc = gevent(s, b, "renamed", by, NULL, b, 0);
	return rc;
}

static int retry_pending(rx_ctx *c);

/* Apply a verified commit: the new state, its events, and what waited
 * for it. */
static int
apply(rx_ctx *c, const nc_group_state *cur, nc_group_state *next,
    const char *author, const uint8_t *commit, size_t n)
{
	int rc, member = in_state(next, c->self->addr);

	if ((rc = nc_gdb_save(c->s, next, member, commit, n)) != 0 ||
	    (rc = change_events(c->s, cur, next, author)) != 0)
		return rc;
	return c->retrying ? 0 : retry_pending(c);
}

/* The state of an earlier epoch, from the log: 0, NC_ENOUSER. */
static int
state_at(nc_state *s, const uint8_t id[NC_GROUP_ID], uint64_t epoch,
    nc_group_state *g)
{
	nc_buf b = NC_BUF_INIT;
	int rc;

	if ((rc = nc_gdb_commit(s, id, epoch, &b)) == 0)
		rc = nc_gdb_commit_state(g, b.p, b.len);
	nc_buf_free(&b);
	return rc;
}

static int
rx_commit(rx_ctx *c, const nc_gm *m, const uint8_t *raw, size_t rawlen)
{
	nc_group_state peek, cur, prev, next;
	nc_buf ours = NC_BUF_INIT;
	char author[NC_ADDR_MAX + 1];
	const nc_group_member *a;
	int rc, have, member;
	int64_t since;

	memset(&cur, 0, sizeof cur);
	memset(&prev, 0, sizeof prev);
	memset(&next, 0, sizeof next);
	if ((rc = nc_gdb_commit_state(&peek, m->commit, m->commitlen)) != 0) {
		(*c->alarms)++;
		return nc_event_add(c->s, "alarm", "", c->user, "",
		    "a malformed group commit", 0);
	}
	rc = nc_gdb_load(c->s, peek.id, &cur, &member, &since);
	have = rc == 0;
	if (rc != 0 && rc != NC_ENOUSER)
		goto done;
	rc = 0;
	/* A commit that comes with the state before it is for a device new
	 * to the group in its author's eyes: removed earlier and added
	 * again, or added on the winning chain while this device holds the
	 * losing one of two concurrent commits (t/unit/test-groupprop.c);
	 * one that does not fit this device's chain joins as a new member
	 * does. */
	if (have && m->prevlen > 0 && peek.epoch > cur.epoch) {
		if (peek.epoch != cur.epoch + 1 || nc_group_verify(&next, author,
		    &cur, m->commit, m->commitlen) != 0)
			have = 0;
		nc_group_free(&next);
		memset(&next, 0, sizeof next);
	}
	if (!have && c->retrying)
		goto later;   /* the sender's identity is not kept with it */
	if (!have) {
		/* New to us: a group made with us in it, or one we are added
		 * to (the state before comes with it: the adder vouches). */
		if (peek.epoch == 0)
			rc = nc_group_verify(&next, author, NULL, m->commit, m->commitlen);
		else if (m->prevlen == 0 ||
		    nc_group_decode(&prev, m->prev, m->prevlen) != 0)
			rc = LATER;   /* a commit for a group we join later */
		else
			rc = nc_group_verify(&next, author, &prev, m->commit,
			    m->commitlen);
		if (rc == LATER)
			goto later;
		if (rc != 0) {
			rc = galarm(c, peek.id, "a forged or invalid change refused "
			    "(%s)", nc_errmsg());
			goto done;
		}
		a = nc_group_find(peek.epoch == 0 ? &next : &prev, author);
		if (strcmp(author, c->user) != 0 || a == NULL ||
		    sodium_memcmp(a->idpk, c->identity, 32) != 0) {
			rc = galarm(c, peek.id, "a change signed by %s came from "
			    "%s: refused", author, c->user);
			goto done;
		}
		if (!in_state(&next, c->self->addr))
			goto done;   /* nothing of ours */
		rc = apply(c, peek.epoch == 0 ? NULL : &prev, &next, author,
		    m->commit, m->commitlen);
		goto done;
	}
	if (peek.epoch == cur.epoch + 1) {
		if (!member && !in_state(&peek, c->self->addr))
			goto done;   /* a group we were removed from */
		if ((rc = nc_group_verify(&next, author, &cur, m->commit,
		    m->commitlen)) != 0) {
			/* Made on the other of two concurrent commits (this
			 * device holds the one that loses): kept for when the
			 * winner comes, besides the alarm. */
			int split = strstr(nc_errmsg(), "another state") != NULL;

			if (c->retrying && split) {
				rc = LATER;
				goto done;
			}
			rc = galarm(c, cur.id, "a forged or invalid change refused "
			    "(%s)", nc_errmsg());
			if (rc == 0 && split)
				goto later;
			goto done;
		}
		if (strcmp(author, c->user) != 0) {
			rc = galarm(c, cur.id, "a change signed by %s came from %s: "
			    "refused", author, c->user);
			goto done;
		}
		rc = apply(c, &cur, &next, author, m->commit, m->commitlen);
		goto done;
	}
	if (peek.epoch > cur.epoch + 1)
		goto later;
	/* An epoch we have: the same commit again, or another one. */
	if ((rc = nc_gdb_commit(c->s, cur.id, peek.epoch, &ours)) != 0 &&
	    rc != NC_ENOUSER)
		goto done;
	if (rc == 0 && ours.len == m->commitlen &&
	    memcmp(ours.p, m->commit, ours.len) == 0) {
		rc = peek.epoch == cur.epoch ? 0 : galarm(c, cur.id,
		    "an old membership change (epoch %llu) sent again: ignored",
		    (unsigned long long)peek.epoch);
		goto done;
	}
	if (peek.epoch == cur.epoch && peek.epoch > 0 &&
	    state_at(c->s, cur.id, cur.epoch - 1, &prev) == 0 &&
	    nc_group_verify(&next, author, &prev, m->commit, m->commitlen) == 0 &&
	    strcmp(author, c->user) == 0) {
		/* Two admins changed the group at once: every member keeps
		 * the commit with the lower hash. */
		if (rc == 0 && nc_group_commit_order(m->commit, m->commitlen,
		    ours.p, ours.len) < 0) {
			if ((rc = nc_gdb_save(c->s, &next, in_state(&next,
			    c->self->addr), m->commit, m->commitlen)) == 0)
				rc = galarm(c, cur.id, "two changes for epoch %llu "
				    "(concurrent admins, or a split): %s's is kept, as "
				    "by every member", (unsigned long long)cur.epoch,
				    author);
		} else
			rc = galarm(c, cur.id, "two changes for epoch %llu "
			    "(concurrent admins, or a split): %s's is not kept",
			    (unsigned long long)cur.epoch, author);
		goto done;
	}
	rc = galarm(c, cur.id, "the group was split: another change for epoch "
	    "%llu, which this device has passed", (unsigned long long)peek.epoch);
	goto done;
later:
	/* a commit a message carried is kept in its own form: the message
	 * is read, and nothing would bring the commit again */
	rc = c->retrying && !c->inner ? LATER : nc_gdb_pending_add(c->s, c->user,
	    c->dev, raw, rawlen) == 0 ? LATER : NC_EIO;
done:
	nc_group_free(&peek);
	nc_group_free(&cur);
	nc_group_free(&prev);
	nc_group_free(&next);
	nc_buf_free(&ours);
	return rc;
}

static int
rx_skey(rx_ctx *c, const nc_gm *m)
{
	nc_skey k;
	int rc;

	if ((rc = nc_skey_from_dist(&k, m->dist, NC_SKEY_DIST_LEN)) != 0) {
		(*c->alarms)++;
		return nc_event_add(c->s, "alarm", "", c->user, "",
		    "a malformed group sender key", 0);
	}
	/* Kept whatever the epoch: a message under it checks that its
	 * sender is a member then. A key id once taken is never replaced. */
	rc = nc_gdb_key_put(c->s, &k, c->user, c->dev, 0);
	sodium_memzero(&k, sizeof k);
	if (rc == 0 && !c->retrying)
		rc = retry_pending(c);
	return rc;
}

/* A SYNC from one of our own devices (the sealed sender proved our own
 * identity key: it is us): the group's current state, taken as it is if
 * it is newer than ours, and the sender keys that device holds. */
static int
rx_sync(rx_ctx *c, const nc_gm *m)
{
	nc_group_state peek, cur;
	nc_skey k;
	char user[NC_ADDR_MAX + 1];
	uint8_t dev[16];
	const uint8_t *dist;
	size_t off = 0;
	int rc = 0, member, have;
	unsigned i;

	memset(&cur, 0, sizeof cur);
	memset(&peek, 0, sizeof peek);
	if (strcmp(c->user, c->self->addr) != 0) {
		(*c->alarms)++;
		return nc_event_add(c->s, "alarm", "", c->user, "",
		    "group state offered by another user (only the user's own "
		    "devices may): refused", 0);
	}
	if (m->commitlen > 0) {
		if (nc_gdb_commit_state(&peek, m->commit, m->commitlen) != 0) {
			(*c->alarms)++;
			return nc_event_add(c->s, "alarm", "", c->user, "",
			    "a malformed group commit", 0);
		}
		rc = nc_gdb_load(c->s, peek.id, &cur, &member, NULL);
		have = rc == 0;
		if (rc == 0 || rc == NC_ENOUSER)
			rc = 0;
		member = in_state(&peek, c->self->addr);
		if (rc == 0 && (!have || cur.epoch < peek.epoch))
			rc = nc_gdb_save(c->s, &peek, member, m->commit, m->commitlen);
		if (rc == 0 && !have && member)
			rc = nc_group_announce(c->s, c->self, &peek);
	}
	for (i = 0; rc == 0 && i < m->nkeys; i++) {
		if ((rc = nc_gm_sync_key(m, &off, user, dev, &dist)) != 0 ||
		    (rc = nc_skey_from_dist(&k, dist, NC_SKEY_DIST_LEN)) != 0)
			break;
		/* never ours by this device: no signing secret comes */
		if (sodium_memcmp(dev, c->self->dev->id, 16) != 0 ||
		    strcmp(user, c->self->addr) != 0)
			rc = nc_gdb_key_put(c->s, &k, user, dev, 0);
		sodium_memzero(&k, sizeof k);
	}
	nc_group_free(&peek);
	nc_group_free(&cur);
	if (rc == 0 && !c->retrying)
		rc = retry_pending(c);
	return rc;
}

/* A message's transcript against ours: what the sender saw of a key
 * must be what we saw of it. */
static int
transcript(rx_ctx *c, const nc_group_state *g, const nc_gm_inner *in)
{
	uint8_t h[32];
	nc_skey k;
	char user[NC_ADDR_MAX + 1];
	uint8_t dev[16];
	int i, rc, known;

	for (i = 0; i < in->nseen; i++) {
		const nc_gm_seen *e = &in->seen[i];

		rc = nc_gdb_seen_get(c->s, g->id, e->key, e->index, h);
		if (rc == 0 && sodium_memcmp(h, e->hash, 32) == 0)
			continue;
		if (rc != 0 && rc != NC_ENOUSER)
			return rc;
		known = nc_gdb_key_get(c->s, g->id, e->key, &k, user, dev) == 0;
		sodium_memzero(&k, sizeof k);
		/* Not seen here: fine for others' keys (not come yet); for
		 * our own, a message we never sent. */
		if (rc == NC_ENOUSER && (!known || sodium_memcmp(dev,
		    c->self->dev->id, 16) != 0 || strcmp(user, c->self->addr) != 0))
			continue;
		return galarm(c, g->id, "a member was shown other messages: %s saw "
		    "message %u of %s%s sender key otherwise than this device did",
		    c->user, e->index, known ? user : "a", known ? "'s" : "");
	}
	return 0;
}

static int
store_msg(rx_ctx *c, const nc_group_state *g, const nc_gm_inner *in)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char id[33], dev[33], gid[2 * NC_GROUP_ID + 1];
	int rc;

	nc_hex_encode(id, in->id, 16);
	nc_hex_encode(dev, c->dev, 16);
	nc_hex_encode(gid, g->id, NC_GROUP_ID);
	if ((rc = nc_state_seal_msg(c->s, 0, c->user, id, in->text, in->textlen,
	    &ct)) != 0 || (rc = nc_state_prep(c->s, &st, "INSERT OR IGNORE INTO"
	    " message(id, dir, peer, dev, time, body, status, files) VALUES (?,"
	    " 0, ?, ?, ?, ?, 'received', ?)")) != 0)
		goto done;
	sqlite3_bind_int(st, 6, in->files);   /* an attachment payload */
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, dev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)in->time);
	sqlite3_bind_blob(st, 5, ct.p, (int)ct.len, SQLITE_STATIC);
	if ((rc = nc_state_done(c->s, st)) != 0 || sqlite3_changes(c->s->db) == 0)
		goto done;
	/* A group message's event names its group (in reason). */
	rc = nc_event_add(c->s, "message", id, c->user, dev, gid,
	    sqlite3_last_insert_rowid(c->s->db));
done:
	nc_buf_free(&ct);
	return rc;
}

/* A commit that came as a message of the epoch it ends (inner version
 * 3): taken as a commit (kind 1) from the message's sender, whose sender
 * key proved it. */
static int
rx_inner_commit(rx_ctx *c, const nc_gm_inner *in)
{
	nc_buf raw = NC_BUF_INIT;
	nc_gm cm;
	rx_ctx ic = *c;
	int rc;

	memset(&cm, 0, sizeof cm);
	cm.kind = NC_GM_COMMIT;
	cm.commit = in->text;
	cm.commitlen = in->textlen;
	ic.inner = 1;
	if ((rc = nc_gm_encode(&raw, &cm)) == 0)
		rc = rx_commit(&ic, &cm, raw.p, raw.len);
	nc_buf_free(&raw);
	return rc == LATER ? 0 : rc;
}

static int
rx_msg(rx_ctx *c, const nc_gm *m, const uint8_t *raw, size_t rawlen)
{
	nc_group_state cur, g;
	nc_buf plain = NC_SECBUF_INIT;
	nc_gm_inner in;
	nc_skey k;
	uint8_t h[32], kdev[16], mk[32];
	char kuser[NC_ADDR_MAX + 1];
	int rc, member, use_skip = 0, late = 0;
	int64_t since;
	uint32_t i;

	memset(&g, 0, sizeof g);
	memset(&k, 0, sizeof k);
	rc = nc_gdb_load(c->s, m->ref.group, &cur, &member, &since);
	if (rc == NC_ENOUSER)
		goto later;
	if (rc != 0)
		return rc;
	if (!member)
		goto done;   /* removed: nothing more is ours to read */
	if (m->epoch > cur.epoch)
		goto later;
	if (!in_state(&cur, c->user)) {
		rc = galarm(c, cur.id, "a message from %s, who is not a member: "
		    "refused", c->user);
		goto done;
	}
	if (m->epoch < cur.epoch) {
		/* Past the grace only a commit is read (another admin's
		 * change of the epoch before: the concurrent-commit rule
		 * decides between it and the one taken here). */
		late = (int64_t)time(NULL) > since + NC_GROUP_GRACE;
		if (m->epoch + 1 != cur.epoch) {
			rc = galarm(c, cur.id, "a message under the key of an "
			    "earlier membership (epoch %llu): refused",
			    (unsigned long long)m->epoch);
			goto done;
		}
		if ((rc = state_at(c->s, cur.id, m->epoch, &g)) != 0) {
			rc = rc == NC_ENOUSER ? 0 : rc;
			goto done;
		}
	} else if ((rc = nc_group_copy(&g, &cur)) != 0)
		goto done;
	if ((rc = nc_group_hash(h, &g)) != 0)
		goto done;
	if (sodium_memcmp(h, m->state, 32) != 0) {
		rc = galarm(c, cur.id, "the group was split: %s is at another "
		    "membership for epoch %llu than this device", c->user,
		    (unsigned long long)m->epoch);
		goto done;
	}
	rc = nc_gdb_key_get(c->s, cur.id, m->ref.key, &k, kuser, kdev);
	if (rc == NC_ENOUSER)
		goto later;
	if (rc != 0)
		goto done;
	if (strcmp(kuser, c->user) != 0 || sodium_memcmp(kdev, c->dev, 16) != 0 ||
	    k.epoch != m->epoch) {
		rc = galarm(c, cur.id, "a message under a sender key that is not "
		    "%s's for this epoch: refused", c->user);
		goto done;
	}
	if (m->ref.index < k.index) {
		if ((rc = nc_gdb_skip_take(c->s, cur.id, k.id, m->ref.index, mk)) == 0)
			use_skip = 1;
		else if (rc != NC_ENOUSER)
			goto done;
		else {
			/* The same message again is nothing; another one under
			 * an index used is a replay or an equivocation. One
			 * this device never read (no record, no key kept for
			 * it) is from before it held the key - a key another
			 * device of ours passed on (SYNC) at a later index -:
			 * it cannot be read here, and is no alarm. */
			rc = nc_gdb_seen_get(c->s, cur.id, k.id, m->ref.index, h);
			if (rc == NC_ENOUSER) {
				rc = 0;
				goto done;
			}
			if (rc != 0 || sodium_memcmp(h, m->ref.hash, 32) == 0)
				goto done;
			rc = galarm(c, cur.id, "%s: message %u of a sender key came "
			    "again with other content: refused", c->user,
			    m->ref.index);
			goto done;
		}
	}
	if (use_skip)
		rc = nc_group_open_with_at(&plain, mk, &k, &g, m->state, &m->ref,
		    m->blob, m->bloblen);
	else {
		/* Keys skipped on the way are kept, bounded by the chain's
		 * own limit. */
		for (i = k.index; i < m->ref.index && i - k.index <= NC_SKEY_SKIP_MAX;
		    i++) {
			if ((rc = nc_skey_message_key(mk, &k, i)) != 0 ||
			    (rc = nc_gdb_skip_put(c->s, cur.id, k.id, i, mk)) != 0)
				break;
		}
		if (rc == 0)
			rc = nc_group_open_at(&plain, &k, &g, m->state, &m->ref, m->blob,
			    m->bloblen);
	}
	sodium_memzero(mk, sizeof mk);
	if (rc == NC_ESECURITY || (rc == 0 &&
	    nc_gm_inner_decode(&in, plain.p, plain.len) != 0)) {
		rc = galarm(c, cur.id, "a group message from %s refused: %s",
		    c->user, nc_errmsg());
		goto done;
	}
	if (rc != 0)
		goto done;
	if (late && !in.commit) {
		rc = galarm(c, cur.id, "a message under the key of an earlier "
		    "membership (epoch %llu): refused", (unsigned long long)m->epoch);
		goto done;
	}
	if ((rc = transcript(c, &g, &in)) != 0 ||
	    (rc = nc_gdb_seen_put(c->s, cur.id, k.id, m->ref.index,
	    m->ref.hash)) != 0 ||
	    (!use_skip && (rc = nc_gdb_key_update(c->s, &k)) != 0))
		goto done;
	rc = in.commit ? rx_inner_commit(c, &in) : store_msg(c, &g, &in);
	goto done;
later:
	rc = c->retrying ? LATER : nc_gdb_pending_add(c->s, c->user, c->dev,
	    raw, rawlen) == 0 ? LATER : NC_EIO;
done:
	sodium_memzero(&k, sizeof k);
	nc_buf_free(&plain);
	nc_group_free(&cur);
	nc_group_free(&g);
	return rc;
}

/* A message that came once to the provider: whose it is, the sender key
 * says (as the pairwise session that brought the key proved); then as
 * any message from that device. */
static int
rx_batched(rx_ctx *c, const nc_gm *m, const uint8_t *raw, size_t rawlen)
{
	nc_group_state cur, g;
	nc_skey k;
	nc_gm msg = *m;
	char kuser[NC_ADDR_MAX + 1];
	uint8_t kdev[16] = { 0 };
	rx_ctx kc = *c;
	uint64_t epoch;
	int rc, member;

	memset(&g, 0, sizeof g);
	memset(&cur, 0, sizeof cur);
	rc = nc_gdb_key_get(c->s, m->ref.group, m->ref.key, &k, kuser, kdev);
	epoch = k.epoch;
	sodium_memzero(&k, sizeof k);
	if (rc == NC_ENOUSER)   /* its key, or the group, comes later */
		return c->retrying ? LATER : nc_gdb_pending_add(c->s, "", kdev,
		    raw, rawlen) == 0 ? LATER : NC_EIO;
	if (rc != 0)
		return rc;
	msg.kind = NC_GM_MSG;
	msg.epoch = epoch;
	if ((rc = nc_gdb_load(c->s, m->ref.group, &cur, &member, NULL)) != 0)
		return rc == NC_ENOUSER ? 0 : rc;
	/* The state the key's epoch had here (the blob's AD binds it: a
	 * sender at another state for that epoch fails to open). */
	if (epoch == cur.epoch)
		rc = nc_group_hash(msg.state, &cur);
	else if (epoch + 1 == cur.epoch && state_at(c->s, cur.id, epoch, &g) == 0)
		rc = nc_group_hash(msg.state, &g);
	nc_group_free(&cur);
	nc_group_free(&g);
	if (rc != 0)
		return rc;
	kc.user = kuser;
	kc.dev = kdev;
	return rx_msg(&kc, &msg, raw, rawlen);
}

static int
dispatch(rx_ctx *c, const uint8_t *body, size_t n)
{
	nc_gm m;

	if (nc_gm_decode(&m, body, n) != 0) {
		(*c->alarms)++;
		return nc_event_add(c->s, "alarm", "", c->user, "",
		    "a malformed group payload refused", 0);
	}
	switch (m.kind) {
	case NC_GM_COMMIT: return rx_commit(c, &m, body, n);
	case NC_GM_SKEY: return rx_skey(c, &m);
	case NC_GM_SYNC: return rx_sync(c, &m);
	case NC_GM_BATCHED: return rx_batched(c, &m, body, n);
	default: return rx_msg(c, &m, body, n);
	}
}

/* Everything kept for later, in the order it came, once more. */
static int
retry_pending(rx_ctx *c)
{
	sqlite3_stmt *st;
	nc_buf b = NC_SECBUF_INIT;
	char user[NC_ADDR_MAX + 1], row[40];
	uint8_t dev[16];
	int64_t seq = 0;
	int rc = 0, progress = 1, rounds = 0;
	rx_ctx r = *c;

	r.retrying = 1;
	r.inner = 0;
	r.user = user;
	r.dev = dev;
	/* A commit taken may let a message through, whose key came after
	 * it: rounds until nothing moves. */
	while (progress && rounds++ < 8 && rc == 0) {
		progress = 0;
		for (seq = 0;;) {
			if ((rc = nc_state_prep(c->s, &st, "SELECT seq, tag, user, dev, v"
			    " FROM grp_pending WHERE seq > ? ORDER BY seq LIMIT 1")) != 0)
				break;
			sqlite3_bind_int64(st, 1, seq);
			if (sqlite3_step(st) != SQLITE_ROW) {
				sqlite3_finalize(st);
				break;
			}
			seq = sqlite3_column_int64(st, 0);
			nc_hex_encode(row, sqlite3_column_blob(st, 1), 16);
			snprintf(user, sizeof user, "%s", sqlite3_column_text(st, 2));
			memcpy(dev, sqlite3_column_blob(st, 3), 16);
			nc_buf_reset(&b);
			rc = nc_state_unseal(c->s, "grp_pending", row,
			    sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4),
			    &b);
			sqlite3_finalize(st);
			if (rc != 0)
				break;
			/* The identity the commit needs for a new group is not
			 * kept: a pending commit opens only a group we have. */
			rc = dispatch(&r, b.p, b.len);
			if (rc == LATER) {
				rc = 0;
				continue;
			}
			if (rc != 0)
				break;
			progress = 1;
			if ((rc = nc_state_prep(c->s, &st, "DELETE FROM grp_pending"
			    " WHERE seq = ?")) != 0)
				break;
			sqlite3_bind_int64(st, 1, seq);
			if ((rc = nc_state_done(c->s, st)) != 0)
				break;
		}
	}
	nc_buf_free(&b);
	return rc;
}

int
nc_group_receive(nc_state *s, nc_self *self, const char *user,
    const uint8_t dev[16], const uint8_t identity[32], const uint8_t *body,
    size_t n, int *alarms)
{
	rx_ctx c = { s, self, user, dev, identity, alarms, 0, 0 };
	int rc;

	if ((rc = nc_gdb_init(s)) != 0)
		return rc;
	rc = dispatch(&c, body, n);
	return rc == LATER ? 0 : rc;
}

void
nc_group_name(nc_state *s, const char *id, char *out, size_t max)
{
	uint8_t gid[NC_GROUP_ID];
	nc_group_state g;

	snprintf(out, max, "?");
	if (nc_hex_decode(gid, sizeof gid, id, strlen(id)) != 0 ||
	    nc_gdb_load(s, gid, &g, NULL, NULL) != 0)
		return;
	snprintf(out, max, "%s", g.name);
	nc_group_free(&g);
}

int
nc_group_fmt_event(nc_state *s, nc_buf *o, int json, const char *id,
    const char *by, const char *reason)
{
	char ev[16] = "", name[NC_GROUP_NAME_MAX + 1] = "", mem[8192] = "";
	char cur[NC_GROUP_NAME_MAX + 1];
	unsigned long long epoch = 0;
	const char *p = reason, *q;
	int rc;

	/* event \t epoch \t name \t members */
	if ((q = strchr(p, '\t')) == NULL || (size_t)(q - p) >= sizeof ev)
		return nc_fail(NC_ESOFTWARE, "state: a group event does not parse");
	memcpy(ev, p, (size_t)(q - p));
	epoch = strtoull(q + 1, (char **)&p, 10);
	if (*p != '\t' || (q = strchr(p + 1, '\t')) == NULL ||
	    (size_t)(q - p - 1) >= sizeof name)
		return nc_fail(NC_ESOFTWARE, "state: a group event does not parse");
	memcpy(name, p + 1, (size_t)(q - p - 1));
	snprintf(mem, sizeof mem, "%s", q + 1);
	if (!json) {
		nc_group_name(s, id, cur, sizeof cur);
		printable(name);
		printable(cur);
		if (strcmp(ev, "created") == 0)
			rc = nc_buf_printf(o, "[%s] %s created the group: %s\n", name,
			    by, mem);
		else if (strcmp(ev, "left") == 0)
			rc = nc_buf_printf(o, "[%s] %s left\n", name, by);
		else if (strcmp(ev, "renamed") == 0)
			rc = nc_buf_printf(o, "[%s] %s renamed the group\n", name, by);
		else if (strcmp(ev, "admin") == 0)
			rc = nc_buf_printf(o, "[%s] %s made admin: %s\n", name, by, mem);
		else
			rc = nc_buf_printf(o, "[%s] %s %s %s\n", name, by, ev, mem);
		return rc ? NC_EOSERR : 0;
	}
	rc = nc_json_kv(o, "type", "group") || nc_json_kv(o, "group", id) ||
	    nc_json_kv(o, "event", ev) || nc_json_kv(o, "by", by) ||
	    nc_json_kv(o, "name", name) ||
	    nc_buf_printf(o, ",\"epoch\":%llu,\"members\":[", epoch);
	for (p = mem; rc == 0 && *p; p = *q ? q + 1 : q) {
		if ((q = strchr(p, ' ')) == NULL)
			q = p + strlen(p);
		rc = (p != mem && nc_buf_addstr(o, ",")) ||
		    nc_json_str(o, p, (size_t)(q - p));
	}
	rc = rc || nc_buf_addstr(o, "]");
	return rc ? NC_EOSERR : 0;
}
