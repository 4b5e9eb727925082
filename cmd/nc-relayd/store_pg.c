/* store_pg.c - the PostgreSQL storage backend: any number of relay
 * processes on one database. Every write is one transaction on a pooled
 * connection (synchronous_commit as the server has it: on, for a relay),
 * so a call returns only after its commit; PostgreSQL shares WAL flushes
 * between concurrent commits by itself, and the deliveries waiting in one
 * process are committed together (group commit, below). What the sqlite
 * backend gets from its single writer thread, this one gets from row
 * locks held to the commit:
 *   - every write about a user first locks the user's row (FOR NO KEY
 *     UPDATE): deliveries, acks, device lists and quotas of one user are
 *     serialized across processes, and a mailbox's cursors (one sequence,
 *     drawn under that lock) commit in their order, so a listing after a
 *     cursor never skips a row committed later;
 *   - one-time prekeys are claimed with FOR UPDATE SKIP LOCKED, without
 *     the user's lock: concurrent claims never get the same key;
 *   - the key log's appends and heads take one advisory lock.
 * A delivery's commit is followed by a NOTIFY on nc_mail (its own
 * transaction, below); each process keeps one connection LISTENing and wakes its long-polls for mail that another
 * process stored. Rate limits and the replay memory are UNLOGGED tables.
 * Blob files stay in DIR/blobs (blobfs.c), their rows here. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "blobfs.h"
#include "hex.h"
#include "merkle.h"
#include "store_ops.h"

#define NOTIFY_CHANNEL "nc_mail"
#define LOCK_MIGRATE 0x6e636d6967LL   /* advisory lock ids */
#define LOCK_KT      0x6e636b74LL
#define TRIES 8                       /* of a transaction that deadlocked */

enum {
	Q_USER_LOCK, Q_USER_INS, Q_USER_DEL, Q_USER_DL, Q_USER_DL_SET,
	Q_USER_OLDAUTH, Q_USER_OLDAUTH_DEL, Q_OPQ_GET, Q_OPQ_SET, Q_OPQ_DELUSER, Q_OPQ_COMMON,
	Q_INV_INS, Q_INV_DEL,
	Q_DEV_INS, Q_DEV_ADD, Q_DEV_GET, Q_DEV_COUNT, Q_DEV_DEL, Q_DEV_UNLIST, Q_DEV_LIST,
	Q_DEV_SPK, Q_DEV_MAILQ, Q_DEV_CURRENT,
	Q_NON_INS, Q_NON_DEL, Q_NON_COUNT, Q_NON_DELUSER, Q_NON_SWEEP,
	Q_OTPK_INS, Q_OTPK_COUNT, Q_OTPK_TAKE, Q_OTPK_DELUSER,
	Q_USER_LOCKALL, Q_DELIVER, Q_DELIVER_SET, Q_MAIL_LIST, Q_MAIL_ACK, Q_MAIL_DELUSER, Q_NOTIFY,
	Q_NOTIFY_ALL,
	Q_BLOB_INS, Q_BLOB_GET, Q_BLOB_LOCK, Q_BLOB_DEL, Q_BLOB_EXPIRED,
	Q_IDB_PUT, Q_IDB_GET, Q_IDB_DELUSER,
	Q_KT_LOCK, Q_KT_SIZE, Q_KT_LEAF_INS, Q_KT_LEAF_FIND, Q_KT_LEAVES, Q_KT_FORGET,
	Q_KT_NODE_INS, Q_KT_NODE_GET, Q_KT_HEAD_INS, Q_KT_HEAD_LAST, Q_KT_UNLOGGED,
	Q_RATE, Q_RATE_SWEEP, Q_REPLAY, Q_REPLAY_SWEEP,
	Q_OTPK_DELDEV, Q_CTR_GET, Q_CTR_SET, Q_CTR_DELUSER,
	Q_BK_GET, Q_BK_SET, Q_BK_DELUSER, Q_BKR_PUT, Q_BKR_GET, Q_BKR_USAGE,
	Q_BKR_UNMARK, Q_BKR_MARK, Q_BKR_PRUNE, Q_BKR_DELUSER,
	Q_DEV_PURGE_MAIL, Q_DEV_PURGE_OTPK, Q_DEV_PURGE,
	Q_LINK_COUNT, Q_LINK_INS, Q_LINK_GET, Q_LINK_SET, Q_LINK_USED, Q_LINK_DELUSER,
	Q_LINK_SWEEP,
	Q_PUSH_SET, Q_PUSH_DEL, Q_PUSH_DROP, Q_PUSH_GET, Q_PUSH_DELUSER, Q_DEV_PURGE_PUSH,
	Q_MAX
};

static const char *const sql[Q_MAX] = {
	[Q_USER_LOCK] = "SELECT dl_version FROM users WHERE name = $1 FOR NO KEY UPDATE",
	[Q_USER_OLDAUTH] = "SELECT auth_pk, salt, ops, mem FROM users WHERE name = $1"
	    " AND auth_pk IS NOT NULL",
	[Q_USER_OLDAUTH_DEL] = "UPDATE users SET auth_pk = NULL, salt = NULL,"
	    " ops = NULL, mem = NULL WHERE name = $1",
	[Q_OPQ_GET] = "SELECT record, cost FROM opaque WHERE usr = $1",
	[Q_OPQ_SET] = "INSERT INTO opaque(usr, record, cost) VALUES ($1, $2, $3)"
	    " ON CONFLICT(usr) DO UPDATE SET record = excluded.record,"
	    " cost = excluded.cost",
	[Q_OPQ_DELUSER] = "DELETE FROM opaque WHERE usr = $1",
	[Q_OPQ_COMMON] = "SELECT cost FROM opaque GROUP BY cost"
	    " ORDER BY count(*) DESC, cost DESC LIMIT 1",
	[Q_USER_INS] = "INSERT INTO users(name, auth_pk, salt, ops, mem, created)"
	    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(name) DO NOTHING",
	[Q_USER_DEL] = "DELETE FROM users WHERE name = $1",
	[Q_USER_DL] = "SELECT dl_version, identity, dl FROM users WHERE name = $1",
	[Q_USER_DL_SET] = "UPDATE users SET dl_version = $1, identity = $2, dl = $3"
	    " WHERE name = $4",
	[Q_INV_INS] = "INSERT INTO invites(code) VALUES ($1)",
	[Q_INV_DEL] = "DELETE FROM invites WHERE code = $1 RETURNING code",
	[Q_DEV_INS] = "INSERT INTO devices(usr, dev, pk, listed) VALUES ($1, $2, $3, $4)"
	    " ON CONFLICT(usr, dev) DO UPDATE SET listed = excluded.listed",
	[Q_DEV_ADD] = "INSERT INTO devices(usr, dev, pk) VALUES ($1, $2, $3)"
	    " ON CONFLICT(usr, dev) DO UPDATE SET listed = 0 WHERE devices.listed = 2",
	[Q_DEV_GET] = "SELECT pk, listed FROM devices WHERE usr = $1 AND dev = $2",
	[Q_DEV_COUNT] = "SELECT count(*) FROM devices WHERE usr = $1",
	[Q_DEV_DEL] = "DELETE FROM devices WHERE usr = $1",
	[Q_DEV_UNLIST] = "UPDATE devices SET listed = 2 WHERE usr = $1 AND listed = 1",
	[Q_DEV_LIST] = "SELECT dev FROM devices WHERE usr = $1 AND (listed = 1 OR $2 <> 0)"
	    " ORDER BY dev",
	[Q_DEV_SPK] = "UPDATE devices SET spk_id = $1, spk_pk = $2, spk_sig = $3"
	    " WHERE usr = $4 AND dev = $5",
	[Q_DEV_MAILQ] = "UPDATE devices SET mail_n = mail_n + $1,"
	    " mail_bytes = mail_bytes + $2 WHERE usr = $3 AND dev = $4",
	[Q_DEV_CURRENT] = "SELECT d.listed, u.dl_version, d.mail_n, d.mail_bytes,"
	    " d.spk_id, d.spk_pk, d.spk_sig FROM users u LEFT JOIN devices d"
	    " ON d.usr = u.name AND d.dev = $1 WHERE u.name = $2",
	[Q_NON_INS] = "INSERT INTO nonces(usr, nonce, expires) VALUES ($1, $2, $3)",
	[Q_NON_DEL] = "DELETE FROM nonces WHERE usr = $1 AND nonce = $2 RETURNING expires",
	[Q_NON_COUNT] = "SELECT count(*) FROM nonces WHERE usr = $1 AND expires >= $2",
	[Q_NON_DELUSER] = "DELETE FROM nonces WHERE usr = $1",
	[Q_NON_SWEEP] = "DELETE FROM nonces WHERE expires < $1",
	[Q_OTPK_INS] = "INSERT INTO otpk(usr, dev, id, pk) VALUES ($1, $2, $3, $4)"
	    " ON CONFLICT DO NOTHING",
	[Q_OTPK_COUNT] = "SELECT count(*) FROM otpk WHERE usr = $1 AND dev = $2",
	/* a key another claim holds is skipped, not waited for: no two
	 * claims, in any processes, get the same key */
	[Q_OTPK_TAKE] = "DELETE FROM otpk WHERE ctid = (SELECT ctid FROM otpk"
	    " WHERE usr = $1 AND dev = $2 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
	    " RETURNING id, pk",
	[Q_OTPK_DELUSER] = "DELETE FROM otpk WHERE usr = $1",
	/* users named in $1 (joined by '/'), locked in ascending byte order */
	[Q_USER_LOCKALL] = "SELECT name FROM users WHERE name = ANY(string_to_array($1, '/'))"
	    " ORDER BY name COLLATE \"C\" FOR NO KEY UPDATE",
	/* one envelope, its user locked by a statement before (this one's
	 * snapshot is taken after the lock, so it sees what the previous
	 * holder committed): $1 user, $2 dev, $3 envid, $4 hash, $5 received,
	 * $6 env, $7 whether $8 is the device-list version seen, $9 and $10
	 * the quota, $11 whether it is one of a job's several envelopes (all or
	 * nothing: a refusal raises, SQLSTATE NCR0 and the status, the
	 * device-list version its detail, and the
	 * whole transaction is undone). A row (D_* status, device-list
	 * version) unless no such user. The user's row is locked here too:
	 * held already (the batch's lock) it costs nothing; a user created
	 * since that lock is locked now, out of order, so never waited for
	 * (NOWAIT: 55P03, and the batch runs again, that user locked first).
	 * The envelope id's uniqueness is the INSERT's ON CONFLICT,
	 * through the unique index whatever the planner thinks: the stored
	 * envelope (a retry) is looked up only when nothing was inserted (a
	 * retry, or a full mailbox: a retry is held even then), so a delivery
	 * never reads its mailbox's other rows (the planner took the mailbox's
	 * index for that lookup, (usr, dev) and a filter on envid, when its
	 * statistics said a mailbox held one row: a scan of the mailbox per
	 * delivery). */
	[Q_DELIVER] = "WITH c AS (SELECT u.dl_version, CASE WHEN d.listed IS NULL THEN 1"
	    " WHEN u.dl_version > 0 AND d.listed <> 1 THEN 2"
	    " WHEN $7 <> 0 AND $8 <> u.dl_version THEN 3"
	    " WHEN d.mail_n + 1 > $9 OR d.mail_bytes + octet_length($6) > $10 THEN 5"
	    " ELSE 6 END AS st FROM users u LEFT JOIN devices d"
	    " ON d.usr = $1 AND d.dev = $2 WHERE u.name = $1 FOR NO KEY UPDATE OF u NOWAIT),"
	    " i AS (INSERT INTO mail(usr, dev, envid, hash, received, env)"
	    " SELECT $1, $2, $3, $4, $5, $6 FROM c WHERE st = 6"
	    " ON CONFLICT (usr, dev, envid) DO NOTHING RETURNING 1),"
	    " f AS (SELECT dl_version, CASE WHEN st < 5 THEN st"
	    " WHEN EXISTS (SELECT 1 FROM i) THEN 6"
	    " ELSE coalesce((SELECT CASE WHEN m.hash = $4 THEN 0 ELSE 4 END FROM mail m"
	    " WHERE m.usr = $1 AND m.dev = $2 AND m.envid = $3), CASE st WHEN 5 THEN 5 ELSE 4 END)"
	    " END AS st FROM c),"
	    " q AS (UPDATE devices SET mail_n = mail_n + 1,"
	    " mail_bytes = mail_bytes + octet_length($6)"
	    " WHERE usr = $1 AND dev = $2 AND EXISTS (SELECT 1 FROM i))"
	    " SELECT CASE WHEN $11 <> 0 AND st NOT IN (0, 6) THEN nc_refuse(st, dl_version) ELSE st END,"
	    " dl_version FROM f"
	    " UNION ALL SELECT nc_refuse(1, 0), 0 WHERE $11 <> 0 AND NOT EXISTS (SELECT 1 FROM f)",
	/* Q_DELIVER for a whole batch in one statement (send_set): one
	 * envelope per element of the arrays $1 user, $2 dev, $3 envid, $4
	 * hash, $5 received, $6 env, $7 and $8 the device-list version seen
	 * (as Q_DELIVER's), $9 whether it is one of a job's several envelopes;
	 * $10 and $11 the quota. A row per envelope, in order: its D_* status
	 * (-2: no such user) and its user's device-list version; the statuses
	 * the envelopes would get from Q_DELIVER one after another. Where that
	 * cannot be told at once it raises NCR09 and stores nothing (the batch
	 * then goes one envelope at a time): the same envelope id twice in the
	 * batch; the quota reached when every envelope to be stored before it
	 * in the batch is counted (what a later one finds depends then on which
	 * earlier ones were stored); an envelope of a job of several refused.
	 * A stored envelope is found by the INSERT's conflict, through the
	 * unique index: a lookup of mail is planned once per connection, maybe
	 * while the table was small, and then it could be a scan; it is made
	 * only for an envelope not stored (a retry). */
	[Q_DELIVER_SET] = "WITH x AS (SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9)"
	    " WITH ORDINALITY AS x(usr, dev, envid, hash, received, env, hasver, ver, multi, k)),"
	    " u AS (SELECT name, dl_version FROM users WHERE name = ANY($1)"
	    " FOR NO KEY UPDATE NOWAIT),"
	    " w AS (SELECT x.*, u.dl_version, d.mail_n, d.mail_bytes,"
	    " CASE WHEN u.name IS NULL THEN -2 WHEN d.listed IS NULL THEN 1"
	    " WHEN u.dl_version > 0 AND d.listed <> 1 THEN 2"
	    " WHEN x.hasver <> 0 AND x.ver <> u.dl_version THEN 3 ELSE 6 END AS st"
	    " FROM x LEFT JOIN u ON u.name = x.usr"
	    " LEFT JOIN devices d ON d.usr = x.usr AND d.dev = x.dev),"
	    " v AS (SELECT w.*, count(*) FILTER (WHERE st = 6) OVER p AS cn,"
	    " sum(octet_length(env)) FILTER (WHERE st = 6) OVER p AS cb,"
	    " count(*) OVER (PARTITION BY usr, dev, envid) AS dup"
	    " FROM w WINDOW p AS (PARTITION BY usr, dev ORDER BY k)),"
	    " f AS (SELECT coalesce(bool_or(dup > 1 OR multi <> 0 AND st <> 6 OR st = 6"
	    " AND (mail_n + cn > $10 OR mail_bytes + cb > $11)), false) AS no FROM v),"
	    " i AS (INSERT INTO mail(usr, dev, envid, hash, received, env)"
	    " SELECT usr, dev, envid, hash, received, env FROM v"
	    " WHERE st = 6 AND NOT (SELECT no FROM f) ORDER BY k"
	    " ON CONFLICT (usr, dev, envid) DO NOTHING"
	    " RETURNING usr, dev, envid, octet_length(env) AS len),"
	    " q AS (UPDATE devices d SET mail_n = d.mail_n + a.n, mail_bytes = d.mail_bytes + a.b"
	    " FROM (SELECT usr, dev, count(*) AS n, sum(len) AS b FROM i GROUP BY usr, dev) a"
	    " WHERE d.usr = a.usr AND d.dev = a.dev),"
	    " r AS (SELECT v.k, v.multi, v.dl_version, CASE WHEN v.st <> 6 THEN v.st"
	    " WHEN i.usr IS NOT NULL THEN 6"
	    " ELSE coalesce((SELECT CASE WHEN m.hash = v.hash THEN 0 ELSE 4 END FROM mail m"
	    " WHERE m.usr = v.usr AND m.dev = v.dev AND m.envid = v.envid), 4) END AS st"
	    " FROM v LEFT JOIN i ON i.usr = v.usr AND i.dev = v.dev AND i.envid = v.envid)"
	    " SELECT CASE WHEN (SELECT no FROM f) OR multi <> 0 AND st NOT IN (0, 6)"
	    " THEN nc_refuse(9, 0) ELSE st END::int8, coalesce(dl_version, 0) FROM r ORDER BY k",
	[Q_MAIL_LIST] = "SELECT seq, envid, received, env FROM mail"
	    " WHERE usr = $1 AND dev = $2 AND seq > $3 ORDER BY seq LIMIT $4",
	[Q_MAIL_ACK] = "DELETE FROM mail WHERE usr = $1 AND dev = $2 AND envid = $3"
	    " RETURNING octet_length(env)::int8",
	[Q_MAIL_DELUSER] = "DELETE FROM mail WHERE usr = $1",
	[Q_NOTIFY] = "SELECT pg_notify('" NOTIFY_CHANNEL "', $1)",
	/* each of the payloads in $1, joined by ' ' */
	[Q_NOTIFY_ALL] = "SELECT count(pg_notify('" NOTIFY_CHANNEL "', x))"
	    " FROM unnest(string_to_array($1, ' ')) x",
	[Q_BLOB_INS] = "INSERT INTO blobs(id, delhash, size, expires) VALUES ($1, $2, $3, $4)"
	    " ON CONFLICT(id) DO NOTHING",
	[Q_BLOB_GET] = "SELECT delhash, size, expires FROM blobs WHERE id = $1",
	[Q_BLOB_LOCK] = "SELECT delhash FROM blobs WHERE id = $1 FOR UPDATE",
	[Q_BLOB_DEL] = "DELETE FROM blobs WHERE id = $1",
	[Q_BLOB_EXPIRED] = "DELETE FROM blobs WHERE expires < $1 RETURNING id",
	[Q_IDB_PUT] = "INSERT INTO idbackup(usr, v) VALUES ($1, $2)"
	    " ON CONFLICT(usr) DO UPDATE SET v = excluded.v",
	[Q_IDB_GET] = "SELECT v FROM idbackup WHERE usr = $1",
	[Q_IDB_DELUSER] = "DELETE FROM idbackup WHERE usr = $1",
	[Q_KT_LOCK] = "SELECT pg_advisory_xact_lock($1)",
	[Q_KT_SIZE] = "SELECT coalesce(max(idx) + 1, 0)::int8 FROM kt_leaves",
	[Q_KT_LEAF_INS] = "INSERT INTO kt_leaves(idx, usr, version, label, commitment,"
	    " opening, vrf) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	[Q_KT_LEAF_FIND] = "SELECT idx, opening, vrf FROM kt_leaves"
	    " WHERE usr = $1 AND version = $2",
	[Q_KT_LEAVES] = "SELECT label, commitment FROM kt_leaves"
	    " WHERE idx >= $1 AND idx < $2 ORDER BY idx",
	[Q_KT_FORGET] = "UPDATE kt_leaves SET usr = NULL, opening = NULL, vrf = NULL"
	    " WHERE usr = $1",
	[Q_KT_NODE_INS] = "INSERT INTO kt_nodes(level, idx, hash) VALUES ($1, $2, $3)",
	[Q_KT_NODE_GET] = "SELECT hash FROM kt_nodes WHERE level = $1 AND idx = $2",
	[Q_KT_HEAD_INS] = "INSERT INTO kt_heads(size, root, time, sig) VALUES ($1, $2, $3, $4)",
	[Q_KT_HEAD_LAST] = "SELECT size, root, time, sig FROM kt_heads"
	    " ORDER BY size DESC LIMIT 1",
	[Q_KT_UNLOGGED] = "SELECT name, dl_version, identity, dl FROM users u"
	    " WHERE dl_version > 0 AND NOT EXISTS (SELECT 1 FROM kt_leaves k"
	    " WHERE k.usr = u.name AND k.version = u.dl_version) ORDER BY name",
	/* a token bucket, on the database's clock (the relays' may differ):
	 * ok says whether a token was taken, tokens what is left */
	[Q_RATE] = "WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)"
	    " INSERT INTO ratelimit AS r(k, tokens, last, ok)"
	    " SELECT $1, $3 - 1, now, true FROM t"
	    " ON CONFLICT(k) DO UPDATE SET"
	    " tokens = least($3, r.tokens + greatest(0, excluded.last - r.last) * $2)"
	    "  - CASE WHEN least($3, r.tokens + greatest(0, excluded.last - r.last) * $2)"
	    "  >= 1 THEN 1 ELSE 0 END,"
	    " ok = least($3, r.tokens + greatest(0, excluded.last - r.last) * $2) >= 1,"
	    " last = greatest(r.last, excluded.last)"
	    " RETURNING ok, tokens",
	[Q_RATE_SWEEP] = "DELETE FROM ratelimit WHERE"
	    " last < extract(epoch FROM clock_timestamp()) - 86400",
	/* a row back: first sight (or the old one had expired) */
	[Q_REPLAY] = "INSERT INTO replay AS r(k, expires) VALUES ($1, $2)"
	    " ON CONFLICT(k) DO UPDATE SET expires = excluded.expires"
	    " WHERE r.expires < $3 RETURNING 1",
	[Q_REPLAY_SWEEP] = "DELETE FROM replay WHERE expires < $1",
	[Q_OTPK_DELDEV] = "DELETE FROM otpk WHERE usr = $1 AND dev = $2",
	[Q_CTR_GET] = "SELECT n, tag FROM counters WHERE usr = $1 AND dev = $2",
	[Q_CTR_SET] = "INSERT INTO counters(usr, dev, n, tag) VALUES ($1, $2, $3, $4)"
	    " ON CONFLICT(usr, dev) DO UPDATE SET n = excluded.n, tag = excluded.tag",
	[Q_CTR_DELUSER] = "DELETE FROM counters WHERE usr = $1",
	[Q_BK_GET] = "SELECT counter, access, keys, manifest FROM backup WHERE usr = $1",
	[Q_BK_SET] = "INSERT INTO backup(usr, counter, access, keys, manifest)"
	    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT(usr) DO UPDATE SET"
	    " counter = excluded.counter, access = excluded.access,"
	    " keys = excluded.keys, manifest = excluded.manifest",
	[Q_BK_DELUSER] = "DELETE FROM backup WHERE usr = $1",
	[Q_BKR_PUT] = "INSERT INTO backup_rec(usr, hash, v) VALUES ($1, $2, $3)"
	    " ON CONFLICT DO NOTHING",
	[Q_BKR_GET] = "SELECT v FROM backup_rec WHERE usr = $1 AND hash = $2",
	[Q_BKR_USAGE] = "SELECT count(*)::int8, coalesce(sum(octet_length(v)), 0)::int8"
	    " FROM backup_rec WHERE usr = $1",
	[Q_BKR_UNMARK] = "UPDATE backup_rec SET keep = 0 WHERE usr = $1 AND keep <> 0",
	[Q_BKR_MARK] = "UPDATE backup_rec SET keep = 1 WHERE usr = $1 AND hash = $2",
	[Q_BKR_PRUNE] = "DELETE FROM backup_rec WHERE usr = $1 AND keep = 0",
	[Q_BKR_DELUSER] = "DELETE FROM backup_rec WHERE usr = $1",
	/* a device dropped from the list (revoked): its mail and prekeys go */
	[Q_DEV_PURGE_MAIL] = "DELETE FROM mail WHERE usr = $1 AND dev IN"
	    " (SELECT dev FROM devices WHERE usr = $1 AND listed = 2)",
	[Q_DEV_PURGE_OTPK] = "DELETE FROM otpk WHERE usr = $1 AND dev IN"
	    " (SELECT dev FROM devices WHERE usr = $1 AND listed = 2)",
	[Q_DEV_PURGE] = "UPDATE devices SET spk_id = NULL, spk_pk = NULL,"
	    " spk_sig = NULL, mail_n = 0, mail_bytes = 0 WHERE usr = $1 AND listed = 2",
	[Q_LINK_COUNT] = "SELECT count(*)::int8 FROM links WHERE usr = $1 AND used = 0"
	    " AND expires >= $2",
	[Q_LINK_INS] = "INSERT INTO links(box, usr, expires) VALUES ($1, $2, $3)",
	[Q_LINK_GET] = "SELECT usr, expires, msg, used FROM links WHERE box = $1 FOR UPDATE",
	[Q_LINK_SET] = "UPDATE links SET msg = $1 WHERE box = $2",
	[Q_LINK_USED] = "UPDATE links SET msg = NULL, used = 1 WHERE box = $1",
	[Q_LINK_DELUSER] = "DELETE FROM links WHERE usr = $1",
	[Q_LINK_SWEEP] = "DELETE FROM links WHERE expires < $1",
	[Q_PUSH_SET] = "INSERT INTO push(usr, dev, url) VALUES ($1, $2, $3)"
	    " ON CONFLICT(usr, dev) DO UPDATE SET url = excluded.url",
	[Q_PUSH_DEL] = "DELETE FROM push WHERE usr = $1 AND dev = $2",
	[Q_PUSH_DROP] = "DELETE FROM push WHERE usr = $1 AND dev = $2 AND url = $3",
	[Q_PUSH_GET] = "SELECT url FROM push WHERE usr = $1 AND dev = $2",
	[Q_PUSH_DELUSER] = "DELETE FROM push WHERE usr = $1",
	[Q_DEV_PURGE_PUSH] = "DELETE FROM push WHERE usr = $1 AND dev IN"
	    " (SELECT dev FROM devices WHERE usr = $1 AND listed = 2)",
};

