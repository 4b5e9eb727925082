/* fanout.c - the envelopes of one message to many peers in one request to
 * each relay (POST /v1/deliveries, protocol.md 1.6): a group's new sender
 * key goes pairwise to every member, 1,000 of them after a removal, which
 * the outbox's flush sends as one request (and one relay commit) for each
 * peer. Here each relay gets one request for up to 1,000 envelopes of
 * its users, the relays at the same time; what a relay refuses stays in
 * outenv for the flush, which handles each peer's case (a list to
 * refetch, a device gone, a relay without the route). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "err.h"
#include "heal.h"
#include "outbox.h"
#include "relayc.h"

/* Under the relay's 8 MiB body limit, with room for the user entries. */
#define PUSH_BODY ((size_t)7 << 20)

typedef struct {
	char addr[NC_ADDR_MAX + 1];
	char name[NC_NAME_MAX + 1], domain[NC_DOMAIN_MAX + 1];
	uint64_t version;
	int out;              /* left to the flush: refused, stale, too many */
	size_t first, n;      /* its envelopes: env[first .. first + n) */
} fpeer;

typedef struct {
	size_t peer;          /* index in the peers */
	uint8_t envid[NC_ENVID_LEN], dev[NC_DEVID_LEN];
	nc_buf env;
} fenv;

/* One request: peers p[first .. first + n) of one domain. */
typedef struct {
	size_t first, n;
	nc_relay *r;
	nc_relay_pending p;
	size_t bytes;
	int rc;
	int stale, again;     /* users it named (a 409); sent again */
	int empty;            /* nobody left to send to */
	char why[300];        /* rc's reason */
} freq;

static int
by_domain_name(const void *a, const void *b)
{
	const fpeer *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : strcmp(x->name, y->name);
}

static int
by_peer(const void *a, const void *b)
{
	const fenv *x = a, *y = b;

	return x->peer < y->peer ? -1 : x->peer > y->peer;
}

/* The peers whose every stored envelope is of message id (another
 * message's waiting first keeps the peer's order: the flush takes it),
 * each with the list version it was encrypted for. */
static int
peers(nc_state *s, nc_self *self, const char *id, fpeer **out, size_t *n)
{
	sqlite3_stmt *st;
	static nc_devlist l;
	fpeer *p = NULL, *q;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT peer FROM outenv GROUP BY peer"
	    " HAVING min(id = ?1) = 1")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);

		if ((q = realloc(p, (k + 1) * sizeof *p)) == NULL) {
			rc = nc_fail(NC_EOSERR, "out of memory");
			break;
		}
		p = q;
		memset(&p[k], 0, sizeof p[k]);
		if (a == NULL || strlen(a) > NC_ADDR_MAX ||
		    nc_addr_split(a, p[k].name, p[k].domain) != 0)
			continue;
		snprintf(p[k].addr, sizeof p[k].addr, "%s", a);
		k++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < k && rc == 0; i++) {
		if (strcmp(p[i].addr, self->addr) == 0) {
			/* our own list as stored now (as the outbox's flush) */
			nc_buf b = NC_BUF_INIT;

			p[i].version = self->list.version;
			if (nc_state_get(s, "devlist", &b) == 0 &&
			    nc_devlist_decode(&l, b.p, b.len) == 0)
				p[i].version = l.version;
			nc_buf_free(&b);
		} else if (nc_dir_get(s, p[i].addr, 0, &l) != 0 ||
		    nc_dir_sendable(s, p[i].addr) != 0)
			p[i].out = 1;   /* the flush says why */
		else
			p[i].version = l.version;
	}
	if (rc != 0) {
		free(p);
		return rc;
	}
	if (k > 1)
		qsort(p, k, sizeof *p, by_domain_name);
	*out = p;
	*n = k;
	return 0;
}

static size_t
find(const fpeer *p, size_t n, const char *addr)
{
	fpeer key;

	memset(&key, 0, sizeof key);
	if (nc_addr_split(addr, key.name, key.domain) == 0) {
		const fpeer *f = bsearch(&key, p, n, sizeof *p, by_domain_name);

		if (f)
			return (size_t)(f - p);
	}
	return n;
}

/* Every envelope of id to those peers, grouped by peer in the order
 * they were made. */
