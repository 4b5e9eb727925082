/* groupdb.c - group state in state.db (groupdb.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "groupdb.h"
#include "hex.h"
#include "wire.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS grp(id BLOB PRIMARY KEY,"
	"  epoch INTEGER NOT NULL, state BLOB NOT NULL, hash BLOB NOT NULL,"
	"  member INTEGER NOT NULL, since INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS grp_log(grp BLOB NOT NULL,"
	"  epoch INTEGER NOT NULL, v BLOB NOT NULL, at INTEGER NOT NULL,"
	"  PRIMARY KEY(grp, epoch));"
	"CREATE TABLE IF NOT EXISTS grp_key(grp BLOB NOT NULL, kid BLOB NOT NULL,"
	"  user TEXT NOT NULL, dev BLOB NOT NULL, epoch INTEGER NOT NULL,"
	"  own INTEGER NOT NULL, v BLOB NOT NULL, created INTEGER NOT NULL,"
	"  PRIMARY KEY(grp, kid));"
	"CREATE TABLE IF NOT EXISTS grp_skip(grp BLOB NOT NULL, kid BLOB NOT NULL,"
	"  idx INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY(grp, kid, idx));"
	"CREATE TABLE IF NOT EXISTS grp_seen(grp BLOB NOT NULL, kid BLOB NOT NULL,"
	"  idx INTEGER NOT NULL, h BLOB NOT NULL, PRIMARY KEY(grp, kid, idx));"
	"CREATE TABLE IF NOT EXISTS grp_sent(kid BLOB NOT NULL, user TEXT NOT NULL,"
	"  PRIMARY KEY(kid, user));"
	"CREATE TABLE IF NOT EXISTS grp_out(seq INTEGER PRIMARY KEY, op TEXT NOT NULL,"
	"  part INTEGER NOT NULL, user TEXT NOT NULL, v BLOB NOT NULL,"
	"  UNIQUE(op, part, user));"
	"CREATE TABLE IF NOT EXISTS grp_pending(seq INTEGER PRIMARY KEY,"
	"  tag BLOB NOT NULL UNIQUE, user TEXT NOT NULL, dev BLOB NOT NULL,"
	"  v BLOB NOT NULL, at INTEGER NOT NULL);";

int
nc_gdb_init(nc_state *s)
{
	static _Thread_local const nc_state *done;

	if (done == s)
		return 0;
	if (nc_state_exec(s, schema) != 0)
		return nc_fail(NC_EIO, "state: group tables: %s", nc_errmsg());
	done = s;
	return 0;
}

static void
row_id(char *out, size_t max, const uint8_t id[NC_GROUP_ID], const char *more)
{
	char h[2 * NC_GROUP_ID + 1];

	nc_hex_encode(h, id, NC_GROUP_ID);
	snprintf(out, max, "%s%s%s", h, more ? "/" : "", more ? more : "");
}

int
nc_gdb_commit_state(nc_group_state *g, const uint8_t *commit, size_t n)
{
	const uint8_t *st;
	size_t len;
	nc_dec d;

	nc_dec_init(&d, commit, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "commit version");
	st = nc_get_bytes(&d, n, &len);
	if (d.err || st == NULL)
		return nc_fail(NC_EDATA, "group commit: malformed");
	return nc_group_decode(g, st, len);
}

int
nc_gdb_load(nc_state *s, const uint8_t id[NC_GROUP_ID], nc_group_state *g,
    int *member, int64_t *since)
{
	sqlite3_stmt *st;
	nc_buf b = NC_BUF_INIT;
	char row[64];
	int rc;

	memset(g, 0, sizeof *g);
	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "SELECT state, member, since FROM grp WHERE id = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, id, NC_GROUP_ID, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return NC_ENOUSER;
	}
	row_id(row, sizeof row, id, NULL);
	if (member)
		*member = sqlite3_column_int(st, 1);
	if (since)
		*since = sqlite3_column_int64(st, 2);
	rc = nc_state_unseal(s, "grp", row, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), &b);
	sqlite3_finalize(st);
	if (rc == 0 && (rc = nc_group_decode(g, b.p, b.len)) != 0)
		rc = nc_fail(NC_ESOFTWARE, "state: a stored group does not decode");
	if (rc == 0 && memcmp(g->id, id, NC_GROUP_ID) != 0)
		rc = nc_fail(NC_ESECURITY, "state: a group stored under another id");
	nc_buf_free(&b);
	return rc;
}

int
nc_gdb_save(nc_state *s, const nc_group_state *g, int member,
    const uint8_t *commit, size_t n)
{
	sqlite3_stmt *st;
	nc_buf b = NC_BUF_INIT, ct = NC_BUF_INIT, lc = NC_BUF_INIT;
	uint8_t h[NC_GROUP_HASH];
	char row[64], ep[24];
	int rc;

	snprintf(ep, sizeof ep, "%llu", (unsigned long long)g->epoch);
	row_id(row, sizeof row, g->id, NULL);
	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_group_encode(g, &b)) != 0 ||
	    (rc = nc_group_hash(h, g)) != 0 ||
	    (rc = nc_state_seal(s, "grp", row, b.p, b.len, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT OR REPLACE INTO grp(id, epoch,"
	    " state, hash, member, since) VALUES (?, ?, ?, ?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_blob(st, 1, g->id, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)g->epoch);
	sqlite3_bind_blob(st, 3, ct.p, (int)ct.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, h, sizeof h, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, member);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	if ((rc = nc_state_done(s, st)) != 0)
		goto done;
	row_id(row, sizeof row, g->id, ep);
	if ((rc = nc_state_seal(s, "grp_log", row, commit, n, &lc)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT OR REPLACE INTO grp_log(grp,"
	    " epoch, v, at) VALUES (?, ?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_blob(st, 1, g->id, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)g->epoch);
	sqlite3_bind_blob(st, 3, lc.p, (int)lc.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&b);
	nc_buf_free(&ct);
	nc_buf_free(&lc);
	return rc;
}

int
nc_gdb_commit(nc_state *s, const uint8_t id[NC_GROUP_ID], uint64_t epoch,
    nc_buf *out)
{
	sqlite3_stmt *st;
	char row[64], ep[24];
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "SELECT v FROM grp_log WHERE grp = ? AND epoch = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, id, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)epoch);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return NC_ENOUSER;
	}
	snprintf(ep, sizeof ep, "%llu", (unsigned long long)epoch);
	row_id(row, sizeof row, id, ep);
	nc_buf_reset(out);
	rc = nc_state_unseal(s, "grp_log", row, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), out);
	sqlite3_finalize(st);
	return rc;
}

struct each {
	int (*fn)(nc_state *, const nc_group_state *, int, void *);
	void *arg;
};

int
nc_gdb_each(nc_state *s, int (*fn)(nc_state *, const nc_group_state *, int,
    void *), void *arg)
{
	sqlite3_stmt *st;
	uint8_t (*ids)[NC_GROUP_ID] = NULL;
	nc_group_state g;
	size_t n = 0, i;
	int rc, member;

	if ((rc = nc_gdb_init(s)) != 0 ||
	    (rc = nc_state_prep(s, &st, "SELECT id FROM grp ORDER BY rowid")) != 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		void *p = realloc(ids, (n + 1) * sizeof *ids);

		if (p == NULL) {
			sqlite3_finalize(st);
			free(ids);
			return nc_fail(NC_EOSERR, "out of memory");
		}
		ids = p;
		memcpy(ids[n++], sqlite3_column_blob(st, 0), NC_GROUP_ID);
	}
	sqlite3_finalize(st);
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		if ((rc = nc_gdb_load(s, ids[i], &g, &member, NULL)) != 0)
			break;
		rc = fn(s, &g, member, arg);
		nc_group_free(&g);
	}
	free(ids);
	return rc;
}

struct finding {
	const char *arg;
	size_t n;
	uint8_t id[NC_GROUP_ID];
	int found;
	int byname;
};

static int
match(nc_state *s, const nc_group_state *g, int member, void *arg)
{
	struct finding *f = arg;
	char h[2 * NC_GROUP_ID + 1];

	(void)s;
	(void)member;
	nc_hex_encode(h, g->id, NC_GROUP_ID);
	if (strncmp(h, f->arg, f->n) == 0 && f->n <= 32) {
		memcpy(f->id, g->id, NC_GROUP_ID);
		f->found++;
	} else if (strcmp(g->name, f->arg) == 0) {
		memcpy(f->id, g->id, NC_GROUP_ID);
		f->byname++;
	}
	return 0;
}

int
nc_gdb_find(nc_state *s, const char *arg, uint8_t id[NC_GROUP_ID])
{
	struct finding f;
	int rc;

	memset(&f, 0, sizeof f);
	f.arg = arg;
	f.n = strlen(arg);
	if (f.n == 0 || strspn(arg, "0123456789abcdef") != f.n)
		f.n = 99;   /* a name */
	if ((rc = nc_gdb_each(s, match, &f)) != 0)
		return rc;
	if (f.found + f.byname == 1) {
		memcpy(id, f.id, NC_GROUP_ID);
		return 0;
	}
	if (f.found + f.byname == 0)
		return nc_fail(NC_EUSAGE, "%s: no such group (nc-group list shows "
		    "the groups of this device)", arg);
	return nc_fail(NC_EUSAGE, "%s: names more than one group (give more of "
	    "its id: nc-group list)", arg);
}

