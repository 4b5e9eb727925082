/* api_link.c - provisioning boxes for linking a device by its code
 * (protocol.md 1.11): the new device opens a box named by the hash of its
 * code's key, a device of the user puts one sealed message there, the new
 * device takes it once. The relay holds only the box id and ciphertext. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "link.h"
#include "ratelimit.h"
#include "waiters.h"

#define LINK_WAIT_MAX 60

/* A take waits as a mailbox listing does, the box in the device's place
 * (box ids and device ids are apart: 128-bit hashes of different keys; a
 * mix-up would only list or take again). */
_Static_assert(NC_LINK_BOX == NC_DEVID_LEN, "a link box is waited for as a mailbox");

static int
bad_box(struct call *c, uint8_t box[NC_LINK_BOX])
{
	return bad_id(c, c->seg[4], box);
}

void
h_link_open(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t box[NC_LINK_BOX];
	int rc;

	if (bad_user(c, user) || bad_box(c, box) || limited(c, RL_LOGIN))
		return;
	if (c->q->body_len != 0) {
		fail(c->a, 400, "a box is opened without a body");
		return;
	}
	rc = store_link_open(c->r->store, user, box, c->q->now + NC_LINK_TTL,
	    c->q->now);
	if (rc == ST_OK)
		reply(c->a, 201);
	else if (rc == ST_FULL) {
		fail(c->a, 429, "too many link codes open for this user, retry later");
		c->a->retry_after = NC_LINK_TTL;
	} else
		fail_store(c->a, rc, rc == ST_EXISTS ? "link box" : "user");
}

void
h_link_put(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t box[NC_LINK_BOX];
	int rc;

	if (bad_user(c, user) || bad_box(c, box) || unsigned_req(c, user, NULL))
		return;
	if (c->q->body_len == 0) {
		fail(c->a, 400, "empty link message");
		return;
	}
	rc = store_link_put(c->r->store, user, box, c->q->body, c->q->body_len,
	    c->q->now);
	if (rc == ST_OK)   /* the store woke a take waiting for it */
		reply(c->a, 201);
	else if (rc == ST_NOTFOUND)
		fail(c->a, 404, "no such link code (expired?)");
	else if (rc == ST_CONFLICT)
		fail(c->a, 409, "this link code was answered already");
	else if (rc == ST_GONE)
		fail(c->a, 410, "this link code was used already");
	else
		fail_store(c->a, rc, "link box");
}

/* Take the box's message for w (the first time, or woken). Nothing yet:
 * 204, or (status 0) wait for a put if w has seconds and this is not the
 * last try. */
void
relay_api_link(struct relay *r, struct api_wait *w, struct api_resp *a, int last)
{
	int rc;

	nc_buf_reset(&a->body);
	a->ctype = "application/octet-stream";
	w->gen = waiters_gen(r->waiters);
	rc = store_link_take(r->store, w->user, w->dev, (int64_t)time(NULL), &a->body);
	if (rc == ST_OK && a->body.len > 0)
		reply(a, 200);
	else if (rc == ST_OK)
		a->status = !last && !r->stopping && w->seconds > 0 ? 0 : 204;
	else if (rc == ST_NOTFOUND)
		fail(a, 404, "no such link code (expired?)");
	else if (rc == ST_GONE)
		fail(a, 410, "this link code was used already");
	else
		fail_store(a, rc, "link box");
}

/* The query: empty, or "wait=S" (S 0..60, decimal). */
static int
link_query(const char *q, unsigned *secs)
{
	char *end;
	unsigned long x;

	*secs = 0;
	if (*q == '\0')
		return 0;
	if (strncmp(q, "wait=", 5) != 0 || q[5] < '0' || q[5] > '9' || strlen(q + 5) > 2)
		return -1;
	x = strtoul(q + 5, &end, 10);
	if (*end != '\0' || x > LINK_WAIT_MAX)
		return -1;
	*secs = (unsigned)x;
	return 0;
}

void
h_link_take(struct call *c)
{
	const char *user = c->seg[2];
	struct api_wait *w = &c->a->wait;

	if (bad_user(c, user) || bad_box(c, w->dev) || limited(c, RL_ANON))
		return;
	if (link_query(c->query, &w->seconds) != 0) {
		fail(c->a, 400, "bad query: wait=0..60");
		return;
	}
	snprintf(w->user, sizeof w->user, "%s", user);
	w->link = 1;
	relay_api_link(c->r, w, c->a, 0);
}
