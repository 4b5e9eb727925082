/* api_link.c - provisioning boxes for linking a device by its code
 * (protocol.md 1.11): the new device opens a box named by the hash of its
 * code's key, a device of the user puts one sealed message there, the new
 * device takes it once. The relay holds only the box id and ciphertext. */
#include <string.h>

#include "api_int.h"
#include "link.h"
#include "ratelimit.h"

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
	if (rc == ST_OK)
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

void
h_link_take(struct call *c)
{
	const char *user = c->seg[2];
	uint8_t box[NC_LINK_BOX];
	int rc;

	if (bad_user(c, user) || bad_box(c, box) || limited(c, RL_ANON))
		return;
	rc = store_link_take(c->r->store, user, box, c->q->now, &c->a->body);
	if (rc == ST_OK)
		reply(c->a, c->a->body.len ? 200 : 204);
	else if (rc == ST_NOTFOUND)
		fail(c->a, 404, "no such link code (expired?)");
	else if (rc == ST_GONE)
		fail(c->a, 410, "this link code was used already");
	else
		fail_store(c->a, rc, "link box");
}
