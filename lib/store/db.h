/* db.h - sqlite for the relay and the client: WAL, a busy timeout so
 * concurrent processes wait for each other, foreign keys, synchronous=FULL
 * by default, files 0600, schema migrations tracked by PRAGMA user_version. */
#ifndef NC_DB_H
#define NC_DB_H

#include <stddef.h>

#include <sqlite3.h>

#define NC_DB_BUSY_MS 10000   /* how long a writer waits for another */

/* nc_db_open flags. */
#define NC_DB_SYNC_NORMAL 0x1   /* synchronous=NORMAL: no fsync per commit */

/* Open (creating, mode 0600) the database at path and bring its schema up
 * to date: migrations[i] (SQL, may hold several statements) takes the
 * schema from version i to i+1; each runs in its own transaction together
 * with the user_version update, so a crash leaves a consistent version.
 * A database newer than nmigrations is refused with NC_ECONFIG. 0 with *db
 * set; NC_ECANTCREAT, NC_EIO, NC_ECONFIG, NC_ESOFTWARE (bad migration SQL),
 * NC_ETEMP (still locked after NC_DB_BUSY_MS). */
int nc_db_open(sqlite3 **db, const char *path, const char *const *migrations,
    size_t nmigrations, int flags) __attribute__((warn_unused_result));
void nc_db_close(sqlite3 *db);

/* The schema version (PRAGMA user_version), or -1 with nc_fail set. */
int nc_db_version(sqlite3 *db);

/* BEGIN IMMEDIATE, taking the write lock now (so the transaction cannot
 * fail later on a lock upgrade); retries while another writer holds it, up
 * to NC_DB_BUSY_MS. 0, NC_ETEMP (still busy), NC_EIO. */
int nc_db_begin(sqlite3 *db) __attribute__((warn_unused_result));
/* COMMIT (retried while busy); on failure the transaction is rolled back. */
int nc_db_commit(sqlite3 *db) __attribute__((warn_unused_result));
/* ROLLBACK if a transaction is open; never fails. */
void nc_db_rollback(sqlite3 *db);

/* Run SQL text (one or more statements, no results). */
int nc_db_exec(sqlite3 *db, const char *sql) __attribute__((warn_unused_result));
/* Prepare one statement; a bad statement is a bug: NC_ESOFTWARE. */
int nc_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
	__attribute__((warn_unused_result));
/* Step: NC_DB_ROW with a row, 0 when done, or an error code (the statement
 * should then be reset or finalized). */
#define NC_DB_ROW 100
int nc_db_step(sqlite3_stmt *st) __attribute__((warn_unused_result));

/* Map a sqlite result code to NC_E* and record "what: sqlite's message":
 * BUSY/LOCKED -> NC_ETEMP, CONSTRAINT -> NC_EDATA, NOMEM -> NC_EOSERR,
 * CANTOPEN/PERM/READONLY -> NC_ECANTCREAT, ERROR/MISUSE/RANGE ->
 * NC_ESOFTWARE, everything else (IOERR, FULL, CORRUPT, NOTADB...) NC_EIO. */
int nc_db_err(sqlite3 *db, int rc, const char *what);

#endif
