/* state.c - the client's sqlite state and its encryption at rest. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "state.h"

#define KEYFILE "storage.key"
#define DBFILE "state.db"
#define AT_REST_LABEL "newchat at-rest v1"
/* Checkpoint when the WAL holds this many pages. The first open after the
 * last close reads the whole WAL (~3 us a page here) and a checkpoint
 * costs two fsyncs; a command writes ~15 pages: 128 keeps the sum of both
 * per command lowest. */
#define WAL_PAGES 128

/* The schema, one migration per entry; user_version counts them. Columns
 * named v/body hold nc_state_seal()ed bytes. */
static const char *migrations[] = {
	"CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB NOT NULL,"
	"  secret INTEGER NOT NULL DEFAULT 0);"
	/* kind 1 = signed prekey, 2 = one-time prekey */
	"CREATE TABLE prekey(kind INTEGER NOT NULL, id INTEGER NOT NULL,"
	"  created INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY(kind, id));"
	/* pinned identity (TOFU); changed = 1 while a new key awaits trust */
	"CREATE TABLE contact(user TEXT PRIMARY KEY, identity BLOB NOT NULL,"
	"  devlist BLOB NOT NULL, version INTEGER NOT NULL,"
	"  changed INTEGER NOT NULL DEFAULT 0, new_devlist BLOB,"
	"  verified INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL);"
	/* the current session with a device, and the previous one (both
	 * sides may start one at once: protocol.md 2.6) */
	"CREATE TABLE session(user TEXT NOT NULL, dev BLOB NOT NULL,"
	"  v BLOB NOT NULL, prev BLOB, updated INTEGER NOT NULL,"
	"  PRIMARY KEY(user, dev));"
	/* envelopes already processed (replays and re-fetches after a crash) */
	"CREATE TABLE seen(envid BLOB PRIMARY KEY, at INTEGER NOT NULL);"
	"CREATE TABLE replay(tag BLOB PRIMARY KEY, at INTEGER NOT NULL);"
	/* dir 0 = received, 1 = sent */
	"CREATE TABLE message(seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
	"  dir INTEGER NOT NULL, peer TEXT NOT NULL, dev TEXT NOT NULL,"
	"  time INTEGER NOT NULL, body BLOB NOT NULL, status TEXT NOT NULL,"
	"  UNIQUE(dir, peer, id));"
	/* what nc-recv prints, in order, each exactly once */
	"CREATE TABLE event(seq INTEGER PRIMARY KEY, type TEXT NOT NULL,"
	"  id TEXT NOT NULL DEFAULT '', peer TEXT NOT NULL DEFAULT '',"
	"  dev TEXT NOT NULL DEFAULT '', time INTEGER NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '', msg INTEGER,"
	"  printed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX event_unprinted ON event(printed, seq);"
	/* messages not yet accepted by the recipient's relay */
	"CREATE TABLE outbox(id TEXT NOT NULL, peer TEXT NOT NULL,"
	"  created INTEGER NOT NULL, expires INTEGER NOT NULL,"
	"  next_try INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(id, peer));"
	/* their envelopes, once encrypted: retried with the same ids */
	"CREATE TABLE outenv(envid BLOB PRIMARY KEY, id TEXT NOT NULL,"
	"  peer TEXT NOT NULL, dev BLOB NOT NULL, env BLOB NOT NULL);"
	/* delivery receipts owed, sent by the next nc-recv */
	"CREATE TABLE rcpt(peer TEXT NOT NULL, dev BLOB NOT NULL,"
	"  id BLOB NOT NULL, PRIMARY KEY(peer, dev, id));"
	/* when each signed request was last signed (see nc_relay_clock) */
	"CREATE TABLE reqtime(h BLOB PRIMARY KEY, t INTEGER NOT NULL);",
	/* messages a peer's counters show were sent but have not arrived
	 * (lib/store/gap.c); "missing" events carry their count in n */
	"CREATE TABLE gap(user TEXT NOT NULL, dev BLOB NOT NULL,"
	"  id BLOB NOT NULL, since INTEGER NOT NULL,"
	"  reported INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(user, dev, id));"
	"ALTER TABLE event ADD COLUMN n INTEGER NOT NULL DEFAULT 0;",
	/* nc_session_prune deletes by age */
	"CREATE INDEX seen_at ON seen(at); CREATE INDEX replay_at ON replay(at);",
	/* why a queued message is still waiting (nc-send --queue): the last
	 * attempt's reason and exit code (lib/store/outbox.c) */
	"ALTER TABLE outbox ADD COLUMN error TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE outbox ADD COLUMN errcode INTEGER NOT NULL DEFAULT 0;",
	/* Reading is never destructive (DESIGN.md 5): a reader is a position
	 * in event.seq. The default reader's ("read-seq" in kv) takes over
	 * from the printed marks, which are no longer read. Messages sent
	 * from this device get a "sent" event (not printed, but in the
	 * history), so the history and the stream count in one sequence.
	 * seen.h: a hash of the envelope's bytes, so that the same envelope
	 * read again is told from a replay with other content. */
	"INSERT OR REPLACE INTO kv(k, v, secret) SELECT 'read-seq',"
	"  CAST(coalesce((SELECT min(seq) - 1 FROM event WHERE printed = 0),"
	"  (SELECT max(seq) FROM event), 0) AS TEXT), 0;"
	"INSERT INTO event(type, id, peer, time, msg, printed)"
	"  SELECT 'sent', id, peer, time, seq, 1 FROM message WHERE dir = 1"
	"  AND seq NOT IN (SELECT msg FROM event WHERE msg IS NOT NULL)"
	"  ORDER BY seq;"
	"CREATE TRIGGER message_sent AFTER INSERT ON message"
	"  WHEN NEW.dir = 1 AND NEW.dev = '' BEGIN"
	"  INSERT INTO event(type, id, peer, time, msg, printed)"
	"  VALUES ('sent', NEW.id, NEW.peer, NEW.time, NEW.seq, 1); END;"
	"DROP INDEX event_unprinted;"
	"ALTER TABLE seen ADD COLUMN h BLOB;",
	/* nc-sync backup (lib/app/syncbackup.c): each record of the last
	 * backup, its content's keyed fingerprint, hidden id and hash */
	"CREATE TABLE backup(id TEXT PRIMARY KEY, fp BLOB NOT NULL,"
	"  hid BLOB NOT NULL, hash BLOB NOT NULL);",
	/* envelopes from senders not known yet, as they came (env sealed at
	 * rest), until the user has them looked up (lib/store/held.c); the
	 * prekeys they need (spk, otpk) are kept meanwhile */
	"CREATE TABLE held(envid BLOB PRIMARY KEY, peer TEXT NOT NULL,"
	"  dev BLOB NOT NULL, at INTEGER NOT NULL, spk INTEGER, otpk INTEGER,"
	"  env BLOB NOT NULL);",
	/* files = 1: body is an attachment payload (media.h: the links and
	 * the text), payload types 5 and 6 on the wire */
	"ALTER TABLE message ADD COLUMN files INTEGER NOT NULL DEFAULT 0;",
	/* Sessions that heal (protocol.md 2.13). sentenv: which message
	 * each envelope sent carried, so that a peer's "could not decrypt
	 * these envelopes" names messages; heal: envelopes a peer device
	 * sent that could not be decrypted here, to tell it (with a new
	 * session; heal.restart 0: a later message of that device decrypted
	 * with the current session, so it speaks that one and no new one is
	 * needed). session.restart: start a new session at the next send;
	 * session.healed: when this device last started one (the rate
	 * limit). */
	"CREATE TABLE sentenv(envid BLOB PRIMARY KEY, id TEXT NOT NULL,"
	"  peer TEXT NOT NULL, dev BLOB NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX sentenv_at ON sentenv(at);"
	"CREATE TABLE heal(peer TEXT NOT NULL, dev BLOB NOT NULL,"
	"  envid BLOB NOT NULL, restart INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY(peer, dev, envid));"
	"ALTER TABLE session ADD COLUMN restart INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE session ADD COLUMN healed INTEGER NOT NULL DEFAULT 0;",
	/* nc-sync backup's history chunks (64 message rows each, as
	 * NC_SYNC_HIST_CHUNK): a random mark, drawn anew whenever a row of
	 * the chunk is inserted, changed or deleted, so that a backup finds
	 * the chunks that changed without reading the history. No conflict
	 * clause in the triggers: an INSERT OR IGNORE on message would turn
	 * an OR REPLACE here into OR IGNORE */
	"CREATE TABLE histgen(k INTEGER PRIMARY KEY, gen INTEGER NOT NULL);"
	"INSERT INTO histgen SELECT seq / 64, random() FROM message"
	"  GROUP BY seq / 64;"
	"CREATE TRIGGER histgen_ins AFTER INSERT ON message BEGIN"
	"  UPDATE histgen SET gen = random() WHERE k = NEW.seq / 64;"
	"  INSERT INTO histgen SELECT NEW.seq / 64, random() WHERE NOT EXISTS"
	"  (SELECT 1 FROM histgen WHERE k = NEW.seq / 64); END;"
	"CREATE TRIGGER histgen_upd AFTER UPDATE ON message BEGIN"
	"  UPDATE histgen SET gen = random() WHERE k IN (OLD.seq / 64, NEW.seq / 64);"
	"  INSERT INTO histgen SELECT NEW.seq / 64, random() WHERE NOT EXISTS"
	"  (SELECT 1 FROM histgen WHERE k = NEW.seq / 64); END;"
	"CREATE TRIGGER histgen_del AFTER DELETE ON message BEGIN"
	"  UPDATE histgen SET gen = random() WHERE k = OLD.seq / 64; END;",
	/* histgen holds only the chunks that hold a row, so a backup lists
	 * them without looking into the message table (a page read a chunk) */
	"DELETE FROM histgen WHERE NOT EXISTS (SELECT 1 FROM message"
	"  WHERE seq >= histgen.k * 64 AND seq < histgen.k * 64 + 64);"
	"DROP TRIGGER histgen_del;"
	"CREATE TRIGGER histgen_del AFTER DELETE ON message BEGIN"
	"  UPDATE histgen SET gen = random() WHERE k = OLD.seq / 64;"
	"  DELETE FROM histgen WHERE k = OLD.seq / 64 AND NOT EXISTS (SELECT 1"
	"  FROM message WHERE seq >= OLD.seq / 64 * 64 AND seq < OLD.seq / 64 * 64 + 64);"
	" END;"
	"DROP TRIGGER histgen_upd;"
	"CREATE TRIGGER histgen_upd AFTER UPDATE ON message BEGIN"
	"  UPDATE histgen SET gen = random() WHERE k IN (OLD.seq / 64, NEW.seq / 64);"
	"  INSERT INTO histgen SELECT NEW.seq / 64, random() WHERE NOT EXISTS"
	"  (SELECT 1 FROM histgen WHERE k = NEW.seq / 64);"
	"  DELETE FROM histgen WHERE k = OLD.seq / 64 AND NOT EXISTS (SELECT 1"
	"  FROM message WHERE seq >= OLD.seq / 64 * 64 AND seq < OLD.seq / 64 * 64 + 64);"
	" END;",
	/* histgen_ins in one statement, an upsert (which an outer INSERT OR
	 * IGNORE leaves as it is, unlike a conflict clause): a restore of
	 * 10^5 messages spent a third of its insert time in the trigger's two */
	"DROP TRIGGER histgen_ins;"
	"CREATE TRIGGER histgen_ins AFTER INSERT ON message BEGIN"
	"  INSERT INTO histgen(k, gen) VALUES (NEW.seq / 64, random())"
	"  ON CONFLICT(k) DO UPDATE SET gen = excluded.gen; END;",
};