/* The schema, one step per version; a database at version n gets steps
 * n+1... at the first start of a relay that knows them, under one
 * advisory lock (relays starting together wait for each other). */
static const char *const migrations[] = {
	/* 1: the sqlite schema's tables (sqldb.c), with the rate limits and
	 * replay memory that one process kept in memory */
	"CREATE TABLE users(name text PRIMARY KEY, auth_pk bytea, salt bytea,"
	" ops bigint, mem bigint, created bigint,"
	" dl_version bigint NOT NULL DEFAULT 0, identity bytea, dl bytea);"
	"CREATE TABLE devices(usr text, dev bytea, pk bytea,"
	" listed bigint NOT NULL DEFAULT 0, spk_id bigint, spk_pk bytea, spk_sig bytea,"
	" mail_n bigint NOT NULL DEFAULT 0, mail_bytes bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY(usr, dev));"
	"CREATE TABLE invites(code text PRIMARY KEY);"
	"CREATE TABLE nonces(usr text, nonce bytea, expires bigint, PRIMARY KEY(usr, nonce));"
	"CREATE TABLE otpk(usr text, dev bytea, id bigint, pk bytea, PRIMARY KEY(usr, dev, id));"
	"CREATE TABLE mail(seq bigserial PRIMARY KEY, usr text, dev bytea, envid bytea,"
	" hash bytea, received bigint, env bytea, UNIQUE(usr, dev, envid));"
	"CREATE INDEX mail_box ON mail(usr, dev, seq);"
	"CREATE TABLE blobs(id bytea PRIMARY KEY, delhash bytea, size bigint, expires bigint);"
	"CREATE INDEX blobs_expires ON blobs(expires);"
	"CREATE TABLE idbackup(usr text PRIMARY KEY, v bytea NOT NULL);"
	"CREATE TABLE opaque(usr text PRIMARY KEY, record bytea NOT NULL, cost bigint NOT NULL);"
	"CREATE TABLE kt_leaves(idx bigint PRIMARY KEY, usr text, version bigint NOT NULL,"
	" label bytea NOT NULL, commitment bytea NOT NULL, opening bytea, vrf bytea,"
	" UNIQUE(usr, version));"
	"CREATE TABLE kt_nodes(level bigint, idx bigint, hash bytea NOT NULL,"
	" PRIMARY KEY(level, idx));"
	"CREATE TABLE kt_heads(size bigint PRIMARY KEY, root bytea NOT NULL,"
	" time bigint NOT NULL, sig bytea NOT NULL);"
	"CREATE UNLOGGED TABLE ratelimit(k bytea PRIMARY KEY, tokens float8 NOT NULL,"
	" last float8 NOT NULL, ok boolean NOT NULL);"
	"CREATE UNLOGGED TABLE replay(k bytea PRIMARY KEY, expires bigint NOT NULL);"
	"CREATE INDEX replay_expires ON replay(expires);"
	/* the encrypted backup slot (protocol.md 1.9), each device's counter
	 * (1.10) and the provisioning boxes (1.11), as in sqldb.c */
	"CREATE TABLE backup(usr text PRIMARY KEY, counter bigint NOT NULL,"
	" access bytea NOT NULL, keys bytea NOT NULL, manifest bytea NOT NULL);"
	"CREATE TABLE backup_rec(usr text, hash bytea, v bytea NOT NULL,"
	" keep bigint NOT NULL DEFAULT 0, PRIMARY KEY(usr, hash));"
	"CREATE TABLE counters(usr text, dev bytea, n bigint NOT NULL,"
	" tag bytea NOT NULL, PRIMARY KEY(usr, dev));"
	"CREATE TABLE links(box bytea PRIMARY KEY, usr text NOT NULL,"
	" expires bigint NOT NULL, msg bytea, used bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX links_usr ON links(usr);"
	"CREATE INDEX links_expires ON links(expires);"
	/* each device's push endpoint (protocol.md 1.12) */
	"CREATE TABLE push(usr text, dev bytea, url text NOT NULL, PRIMARY KEY(usr, dev));",
	/* 2: a device id names its user: without this the planner multiplies
	 * the two columns' selectivities, estimates a mailbox at one row, and
	 * may take the mailbox's index (and a filter on envid) for a lookup of
	 * one envelope (an ack): a scan of the whole mailbox each time */
	"CREATE STATISTICS mail_usr_dev (ndistinct, dependencies) ON usr, dev FROM mail;"
	"ANALYZE mail;",
	/* 3: a refusal that undoes the transaction it is in (Q_DELIVER) */
	"CREATE FUNCTION nc_refuse(st int, v bigint) RETURNS int LANGUAGE plpgsql AS"
	" $$BEGIN RAISE EXCEPTION USING ERRCODE = 'NCR0' || st,"
	" MESSAGE = 'delivery refused: ' || st, DETAIL = v::text; END$$;",
};
#define SCHEMA_VERSION (int)(sizeof migrations / sizeof migrations[0])

struct pgc {
	PGconn *c;
	uint64_t prepared[(Q_MAX + 63) / 64];
	char state[6];            /* SQLSTATE of the last failure */
	int began;                /* txp: the server answered the BEGIN */
	int64_t refused_v;        /* of a refusal raised (NCR0x): its detail */
	struct pgc *next;         /* in the pool */
};

struct store {
	const struct store_ops *ops;   /* first: store.c reads it */
	char *conninfo;
	char blobdir[4096];
	struct store_limits lim;
	store_mail_fn on_mail;
	void *mail_arg;
	pthread_mutex_t mu;
	struct pgc *pool;              /* idle connections */
	int failing;                   /* the database is out of reach (under mu) */
	const uint8_t *kt_sk;
	const char *kt_domain;
	pthread_mutex_t dmu;           /* the deliveries' group commit: */
	struct djob *dhead, *dtail;    /* waiting */
	int drunning;                  /* a batch is running */
	pthread_t lthr;                /* the listener */
	int lpipe[2];                  /* closed: the listener stops */
};

static const struct store_ops pg_ops;

/* ---- connections ---- */

/* Say once when the database stops or starts answering: a relay's stderr
 * is for what needs a look. */
static void
health(struct store *s, struct pgc *c, int ok)
{
	char why[200] = "";
	int was;

	if (!ok && c && c->c)
		snprintf(why, sizeof why, "%s", PQerrorMessage(c->c));
	why[strcspn(why, "\n")] = '\0';
	pthread_mutex_lock(&s->mu);
	was = s->failing;
	s->failing = !ok;
	pthread_mutex_unlock(&s->mu);
	if (was && ok)
		fprintf(stderr, "nc-relayd: database: reachable again\n");
	else if (!was && !ok)
		fprintf(stderr, "nc-relayd: database: %s; requests answer 503 until "
		    "it is back\n", why[0] ? why : "unreachable");
}

