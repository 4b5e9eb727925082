/* test-db.c - open settings, migrations (once, in order, atomic, version
 * check), error mapping, and concurrent writers that wait, not fail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "err.h"
#include "check.h"

static char tmp[256];

static const char *const mig[] = {
	"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE);"
	"INSERT INTO t(v) VALUES('from migration 1');",
	"CREATE TABLE c(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
	"INSERT INTO c VALUES(1, 0);"
	"CREATE TABLE child(p INTEGER NOT NULL REFERENCES t(id));",
};

static long long
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -999;

	if (nc_db_prepare(db, sql, &st) != 0)
		return -998;
	if (nc_db_step(st) == NC_DB_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *
query_text(sqlite3 *db, const char *sql)
{
	static char out[64];
	sqlite3_stmt *st;

	out[0] = '\0';
	if (nc_db_prepare(db, sql, &st) != 0)
		return "?";
	if (nc_db_step(st) == NC_DB_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof out, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void
open_settings(void)
{
	char path[512];
	struct stat st;
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/a.db", tmp);
	CHECK_INT(nc_db_open(&db, path, mig, 2, 0), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_STR(query_text(db, "PRAGMA journal_mode"), "wal");
	CHECK_INT(query_int(db, "PRAGMA foreign_keys"), 1);
	CHECK_INT(query_int(db, "PRAGMA synchronous"), 2);   /* FULL */
	CHECK_INT(query_int(db, "PRAGMA busy_timeout"), NC_DB_BUSY_MS);
	CHECK_INT(nc_db_version(db), 2);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), 1);
	/* Write something so the -wal file exists; it is 0600 too. */
	CHECK_INT(nc_db_exec(db, "INSERT INTO t(v) VALUES('x')"), 0);
	snprintf(path, sizeof path, "%s/a.db-wal", tmp);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	nc_db_close(db);

	snprintf(path, sizeof path, "%s/a.db", tmp);
	CHECK_INT(nc_db_open(&db, path, mig, 2, NC_DB_SYNC_NORMAL), 0);
	CHECK_INT(query_int(db, "PRAGMA synchronous"), 1);   /* NORMAL */
	/* Reopening applies nothing again. */
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), 2);
	CHECK_INT(query_int(db, "SELECT count(*) FROM c"), 1);
	nc_db_close(db);

	/* A directory that does not exist: cannot create. */
	snprintf(path, sizeof path, "%s/nodir/a.db", tmp);
	CHECK_INT(nc_db_open(&db, path, mig, 2, 0), NC_ECANTCREAT);
	CHECK(db == NULL);
	/* Not a database. */
	snprintf(path, sizeof path, "%s/junk.db", tmp);
	{
		FILE *f = fopen(path, "w");

		fputs("this is not a database file, not at all, no.........\n"
		    "..............................................\n", f);
		fclose(f);
	}
	CHECK(nc_db_open(&db, path, mig, 2, 0) == NC_EIO);
	CHECK(strstr(nc_errmsg(), "not a database") != NULL);
}

static void
migrations(void)
{
	char path[512];
	sqlite3 *db;
	const char *const broken[] = {
		mig[0],
		"CREATE TABLE half(x); INSERT INTO nosuch VALUES(1);",
	};

	snprintf(path, sizeof path, "%s/m.db", tmp);
	CHECK_INT(nc_db_open(&db, path, mig, 1, 0), 0);
	CHECK_INT(nc_db_version(db), 1);
	CHECK_INT(nc_db_exec(db, "INSERT INTO t(v) VALUES('kept')"), 0);
	nc_db_close(db);
	/* Upgrade: only migration 2 runs, data stays. */
	CHECK_INT(nc_db_open(&db, path, mig, 2, 0), 0);
	CHECK_INT(nc_db_version(db), 2);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), 2);
	CHECK_INT(query_int(db, "SELECT n FROM c WHERE id = 1"), 0);
	nc_db_close(db);
	/* A program that knows fewer migrations refuses the newer db. */
	CHECK_INT(nc_db_open(&db, path, mig, 1, 0), NC_ECONFIG);
	CHECK(db == NULL);
	CHECK(strstr(nc_errmsg(), "schema version 2 is newer") != NULL);

	/* A failing migration changes nothing: not even its first half. */
	snprintf(path, sizeof path, "%s/broken.db", tmp);
	CHECK_INT(nc_db_open(&db, path, broken, 2, 0), NC_ESOFTWARE);
	CHECK(strstr(nc_errmsg(), "migration 2") != NULL &&
	    strstr(nc_errmsg(), "nosuch") != NULL);
	CHECK_INT(nc_db_open(&db, path, mig, 1, 0), 0);
	CHECK_INT(nc_db_version(db), 1);
	CHECK_INT(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'half'"), 0);
	nc_db_close(db);
}