static int
envelopes(nc_state *s, const char *id, fpeer *p, size_t np, fenv **out,
    size_t *n)
{
	sqlite3_stmt *st;
	fenv *e = NULL, *q;
	size_t k = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT peer, envid, dev, env FROM outenv"
	    " WHERE id = ? ORDER BY rowid")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t at = find(p, np, (const char *)sqlite3_column_text(st, 0));

		if (at == np || p[at].out ||
		    sqlite3_column_bytes(st, 1) != NC_ENVID_LEN ||
		    sqlite3_column_bytes(st, 2) != NC_DEVID_LEN ||
		    sqlite3_column_bytes(st, 3) < 1 ||
		    sqlite3_column_bytes(st, 3) > NC_ENVELOPE_MAX)
			continue;
		if ((q = realloc(e, (k + 1) * sizeof *e)) == NULL) {
			rc = nc_fail(NC_EOSERR, "out of memory");
			break;
		}
		e = q;
		e[k].peer = at;
		memcpy(e[k].envid, sqlite3_column_blob(st, 1), NC_ENVID_LEN);
		memcpy(e[k].dev, sqlite3_column_blob(st, 2), NC_DEVID_LEN);
		e[k].env = (nc_buf)NC_BUF_INIT;
		if ((rc = nc_buf_add(&e[k].env, sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3))) != 0)
			break;
		k++;
	}
	sqlite3_finalize(st);
	if (rc == 0 && k > 1) {
		/* by peer, each peer's in the order made (qsort is not stable:
		 * the rowid order is restored through the index) */
		for (i = 0; i < k; i++)
			e[i].peer = e[i].peer * (k + 1) + i;
		qsort(e, k, sizeof *e, by_peer);
		for (i = 0; i < k; i++)
			e[i].peer /= k + 1;
	}
	for (i = 0; i < k; i++) {
		if (i == 0 || e[i].peer != e[i - 1].peer)
			p[e[i].peer].first = i;
		p[e[i].peer].n++;
	}
	for (i = 0; i < np; i++)
		if (p[i].n == 0 || p[i].n > NC_DELIVERIES_DEVS)
			p[i].out = 1;
	*out = e;
	*n = k;
	return rc;
}

/* Start request q for the peers it holds that are still in. */
static void
start(nc_state *s, const fpeer *p, const fenv *e, freq *q)
{
	static struct nc_deliveries d;
	size_t i, j;

	d.nusers = d.n = 0;
	q->rc = 0;
	q->bytes = 0;
	for (i = q->first; i < q->first + q->n; i++) {
		struct nc_deliveries_user *u = &d.user[d.nusers];

		if (p[i].out)
			continue;
		snprintf(u->name, sizeof u->name, "%s", p[i].name);
		u->version = p[i].version;
		u->first = d.n;
		u->n = (uint16_t)p[i].n;
		for (j = p[i].first; j < p[i].first + p[i].n; j++) {
			struct nc_deliver_item *it = &d.item[d.n++];

			memcpy(it->dev, e[j].dev, NC_DEVID_LEN);
			memcpy(it->envid, e[j].envid, NC_ENVID_LEN);
			it->env = e[j].env.p;
			it->len = e[j].env.len;
			q->bytes += e[j].env.len + 2 * 16 + 4;
		}
		d.nusers++;
	}
	if ((q->empty = d.nusers == 0))
		return;   /* nobody left in it: all the flush's */
	if (q->r == NULL &&
	    (q->rc = nc_relay_open(&q->r, s->home, p[q->first].domain)) != 0)
		return;
	nc_relay_deliveries_start(q->r, &d, &q->p);
}

/* The answer to q: 0 taken; on a 409 that names users, those are left
 * out and *again set. */
static void
finish(fpeer *p, freq *q)
{
	static struct nc_stale st;
	size_t i, j;

	q->stale = 0;
	if (q->empty)
		return;
	if (q->rc == 0)
		q->rc = nc_relay_deliveries_wait(&q->p, &st);
	if (q->rc == 0)
		return;
	snprintf(q->why, sizeof q->why, "%s", nc_errmsg());
	if (q->rc != NC_ETEMP)
		return;
	for (j = 0; j < st.n; j++)
		for (i = q->first; i < q->first + q->n; i++)
			if (strcmp(p[i].name, st.user[j]) == 0 && !p[i].out) {
				p[i].out = 1;
				q->stale++;
			}
}

/* The taken envelopes leave outenv, their messages settled as the
 * flush's delivered() does, in one transaction. */