/* A key as stored: its distribution message and its signing secret. */
#define KEY_ENC (NC_SKEY_DIST_LEN + 64)

static void
key_row(char *out, size_t max, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID])
{
	char k[2 * NC_SKEY_ID + 1];

	nc_hex_encode(k, kid, NC_SKEY_ID);
	row_id(out, max, grp, k);
}

static int
key_write(nc_state *s, const nc_skey *k, const char *user,
    const uint8_t dev[16], int own, int update)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	uint8_t enc[KEY_ENC];
	char row[80];
	int rc;

	nc_skey_dist(enc, k);
	memcpy(enc + NC_SKEY_DIST_LEN, k->sign_sk, 64);
	key_row(row, sizeof row, k->group, k->id);
	rc = nc_state_seal(s, "grp_key", row, enc, sizeof enc, &ct);
	sodium_memzero(enc, sizeof enc);
	if (rc != 0 || (rc = nc_gdb_init(s)) != 0)
		goto done;
	if (update)
		rc = nc_state_prep(s, &st, "UPDATE grp_key SET v = ?3 WHERE"
		    " grp = ?1 AND kid = ?2");
	else
		rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO grp_key(grp, kid,"
		    " v, user, dev, epoch, own, created) VALUES (?, ?, ?, ?, ?, ?,"
		    " ?, ?)");
	if (rc != 0)
		goto done;
	sqlite3_bind_blob(st, 1, k->group, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, k->id, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, ct.p, (int)ct.len, SQLITE_STATIC);
	if (!update) {
		sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, dev, 16, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)k->epoch);
		sqlite3_bind_int(st, 7, own);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
	}
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}

