/* sqldb.h - sqlite connections of the sqlite store: WAL, FULL sync, cached
 * prepared statements, one-line binding. Private to store_sqlite.c. */
#ifndef RELAY_SQLDB_H
#define RELAY_SQLDB_H

#include <stdint.h>
#include <sqlite3.h>

enum {
	Q_USER_GET, Q_USER_INS, Q_USER_DEL, Q_USER_DL, Q_USER_DL_SET,
	Q_USER_OLDAUTH, Q_USER_OLDAUTH_DEL, Q_OPQ_GET, Q_OPQ_SET, Q_OPQ_DELUSER, Q_OPQ_COMMON,
	Q_INV_INS, Q_INV_DEL,
	Q_DEV_INS, Q_DEV_ADD, Q_DEV_GET, Q_DEV_COUNT, Q_DEV_DEL, Q_DEV_UNLIST, Q_DEV_LIST,
	Q_DEV_SPK, Q_DEV_MAILQ, Q_DEV_CURRENT,
	Q_NON_INS, Q_NON_DEL, Q_NON_COUNT, Q_NON_DELUSER, Q_NON_SWEEP,
	Q_OTPK_INS, Q_OTPK_COUNT, Q_OTPK_TAKE, Q_OTPK_DELUSER, Q_OTPK_DELDEV,
	Q_CTR_GET, Q_CTR_SET, Q_CTR_DELUSER,
	Q_MAIL_HASH, Q_MAIL_INS, Q_MAIL_LIST, Q_MAIL_ACK, Q_MAIL_DELUSER,
	Q_BLOB_INS, Q_BLOB_GET, Q_BLOB_DEL, Q_BLOB_EXPIRED,
	Q_IDB_PUT, Q_IDB_GET, Q_IDB_DELUSER,
	Q_BK_GET, Q_BK_SET, Q_BK_DELUSER, Q_BKR_PUT, Q_BKR_GET, Q_BKR_USAGE,
	Q_BKR_HAS, Q_BKK_CLEAR, Q_BKK_ADD, Q_BKR_PRUNE, Q_BKR_DELUSER,
	Q_DEV_PURGE_MAIL, Q_DEV_PURGE_OTPK, Q_DEV_PURGE,
	Q_LINK_COUNT, Q_LINK_INS, Q_LINK_GET, Q_LINK_SET, Q_LINK_USED, Q_LINK_DELUSER,
	Q_LINK_SWEEP,
	Q_PUSH_SET, Q_PUSH_DEL, Q_PUSH_DROP, Q_PUSH_GET, Q_PUSH_DELUSER, Q_DEV_PURGE_PUSH,
	Q_KT_SIZE, Q_KT_LEAF_INS, Q_KT_LEAF_FIND, Q_KT_LEAVES, Q_KT_FORGET,
	Q_KT_NODE_INS, Q_KT_NODE_GET, Q_KT_HEAD_INS, Q_KT_HEAD_LAST,
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SAVE, Q_RELEASE, Q_ROLLBACK_TO,
	Q_MAX
};

struct sqldb {
	sqlite3 *db;
	sqlite3_stmt *st[Q_MAX];
	struct sqldb *next;   /* in the reader pool */
};

/* Open path (creating the schema when writer is set). NULL on failure. */
struct sqldb *sqldb_open(const char *path, int writer);
void sqldb_close(struct sqldb *c);

/* The statement id reset and bound from fmt: 't' text (const char *),
 * 'b' blob (const void *, size_t), 'i' integer (int64_t). NULL on error. */
sqlite3_stmt *sqldb_q(struct sqldb *c, int id, const char *fmt, ...);
/* Step: SQLITE_ROW, SQLITE_DONE or an error code. */
int sqldb_step(sqlite3_stmt *st);
/* Run id to completion (no rows wanted): 0 or -1. */
int sqldb_exec(struct sqldb *c, int id, const char *fmt, ...);
/* Rows the last statement run on c changed. */
int sqldb_changes(struct sqldb *c);
/* Copy blob column col into out[n]: 0 if it had exactly n bytes. */
int sqldb_blob(sqlite3_stmt *st, int col, void *out, size_t n);

#endif
