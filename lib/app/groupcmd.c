/* groupcmd.c - nc-group's changes and nc-send -g (groupapp.h): a change
 * is committed, logged and queued for every member in one transaction,
 * then encrypted to each over the pairwise sessions and delivered; a
 * message goes under this device's sender key for the epoch (sent first
 * to whoever lacks it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "groupapp.h"
#include "groupdb.h"
#include "groupmsg.h"
#include "hex.h"
#include "json.h"
#include "keys.h"
#include "outbox.h"
#include "payload.h"
#include "seal.h"
#include "session.h"
#include "wire.h"

/* ---- the group outbox ---- */

static void accepted_sent(nc_state *s, const nc_self *self, const char *op);

/* Encrypt one waiting payload to its user's devices and drop it. */
static int
out_one(nc_state *s, nc_self *self, int64_t seq, const char *op,
    const char *user, const nc_buf *body)
{
	sqlite3_stmt *st;
	nc_payload pl;
	nc_devlist l;
	int rc;

	if (strcmp(user, self->addr) == 0) {
		/* our own list as stored now: a device linked since this
		 * process read it gets its copy too */
		nc_buf b = NC_BUF_INIT;

		l = self->list;
		if (nc_state_get(s, "devlist", &b) == 0 &&
		    nc_devlist_decode(&l, b.p, b.len) != 0)
			l = self->list;
		nc_buf_free(&b);
	} else if ((rc = nc_dir_get(s, user, 0, &l)) != 0)
		return rc;
	memset(&pl, 0, sizeof pl);
	pl.type = NC_PL_GROUP;
	randombytes_buf(pl.id, sizeof pl.id);
	pl.time = (uint64_t)time(NULL);
	pl.body = body->p;
	pl.bodylen = body->len;
	/* Made with the session's next key and stored as envelopes of op;
	 * the row goes after (a crash between sends it twice, which the
	 * member takes as the same thing again). */
	if ((rc = nc_session_encrypt(s, self, &l, op, &pl, 0, NULL)) != 0)
		return rc;
	if ((rc = nc_state_stmt(s, &st, "DELETE FROM grp_out WHERE seq = ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, seq);
	return nc_state_run_release(s, st);
}

/* Everything in the group outbox, in order; a user whose payload fails
 * gets none after it this time. strict: at most `strict` rows, the first
 * failure ends it and is returned; *done counts the rows sent. *why: the
 * first failure. */
static int
out_rows(nc_state *s, nc_self *self, int maxpart, int strict, int *done,
    char *why, size_t max)
{
	sqlite3_stmt *st;
	nc_buf b = NC_SECBUF_INIT;
	char (*failed)[NC_ADDR_MAX + 1] = NULL;
	char op[64], user[NC_ADDR_MAX + 1], row[NC_ADDR_MAX + 96];
	int64_t seq = 0;
	int nfailed = 0, i, rc = 0, first = 0, part;

	if (why)
		why[0] = '\0';
	*done = 0;
	if (nc_gdb_init(s) != 0)
		return 0;
	while (!strict || *done < strict) {
		if ((rc = nc_state_stmt(s, &st, "SELECT seq, op, part, user, v FROM"
		    " grp_out WHERE seq > ? AND part <= ? ORDER BY seq LIMIT 1")) != 0)
			break;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int(st, 2, maxpart);
		if (sqlite3_step(st) != SQLITE_ROW) {
			nc_state_release(s, st);
			break;
		}
		seq = sqlite3_column_int64(st, 0);
		snprintf(op, sizeof op, "%s", sqlite3_column_text(st, 1));
		part = sqlite3_column_int(st, 2);
		snprintf(user, sizeof user, "%s", sqlite3_column_text(st, 3));
		snprintf(row, sizeof row, "%s/%d/%s", op, part, user);
		nc_buf_reset(&b);
		rc = nc_state_unseal(s, "grp_out", row, sqlite3_column_blob(st, 4),
		    (size_t)sqlite3_column_bytes(st, 4), &b);
		nc_state_release(s, st);
		if (rc != 0)
			break;
		for (i = 0; i < nfailed && strcmp(failed[i], user) != 0; i++)
			;
		if (i < nfailed)
			continue;
		if ((rc = out_one(s, self, seq, op, user, &b)) == 0)
			++*done;
		else {
			void *p;

			if (strict)
				break;
			p = realloc(failed, (size_t)(nfailed + 1) * sizeof *failed);
			if (why && !first++)
				snprintf(why, max, "%s", nc_errmsg());
			if (p == NULL)
				break;
			failed = p;
			snprintf(failed[nfailed++], sizeof failed[0], "%s", user);
			rc = 0;
		}
	}
	free(failed);
	nc_buf_free(&b);
	return rc;
}

/* out_rows in transactions of OUT_CHUNK rows, each synced once before
 * anything it made leaves (a sender key to 1,000 members was 1,000
 * transactions, each with its sync; a chunk bounds how long other
 * processes wait for the lock while bundles are claimed for members
 * without a session); on a failure the chunk is rolled back (sessions and
 * rows as they were) and the rest done a user at a time, as before. */
#define OUT_CHUNK 256
static int
out_all(nc_state *s, nc_self *self, int maxpart, char *why, size_t max)
{
	int done, rc;

	if (why)
		why[0] = '\0';
	/* The envelopes of one distribution share a sealed-sender ephemeral
	 * (seal.h): without one, each costs two X25519 instead of one. */
	(void)!nc_seal_share_begin(self->dev);
	while (nc_state_begin(s) == 0) {
		if (out_rows(s, self, maxpart, OUT_CHUNK, &done, NULL, 0) == 0 &&
		    s->depth == 1) {
			nc_state_durable(s);
			if (nc_state_commit(s) != 0)
				break;
			if (done < OUT_CHUNK) {
				nc_seal_share_end(self->dev);
				return 0;
			}
			continue;
		}
		nc_state_rollback(s);
		break;
	}
	rc = out_rows(s, self, maxpart, 0, &done, why, max);
	nc_seal_share_end(self->dev);
	return rc;
}

void
nc_group_retry(nc_state *s, nc_self *self)
{
	(void)!out_all(s, self, 1, NULL, 0);
	accepted_sent(s, self, NULL);
}

/* Members still waiting for operation op: in the group outbox, or as
 * envelopes the relay has not taken. */
static int
waiting(nc_state *s, const char *op)
{
	sqlite3_stmt *st;
	int n = 0;

	if (nc_state_prep(s, &st, "SELECT count(DISTINCT u) FROM (SELECT user AS"
	    " u FROM grp_out WHERE op = ?1 UNION SELECT peer AS u FROM outenv"
	    " WHERE id = ?1)") != 0)
		return 0;
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The outbox until op waits for nobody, or a flush moves nothing: one
 * flush takes at most 256 peers (outbox.c), a change or a new sender key
 * may go to 1,000 members. */
static void
flush_op(nc_state *s, nc_self *self, const char *op)
{
	nc_flush f;
	int n = waiting(s, op), m;

	for (;;) {
		(void)!nc_outbox_flush(s, self, NULL, 1, &f);
		if ((m = waiting(s, op)) == 0 || m >= n)
			break;
		n = m;
	}
}

/* The envelopes of op made pairwise (a sender key, a commit to new
 * members) in one request to each relay (nc_outbox_fanout). */
static int
fanout(nc_state *s, nc_self *self, const char *op)
{
	nc_fanout f;
	int rc = nc_outbox_fanout(s, self, op, &f);

	if (rc != 0 || nc_verbose <= 0 || f.requests + f.refused == 0)
		return rc;
	nc_cli_info("pairwise: %zu envelopes to %zu users in %zu request%s, "
	    "%zu bytes", f.envelopes, f.peers, f.requests,
	    f.requests == 1 ? "" : "s", f.bytes);
	if (f.stale > 0)
		nc_cli_info("pairwise: device lists of %zu users changed; theirs "
		    "one user at a time", f.stale);
	if (f.refused > 0)
		nc_cli_info("pairwise: %zu request%s refused (%s); one user at a "
		    "time", f.refused, f.refused == 1 ? "" : "s", f.why);
	return rc;
}

/* Deliver op: 0, or NC_ETEMP (reported) when some member waits. */
static int
deliver(nc_state *s, nc_self *self, const char *op)
{
	char why[600];
	uint64_t sent;
	int rc, n;

	/* Commits and sender keys over the pairwise sessions first (all of
	 * them in one request to each relay, what a relay refuses through
	 * the outbox's flush), then a message once to each provider; what is
	 * left goes pairwise. */
	if ((rc = out_all(s, self, 0, why, sizeof why)) != 0 ||
	    (rc = fanout(s, self, op)) != 0)
		return rc;
	flush_op(s, self, op);
	if ((rc = nc_group_batch_out(s, self, op, &sent)) != 0)
		return rc;
	if (waiting(s, op) > 0) {
		if ((rc = out_all(s, self, 1, why, sizeof why)) != 0)
			return rc;
		flush_op(s, self, op);
	}
	if ((n = waiting(s, op)) == 0)
		return 0;
	if (nc_verbose >= 0)
		nc_cli_info("queued for %d member%s (%s); nc-send --flush and "
		    "nc-recv retry", n, n == 1 ? "" : "s", why[0] ? why :
		    "relay unreachable");
	return NC_ETEMP;
}

static void new_op(char op[33]);
static int seal_queue(nc_state *s, nc_self *self, const nc_group_state *g,
    const char *op, const uint8_t *text, size_t len, int files, int commit);

/* ---- our own new devices ---- */

struct syncing {
	nc_state *s;
	const char *self;
	const char *op;
	nc_buf keys;
	const uint8_t *commit;
	size_t commitlen;
	unsigned nkeys;
	int part;
};

/* Queue what has gathered as one SYNC payload (part y->part). */
static int
sync_flush(struct syncing *y)
{
	nc_buf body = NC_BUF_INIT;
	nc_gm m;
	int rc;

	memset(&m, 0, sizeof m);
	m.kind = NC_GM_SYNC;
	m.commit = y->commit;
	m.commitlen = y->commitlen;
	m.keys = y->keys.p;
	m.keyslen = y->keys.len;
	m.nkeys = y->nkeys;
	if ((rc = nc_gm_encode(&body, &m)) == 0)
		rc = nc_gdb_out_add(y->s, y->op, y->part++, y->self, body.p, body.len);
	nc_buf_free(&body);
	nc_buf_reset(&y->keys);
	y->commit = NULL;   /* the first payload carries it */
	y->commitlen = 0;
	y->nkeys = 0;
	return rc;
}

static int
sync_key(const nc_skey *k, const char *user, const uint8_t dev[16], void *arg)
{
	struct syncing *y = arg;
	uint8_t dist[NC_SKEY_DIST_LEN];
	int rc;

	if (y->nkeys == NC_GM_SYNC_KEYS && (rc = sync_flush(y)) != 0)
		return rc;
	nc_skey_dist(dist, k);
	rc = nc_gm_sync_key_put(&y->keys, user, dev, dist);
	sodium_memzero(dist, sizeof dist);
	y->nkeys++;
	return rc;
}

static int
sync_group(nc_state *s, const nc_group_state *g, int member, void *arg)
{
	struct syncing *y = arg;
	nc_buf c = NC_BUF_INIT;
	char op[33];
	int rc;

	if (!member)
		return 0;
	if ((rc = nc_gdb_commit(s, g->id, g->epoch, &c)) != 0)
		return rc == NC_ENOUSER ? 0 : rc;
	new_op(op);
	y->op = op;
	y->part = 0;
	y->commit = c.p;
	y->commitlen = c.len;
	y->nkeys = 0;
	nc_buf_reset(&y->keys);
	if ((rc = nc_gdb_keys_each(s, g->id, g->epoch, sync_key, y)) == 0)
		rc = sync_flush(y);
	nc_buf_free(&c);
	return rc;
}

int
nc_group_announce(nc_state *s, nc_self *self, const nc_group_state *g)
{
	nc_skey k;
	nc_gm m;
	nc_buf body = NC_BUF_INIT;
	uint8_t dist[NC_SKEY_DIST_LEN];
	char op[33];
	uint32_t i;
	int rc;

	nc_skey_new(&k, g);
	nc_skey_dist(dist, &k);
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_SKEY;
	m.dist = dist;
	new_op(op);
	if ((rc = nc_gdb_key_put(s, &k, self->addr, self->dev->id, 1)) != 0 ||
	    (rc = nc_gm_encode(&body, &m)) != 0)
		goto out;
	for (i = 0; i < g->n && rc == 0; i++)
		if ((rc = nc_gdb_out_add(s, op, 0, g->m[i].addr, body.p,
		    body.len)) == 0)
			rc = nc_gdb_sent_mark(s, k.id, g->m[i].addr);
out:
	sodium_memzero(&k, sizeof k);
	sodium_memzero(dist, sizeof dist);
	nc_buf_free(&body);
	return rc;
}

int
nc_group_sync_own(nc_state *s, const char *self)
{
	struct syncing y = { s, self, NULL, NC_SECBUF_INIT, NULL, 0, 0, 0 };
	int rc = nc_gdb_each(s, sync_group, &y);

	nc_buf_free(&y.keys);
	return rc;
}

/* ---- changes ---- */

/* Queue commit for every member of cur and next, and our own other
 * devices. Members of cur get it as a message of cur's epoch under our
 * sender key (inner version 3), which goes once to each provider; a
 * member new to the group gets it, with the state before it, over the
 * pairwise sessions (kind 1), as everyone does for a new group. */
static int
queue_commit(nc_state *s, nc_self *self, const char *op,
    const nc_group_state *cur, const nc_group_state *next,
    const nc_buf *commit)
{
	nc_buf prev = NC_BUF_INIT, body = NC_BUF_INIT;
	nc_gm m;
	uint32_t i;
	int rc = 0;

	if (cur && ((rc = seal_queue(s, self, cur, op, commit->p, commit->len, 0,
	    1)) != 0 || (rc = nc_group_encode(cur, &prev)) != 0))
		goto out;
	for (i = 0; i < next->n && rc == 0; i++) {
		const char *u = next->m[i].addr;

		if (cur && nc_group_find(cur, u))
			continue;   /* has it as a message */
		if (strcmp(u, self->addr) == 0 && self->list.n < 2)
			continue;
		memset(&m, 0, sizeof m);
		m.kind = NC_GM_COMMIT;
		m.commit = commit->p;
		m.commitlen = commit->len;
		m.prev = cur ? prev.p : NULL;
		m.prevlen = cur ? prev.len : 0;
		nc_buf_reset(&body);
		if ((rc = nc_gm_encode(&body, &m)) == 0)
			rc = nc_gdb_out_add(s, op, 0, u, body.p, body.len);
	}
out:
	nc_buf_free(&prev);
	nc_buf_free(&body);
	return rc;
}

static void
new_op(char op[33])
{
	uint8_t id[16];

	randombytes_buf(id, sizeof id);
	nc_hex_encode(op, id, sizeof id);
}

static int
name_ok(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			break;
	if (n == 0 || n > NC_GROUP_NAME_MAX || i < n ||
	    !nc_utf8_valid(name, n) || strspn(name, "0123456789abcdef") == n)
		return nc_fail(NC_EUSAGE, "group name: 1 to %d bytes of text, no "
		    "control characters, not only hex digits", NC_GROUP_NAME_MAX);
	return 0;
}

/* Sign next (after cur), store it and queue it: one transaction. */
static int
commit_change(nc_state *s, nc_self *self, const char *op,
    const nc_group_state *cur, nc_group_state *next)
{
	nc_buf c = NC_BUF_INIT;
	int rc;

	if (self->id == NULL) {
		return nc_fail(NC_EPERM, "this device has no identity key to sign "
		    "group changes with (make them on the device that has it)");
	}
	if ((rc = nc_group_commit(&c, cur, next, self->addr, self->id->sk)) != 0)
		goto out;
	if ((rc = nc_state_begin(s)) != 0)
		goto out;
	/* queued first: the message of cur's epoch is sealed at cur */
	if ((rc = queue_commit(s, self, op, cur, next, &c)) != 0 ||
	    (rc = nc_gdb_save(s, next, nc_group_find(next, self->addr) != NULL,
	    c.p, c.len)) != 0) {
		nc_state_rollback(s);
		goto out;
	}
	nc_state_durable(s);
	rc = nc_state_commit(s);
out:
	nc_buf_free(&c);
	return rc;
}

/* The identity key a member is known by: our own, or the pinned one. */
static int
member_key(nc_state *s, const nc_self *self, const char *user, uint8_t pk[32])
{
	nc_devlist l;
	int rc;

	if (strcmp(user, self->addr) == 0) {
		memcpy(pk, self->list.identity, 32);
		return 0;
	}
	if ((rc = nc_dir_get(s, user, 0, &l)) != 0)   /* named once */
		return strncmp(nc_errmsg(), user, strlen(user)) == 0 ? rc :
		    nc_fail(rc, "%s: %s", user, nc_errmsg());
	memcpy(pk, l.identity, 32);
	return 0;
}

static int
finish(nc_state *s, nc_self *self, int rc)
{
	nc_self_free(self);
	if (nc_state_close(s) != 0 && rc == 0)
		rc = NC_EIO;
	if (rc != 0 && rc != NC_ETEMP)
		nc_cli_error(rc);
	return rc;
}

static int
open_home(nc_state **s, nc_self *self)
{
	int rc;

	memset(self, 0, sizeof *self);
	if ((rc = nc_cli_open(s, self)) != 0)
		return rc;
	if ((rc = nc_gdb_init(*s)) != 0) {
		nc_self_free(self);
		nc_state_close(*s);
	}
	return rc;
}

int
nc_group_create(const nc_group_opts *o, const char *name, const char **users,
    int n)
{
	nc_state *s;
	nc_self self;
	nc_group_state g;
	uint8_t id[NC_GROUP_ID], pk[32];
	char op[33], gid[2 * NC_GROUP_ID + 1];
	int rc, i;

	memset(&g, 0, sizeof g);
	if ((rc = name_ok(name)) != 0) {
		nc_cli_error(rc);
		return rc;
	}
	for (i = 0; i < n; i++)
		if (!nc_addr_valid(users[i])) {
			nc_cli_error(nc_fail(NC_EUSAGE, "%s: not a valid user@domain",
			    users[i]));
			return NC_EUSAGE;
		}
	if ((rc = open_home(&s, &self)) != 0) {
		nc_cli_error(rc);
		return rc;
	}
	randombytes_buf(id, sizeof id);
	nc_hex_encode(gid, id, sizeof id);
	if ((rc = nc_group_new(&g, id, name, self.addr, self.list.identity)) != 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		if (nc_group_find(&g, users[i]))
			continue;
		if ((rc = member_key(s, &self, users[i], pk)) == 0)
			rc = nc_group_put(&g, users[i], pk, NC_GROUP_MEMBER);
	}
	new_op(op);
	if (rc == 0)
		rc = commit_change(s, &self, op, NULL, &g);
	if (rc != 0)
		goto out;
	rc = deliver(s, &self, op);
	if (o->json)
		printf("{\"group\":\"%s\",\"epoch\":0}\n", gid);
	else if (nc_verbose >= 0)
		printf("%s\n", gid);
out:
	nc_group_free(&g);
	return finish(s, &self, rc);
}

/* A change's outcome: the group's epoch (JSON, or with -v). */
static void
print_epoch(const nc_group_opts *o, const char *gid, const nc_group_state *g,
    const char *how)
{
	if (o->json)
		printf("{\"group\":\"%s\",\"epoch\":%llu}\n", gid,
		    (unsigned long long)g->epoch);
	else if (nc_verbose > 0)
		nc_cli_info("%s: %sepoch %llu", g->name, how,
		    (unsigned long long)g->epoch);
}

int
nc_group_change(const nc_group_opts *o, const char *op_name, const char *group,
    const char **args, int n)
{
	nc_state *s;
	nc_self self;
	nc_group_state cur, next;
	const nc_group_member *me, *m;
	uint8_t id[NC_GROUP_ID], pk[32];
	char op[33], gid[2 * NC_GROUP_ID + 1];
	int rc, i, member, admins = 0, leave = strcmp(op_name, "leave") == 0;
	int changed = leave || strcmp(op_name, "remove") == 0;
	uint32_t j;

	memset(&cur, 0, sizeof cur);
	memset(&next, 0, sizeof next);
	if (strcmp(op_name, "rename") == 0 && (rc = name_ok(args[0])) != 0) {
		nc_cli_error(rc);
		return rc;
	}
	for (i = 0; strcmp(op_name, "rename") != 0 && i < n; i++)
		if (!nc_addr_valid(args[i])) {
			nc_cli_error(nc_fail(NC_EUSAGE, "%s: not a valid user@domain",
			    args[i]));
			return NC_EUSAGE;
		}
	if ((rc = open_home(&s, &self)) != 0) {
		nc_cli_error(rc);
		return rc;
	}
	if ((rc = nc_gdb_find(s, group, id)) != 0 ||
	    (rc = nc_gdb_load(s, id, &cur, &member, NULL)) != 0)
		goto out;
	nc_hex_encode(gid, id, sizeof id);
	if (!member || (me = nc_group_find(&cur, self.addr)) == NULL) {
		rc = nc_fail(NC_EPERM, "%s: you are not a member of this group "
		    "(any more)", cur.name);
		goto out;
	}
	if (!leave && me->role != NC_GROUP_ADMIN) {
		rc = nc_fail(NC_EPERM, "%s: only the group's admins may change it "
		    "(nc-group show lists them)", cur.name);
		goto out;
	}
	if ((rc = nc_group_copy(&next, &cur)) != 0)
		goto out;
	if (leave) {
		for (j = 0; j < cur.n; j++)
			admins += cur.m[j].role == NC_GROUP_ADMIN;
		if (me->role == NC_GROUP_ADMIN && admins == 1 && cur.n > 1) {
			rc = nc_fail(NC_EUSAGE, "%s: you are its only admin: make "
			    "another member admin first (nc-group admin)", cur.name);
			goto out;
		}
		rc = nc_group_drop(&next, self.addr);
	} else if (strcmp(op_name, "rename") == 0) {
		changed = strcmp(next.name, args[0]) != 0;
		snprintf(next.name, sizeof next.name, "%s", args[0]);
	}
	for (i = 0; !leave && strcmp(op_name, "rename") != 0 && i < n && rc == 0;
	    i++) {
		m = nc_group_find(&next, args[i]);
		if (strcmp(op_name, "add") == 0) {
			if (m)
				continue;   /* a member already */
			if ((rc = member_key(s, &self, args[i], pk)) == 0)
				rc = nc_group_put(&next, args[i], pk, NC_GROUP_MEMBER);
			changed = 1;
		} else if (m == NULL)
			rc = nc_fail(NC_EUSAGE, "%s: not a member of %s", args[i],
			    cur.name);
		else if (strcmp(op_name, "remove") == 0) {
			if (strcmp(args[i], self.addr) == 0)
				rc = nc_fail(NC_EUSAGE, "%s: to leave, nc-group leave",
				    args[i]);
			else
				rc = nc_group_drop(&next, args[i]);
		} else if (m->role != NC_GROUP_ADMIN) {
			rc = nc_group_put(&next, args[i], m->idpk, NC_GROUP_ADMIN);
			changed = 1;
		}
	}
	if (rc != 0)
		goto out;
	if (!changed) {
		/* Already so (a member, an admin, that name): no new epoch,
		 * nothing sent, as mkdir -p. */
		print_epoch(o, gid, &cur, "already so; still ");
		goto out;
	}
	if (next.n == 0) {
		/* The last member leaves: nobody to tell. */
		rc = nc_state_begin(s);
		if (rc == 0) {
			sqlite3_stmt *st;

			if ((rc = nc_state_prep(s, &st, "UPDATE grp SET member = 0"
			    " WHERE id = ?")) == 0) {
				sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
				rc = nc_state_done(s, st);
			}
			rc = rc ? (nc_state_rollback(s), rc) : nc_state_commit(s);
		}
		goto out;
	}
	new_op(op);
	if ((rc = commit_change(s, &self, op, &cur, &next)) != 0)
		goto out;
	rc = deliver(s, &self, op);
	print_epoch(o, gid, &next, "");
out:
	nc_group_free(&cur);
	nc_group_free(&next);
	return finish(s, &self, rc);
}

/* ---- showing ---- */

static int
json_members(nc_buf *b, const nc_group_state *g, int full)
{
	char fpr[NC_FPR_LEN];
	uint32_t i;
	int rc = nc_buf_addstr(b, ",\"members\":[");

	for (i = 0; rc == 0 && i < g->n; i++) {
		if (i && (rc = nc_buf_addstr(b, ",")) != 0)
			break;
		if (!full) {
			rc = nc_json_str(b, g->m[i].addr, strlen(g->m[i].addr));
			continue;
		}
		nc_fingerprint(fpr, g->m[i].idpk);
		rc = nc_buf_addstr(b, "{\"user\":") ||
		    nc_json_str(b, g->m[i].addr, strlen(g->m[i].addr)) ||
		    nc_buf_printf(b, ",\"role\":\"%s\",\"fingerprint\":\"%s\"}",
		    g->m[i].role == NC_GROUP_ADMIN ? "admin" : "member", fpr);
	}
	return rc || nc_buf_addstr(b, "]");
}

static int
emit(nc_buf *b)
{
	int rc = 0;

	if (fwrite(b->p, 1, b->len, stdout) != b->len)
		rc = nc_fail(NC_EIO, "standard output: write error");
	nc_buf_reset(b);
	return rc;
}

struct listing {
	int json;
	nc_buf o;
};

static int
list_one(nc_state *s, const nc_group_state *g, int member, void *arg)
{
	struct listing *L = arg;
	char gid[2 * NC_GROUP_ID + 1], name[NC_GROUP_NAME_MAX + 1];
	uint32_t i;
	int rc;

	(void)s;
	nc_hex_encode(gid, g->id, NC_GROUP_ID);
	if (L->json)
		rc = nc_json_kv(&L->o, "group", gid) ||
		    nc_json_kv(&L->o, "name", g->name) ||
		    nc_buf_printf(&L->o, ",\"epoch\":%llu,\"member\":%s",
		    (unsigned long long)g->epoch, member ? "true" : "false") ||
		    json_members(&L->o, g, 0) || nc_buf_addstr(&L->o, "}\n");
	else {
		snprintf(name, sizeof name, "%s", g->name);
		for (i = 0; name[i]; i++)
			if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
				name[i] = '?';
		rc = nc_buf_printf(&L->o, "%s %s epoch %llu, %u member%s%s\n", gid,
		    name, (unsigned long long)g->epoch, g->n, g->n == 1 ? "" : "s",
		    member ? "" : " (not a member)");
	}
	return rc ? NC_EOSERR : emit(&L->o);
}

int
nc_group_list(const nc_group_opts *o)
{
	struct listing L = { o->json, NC_BUF_INIT };
	nc_state *s;
	int rc;

	if ((rc = nc_cli_open(&s, NULL)) == 0) {
		rc = nc_gdb_each(s, list_one, &L);
		if (nc_state_close(s) != 0 && rc == 0)
			rc = NC_EIO;
	}
	nc_buf_free(&L.o);
	if (rc != 0)
		nc_cli_error(rc);
	return rc;
}

static int
load_arg(nc_state **s, const char *group, nc_group_state *g, int *member)
{
	uint8_t id[NC_GROUP_ID];
	int rc;

	memset(g, 0, sizeof *g);
	if ((rc = nc_cli_open(s, NULL)) != 0)
		return rc;
	if ((rc = nc_gdb_find(*s, group, id)) != 0 ||
	    (rc = nc_gdb_load(*s, id, g, member, NULL)) != 0) {
		nc_state_close(*s);
		*s = NULL;
	}
	return rc;
}

int
nc_group_show(const nc_group_opts *o, const char *group)
{
	nc_state *s = NULL;
	nc_group_state g;
	nc_buf b = NC_BUF_INIT;
	uint8_t h[NC_GROUP_HASH];
	char gid[2 * NC_GROUP_ID + 1], hh[2 * NC_GROUP_HASH + 1], fpr[NC_FPR_LEN];
	uint32_t i;
	int rc, member = 0;

	if ((rc = load_arg(&s, group, &g, &member)) != 0)
		goto out;
	nc_hex_encode(gid, g.id, NC_GROUP_ID);
	if ((rc = nc_group_hash(h, &g)) != 0)
		goto out;
	nc_hex_encode(hh, h, sizeof h);
	if (o->json)
		rc = nc_json_kv(&b, "group", gid) || nc_json_kv(&b, "name", g.name) ||
		    nc_buf_printf(&b, ",\"epoch\":%llu,\"member\":%s",
		    (unsigned long long)g.epoch, member ? "true" : "false") ||
		    nc_json_kv(&b, "state", hh) || json_members(&b, &g, 1) ||
		    nc_buf_addstr(&b, "}\n");
	else {
		rc = nc_buf_printf(&b, "group %s\nname %s\nepoch %llu\nstate %s\n",
		    gid, g.name, (unsigned long long)g.epoch, hh);
		for (i = 0; rc == 0 && i < g.n; i++) {
			nc_fingerprint(fpr, g.m[i].idpk);
			rc = nc_buf_printf(&b, "%s %s %s\n", g.m[i].addr,
			    g.m[i].role == NC_GROUP_ADMIN ? "admin" : "member", fpr);
		}
		if (rc == 0 && !member)
			rc = nc_buf_addstr(&b, "(this device is not a member any more)\n");
	}
	rc = rc ? NC_EOSERR : emit(&b);
out:
	nc_buf_free(&b);
	nc_group_free(&g);
	if (s && nc_state_close(s) != 0 && rc == 0)
		rc = NC_EIO;
	if (rc != 0)
		nc_cli_error(rc);
	return rc;
}

/* "added x, y; removed z; ..." from a to b */
static int
describe(nc_buf *b, const nc_group_state *a, const nc_group_state *g)
{
	const char *what[] = { "added", "removed", "made admin", NULL };
	uint32_t i;
	int k, rc = 0, any, parts = 0;

	if (a == NULL) {
		rc = nc_buf_printf(b, "created \"%s\" with", g->name);
		for (i = 0; rc == 0 && i < g->n; i++)
			rc = nc_buf_printf(b, " %s", g->m[i].addr);
		return rc;
	}
	for (k = 0; what[k] && rc == 0; k++) {
		const nc_group_state *x = k == 1 ? a : g, *y = k == 1 ? g : a;

		for (any = 0, i = 0; rc == 0 && i < x->n; i++) {
			const nc_group_member *o = nc_group_find(y, x->m[i].addr);

			if (k < 2 ? o != NULL : (o == NULL || o->role == NC_GROUP_ADMIN ||
			    x->m[i].role != NC_GROUP_ADMIN))
				continue;
			if (any == 0)
				rc = nc_buf_printf(b, "%s%s %s", parts++ ? "; " : "",
				    what[k], x->m[i].addr);
			else
				rc = nc_buf_printf(b, ", %s", x->m[i].addr);
			any++;
		}
	}
	if (rc == 0 && strcmp(a->name, g->name) != 0)
		rc = nc_buf_printf(b, "%srenamed to \"%s\"", parts++ ? "; " : "",
		    g->name);
	if (rc == 0 && parts == 0)
		rc = nc_buf_addstr(b, "no change");
	return rc;
}

int
nc_group_log(const nc_group_opts *o, const char *group)
{
	nc_state *s = NULL;
	nc_group_state g, prev, at;
	nc_buf b = NC_BUF_INIT, c = NC_BUF_INIT, d = NC_BUF_INIT;
	char author[NC_ADDR_MAX + 1], gid[2 * NC_GROUP_ID + 1];
	char hh[2 * NC_GROUP_HASH + 1];
	uint8_t h[NC_GROUP_HASH];
	uint64_t e;
	int rc, member, have_prev = 0;
	nc_dec dc;

	memset(&prev, 0, sizeof prev);
	memset(&at, 0, sizeof at);
	if ((rc = load_arg(&s, group, &g, &member)) != 0)
		goto out;
	nc_hex_encode(gid, g.id, NC_GROUP_ID);
	for (e = 0; e <= g.epoch && rc == 0; e++) {
		rc = nc_gdb_commit(s, g.id, e, &c);
		if (rc == NC_ENOUSER) {
			rc = 0;   /* before this device joined */
			continue;
		}
		if (rc != 0 || (rc = nc_gdb_commit_state(&at, c.p, c.len)) != 0)
			break;
		/* the author: after the state in the commit */
		nc_dec_init(&dc, c.p, c.len);
		(void)nc_get_u8(&dc);
		(void)nc_get_bytes(&dc, c.len, &(size_t){ 0 });
		nc_get_str(&dc, author, NC_ADDR_MAX);
		nc_buf_reset(&d);
		if ((rc = nc_group_hash(h, &at)) != 0 ||
		    (rc = describe(&d, have_prev ? &prev : NULL, &at)) != 0 ||
		    (rc = nc_buf_nul(&d)) != 0)
			break;
		nc_hex_encode(hh, h, sizeof h);
		if (o->json)
			rc = nc_buf_printf(&b, "{\"group\":\"%s\",\"epoch\":%llu", gid,
			    (unsigned long long)e) || nc_json_kv(&b, "by", author) ||
			    nc_json_kv(&b, "change", (const char *)d.p) ||
			    nc_json_kv(&b, "state", hh) || json_members(&b, &at, 0) ||
			    nc_buf_addstr(&b, "}\n");
		else
			rc = nc_buf_printf(&b, "%llu %s %s (state %.16s)\n",
			    (unsigned long long)e, author, (const char *)d.p, hh);
		rc = rc ? NC_EOSERR : emit(&b);
		nc_group_free(&prev);
		prev = at;
		memset(&at, 0, sizeof at);
		have_prev = 1;
	}
out:
	nc_buf_free(&b);
	nc_buf_free(&c);
	nc_buf_free(&d);
	nc_group_free(&g);
	nc_group_free(&prev);
	nc_group_free(&at);
	if (s && nc_state_close(s) != 0 && rc == 0)
		rc = NC_EIO;
	if (rc != 0)
		nc_cli_error(rc);
	return rc;
}

/* ---- messages ---- */

/* This device's view of the group's transcript: the newest message seen
 * under each of up to NC_GM_SEEN_MAX keys of the epoch. */
static int
seen_view(nc_state *s, const nc_group_state *g, nc_gm_inner *in)
{
	sqlite3_stmt *st;
	int rc;

	in->nseen = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT x.kid, x.idx, x.h FROM grp_seen x"
	    " JOIN grp_key k ON k.grp = x.grp AND k.kid = x.kid WHERE x.grp = ?1"
	    " AND k.epoch = ?2 AND x.idx = (SELECT max(idx) FROM grp_seen y WHERE"
	    " y.grp = x.grp AND y.kid = x.kid) ORDER BY k.rowid DESC LIMIT 64")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, g->id, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)g->epoch);
	while (in->nseen < NC_GM_SEEN_MAX && sqlite3_step(st) == SQLITE_ROW) {
		nc_gm_seen *e = &in->seen[in->nseen];

		if (sqlite3_column_bytes(st, 0) != NC_SKEY_ID ||
		    sqlite3_column_bytes(st, 2) != 32)
			continue;
		memcpy(e->key, sqlite3_column_blob(st, 0), NC_SKEY_ID);
		e->index = (uint32_t)sqlite3_column_int64(st, 1);
		memcpy(e->hash, sqlite3_column_blob(st, 2), 32);
		in->nseen++;
	}
	sqlite3_finalize(st);
	return 0;
}

/* The sender's own copy, for its history: a message out whose peer is
 * us, and whose "sent" event (state.c's trigger) names the group as a
 * received one's event does. Queued until every member's copy is taken
 * (accepted_sent). */
static int
record_sent(nc_state *s, const nc_self *self, const nc_group_state *g,
    const char *op, const uint8_t *text, size_t len, int files)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char gid[2 * NC_GROUP_ID + 1];
	int rc;

	nc_hex_encode(gid, g->id, NC_GROUP_ID);
	if ((rc = nc_state_seal_msg(s, 1, self->addr, op, text, len, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT INTO message(id, dir, peer, dev,"
	    " time, body, status, files) VALUES (?, 1, ?, '', ?, ?, 'queued', ?)"))
	    != 0)
		goto done;
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, self->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 4, ct.p, (int)ct.len, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, files != 0);
	if ((rc = nc_state_done(s, st)) != 0 ||
	    (rc = nc_state_prep(s, &st, "UPDATE event SET reason = ? WHERE"
	    " type = 'sent' AND msg = ?")) != 0)
		goto done;
	sqlite3_bind_text(st, 1, gid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, sqlite3_last_insert_rowid(s->db));
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}