int
nc_state_dberr(nc_state *s, const char *what)
{
	int e = sqlite3_errcode(s->db);

	if (e == SQLITE_BUSY || e == SQLITE_LOCKED)
		return nc_fail(NC_ETEMP, "state: %s: database busy", what);
	if (e == SQLITE_FULL || e == SQLITE_IOERR)
		return nc_fail(NC_EIO, "state: %s: %s", what, sqlite3_errmsg(s->db));
	return nc_fail(NC_ESOFTWARE, "state: %s: %s", what, sqlite3_errmsg(s->db));
}

int
nc_state_exec(nc_state *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return nc_state_dberr(s, "exec");
	return 0;
}

int
nc_state_prep(nc_state *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return nc_state_dberr(s, "prepare");
	return 0;
}

int
nc_state_stmt(nc_state *s, sqlite3_stmt **st, const char *sql)
{
	int i, rc;

	for (i = 0; i < s->nstmt; i++)
		if (s->stmt[i].sql == sql) {
			if (s->stmt[i].busy)
				break;   /* in use: a statement of its own */
			s->stmt[i].busy = 1;
			*st = s->stmt[i].st;
			return 0;
		}
	if ((rc = nc_state_prep(s, st, sql)) != 0)
		return rc;
	if (i == s->nstmt && s->nstmt < NC_STATE_STMTS) {
		s->stmt[i].sql = sql;
		s->stmt[i].st = *st;
		s->stmt[i].busy = 1;
		s->nstmt++;
	}
	return 0;
}

