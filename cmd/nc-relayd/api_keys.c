/* api_keys.c - device lists and prekeys (protocol.md 1.4, 1.5). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "devlist.h"
#include "keys.h"
#include "ratelimit.h"

void
h_devlist_put(struct call *c)
{
	const char *user = c->seg[2];
	static _Thread_local nc_devlist l;
	uint8_t dev[NC_DEVLIST_MAX][NC_DEVID_LEN], pk[NC_DEVLIST_MAX][NC_PK_LEN];
	struct store_kt_leaf kt;
	char addr[NC_ADDR_MAX + 1];
	int rc, ok;

	if (bad_user(c, user))
		return;
	/* Decoded first: a joining device must be named in it. */
	ok = nc_devlist_decode(&l, c->q->body, c->q->body_len) == 0;
	if (unsigned_req_joining(c, user, NULL, ok ? &l : NULL))
		return;
	if (!ok) {
		(void)!nc_devlist_decode(&l, c->q->body, c->q->body_len);
		fail(c->a, 400, nc_errmsg());
		return;
	}
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	if (strcmp(l.user, addr) != 0) {
		fail(c->a, 400, "device list names another user");
		return;
	}
	if (nc_devlist_verify(&l) != 0) {
		fail(c->a, 400, "bad device list signature");
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		memcpy(dev[i], l.dev[i].id, NC_DEVID_LEN);
		memcpy(pk[i], l.dev[i].sign_pk, NC_PK_LEN);
	}
	/* Its key-log leaf, appended with it (the VRF runs here, in
	 * parallel, not on the store's single writer). */
	if (relay_kt_leaf(c->r, user, l.version, l.identity, c->q->body, c->q->body_len,
	    &kt) != 0) {
		fail(c->a, 503, "key log unavailable, retry later");
		return;
	}
	rc = store_devlist_put(c->r->store, user, l.version, l.identity,
	    c->q->body, c->q->body_len, (const uint8_t (*)[NC_DEVID_LEN])dev,
	    (const uint8_t (*)[NC_PK_LEN])pk, l.n, &kt);
	if (rc == ST_CONFLICT)
		fail(c->a, 409, "device list version not newer than the stored one");
	else if (rc == ST_FORBIDDEN)
		fail(c->a, 403, "device list signed by another identity key");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 201);
}

void
h_devlist_get(struct call *c)
{
	const char *user = c->seg[2];
	uint64_t v;
	int rc;

	if (bad_user(c, user))
		return;
	if ((rc = store_devlist_get(c->r->store, user, &c->a->body, &v)) != ST_OK)
		fail_store(c->a, rc, "device list");
	else if (kt_attach_proof(c, user, v) == 0)   /* X-NC-KT-Proof */
		reply(c->a, 200);
}

