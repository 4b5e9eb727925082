/* sqldb.c - sqlite connections of the sqlite store. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqldb.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *schema_sql =
	"CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, auth_pk BLOB,"
	" salt BLOB, ops INTEGER, mem INTEGER, created INTEGER,"
	" dl_version INTEGER NOT NULL DEFAULT 0, identity BLOB, dl BLOB);"
	"CREATE TABLE IF NOT EXISTS devices(user TEXT, dev BLOB, pk BLOB,"
	" listed INTEGER NOT NULL DEFAULT 0, spk_id INTEGER, spk_pk BLOB,"
	" spk_sig BLOB, mail_n INTEGER NOT NULL DEFAULT 0,"
	" mail_bytes INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(user, dev));"
	"CREATE TABLE IF NOT EXISTS invites(code TEXT PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS nonces(user TEXT, nonce BLOB, expires INTEGER,"
	" PRIMARY KEY(user, nonce));"
	"CREATE TABLE IF NOT EXISTS otpk(user TEXT, dev BLOB, id INTEGER, pk BLOB,"
	" PRIMARY KEY(user, dev, id));"
	"CREATE TABLE IF NOT EXISTS mail(cursor INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user TEXT, dev BLOB, envid BLOB, hash BLOB, received INTEGER, env BLOB,"
	" UNIQUE(user, dev, envid));"
	"CREATE INDEX IF NOT EXISTS mail_box ON mail(user, dev, cursor);"
	"CREATE TABLE IF NOT EXISTS blobs(id BLOB PRIMARY KEY, delhash BLOB,"
	" size INTEGER, expires INTEGER);"
	/* the password-wrapped identity key (protocol.md 1.2, 2.10) */
	"CREATE TABLE IF NOT EXISTS idbackup(user TEXT PRIMARY KEY, v BLOB NOT NULL);"
	/* the encrypted backup slot (protocol.md 1.9): one head per user and
	 * its records by content hash (keep: a mark while a head is put) */
	"CREATE TABLE IF NOT EXISTS backup(user TEXT PRIMARY KEY, counter INTEGER NOT NULL,"
	" access BLOB NOT NULL, keys BLOB NOT NULL, manifest BLOB NOT NULL);"
	/* (a rowid table: see migrate_backup_rec) */
	"CREATE TABLE IF NOT EXISTS backup_rec(user TEXT NOT NULL, hash BLOB NOT NULL,"
	" v BLOB NOT NULL, keep INTEGER NOT NULL DEFAULT 0, UNIQUE(user, hash));"
	/* the OPAQUE record and its Argon2id cost name (protocol.md 1.2); an
	 * account made before OPAQUE has users.auth_pk instead, until its
	 * next login migrates it */
	"CREATE TABLE IF NOT EXISTS opaque(user TEXT PRIMARY KEY, record BLOB NOT NULL,"
	" cost INTEGER NOT NULL);"
	/* the key log (store_kt.c): its leaves, the hashes of its perfect
	 * subtrees (level 0: the leaves'), the signed heads */
	"CREATE TABLE IF NOT EXISTS kt_leaves(idx INTEGER PRIMARY KEY, user TEXT,"
	" version INTEGER NOT NULL, label BLOB NOT NULL, commitment BLOB NOT NULL,"
	" opening BLOB, vrf BLOB, UNIQUE(user, version));"
	"CREATE TABLE IF NOT EXISTS kt_nodes(level INTEGER, idx INTEGER, hash BLOB NOT NULL,"
	" PRIMARY KEY(level, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS kt_heads(size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
	" time INTEGER NOT NULL, sig BLOB NOT NULL);"
	/* each device's counter (protocol.md 1.10): sessions that heal */
	"CREATE TABLE IF NOT EXISTS counters(user TEXT, dev BLOB, n INTEGER NOT NULL,"
	" tag BLOB NOT NULL, PRIMARY KEY(user, dev));"
	/* provisioning boxes for linking a device (protocol.md 1.11): one
	 * sealed message each, taken once; a used box is kept, empty, until
	 * it expires, so the message cannot be put there again */
	"CREATE TABLE IF NOT EXISTS links(box BLOB PRIMARY KEY, user TEXT NOT NULL,"
	" expires INTEGER NOT NULL, msg BLOB, used INTEGER NOT NULL DEFAULT 0);"
	/* each device's push endpoint (protocol.md 1.12) */
	"CREATE TABLE IF NOT EXISTS push(user TEXT, dev BLOB, url TEXT NOT NULL,"
	" PRIMARY KEY(user, dev)) WITHOUT ROWID;";