void
nc_state_release(nc_state *s, sqlite3_stmt *st)
{
	for (int i = 0; i < s->nstmt; i++)
		if (s->stmt[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->stmt[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

int
nc_state_run_release(nc_state *s, sqlite3_stmt *st)
{
	int rc = nc_state_run(s, st);

	nc_state_release(s, st);
	return rc;
}

int
nc_state_run(nc_state *s, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	rc = rc == SQLITE_DONE ? 0 : nc_state_dberr(s, "write");
	sqlite3_reset(st);
	return rc;
}

int
nc_state_done(nc_state *s, sqlite3_stmt *st)
{
	int rc = nc_state_run(s, st);

	sqlite3_finalize(st);
	return rc;
}

static int
path(char *out, size_t max, const char *home, const char *name)
{
	if ((size_t)snprintf(out, max, "%s/%s", home, name) >= max)
		return nc_fail(NC_ECONFIG, "NC_HOME path too long");
	return 0;
}

/* Derive the at-rest subkey so the storage key itself is never used
 * directly by an AEAD. */
static int
setkey(nc_state *s, const uint8_t master[32])
{
	if ((s->key = nc_secmem_alloc(32)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	crypto_generichash(s->key, 32, (const uint8_t *)AT_REST_LABEL,
	    sizeof AT_REST_LABEL - 1, master, 32);
	return 0;
}

static int
readkey(nc_state *s)
{
	char p[4200];
	uint8_t master[33];
	struct stat sb;
	ssize_t n;
	int fd, rc;

	if ((rc = path(p, sizeof p, s->home, KEYFILE)) != 0)
		return rc;
	if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return nc_fail(NC_ECONFIG, "no identity in %s (run nc-keygen)",
			    s->home);
		return nc_fail(NC_EOSERR, "%s: %s", p, strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0) {
		close(fd);
		return nc_fail(NC_ECONFIG, "%s: readable by others (chmod 600)", p);
	}
	n = read(fd, master, sizeof master);
	close(fd);
	if (n != 32) {
		sodium_memzero(master, sizeof master);
		return nc_fail(NC_ECONFIG, "%s: not a storage key", p);
	}
	rc = setkey(s, master);
	sodium_memzero(master, sizeof master);
	return rc;
}

static int
newkey(nc_state *s)
{
	char p[4200];
	uint8_t master[32];
	int fd, rc;

	if ((rc = path(p, sizeof p, s->home, KEYFILE)) != 0)
		return rc;
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return nc_fail(NC_ECANTCREAT, "%s already holds an identity",
			    s->home);
		return nc_fail(NC_ECANTCREAT, "%s: %s", p, strerror(errno));
	}
	randombytes_buf(master, sizeof master);
	if (write(fd, master, sizeof master) != (ssize_t)sizeof master ||
	    fsync(fd) != 0) {
		close(fd);
		unlink(p);
		sodium_memzero(master, sizeof master);
		return nc_fail(NC_EIO, "%s: %s", p, strerror(errno));
	}
	close(fd);
	rc = setkey(s, master);
	sodium_memzero(master, sizeof master);
	return rc;
}

static int
user_version(nc_state *s)
{
	sqlite3_stmt *st;
	int v;

	if (nc_state_prep(s, &st, "PRAGMA user_version") != 0)
		return -1;
	v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

static int
migrate(nc_state *s)
{
	int v, i, n = (int)(sizeof migrations / sizeof migrations[0]), rc;
	char sql[64];

	/* Current already (every open but the first): no write transaction,
	 * so a command that only reads writes nothing. */
	if ((v = user_version(s)) == n)
		return 0;
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	v = user_version(s);   /* another process may have migrated meanwhile */
	if (v < 0 || v > n) {
		rc = nc_fail(NC_ECONFIG, "state.db: unknown schema version %d", v);
		goto fail;
	}
	for (i = v; i < n; i++)
		if ((rc = nc_state_exec(s, migrations[i])) != 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", n);
	if ((rc = nc_state_exec(s, sql)) != 0)
		goto fail;
	nc_state_durable(s);
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

/* After every commit that wrote to the WAL (autocommit statements too):
 * the WAL needs a sync now; and sqlite's own autocheckpoint, which this
 * hook replaces. */
/* The connection runs with synchronous=OFF (opendb): durability comes from
 * nc_state_sync alone. A checkpoint is the one write that must sync by
 * itself, the WAL before its pages are copied and state.db after, or a
 * power failure once the log starts over loses what it held: NORMAL for
 * its duration. */
static int
checkpoint(sqlite3 *db, const char *name, int mode)
{
	int rc;

	if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK)
		return SQLITE_ERROR;
	rc = sqlite3_wal_checkpoint_v2(db, name, mode, NULL, NULL);
	(void)sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	return rc;
}

static int
on_wal(void *ctx, sqlite3 *db, const char *name, int pages)
{
	nc_state *s = ctx;

	if (!s->lazy)
		s->unsynced = 1;
	/* Passive checkpoints cannot start the log over while another
	 * process (nc-recv --follow, a cron poller) reads it: past 8 x
	 * WAL_PAGES, RESTART waits up to 100 ms for those readers
	 * (statements of milliseconds) so the log starts over, and
	 * journal_size_limit cuts the file back; if they stay, it is tried
	 * again WAL_PAGES later. Rare: nothing on the hot path. */
	static int retry_at;

	if (pages < retry_at)
		retry_at = 0;   /* started over meanwhile */
	if (pages >= 8 * WAL_PAGES && pages >= retry_at) {
		sqlite3_busy_timeout(db, 100);
		retry_at = checkpoint(db, name, SQLITE_CHECKPOINT_RESTART) ==
		    SQLITE_OK ? 0 : pages + WAL_PAGES;
		sqlite3_busy_timeout(db, 30000);
	} else if (pages >= WAL_PAGES)
		(void)checkpoint(db, name, SQLITE_CHECKPOINT_PASSIVE);
	return SQLITE_OK;
}

/* The WAL's directory entry, synced once when the WAL is made, not by
 * every command. sqlite's unix VFS opens the WAL with O_CREAT each time
 * and so takes it for a new file: at its first sync it fsyncs the
 * directory too (1 to 3 ms here, more than the WAL's own), in each
 * process, though the WAL stays from one command to the next (opendb).
 * This VFS is unix with one change: a WAL that exists is opened without
 * SQLITE_OPEN_CREATE (sqlite then syncs no directory); one that does not
 * is created as before and its directory synced at once, so that a WAL
 * that exists always has a durable entry, even one made by a command that
 * never synced. A WAL that vanishes in between is made the usual way. */
#define VFS_NAME "nc-unix"
static sqlite3_vfs vfs;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;

static void
sync_dir(const char *file)
{
	char d[4200];
	const char *slash = strrchr(file, '/');
	size_t n;
	int fd;

	if (slash == NULL || (n = slash > file ? (size_t)(slash - file) : 1) >=
	    sizeof d)
		return;   /* sqlite's paths are absolute */
	memcpy(d, file, n);
	d[n] = '\0';
	if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static int
vfs_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	sqlite3_vfs *unix_vfs = v->pAppData;
	int rc, made;

	if (!(flags & SQLITE_OPEN_WAL) || name == NULL)
		return unix_vfs->xOpen(unix_vfs, name, f, flags, out);
	if (access(name, F_OK) == 0 && unix_vfs->xOpen(unix_vfs, name, f,
	    flags & ~SQLITE_OPEN_CREATE, out) == SQLITE_OK)
		return SQLITE_OK;
	made = access(name, F_OK) != 0;
	if ((rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out)) == SQLITE_OK &&
	    made)
		sync_dir(name);
	return rc;
}

static void
vfs_register(void)
{
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find(NULL);

	if (unix_vfs == NULL || strcmp(unix_vfs->zName, "unix") != 0)
		return;   /* not the unix VFS: left to itself */
	vfs = *unix_vfs;
	vfs.zName = VFS_NAME;
	vfs.pAppData = unix_vfs;
	vfs.xOpen = vfs_open;
	vfs.pNext = NULL;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK)
		vfs.zName = NULL;
}

static int
opendb(nc_state *s, int create)
{
	char p[4200];
	struct stat sb;
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if ((rc = path(p, sizeof p, s->home, DBFILE)) != 0)
		return rc;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	pthread_once(&vfs_once, vfs_register);
	if (sqlite3_open_v2(p, &s->db, flags, vfs.zName) != SQLITE_OK)
		return nc_fail(create ? NC_ECANTCREAT : NC_ECONFIG, "%s: %s", p,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
	if (stat(p, &sb) == 0) {
		s->db_dev = sb.st_dev;
		s->db_ino = sb.st_ino;
	}
	sqlite3_busy_timeout(s->db, 30000);
	sqlite3_wal_hook(s->db, on_wal, s);
	/* WAL lets readers run beside a writer. synchronous=OFF: a commit
	 * is in the WAL (safe from a crash of the process) but reaches the
	 * disk only at nc_state_sync: the commits that something outside
	 * depends on (ratchet state before an envelope leaves, a message
	 * before it is acknowledged) are synced before that happens, and
	 * nc_state_close syncs the rest; see state.h. Not NORMAL, which
	 * also syncs the WAL's header each time the log starts over (after
	 * every nc_state_scrub): the next nc_state_sync covers the header
	 * with the frames, and a lazy commit lost with its header is lost
	 * as it may be. Checkpoints sync (checkpoint() above). The WAL
	 * stays when the last connection closes (checkpoints run as it
	 * fills up, or nc_state_scrub empties it). */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	if ((rc = nc_state_exec(s, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON;"
	    "PRAGMA secure_delete=ON; PRAGMA journal_size_limit=4194304")) != 0)
		return rc;
	return migrate(s);
}

int
nc_state_reader(const nc_state *s, sqlite3 **db)
{
	char p[4200];
	int rc;

	*db = NULL;
	if ((rc = path(p, sizeof p, s->home, DBFILE)) != 0)
		return rc;
	if (sqlite3_open_v2(p, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	    vfs.zName) != SQLITE_OK) {
		rc = nc_fail(NC_EIO, "%s: %s", p, *db ? sqlite3_errmsg(*db) : "cannot open");
		sqlite3_close(*db);
		*db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(*db, 30000);
	return 0;
}

static nc_state *
alloc(const char *home)
{
	nc_state *s = calloc(1, sizeof *s);

	if (s == NULL) {
		nc_fail(NC_EOSERR, "out of memory");
		return NULL;
	}
	if (strlen(home) >= sizeof s->home) {
		free(s);
		nc_fail(NC_ECONFIG, "NC_HOME path too long");
		return NULL;
	}
	strcpy(s->home, home);
	return s;
}

int
nc_state_create(nc_state **out, const char *home)
{
	char p[4200];
	nc_state *s;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return nc_fail(NC_ESOFTWARE, "libsodium failed to start");
	if (mkdir(home, 0700) != 0 && errno != EEXIST)
		return nc_fail(NC_ECANTCREAT, "%s: %s", home, strerror(errno));
	if ((s = alloc(home)) == NULL)
		return NC_EOSERR;
	if ((rc = path(p, sizeof p, home, DBFILE)) != 0 ||
	    (rc = newkey(s)) != 0) {
		nc_state_close(s);
		return rc;
	}
	unlink(p);   /* a state.db without its key is unreadable debris */
	if ((rc = opendb(s, 1)) != 0) {
		nc_state_close(s);
		path(p, sizeof p, home, KEYFILE);
		unlink(p);
		return rc;
	}
	chmod(home, 0700);
	*out = s;
	return 0;
}

int
nc_state_open(nc_state **out, const char *home)
{
	nc_state *s;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return nc_fail(NC_ESOFTWARE, "libsodium failed to start");
	if ((s = alloc(home)) == NULL)
		return NC_EOSERR;
	if ((rc = readkey(s)) != 0 || (rc = opendb(s, 0)) != 0) {
		nc_state_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
nc_state_sync(nc_state *s)
{
	sqlite3_file *wal = NULL;

	if (!s->unsynced)
		return 0;
	/* What synchronous=FULL does at every commit: fsync the WAL (and,
	 * once, the directory of a new WAL file, which the VFS remembers). */
	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &wal) != SQLITE_OK || wal == NULL || wal->pMethods == NULL)
		return nc_fail(NC_EIO, "state: no WAL to sync");
	if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
		return nc_fail(NC_EIO, "state: cannot sync the WAL to disk");
	s->unsynced = 0;
	return 0;
}

int
nc_state_check(nc_state *s)
{
	char p[4200];
	struct stat sb;
	int rc;

	if ((rc = path(p, sizeof p, s->home, DBFILE)) != 0)
		return rc;
	if (stat(p, &sb) != 0 || sb.st_dev != s->db_dev || sb.st_ino != s->db_ino)
		return nc_fail(NC_EIO, "%s was deleted or replaced while in use;"
		    " stopping (start again)", p);
	return 0;
}

void
nc_state_scrub(nc_state *s)
{
	if (!s->scrub || s->depth > 0)
		return;
	/* TRUNCATE waits for readers: only briefly, a busy state.db is
	 * scrubbed by the next command. */
	sqlite3_busy_timeout(s->db, 100);
	if (checkpoint(s->db, "main", SQLITE_CHECKPOINT_TRUNCATE) == SQLITE_OK) {
		s->scrub = 0;
		s->unsynced = 0;   /* all of it is in state.db, synced */
	}
	sqlite3_busy_timeout(s->db, 30000);
}

int
nc_state_close(nc_state *s)
{
	int rc = 0;

	if (s == NULL)
		return 0;
	if (s->db) {
		nc_state_rollback(s);
		nc_state_scrub(s);   /* its checkpoint syncs too */
		rc = nc_state_sync(s);
		sqlite3_finalize(s->begin_st);
		sqlite3_finalize(s->commit_st);
		for (int i = 0; i < s->nstmt; i++)
			sqlite3_finalize(s->stmt[i].st);
		sqlite3_close_v2(s->db);
	}
	nc_secmem_free(s->key, 32);
	free(s);
	return rc;
}

/* BEGIN and COMMIT, compiled once a process: a commit comes right after
 * a line is printed (event.c), the sooner the better. */
static int
run(nc_state *s, sqlite3_stmt **st, const char *sql)
{
	int rc;

	if (*st == NULL &&
	    (rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
nc_state_begin(nc_state *s)
{
	if (s->depth++ > 0)
		return 0;
	if (run(s, &s->begin_st, "BEGIN IMMEDIATE") != SQLITE_OK) {
		s->depth = 0;
		return nc_state_dberr(s, "begin");
	}
	s->durable = 0;
	s->lazy = 0;
	return 0;
}

void
nc_state_durable(nc_state *s)
{
	s->durable = 1;
}

void
nc_state_lazy(nc_state *s)
{
	s->lazy = 1;
}

int
nc_state_commit(nc_state *s)
{
	int rc, durable;

	if (s->depth == 0 || --s->depth > 0)
		return 0;
	rc = run(s, &s->commit_st, "COMMIT");
	durable = s->durable;
	s->durable = s->lazy = 0;   /* autocommit statements are neither */
	if (rc != SQLITE_OK) {
		rc = nc_state_dberr(s, "commit");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return durable ? nc_state_sync(s) : 0;
}

void
nc_state_rollback(nc_state *s)
{
	if (s->depth == 0)
		return;
	s->depth = 0;
	s->durable = s->lazy = 0;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The AD that binds a sealed value to its place: label and table, each
 * with its NUL, then row. Made in the caller's buffer when it fits (row
 * names do: a malloc and a realloc a row were 1/10 of a seal), else on
 * the heap (*heap, for the caller to free); NULL if out of memory. */
#define AD_STACK 512
static const uint8_t *
at_rest_ad(uint8_t buf[AD_STACK], const char *table, const char *row, size_t *n,
    uint8_t **heap)
{
	size_t t = strlen(table) + 1, r = strlen(row);
	uint8_t *p = buf;

	*heap = NULL;
	*n = sizeof AT_REST_LABEL + t + r;
	if (*n > AD_STACK && (p = *heap = malloc(*n)) == NULL)
		return NULL;
	memcpy(p, AT_REST_LABEL, sizeof AT_REST_LABEL);
	memcpy(p + sizeof AT_REST_LABEL, table, t);
	memcpy(p + sizeof AT_REST_LABEL + t, row, r);
	return p;
}

/* Nonces for nc_state_seal, drawn NONCE_POOL at once: one getrandom
 * call a row was 5% of the CPU of a restore of 10^5 messages. Per thread;
 * a forked child empties its copy (atfork), so parent and child never
 * seal with the same leftovers. Nonces are not secret: only never used
 * twice, which random 24-byte ones are not. */
#define NONCE_POOL 128
static _Thread_local struct {
	uint8_t b[NONCE_POOL * 24];
	unsigned left;
} nonces;
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void
nonces_drop(void)
{
	nonces.left = 0;
}

static void
nonces_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, nonces_drop);
}

static void
next_nonce(uint8_t out[24])
{
	pthread_once(&nonce_once, nonces_atfork);
	if (nonces.left == 0) {
		randombytes_buf(nonces.b, sizeof nonces.b);
		nonces.left = NONCE_POOL;
	}
	nonces.left--;
	memcpy(out, nonces.b + nonces.left * 24, 24);
}

int
nc_state_seal(const nc_state *s, const char *table, const char *row,
    const void *pt, size_t n, nc_buf *out)
{
	uint8_t adb[AD_STACK], *heap, *p;
	const uint8_t *ad;
	unsigned long long clen;
	size_t adn;
	int rc;

	if ((ad = at_rest_ad(adb, table, row, &adn, &heap)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if ((rc = nc_buf_reserve(out, 1 + 24 + n + 16)) != 0) {
		free(heap);
		return rc;
	}
	p = out->p + out->len;
	p[0] = 1;
	next_nonce(p + 1);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + 25, &clen, pt, n,
	    ad, adn, NULL, p + 1, s->key);
	out->len += 25 + clen;
	free(heap);
	return 0;
}

int
nc_state_unseal(const nc_state *s, const char *table, const char *row,
    const void *ct, size_t n, nc_buf *out)
{
	const uint8_t *c = ct, *ad;
	uint8_t adb[AD_STACK], *heap;
	unsigned long long plen;
	size_t adn;
	int rc, bad;

	if (n < 25 + 16 || c[0] != 1)
		return nc_fail(NC_ESECURITY, "state: %s %s: damaged", table, row);
	if ((ad = at_rest_ad(adb, table, row, &adn, &heap)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if ((rc = nc_buf_reserve(out, n)) != 0) {
		free(heap);
		return rc;
	}
	bad = crypto_aead_xchacha20poly1305_ietf_decrypt(out->p + out->len, &plen,
	    NULL, c + 25, n - 25, ad, adn, c + 1, s->key) != 0;
	free(heap);
	if (bad)
		return nc_fail(NC_ESECURITY, "state: %s %s: damaged or moved",
		    table, row);
	out->len += plen;
	return 0;
}

/* A message's row name, "DIR/PEER/ID" (cut at max - 1 bytes, as
 * snprintf would; without its formatting cost, a message each). */
static void
msg_row(char *out, size_t max, int dir, const char *peer, const char *id)
{
	size_t p = strlen(peer), i = strlen(id);

	if ((dir != 0 && dir != 1) || 2 + p + 1 + i >= max) {
		snprintf(out, max, "%d/%s/%s", dir, peer, id);
		return;
	}
	out[0] = (char)('0' + dir);
	out[1] = '/';
	memcpy(out + 2, peer, p);
	out[2 + p] = '/';
	memcpy(out + 3 + p, id, i + 1);
}

int
nc_state_seal_msg(const nc_state *s, int dir, const char *peer, const char *id,
    const void *pt, size_t n, nc_buf *out)
{
	char row[600];

	msg_row(row, sizeof row, dir, peer, id);
	return nc_state_seal(s, "message", row, pt, n, out);
}

int
nc_state_unseal_msg(const nc_state *s, int dir, const char *peer, const char *id,
    const void *ct, size_t n, nc_buf *out)
{
	char row[600];

	msg_row(row, sizeof row, dir, peer, id);
	return nc_state_unseal(s, "message", row, ct, n, out);
}

static int
kv_put(nc_state *s, const char *k, const void *v, size_t n, int secret)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "INSERT OR REPLACE INTO kv(k, v, secret)"
	    " VALUES (?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, n ? v : "", (int)n, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, secret);
	return nc_state_done(s, st);
}

/* quiet: an absent key returns NC_ENOUSER and leaves the last error's
 * reason alone (a lookup with a default must not replace the reason a
 * command is about to print). */
static int
kv_get(nc_state *s, const char *k, nc_buf *out, int secret, int quiet)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_stmt(s, &st,
	    "SELECT v FROM kv WHERE k = ? AND secret = ?")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, secret);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		nc_state_release(s, st);
		if (rc == SQLITE_DONE)
			return quiet ? NC_ENOUSER : nc_fail(NC_ENOUSER, "state: no %s", k);
		return nc_state_dberr(s, "read");
	}
	if (secret)
		rc = nc_state_unseal(s, "kv", k, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), out);
	else
		rc = nc_buf_add(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	nc_state_release(s, st);
	return rc;
}

int
nc_state_put(nc_state *s, const char *k, const void *v, size_t n)
{
	return kv_put(s, k, v, n, 0);
}

int
nc_state_get(nc_state *s, const char *k, nc_buf *out)
{
	return kv_get(s, k, out, 0, 0);
}

int
nc_state_put_secret(nc_state *s, const char *k, const void *v, size_t n)
{
	nc_buf ct = NC_BUF_INIT;
	int rc;

	if ((rc = nc_state_seal(s, "kv", k, v, n, &ct)) == 0)
		rc = kv_put(s, k, ct.p, ct.len, 1);
	nc_buf_free(&ct);
	return rc;
}

int
nc_state_get_secret(nc_state *s, const char *k, nc_buf *out)
{
	return kv_get(s, k, out, 1, 0);
}

int64_t
nc_state_get_int(nc_state *s, const char *k, int64_t dflt)
{
	char v[32];

	if (nc_state_find_str(s, k, v, sizeof v) != 0)
		return dflt;
	return strtoll(v, NULL, 10);
}

int
nc_state_put_int(nc_state *s, const char *k, int64_t v)
{
	char t[32];

	snprintf(t, sizeof t, "%lld", (long long)v);
	return nc_state_put(s, k, t, strlen(t));
}

static int
get_str(nc_state *s, const char *k, char *out, size_t max, int quiet)
{
	nc_buf b = NC_BUF_INIT;
	int rc;

	out[0] = '\0';
	if ((rc = kv_get(s, k, &b, 0, quiet)) != 0 || b.len == 0)
		goto done;   /* an empty value has no buffer: "" */
	if (b.len >= max || memchr(b.p, 0, b.len) != NULL) {
		rc = nc_fail(NC_ESOFTWARE, "state: %s: bad value", k);
		goto done;
	}
	memcpy(out, b.p, b.len);
	out[b.len] = '\0';
done:
	nc_buf_free(&b);
	return rc;
}

int
nc_state_get_str(nc_state *s, const char *k, char *out, size_t max)
{
	return get_str(s, k, out, max, 0);
}

int
nc_state_find_str(nc_state *s, const char *k, char *out, size_t max)
{
	return get_str(s, k, out, max, 1);
}

static int64_t reqtime(nc_state *, const uint8_t[32], int64_t);

int64_t
nc_state_reqtime(void *ctx, const uint8_t h[32], int64_t now)
{
	nc_state *s = ctx;
	int64_t t;
	int lazy = s->lazy;

	/* Lost to a power failure, a time is only used again: a request
	 * the relay may refuse as a replay, and retried. */
	s->lazy = 1;
	t = reqtime(s, h, now);
	s->lazy = lazy;
	return t;
}

/* The time to sign with is the clock's own: every signed request carries
 * a fresh nonce (lib/proto/reqsig.h), so two equal requests in one second
 * no longer need different times, and a time kept here could only drift
 * ahead of the clock (max(now, last + 1) did, 1 s a poll, until the relay
 * refused every request). The table of those times is emptied when found
 * holding any - the rows an older version left, some of them ahead of the
 * clock - so a device they locked out works again at once. A read costs
 * a few microseconds; nothing is written on the way to the network. */
static int64_t
reqtime(nc_state *s, const uint8_t h[32], int64_t now)
{
	sqlite3_stmt *st;
	int rows;

	(void)h;
	if (nc_state_prep(s, &st, "SELECT 1 FROM reqtime LIMIT 1") != 0)
		return now;
	rows = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rows)
		(void)!nc_state_exec(s, "DELETE FROM reqtime");
	return now;
}