/* The server's notices and warnings (e.g. "terminating connection due
 * to immediate shutdown command" as it goes down) are not printed: the
 * relay says once that the database is out of reach, and once that it is
 * back (health). */
static void
no_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* PQconnectdb with the notices off from the first byte: a server going
 * down while a connection starts sends its warning during the start-up,
 * which libpq's default processor would print (PQconnectStart, then the
 * polling loop PQconnectdb runs inside; connect_timeout, if the
 * conninfo sets one, is not libpq's to apply here: 60 s at most). */
static PGconn *
connect_quiet(const char *conninfo)
{
	PGconn *c = PQconnectStart(conninfo);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	time_t end = time(NULL) + 60;

	if (c == NULL)
		return NULL;
	PQsetNoticeProcessor(c, no_notice, NULL);
	if (PQstatus(c) == CONNECTION_BAD)
		return c;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		struct pollfd p = { PQsocket(c),
		    st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0 };
		int n = poll(&p, 1, 1000);

		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0) {
			if (time(NULL) < end)
				continue;
			break;
		}
		st = PQconnectPoll(c);
	}
	return c;   /* timed out: not CONNECTION_OK, which callers check */
}

static struct pgc *
connect_db(struct store *s)
{
	struct pgc *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->c = connect_quiet(s->conninfo);
	if (PQstatus(c->c) != CONNECTION_OK) {
		health(s, c, 0);
		PQfinish(c->c);
		free(c);
		return NULL;
	}
	return c;
}

static void
cfree(struct pgc *c)
{
	if (c == NULL)
		return;
	PQfinish(c->c);
	free(c);
}

/* An idle connection has nothing to read unless the server wrote to it
 * unasked: it is closing it (a restart, a crash, an administrator's
 * pg_terminate_backend), or worse. Such a connection would fail the next
 * request with a 503 although the database may be back. */
static int
stale(const struct pgc *c)
{
	struct pollfd p = { .fd = PQsocket(c->c), .events = POLLIN };

	return p.fd < 0 || poll(&p, 1, 0) != 0;
}

static struct pgc *
cget(struct store *s)
{
	struct pgc *c;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		if ((c = s->pool) != NULL)
			s->pool = c->next;
		pthread_mutex_unlock(&s->mu);
		if (c == NULL || !stale(c))
			break;
		cfree(c);
	}
	return c ? c : connect_db(s);
}

/* Back to the pool, unless it broke (or is left inside a transaction). */
static void
cput(struct store *s, struct pgc *c)
{
	if (c == NULL)
		return;
	if (PQstatus(c->c) != CONNECTION_OK ||
	    PQtransactionStatus(c->c) != PQTRANS_IDLE ||
	    PQpipelineStatus(c->c) != PQ_PIPELINE_OFF) {
		cfree(c);
		return;
	}
	pthread_mutex_lock(&s->mu);
	c->next = s->pool;
	s->pool = c;
	pthread_mutex_unlock(&s->mu);
}

static int
broken(const struct pgc *c)
{
	return PQstatus(c->c) != CONNECTION_OK || strncmp(c->state, "08", 2) == 0;
}

/* ---- statements ---- */

static void
failed(struct pgc *c, PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	snprintf(c->state, sizeof c->state, "%s", st ? st : "08006");
	if (strncmp(c->state, "NCR0", 4) == 0) {
		st = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
		c->refused_v = st ? strtoll(st, NULL, 10) : 0;
	}
}

/* A statement's parameters from fmt: 't' text (const char *), 'b' bytes
 * (const void *, size_t; NULL: SQL NULL), 'i' int64_t, 'd' double, all
 * sent in binary. */
enum { MAXP = 12 };
struct qp {
	Oid types[MAXP];
	const char *val[MAXP];
	int len[MAXP], bin[MAXP], n;
	uint8_t num[MAXP][8];
};

/* The type of a parameter of format letter f: t text, b bytea, i int8, d
 * float8; T, B, I an array of text, bytea, int8 (in binary, pgarr). */
static Oid
fmt_type(char f)
{
	switch (f) {
	case 't': return 25;
	case 'b': return 17;
	case 'i': return 20;
	case 'T': return 1009;
	case 'B': return 1001;
	case 'I': return 1016;
	default: return 701;
	}
}

static int
qp_fill(struct qp *p, const char *fmt, va_list ap)
{
	uint64_t u;
	double d;
	int n;

	for (n = 0; fmt[n]; n++) {
		if (n == MAXP)
			return -1;
		p->bin[n] = 1;
		p->types[n] = fmt_type(fmt[n]);
		switch (fmt[n]) {
		case 't':
			p->val[n] = va_arg(ap, const char *);
			p->len[n] = p->val[n] ? (int)strlen(p->val[n]) : 0;
			break;
		case 'b':
		case 'T':
		case 'B':
		case 'I':
			p->val[n] = va_arg(ap, const char *);
			p->len[n] = (int)va_arg(ap, size_t);
			break;
		case 'i':
		case 'd':
			if (fmt[n] == 'i')
				u = (uint64_t)va_arg(ap, int64_t);
			else {
				d = va_arg(ap, double);
				memcpy(&u, &d, sizeof u);
			}
			for (int k = 0; k < 8; k++)
				p->num[n][k] = (uint8_t)(u >> (56 - 8 * k));
			p->val[n] = (const char *)p->num[n];
			p->len[n] = 8;
			break;
		default:
			return -1;
		}
	}
	p->n = n;
	return 0;
}

/* Statement id prepared on c (once per connection), named into name. */
static int
prepare(struct pgc *c, int id, const struct qp *p, char name[16])
{
	PGresult *r;

	snprintf(name, 16, "q%d", id);
	if (c->prepared[id / 64] >> (id % 64) & 1)
		return 0;
	r = PQprepare(c->c, name, sql[id], p->n, p->types);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		failed(c, r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	c->prepared[id / 64] |= (uint64_t)1 << (id % 64);
	return 0;
}

/* Statement id with parameters from fmt (qp_fill); results come in
 * binary. The result, or NULL (c->state says why). */
static PGresult *
vq(struct pgc *c, int id, const char *fmt, va_list ap)
{
	struct qp p;
	char name[16];
	PGresult *r;

	if (qp_fill(&p, fmt, ap) != 0 || prepare(c, id, &p, name) != 0)
		return NULL;
	r = PQexecPrepared(c->c, name, p.n, p.val, p.len, p.bin, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
		failed(c, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* In pipeline mode: statement id queued (prepared before the pipeline
 * began); its result comes with the pipeline's (pipe_results). */
static int
sendq(struct pgc *c, int id, const char *fmt, ...)
{
	struct qp p;
	char name[16];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = qp_fill(&p, fmt, ap);
	va_end(ap);
	snprintf(name, sizeof name, "q%d", id);
	if (rc != 0 || !(c->prepared[id / 64] >> (id % 64) & 1))
		return -1;
	if (PQsendQueryPrepared(c->c, name, p.n, p.val, p.len, p.bin, 1) != 1) {
		failed(c, NULL);
		return -1;
	}
	return 0;
}

static PGresult *
q(struct pgc *c, int id, const char *fmt, ...)
{
	va_list ap;
	PGresult *r;

	va_start(ap, fmt);
	r = vq(c, id, fmt, ap);
	va_end(ap);
	return r;
}

/* Run id for its effect: the rows it touched, or -1. */
static int64_t
ex(struct pgc *c, int id, const char *fmt, ...)
{
	va_list ap;
	PGresult *r;
	int64_t n;

	va_start(ap, fmt);
	r = vq(c, id, fmt, ap);
	va_end(ap);
	if (r == NULL)
		return -1;
	n = PQntuples(r) > 0 ? PQntuples(r) : atoll(PQcmdTuples(r));
	PQclear(r);
	return n;
}

static int
cmd(struct pgc *c, const char *what)
{
	PGresult *r = PQexec(c->c, what);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	/* COMMIT of a failed transaction "succeeds" as ROLLBACK */
	if (ok && strcmp(what, "COMMIT") == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0)
		ok = 0;
	if (!ok)
		failed(c, r);
	PQclear(r);
	return ok ? 0 : -1;
}

/* Binary columns: an integer (int8, int4 or bool), NULL as 0. */
static int64_t
col_i(const PGresult *r, int row, int col)
{
	const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col);
	uint64_t u = 0;

	if (PQgetisnull(r, row, col))
		return 0;
	for (int k = 0; k < n && k < 8; k++)
		u = u << 8 | p[k];
	if (n == 4)
		return (int32_t)(uint32_t)u;
	return (int64_t)u;
}

static double
col_d(const PGresult *r, int row, int col)
{
	int64_t u = col_i(r, row, col);
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

/* Copy bytes column col into out[n]: 0 if it has exactly n bytes. */
static int
col_b(const PGresult *r, int row, int col, void *out, size_t n)
{
	if (PQgetisnull(r, row, col) || (size_t)PQgetlength(r, row, col) != n)
		return -1;
	memcpy(out, PQgetvalue(r, row, col), n);
	return 0;
}

/* ---- transactions and reads ---- */

typedef int (*job_fn)(struct store *s, struct pgc *c, void *arg);

/* fn in one transaction, committed if it returns ST_OK (else rolled
 * back, and its code returned); own: fn sends the BEGIN and COMMIT itself
 * (with its statements, in one pipeline) and sets c->began. A deadlock,
 * serialization failure or lock not taken (NOWAIT) is tried again; so is
 * a connection found dead before anything was sent (the pool's, after
 * the server restarted). A commit whose answer was lost is ST_ERR: the
 * client tries again, and every write is idempotent or refused
 * harmlessly the second time. */
static int
tx_run(struct store *s, job_fn fn, void *arg, int own)
{
	struct pgc *c;
	int rc, again, begun;

	for (int tries = 0;; tries++) {
		if ((c = cget(s)) == NULL)
			return ST_ERR;
		c->state[0] = '\0';
		c->began = 0;
		rc = ST_ERR;
		if ((begun = own || cmd(c, "BEGIN") == 0)) {
			rc = fn(s, c, arg);
			if (own)
				begun = c->began;
			else if (rc == ST_OK && cmd(c, "COMMIT") != 0)
				rc = ST_ERR;
			if (rc != ST_OK && !broken(c))
				(void)cmd(c, "ROLLBACK");
		}
		again = rc == ST_ERR && tries < TRIES && ((!begun && broken(c)) ||
		    strcmp(c->state, "40001") == 0 || strcmp(c->state, "40P01") == 0 ||
		    strcmp(c->state, "55P03") == 0);
		if (rc == ST_ERR && broken(c))
			health(s, c, 0);
		else if (!broken(c))
			health(s, c, 1);
		cput(s, c);
		if (!again)
			return rc;
	}
}

static int
tx(struct store *s, job_fn fn, void *arg)
{
	return tx_run(s, fn, arg, 0);
}

static int
txp(struct store *s, job_fn fn, void *arg)
{
	return tx_run(s, fn, arg, 1);
}

/* A read: one statement, run again on a fresh connection if the pooled
 * one was dead. fn reads the rows; the result is freed after. */
typedef int (*rows_fn)(PGresult *r, void *arg);

static int
rd(struct store *s, rows_fn fn, void *arg, int id, const char *fmt, ...)
{
	struct pgc *c;
	PGresult *r = NULL;
	va_list ap;
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		if ((c = cget(s)) == NULL)
			return ST_ERR;
		va_start(ap, fmt);
		r = vq(c, id, fmt, ap);
		va_end(ap);
		if (r != NULL || !broken(c) || tries == 1)
			break;
		cput(s, c);
	}
	if (r == NULL) {
		if (broken(c))
			health(s, c, 0);
		cput(s, c);
		return ST_ERR;
	}
	rc = fn(r, arg);
	PQclear(r);
	cput(s, c);
	return rc;
}

#define OK(x) do { if ((x) < 0) return ST_ERR; } while (0)

/* Lock user's row to the commit: ST_OK, ST_NOTFOUND, ST_ERR. */
static int
lock_user(struct pgc *c, const char *user, uint64_t *dl_version)
{
	PGresult *r = q(c, Q_USER_LOCK, "t", user);
	int rc;

	if (r == NULL)
		return ST_ERR;
	rc = PQntuples(r) == 1 ? ST_OK : ST_NOTFOUND;
	if (rc == ST_OK && dl_version)
		*dl_version = (uint64_t)col_i(r, 0, 0);
	PQclear(r);
	return rc;
}

static int64_t
count(struct pgc *c, int id, const char *user, const void *dev)
{
	PGresult *r = dev ? q(c, id, "tb", user, dev, (size_t)NC_DEVID_LEN) :
	    q(c, id, "t", user);
	int64_t n = r && PQntuples(r) == 1 ? col_i(r, 0, 0) : -1;

	PQclear(r);
	return n;
}

struct devstate {
	int64_t mail_n, mail_bytes, spk_id;
	uint64_t dl_version;
	uint8_t spk_pk[NC_PK_LEN], spk_sig[NC_SIG_LEN];
	int has_spk;
};

static int
devstate_rows(PGresult *r, void *arg)
{
	struct devstate *d = arg;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	d->dl_version = (uint64_t)col_i(r, 0, 1);
	d->mail_n = col_i(r, 0, 2);
	d->mail_bytes = col_i(r, 0, 3);
	d->spk_id = col_i(r, 0, 4);
	d->has_spk = !PQgetisnull(r, 0, 4) && col_b(r, 0, 5, d->spk_pk, NC_PK_LEN) == 0 &&
	    col_b(r, 0, 6, d->spk_sig, NC_SIG_LEN) == 0;
	if (PQgetisnull(r, 0, 0))
		return ST_NOTFOUND;
	if (d->dl_version > 0 && col_i(r, 0, 0) != 1)
		return ST_GONE;
	return ST_OK;
}

/* The state of (user, dev), inside a transaction. */
static int
devstate(struct pgc *c, const char *user, const uint8_t *dev, struct devstate *d)
{
	PGresult *r = q(c, Q_DEV_CURRENT, "bt", dev, (size_t)NC_DEVID_LEN, user);
	int rc = r ? devstate_rows(r, d) : ST_ERR;

	PQclear(r);
	return rc;
}

/* ---- the key log (the tables of store_kt.c's, on PostgreSQL) ---- */

static int64_t
kt_size(struct pgc *c)
{
	PGresult *r = q(c, Q_KT_SIZE, "");
	int64_t n = r && PQntuples(r) == 1 ? col_i(r, 0, 0) : -1;

	PQclear(r);
	return n;
}

static int
perfect(void *ctx, unsigned level, uint64_t index, nc_merkle_hash out)
{
	PGresult *r;
	int rc;

	if (index > INT64_MAX)
		return ST_ERR;
	r = q(ctx, Q_KT_NODE_GET, "ii", (int64_t)level, (int64_t)index);
	rc = r && PQntuples(r) == 1 && col_b(r, 0, 0, out, NC_MERKLE_HASH) == 0 ?
	    ST_OK : ST_ERR;
	PQclear(r);
	return rc;
}

static int
kt_head(struct pgc *c, nc_kt_head *h)
{
	PGresult *r = q(c, Q_KT_HEAD_LAST, "");
	int rc = ST_ERR;

	memset(h, 0, sizeof *h);
	if (r && PQntuples(r) == 0)
		rc = ST_NOTFOUND;
	else if (r) {
		h->size = (uint64_t)col_i(r, 0, 0);
		h->time = (uint64_t)col_i(r, 0, 2);
		rc = col_b(r, 0, 1, h->root, NC_MERKLE_HASH) == 0 &&
		    col_b(r, 0, 3, h->sig, 64) == 0 ? ST_OK : ST_ERR;
	}
	PQclear(r);
	return rc;
}

/* Append user's version and sign the new head, in the caller's
 * transaction, under the log's lock (held to the commit). */
static int
kt_append(struct store *s, struct pgc *c, const char *user, uint64_t version,
    const struct store_kt_leaf *l)
{
	uint8_t leaf[NC_KT_LEAF];
	nc_merkle_hash h, left;
	nc_kt_head last, hd;
	int64_t n, i, now = (int64_t)time(NULL);
	unsigned level = 0;
	int rc;

	OK(ex(c, Q_KT_LOCK, "i", (int64_t)LOCK_KT));
	if ((n = kt_size(c)) < 0 || version > INT64_MAX)
		return ST_ERR;
	OK(ex(c, Q_KT_LEAF_INS, "itibbbb", n, user, (int64_t)version,
	    l->label, (size_t)NC_KT_LABEL, l->commitment, (size_t)32,
	    l->opening, (size_t)32, l->vrf, (size_t)NC_VRF_PROOF));
	nc_kt_leaf(leaf, l->label, l->commitment);
	nc_merkle_leaf(h, leaf, sizeof leaf);
	OK(ex(c, Q_KT_NODE_INS, "iib", (int64_t)0, n, h, sizeof h));
	for (i = n; i & 1; i >>= 1) {
		if (perfect(c, level, (uint64_t)(i - 1), left) != ST_OK)
			return ST_ERR;
		nc_merkle_node(h, left, h);
		level++;
		OK(ex(c, Q_KT_NODE_INS, "iib", (int64_t)level, i >> 1, h, sizeof h));
	}
	if (s->kt_sk == NULL)
		return ST_OK;
	if ((rc = kt_head(c, &last)) != ST_OK && rc != ST_NOTFOUND)
		return ST_ERR;
	hd.size = (uint64_t)n + 1;
	hd.time = rc == ST_OK && last.time > (uint64_t)now ? last.time : (uint64_t)now;
	if (nc_merkle_range(hd.root, perfect, c, 0, hd.size) != 0)
		return ST_ERR;
	nc_kt_head_sign(&hd, s->kt_sk, s->kt_domain);
	OK(ex(c, Q_KT_HEAD_INS, "ibib", (int64_t)hd.size, hd.root, (size_t)NC_MERKLE_HASH,
	    (int64_t)hd.time, hd.sig, (size_t)64));
	return ST_OK;
}

/* ---- open / close ---- */

static int
migrate(struct pgc *c)
{
	PGresult *r = NULL;
	int v = -1;
	char ins[64];

	if (cmd(c, "BEGIN") != 0)
		return -1;
	snprintf(ins, sizeof ins, "SELECT pg_advisory_xact_lock(%lld)", LOCK_MIGRATE);
	if (cmd(c, "SET LOCAL client_min_messages = warning") != 0 ||
	    (r = PQexec(c->c, ins), PQresultStatus(r) != PGRES_TUPLES_OK)) {
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	if (cmd(c, "CREATE TABLE IF NOT EXISTS nc_schema(version int NOT NULL)") != 0)
		goto fail;
	r = PQexec(c->c, "SELECT coalesce(max(version), 0) FROM nc_schema");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		fprintf(stderr, "nc-relayd: database: schema version %d is newer than "
		    "this nc-relayd's (%d): run the newer relay\n", v, SCHEMA_VERSION);
		(void)cmd(c, "ROLLBACK");
		return -1;
	}
	for (; v < SCHEMA_VERSION; v++) {
		snprintf(ins, sizeof ins, "INSERT INTO nc_schema VALUES (%d)", v + 1);
		if (cmd(c, migrations[v]) != 0 || cmd(c, ins) != 0)
			goto fail;
	}
	return cmd(c, "COMMIT");
fail:
	fprintf(stderr, "nc-relayd: database: cannot set up the schema: %s",
	    PQerrorMessage(c->c));
	(void)cmd(c, "ROLLBACK");
	return -1;
}

static void
notified(struct store *s, const char *payload)
{
	char user[NC_NAME_MAX + 1];
	uint8_t dev[NC_DEVID_LEN];
	int link = payload[0] == '!';   /* "!user/box": a link box filled */
	const char *sl = strchr(payload += link, '/');
	size_t n;

	if (sl == NULL || (n = (size_t)(sl - payload)) == 0 || n > NC_NAME_MAX ||
	    strlen(sl + 1) != 2 * NC_DEVID_LEN ||
	    nc_hex_decode(dev, sizeof dev, sl + 1, 2 * NC_DEVID_LEN) != 0)
		return;
	memcpy(user, payload, n);
	user[n] = '\0';
	s->on_mail(s->mail_arg, user, dev, link);
}

/* Waits for s->lpipe[0] to be readable or closed, or ms to pass: 1 if
 * the listener is to stop. */
static int
stop_wait(struct store *s, int ms)
{
	struct pollfd p = { s->lpipe[0], POLLIN, 0 };

	return poll(&p, 1, ms) > 0;
}

/* One connection per process LISTENs: a delivery through any process
 * wakes the long-polls here (on_mail), within a round trip of its commit. */
static void *
listener(void *arg)
{
	struct store *s = arg;
	PGconn *c = NULL;
	PGnotify *n;
	PGresult *r;
	struct pollfd p[2];

	for (;;) {
		if (c == NULL) {
			c = connect_quiet(s->conninfo);
			r = PQstatus(c) == CONNECTION_OK ?
			    PQexec(c, "LISTEN " NOTIFY_CHANNEL) : NULL;
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				PQclear(r);
				PQfinish(c);
				c = NULL;
				if (stop_wait(s, 200))
					break;
				continue;
			}
			PQclear(r);
		}
		p[0] = (struct pollfd){ s->lpipe[0], POLLIN, 0 };
		p[1] = (struct pollfd){ PQsocket(c), POLLIN, 0 };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents && PQconsumeInput(c) == 0) {
			PQfinish(c);
			c = NULL;
			continue;
		}
		while ((n = PQnotifies(c)) != NULL) {
			notified(s, n->extra);
			PQfreemem(n);
		}
	}
	PQfinish(c);
	return NULL;
}

int
pg_open(struct store **sp, const char *conninfo, const char *dir,
    const struct store_limits *l, store_mail_fn on_mail, void *arg)
{
	struct store *s = calloc(1, sizeof *s);
	struct pgc *c = NULL;

	if (s == NULL)
		return ST_ERR;
	s->ops = &pg_ops;
	s->lpipe[0] = s->lpipe[1] = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->dmu, NULL);
	snprintf(s->blobdir, sizeof s->blobdir, "%s/blobs", dir);
	if (mkdir(s->blobdir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "nc-relayd: %s: %s\n", s->blobdir, strerror(errno));
		goto fail;
	}
	s->lim = *l;
	s->on_mail = on_mail;
	s->mail_arg = arg;
	if ((s->conninfo = strdup(conninfo)) == NULL)
		goto fail;
	c = calloc(1, sizeof *c);
	if (c == NULL || (c->c = connect_quiet(conninfo)) == NULL ||
	    PQstatus(c->c) != CONNECTION_OK) {
		fprintf(stderr, "nc-relayd: database: %s", c == NULL || c->c ==
		    NULL ? "out of memory\n" : *PQerrorMessage(c->c) ?
		    PQerrorMessage(c->c) : "no answer within 60 s\n");
		goto fail;
	}
	if (migrate(c) != 0)
		goto fail;
	cput(s, c);
	c = NULL;
	if (on_mail != NULL) {
		if (pipe(s->lpipe) != 0 ||
		    pthread_create(&s->lthr, NULL, listener, s) != 0) {
			if (s->lpipe[0] >= 0) {
				close(s->lpipe[0]);
				close(s->lpipe[1]);
			}
			s->lpipe[0] = s->lpipe[1] = -1;
			goto fail;
		}
	}
	*sp = s;
	return ST_OK;
fail:
	cfree(c);
	s->on_mail = NULL;
	s->ops->close(s);
	return ST_ERR;
}