#define SCHEMA_VERSION 1

static const char *sql[Q_MAX] = {
	[Q_USER_GET] = "SELECT auth_pk, salt, ops, mem FROM users WHERE name = ?",
	/* old-scheme accounts only: a migrated one has no auth key */
	[Q_USER_OLDAUTH] = "SELECT auth_pk, salt, ops, mem FROM users WHERE name = ?"
	    " AND auth_pk IS NOT NULL",
	[Q_USER_OLDAUTH_DEL] = "UPDATE users SET auth_pk = NULL, salt = NULL,"
	    " ops = NULL, mem = NULL WHERE name = ?",
	[Q_OPQ_GET] = "SELECT record, cost FROM opaque WHERE user = ?",
	[Q_OPQ_SET] = "INSERT INTO opaque(user, record, cost) VALUES (?, ?, ?)"
	    " ON CONFLICT(user) DO UPDATE SET record = excluded.record,"
	    " cost = excluded.cost",
	[Q_OPQ_DELUSER] = "DELETE FROM opaque WHERE user = ?",
	/* the cost most accounts have: what a fake KE2 says */
	[Q_OPQ_COMMON] = "SELECT cost FROM opaque GROUP BY cost"
	    " ORDER BY count(*) DESC, cost DESC LIMIT 1",
	[Q_USER_INS] = "INSERT INTO users(name, auth_pk, salt, ops, mem, created)"
	    " VALUES (?, ?, ?, ?, ?, ?)",
	[Q_USER_DEL] = "DELETE FROM users WHERE name = ?",
	[Q_USER_DL] = "SELECT dl_version, identity, dl FROM users WHERE name = ?",
	[Q_USER_DL_SET] = "UPDATE users SET dl_version = ?, identity = ?, dl = ?"
	    " WHERE name = ?",
	[Q_INV_INS] = "INSERT INTO invites(code) VALUES (?)",
	[Q_INV_DEL] = "DELETE FROM invites WHERE code = ?",
	[Q_DEV_INS] = "INSERT INTO devices(user, dev, pk, listed) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT(user, dev) DO UPDATE SET listed = excluded.listed",
	/* listed: 0 added by password, never listed since; 1 listed; 2
	 * dropped from a list (added again by password: 0 again) */
	[Q_DEV_ADD] = "INSERT INTO devices(user, dev, pk) VALUES (?, ?, ?)"
	    " ON CONFLICT(user, dev) DO UPDATE SET listed = 0 WHERE listed = 2",
	[Q_DEV_GET] = "SELECT pk, listed FROM devices WHERE user = ? AND dev = ?",
	[Q_DEV_COUNT] = "SELECT count(*) FROM devices WHERE user = ?",
	[Q_DEV_DEL] = "DELETE FROM devices WHERE user = ?",
	[Q_DEV_UNLIST] = "UPDATE devices SET listed = 2 WHERE user = ? AND listed = 1",
	[Q_DEV_LIST] = "SELECT dev FROM devices WHERE user = ? AND (listed = 1 OR ?)"
	    " ORDER BY dev",
	[Q_DEV_SPK] = "UPDATE devices SET spk_id = ?, spk_pk = ?, spk_sig = ?"
	    " WHERE user = ? AND dev = ?",
	[Q_DEV_MAILQ] = "UPDATE devices SET mail_n = mail_n + ?,"
	    " mail_bytes = mail_bytes + ? WHERE user = ? AND dev = ?",
	[Q_DEV_CURRENT] = "SELECT d.listed, u.dl_version, d.mail_n, d.mail_bytes,"
	    " d.spk_id, d.spk_pk, d.spk_sig FROM users u LEFT JOIN devices d"
	    " ON d.user = u.name AND d.dev = ? WHERE u.name = ?",
	[Q_NON_INS] = "INSERT INTO nonces(user, nonce, expires) VALUES (?, ?, ?)",
	[Q_NON_DEL] = "DELETE FROM nonces WHERE user = ? AND nonce = ? RETURNING expires",
	[Q_NON_COUNT] = "SELECT count(*) FROM nonces WHERE user = ? AND expires >= ?",
	[Q_NON_DELUSER] = "DELETE FROM nonces WHERE user = ?",
	[Q_NON_SWEEP] = "DELETE FROM nonces WHERE expires < ?",
	[Q_OTPK_INS] = "INSERT OR IGNORE INTO otpk(user, dev, id, pk) VALUES (?, ?, ?, ?)",
	[Q_OTPK_COUNT] = "SELECT count(*) FROM otpk WHERE user = ? AND dev = ?",
	[Q_OTPK_TAKE] = "DELETE FROM otpk WHERE rowid = (SELECT rowid FROM otpk"
	    " WHERE user = ? AND dev = ? ORDER BY id LIMIT 1) RETURNING id, pk",
	[Q_OTPK_DELUSER] = "DELETE FROM otpk WHERE user = ?",
	[Q_OTPK_DELDEV] = "DELETE FROM otpk WHERE user = ? AND dev = ?",
	[Q_CTR_GET] = "SELECT n, tag FROM counters WHERE user = ? AND dev = ?",
	[Q_CTR_SET] = "INSERT INTO counters(user, dev, n, tag) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT(user, dev) DO UPDATE SET n = excluded.n, tag = excluded.tag",
	[Q_CTR_DELUSER] = "DELETE FROM counters WHERE user = ?",
	[Q_MAIL_HASH] = "SELECT hash FROM mail WHERE user = ? AND dev = ? AND envid = ?",
	[Q_MAIL_INS] = "INSERT INTO mail(user, dev, envid, hash, received, env)"
	    " VALUES (?, ?, ?, ?, ?, ?)",
	[Q_MAIL_LIST] = "SELECT cursor, envid, received, env FROM mail"
	    " WHERE user = ? AND dev = ? AND cursor > ? ORDER BY cursor LIMIT ?",
	[Q_MAIL_ACK] = "DELETE FROM mail WHERE user = ? AND dev = ? AND envid = ?"
	    " RETURNING length(env)",
	[Q_MAIL_DELUSER] = "DELETE FROM mail WHERE user = ?",
	[Q_BLOB_INS] = "INSERT INTO blobs(id, delhash, size, expires) VALUES (?, ?, ?, ?)",
	[Q_BLOB_GET] = "SELECT delhash, size, expires FROM blobs WHERE id = ?",
	[Q_BLOB_DEL] = "DELETE FROM blobs WHERE id = ?",
	[Q_BLOB_EXPIRED] = "DELETE FROM blobs WHERE expires < ? RETURNING id",
	[Q_IDB_PUT] = "INSERT INTO idbackup(user, v) VALUES (?, ?)"
	    " ON CONFLICT(user) DO UPDATE SET v = excluded.v",
	[Q_IDB_GET] = "SELECT v FROM idbackup WHERE user = ?",
	[Q_IDB_DELUSER] = "DELETE FROM idbackup WHERE user = ?",
	[Q_BK_GET] = "SELECT counter, access, keys, manifest FROM backup WHERE user = ?",
	[Q_BK_SET] = "INSERT INTO backup(user, counter, access, keys, manifest)"
	    " VALUES (?, ?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET"
	    " counter = excluded.counter, access = excluded.access,"
	    " keys = excluded.keys, manifest = excluded.manifest",
	[Q_BK_DELUSER] = "DELETE FROM backup WHERE user = ?",
	[Q_BKR_PUT] = "INSERT OR IGNORE INTO backup_rec(user, hash, v) VALUES (?, ?, ?)",
	[Q_BKR_GET] = "SELECT v FROM backup_rec WHERE user = ? AND hash = ?",
	[Q_BKR_USAGE] = "SELECT count(*), coalesce(sum(length(v)), 0) FROM backup_rec"
	    " WHERE user = ?",
	/* a head put (store_sqlite.c): the records its manifest lists, marked
	 * in the writer's temporary table, not in their rows (an UPDATE
	 * writes a row whole, record and all); backup_rec.keep is unused */
	[Q_BKR_HAS] = "SELECT 1 FROM backup_rec WHERE user = ? AND hash = ?",
	[Q_BKK_CLEAR] = "DELETE FROM temp.bk_keep",
	[Q_BKK_ADD] = "INSERT OR IGNORE INTO temp.bk_keep(hash) VALUES (?)",
	[Q_BKR_PRUNE] = "DELETE FROM backup_rec WHERE user = ? AND hash NOT IN"
	    " (SELECT hash FROM temp.bk_keep)",
	[Q_BKR_DELUSER] = "DELETE FROM backup_rec WHERE user = ?",
	/* a device dropped from the list (revoked): its mail and prekeys go */
	[Q_DEV_PURGE_MAIL] = "DELETE FROM mail WHERE user = ?1 AND dev IN"
	    " (SELECT dev FROM devices WHERE user = ?1 AND listed = 2)",
	[Q_DEV_PURGE_OTPK] = "DELETE FROM otpk WHERE user = ?1 AND dev IN"
	    " (SELECT dev FROM devices WHERE user = ?1 AND listed = 2)",
	[Q_DEV_PURGE] = "UPDATE devices SET spk_id = NULL, spk_pk = NULL,"
	    " spk_sig = NULL, mail_n = 0, mail_bytes = 0 WHERE user = ? AND listed = 2",
	[Q_LINK_COUNT] = "SELECT count(*) FROM links WHERE user = ? AND used = 0"
	    " AND expires >= ?",
	[Q_LINK_INS] = "INSERT INTO links(box, user, expires) VALUES (?, ?, ?)",
	[Q_LINK_GET] = "SELECT user, expires, msg, used FROM links WHERE box = ?",
	[Q_LINK_SET] = "UPDATE links SET msg = ? WHERE box = ?",
	[Q_LINK_USED] = "UPDATE links SET msg = NULL, used = 1 WHERE box = ?",
	[Q_LINK_DELUSER] = "DELETE FROM links WHERE user = ?",
	[Q_LINK_SWEEP] = "DELETE FROM links WHERE expires < ?",
	[Q_PUSH_SET] = "INSERT INTO push(user, dev, url) VALUES (?, ?, ?)"
	    " ON CONFLICT(user, dev) DO UPDATE SET url = excluded.url",
	[Q_PUSH_DEL] = "DELETE FROM push WHERE user = ? AND dev = ?",
	[Q_PUSH_DROP] = "DELETE FROM push WHERE user = ? AND dev = ? AND url = ?",
	[Q_PUSH_GET] = "SELECT url FROM push WHERE user = ? AND dev = ?",
	[Q_PUSH_DELUSER] = "DELETE FROM push WHERE user = ?",
	[Q_DEV_PURGE_PUSH] = "DELETE FROM push WHERE user = ?1 AND dev IN"
	    " (SELECT dev FROM devices WHERE user = ?1 AND listed = 2)",
	[Q_KT_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM kt_leaves",
	[Q_KT_LEAF_INS] = "INSERT INTO kt_leaves(idx, user, version, label, commitment,"
	    " opening, vrf) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[Q_KT_LEAF_FIND] = "SELECT idx, opening, vrf FROM kt_leaves"
	    " WHERE user = ? AND version = ?",
	[Q_KT_LEAVES] = "SELECT label, commitment FROM kt_leaves"
	    " WHERE idx >= ? AND idx < ? ORDER BY idx",
	/* an account deleted: its leaves stay (the log is append-only), but
	 * nothing ties them to the name any more, and the openings are gone */
	[Q_KT_FORGET] = "UPDATE kt_leaves SET user = NULL, opening = NULL, vrf = NULL"
	    " WHERE user = ?",
	[Q_KT_NODE_INS] = "INSERT INTO kt_nodes(level, idx, hash) VALUES (?, ?, ?)",
	[Q_KT_NODE_GET] = "SELECT hash FROM kt_nodes WHERE level = ? AND idx = ?",
	[Q_KT_HEAD_INS] = "INSERT INTO kt_heads(size, root, time, sig) VALUES (?, ?, ?, ?)",
	[Q_KT_HEAD_LAST] = "SELECT size, root, time, sig FROM kt_heads"
	    " ORDER BY size DESC LIMIT 1",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVE] = "SAVEPOINT job",
	[Q_RELEASE] = "RELEASE job",
	[Q_ROLLBACK_TO] = "ROLLBACK TO job",
};

