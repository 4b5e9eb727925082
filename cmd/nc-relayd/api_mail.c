/* api_mail.c - mailboxes: delivery, listing with long-poll, ack
 * (protocol.md 1.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "gbatch.h"
#include "ratelimit.h"
#include "waiters.h"

#define LIST_BYTES ((size_t)4 << 20)   /* a listing stops past this size */
#define WAIT_MAX 60

/* The 409 of a request to many users (user NULL: each e[i] names its
 * own): the users whose device list is not the version their entries
 * name (protocol.md 1.6). Read after the refusal: a list only moves on,
 * so whoever was stale then is now. */
static void
stale_users(struct call *c, const struct store_env *e, size_t n)
{
	static _Thread_local struct nc_stale st;
	nc_buf dl = NC_BUF_INIT;
	uint64_t v;

	st.n = 0;
	for (size_t i = 0; i < n && st.n < NC_DELIVERIES_MAX; i++) {
		if (i > 0 && e[i].user == e[i - 1].user)
			continue;   /* the same user's next device */
		nc_buf_reset(&dl);
		v = 0;
		if (store_devlist_get(c->r->store, e[i].user, &dl, &v) == ST_ERR)
			continue;
		if (v != *e[i].version)
			snprintf(st.user[st.n++], sizeof st.user[0], "%s", e[i].user);
	}
	nc_buf_free(&dl);
	nc_buf_reset(&c->a->body);
	c->a->status = 409;
	c->a->ctype = "application/octet-stream";
	if (st.n == 0 || nc_stale_enc(&c->a->body, &st) != 0)
		fail(c->a, 409, "a device list changed since the request was made");
}

static void
deliver(struct call *c, const char *user, const struct store_env *e, size_t n,
    const uint64_t *version)
{
	uint64_t cur = 0;
	int rc = store_deliver(c->r->store, user, e, n, version, &cur, c->q->now);

	switch (rc) {
	case ST_OK:
		reply(c->a, 201);
		break;
	case ST_STALE:
		if (user == NULL) {
			stale_users(c, e, n);
			break;
		}
		c->a->status = 409;
		if (nc_version_enc(&c->a->body, cur) != 0)
			fail(c->a, 503, "out of memory");
		break;
	case ST_CONFLICT:
		fail(c->a, 409, "envelope id already used for other bytes");
		break;
	case ST_FULL:
		fail(c->a, 507, "mailbox full");
		break;
	default:
		fail_store(c->a, rc, "user or device");
	}
}

void
h_mail_put(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t dev[NC_DEVID_LEN], envid[NC_ENVID_LEN];
	struct store_env e = { .dev = dev, .envid = envid, .env = c->q->body,
	    .len = c->q->body_len };

	if (bad_user(c, user) || bad_id(c, c->seg[4], dev) ||
	    bad_id(c, c->seg[6], envid) || limited(c, RL_ANON))
		return;
	if (c->q->body_len == 0) {
		fail(c->a, 400, "empty envelope");
		return;
	}
	deliver(c, user, &e, 1, NULL);
}

