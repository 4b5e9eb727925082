/* groupbatch.c - a group message to each provider once (issue 17 item 4,
 * protocol.md 1.6.1): the blob of a message waiting in the group outbox
 * goes in one PUT /v1/batches/{envid} to each relay that hosts members,
 * with a header sealed to each of their devices. What a relay refuses
 * stays in the group outbox and goes over the pairwise sessions as before
 * (a device list changed, a relay without the route): the batch saves
 * bytes, the pairwise path stays the one that always works. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "gbatch.h"
#include "groupapp.h"
#include "groupmsg.h"
#include "hex.h"
#include "relayc.h"

/* A member waiting for op's message, and its row. */
typedef struct {
	int64_t seq;
	char addr[NC_ADDR_MAX + 1];
	char name[NC_USER_MAX + 1];
	char domain[NC_DOMAIN_MAX + 1];
} member;

static int
by_domain_name(const void *a, const void *b)
{
	const member *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : strcmp(x->name, y->name);
}

/* Rows of op, part 1 (the message), and the message itself. */
static int
load(nc_state *s, const char *op, member **out, size_t *n, nc_buf *body)
{
	sqlite3_stmt *st;
	member *m = NULL, *p;
	char row[NC_ADDR_MAX + 96];
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT seq, user, v FROM grp_out WHERE"
	    " op = ? AND part = 1 ORDER BY seq")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 1);
		char *at;

		if ((p = realloc(m, (k + 1) * sizeof *m)) == NULL) {
			rc = nc_fail(NC_EOSERR, "out of memory");
			break;
		}
		m = p;
		m[k].seq = sqlite3_column_int64(st, 0);
		snprintf(m[k].addr, sizeof m[k].addr, "%s", u ? u : "");
		if ((at = strchr(m[k].addr, '@')) == NULL ||
		    (size_t)(at - m[k].addr) > NC_USER_MAX)
			continue;
		memcpy(m[k].name, m[k].addr, (size_t)(at - m[k].addr));
		m[k].name[at - m[k].addr] = '\0';
		snprintf(m[k].domain, sizeof m[k].domain, "%s", at + 1);
		if (body->len == 0) {
			snprintf(row, sizeof row, "%s/1/%s", op, m[k].addr);
			if ((rc = nc_state_unseal(s, "grp_out", row,
			    sqlite3_column_blob(st, 2),
			    (size_t)sqlite3_column_bytes(st, 2), body)) != 0)
				break;
		}
		k++;
	}
	sqlite3_finalize(st);
	if (rc != 0) {
		free(m);
		return rc;
	}
	if (k > 1)
		qsort(m, k, sizeof *m, by_domain_name);
	*out = m;
	*n = k;
	return 0;
}

/* The delivered rows go (one transaction). */
static int
drop_rows(nc_state *s, const member *m, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM grp_out WHERE seq = ?")) != 0) {
		nc_state_rollback(s);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_int64(st, 1, m[i].seq);
		rc = nc_state_run(s, st);
	}
	sqlite3_finalize(st);
	if (rc != 0) {
		nc_state_rollback(s);
		return rc;
	}
	/* Lost to a power failure, the rows go again: the same blob under
	 * another envid, which receivers take as nothing new (3.5). */
	nc_state_lazy(s);
	return nc_state_commit(s);
}

/* Half of a batch's headers, sealed in a second thread. */
struct seal_part {
	uint8_t (*hdr)[NC_GB_HDR_LEN];
	const uint8_t *const *dev, *const *pk;
	size_t n;
	const uint8_t *envid, *bh;
	const nc_gb_ref *ref;
	int rc;
	char msg[512];
};

static void *
seal_part_run(void *arg)
{
	struct seal_part *p = arg;

	if ((p->rc = nc_gb_seal_all(p->hdr, p->dev, p->pk, p->n, p->envid,
	    p->bh, p->ref)) != 0)
		snprintf(p->msg, sizeof p->msg, "%s", nc_errmsg());
	return NULL;
}