static void
pg_close(struct store *s)
{
	struct pgc *c;

	if (s->lpipe[1] >= 0) {
		close(s->lpipe[1]);   /* the listener sees it and stops */
		pthread_join(s->lthr, NULL);
		close(s->lpipe[0]);
	}
	while ((c = s->pool) != NULL) {
		s->pool = c->next;
		cfree(c);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->dmu);
	free(s->conninfo);
	free(s);
}

static void
pg_kt_keys(struct store *s, const uint8_t *log_sk, const char *domain)
{
	s->kt_sk = log_sk;      /* set before the first request */
	s->kt_domain = domain;
}

/* ---- invites and accounts ---- */

static int
j_invite(struct store *s, struct pgc *c, void *arg)
{
	(void)s;
	OK(ex(c, Q_INV_INS, "t", (const char *)arg));
	return ST_OK;
}

static int
pg_invite_add(struct store *s, const char *code)
{
	return tx(s, j_invite, (void *)code);
}

struct ucreate {
	const char *user, *invite;
	const struct store_account *a;
	const uint8_t *pk;
	int64_t now;
};

static int
j_user_create(struct store *s, struct pgc *c, void *arg)
{
	struct ucreate *u = arg;
	uint8_t dev[NC_DEVID_LEN];
	int64_t n;

	(void)s;
	if (u->a->cost)
		n = ex(c, Q_USER_INS, "tbbiii", u->user, NULL, (size_t)0, NULL, (size_t)0,
		    (int64_t)0, (int64_t)0, u->now);
	else
		n = ex(c, Q_USER_INS, "tbbiii", u->user, u->a->auth_pk, (size_t)NC_PK_LEN,
		    u->a->salt, (size_t)NC_SALT_LEN, (int64_t)u->a->opslimit,
		    (int64_t)u->a->memlimit, u->now);
	if (n <= 0)
		return n == 0 ? ST_EXISTS : ST_ERR;
	if (u->invite && (n = ex(c, Q_INV_DEL, "t", u->invite)) != 1)
		return n == 0 ? ST_FORBIDDEN : ST_ERR;
	if (u->a->cost)
		OK(ex(c, Q_OPQ_SET, "tbi", u->user, u->a->record, sizeof u->a->record,
		    (int64_t)u->a->cost));
	nc_device_id(dev, u->pk);
	OK(ex(c, Q_DEV_INS, "tbbi", u->user, dev, (size_t)NC_DEVID_LEN,
	    u->pk, (size_t)NC_PK_LEN, (int64_t)0));
	return ST_OK;
}

static int
pg_user_create(struct store *s, const char *user, const struct store_account *a,
    const uint8_t pk[NC_PK_LEN], const char *invite, int64_t now)
{
	struct ucreate u = { user, invite, a, pk, now };

	return tx(s, j_user_create, &u);
}

static int
oldauth_rows(PGresult *r, void *arg)
{
	struct store_account *a = arg;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	a->opslimit = (uint64_t)col_i(r, 0, 2);
	a->memlimit = (uint64_t)col_i(r, 0, 3);
	return col_b(r, 0, 0, a->auth_pk, NC_PK_LEN) == 0 &&
	    col_b(r, 0, 1, a->salt, NC_SALT_LEN) == 0 ? ST_OK : ST_ERR;
}

static int
pg_user_get(struct store *s, const char *user, struct store_account *a)
{
	return rd(s, oldauth_rows, a, Q_USER_OLDAUTH, "t", user);
}

static int
j_user_delete(struct store *s, struct pgc *c, void *arg)
{
	const char *user = arg;
	int rc;

	(void)s;
	if ((rc = lock_user(c, user, NULL)) != ST_OK)
		return rc;
	OK(ex(c, Q_USER_DEL, "t", user));
	OK(ex(c, Q_DEV_DEL, "t", user));
	OK(ex(c, Q_NON_DELUSER, "t", user));
	OK(ex(c, Q_OTPK_DELUSER, "t", user));
	OK(ex(c, Q_MAIL_DELUSER, "t", user));
	OK(ex(c, Q_IDB_DELUSER, "t", user));
	OK(ex(c, Q_OPQ_DELUSER, "t", user));
	OK(ex(c, Q_BK_DELUSER, "t", user));
	OK(ex(c, Q_BKR_DELUSER, "t", user));
	OK(ex(c, Q_CTR_DELUSER, "t", user));
	OK(ex(c, Q_LINK_DELUSER, "t", user));
	OK(ex(c, Q_PUSH_DELUSER, "t", user));
	OK(ex(c, Q_KT_FORGET, "t", user));
	return ST_OK;
}

static int
pg_user_delete(struct store *s, const char *user)
{
	return tx(s, j_user_delete, (void *)user);
}

/* ---- OPAQUE records ---- */

struct opqget {
	uint8_t *record;
	int *cost;
};

static int
opaque_rows(PGresult *r, void *arg)
{
	struct opqget *o = arg;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	*o->cost = (int)col_i(r, 0, PQnfields(r) - 1);
	return o->record == NULL || col_b(r, 0, 0, o->record, 192) == 0 ? ST_OK : ST_ERR;
}

static int
pg_opaque_get(struct store *s, const char *user, uint8_t record[192], int *cost)
{
	struct opqget o = { record, cost };

	return rd(s, opaque_rows, &o, Q_OPQ_GET, "t", user);
}

static int
pg_opaque_common_cost(struct store *s, int *cost)
{
	struct opqget o = { NULL, cost };

	return rd(s, opaque_rows, &o, Q_OPQ_COMMON, "");
}

struct opqset {
	const char *user;
	const uint8_t *record, *backup;
	int cost;
	size_t n;
};

static int
j_opaque_set(struct store *s, struct pgc *c, void *arg)
{
	struct opqset *o = arg;
	int rc;

	(void)s;
	if ((rc = lock_user(c, o->user, NULL)) != ST_OK)
		return rc;
	OK(ex(c, Q_OPQ_SET, "tbi", o->user, o->record, (size_t)192, (int64_t)o->cost));
	OK(ex(c, Q_USER_OLDAUTH_DEL, "t", o->user));
	OK(ex(c, Q_NON_DELUSER, "t", o->user));
	if (o->n > 0)
		OK(ex(c, Q_IDB_PUT, "tb", o->user, o->backup, o->n));
	return ST_OK;
}

static int
pg_opaque_set(struct store *s, const char *user, const uint8_t record[192],
    int cost, const uint8_t *backup, size_t n)
{
	struct opqset o = { user, record, backup, cost, n };

	return tx(s, j_opaque_set, &o);
}

/* ---- login challenges ---- */

struct nonce {
	const char *user;
	const uint8_t *n;
	int64_t expires, now;
	int found;
};

static int
j_nonce_put(struct store *s, struct pgc *c, void *arg)
{
	struct nonce *n = arg;
	PGresult *r;
	int64_t k;
	int rc;

	if ((rc = lock_user(c, n->user, NULL)) != ST_OK)
		return rc;
	if ((r = q(c, Q_NON_COUNT, "ti", n->user, n->now)) == NULL)
		return ST_ERR;
	k = col_i(r, 0, 0);
	PQclear(r);
	if (k >= s->lim.nonces_max)
		return ST_FULL;
	OK(ex(c, Q_NON_INS, "tbi", n->user, n->n, (size_t)NC_NONCE_LEN, n->expires));
	return ST_OK;
}

static int
pg_nonce_put(struct store *s, const char *user, const uint8_t nonce[NC_NONCE_LEN],
    int64_t expires, int64_t now)
{
	struct nonce n = { user, nonce, expires, now, ST_OK };

	return tx(s, j_nonce_put, &n);
}

static int
j_nonce_take(struct store *s, struct pgc *c, void *arg)
{
	struct nonce *n = arg;
	PGresult *r = q(c, Q_NON_DEL, "tb", n->user, n->n, (size_t)NC_NONCE_LEN);

	(void)s;
	if (r == NULL)
		return ST_ERR;
	n->found = PQntuples(r) == 1 && col_i(r, 0, 0) >= n->now ? ST_OK : ST_NOTFOUND;
	PQclear(r);
	return ST_OK;   /* committed either way: a consumed nonce stays consumed */
}

static int
pg_nonce_take(struct store *s, const char *user, const uint8_t nonce[NC_NONCE_LEN],
    int64_t now)
{
	struct nonce n = { user, nonce, 0, now, ST_ERR };
	int rc = tx(s, j_nonce_take, &n);

	return rc != ST_OK ? rc : n.found;
}

/* ---- devices and device lists ---- */

struct devadd {
	const char *user;
	const uint8_t *pk;
};

