/* db.c - sqlite open, migrations, transactions, error mapping. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "err.h"

int
nc_db_err(sqlite3 *db, int rc, const char *what)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = NC_ETEMP;
		break;
	case SQLITE_CONSTRAINT:
		code = NC_EDATA;
		break;
	case SQLITE_NOMEM:
		code = NC_EOSERR;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
		code = NC_ECANTCREAT;
		break;
	case SQLITE_ERROR:
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		code = NC_ESOFTWARE;
		break;
	default:
		code = NC_EIO;
	}
	return nc_fail(code, "%s: %s", what, msg);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sqlite's busy handler does the waiting in most cases; some BUSY results
 * in WAL mode (recovery, snapshot) bypass it, so retry those here too,
 * within the same overall timeout. */
static int
exec_retry(sqlite3 *db, const char *sql)
{
	long long deadline = now_ms() + NC_DB_BUSY_MS;
	int rc;

	for (;;) {
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || now_ms() >= deadline)
			return rc;
		sqlite3_sleep(5);
	}
}

int
nc_db_exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : nc_db_err(db, rc, "sqlite");
}

int
nc_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	if (rc == SQLITE_OK)
		return 0;
	*st = NULL;
	rc = nc_db_err(db, rc, "sqlite prepare");
	return rc == NC_ETEMP || rc == NC_EOSERR || rc == NC_EIO ? rc :
	    NC_ESOFTWARE;
}

int
nc_db_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return NC_DB_ROW;
	if (rc == SQLITE_DONE)
		return 0;
	return nc_db_err(sqlite3_db_handle(st), rc, "sqlite");
}

int
nc_db_begin(sqlite3 *db)
{
	int rc = exec_retry(db, "BEGIN IMMEDIATE");

	return rc == SQLITE_OK ? 0 : nc_db_err(db, rc, "sqlite begin");
}

int
nc_db_commit(sqlite3 *db)
{
	int rc = exec_retry(db, "COMMIT");

	if (rc == SQLITE_OK)
		return 0;
	rc = nc_db_err(db, rc, "sqlite commit");
	nc_db_rollback(db);
	return rc;
}

void
nc_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int
nc_db_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (nc_db_prepare(db, "PRAGMA user_version", &st) != 0)
		return -1;
	if (nc_db_step(st) == NC_DB_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* PRAGMA journal_mode answers with the mode in effect. */
static int
set_wal(sqlite3 *db)
{
	long long deadline = now_ms() + NC_DB_BUSY_MS;
	sqlite3_stmt *st;
	int rc;

	for (;;) {
		if ((rc = nc_db_prepare(db, "PRAGMA journal_mode=WAL", &st)) != 0)
			return rc;
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			int wal = m && strcmp((const char *)m, "wal") == 0;

			sqlite3_finalize(st);
			return wal ? 0 : nc_fail(NC_EIO, "sqlite: WAL mode refused");
		}
		sqlite3_finalize(st);
		if ((rc & 0xff) != SQLITE_BUSY || now_ms() >= deadline)
			return nc_db_err(db, rc, "sqlite journal_mode");
		sqlite3_sleep(5);
	}
}

static int
migrate(sqlite3 *db, const char *path, const char *const *mig, size_t n)
{
	char set[64], why[400];
	int v, rc;

	for (;;) {
		if ((v = nc_db_version(db)) < 0)
			return NC_EIO;
		if ((size_t)v > n)
			return nc_fail(NC_ECONFIG, "%s: schema version %d is newer "
			    "than this program's (%zu)", path, v, n);
		if ((size_t)v == n)
			return 0;
		if ((rc = nc_db_begin(db)) != 0)
			return rc;
		/* Another process may have migrated while we waited. */
		if ((v = nc_db_version(db)) < 0 || (size_t)v >= n) {
			nc_db_rollback(db);
			continue;
		}
		if ((rc = nc_db_exec(db, mig[v])) != 0) {
			snprintf(why, sizeof why, "%s", nc_errmsg());
			nc_db_rollback(db);
			return nc_fail(rc, "%s: migration %d: %s", path, v + 1, why);
		}
		snprintf(set, sizeof set, "PRAGMA user_version=%d", v + 1);
		if ((rc = nc_db_exec(db, set)) != 0) {
			nc_db_rollback(db);
			return rc;
		}
		if ((rc = nc_db_commit(db)) != 0)
			return rc;
	}
}

/* sqlite gives a new database file, and its -wal and -shm files, the mode
 * of umask; create the file first so all three are 0600. */
static int
precreate(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return nc_fail(NC_ECANTCREAT, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

int
nc_db_open(sqlite3 **dbp, const char *path, const char *const *migrations,
    size_t nmigrations, int flags)
{
	sqlite3 *db = NULL;
	int rc;

	*dbp = NULL;
	if ((rc = precreate(path)) != 0)
		return rc;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		rc = nc_db_err(db, rc, path);
		sqlite3_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, NC_DB_BUSY_MS);
	if ((rc = set_wal(db)) == 0)
		rc = nc_db_exec(db, "PRAGMA foreign_keys=ON");
	if (rc == 0)
		rc = nc_db_exec(db, flags & NC_DB_SYNC_NORMAL ?
		    "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
	if (rc == 0)
		rc = migrate(db, path, migrations, nmigrations);
	if (rc != 0) {
		sqlite3_close(db);
		return rc;
	}
	*dbp = db;
	return 0;
}

void
nc_db_close(sqlite3 *db)
{
	sqlite3_close(db);
}