/* The headers of a batch of n devices: a DH each, most of what a group
 * message costs its sender; a batch of 64 or more is sealed in two halves
 * at once, each under an ephemeral of its own. NC_GROUP_THREADS=1: one
 * thread; 2: two whatever the size (tests). */
static int
seal_headers(uint8_t (*hdr)[NC_GB_HDR_LEN], const uint8_t *const *dev,
    const uint8_t *const *pk, size_t n, const uint8_t *envid,
    const uint8_t *bh, const nc_gb_ref *ref)
{
	struct seal_part p;
	const char *t = getenv("NC_GROUP_THREADS");
	size_t from = t == NULL || *t == '\0' ? 64 : strcmp(t, "2") == 0 ? 2 :
	    SIZE_MAX;
	pthread_t th;
	size_t h = n / 2;
	int rc;

	if (n < from)
		return nc_gb_seal_all(hdr, dev, pk, n, envid, bh, ref);
	p = (struct seal_part){ .hdr = hdr + h, .dev = dev + h, .pk = pk + h,
	    .n = n - h, .envid = envid, .bh = bh, .ref = ref };
	if (pthread_create(&th, NULL, seal_part_run, &p) != 0)
		return nc_gb_seal_all(hdr, dev, pk, n, envid, bh, ref);
	rc = nc_gb_seal_all(hdr, dev, pk, h, envid, bh, ref);
	pthread_join(th, NULL);
	if (rc == 0 && p.rc != 0)
		rc = nc_fail(p.rc, "%s", p.msg);
	return rc;
}

/* A batch on its way: members m[0..n) of one domain with lists l[0..n). */
typedef struct {
	member *m;
	nc_devlist *l;
	size_t n, nmbox, len;
	nc_relay *r;
	nc_relay_pending p;
	int rc;
} flight;

/* Make the batch for f's members (a header sealed to each of their
 * devices) and start its PUT; batch_finish waits for it. */
static void
batch_start(nc_state *s, nc_self *self, const nc_gm *gm, flight *f)
{
	static nc_gb_batch b;   /* large; one batch made at a time */
	static const uint8_t *dev[NC_GB_MAX], *pk[NC_GB_MAX];
	uint8_t (*hdr)[NC_GB_HDR_LEN] = NULL;
	uint8_t envid[NC_ENVID_LEN], bh[32];
	char path[64], hex[2 * NC_ENVID_LEN + 1];
	nc_buf body = NC_BUF_INIT;
	nc_gb_ref ref;
	size_t i;
	int j, rc = 0;

	f->r = NULL;
	f->nmbox = f->len = 0;
	memset(&f->p, 0, sizeof f->p);
	memset(&b, 0, offsetof(nc_gb_batch, user));
	if ((hdr = malloc(NC_GB_MAX * sizeof *hdr)) == NULL) {
		f->rc = nc_fail(NC_EOSERR, "out of memory");
		return;
	}
	randombytes_buf(envid, sizeof envid);
	nc_group_blob_hash(bh, gm->blob, gm->bloblen);
	memcpy(ref.group, gm->ref.group, NC_GROUP_ID);
	memcpy(ref.key, gm->ref.key, NC_SKEY_ID);
	ref.index = gm->ref.index;
	b.blob = gm->blob;
	b.bloblen = gm->bloblen;
	for (i = 0; i < f->n && rc == 0; i++) {
		nc_gb_user *u = &b.user[b.nusers];

		snprintf(u->name, sizeof u->name, "%s", f->m[i].name);
		u->version = f->l[i].version;
		u->first = b.nmbox;
		u->n = 0;
		for (j = 0; j < f->l[i].n && rc == 0; j++) {
			const nc_devlist_dev *d = &f->l[i].dev[j];

			if (sodium_memcmp(d->id, self->dev->id, NC_DEVID_LEN) == 0)
				continue;
			if (b.nmbox == NC_GB_MAX) {
				rc = nc_fail(NC_ESOFTWARE, "group batch: over %d mailboxes",
				    NC_GB_MAX);
				break;
			}
			dev[b.nmbox] = d->id;
			pk[b.nmbox] = d->dh_pk;
			b.mbox[b.nmbox].dev = d->id;
			b.mbox[b.nmbox].hdr = hdr[b.nmbox];
			b.nmbox++;
			u->n++;
		}
		if (u->n > 0)
			b.nusers++;
	}
	if (rc == 0 && b.nusers == 0)
		rc = nc_fail(NC_EDATA, "group batch: no device to send to");
	if (rc == 0)
		rc = seal_headers(hdr, dev, pk, b.nmbox, envid, bh, &ref);
	if (rc == 0 && (rc = nc_gb_batch_enc(&body, &b)) == 0 &&
	    (rc = nc_relay_open(&f->r, s->home, f->m[0].domain)) == 0) {
		nc_hex_encode(hex, envid, sizeof envid);
		snprintf(path, sizeof path, "/v1/batches/%s", hex);
		nc_relay_req_start(f->r, "PUT", path, body.p, body.len, &f->p);
		f->nmbox = b.nmbox;
		f->len = body.len;
	}
	f->rc = rc;
	nc_buf_free(&body);
	free(hdr);
}