static int
j_device_add(struct store *s, struct pgc *c, void *arg)
{
	struct devadd *d = arg;
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if ((rc = lock_user(c, d->user, NULL)) != ST_OK)
		return rc;
	nc_device_id(dev, d->pk);
	OK(ex(c, Q_DEV_ADD, "tbb", d->user, dev, (size_t)NC_DEVID_LEN, d->pk,
	    (size_t)NC_PK_LEN));
	if (count(c, Q_DEV_COUNT, d->user, NULL) > s->lim.devices_max)
		return ST_FULL;
	return ST_OK;
}

static int
pg_device_add(struct store *s, const char *user, const uint8_t pk[NC_PK_LEN])
{
	struct devadd d = { user, pk };

	return tx(s, j_device_add, &d);
}

struct devkey {
	const char *user;
	const uint8_t *dev;
	uint8_t *pk;
	int joining;
};

static int
devkey_rows(PGresult *r, void *arg)
{
	struct devkey *k = arg;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	if (k->joining && col_i(r, 0, 1) != 0)
		return ST_GONE;
	return col_b(r, 0, 0, k->pk, NC_PK_LEN) == 0 ? ST_OK : ST_ERR;
}

static int
devstate_read(PGresult *r, void *arg)
{
	return devstate_rows(r, arg);
}

static int
pg_device_key(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    uint8_t pk[NC_PK_LEN])
{
	struct devkey k = { user, dev, pk, 0 };
	struct devstate d;
	int rc = rd(s, devstate_read, &d, Q_DEV_CURRENT, "bt", dev, (size_t)NC_DEVID_LEN,
	    user);

	if (rc != ST_OK)
		return rc;
	return rd(s, devkey_rows, &k, Q_DEV_GET, "tb", user, dev, (size_t)NC_DEVID_LEN);
}

static int
pg_device_joining(struct store *s, const char *user,
    const uint8_t dev[NC_DEVID_LEN], uint8_t pk[NC_PK_LEN])
{
	struct devkey k = { user, dev, pk, 1 };

	return rd(s, devkey_rows, &k, Q_DEV_GET, "tb", user, dev, (size_t)NC_DEVID_LEN);
}

/* ---- identity-key backups ---- */

struct idbput {
	const char *user;
	const uint8_t *p;
	size_t n;
};

static int
j_idbackup_put(struct store *s, struct pgc *c, void *arg)
{
	struct idbput *b = arg;
	int rc;

	(void)s;
	if ((rc = lock_user(c, b->user, NULL)) != ST_OK)
		return rc;
	OK(ex(c, Q_IDB_PUT, "tb", b->user, b->p, b->n));
	return ST_OK;
}

static int
pg_idbackup_put(struct store *s, const char *user, const uint8_t *p, size_t n)
{
	struct idbput b = { user, p, n };

	return tx(s, j_idbackup_put, &b);
}

static int
buf_rows(PGresult *r, void *arg)
{
	if (PQntuples(r) != 1)
		return ST_OK;   /* none: empty */
	return nc_buf_add(arg, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)) == 0 ?
	    ST_OK : ST_ERR;
}

static int
pg_idbackup_get(struct store *s, const char *user, nc_buf *out)
{
	return rd(s, buf_rows, out, Q_IDB_GET, "t", user);
}

struct dlput {
	const char *user;
	uint64_t version;
	const uint8_t *identity, *list;
	size_t len, ndev;
	const uint8_t (*dev)[NC_DEVID_LEN];
	const uint8_t (*pk)[NC_PK_LEN];
	const struct store_kt_leaf *kt;
};

static int
j_devlist_put(struct store *s, struct pgc *c, void *arg)
{
	struct dlput *p = arg;
	PGresult *r = q(c, Q_USER_LOCK, "t", p->user);
	uint8_t id[NC_PK_LEN];
	uint64_t cur;
	int pinned;

	if (r == NULL)
		return ST_ERR;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return ST_NOTFOUND;
	}
	PQclear(r);
	/* the row is ours until the commit: the version read now stays */
	if ((r = q(c, Q_USER_DL, "t", p->user)) == NULL || PQntuples(r) != 1) {
		PQclear(r);
		return ST_ERR;
	}
	cur = (uint64_t)col_i(r, 0, 0);
	pinned = col_b(r, 0, 1, id, NC_PK_LEN) == 0;
	PQclear(r);
	if (p->version <= cur)
		return ST_CONFLICT;
	if (pinned && memcmp(id, p->identity, NC_PK_LEN) != 0)
		return ST_FORBIDDEN;
	OK(ex(c, Q_USER_DL_SET, "ibbt", (int64_t)p->version, p->identity,
	    (size_t)NC_PK_LEN, p->list, p->len, p->user));
	OK(ex(c, Q_DEV_UNLIST, "t", p->user));
	for (size_t i = 0; i < p->ndev; i++)
		OK(ex(c, Q_DEV_INS, "tbbi", p->user, p->dev[i], (size_t)NC_DEVID_LEN,
		    p->pk[i], (size_t)NC_PK_LEN, (int64_t)1));
	/* A device the list no longer names is revoked: its mailbox and
	 * prekeys go with it (protocol.md 1.4). */
	OK(ex(c, Q_DEV_PURGE_MAIL, "t", p->user));
	OK(ex(c, Q_DEV_PURGE_OTPK, "t", p->user));
	OK(ex(c, Q_DEV_PURGE_PUSH, "t", p->user));
	OK(ex(c, Q_DEV_PURGE, "t", p->user));
	return kt_append(s, c, p->user, p->version, p->kt);
}

static int
pg_devlist_put(struct store *s, const char *user, uint64_t version,
    const uint8_t identity[NC_PK_LEN], const uint8_t *list, size_t len,
    const uint8_t (*dev)[NC_DEVID_LEN], const uint8_t (*pk)[NC_PK_LEN], size_t ndev,
    const struct store_kt_leaf *kt)
{
	struct dlput p = { user, version, identity, list, len, ndev, dev, pk, kt };

	if (kt == NULL)
		return ST_ERR;
	if (version > INT64_MAX)
		return ST_CONFLICT;
	return tx(s, j_devlist_put, &p);
}

struct dlget {
	nc_buf *out;
	uint64_t *version;
};

static int
devlist_rows(PGresult *r, void *arg)
{
	struct dlget *g = arg;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	*g->version = (uint64_t)col_i(r, 0, 0);
	if (*g->version == 0)
		return ST_NOTFOUND;
	return nc_buf_add(g->out, PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2)) == 0 ?
	    ST_OK : ST_ERR;
}

static int
pg_devlist_get(struct store *s, const char *user, nc_buf *out, uint64_t *version)
{
	struct dlget g = { out, version };

	return rd(s, devlist_rows, &g, Q_USER_DL, "t", user);
}

/* ---- the encrypted backup slot ---- */

struct bkrput {
	const char *user;
	const struct store_backup_rec *v;
	size_t n;
};

static int
j_backup_rec_put(struct store *s, struct pgc *c, void *arg)
{
	struct bkrput *b = arg;
	PGresult *r;
	int64_t n, bytes;
	int rc;

	if ((rc = lock_user(c, b->user, NULL)) != ST_OK)
		return rc;
	if ((r = q(c, Q_BKR_USAGE, "t", b->user)) == NULL || PQntuples(r) != 1) {
		PQclear(r);
		return ST_ERR;
	}
	n = col_i(r, 0, 0);
	bytes = col_i(r, 0, 1);
	PQclear(r);
	/* A record held already is no new use of the quota: a retry into a
	 * slot exactly full succeeds (the transaction takes back a record
	 * stored past the limits). */
	for (size_t i = 0; i < b->n; i++) {
		const struct store_backup_rec *v = &b->v[i];
		int64_t k;
		if ((k = ex(c, Q_BKR_PUT, "tbb", b->user, v->hash, (size_t)32, v->p, v->n)) < 0)
			return ST_ERR;
		if (k == 1) {   /* new, not held already */
			if ((uint64_t)n >= s->lim.backup_records ||
			    (uint64_t)bytes + v->n > s->lim.backup_bytes)
				return ST_FULL;
			n++;
			bytes += (int64_t)v->n;
		}
	}
	return ST_OK;
}

static int
pg_backup_rec_put(struct store *s, const char *user, const struct store_backup_rec *v,
    size_t n)
{
	struct bkrput b = { user, v, n };

	return tx(s, j_backup_rec_put, &b);
}

static int
found_rows(PGresult *r, void *arg)
{
	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	return nc_buf_add(arg, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)) == 0 ?
	    ST_OK : ST_ERR;
}

static int
pg_backup_rec_get(struct store *s, const char *user, const uint8_t hash[32],
    nc_buf *out)
{
	return rd(s, found_rows, out, Q_BKR_GET, "tb", user, hash, (size_t)32);
}

struct bkhput {
	const char *user;
	const struct store_backup_head *h;
};

static int
j_backup_head_put(struct store *s, struct pgc *c, void *arg)
{
	struct bkhput *b = arg;
	const struct store_backup_head *h = b->h;
	PGresult *r;
	int64_t n;
	int rc;

	(void)s;
	if ((rc = lock_user(c, b->user, NULL)) != ST_OK)
		return rc;
	if ((r = q(c, Q_BK_GET, "t", b->user)) == NULL)
		return ST_ERR;
	rc = PQntuples(r) == 1 && (uint64_t)col_i(r, 0, 0) >= h->counter ?
	    ST_CONFLICT : ST_OK;
	PQclear(r);
	if (rc != ST_OK)
		return rc;
	/* Every record the manifest lists must be here; the rest go. */
	OK(ex(c, Q_BKR_UNMARK, "t", b->user));
	for (size_t i = 0; i < h->n; i++) {
		if ((n = ex(c, Q_BKR_MARK, "tb", b->user, h->hashes[i], (size_t)32)) < 0)
			return ST_ERR;
		if (n != 1)
			return ST_STALE;
	}
	OK(ex(c, Q_BKR_PRUNE, "t", b->user));
	OK(ex(c, Q_BK_SET, "tibbb", b->user, (int64_t)h->counter, h->access,
	    (size_t)32, h->keys, h->keys_len, h->manifest, h->manifest_len));
	return ST_OK;
}

static int
pg_backup_head_put(struct store *s, const char *user,
    const struct store_backup_head *h)
{
	struct bkhput b = { user, h };

	if (h->counter > INT64_MAX)
		return ST_CONFLICT;
	return tx(s, j_backup_head_put, &b);
}

struct bkhget {
	uint8_t *access;
	nc_buf *keys, *manifest;
};

static int
bkhead_rows(PGresult *r, void *arg)
{
	struct bkhget *g = arg;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	return col_b(r, 0, 1, g->access, 32) == 0 &&
	    (g->keys == NULL || nc_buf_add(g->keys, PQgetvalue(r, 0, 2),
	    (size_t)PQgetlength(r, 0, 2)) == 0) &&
	    (g->manifest == NULL || nc_buf_add(g->manifest, PQgetvalue(r, 0, 3),
	    (size_t)PQgetlength(r, 0, 3)) == 0) ? ST_OK : ST_ERR;
}

static int
pg_backup_head_get(struct store *s, const char *user, uint8_t access[32],
    nc_buf *keys, nc_buf *manifest)
{
	struct bkhget g = { access, keys, manifest };

	return rd(s, bkhead_rows, &g, Q_BK_GET, "t", user);
}

/* ---- the key log: reads ---- */

/* Runs fn on a pooled connection (the proofs read many rows). */
static int
with_conn(struct store *s, int (*fn)(struct pgc *c, void *arg), void *arg)
{
	struct pgc *c = cget(s);
	int rc;

	if (c == NULL)
		return ST_ERR;
	rc = fn(c, arg);
	cput(s, c);
	return rc;
}

struct ktq {
	const char *user;
	uint64_t version, since, from, to, start;
	size_t count;
	int64_t size;
	void *out;
};

static int
c_kt_size(struct pgc *c, void *arg)
{
	struct ktq *k = arg;

	return (k->size = kt_size(c)) < 0 ? ST_ERR : ST_OK;
}

static int64_t
pg_kt_size(struct store *s)
{
	struct ktq k = { 0 };

	return with_conn(s, c_kt_size, &k) == ST_OK ? k.size : -1;
}

/* The leaf of (user, version): its index, opening (if o) and VRF proof. */
static int
leaf_find(struct pgc *c, const char *user, uint64_t version, uint64_t *index,
    uint8_t *opening, uint8_t *vrf)
{
	PGresult *r;
	int rc;

	if (version > INT64_MAX)
		return ST_NOTFOUND;
	if ((r = q(c, Q_KT_LEAF_FIND, "ti", user, (int64_t)version)) == NULL)
		return ST_ERR;
	if (PQntuples(r) != 1)
		rc = ST_NOTFOUND;
	else {
		*index = (uint64_t)col_i(r, 0, 0);
		rc = (opening == NULL || col_b(r, 0, 1, opening, 32) == 0) &&
		    col_b(r, 0, 2, vrf, NC_VRF_PROOF) == 0 ? ST_OK : ST_ERR;
	}
	PQclear(r);
	return rc;
}

static int
c_kt_prove(struct pgc *c, void *arg)
{
	struct ktq *k = arg;
	nc_kt_proof *p = k->out;
	int rc;

	memset(p, 0, sizeof *p);
	if ((rc = leaf_find(c, k->user, k->version, &p->index, p->opening, p->vrf)) != ST_OK)
		return rc;
	p->version = k->version;
	if (kt_head(c, &p->head) != ST_OK || p->index >= p->head.size ||
	    nc_merkle_inclusion_proof(p->incl, &p->nincl, perfect, c, p->index,
	    p->head.size) != 0)
		return ST_ERR;
	if (k->since > 0 && k->since <= p->head.size) {
		p->since = k->since;
		if (nc_merkle_consistency_proof(p->cons, &p->ncons, perfect, c, k->since,
		    p->head.size) != 0)
			return ST_ERR;
	}
	return ST_OK;
}

static int
pg_kt_prove(struct store *s, const char *user, uint64_t version, uint64_t since,
    nc_kt_proof *p)
{
	struct ktq k = { .user = user, .version = version, .since = since, .out = p };

	return with_conn(s, c_kt_prove, &k);
}

static int
c_kt_head(struct pgc *c, void *arg)
{
	return kt_head(c, ((struct ktq *)arg)->out);
}

static int
pg_kt_head(struct store *s, nc_kt_head *h)
{
	struct ktq k = { .out = h };

	return with_conn(s, c_kt_head, &k);
}

static int
c_kt_cons(struct pgc *c, void *arg)
{
	struct ktq *k = arg;
	nc_kt_cons *out = k->out;
	nc_kt_head h;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = kt_head(c, &h)) != ST_OK)
		return rc;
	if (k->to > h.size)
		return ST_NOTFOUND;
	out->from = k->from;
	out->to = k->to;
	return nc_merkle_consistency_proof(out->h, &out->n, perfect, c, k->from, k->to) == 0 ?
	    ST_OK : ST_ERR;
}

static int
pg_kt_consistency(struct store *s, uint64_t from, uint64_t to, nc_kt_cons *out)
{
	struct ktq k = { .from = from, .to = to, .out = out };

	return with_conn(s, c_kt_cons, &k);
}

static int
c_kt_entries(struct pgc *c, void *arg)
{
	struct ktq *k = arg;
	nc_kt_entries *e = k->out;
	PGresult *r;
	nc_kt_head h;
	uint64_t end;
	size_t count = k->count > NC_KT_ENTRIES_MAX ? NC_KT_ENTRIES_MAX : k->count;
	int rc, n;

	e->start = k->start;
	e->n = 0;
	if ((rc = kt_head(c, &h)) == ST_NOTFOUND)
		h.size = 0;
	else if (rc != ST_OK)
		return rc;
	if (k->start > h.size)
		return ST_NOTFOUND;
	end = h.size - k->start < count ? h.size : k->start + count;
	if ((r = q(c, Q_KT_LEAVES, "ii", (int64_t)k->start, (int64_t)end)) == NULL)
		return ST_ERR;
	n = PQntuples(r);
	for (int i = 0; i < n && e->n < NC_KT_ENTRIES_MAX; i++) {
		e->leaf[e->n][0] = 1;
		if (col_b(r, i, 0, e->leaf[e->n] + 1, NC_KT_LABEL) != 0 ||
		    col_b(r, i, 1, e->leaf[e->n] + 1 + NC_KT_LABEL, 32) != 0)
			break;
		e->n++;
	}
	PQclear(r);
	return e->n == end - k->start ? ST_OK : ST_ERR;
}

