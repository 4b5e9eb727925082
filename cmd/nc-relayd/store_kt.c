/* store_kt.c - the key log's tables (sqldb.c: kt_leaves, kt_nodes,
 * kt_heads). kt_nodes holds the hash of every perfect subtree (level L,
 * index i: leaves i*2^L .. (i+1)*2^L - 1) as soon as it is complete, so an
 * append writes 1 + (trailing ones of its index) rows, and any root or
 * proof (merkle.c) reads O(log n) of them, never the leaves. */
#include <string.h>

#include "store_kt.h"

#define OK(x) do { if ((x) != 0) return ST_ERR; } while (0)

int64_t
ktdb_size(struct sqldb *c)
{
	sqlite3_stmt *st = sqldb_q(c, Q_KT_SIZE, "");
	int64_t n = -1;

	if (sqldb_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return n;
}

/* merkle.h's store of perfect subtrees, over a connection. */
static int
perfect(void *ctx, unsigned level, uint64_t index, nc_merkle_hash out)
{
	struct sqldb *c = ctx;
	sqlite3_stmt *st;
	int rc;

	if (index > INT64_MAX)
		return ST_ERR;
	st = sqldb_q(c, Q_KT_NODE_GET, "ii", (int64_t)level, (int64_t)index);
	rc = sqldb_step(st) == SQLITE_ROW && sqldb_blob(st, 0, out, NC_MERKLE_HASH) == 0 ?
	    ST_OK : ST_ERR;
	if (st)
		sqlite3_reset(st);
	return rc;
}

int
ktdb_append(struct sqldb *c, const char *user, uint64_t version,
    const struct store_kt_leaf *l)
{
	uint8_t leaf[NC_KT_LEAF];
	nc_merkle_hash h, left;
	int64_t n = ktdb_size(c), i;
	unsigned level = 0;

	if (n < 0 || version > INT64_MAX)
		return ST_ERR;
	OK(sqldb_exec(c, Q_KT_LEAF_INS, "itibbbb", n, user, (int64_t)version,
	    l->label, (size_t)NC_KT_LABEL, l->commitment, (size_t)32,
	    l->opening, (size_t)32, l->vrf, (size_t)NC_VRF_PROOF));
	nc_kt_leaf(leaf, l->label, l->commitment);
	nc_merkle_leaf(h, leaf, sizeof leaf);
	OK(sqldb_exec(c, Q_KT_NODE_INS, "iib", (int64_t)0, n, h, sizeof h));
	/* Each odd index completes the subtree one level up with its left
	 * sibling. */
	for (i = n; i & 1; i >>= 1) {
		OK(perfect(c, level, (uint64_t)(i - 1), left));
		nc_merkle_node(h, left, h);
		level++;
		OK(sqldb_exec(c, Q_KT_NODE_INS, "iib", (int64_t)level, i >> 1, h, sizeof h));
	}
	return ST_OK;
}

int
ktdb_head(struct sqldb *c, nc_kt_head *h)
{
	sqlite3_stmt *st = sqldb_q(c, Q_KT_HEAD_LAST, "");
	int rc = sqldb_step(st);

	memset(h, 0, sizeof *h);
	if (rc == SQLITE_ROW) {
		h->size = (uint64_t)sqlite3_column_int64(st, 0);
		h->time = (uint64_t)sqlite3_column_int64(st, 2);
		rc = sqldb_blob(st, 1, h->root, NC_MERKLE_HASH) == 0 &&
		    sqldb_blob(st, 3, h->sig, 64) == 0 ? ST_OK : ST_ERR;
	} else
		rc = rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	if (st)
		sqlite3_reset(st);
	return rc;
}

int
ktdb_sign(struct sqldb *c, const uint8_t log_sk[64], const char *domain, int64_t now)
{
	nc_kt_head last, h;
	int64_t n = ktdb_size(c);
	int rc = ktdb_head(c, &last);

	if (n < 0 || (rc != ST_OK && rc != ST_NOTFOUND))
		return ST_ERR;
	if (n == 0 || (rc == ST_OK && last.size == (uint64_t)n))
		return ST_OK;   /* nothing new (a batch whose appends failed) */
	h.size = (uint64_t)n;
	/* never older than the head before, whatever the clock did */
	h.time = rc == ST_OK && last.time > (uint64_t)now ? last.time : (uint64_t)now;
	if (nc_merkle_range(h.root, perfect, c, 0, h.size) != 0)
		return ST_ERR;
	nc_kt_head_sign(&h, log_sk, domain);
	OK(sqldb_exec(c, Q_KT_HEAD_INS, "ibib", n, h.root, (size_t)NC_MERKLE_HASH,
	    (int64_t)h.time, h.sig, (size_t)64));
	return ST_OK;
}

int
ktdb_forget(struct sqldb *c, const char *user)
{
	OK(sqldb_exec(c, Q_KT_FORGET, "t", user));
	return ST_OK;
}

int
ktdb_prove(struct sqldb *c, const char *user, uint64_t version, uint64_t since,
    nc_kt_proof *p)
{
	sqlite3_stmt *st;
	int rc;

	memset(p, 0, sizeof *p);
	if (version > INT64_MAX)
		return ST_NOTFOUND;
	st = sqldb_q(c, Q_KT_LEAF_FIND, "ti", user, (int64_t)version);
	if ((rc = sqldb_step(st)) == SQLITE_ROW) {
		p->version = version;
		p->index = (uint64_t)sqlite3_column_int64(st, 0);
		rc = sqldb_blob(st, 1, p->opening, 32) == 0 &&
		    sqldb_blob(st, 2, p->vrf, NC_VRF_PROOF) == 0 ? ST_OK : ST_ERR;
	} else
		rc = rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	if (st)
		sqlite3_reset(st);
	if (rc != ST_OK)
		return rc;
	/* The leaf's head was committed with it (or later): it covers it. */
	if (ktdb_head(c, &p->head) != ST_OK || p->index >= p->head.size ||
	    nc_merkle_inclusion_proof(p->incl, &p->nincl, perfect, c, p->index,
	    p->head.size) != 0)
		return ST_ERR;
	/* A client that saw a larger tree gets none: it will see the
	 * smaller head and raise the alarm itself. */
	if (since > 0 && since <= p->head.size) {
		p->since = since;
		if (nc_merkle_consistency_proof(p->cons, &p->ncons, perfect, c, since,
		    p->head.size) != 0)
			return ST_ERR;
	}
	return ST_OK;
}

int
ktdb_consistency(struct sqldb *c, uint64_t from, uint64_t to, nc_kt_cons *out)
{
	nc_kt_head h;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = ktdb_head(c, &h)) != ST_OK)
		return rc;
	if (to > h.size)
		return ST_NOTFOUND;
	out->from = from;
	out->to = to;
	return nc_merkle_consistency_proof(out->h, &out->n, perfect, c, from, to) == 0 ?
	    ST_OK : ST_ERR;
}