static int
taken(nc_state *s, const char *id, const fpeer *p, const fenv *e,
    const freq *q, size_t nq)
{
	sqlite3_stmt *st;
	size_t i, j, k;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM outenv WHERE envid = ?")) != 0)
		goto fail;
	for (k = 0; k < nq && rc == 0; k++)
		for (i = q[k].first; q[k].rc == 0 && i < q[k].first + q[k].n &&
		    rc == 0; i++)
			for (j = p[i].first; !p[i].out && j < p[i].first + p[i].n &&
			    rc == 0; j++) {
				sqlite3_bind_blob(st, 1, e[j].envid, NC_ENVID_LEN,
				    SQLITE_STATIC);
				rc = nc_state_run(s, st);
			}
	sqlite3_finalize(st);
	for (k = 0; k < nq && rc == 0; k++)
		for (i = q[k].first; q[k].rc == 0 && i < q[k].first + q[k].n &&
		    rc == 0; i++)
			if (!p[i].out)
				rc = nc_outbox_settle(s, p[i].addr, id);
	if (rc != 0)
		goto fail;
	/* Lost to a power failure, the envelopes go again under the same
	 * ids, which the relay and the recipient take once. */
	nc_state_lazy(s);
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

int
nc_outbox_fanout(nc_state *s, nc_self *self, const char *id, nc_fanout *f)
{
	fpeer *p = NULL;
	fenv *e = NULL;
	freq *q = NULL;
	size_t np = 0, ne = 0, nq = 0, i, first, envs, bytes;
	int rc, stale = 0;

	memset(f, 0, sizeof *f);
	if ((rc = peers(s, self, id, &p, &np)) != 0 || np == 0 ||
	    (rc = envelopes(s, id, p, np, &e, &ne)) != 0 || ne == 0)
		goto out;
	for (i = first = 0; i < np; i++)
		first += !p[i].out;
	if (first <= NC_FLUSH_AT_ONCE)
		goto out;   /* one wave of the flush: as fast, a request a peer */
	/* Before anything made with a session leaves (as the flush). A
	 * stale state (a restored copy) leaves it all to the flush. */
	if ((rc = nc_heal_check(s, self, &stale)) != 0 || stale)
		goto out;
	/* Requests: a domain's peers, 1,000 envelopes or PUSH_BODY each. */
	if ((q = calloc(np, sizeof *q)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	for (i = 0; i < np; ) {
		for (; i < np && p[i].out; i++)
			;
		if (i == np)
			break;
		first = i;
		envs = bytes = 0;
		for (; i < np && strcmp(p[i].domain, p[first].domain) == 0; i++) {
			size_t b = 0;

			for (size_t j = p[i].first; !p[i].out && j < p[i].first + p[i].n; j++)
				b += e[j].env.len + 2 * 16 + 4;
			if (!p[i].out && (envs + p[i].n > NC_DELIVERIES_MAX ||
			    bytes + b + 128 > PUSH_BODY))
				break;
			if (!p[i].out) {
				envs += p[i].n;
				bytes += b + 128;
			}
		}
		q[nq].first = first;
		q[nq++].n = i - first;
	}
	/* Every relay at once; a 409 that names users: the rest once more
	 * (those users' lists are the flush's to fetch anew). */
	for (i = 0; i < nq; i++)
		start(s, p, e, &q[i]);
	for (i = 0; i < nq; i++)
		finish(p, &q[i]);
	for (i = 0; i < nq; i++)
		if ((q[i].again = q[i].stale) > 0) {
			f->stale += (size_t)q[i].stale;
			start(s, p, e, &q[i]);
		}
	for (i = 0; i < nq; i++)
		if (q[i].again)
			finish(p, &q[i]);
	for (i = 0; i < nq; i++) {
		if (q[i].empty)
			continue;
		if (q[i].rc != 0) {
			f->refused++;
			if (f->why[0] == '\0' && q[i].why[0] != '\0')
				snprintf(f->why, sizeof f->why, "%s", q[i].why);
			continue;
		}
		f->requests++;
		f->bytes += q[i].bytes;
		for (size_t j = q[i].first; j < q[i].first + q[i].n; j++)
			if (!p[j].out) {
				f->peers++;
				f->envelopes += p[j].n;
			}
	}
	rc = taken(s, id, p, e, q, nq);
out:
	for (i = 0; i < nq; i++)
		nc_relay_close(q[i].r);
	for (i = 0; i < ne; i++)
		nc_buf_free(&e[i].env);
	free(q);
	free(e);
	free(p);
	return rc;
}