static int
pg_kt_entries(struct store *s, uint64_t start, size_t count, nc_kt_entries *e)
{
	struct ktq k = { .start = start, .count = count, .out = e };

	return with_conn(s, c_kt_entries, &k);
}

static int
c_kt_label(struct pgc *c, void *arg)
{
	struct ktq *k = arg;
	nc_kt_labelproof *l = k->out;
	int rc;

	memset(l, 0, sizeof *l);
	if ((rc = leaf_find(c, k->user, k->version, &l->index, NULL, l->vrf)) == ST_OK)
		l->version = k->version;
	return rc;
}

static int
pg_kt_label(struct store *s, const char *user, uint64_t version, nc_kt_labelproof *l)
{
	struct ktq k = { .user = user, .version = version, .out = l };

	return with_conn(s, c_kt_label, &k);
}

struct ktfill {
	char user[NC_NAME_MAX + 1];
	uint64_t version;
	struct store_kt_leaf leaf;
};

static int
j_kt_fill(struct store *s, struct pgc *c, void *arg)
{
	struct ktfill *f = arg;
	uint8_t vrf[NC_VRF_PROOF];
	uint64_t cur = 0, idx;
	int rc;

	if ((rc = lock_user(c, f->user, &cur)) == ST_NOTFOUND)
		return ST_OK;
	if (rc != ST_OK)
		return rc;
	if (cur != f->version ||
	    (rc = leaf_find(c, f->user, f->version, &idx, NULL, vrf)) == ST_OK)
		return ST_OK;
	if (rc != ST_NOTFOUND)
		return rc;
	return kt_append(s, c, f->user, f->version, &f->leaf);
}

struct backfill {
	struct store *s;
	store_kt_fill_fn fn;
	void *arg;
};

static int
unlogged_rows(PGresult *r, void *arg)
{
	struct backfill *b = arg;
	struct ktfill f;
	uint8_t id[NC_PK_LEN];
	int n = PQntuples(r);

	for (int i = 0; i < n; i++) {
		if ((size_t)PQgetlength(r, i, 0) > NC_NAME_MAX ||
		    col_b(r, i, 2, id, NC_PK_LEN) != 0)
			continue;
		snprintf(f.user, sizeof f.user, "%s", PQgetvalue(r, i, 0));
		f.version = (uint64_t)col_i(r, i, 1);
		if (b->fn(b->arg, f.user, f.version, id,
		    (const uint8_t *)PQgetvalue(r, i, 3), (size_t)PQgetlength(r, i, 3),
		    &f.leaf) != 0 || tx(b->s, j_kt_fill, &f) != ST_OK)
			return ST_ERR;
	}
	return ST_OK;
}

static int
pg_kt_backfill(struct store *s, store_kt_fill_fn fn, void *arg)
{
	struct backfill b = { s, fn, arg };

	return rd(s, unlogged_rows, &b, Q_KT_UNLOGGED, "");
}

/* ---- prekeys ---- */

struct pkput {
	const char *user;
	const uint8_t *dev;
	const struct nc_prekeys *k;
};

static int
j_prekeys_put(struct store *s, struct pgc *c, void *arg)
{
	struct pkput *p = arg;
	struct devstate d;
	int rc;

	if ((rc = lock_user(c, p->user, NULL)) != ST_OK ||
	    (rc = devstate(c, p->user, p->dev, &d)) != ST_OK)
		return rc;
	if (p->k->has_spk)
		OK(ex(c, Q_DEV_SPK, "ibbtb", (int64_t)p->k->spk_id, p->k->spk_pk,
		    (size_t)NC_PK_LEN, p->k->spk_sig, (size_t)NC_SIG_LEN, p->user,
		    p->dev, (size_t)NC_DEVID_LEN));
	for (size_t i = 0; i < p->k->n; i++)
		OK(ex(c, Q_OTPK_INS, "tbib", p->user, p->dev, (size_t)NC_DEVID_LEN,
		    (int64_t)p->k->otpk[i].id, p->k->otpk[i].pk, (size_t)NC_PK_LEN));
	if (count(c, Q_OTPK_COUNT, p->user, p->dev) > s->lim.otpk_max)
		return ST_FULL;
	return ST_OK;
}

static int
pg_prekeys_put(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_prekeys *k)
{
	struct pkput p = { user, dev, k };

	return tx(s, j_prekeys_put, &p);
}

struct pkcount {
	const char *user;
	const uint8_t *dev;
	struct nc_prekey_count *pc;
};

static int
c_prekeys_count(struct pgc *c, void *arg)
{
	struct pkcount *k = arg;
	struct devstate d;
	int64_t n;
	int rc;

	if ((rc = devstate(c, k->user, k->dev, &d)) != ST_OK)
		return rc;
	k->pc->spk_id = d.has_spk ? (uint32_t)d.spk_id : 0;
	n = count(c, Q_OTPK_COUNT, k->user, k->dev);
	k->pc->otpk_count = (uint32_t)n;
	return n < 0 ? ST_ERR : ST_OK;
}

static int
pg_prekeys_count(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    struct nc_prekey_count *pc)
{
	struct pkcount k = { user, dev, pc };

	return with_conn(s, c_prekeys_count, &k);
}

struct ctr {
	const char *user;
	const uint8_t *dev;
	const struct nc_counter_req *q;
	struct nc_counter *out;
};

/* Compare and set, under the user's lock: (n, tag) becomes (n + 1, next);
 * the same request again (its answer lost) finds (n + 1, next) and
 * succeeds again. Otherwise ST_CONFLICT and out is what the relay holds. */
static int
j_counter(struct store *s, struct pgc *c, void *arg)
{
	struct ctr *k = arg;
	struct devstate d;
	PGresult *r;
	int rc, write;

	(void)s;
	if ((rc = lock_user(c, k->user, NULL)) != ST_OK ||
	    (rc = devstate(c, k->user, k->dev, &d)) != ST_OK)
		return rc;
	memset(k->out, 0, sizeof *k->out);
	if ((r = q(c, Q_CTR_GET, "tb", k->user, k->dev, (size_t)NC_DEVID_LEN)) == NULL)
		return ST_ERR;
	rc = ST_OK;
	if (PQntuples(r) == 1) {
		k->out->n = (uint64_t)col_i(r, 0, 0);
		if (col_b(r, 0, 1, k->out->tag, 16) != 0)
			rc = ST_ERR;
	}
	PQclear(r);
	if (rc != ST_OK)
		return rc;
	if ((rc = store_counter_next(k->out, k->q, &write)) != ST_OK || !write)
		return rc;
	OK(ex(c, Q_CTR_SET, "tbib", k->user, k->dev, (size_t)NC_DEVID_LEN,
	    (int64_t)k->out->n, k->out->tag, (size_t)16));
	if (k->q->flags & NC_COUNTER_DROP_OTPK)
		OK(ex(c, Q_OTPK_DELDEV, "tb", k->user, k->dev, (size_t)NC_DEVID_LEN));
	return ST_OK;
}

static int
pg_counter(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_counter_req *q_, struct nc_counter *out)
{
	struct ctr k = { user, dev, q_, out };

	return tx(s, j_counter, &k);
}

struct claim {
	const char *user;
	const struct nc_claim_req *q;
	struct nc_claim_resp *r;
};

static int
claim_one(struct pgc *c, const char *user, const uint8_t *dev, struct nc_claim_resp *r)
{
	struct devstate d;
	struct nc_bundle *b;
	PGresult *res;
	int rc;

	if ((rc = devstate(c, user, dev, &d)) != ST_OK)
		return rc;
	if (!d.has_spk || r->n >= NC_CLAIM_MAX)
		return ST_OK;
	b = &r->b[r->n++];
	memset(b, 0, sizeof *b);
	memcpy(b->dev, dev, NC_DEVID_LEN);
	b->spk_id = (uint32_t)d.spk_id;
	memcpy(b->spk_pk, d.spk_pk, NC_PK_LEN);
	memcpy(b->spk_sig, d.spk_sig, NC_SIG_LEN);
	if ((res = q(c, Q_OTPK_TAKE, "tb", user, dev, (size_t)NC_DEVID_LEN)) == NULL)
		return ST_ERR;
	if (PQntuples(res) == 1 && col_b(res, 0, 1, b->otpk_pk, NC_PK_LEN) == 0) {
		b->has_otpk = 1;
		b->otpk_id = (uint32_t)col_i(res, 0, 0);
	}
	PQclear(res);
	return ST_OK;
}

static int
j_claim(struct store *s, struct pgc *c, void *arg)
{
	struct claim *k = arg;
	uint8_t devs[NC_CLAIM_MAX][NC_DEVID_LEN];
	PGresult *r;
	size_t n = 0;
	int rc;

	(void)s;
	k->r->n = 0;
	if ((r = q(c, Q_USER_DL, "t", k->user)) == NULL)
		return ST_ERR;
	rc = PQntuples(r) == 1 ? ST_OK : ST_NOTFOUND;
	PQclear(r);
	if (rc != ST_OK)
		return rc;
	if (k->q->n > 0) {
		for (size_t i = 0; i < k->q->n; i++)
			if ((rc = claim_one(c, k->user, k->q->dev[i], k->r)) != ST_OK)
				return rc;
		return ST_OK;
	}
	/* Every current device: listed ones once a list exists, else the
	 * registered ones. */
	for (int64_t any = 0; any < 2 && n == 0; any++) {
		if ((r = q(c, Q_DEV_LIST, "ti", k->user, any)) == NULL)
			return ST_ERR;
		for (int i = 0; i < PQntuples(r) && n < NC_CLAIM_MAX; i++)
			if (col_b(r, i, 0, devs[n], NC_DEVID_LEN) == 0)
				n++;
		PQclear(r);
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = claim_one(c, k->user, devs[i], k->r)) != ST_OK)
			return rc;
	return ST_OK;
}

static int
pg_claim(struct store *s, const char *user, const struct nc_claim_req *q_,
    struct nc_claim_resp *r)
{
	struct claim k = { user, q_, r };

	return tx(s, j_claim, &k);
}

/* ---- mailboxes ---- */

/* One envelope delivered in one statement (Q_DELIVER): the user's row
 * locked, the device's state, a stored envelope of that id, the quota,
 * then the row stored and the quota counted - or none of it, and a status
 * that says why. The statuses: */
enum {
	D_HELD,       /* stored before with the same bytes: ok, nothing stored */
	D_NODEV,      /* no such device */
	D_GONE,       /* not in the current device list */
	D_STALE,      /* another device-list version */
	D_CONFLICT,   /* stored before with other bytes */
	D_FULL,       /* quota */
	D_STORED      /* stored now */
};

/* the answer of each */
static const int rcs[] = { ST_OK, ST_NOTFOUND, ST_GONE, ST_STALE, ST_CONFLICT,
	ST_FULL, ST_OK };

struct deliver {
	const char *user;
	const struct store_env *e;
	size_t n;
	const uint64_t *version;
	uint64_t cur;
	int64_t now;
};

/* ---- group commit of deliveries ----
 * Deliveries to one mailbox wait for each other on the user's row lock,
 * held to each commit: one commit (one WAL flush) per delivery. So the
 * deliveries waiting in this process go in one transaction instead: the
 * first to find none running leads; it takes every delivery queued (up to
 * BATCH_MAX) and sends, in one pipeline, BEGIN, the lock of all their
 * users in ascending order (as every batch does, in every process: no two
 * wait for each other in a circle), one statement for all their envelopes
 * (Q_DELIVER_SET) and COMMIT: one round trip for all of it (and the
 * commit's WAL flush), after which it answers them all. (A statement per
 * envelope, Q_DELIVER, sets up its executor each time: the server's CPU
 * per delivery, all its processes, was 160 us where one statement for the
 * batch takes 110, t/bench/relay-pg.sh's load.) The NOTIFY of their
 * mailboxes (to every listening process) follows in the same pipeline, in
 * a transaction of its own with synchronous_commit off: a transaction
 * that NOTIFYs holds a lock of the whole database from its commit until
 * the commit's WAL flush is done, so delivery transactions that NOTIFYd
 * committed one at a time, each waiting for its own flush, whatever the
 * relay processes; this one waits for none, and the deliveries' commits
 * share flushes again. It is skipped when the batch's transaction fails
 * (after an error nothing runs up to the pipeline's end); a crash between
 * the two loses only the wake-up (a long-poll ends at its deadline, and
 * lists). A delivery refused (ST_FULL, ST_CONFLICT, ...) stored nothing
 * and gets its own answer. When the one statement cannot tell the
 * statuses (see Q_DELIVER_SET) it undoes the transaction, and the batch
 * runs again one statement per envelope (ONEBYONE): then a refusal of
 * one of a job's several envelopes (all or nothing), or a statement that
 * failed, undoes the whole transaction (the COMMIT after it is not run):
 * that job gets its answer, and the batch is run again without it (no
 * savepoints). A batch that fails to commit answers each ST_ERR (503):
 * nothing of it is kept, and a retry with the same envelope ids stores
 * them once. When it is done, the next queued delivery leads. */

#define BATCH_MAX 64
#define RERUN (-1)   /* j_batch: rolled back, run the jobs still in again */
#define ONEBYONE (-2) /* j_batch: rolled back, run it one envelope at a time */

struct djob {
	struct deliver *d;
	int rc, done;
	int out;             /* answered (rc): not in the batch's next run */
	pthread_cond_t cv;   /* its own: waking one waiter, not all of them */
	struct djob *next;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Queues the lock of every user of the batch, in ascending order, as one
 * statement. A user not there is left out: its deliveries say so (and
 * should it be created before they run, Q_DELIVER locks it). */
static int
lock_batch(struct pgc *c, struct djob *batch)
{
	const char **u;
	size_t n = 0, k = 0, len = 1;
	struct djob *j;
	char *names, *p;
	int rc;

	for (j = batch; j; j = j->next)
		if (!j->out)
			n += j->d->user ? 1 : j->d->n;
	if ((u = calloc(n ? n : 1, sizeof *u)) == NULL)
		return -1;
	for (j = batch; j; j = j->next)
		for (size_t i = 0; !j->out && i < (j->d->user ? 1 : j->d->n); i++)
			u[k++] = j->d->user ? j->d->user : j->d->e[i].user;
	qsort(u, n, sizeof *u, by_name);
	for (k = 0; k < n; k++)
		len += strlen(u[k]) + 1;
	if ((names = p = malloc(len)) == NULL) {
		free(u);
		return -1;
	}
	for (k = 0; k < n; k++)
		if (k == 0 || strcmp(u[k - 1], u[k]) != 0)
			p += sprintf(p, "%s%s", p == names ? "" : "/", u[k]);
	rc = sendq(c, Q_USER_LOCKALL, "t", names);
	free(names);
	free(u);
	return rc;
}

static int
retryable(const struct pgc *c)
{
	return broken(c) || strcmp(c->state, "40001") == 0 ||
	    strcmp(c->state, "40P01") == 0 || strcmp(c->state, "55P03") == 0;
}

static int
prepare_as(struct pgc *c, int id, const char *fmt)
{
	struct qp p = { .n = (int)strlen(fmt) };
	char name[16];

	for (int i = 0; i < p.n && i < MAXP; i++)
		p.types[i] = fmt_type(fmt[i]);
	return p.n > MAXP ? -1 : prepare(c, id, &p, name);
}

/* What Q_DELIVER and Q_DELIVER_SET take of envelope e of d: its user, the
 * device-list version it was sent for, its bytes (returned, *len of them)
 * and their hash. NULL if out of memory; else *joined is to be freed. */
static const uint8_t *
env_fields(const struct deliver *d, const struct store_env *e, const char **user,
    const uint64_t **version, uint8_t h[32], size_t *len, uint8_t **joined)
{
	const uint8_t *env;

	*user = e->user ? e->user : d->user;
	*version = e->user ? e->version : d->version;
	if ((env = store_env_bytes(e, len, joined)) != NULL)
		crypto_generichash(h, 32, env, *len, NULL, 0);
	return env;
}

static int64_t
mail_bytes_max(const struct store *s)
{
	return s->lim.mail_bytes > INT64_MAX ? INT64_MAX : (int64_t)s->lim.mail_bytes;
}

/* Queues envelope e of d. */
static int
send_env(struct store *s, struct pgc *c, const struct deliver *d, const struct store_env *e)
{
	const char *user;
	const uint64_t *version;
	uint8_t h[32], *joined;
	const uint8_t *env;
	size_t len;
	int rc;

	if ((env = env_fields(d, e, &user, &version, h, &len, &joined)) == NULL)
		return -1;
	rc = sendq(c, Q_DELIVER, "tbbbibiiiii", user, e->dev, (size_t)NC_DEVID_LEN,
	    e->envid, (size_t)NC_ENVID_LEN, h, sizeof h, d->now, env, len,
	    (int64_t)(version != NULL), version ? (int64_t)*version : (int64_t)0,
	    (int64_t)s->lim.mail_count, mail_bytes_max(s), (int64_t)(d->n > 1));
	free(joined);
	return rc;
}

/* An array parameter in PostgreSQL's binary form (what array_recv reads):
 * one dimension of n elements numbered from 1, no NULLs, then each
 * element as its length (4 bytes, big-endian) and its bytes. */
struct pgarr {
	uint8_t *p;
	size_t len, cap;
	int err;   /* out of memory */
};

static void
arr_put(struct pgarr *a, const void *p, size_t n)
{
	uint8_t *q;

	if (a->err)
		return;
	if (n > a->cap - a->len) {
		if ((q = realloc(a->p, 2 * (a->len + n))) == NULL) {
			a->err = 1;
			return;
		}
		a->p = q;
		a->cap = 2 * (a->len + n);
	}
	memcpy(a->p + a->len, p, n);
	a->len += n;
}

static void
arr_u32(struct pgarr *a, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	arr_put(a, b, 4);
}

static void
arr_begin(struct pgarr *a, Oid elem, size_t n)
{
	arr_u32(a, 1);            /* dimensions */
	arr_u32(a, 0);            /* no NULLs */
	arr_u32(a, elem);
	arr_u32(a, (uint32_t)n);  /* elements */
	arr_u32(a, 1);            /* the first one's number */
}

static void
arr_add(struct pgarr *a, const void *p, size_t n)
{
	if (n > INT32_MAX)
		a->err = 1;
	arr_u32(a, (uint32_t)n);
	arr_put(a, p, n);
}

static void
arr_int(struct pgarr *a, int64_t v)
{
	uint8_t b[8];

	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)((uint64_t)v >> (56 - 8 * k));
	arr_add(a, b, sizeof b);
}