int
nc_gdb_key_put(nc_state *s, const nc_skey *k, const char *user,
    const uint8_t dev[16], int own)
{
	return key_write(s, k, user, dev, own, 0);
}

int
nc_gdb_key_update(nc_state *s, const nc_skey *k)
{
	return key_write(s, k, NULL, NULL, 0, 1);
}

static int
key_read(nc_state *s, sqlite3_stmt *st, nc_skey *k)
{
	nc_buf b = NC_SECBUF_INIT;
	uint8_t grp[NC_GROUP_ID], kid[NC_SKEY_ID];
	char row[80];
	int rc;

	memcpy(grp, sqlite3_column_blob(st, 0), NC_GROUP_ID);
	memcpy(kid, sqlite3_column_blob(st, 1), NC_SKEY_ID);
	key_row(row, sizeof row, grp, kid);
	if ((rc = nc_state_unseal(s, "grp_key", row, sqlite3_column_blob(st, 2),
	    (size_t)sqlite3_column_bytes(st, 2), &b)) != 0)
		goto done;
	if (b.len != KEY_ENC || nc_skey_from_dist(k, b.p, NC_SKEY_DIST_LEN) != 0) {
		rc = nc_fail(NC_ESOFTWARE, "state: a stored sender key does not decode");
		goto done;
	}
	memcpy(k->sign_sk, b.p + NC_SKEY_DIST_LEN, 64);
done:
	nc_buf_free(&b);
	return rc;
}

