/* gap.c - remembering and reporting missing messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "gap.h"
#include "hex.h"

#define IDS_MAX (2 * NC_MAX_SKIP_TOTAL)   /* current + previous session */

typedef struct {
	uint8_t id[16];
	int reported;
} gap_row;

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int
missing_event(nc_state *s, const char *user, const char *devhex, int64_t n,
    int64_t now)
{
	sqlite3_stmt *st;
	char why[64];
	int rc;

	snprintf(why, sizeof why, "%lld message%s did not arrive", (long long)n,
	    n == 1 ? "" : "s");
	if ((rc = nc_state_prep(s, &st, "INSERT INTO event(type, peer, dev, time,"
	    " reason, n) VALUES ('missing', ?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, devhex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, why, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, n);
	return nc_state_done(s, st);
}

/* The gap ids of r[0..nr-1], sorted; *n of them. */
static uint8_t (*current_ids(nc_ratchet *const *r, int nr, size_t *n))[16]
{
	uint8_t (*ids)[16];
	size_t total = 0;

	for (int i = 0; i < nr; i++)
		total += r[i] ? nc_ratchet_missing(r[i], 0) : 0;
	*n = 0;
	if ((ids = malloc((total ? total : 1) * 16)) == NULL)
		return NULL;
	for (int i = 0; i < nr; i++)
		for (uint32_t j = 0; r[i] && nc_ratchet_missing_at(r[i], j,
		    ids[*n], NULL) == 0; j++)
			++*n;
	qsort(ids, *n, 16, cmp_id);
	return ids;
}

static int
load_rows(nc_state *s, const char *user, const uint8_t dev[16],
    gap_row **rows, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT id, reported FROM gap WHERE"
	    " user = ? AND dev = ?")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, 16, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 16)
			continue;
		if (*n == cap) {
			gap_row *p = realloc(*rows, (cap ? cap * 2 : 16) * sizeof *p);
			if (p == NULL) {
				sqlite3_finalize(st);
				return nc_fail(NC_EOSERR, "out of memory");
			}
			*rows = p;
			cap = cap ? cap * 2 : 16;
		}
		memcpy((*rows)[*n].id, sqlite3_column_blob(st, 0), 16);
		(*rows)[(*n)++].reported = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : nc_state_dberr(s, "gap");
}

/* Runs sql for one id: prepared on the first call, reused after (the
 * caller finalizes *st). */
static int
row_op(nc_state *s, sqlite3_stmt **st, const char *sql, const char *user,
    const uint8_t dev[16], const uint8_t id[16], int64_t since)
{
	int rc;

	if (*st == NULL && (rc = nc_state_prep(s, st, sql)) != 0)
		return rc;
	sqlite3_bind_text(*st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 2, dev, 16, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 3, id, 16, SQLITE_STATIC);
	if (since)
		sqlite3_bind_int64(*st, 4, since);
	return nc_state_run(s, *st);
}

int
nc_gap_sync(nc_state *s, const char *user, const uint8_t dev[16],
    nc_ratchet *const *r, int nr, int may_fill, int64_t since)
{
	uint8_t (*ids)[16] = NULL;
	sqlite3_stmt *del = NULL, *ins = NULL;
	gap_row *rows = NULL;
	size_t nids = 0, nrows = 0, i;
	int64_t given_up = 0, now = (int64_t)time(NULL);
	char devhex[33];
	int rc;

	/* A relay's clock (or lie) cannot postpone a report past the window. */
	if (since <= 0 || since > now)
		since = now;
	if ((rc = load_rows(s, user, dev, &rows, &nrows)) != 0)
		return rc;
	if ((ids = current_ids(r, nr, &nids)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	if (nrows == 0 && nids == 0)
		goto done;
	/* Gone from the sessions: filled, or given up (report it then). */
	for (i = 0; i < nrows && rc == 0; i++) {
		if (bsearch(rows[i].id, ids, nids, 16, cmp_id) != NULL)
			continue;
		if (!rows[i].reported && !may_fill)
			given_up++;
		rc = row_op(s, &del, "DELETE FROM gap WHERE user = ?1 AND"
		    " dev = ?2 AND id = ?3", user, dev, rows[i].id, 0);
	}
	/* New gaps open when the message that revealed them arrived; the
	 * ones known already stay as they are (a long gap costs nothing
	 * per message that follows it). */
	if (nrows > 1)
		qsort(rows, nrows, sizeof *rows, cmp_id);   /* by id, its first field */
	for (i = 0; i < nids && rc == 0; i++)
		if (nrows == 0 ||
		    bsearch(ids[i], rows, nrows, sizeof *rows, cmp_id) == NULL)
			rc = row_op(s, &ins, "INSERT OR IGNORE INTO gap(user, dev,"
			    " id, since) VALUES (?1, ?2, ?3, ?4)", user, dev, ids[i],
			    since);
	nc_hex_encode(devhex, dev, 16);
	if (rc == 0 && given_up > 0)
		rc = missing_event(s, user, devhex, given_up, now);
done:
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	free(rows);
	free(ids);
	return rc;
}

int
nc_gap_report(nc_state *s, int64_t now, int64_t window, int *n)
{
	sqlite3_stmt *st, *up;
	int rc, total = 0;

	if (n)
		*n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT 1 FROM gap WHERE reported = 0"
	    " AND since <= ? LIMIT 1")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now - window);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : nc_state_dberr(s, "gap");
	if ((rc = nc_state_begin(s)) != 0 ||
	    (rc = nc_state_prep(s, &st, "SELECT user, dev, count(*) FROM gap"
	    " WHERE reported = 0 AND since <= ? GROUP BY user, dev")) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, now - window);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char devhex[33] = "";

		if (sqlite3_column_bytes(st, 1) == 16)
			nc_hex_encode(devhex, sqlite3_column_blob(st, 1), 16);
		total += sqlite3_column_int(st, 2);
		rc = missing_event(s, (const char *)sqlite3_column_text(st, 0),
		    devhex, sqlite3_column_int64(st, 2), now);
	}
	sqlite3_finalize(st);
	if (rc != 0 || (rc = nc_state_prep(s, &up, "UPDATE gap SET reported = 1"
	    " WHERE reported = 0 AND since <= ?")) != 0)
		goto fail;
	sqlite3_bind_int64(up, 1, now - window);
	if ((rc = nc_state_done(s, up)) != 0 || (rc = nc_state_commit(s)) != 0)
		goto fail;
	if (n)
		*n = total;
	return 0;
fail:
	nc_state_rollback(s);
	return rc;
}