/* Queues Q_DELIVER_SET for the n envelopes of the batch's jobs still in. */
static int
send_set(struct store *s, struct pgc *c, struct djob *batch, size_t n)
{
	enum { USR, DEV, ENVID, HASH, RECEIVED, ENV, HASVER, VER, MULTI, NARR };
	static const Oid elem[NARR] = { 25, 17, 17, 17, 20, 17, 20, 20, 20 };
	struct pgarr a[NARR];
	const struct store_env *e;
	const uint64_t *version;
	const char *user;
	const uint8_t *env;
	uint8_t h[32], *joined;
	struct djob *j;
	size_t len;
	int k, rc = -1;

	memset(a, 0, sizeof a);
	for (k = 0; k < NARR; k++)
		arr_begin(&a[k], elem[k], n);
	for (j = batch; j; j = j->next)
		for (size_t i = 0; !j->out && i < j->d->n; i++) {
			e = &j->d->e[i];
			if ((env = env_fields(j->d, e, &user, &version, h, &len,
			    &joined)) == NULL)
				goto out;
			arr_add(&a[USR], user, strlen(user));
			arr_add(&a[DEV], e->dev, NC_DEVID_LEN);
			arr_add(&a[ENVID], e->envid, NC_ENVID_LEN);
			arr_add(&a[HASH], h, sizeof h);
			arr_int(&a[RECEIVED], j->d->now);
			arr_add(&a[ENV], env, len);
			arr_int(&a[HASVER], version != NULL);
			arr_int(&a[VER], version ? (int64_t)*version : 0);
			arr_int(&a[MULTI], j->d->n > 1);
			free(joined);
		}
	for (k = 0; k < NARR; k++)
		if (a[k].err)
			goto out;
	rc = sendq(c, Q_DELIVER_SET, "TBBBIBIIIii",
	    a[USR].p, a[USR].len, a[DEV].p, a[DEV].len, a[ENVID].p, a[ENVID].len,
	    a[HASH].p, a[HASH].len, a[RECEIVED].p, a[RECEIVED].len, a[ENV].p, a[ENV].len,
	    a[HASVER].p, a[HASVER].len, a[VER].p, a[VER].len, a[MULTI].p, a[MULTI].len,
	    (int64_t)s->lim.mail_count, mail_bytes_max(s));
out:
	for (k = 0; k < NARR; k++)
		free(a[k].p);
	return rc;
}

static int send_cmd(struct pgc *c, const char *what);

/* Queues the NOTIFY of every mailbox of the batch's jobs still in, in a
 * transaction of its own (see above): 4 statements. A job refused wakes
 * its mailbox's long-polls for nothing: they list it and wait again. */
static int
send_notify(struct pgc *c, struct djob *batch)
{
	size_t len = 1, k;
	struct djob *j;
	char *all, *p;
	int rc;

	for (j = batch; j; j = j->next)
		for (size_t i = 0; !j->out && i < j->d->n; i++)
			len += strlen(j->d->user ? j->d->user : j->d->e[i].user) +
			    2 * NC_DEVID_LEN + 2;
	if ((all = p = malloc(len)) == NULL)
		return -1;
	for (j = batch; j; j = j->next)
		for (size_t i = 0; !j->out && i < j->d->n; i++) {
			p += sprintf(p, "%s%s/", p == all ? "" : " ",
			    j->d->user ? j->d->user : j->d->e[i].user);
			for (k = 0; k < NC_DEVID_LEN; k++)
				p += sprintf(p, "%02x", j->d->e[i].dev[k]);
		}
	*p = '\0';
	rc = send_cmd(c, "BEGIN") != 0 ||
	    send_cmd(c, "SET LOCAL synchronous_commit = off") != 0 ||
	    sendq(c, Q_NOTIFY_ALL, "t", all) != 0 || send_cmd(c, "COMMIT") != 0 ? -1 : 0;
	free(all);
	return rc;
}

/* Queues a statement without parameters (BEGIN, COMMIT). */
static int
send_cmd(struct pgc *c, const char *what)
{
	if (PQsendQueryParams(c->c, what, 0, NULL, NULL, NULL, NULL, 1) != 1) {
		failed(c, NULL);
		return -1;
	}
	return 0;
}

/* The results of n statements queued and the pipeline's end: r[i] each
 * (NULL: failed, or not run after one failed; c->state says why, *bad
 * which failed). 0, or -1 if the connection broke. */
static int
pipe_results(struct pgc *c, PGresult **r, size_t n, size_t *bad)
{
	PGresult *x;
	int st;

	for (size_t i = 0; i < n; i++) {
		r[i] = NULL;
		if ((x = PQgetResult(c->c)) == NULL)
			goto broke;
		st = PQresultStatus(x);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			r[i] = x;
		else {
			if (st != PGRES_PIPELINE_ABORTED && c->state[0] == '\0') {
				failed(c, x);
				*bad = i;
			}
			PQclear(x);
		}
		while ((x = PQgetResult(c->c)) != NULL)   /* the query's end */
			PQclear(x);
		if (PQstatus(c->c) != CONNECTION_OK)
			goto broke;
	}
	x = PQgetResult(c->c);
	st = PQresultStatus(x);
	PQclear(x);
	if (st != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c->c) != 1)
		goto broke;
	return 0;
broke:
	snprintf(c->state, sizeof c->state, "08006");
	return -1;
}

/* What job j's envelopes say, from their statements' results (all run):
 * each envelope's own result r[k + i] (Q_DELIVER), or row k + i of r[0]
 * (Q_DELIVER_SET). ST_OK, or the first refusal; its device-list version
 * in j->d->cur. */
static int
job_rc(struct djob *j, PGresult **r, size_t k, int each)
{
	PGresult *x;
	int64_t st;
	int rc = ST_OK, row;

	for (size_t i = 0; i < j->d->n; i++) {
		x = each ? r[k + i] : r[0];
		row = each ? 0 : (int)(k + i);
		if (row >= PQntuples(x) || (st = col_i(x, row, 0)) == -2) {
			if (rc == ST_OK)
				rc = ST_NOTFOUND;   /* no such user */
			continue;
		}
		if (st < D_HELD || st > D_STORED)
			return ST_ERR;
		if (rc == ST_OK && st != D_NODEV && st != D_GONE)
			j->d->cur = (uint64_t)col_i(x, row, 1);
		if (rc == ST_OK)
			rc = rcs[st];
	}
	return rc;
}

/* The answer of a job whose statement failed with c->state: a refusal
 * (NCR0 and a D_* status), else ST_ERR. */
static int
refused_rc(const struct pgc *c)
{
	if (strncmp(c->state, "NCR0", 4) == 0 && c->state[4] >= '1' && c->state[4] <= '5')
		return rcs[c->state[4] - '0'];
	return ST_ERR;
}

/* A batch of jobs, and how its envelopes are stored: one statement for
 * all (Q_DELIVER_SET), or one each (Q_DELIVER) when that cannot tell
 * their statuses or a job was refused. */
struct batch {
	struct djob *jobs;
	int each;
};

/* The batch, BEGIN to COMMIT, in one pipeline (txp): ST_OK when it
 * committed (each job's own rc says how it went), RERUN when it was
 * undone for a job now answered and left out, ONEBYONE when it was
 * undone to go one envelope at a time, ST_ERR when it was undone
 * (c->state says whether txp tries it again). c->began: the server
 * answered the BEGIN. */
static int
j_batch(struct store *s, struct pgc *c, void *arg)
{
	struct batch *b = arg;
	struct djob *batch = b->jobs, *j;
	PGresult **r;
	size_t n = 0, k, bad = 0, nst;
	int rc = ST_ERR;

	for (j = batch; j; j = j->next)
		if (!j->out) {
			j->rc = ST_ERR;
			j->d->cur = 0;
			n += j->d->n;
		}
	nst = b->each ? n : 1;   /* the envelopes' statements */
	if (prepare_as(c, Q_USER_LOCKALL, "t") != 0 ||
	    prepare_as(c, b->each ? Q_DELIVER : Q_DELIVER_SET,
	    b->each ? "tbbbibiiiii" : "TBBBIBIIIii") != 0 ||
	    prepare_as(c, Q_NOTIFY_ALL, "t") != 0)
		return ST_ERR;
	/* BEGIN, the lock, the envelopes' statements, COMMIT; the NOTIFY's 4 */
	if ((r = calloc(nst + 7, sizeof *r)) == NULL)
		return ST_ERR;
	if (PQenterPipelineMode(c->c) != 1) {
		free(r);
		return ST_ERR;
	}
	if (send_cmd(c, "BEGIN") != 0 || lock_batch(c, batch) != 0)
		goto out;
	if (!b->each && send_set(s, c, batch, n) != 0)
		goto out;
	for (j = batch; b->each && j; j = j->next)
		for (size_t i = 0; !j->out && i < j->d->n; i++)
			if (send_env(s, c, j->d, &j->d->e[i]) != 0)
				goto out;
	if (send_cmd(c, "COMMIT") != 0 || send_notify(c, batch) != 0 ||
	    PQpipelineSync(c->c) != 1)
		goto out;
	(void)pipe_results(c, r, nst + 7, &bad);
	c->began = r[0] != NULL || (c->state[0] != '\0' && !broken(c));
	if (r[nst + 2] != NULL && strcmp(PQcmdStatus(r[nst + 2]), "COMMIT") == 0) {
		if (!b->each && PQntuples(r[2]) != (int)n)
			goto out;   /* cannot be */
		for (j = batch, k = 0; j; j = j->next)
			if (!j->out) {
				j->rc = job_rc(j, r + 2, k, b->each);
				k += j->d->n;
			}
		rc = ST_OK;
		goto out;
	}
	if (c->state[0] == '\0')
		snprintf(c->state, sizeof c->state, "08006");
	if (!b->each && bad == 2 && strncmp(c->state, "NCR0", 4) == 0) {
		rc = ONEBYONE;   /* Q_DELIVER_SET could not tell */
		goto out;
	}
	if (!b->each || retryable(c) || bad < 2 || bad >= n + 2)
		goto out;   /* the whole batch again, or 503 */
	/* an envelope's statement failed: its job is answered and left out */
	for (j = batch, k = 2; j; j = j->next)
		if (!j->out) {
			if (bad < k + j->d->n) {
				j->rc = refused_rc(c);
				if (j->rc != ST_NOTFOUND && j->rc != ST_GONE)
					j->d->cur = (uint64_t)c->refused_v;
				j->out = 1;
				rc = RERUN;
				break;
			}
			k += j->d->n;
		}
out:
	if (PQpipelineStatus(c->c) != PQ_PIPELINE_OFF && rc == ST_ERR && c->state[0] == '\0')
		snprintf(c->state, sizeof c->state, "08006");
	for (k = 0; k < nst + 7; k++)
		PQclear(r[k]);
	free(r);
	return rc;
}

static int
deliver_batched(struct store *s, struct deliver *d)
{
	struct djob me = { .d = d, .rc = ST_ERR }, *batch, *j, *next;
	struct batch b;
	int n, rc, in;

	pthread_cond_init(&me.cv, NULL);
	pthread_mutex_lock(&s->dmu);
	if (s->dtail)
		s->dtail->next = &me;
	else
		s->dhead = &me;
	s->dtail = &me;
	while (!me.done) {
		if (s->drunning || s->dhead != &me) {
			pthread_cond_wait(&me.cv, &s->dmu);
			continue;
		}
		/* lead: take the queue */
		s->drunning = 1;
		batch = s->dhead;
		for (j = batch, n = 1; j->next && n < BATCH_MAX; j = j->next, n++)
			;
		s->dhead = j->next;
		if (s->dhead == NULL)
			s->dtail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&s->dmu);
		b.jobs = batch;
		b.each = 0;
		do {
			if ((rc = txp(s, j_batch, &b)) == ONEBYONE) {
				b.each = 1;
				rc = RERUN;
			}
			for (j = batch, in = 0; j; j = j->next)
				in += !j->out;
		} while (rc == RERUN && in > 0);
		pthread_mutex_lock(&s->dmu);
		for (j = batch; j; j = next) {
			next = j->next;   /* j may be gone once done is seen */
			if (rc != ST_OK && !j->out)
				j->rc = ST_ERR;
			j->done = 1;
			pthread_cond_signal(&j->cv);
		}
		s->drunning = 0;
		if (s->dhead)
			pthread_cond_signal(&s->dhead->cv);   /* the next leads */
	}
	pthread_mutex_unlock(&s->dmu);
	pthread_cond_destroy(&me.cv);
	return me.rc;
}

static int
pg_deliver(struct store *s, const char *user, const struct store_env *e,
    size_t n, const uint64_t *version, uint64_t *cur, int64_t now)
{
	struct deliver d = { user, e, n, version, 0, now };
	int rc = deliver_batched(s, &d);

	if (cur)
		*cur = d.cur;
	/* this process's own long-polls at once (the NOTIFY comes too) */
	if (rc == ST_OK && s->on_mail)
		for (size_t i = 0; i < n; i++)
			s->on_mail(s->mail_arg, user ? user : e[i].user, e[i].dev, 0);
	return rc;
}

struct list {
	const char *user;
	const uint8_t *dev;
	uint64_t after;
	unsigned limit;
	store_row_fn row;
	void *arg;
};

static int
c_list(struct pgc *c, void *arg)
{
	struct list *l = arg;
	struct devstate d;
	uint8_t envid[NC_ENVID_LEN];
	PGresult *r;
	int rc, n;

	if ((rc = devstate(c, l->user, l->dev, &d)) == ST_GONE)
		rc = ST_OK;   /* a device dropped from the list may still drain */
	if (rc != ST_OK || l->after > INT64_MAX)
		return rc;
	r = q(c, Q_MAIL_LIST, "tbii", l->user, l->dev, (size_t)NC_DEVID_LEN,
	    (int64_t)l->after, (int64_t)l->limit);
	if (r == NULL)
		return ST_ERR;
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		if (col_b(r, i, 1, envid, sizeof envid) != 0)
			continue;
		if (l->row(l->arg, (uint64_t)col_i(r, i, 0), envid,
		    (uint64_t)col_i(r, i, 2), PQgetvalue(r, i, 3),
		    (size_t)PQgetlength(r, i, 3)) != 0)
			break;
	}
	PQclear(r);
	return ST_OK;
}