int
nc_gdb_key_get(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], nc_skey *k, char user[NC_ADDR_MAX + 1],
    uint8_t dev[16])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "SELECT grp, kid, v, user, dev FROM grp_key WHERE grp = ? AND"
	    " kid = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, kid, NC_SKEY_ID, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = NC_ENOUSER;
	else {
		rc = key_read(s, st, k);
		snprintf(user, NC_ADDR_MAX + 1, "%s", sqlite3_column_text(st, 3));
		if (sqlite3_column_bytes(st, 4) == 16)
			memcpy(dev, sqlite3_column_blob(st, 4), 16);
	}
	sqlite3_finalize(st);
	return rc;
}

int
nc_gdb_own_key(nc_state *s, const nc_group_state *g, nc_skey *k,
    int64_t *created)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "SELECT grp, kid, v, created FROM grp_key WHERE grp = ? AND"
	    " epoch = ? AND own = 1 ORDER BY rowid DESC LIMIT 1")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, g->id, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)g->epoch);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = NC_ENOUSER;
	else {
		rc = key_read(s, st, k);
		*created = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return rc;
}

int
nc_gdb_keys_each(nc_state *s, const uint8_t grp[NC_GROUP_ID], uint64_t epoch,
    int (*fn)(const nc_skey *, const char *, const uint8_t[16], void *),
    void *arg)
{
	sqlite3_stmt *st;
	nc_skey k;
	char user[NC_ADDR_MAX + 1];
	uint8_t dev[16];
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "SELECT grp, kid, v, user, dev FROM grp_key WHERE grp = ? AND"
	    " epoch = ? ORDER BY rowid")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)epoch);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 4) != 16)
			continue;
		if ((rc = key_read(s, st, &k)) != 0)
			break;
		snprintf(user, sizeof user, "%s", sqlite3_column_text(st, 3));
		memcpy(dev, sqlite3_column_blob(st, 4), 16);
		rc = fn(&k, user, dev, arg);
		sodium_memzero(&k, sizeof k);
	}
	sqlite3_finalize(st);
	return rc;
}

