/* state.h - a device's local state: $NC_HOME/state.db (sqlite, WAL) and the
 * storage key $NC_HOME/storage.key (32 random bytes, 0600). Secrets,
 * session state and message bodies are stored encrypted with
 * XChaCha20-Poly1305 under a key derived from the storage key, with the
 * table and row identity as associated data, so a row moved to another
 * place in the database does not decrypt. */
#ifndef NC_STATE_H
#define NC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <sqlite3.h>

#include "buf.h"

#define NC_STATE_STMTS 48

typedef struct nc_state {
	sqlite3 *db;
	uint8_t *key;        /* at-rest key (sodium_malloc'd) */
	char home[4096];
	int depth;           /* nesting of nc_state_begin */
	int durable;         /* the open transaction is synced at commit */
	int unsynced;        /* commits not yet synced to disk */
	int lazy;            /* the open transaction needs no sync of its own */
	int scrub;           /* a session state was replaced (nc_state_scrub) */
	dev_t db_dev;        /* state.db as opened (nc_state_check) */
	ino_t db_ino;
	sqlite3_stmt *begin_st, *commit_st;
	/* Statements compiled once a process (nc_state_stmt), by SQL text */
	struct {
		const char *sql;
		sqlite3_stmt *st;
		int busy;
	} stmt[NC_STATE_STMTS];
	int nstmt;
} nc_state;

/* Create NC_HOME (0700) if needed, a new storage key (O_EXCL) and an empty
 * database. NC_ECANTCREAT if an identity is already there. */
int nc_state_create(nc_state **out, const char *home)
	__attribute__((warn_unused_result));
/* Open an existing state; NC_ECONFIG if there is none (run nc-keygen). */
int nc_state_open(nc_state **out, const char *home)
	__attribute__((warn_unused_result));
/* Syncs what is not synced yet (nc_state_sync), then closes; the result
 * of that sync (0 or NC_EIO). NULL is fine. */
int nc_state_close(nc_state *s);

/* NC_EIO when state.db is no longer the file opened (deleted or
 * replaced: what is written goes nowhere anyone will read). */
int nc_state_check(nc_state *s) __attribute__((warn_unused_result));

/* Write transactions (BEGIN IMMEDIATE: writers wait for each other, up to
 * the busy timeout). Nested begin/commit pairs join the outer one. */
int nc_state_begin(nc_state *s) __attribute__((warn_unused_result));
int nc_state_commit(nc_state *s) __attribute__((warn_unused_result));
void nc_state_rollback(nc_state *s);

/* Durability. Commits reach the WAL at once, so a process killed at any
 * point loses nothing committed; they reach the disk only when synced (an
 * fsync of the WAL, which also syncs every commit before it). What
 * something outside the process will depend on is synced first: a
 * transaction that advances a ratchet calls nc_state_durable before its
 * commit (which then returns once it is on disk) because an envelope made
 * with it is about to leave; messages received are synced with
 * nc_state_sync, once for a batch, before the relay is told it may delete
 * them. nc_state_close syncs whatever else was committed, except lazy
 * transactions, whose loss to a power failure costs only a repetition
 * (a delivery retried under the same envelope id, a receipt sealed again,
 * a line printed again): so after a power failure nothing acknowledged is
 * lost and no message key is used twice. */
void nc_state_durable(nc_state *s);
void nc_state_lazy(nc_state *s);
int nc_state_sync(nc_state *s) __attribute__((warn_unused_result));
/* Forward secrecy at rest: once a session state has been replaced
 * (s->scrub), the WAL still holds the earlier one; copy the WAL into
 * state.db (secure_delete overwrites the old rows there) and truncate it
 * to nothing. Called by nc_state_close, after each batch a long-running
 * reader stores, and by nc_outbox_flush while the relays answer. Another process reading at the time makes it a no-op
 * (tried again at the next one). Blocks freed by the file system are out
 * of sqlite's reach: full-disk encryption is the defence there. */
void nc_state_scrub(nc_state *s);

/* Encryption at rest: out = u8 1, fixed[24] nonce, ciphertext; the AD is
 * "newchat at-rest v1" 0x00 table 0x00 row. nc_state_unseal fails with
 * NC_ESECURITY when the bytes were changed or moved. */