void
h_prekeys_put(struct call *c)
{
	const char *user = c->seg[2];
	static _Thread_local struct nc_prekeys k;
	uint8_t dev[NC_DEVID_LEN], pk[NC_PK_LEN];
	int rc;

	if (bad_user(c, user) || bad_id(c, c->seg[4], dev) ||
	    unsigned_req(c, user, dev))
		return;
	if (nc_prekeys_dec(&k, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	/* Clients verify it anyway; refusing it here keeps a broken client
	 * from publishing a prekey nobody can use. */
	if (k.has_spk && (store_device_key(c->r->store, user, dev, pk) != ST_OK ||
	    nc_spk_verify(pk, k.spk_id, k.spk_pk, k.spk_sig) != 0)) {
		fail(c->a, 400, "signed prekey: bad signature");
		return;
	}
	rc = store_prekeys_put(c->r->store, user, dev, &k);
	if (rc == ST_FULL)
		fail(c->a, 507, "too many one-time prekeys held");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "device");
	else
		reply(c->a, 201);
}

void
h_prekeys_get(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_prekey_count pc;
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if (bad_user(c, user) || bad_id(c, c->seg[4], dev) ||
	    unsigned_req(c, user, NULL))
		return;
	if ((rc = store_prekeys_count(c->r->store, user, dev, &pc)) != ST_OK)
		fail_store(c->a, rc, "device");
	else if (nc_prekey_count_enc(&c->a->body, &pc) != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, 200);
}

/* A device's counter (protocol.md 1.10): only the device itself moves it. */
void
h_counter(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_counter_req q;
	struct nc_counter cur;
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if (bad_user(c, user) || bad_id(c, c->seg[4], dev) ||
	    unsigned_req(c, user, dev))
		return;
	if (nc_counter_req_dec(&q, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	rc = store_counter(c->r->store, user, dev, &q, &cur);
	if (rc != ST_OK && rc != ST_CONFLICT)
		fail_store(c->a, rc, "device");
	else if (nc_counter_enc(&c->a->body, &cur) != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, rc == ST_OK ? 200 : 409);
}

/* One-time prekeys are claimed anonymously: unbounded, anyone could empty
 * a device's pool (the next session then runs without one). So claims are
 * also counted per target device - a token bucket per (user, device),
 * whoever asks: CLAIM_BURST at once, then one per CLAIM_EVERY seconds;
 * past that 429 with Retry-After (the sender's message waits in its
 * outbox). Off with the other anonymous limits (--rate-anon 0). */
#define CLAIM_BURST 20
#define CLAIM_EVERY 300
#define RL_CLAIM 100   /* a bucket class of its own, beside ratelimit.h's */

static unsigned
claim_take(struct call *c, const char *user, const uint8_t dev[NC_DEVID_LEN])
{
	uint8_t h[16];
	char key[33];

	/* The key names user and device in 32 characters (rl_take reads 79). */
	crypto_generichash(h, sizeof h, (const uint8_t *)user, strlen(user) + 1,
	    dev, NC_DEVID_LEN);
	sodium_bin2hex(key, sizeof key, h, sizeof h);
	return rl_take(c->r->rl, RL_CLAIM, key, 1.0 / CLAIM_EVERY, CLAIM_BURST,
	    (double)c->q->now);
}

/* 1 (answered 429) when a device the claim is for has no claim left. */
static int
claim_limited(struct call *c, const char *user, const struct nc_claim_req *q)
{
	static _Thread_local nc_devlist l;
	static const uint8_t none[NC_DEVID_LEN];
	nc_buf enc = NC_BUF_INIT;
	uint64_t v;
	unsigned w, wait = 0;
	size_t i;

	if (c->r->conf.rate_anon <= 0)
		return 0;
	for (i = 0; i < q->n; i++)
		if ((w = claim_take(c, user, q->dev[i])) > wait)
			wait = w;
	if (q->n == 0) {
		/* Every current device: those of the stored list; before a list
		 * exists, one bucket for the user's registered devices. */
		if (store_devlist_get(c->r->store, user, &enc, &v) == ST_OK &&
		    nc_devlist_decode(&l, enc.p, enc.len) == 0)
			for (int j = 0; j < l.n; j++) {
				if ((w = claim_take(c, user, l.dev[j].id)) > wait)
					wait = w;
			}
		else if ((w = claim_take(c, user, none)) > wait)
			wait = w;
		nc_buf_free(&enc);
	}
	if (wait == 0)
		return 0;
	fail(c->a, 429, "too many prekey claims for this device, retry later");
	c->a->retry_after = wait;
	return 1;
}

void
h_claim(struct call *c)
{
	const char *user = c->seg[2];
	static _Thread_local struct nc_claim_req q;
	static _Thread_local struct nc_claim_resp r;
	int rc;

	if (bad_user(c, user) || limited(c, RL_ANON))
		return;
	if (nc_claim_req_dec(&q, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (claim_limited(c, user, &q))
		return;
	if ((rc = store_claim(c->r->store, user, &q, &r)) != ST_OK)
		fail_store(c->a, rc, "user or device");
	else if (nc_claim_resp_enc(&c->a->body, &r) != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, 200);
}