void
h_deliver(struct call *c)
{
	const char *user = c->seg[2];
	static _Thread_local struct nc_deliver d;
	struct store_env e[NC_DELIVER_MAX] = { { 0 } };

	if (bad_user(c, user) || limited(c, RL_ANON))
		return;
	if (nc_deliver_dec(&d, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	for (size_t i = 0; i < d.n; i++) {
		e[i].dev = d.item[i].dev;
		e[i].envid = d.item[i].envid;
		e[i].env = d.item[i].env;
		e[i].len = d.item[i].len;
	}
	deliver(c, user, e, d.n, &d.devlist_version);
}

/* PUT /v1/batches/{envid}: one group message for many mailboxes of this
 * relay (protocol.md 1.6.1): each gets the envelope u8 2 || envid || dev
 * || its sealed header || the blob, all in one transaction. The relay
 * learns the mailboxes and the blob, not the group or the sender. */
void
h_batch(struct call *c)
{
	static _Thread_local nc_gb_batch b;
	uint8_t envid[NC_ENVID_LEN];
	struct store_env *e = NULL;
	uint8_t (*head)[NC_GB_ENTRY_HEAD] = NULL;
	size_t i, k;

	if (bad_id(c, c->seg[2], envid))
		return;
	if (nc_gb_batch_dec(&b, c->q->body, c->q->body_len) != 0) {
		fail(c->a, b.too_many ? 413 : 400, b.too_many ?
		    "group batch: at most 1000 mailboxes, 32 devices a user" : nc_errmsg());
		return;
	}
	if ((uint64_t)b.nmbox * (b.bloblen + NC_GB_ENTRY_HEAD) > NC_GB_STORE_MAX) {
		fail(c->a, 413, "group batch: mailboxes x blob over 32 MiB; split it");
		return;
	}
	/* a token for each 64 mailboxes, as a delivery of 64 takes one */
	for (i = 0; i < ((size_t)b.nmbox + NC_DELIVER_MAX - 1) / NC_DELIVER_MAX; i++)
		if (limited(c, RL_ANON))
			return;
	if ((e = calloc(b.nmbox, sizeof *e)) == NULL ||
	    (head = malloc((size_t)b.nmbox * sizeof *head)) == NULL) {
		fail(c->a, 503, "out of memory");
		goto out;
	}
	for (i = 0; i < b.nusers; i++)
		for (k = b.user[i].first; k < (size_t)b.user[i].first + b.user[i].n; k++) {
			nc_gb_entry_head(head[k], envid, b.mbox[k].dev, b.mbox[k].hdr,
			    b.bloblen);
			e[k].dev = b.mbox[k].dev;
			e[k].envid = envid;
			e[k].env = head[k];
			e[k].len = NC_GB_ENTRY_HEAD;
			e[k].tail = b.blob;
			e[k].tail_len = b.bloblen;
			e[k].user = b.user[i].name;
			e[k].version = &b.user[i].version;
		}
	deliver(c, NULL, e, b.nmbox, NULL);
out:
	free(e);
	free(head);
}

/* POST /v1/deliveries: pairwise envelopes for many users of this relay
 * (protocol.md 1.6) in one transaction, all or nothing, as a group batch
 * files its mailboxes: a sender key to 1,000 members is one request and
 * one commit, not 1,000. */
void
h_deliveries(struct call *c)
{
	static _Thread_local struct nc_deliveries d;
	struct store_env *e = NULL;
	size_t i, k;

	if (nc_deliveries_dec(&d, c->q->body, c->q->body_len) != 0) {
		fail(c->a, d.too_many ? 413 : 400, d.too_many ?
		    "deliveries: at most 1000 envelopes, 32 a user" : nc_errmsg());
		return;
	}
	/* a token for each 64 envelopes, as a delivery of 64 takes one */
	for (i = 0; i < ((size_t)d.n + NC_DELIVER_MAX - 1) / NC_DELIVER_MAX; i++)
		if (limited(c, RL_ANON))
			return;
	if ((e = calloc(d.n, sizeof *e)) == NULL) {
		fail(c->a, 503, "out of memory");
		return;
	}
	for (i = 0; i < d.nusers; i++)
		for (k = d.user[i].first; k < (size_t)d.user[i].first + d.user[i].n; k++) {
			e[k].dev = d.item[k].dev;
			e[k].envid = d.item[k].envid;
			e[k].env = d.item[k].env;
			e[k].len = d.item[k].len;
			e[k].user = d.user[i].name;
			e[k].version = &d.user[i].version;
		}
	deliver(c, NULL, e, d.n, NULL);
	free(e);
}

/* Encodes rows straight into the response; n is patched in at the end. */
struct listing {
	nc_buf *b;
	unsigned n;
};

static int
row(void *arg, uint64_t cursor, const uint8_t envid[NC_ENVID_LEN], uint64_t received,
    const void *env, size_t len)
{
	struct listing *l = arg;
	nc_enc e;

	if (l->n > 0 && l->b->len + len > LIST_BYTES)
		return 1;
	nc_enc_init(&e, l->b);
	nc_put_u64(&e, cursor);
	nc_put_fixed(&e, envid, NC_ENVID_LEN);
	nc_put_u64(&e, received);
	nc_put_bytes(&e, env, len);
	if (nc_enc_end(&e) != 0)
		return 1;
	l->n++;
	return 0;
}

void
relay_api_list(struct relay *r, struct api_wait *w, struct api_resp *a, int last)
{
	struct listing l = { &a->body, 0 };
	uint8_t head[3] = { 1, 0, 0 };
	int rc;

	if (w->link) {
		relay_api_link(r, w, a, last);
		return;
	}
	nc_buf_reset(&a->body);
	a->ctype = "application/octet-stream";
	w->gen = waiters_gen(r->waiters);
	if (nc_buf_add(&a->body, head, sizeof head) != 0) {
		fail(a, 503, "out of memory");
		return;
	}
	rc = store_list(r->store, w->user, w->dev, w->after, w->limit, row, &l);
	if (rc != ST_OK) {
		fail_store(a, rc, "mailbox");
		return;
	}
	a->body.p[1] = (uint8_t)(l.n >> 8);
	a->body.p[2] = (uint8_t)l.n;
	a->status = l.n == 0 && !last && !r->stopping && w->seconds > 0 ? 0 : 200;
}

/* Query "after=C&wait=S&limit=N", all optional, decimal. */
static int
query(const char *q, struct api_wait *w)
{
	char buf[200], *save, *kv, *v, *end;
	unsigned long long x;

	w->after = 0;
	w->seconds = 0;
	w->limit = NC_LIST_MAX;
	if (strlen(q) >= sizeof buf)
		return -1;
	strcpy(buf, q);
	for (kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		if ((v = strchr(kv, '=')) == NULL || v[1] < '0' || v[1] > '9')
			return -1;
		*v++ = '\0';
		x = strtoull(v, &end, 10);
		if (*end != '\0' || strlen(v) > 19)
			return -1;
		if (strcmp(kv, "after") == 0)
			w->after = x;
		else if (strcmp(kv, "wait") == 0 && x <= WAIT_MAX)
			w->seconds = (unsigned)x;
		else if (strcmp(kv, "limit") == 0 && x >= 1 && x <= NC_LIST_MAX)
			w->limit = (unsigned)x;
		else
			return -1;
	}
	return 0;
}

void
h_mail_list(struct call *c)
{
	const char *user = c->seg[2];
	struct api_wait *w = &c->a->wait;

	if (bad_user(c, user) || bad_id(c, c->seg[4], w->dev))
		return;
	if (query(c->query, w) != 0) {
		fail(c->a, 400, "bad query: after=C&wait=0..60&limit=1..100");
		return;
	}
	if (unsigned_req(c, user, w->dev))
		return;
	strcpy(w->user, user);
	relay_api_list(c->r, w, c->a, 0);
}

void
h_mail_ack(struct call *c)
{
	const char *user = c->seg[2];
	static _Thread_local struct nc_ack k;
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if (bad_user(c, user) || bad_id(c, c->seg[4], dev) ||
	    unsigned_req(c, user, dev))
		return;
	if (nc_ack_dec(&k, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if ((rc = store_ack(c->r->store, user, dev, &k)) != ST_OK)
		fail_store(c->a, rc, "device");
	else
		reply(c->a, 200);
}