/* backup_rec was a WITHOUT ROWID table keyed by (user, hash), the records
 * (~14 KB each) inside the key's b-tree: every lookup by key compared
 * whole rows read from their overflow pages, 1,500 of them 150 ms at each
 * incremental backup's head. Now the key is an index and the records stay
 * in the rows; an older database is copied over once, in one
 * transaction. */
static int
migrate_backup_rec(struct sqldb *c)
{
	sqlite3_stmt *st;
	int old = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT sql LIKE '%WITHOUT ROWID%' FROM"
	    " sqlite_master WHERE type = 'table' AND name = 'backup_rec'", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		old = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!old)
		return 0;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE;"
	    "CREATE TABLE backup_rec_new(user TEXT NOT NULL, hash BLOB NOT NULL,"
	    " v BLOB NOT NULL, keep INTEGER NOT NULL DEFAULT 0, UNIQUE(user, hash));"
	    "INSERT INTO backup_rec_new(user, hash, v) SELECT user, hash, v FROM backup_rec;"
	    "DROP TABLE backup_rec;"
	    "ALTER TABLE backup_rec_new RENAME TO backup_rec;"
	    "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return -1;   /* no ROLLBACK here: sqldb_open prints this error,
		              * then closing the connection rolls it back */
	return 0;
}

