/* api_push.c - a device's push endpoint (protocol.md 1.12): set, read and
 * removed by that device only; checked when set (push.c). */
#include <string.h>

#include "api_int.h"
#include "push.h"
#include "ratelimit.h"

/* user and dev from the path, the request signed by dev: 0, else 1
 * (answered). */
static int
push_auth(struct call *c, uint8_t dev[NC_DEVID_LEN])
{
	return bad_user(c, c->seg[2]) || bad_id(c, c->seg[4], dev) ||
	    unsigned_req(c, c->seg[2], dev);
}

void
h_push_put(struct call *c)
{
	char url[NC_PUSH_URL_MAX + 1], why[400];
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	/* each registration makes the relay POST once: rate limited as logins */
	if (push_auth(c, dev) || limited(c, RL_LOGIN))
		return;
	if (nc_push_dec(url, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (push_check(c->r->push, url, why, sizeof why) != 0) {
		fail(c->a, 400, why);
		return;
	}
	if ((rc = store_push_set(c->r->store, c->seg[2], dev, url)) != ST_OK)
		fail_store(c->a, rc, "device");
	else
		reply(c->a, 201);
}

void
h_push_get(struct call *c)
{
	char url[NC_PUSH_URL_MAX + 1];
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if (push_auth(c, dev))
		return;
	if ((rc = store_push_get(c->r->store, c->seg[2], dev, url, sizeof url)) != ST_OK)
		fail_store(c->a, rc, "push endpoint");
	else if (nc_push_enc(&c->a->body, url) != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, 200);
}

void
h_push_delete(struct call *c)
{
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if (push_auth(c, dev))
		return;
	if ((rc = store_push_set(c->r->store, c->seg[2], dev, NULL)) != ST_OK)
		fail_store(c->a, rc, "device");
	else
		reply(c->a, 204);
}