int
ktdb_entries(struct sqldb *c, uint64_t start, size_t count, nc_kt_entries *e)
{
	sqlite3_stmt *st;
	nc_kt_head h;
	uint64_t end;
	int rc;

	e->start = start;
	e->n = 0;
	if (count > NC_KT_ENTRIES_MAX)
		count = NC_KT_ENTRIES_MAX;
	if ((rc = ktdb_head(c, &h)) == ST_NOTFOUND)
		h.size = 0;
	else if (rc != ST_OK)
		return rc;
	if (start > h.size)
		return ST_NOTFOUND;
	/* only what the newest head covers: an auditor checks it against it */
	end = h.size - start < count ? h.size : start + count;
	st = sqldb_q(c, Q_KT_LEAVES, "ii", (int64_t)start, (int64_t)end);
	while ((rc = sqldb_step(st)) == SQLITE_ROW && e->n < NC_KT_ENTRIES_MAX) {
		e->leaf[e->n][0] = 1;
		if (sqldb_blob(st, 0, e->leaf[e->n] + 1, NC_KT_LABEL) != 0 ||
		    sqldb_blob(st, 1, e->leaf[e->n] + 1 + NC_KT_LABEL, 32) != 0)
			break;
		e->n++;
	}
	if (st)
		sqlite3_reset(st);
	return rc == SQLITE_DONE && e->n == end - start ? ST_OK : ST_ERR;
}

int
ktdb_label(struct sqldb *c, const char *user, uint64_t version, nc_kt_labelproof *l)
{
	sqlite3_stmt *st;
	int rc;

	memset(l, 0, sizeof *l);
	if (version > INT64_MAX)
		return ST_NOTFOUND;
	st = sqldb_q(c, Q_KT_LEAF_FIND, "ti", user, (int64_t)version);
	if ((rc = sqldb_step(st)) == SQLITE_ROW) {
		l->version = version;
		l->index = (uint64_t)sqlite3_column_int64(st, 0);
		rc = sqldb_blob(st, 2, l->vrf, NC_VRF_PROOF) == 0 ? ST_OK : ST_ERR;
	} else
		rc = rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	if (st)
		sqlite3_reset(st);
	return rc;
}