/* Opening writes nothing to a database that is current: a relay whose
 * disk is full must still start, serve reads and answer 503 to writes until
 * space returns (issue 13). CREATE ... IF NOT EXISTS of a table that exists
 * writes nothing; user_version is written only when it differs. */
static int
schema(struct sqldb *c)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_exec(c->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    migrate_backup_rec(c) != 0 ||
	    sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v == SCHEMA_VERSION)
		return 0;
	return v >= 0 && sqlite3_exec(c->db, "PRAGMA user_version = "
	    STR(SCHEMA_VERSION), NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

struct sqldb *
sqldb_open(const char *path, int writer)
{
	struct sqldb *c = calloc(1, sizeof *c);
	int fl = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    (writer ? SQLITE_OPEN_CREATE : 0), persist = 1;

	if (c == NULL)
		return NULL;
	if (sqlite3_open_v2(path, &c->db, fl, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(c->db, 5000);
	/* FULL: a commit is on disk (WAL fsync'd) before it returns.
	 * journal_size_limit: when the log starts over (store_sqlite.c's
	 * RESTART checkpoints), a file grown longer is cut back to 16 MB. */
	if (sqlite3_exec(c->db, "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA journal_size_limit = 16777216;", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	/* The log and its index outlive the last connection (the log cut to
	 * 0 bytes, the index kept): a relay restarted on a full disk could not
	 * create the index again. */
	if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist) != SQLITE_OK)
		goto fail;
	if (writer && schema(c) != 0)
		goto fail;
	return c;
fail:
	fprintf(stderr, "nc-relayd: %s: %s\n", path,
	    c->db ? sqlite3_errmsg(c->db) : "cannot open");
	sqldb_close(c);
	return NULL;
}

void
sqldb_close(struct sqldb *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static sqlite3_stmt *
vq(struct sqldb *c, int id, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = c->st[id];
	int rc = SQLITE_OK, i = 1;

	if (st == NULL) {
		if (sqlite3_prepare_v3(c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		    &c->st[id], NULL) != SQLITE_OK) {
			fprintf(stderr, "nc-relayd: sql: %s\n", sqlite3_errmsg(c->db));
			return NULL;
		}
		st = c->st[id];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (; *fmt && rc == SQLITE_OK; fmt++, i++) {
		if (*fmt == 't') {
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1,
			    SQLITE_STATIC);
		} else if (*fmt == 'b') {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
		} else {
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		}
	}
	return rc == SQLITE_OK ? st : NULL;
}

sqlite3_stmt *
sqldb_q(struct sqldb *c, int id, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *st;

	va_start(ap, fmt);
	st = vq(c, id, fmt, ap);
	va_end(ap);
	return st;
}

int
sqldb_step(sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return SQLITE_ERROR;
	rc = sqlite3_step(st);
	/* A full disk is said once, by the health line (store_sqlite.c), not
	 * for each write it refuses. */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_FULL)
		fprintf(stderr, "nc-relayd: sql: %s\n",
		    sqlite3_errmsg(sqlite3_db_handle(st)));
	return rc;
}

int
sqldb_exec(struct sqldb *c, int id, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *st;
	int rc;

	va_start(ap, fmt);
	st = vq(c, id, fmt, ap);
	va_end(ap);
	while ((rc = sqldb_step(st)) == SQLITE_ROW)
		;
	if (st)
		sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
sqldb_blob(sqlite3_stmt *st, int col, void *out, size_t n)
{
	const void *p = sqlite3_column_blob(st, col);

	if (p == NULL || (size_t)sqlite3_column_bytes(st, col) != n)
		return -1;
	memcpy(out, p, n);
	return 0;
}

int
sqldb_changes(struct sqldb *c)
{
	return sqlite3_changes(c->db);
}