int nc_state_seal(const nc_state *s, const char *table, const char *row,
    const void *pt, size_t n, nc_buf *out) __attribute__((warn_unused_result));
int nc_state_unseal(const nc_state *s, const char *table, const char *row,
    const void *ct, size_t n, nc_buf *out) __attribute__((warn_unused_result));
/* The same for a message body: table "message", row "DIR/PEER/ID" (dir 0
 * received, 1 sent; peer the contact or the group's sender). */
int nc_state_seal_msg(const nc_state *s, int dir, const char *peer, const char *id,
    const void *pt, size_t n, nc_buf *out) __attribute__((warn_unused_result));
int nc_state_unseal_msg(const nc_state *s, int dir, const char *peer, const char *id,
    const void *ct, size_t n, nc_buf *out) __attribute__((warn_unused_result));

/* Key-value settings: plain (public values) or encrypted (secrets).
 * get: 0, or NC_ENOUSER when the key is absent (nothing recorded). */
int nc_state_put(nc_state *s, const char *k, const void *v, size_t n)
	__attribute__((warn_unused_result));
int nc_state_get(nc_state *s, const char *k, nc_buf *out)
	__attribute__((warn_unused_result));
int nc_state_put_secret(nc_state *s, const char *k, const void *v, size_t n)
	__attribute__((warn_unused_result));
int nc_state_get_secret(nc_state *s, const char *k, nc_buf *out)
	__attribute__((warn_unused_result));
/* Integers and text in the plain settings; default when absent. */
int64_t nc_state_get_int(nc_state *s, const char *k, int64_t dflt);
int nc_state_put_int(nc_state *s, const char *k, int64_t v)
	__attribute__((warn_unused_result));
int nc_state_get_str(nc_state *s, const char *k, char *out, size_t max)
	__attribute__((warn_unused_result));
/* The same for a key that may well be absent: NC_ENOUSER then, and the
 * last error's reason is left as it was (nc_state_get_int uses it). */
int nc_state_find_str(nc_state *s, const char *k, char *out, size_t max)
	__attribute__((warn_unused_result));

/* Statement helpers: prepare (NC_EOSERR with sqlite's reason) and run a
 * statement without results. */
int nc_state_prep(nc_state *s, sqlite3_stmt **st, const char *sql)
	__attribute__((warn_unused_result));
int nc_state_exec(nc_state *s, const char *sql) __attribute__((warn_unused_result));
/* Step a prepared statement to completion, finalize it; 0 or NC_EOSERR. */
int nc_state_done(nc_state *s, sqlite3_stmt *st) __attribute__((warn_unused_result));
/* The same, but reset for another run (new bindings) instead of
 * finalized: one statement serves a loop. */
int nc_state_run(nc_state *s, sqlite3_stmt *st) __attribute__((warn_unused_result));
/* A statement on a hot path (once per envelope, per member), compiled
 * once a process: sql must be a string literal (it is looked up by its
 * address). Handed back with nc_state_release, which resets it and
 * clears its bindings (a statement in use already, or past
 * NC_STATE_STMTS, is compiled as by nc_state_prep and finalized there).
 * Compiling took a third of the CPU of a sender key to 1,000 members. */
int nc_state_stmt(nc_state *s, sqlite3_stmt **st, const char *sql)
	__attribute__((warn_unused_result));
void nc_state_release(nc_state *s, sqlite3_stmt *st);
/* nc_state_run, then nc_state_release. */
int nc_state_run_release(nc_state *s, sqlite3_stmt *st)
	__attribute__((warn_unused_result));
/* A second connection to the state's database, read-only, for a thread
 * of its own (a connection serves one thread at a time); closed with
 * sqlite3_close. Its reads see the last commit when its transaction
 * starts, as another process's would. */
int nc_state_reader(const nc_state *s, sqlite3 **db) __attribute__((warn_unused_result));
/* nc_relay_clock's hook: the time to sign a request with hash h. */
int64_t nc_state_reqtime(void *ctx, const uint8_t h[32], int64_t now);

/* Error from the database, with context. */
int nc_state_dberr(nc_state *s, const char *what);

#endif