/* Its answer: on 201 the members' rows go and *sent, *mailboxes count
 * it. *status: the relay's answer (0 when none); a 409's named users in
 * *stale. */
static int
batch_finish(nc_state *s, flight *f, uint64_t *sent, size_t *mailboxes,
    long *status, struct nc_stale *stale)
{
	nc_buf resp = NC_BUF_INIT;
	int rc = f->rc;

	*status = 0;
	stale->n = 0;
	if (f->r != NULL) {
		int wrc = nc_relay_req_wait(&f->p, status, &resp);

		if (rc == 0)
			rc = wrc;
	}
	if (rc == 0 && *status == 409 && nc_stale_dec(stale, resp.p, resp.len) != 0)
		stale->n = 0;   /* not named (a relay before the names: all) */
	if (rc == 0 && *status != 201)
		rc = nc_fail(NC_ETEMP, "relay of %s refused the group batch (%ld)",
		    f->m[0].domain, *status);
	if (rc == 0) {
		*sent += f->len;
		*mailboxes += f->nmbox;
		rc = drop_rows(s, f->m, f->n);
	}
	nc_relay_close(f->r);
	f->r = NULL;
	nc_buf_free(&resp);
	return rc;
}

/* Whether the relay named user in its 409 (all, when it named none). */
static int
named(const struct nc_stale *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->user[i], name) == 0)
			return 1;
	return st->n == 0;
}

/* The answer to the batch f (cap mailboxes at most); on 409 (a list
 * changed since it was pinned) the lists of the users the relay names
 * (all, if it names none) are fetched anew and the batch made and sent
 * once more to the devices listed now. A member whose list fails to fetch
 * or verify is left out (the pairwise path takes it, and says why). */
static int
finish_fresh(nc_state *s, nc_self *self, flight *f, size_t cap,
    const nc_gm *gm, uint64_t *sent, size_t *mailboxes)
{
	static struct nc_stale st;
	member *m = f->m;
	nc_devlist *l = f->l;
	long status = 0;
	size_t i, k, devs = 0, fetched = 0, n = f->n;
	int rc = batch_finish(s, f, sent, mailboxes, &status, &st);

	if (rc == 0 || status != 409)
		return rc;
	for (i = k = 0; i < n; i++) {
		if (!named(&st, m[i].name)) {
			l[k] = l[i];   /* as pinned */
		} else if (strcmp(m[i].addr, self->addr) == 0) {
			nc_buf b = NC_BUF_INIT;   /* ours: as stored now */

			if (nc_state_get(s, "devlist", &b) != 0 ||
			    nc_devlist_decode(&l[k], b.p, b.len) != 0)
				l[k] = l[i];
			nc_buf_free(&b);
		} else if (fetched++, nc_dir_get(s, m[i].addr, 1, &l[k]) != 0)
			continue;
		m[k] = m[i];
		devs += (size_t)l[k++].n;
	}
	if (k == 0 || devs > cap)
		return nc_fail(NC_ETEMP, "relay of %s: device lists changed (409)",
		    m[0].domain);
	if (nc_verbose > 0)
		nc_cli_info("%s: device lists changed; the batch again with the "
		    "lists fetched now (%zu of %zu)", m[0].domain, fetched, n);
	f->n = k;
	batch_start(s, self, gm, f);
	return batch_finish(s, f, sent, mailboxes, &status, &st);
}