/* Group messages of ours (op, or any when NULL) that no member waits for
 * any more: accepted. (Rows out to our own address, found by the unique
 * index's (dir, peer); a 1:1 message to ourselves is the outbox's to
 * settle, and has an outbox row while it is queued.) */
static void
accepted_sent(nc_state *s, const nc_self *self, const char *op)
{
	sqlite3_stmt *st;

	if (nc_state_prep(s, &st, "UPDATE message SET status = 'accepted' WHERE"
	    " dir = 1 AND peer = ?1 AND dev = '' AND status = 'queued' AND"
	    " (?2 IS NULL OR id = ?2) AND NOT EXISTS (SELECT 1 FROM outbox WHERE"
	    " outbox.id = message.id) AND NOT EXISTS (SELECT 1 FROM grp_out"
	    " WHERE op = message.id) AND NOT EXISTS (SELECT 1 FROM outenv WHERE"
	    " outenv.id = message.id)") != 0)
		return;
	sqlite3_bind_text(st, 1, self->addr, -1, SQLITE_STATIC);
	if (op)
		sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
	/* Lazy: lost to a power failure, the message shows queued until
	 * the next flush finds nothing left to send for it. */
	if (nc_state_begin(s) != 0) {
		sqlite3_finalize(st);
		return;
	}
	if (nc_state_done(s, st) != 0) {
		nc_state_rollback(s);
		return;
	}
	nc_state_lazy(s);
	(void)!nc_state_commit(s);
}