static int
pg_list(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    uint64_t after, unsigned limit, store_row_fn row, void *arg)
{
	struct list l = { user, dev, after, limit, row, arg };

	return with_conn(s, c_list, &l);
}

struct ack {
	const char *user;
	const uint8_t *dev;
	const struct nc_ack *a;
};

static int
j_ack(struct store *s, struct pgc *c, void *arg)
{
	struct ack *k = arg;
	struct devstate d;
	PGresult *r;
	int64_t n = 0, bytes = 0;
	int rc;

	(void)s;
	if ((rc = lock_user(c, k->user, NULL)) != ST_OK)
		return rc;
	if ((rc = devstate(c, k->user, k->dev, &d)) != ST_OK && rc != ST_GONE)
		return rc;
	for (size_t i = 0; i < k->a->n; i++) {
		r = q(c, Q_MAIL_ACK, "tbb", k->user, k->dev, (size_t)NC_DEVID_LEN,
		    k->a->envid[i], (size_t)NC_ENVID_LEN);
		if (r == NULL)
			return ST_ERR;
		if (PQntuples(r) == 1) {
			n++;
			bytes += col_i(r, 0, 0);
		}
		PQclear(r);
	}
	OK(ex(c, Q_DEV_MAILQ, "iitb", -n, -bytes, k->user, k->dev, (size_t)NC_DEVID_LEN));
	return ST_OK;
}

static int
pg_ack(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_ack *a)
{
	struct ack k = { user, dev, a };

	return tx(s, j_ack, &k);
}

/* ---- blobs: rows here, files in DIR/blobs (blobfs.c) ---- */

static int
pg_blob_tmp(struct store *s, char *path, size_t n, int *fd)
{
	return blobfs_tmp(s->blobdir, path, n, fd);
}

struct blobput {
	const uint8_t *id, *delhash;
	const char *tmp;
	uint64_t size;
	int64_t expires;
};

static int
j_blob_put(struct store *s, struct pgc *c, void *arg)
{
	struct blobput *b = arg;
	int64_t n = ex(c, Q_BLOB_INS, "bbii", b->id, (size_t)32, b->delhash, (size_t)32,
	    (int64_t)b->size, b->expires);

	if (n <= 0)
		return n == 0 ? ST_EXISTS : ST_ERR;
	return blobfs_link(s->blobdir, b->id, b->tmp) == 0 ? ST_OK : ST_ERR;
}

static int
pg_blob_put(struct store *s, const uint8_t id[32], const char *tmp, uint64_t size,
    const uint8_t delhash[32], int64_t expires)
{
	struct blobput b = { id, delhash, tmp, size, expires };

	if (blobfs_sync_file(tmp) != 0 || size > INT64_MAX)
		return ST_ERR;
	return tx(s, j_blob_put, &b);
}

struct blobrow {
	int64_t now;
	uint64_t size;
};

static int
blob_rows(PGresult *r, void *arg)
{
	struct blobrow *b = arg;

	if (PQntuples(r) != 1 || col_i(r, 0, 2) < b->now)
		return ST_NOTFOUND;
	b->size = (uint64_t)col_i(r, 0, 1);
	return ST_OK;
}

static int
blob_row(struct store *s, const uint8_t id[32], int64_t now, uint64_t *size)
{
	struct blobrow b = { now, 0 };
	int rc = rd(s, blob_rows, &b, Q_BLOB_GET, "b", id, (size_t)32);

	*size = b.size;
	return rc;
}

static int
pg_blob_open(struct store *s, const uint8_t id[32], int64_t now, int *fd, uint64_t *size)
{
	int rc = blob_row(s, id, now, size);

	return rc != ST_OK ? rc : blobfs_open(s->blobdir, id, fd);
}

struct blobdel {
	const uint8_t *id, *delhash;
};

static int
j_blob_delete(struct store *s, struct pgc *c, void *arg)
{
	struct blobdel *b = arg;
	PGresult *r = q(c, Q_BLOB_LOCK, "b", b->id, (size_t)32);
	uint8_t h[32];
	int rc;

	(void)s;
	if (r == NULL)
		return ST_ERR;
	rc = PQntuples(r) != 1 ? ST_NOTFOUND : col_b(r, 0, 0, h, sizeof h) == 0 &&
	    sodium_memcmp(h, b->delhash, 32) == 0 ? ST_OK : ST_FORBIDDEN;
	PQclear(r);
	if (rc != ST_OK)
		return rc;
	OK(ex(c, Q_BLOB_DEL, "b", b->id, (size_t)32));
	return ST_OK;
}

static int
pg_blob_delete(struct store *s, const uint8_t id[32], const uint8_t delhash[32])
{
	struct blobdel b = { id, delhash };
	int rc = tx(s, j_blob_delete, &b);

	if (rc == ST_OK)
		blobfs_unlink(s->blobdir, id);
	return rc;
}

struct blobnew {
	const uint8_t *id, *delhash;
	uint64_t length;
	int64_t expires;
};

static int
j_blob_create(struct store *s, struct pgc *c, void *arg)
{
	struct blobnew *b = arg;
	int64_t n = ex(c, Q_BLOB_INS, "bbii", b->id, (size_t)32, b->delhash, (size_t)32,
	    (int64_t)b->length, b->expires);

	if (n <= 0)
		return n == 0 ? ST_EXISTS : ST_ERR;
	return blobfs_new_part(s->blobdir, b->id, b->length) == 0 ? ST_OK : ST_ERR;
}

static int
pg_blob_create(struct store *s, const uint8_t id[32], uint64_t length,
    const uint8_t delhash[32], int64_t expires)
{
	struct blobnew b = { id, delhash, length, expires };

	if (length > INT64_MAX)
		return ST_ERR;
	return tx(s, j_blob_create, &b);
}

static int
pg_blob_offset(struct store *s, const uint8_t id[32], int64_t now, uint64_t *off,
    uint64_t *length)
{
	int rc = blob_row(s, id, now, length);

	return rc != ST_OK ? rc : blobfs_offset(s->blobdir, id, *length, off);
}

static int
pg_blob_part(struct store *s, const uint8_t id[32], uint64_t off, uint64_t n,
    struct blob_w *w)
{
	uint64_t cur;

	return blobfs_part_begin(s->blobdir, id, off, n, 0, w, &cur);
}

static int
pg_blob_append(struct store *s, const uint8_t id[32], uint64_t off, const char *tmp,
    struct blob_w *w, uint64_t n, int64_t now, uint64_t *cur)
{
	uint64_t length;
	int rc = blob_row(s, id, now, &length);

	*cur = 0;
	return rc != ST_OK ? rc : blobfs_append(s->blobdir, id, off, tmp, w, n, length, cur);
}

struct sweep {
	int64_t now;
	uint8_t (*ids)[32];
	size_t n;
};

static int
j_sweep(struct store *s, struct pgc *c, void *arg)
{
	struct sweep *w = arg;
	PGresult *r;
	int n;

	(void)s;
	OK(ex(c, Q_NON_SWEEP, "i", w->now));
	OK(ex(c, Q_LINK_SWEEP, "i", w->now));
	OK(ex(c, Q_REPLAY_SWEEP, "i", w->now));
	OK(ex(c, Q_RATE_SWEEP, ""));
	if ((r = q(c, Q_BLOB_EXPIRED, "i", w->now)) == NULL)
		return ST_ERR;
	n = PQntuples(r);
	free(w->ids);
	w->n = 0;
	if (n > 0 && (w->ids = malloc((size_t)n * 32)) == NULL) {
		PQclear(r);
		return ST_ERR;
	}
	for (int i = 0; i < n; i++)
		if (col_b(r, i, 0, w->ids[w->n], 32) == 0)
			w->n++;
	PQclear(r);
	return ST_OK;
}

static int
pg_sweep(struct store *s, int64_t now)
{
	struct sweep w = { now, NULL, 0 };
	int rc = tx(s, j_sweep, &w);

	for (size_t i = 0; rc == ST_OK && i < w.n; i++)
		blobfs_unlink(s->blobdir, w.ids[i]);
	free(w.ids);
	return rc;
}

/* ---- provisioning boxes (protocol.md 1.11) ---- */

struct linkjob {
	const char *user;
	const uint8_t *box;
	int64_t expires, now;
	const uint8_t *p;
	size_t n;
	nc_buf *out;
};

#define LINKS_OPEN_MAX 4   /* open boxes per user */

/* The box's row, locked to the commit: ST_OK (*has_msg, *used set),
 * ST_NOTFOUND when there is none for this user or it expired. */
static int
link_row(struct pgc *c, const struct linkjob *j, int *has_msg, int *used,
    nc_buf *out)
{
	PGresult *r = q(c, Q_LINK_GET, "b", j->box, (size_t)NC_LINK_BOX);
	int rc;

	if (r == NULL)
		return ST_ERR;
	if (PQntuples(r) != 1)
		rc = ST_NOTFOUND;
	else {
		rc = strcmp(PQgetvalue(r, 0, 0), j->user) == 0 &&
		    col_i(r, 0, 1) >= j->now ? ST_OK : ST_NOTFOUND;
		*has_msg = !PQgetisnull(r, 0, 2);
		*used = col_i(r, 0, 3) != 0;
		if (rc == ST_OK && out && *has_msg && nc_buf_add(out,
		    PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2)) != 0)
			rc = ST_ERR;
	}
	PQclear(r);
	return rc;
}

static int
j_link_open(struct store *s, struct pgc *c, void *arg)
{
	struct linkjob *j = arg;
	PGresult *r;
	int rc, has, used;
	int64_t n;

	(void)s;
	/* the user's lock: two opens at once count each other */
	if ((rc = lock_user(c, j->user, NULL)) != ST_OK)
		return rc;
	if ((rc = link_row(c, j, &has, &used, NULL)) != ST_NOTFOUND)
		return rc == ST_OK ? ST_EXISTS : rc;
	if ((r = q(c, Q_LINK_COUNT, "ti", j->user, j->now)) == NULL || PQntuples(r) != 1) {
		PQclear(r);
		return ST_ERR;
	}
	n = col_i(r, 0, 0);
	PQclear(r);
	if (n >= LINKS_OPEN_MAX)
		return ST_FULL;
	OK(ex(c, Q_LINK_SWEEP, "i", j->now));
	OK(ex(c, Q_LINK_INS, "bti", j->box, (size_t)NC_LINK_BOX, j->user, j->expires));
	return ST_OK;
}

static int
pg_link_open(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    int64_t expires, int64_t now)
{
	struct linkjob j = { user, box, expires, now, NULL, 0, NULL };

	return tx(s, j_link_open, &j);
}

static int
j_link_put(struct store *s, struct pgc *c, void *arg)
{
	struct linkjob *j = arg;
	int rc, has = 0, used = 0;
	char note[NC_NAME_MAX + 3 + 2 * NC_LINK_BOX];
	size_t k;

	(void)s;
	if ((rc = link_row(c, j, &has, &used, NULL)) != ST_OK)
		return rc;
	if (used)
		return ST_GONE;
	if (has)
		return ST_CONFLICT;
	OK(ex(c, Q_LINK_SET, "bb", j->p, j->n, j->box, (size_t)NC_LINK_BOX));
	/* wakes a take waiting in another process (protocol.md 1.11) */
	k = (size_t)snprintf(note, sizeof note, "!%s/", j->user);
	if (k + 2 * NC_LINK_BOX >= sizeof note)
		return ST_ERR;
	nc_hex_encode(note + k, j->box, NC_LINK_BOX);
	OK(ex(c, Q_NOTIFY, "t", note));
	return ST_OK;
}

static int
pg_link_put(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    const uint8_t *p, size_t n, int64_t now)
{
	struct linkjob j = { user, box, 0, now, p, n, NULL };
	int rc = tx(s, j_link_put, &j);

	if (rc == ST_OK && s->on_mail)   /* this process's takes at once */
		s->on_mail(s->mail_arg, user, box, 1);
	return rc;
}

static int
j_link_take(struct store *s, struct pgc *c, void *arg)
{
	struct linkjob *j = arg;
	int rc, has = 0, used = 0;

	(void)s;
	j->out->len = j->n;   /* a transaction tried again appends once */
	if ((rc = link_row(c, j, &has, &used, j->out)) != ST_OK)
		return rc;
	if (used)
		return ST_GONE;
	if (has)
		OK(ex(c, Q_LINK_USED, "b", j->box, (size_t)NC_LINK_BOX));
	return ST_OK;
}

static int
pg_link_take(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    int64_t now, nc_buf *out)
{
	struct linkjob j = { user, box, 0, now, NULL, out->len, out };

	return tx(s, j_link_take, &j);
}

/* ---- push endpoints (protocol.md 1.12) ---- */

struct pushset {
	const char *user;
	const uint8_t *dev;
	const char *url;
	int drop;   /* only while it is still url */
};

static int
j_push(struct store *s, struct pgc *c, void *arg)
{
	struct pushset *k = arg;
	struct devstate d;
	int rc;

	(void)s;
	if (k->drop)
		OK(ex(c, Q_PUSH_DROP, "tbt", k->user, k->dev, (size_t)NC_DEVID_LEN, k->url));
	else if ((rc = lock_user(c, k->user, NULL)) != ST_OK ||
	    (rc = devstate(c, k->user, k->dev, &d)) != ST_OK)
		return rc;
	else if (k->url == NULL)
		OK(ex(c, Q_PUSH_DEL, "tb", k->user, k->dev, (size_t)NC_DEVID_LEN));
	else
		OK(ex(c, Q_PUSH_SET, "tbt", k->user, k->dev, (size_t)NC_DEVID_LEN, k->url));
	return ST_OK;
}

static int
pg_push_set(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const char *url)
{
	struct pushset k = { user, dev, url, 0 };

	return tx(s, j_push, &k);
}

static int
pg_push_drop(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const char *url)
{
	struct pushset k = { user, dev, url, 1 };

	return tx(s, j_push, &k);
}

struct pushget {
	char *out;
	size_t n;
};

static int
push_rows(PGresult *r, void *arg)
{
	struct pushget *g = arg;
	size_t len;

	if (PQntuples(r) != 1)
		return ST_NOTFOUND;
	len = (size_t)PQgetlength(r, 0, 0);
	if (len >= g->n || memchr(PQgetvalue(r, 0, 0), '\0', len) != NULL)
		return ST_ERR;
	memcpy(g->out, PQgetvalue(r, 0, 0), len);
	g->out[len] = '\0';
	return ST_OK;
}

static int
pg_push_get(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    char *out, size_t n)
{
	struct pushget g = { out, n };

	return rd(s, push_rows, &g, Q_PUSH_GET, "tb", user, dev, (size_t)NC_DEVID_LEN);
}

/* ---- shared rate limits and replay memory ---- */

struct rate {
	unsigned *wait;
	double rate;
};

static int
rate_rows(PGresult *r, void *arg)
{
	struct rate *k = arg;
	double t;

	if (PQntuples(r) != 1)
		return ST_ERR;
	t = col_d(r, 0, 1);
	*k->wait = col_i(r, 0, 0) ? 0 : (unsigned)(1 + (1 - t) / k->rate);
	return ST_OK;
}

static int
pg_shared_rate(struct store *s, const uint8_t key[16], double rate, double burst,
    double now, unsigned *wait)
{
	struct rate k = { wait, rate };

	(void)now;   /* the database's clock: one for every process */
	*wait = 0;
	return rd(s, rate_rows, &k, Q_RATE, "bdd", key, (size_t)16, rate, burst);
}

static int
replay_rows(PGresult *r, void *arg)
{
	(void)arg;
	return PQntuples(r) == 1 ? ST_OK : ST_EXISTS;
}

static int
pg_shared_replay(struct store *s, const uint8_t key[16], int64_t expires, int64_t now)
{
	return rd(s, replay_rows, NULL, Q_REPLAY, "bii", key, (size_t)16, expires, now);
}

#define STORE_PREFIX pg
#define STORE_SHARED 1
static const struct store_ops pg_ops = STORE_TABLE;