int
nc_group_batch_out(nc_state *s, nc_self *self, const char *op, uint64_t *sent)
{
	member *m = NULL, *ok = NULL;
	nc_devlist *l = NULL;
	flight *fl = NULL;
	nc_buf body = NC_SECBUF_INIT;
	size_t n = 0, i, first, k, c, mbox, cap, base, nfl = 0, mailboxes = 0;
	nc_gm gm;
	int rc, batches = 0;

	*sent = 0;
	if ((rc = load(s, op, &m, &n, &body)) != 0 || n == 0)
		goto out;
	if (nc_gm_decode(&gm, body.p, body.len) != 0 || gm.kind != NC_GM_MSG ||
	    gm.bloblen > NC_GB_BLOB_MAX)
		goto out;   /* not a message: the pairwise path takes it */
	if ((l = calloc(n, sizeof *l)) == NULL || (ok = calloc(n, sizeof *ok)) == NULL ||
	    (fl = calloc(n, sizeof *fl)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	cap = (size_t)(NC_GB_STORE_MAX / (gm.bloblen + NC_GB_ENTRY_HEAD));
	if (cap > NC_GB_MAX)
		cap = NC_GB_MAX;
	/* Each domain's members in batches within the relay's bounds, every
	 * batch started before any answer is waited for (the next one is
	 * sealed while the relays store the ones before); a member whose list
	 * is not pinned yet, or whose relay refuses, is left to the pairwise
	 * path. */
	for (first = 0, base = 0; first < n; first = i, base += k) {
		for (i = first, k = 0; i < n && strcmp(m[i].domain, m[first].domain) == 0;
		    i++) {
			if (strcmp(m[i].addr, self->addr) == 0)
				l[base + k] = self->list;
			else if (nc_dir_get(s, m[i].addr, 0, &l[base + k]) != 0)
				continue;
			ok[base + k++] = m[i];
		}
		for (c = 0; c < k; c += mbox) {
			size_t devs = 0;

			for (mbox = 0; c + mbox < k && devs + l[base + c + mbox].n <= cap;
			    mbox++)
				devs += l[base + c + mbox].n;
			if (mbox == 0)
				break;
			fl[nfl].m = ok + base + c;
			fl[nfl].l = l + base + c;
			fl[nfl].n = mbox;
			batch_start(s, self, &gm, &fl[nfl++]);
		}
	}
	for (c = 0; c < nfl; c++) {
		if (finish_fresh(s, self, &fl[c], cap, &gm, sent, &mailboxes) == 0)
			batches++;
		else if (nc_verbose > 0)
			nc_cli_info("%s: %s; pairwise instead", fl[c].m[0].domain,
			    nc_errmsg());
	}
	if (nc_verbose > 0 && batches > 0)
		nc_cli_info("group message: a blob of %zu bytes to %zu mailboxes in "
		    "%d batch%s, %llu bytes uploaded", gm.bloblen, mailboxes, batches,
		    batches == 1 ? "" : "es", (unsigned long long)*sent);
	rc = 0;
out:
	free(m);
	free(ok);
	free(l);
	free(fl);
	nc_buf_free(&body);
	return rc;
}