static void
errors(void)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof path, "%s/e.db", tmp);
	CHECK_INT(nc_db_open(&db, path, mig, 2, 0), 0);
	CHECK_INT(nc_db_prepare(db, "SELEC 1", &st), NC_ESOFTWARE);
	CHECK(st == NULL && strstr(nc_errmsg(), "syntax error") != NULL);
	CHECK_INT(nc_db_exec(db, "INSERT INTO t(v) VALUES('from migration 1')"),
	    NC_EDATA);   /* UNIQUE */
	CHECK(strstr(nc_errmsg(), "UNIQUE") != NULL);
	CHECK_INT(nc_db_exec(db, "INSERT INTO child VALUES(12345)"),
	    NC_EDATA);   /* foreign keys are on */
	CHECK(strstr(nc_errmsg(), "FOREIGN KEY") != NULL);
	CHECK_INT(nc_db_exec(db, "INSERT INTO nosuch VALUES(1)"), NC_ESOFTWARE);

	/* Rollback undoes; commit keeps; rollback outside a transaction is
	 * harmless. */
	CHECK_INT(nc_db_begin(db), 0);
	CHECK_INT(nc_db_exec(db, "UPDATE c SET n = 42"), 0);
	nc_db_rollback(db);
	CHECK_INT(query_int(db, "SELECT n FROM c"), 0);
	nc_db_rollback(db);
	CHECK_INT(nc_db_begin(db), 0);
	CHECK_INT(nc_db_exec(db, "UPDATE c SET n = 7"), 0);
	CHECK_INT(nc_db_commit(db), 0);
	CHECK_INT(query_int(db, "SELECT n FROM c"), 7);
	/* A deferred foreign key failing at COMMIT: rolled back. */
	CHECK_INT(nc_db_exec(db, "PRAGMA defer_foreign_keys=ON"), 0);
	CHECK_INT(nc_db_begin(db), 0);
	CHECK_INT(nc_db_exec(db, "INSERT INTO child VALUES(999)"), 0);
	CHECK_INT(nc_db_commit(db), NC_EDATA);
	CHECK(sqlite3_get_autocommit(db));   /* no transaction left open */
	CHECK_INT(query_int(db, "SELECT count(*) FROM child"), 0);
	CHECK_INT(nc_db_step(NULL) != 0, 1);
	nc_db_close(db);
}

/* Each child adds 1 to a counter `rounds` times, each time holding the
 * write lock for a while: the others must wait, never fail. */
static int
writer(const char *path, int rounds, int hold_us)
{
	sqlite3 *db;
	int bad = 0;

	if (nc_db_open(&db, path, mig, 2, NC_DB_SYNC_NORMAL) != 0)
		return 10;
	for (int i = 0; i < rounds; i++) {
		long long n;
		char sql[64];

		if (nc_db_begin(db) != 0) {
			bad++;
			continue;
		}
		n = query_int(db, "SELECT n FROM c WHERE id = 1");
		usleep(hold_us);
		snprintf(sql, sizeof sql, "UPDATE c SET n = %lld", n + 1);
		if (nc_db_exec(db, sql) != 0 || nc_db_commit(db) != 0)
			bad++;
	}
	nc_db_close(db);
	return bad ? 11 : 0;
}

static void
concurrent(void)
{
	char path[512];
	int procs = 4, rounds = getenv("NC_QUICK") ? 10 : 40, ok = 1;
	pid_t pid[4];
	sqlite3 *db;

	/* All start on a fresh file at once: the migrations run once. */
	snprintf(path, sizeof path, "%s/conc.db", tmp);
	for (int i = 0; i < procs; i++)
		if ((pid[i] = fork()) == 0)
			_exit(writer(path, rounds, 2000));
	for (int i = 0; i < procs; i++) {
		int status;

		if (waitpid(pid[i], &status, 0) != pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			ok = 0;
			fprintf(stderr, "writer %d: status %d\n", i, status);
		}
	}
	CHECK(ok);
	CHECK_INT(nc_db_open(&db, path, mig, 2, 0), 0);
	CHECK_INT(query_int(db, "SELECT n FROM c"), procs * rounds);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), 1);
	CHECK_STR(query_text(db, "PRAGMA integrity_check"), "ok");

	/* A writer holding the lock for 1.5 s: begin waits it out. */
	{
		pid_t p;
		int status, fds[2];
		char c;

		CHECK(pipe(fds) == 0);
		if ((p = fork()) == 0) {
			sqlite3 *w;

			close(fds[0]);
			if (nc_db_open(&w, path, mig, 2, 0) != 0 ||
			    nc_db_begin(w) != 0 ||
			    nc_db_exec(w, "UPDATE c SET n = n + 1") != 0)
				_exit(10);
			if (write(fds[1], "x", 1) != 1)   /* we hold the lock */
				_exit(11);
			usleep(1500000);
			status = nc_db_commit(w) == 0 ? 0 : 12;
			nc_db_close(w);
			_exit(status);
		}
		close(fds[1]);
		CHECK(read(fds[0], &c, 1) == 1);
		close(fds[0]);
		CHECK_INT(nc_db_begin(db), 0);
		CHECK_INT(query_int(db, "SELECT n FROM c"), procs * rounds + 1);
		nc_db_rollback(db);
		CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0);
	}
	nc_db_close(db);
}

int
main(void)
{
	char cmd[300];
	int rc;

	snprintf(tmp, sizeof tmp, "/tmp/test-db.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return 2;
	open_settings();
	migrations();
	errors();
	concurrent();
	rc = check_done("test-db");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 2;
	return rc;
}