int
nc_gdb_skip_put(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, const uint8_t mk[32])
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char row[100];
	int rc;

	key_row(row, sizeof row, grp, kid);
	snprintf(row + strlen(row), sizeof row - strlen(row), "/%u", idx);
	if ((rc = nc_state_seal(s, "grp_skip", row, mk, 32, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO grp_skip(grp, kid,"
	    " idx, v) VALUES (?, ?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, idx);
	sqlite3_bind_blob(st, 4, ct.p, (int)ct.len, SQLITE_STATIC);
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}

int
nc_gdb_skip_take(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, uint8_t mk[32])
{
	sqlite3_stmt *st;
	nc_buf b = NC_SECBUF_INIT;
	char row[100];
	int rc;

	if ((rc = nc_state_prep(s, &st, "SELECT v FROM grp_skip WHERE grp = ? AND"
	    " kid = ? AND idx = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, idx);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return NC_ENOUSER;
	}
	key_row(row, sizeof row, grp, kid);
	snprintf(row + strlen(row), sizeof row - strlen(row), "/%u", idx);
	rc = nc_state_unseal(s, "grp_skip", row, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), &b);
	sqlite3_finalize(st);
	if (rc == 0 && b.len != 32)
		rc = nc_fail(NC_ESOFTWARE, "state: a skipped key is not 32 bytes");
	if (rc == 0)
		memcpy(mk, b.p, 32);
	nc_buf_free(&b);
	if (rc != 0 || (rc = nc_state_prep(s, &st, "DELETE FROM grp_skip WHERE"
	    " grp = ? AND kid = ? AND idx = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, idx);
	return nc_state_done(s, st);
}

int
nc_gdb_seen_put(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, const uint8_t h[32])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "INSERT OR IGNORE INTO grp_seen(grp, kid, idx, h) VALUES (?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, idx);
	sqlite3_bind_blob(st, 4, h, 32, SQLITE_STATIC);
	return nc_state_done(s, st);
}

int
nc_gdb_seen_get(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, uint8_t h[32])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_prep(s, &st,
	    "SELECT h FROM grp_seen WHERE grp = ? AND kid = ? AND idx = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, grp, NC_GROUP_ID, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, idx);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
		memcpy(h, sqlite3_column_blob(st, 0), 32);
	else
		rc = NC_ENOUSER;
	sqlite3_finalize(st);
	return rc;
}

int
nc_gdb_sent(nc_state *s, const uint8_t kid[NC_SKEY_ID], const char *user)
{
	sqlite3_stmt *st;
	int yes;

	if (nc_gdb_init(s) != 0 || nc_state_stmt(s, &st, "SELECT 1 FROM grp_sent"
	    " WHERE kid = ? AND user = ?") != 0)
		return 0;
	sqlite3_bind_blob(st, 1, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	nc_state_release(s, st);
	return yes;
}

int
nc_gdb_sent_mark(nc_state *s, const uint8_t kid[NC_SKEY_ID], const char *user)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_gdb_init(s)) != 0 || (rc = nc_state_stmt(s, &st,
	    "INSERT OR IGNORE INTO grp_sent(kid, user) VALUES (?, ?)")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, kid, NC_SKEY_ID, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	return nc_state_run_release(s, st);
}

int
nc_gdb_out_add(nc_state *s, const char *op, int part, const char *user,
    const uint8_t *body, size_t n)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	char row[NC_ADDR_MAX + 64];
	int rc;

	snprintf(row, sizeof row, "%s/%d/%s", op, part, user);
	if ((rc = nc_gdb_init(s)) != 0 ||
	    (rc = nc_state_seal(s, "grp_out", row, body, n, &ct)) != 0 ||
	    (rc = nc_state_stmt(s, &st, "INSERT OR IGNORE INTO grp_out(op, part,"
	    " user, v) VALUES (?, ?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, part);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, ct.p, (int)ct.len, SQLITE_STATIC);
	rc = nc_state_run_release(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}

int
nc_gdb_pending_add(nc_state *s, const char *user, const uint8_t dev[16],
    const uint8_t *body, size_t n)
{
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT;
	uint8_t tag[16];
	char row[40];
	int rc;

	randombytes_buf(tag, sizeof tag);
	nc_hex_encode(row, tag, sizeof tag);
	if ((rc = nc_gdb_init(s)) != 0 ||
	    (rc = nc_state_exec(s, "DELETE FROM grp_pending WHERE at < "
	    "strftime('%s','now') - 7 * 86400 OR seq <= (SELECT max(seq) - 999"
	    " FROM grp_pending)")) != 0 ||
	    (rc = nc_state_seal(s, "grp_pending", row, body, n, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT INTO grp_pending(tag, user, dev,"
	    " v, at) VALUES (?, ?, ?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_blob(st, 1, tag, sizeof tag, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, dev, 16, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, ct.p, (int)ct.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}