/* Seal text (inner version: files 2, commit 3, else 1) under our key for
 * g's epoch and queue it, and the key to whoever lacks it, for every
 * member of g: inside the caller's transaction. */
static int
seal_queue(nc_state *s, nc_self *self, const nc_group_state *g,
    const char *op, const uint8_t *text, size_t len, int files, int commit)
{
	nc_skey k;
	nc_gm m;
	nc_gm_inner *in = NULL;
	nc_buf inner = NC_SECBUF_INIT, blob = NC_BUF_INIT, body = NC_BUF_INIT;
	nc_buf kbody = NC_BUF_INIT;
	uint8_t dist[NC_SKEY_DIST_LEN];
	int64_t created = 0;
	uint32_t i;
	int rc;

	memset(&k, 0, sizeof k);
	rc = nc_gdb_own_key(s, g, &k, &created);
	if (rc == NC_ENOUSER || (rc == 0 && (k.index >= NC_GROUP_ROTATE_MSGS ||
	    created + NC_GROUP_ROTATE_SECS < (int64_t)time(NULL)))) {
		nc_skey_new(&k, g);
		rc = nc_gdb_key_put(s, &k, self->addr, self->dev->id, 1);
	}
	if (rc != 0)
		goto out;
	nc_skey_dist(dist, &k);
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_SKEY;
	m.dist = dist;
	if ((rc = nc_gm_encode(&kbody, &m)) != 0)
		goto out;
	if ((in = calloc(1, sizeof *in)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	if ((rc = nc_hex_decode(in->id, 16, op, 32)) != 0 ||
	    (rc = seen_view(s, g, in)) != 0)
		goto out;
	in->time = (uint64_t)time(NULL);
	in->text = text;
	in->textlen = len;
	in->files = files;
	in->commit = commit;
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_MSG;
	m.epoch = g->epoch;
	if ((rc = nc_gm_inner_encode(&inner, in)) != 0 ||
	    (rc = nc_group_hash(m.state, g)) != 0 ||
	    (rc = nc_group_seal_at(&blob, &m.ref, &k, g, m.state, inner.p,
	    inner.len)) != 0 ||
	    (rc = nc_gdb_key_update(s, &k)) != 0 ||
	    (rc = nc_gdb_seen_put(s, g->id, k.id, m.ref.index, m.ref.hash)) != 0)
		goto out;
	m.blob = blob.p;
	m.bloblen = blob.len;
	if ((rc = nc_gm_encode(&body, &m)) != 0)
		goto out;
	for (i = 0; i < g->n && rc == 0; i++) {
		const char *u = g->m[i].addr;

		if (strcmp(u, self->addr) == 0 && self->list.n < 2)
			continue;
		if (!nc_gdb_sent(s, k.id, u) && ((rc = nc_gdb_out_add(s, op, 0, u,
		    kbody.p, kbody.len)) != 0 || (rc = nc_gdb_sent_mark(s, k.id,
		    u)) != 0))
			break;
		rc = nc_gdb_out_add(s, op, 1, u, body.p, body.len);
	}
out:
	sodium_memzero(&k, sizeof k);
	sodium_memzero(dist, sizeof dist);
	free(in);
	nc_buf_free(&inner);
	nc_buf_free(&blob);
	nc_buf_free(&body);
	nc_buf_free(&kbody);
	return rc;
}

/* A message: sealed and queued, and our copy kept, in one transaction,
 * synced (the key's index moved). */
static int
queue_message(nc_state *s, nc_self *self, const nc_group_state *g,
    const char *op, const uint8_t *text, size_t len, int files)
{
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = seal_queue(s, self, g, op, text, len, files, 0)) != 0 ||
	    (rc = record_sent(s, self, g, op, text, len, files)) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	nc_state_durable(s);
	return nc_state_commit(s);
}

int
nc_group_send(int json, const char *group, const uint8_t *body, size_t len,
    int files)
{
	nc_state *s;
	nc_self self;
	nc_group_state g;
	uint8_t id[NC_GROUP_ID];
	char op[33], gid[2 * NC_GROUP_ID + 1];
	int rc, member = 0;

	memset(&g, 0, sizeof g);
	if ((rc = open_home(&s, &self)) != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	if ((rc = nc_gdb_find(s, group, id)) != 0 ||
	    (rc = nc_gdb_load(s, id, &g, &member, NULL)) != 0)
		goto out;
	nc_hex_encode(gid, id, sizeof id);
	if (!member || !nc_group_find(&g, self.addr)) {
		rc = nc_fail(NC_EPERM, "%s: you are not a member of this group (any "
		    "more): nothing sent", g.name);
		goto out;
	}
	new_op(op);
	if ((rc = queue_message(s, &self, &g, op, body, len, files)) != 0)
		goto out;
	if ((rc = deliver(s, &self, op)) == 0)
		accepted_sent(s, &self, op);
	if (json)
		printf("{\"group\":\"%s\",\"id\":\"%s\",\"state\":\"%s\",\"exit\":%d}\n",
		    gid, op, rc == 0 ? "accepted" : "queued", rc);
	else if (nc_verbose >= 0)
		printf("%s\n", op);
out:
	nc_group_free(&g);
	rc = finish(s, &self, rc);
	return -rc;
}
