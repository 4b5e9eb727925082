/* api.c - routing and what every route shares: reasons, ids, rate limits
 * and device-signed requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api_int.h"
#include "backup.h"
#include "gbatch.h"
#include "hex.h"
#include "link.h"
#include "ratelimit.h"
#include "replay.h"
#include "reqsig.h"

/* Request bodies of the small routes (the envelope and blob limits are in
 * lib/proto/relaymsg.h and the configuration). */
#define SMALL_BODY 1024
#define PREKEYS_BODY NC_PREKEYS_BODY_MAX
#define DEVLIST_BODY 4096
#define IDBACKUP_BODY 256
#define DELIVER_BODY ((uint64_t)8 << 20)
#define BACKUP_REC_BODY NC_BACKUP_RECORD_WIRE_MAX
#define BACKUP_HEAD_BODY NC_BACKUP_HEAD_MAX

enum { B_NONE, B_SMALL, B_CLAIM, B_IDBACKUP, B_DEVLIST, B_PREKEYS, B_ENVELOPE, B_DELIVER, B_BATCH, B_ACK, B_BLOB, B_LINK,
	B_BACKUP_REC, B_BACKUP_BATCH, B_BACKUP_FETCH, B_BACKUP_HEAD, B_PUSH };

static const struct route {
	const char *method, *path;   /* '*' matches one segment */
	void (*fn)(struct call *);
	int body;
} routes[] = {
	{ "POST", "v1/users/*", h_register, B_SMALL },
	{ "DELETE", "v1/users/*", h_delete_user, B_SMALL },
	{ "POST", "v1/users/*/challenge", h_challenge, B_NONE },
	{ "POST", "v1/users/*/opaque", h_opaque_reg, B_SMALL },
	{ "POST", "v1/users/*/login", h_login, B_SMALL },
	{ "POST", "v1/users/*/passwd", h_passwd, B_SMALL },
	{ "POST", "v1/users/*/migrate", h_migrate, B_SMALL },
	{ "POST", "v1/users/*/devices", h_add_device, B_SMALL },
	{ "PUT", "v1/users/*/devicelist", h_devlist_put, B_DEVLIST },
	{ "GET", "v1/users/*/devicelist", h_devlist_get, B_NONE },
	{ "PUT", "v1/users/*/idbackup", h_idbackup_put, B_IDBACKUP },
	{ "PUT", "v1/users/*/devices/*/prekeys", h_prekeys_put, B_PREKEYS },
	{ "GET", "v1/users/*/devices/*/prekeys", h_prekeys_get, B_NONE },
	{ "POST", "v1/users/*/prekeys/claim", h_claim, B_CLAIM },
	{ "POST", "v1/users/*/devices/*/counter", h_counter, B_SMALL },
	{ "PUT", "v1/users/*/devices/*/mailbox/*", h_mail_put, B_ENVELOPE },
	{ "POST", "v1/users/*/deliver", h_deliver, B_DELIVER },
	{ "PUT", "v1/batches/*", h_batch, B_BATCH },
	{ "POST", "v1/deliveries", h_deliveries, B_DELIVER },
	{ "GET", "v1/users/*/devices/*/mailbox", h_mail_list, B_NONE },
	{ "POST", "v1/users/*/devices/*/mailbox/ack", h_mail_ack, B_ACK },
	{ "PUT", "v1/users/*/devices/*/push", h_push_put, B_PUSH },
	{ "GET", "v1/users/*/devices/*/push", h_push_get, B_NONE },
	{ "DELETE", "v1/users/*/devices/*/push", h_push_delete, B_NONE },
	{ "PUT", "v1/users/*/link/*", h_link_open, B_NONE },
	{ "POST", "v1/users/*/link/*", h_link_put, B_LINK },
	{ "GET", "v1/users/*/link/*", h_link_take, B_NONE },
	{ "PUT", "v1/blobs/*", h_blob_put, B_BLOB },
	{ "GET", "v1/blobs/*", h_blob_get, B_NONE },
	{ "DELETE", "v1/blobs/*", h_blob_delete, B_NONE },
	{ "POST", "v1/blobs/*", h_blob_create, B_NONE },
	{ "PATCH", "v1/blobs/*", h_blob_append, B_BLOB },
	{ "GET", "v1/blobs/*/upload", h_blob_offset, B_NONE },
	{ "PUT", "v1/users/*/backup", h_backup_head_put, B_BACKUP_HEAD },
	{ "GET", "v1/users/*/backup", h_backup_head_get, B_NONE },
	{ "PUT", "v1/users/*/backup/records/*", h_backup_rec_put, B_BACKUP_REC },
	{ "POST", "v1/users/*/backup/records", h_backup_recs_post, B_BACKUP_BATCH },
	{ "GET", "v1/users/*/backup/records/*", h_backup_rec_get, B_NONE },
	{ "POST", "v1/users/*/backup/fetch", h_backup_fetch, B_BACKUP_FETCH },
	{ "GET", "v1/users/*/backup/keys/*", h_backup_key_get, B_NONE },
	{ "GET", "v1/kt/head", h_kt_head, B_NONE },
	{ "GET", "v1/kt/consistency", h_kt_consistency, B_NONE },
	{ "GET", "v1/kt/entries", h_kt_entries, B_NONE },
	{ "GET", "v1/kt/label", h_kt_label, B_NONE },
	{ "GET", ".well-known/newchat", NULL, B_NONE },
};
#define NROUTES (sizeof routes / sizeof routes[0])

void
api_resp_init(struct api_resp *a)
{
	memset(a, 0, sizeof *a);
	a->fd = -1;
	a->ctype = "application/octet-stream";
}

void
api_resp_free(struct api_resp *a)
{
	nc_buf_free(&a->body);
	free(a->kt_proof);
	a->kt_proof = NULL;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

void
fail(struct api_resp *a, int status, const char *reason)
{
	nc_buf_reset(&a->body);
	free(a->kt_proof);   /* an error carries no proof */
	a->kt_proof = NULL;
	a->status = status;
	a->ctype = "text/plain";
	if (nc_buf_printf(&a->body, "%s\n", reason) != 0)
		a->status = 503;
}

void
fail_store(struct api_resp *a, int rc, const char *what)
{
	static const struct { int rc, status; const char *why; } map[] = {
		{ ST_NOTFOUND, 404, "not found" },
		{ ST_EXISTS, 409, "already exists" },
		{ ST_CONFLICT, 409, "conflict" },
		{ ST_STALE, 409, "device list version is not current" },
		{ ST_FORBIDDEN, 403, "forbidden" },
		{ ST_GONE, 410, "device not in the current device list" },
		{ ST_FULL, 507, "quota exceeded" },
	};
	char line[200];

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].rc == rc) {
			snprintf(line, sizeof line, "%s: %s", what, map[i].why);
			fail(a, map[i].status, line);
			return;
		}
	fail(a, 503, "storage unavailable, retry later");
}

void
reply(struct api_resp *a, int status)
{
	a->status = status;
}

int
bad_user(struct call *c, const char *name)
{
	if (nc_name_valid(name))
		return 0;
	fail(c->a, 400, "bad user name: want 1-64 of [a-z0-9._-]");
	return 1;
}

int
bad_id(struct call *c, const char *hex, uint8_t out[16])
{
	if (nc_hex_decode(out, 16, hex, strlen(hex)) == 0)
		return 0;
	fail(c->a, 400, "bad id: want 32 lowercase hex digits");
	return 1;
}

int
limited(struct call *c, int cls)
{
	const struct relay_conf *k = &c->r->conf;
	double rate = cls == RL_REGISTER ? k->rate_register / 60 :
	    cls == RL_LOGIN ? k->rate_login / 60 : k->rate_anon;
	double burst = cls == RL_ANON ? 2 * k->rate_anon :
	    cls == RL_REGISTER ? k->rate_register : k->rate_login;
	unsigned wait = rl_take(c->r->rl, cls, c->q->addr ? c->q->addr : "",
	    rate, burst < 1 ? 1 : burst, (double)c->q->now);

	if (wait == 0)
		return 0;
	fail(c->a, 429, "rate limited, retry later");
	c->a->retry_after = wait;
	return 1;
}

int
unsigned_req(struct call *c, const char *user, const uint8_t *dev)
{
	return unsigned_req_joining(c, user, dev, NULL);
}

/* 1 (pk set) if list, signed by the identity key of the list stored for
 * user, names dev. */
static int
identity_joins(struct call *c, const char *user, const nc_devlist *list,
    const uint8_t *dev, uint8_t pk[NC_PK_LEN])
{
	static _Thread_local nc_devlist cur;
	nc_buf b = NC_BUF_INIT;
	uint64_t v;
	int i, ok;

	if ((i = nc_devlist_find(list, dev)) < 0 || nc_devlist_verify(list) != 0)
		return 0;
	ok = store_devlist_get(c->r->store, user, &b, &v) == ST_OK &&
	    nc_devlist_decode(&cur, b.p, b.len) == 0 &&
	    sodium_memcmp(cur.identity, list->identity, NC_PK_LEN) == 0;
	nc_buf_free(&b);
	if (ok)
		memcpy(pk, list->dev[i].sign_pk, NC_PK_LEN);
	return ok;
}

int
unsigned_req_joining(struct call *c, const char *user, const uint8_t *dev,
    const nc_devlist *joining)
{
	const struct api_req *q = c->q;
	uint8_t pk[NC_PK_LEN];
	nc_reqsig rs;
	int rc;

	if (nc_reqsig_parse(&rs, q->h_device, q->h_time, q->h_nonce,
	    q->h_sig) != 0) {
		fail(c->a, 401, nc_errmsg());
		return 1;
	}
	if (dev && memcmp(dev, rs.dev, NC_DEVID_LEN) != 0) {
		fail(c->a, 401, "request must be signed by the device it names");
		return 1;
	}
	rc = store_device_key(c->r->store, user, rs.dev, pk);
	/* A device added by password may sign the list that first lists it
	 * (it took the identity key from its backup, protocol.md 1.3). */
	if (rc == ST_GONE && joining && nc_devlist_find(joining, rs.dev) >= 0)
		rc = store_device_joining(c->r->store, user, rs.dev, pk);
	/* A device the relay does not know may sign a list that names it
	 * when the identity key the user's lists are pinned to signs that
	 * list (a restore from backup, a device linked by code): the list
	 * gives its key (protocol.md 1.3). */
	if (rc == ST_NOTFOUND && joining && identity_joins(c, user, joining, rs.dev, pk))
		rc = ST_OK;
	if (rc != ST_OK) {
		if (rc == ST_ERR)
			fail(c->a, 503, "storage unavailable, retry later");
		else
			fail(c->a, 401, "not a current device of this user");
		return 1;
	}
	if (nc_reqsig_verify(&rs, pk, q->method, q->target, q->body, q->body_len,
	    q->now) != 0) {
		fail(c->a, 401, nc_errmsg());
		return 1;
	}
	/* Every request carries a fresh nonce, reads too: a (device, nonce)
	 * pair seen inside the window is a replay, whatever the method. */
	if ((rc = replay_check(c->r->replay, rs.dev, rs.nonce, q->now)) != 0) {
		fail(c->a, rc > 0 ? 401 : 503, rc > 0 ? "replayed request" :
		    "too many signed requests, retry later");
		return 1;
	}
	return 0;
}

static void
well_known(struct call *c)
{
	char log[65], vrf[65], opq[65];
	uint8_t pk[32];

	/* the key log's keys, for clients to pin (protocol.md 1.1) */
	nc_hex_encode(log, c->r->kt->log_pk, 32);
	nc_hex_encode(vrf, c->r->kt->vrf_pk, 32);
	/* and the OPAQUE server key (protocol.md 1.2) */
	if (relay_opaque_pk(c->r, pk) != 0) {
		fail(c->a, 503, "relay keys unavailable");
		return;
	}
	nc_hex_encode(opq, pk, 32);
	if (nc_buf_printf(&c->a->body, "newchat 1\ndomain %s\nrelay %s\nkt-log %s\n"
	    "kt-vrf %s\nopaque %s\n", c->r->domain, c->r->url, log, vrf, opq) != 0) {
		fail(c->a, 503, "out of memory");
		return;
	}
	c->a->ctype = "text/plain";
	reply(c->a, 200);
}

/* Split "/a/b/c?q" into segments; 0, or -1 if it is not a plain path. */
static int
split(struct call *c, char *t)
{
	char *q = strchr(t, '?'), *p;

	c->query = "";
	if (q) {
		*q = '\0';
		c->query = q + 1;
	}
	if (t[0] != '/' || strchr(t, '%') != NULL)
		return -1;
	c->nseg = 0;
	for (p = t + 1;; ) {
		if (c->nseg == SEG_MAX || *p == '\0' || *p == '/')
			return -1;   /* too deep, or an empty segment */
		c->seg[c->nseg++] = p;
		if ((p = strchr(p, '/')) == NULL)
			return 0;
		*p++ = '\0';
	}
}

static int
match(const struct call *c, const char *pat)
{
	int i = 0;

	/* Segment by segment in place (empty ones skipped, as split does):
	 * every request tries the routes in turn, twice. */
	for (;;) {
		const char *e = strchr(pat, '/');
		size_t n = e ? (size_t)(e - pat) : strlen(pat);

		if (n > 0) {
			if (i >= c->nseg || (!(n == 1 && *pat == '*') &&
			    (strncmp(pat, c->seg[i], n) != 0 || c->seg[i][n] != '\0')))
				return 0;
			i++;
		}
		if (e == NULL)
			break;
		pat = e + 1;
	}
	return i == c->nseg;
}

/* The route of method + target: 1 found, 0 path unknown, -1 method wrong. */
static int
route(struct call *c, char *t, size_t tn, const char *method, const char *target,
    const struct route **out)
{
	int path_known = 0;

	if (strlen(target) >= tn || split(c, strcpy(t, target)) != 0)
		return 0;
	for (size_t i = 0; i < NROUTES; i++) {
		if (!match(c, routes[i].path))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, method) == 0) {
			*out = &routes[i];
			return 1;
		}
	}
	return path_known ? -1 : 0;
}

int
relay_api_body_max(const struct relay *r, const char *method, const char *target,
    uint64_t *max, int *stream)
{
	struct call c = { 0 };
	const struct route *rt = NULL;
	char t[NC_REQSIG_TARGET_MAX + 1];

	*stream = 0;
	*max = 0;
	if (strlen(target) > NC_REQSIG_TARGET_MAX)
		return 414;
	switch (route(&c, t, sizeof t, method, target, &rt)) {
	case 0: return 404;
	case -1: return 405;
	}
	switch (rt->body) {
	case B_SMALL: *max = SMALL_BODY; break;
	case B_CLAIM: *max = NC_CLAIM_BODY_MAX; break;
	case B_IDBACKUP: *max = IDBACKUP_BODY; break;
	case B_DEVLIST: *max = DEVLIST_BODY; break;
	case B_PREKEYS: *max = PREKEYS_BODY; break;
	case B_ENVELOPE: *max = NC_ENVELOPE_MAX; break;
	case B_DELIVER: *max = DELIVER_BODY; break;
	case B_BATCH: *max = NC_GB_BODY_MAX; break;
	case B_ACK: *max = NC_ACK_BODY_MAX; break;
	case B_BLOB: *stream = 1; *max = r->conf.blob_max; break;
	case B_LINK: *max = NC_LINK_BODY_MAX; break;
	case B_BACKUP_REC: *max = BACKUP_REC_BODY; break;
	case B_BACKUP_BATCH: *max = NC_BACKUP_BATCH_MAX; break;
	case B_BACKUP_FETCH: *max = 3 + 32 * NC_BACKUP_BATCH_RECS; break;
	case B_BACKUP_HEAD: *max = BACKUP_HEAD_BODY; break;
	case B_PUSH: *max = NC_PUSH_BODY_MAX; break;
	}
	return 0;
}

int
relay_api_blob_part(struct relay *r, const char *method, const char *target,
    uint64_t n, struct blob_w *w)
{
	struct call c = { r, NULL, NULL, { 0 }, 0, "" };
	const struct route *rt = NULL;
	char t[NC_REQSIG_TARGET_MAX + 1];

	if (strlen(target) > NC_REQSIG_TARGET_MAX ||
	    route(&c, t, sizeof t, method, target, &rt) != 1 ||
	    rt->fn != h_blob_append)
		return -1;
	return blob_part(&c, n, w);
}

void
relay_api(struct relay *r, const struct api_req *q, struct api_resp *a)
{
	struct call c = { r, q, a, { 0 }, 0, "" };
	const struct route *rt = NULL;
	char t[NC_REQSIG_TARGET_MAX + 1];
	uint64_t max;
	int stream;

	api_resp_init(a);
	if (strlen(q->target) > NC_REQSIG_TARGET_MAX) {
		fail(a, 414, "request target too long");
		return;
	}
	switch (route(&c, t, sizeof t, q->method, q->target, &rt)) {
	case 0:
		fail(a, 404, "no such route");
		return;
	case -1:
		fail(a, 405, "method not allowed on this route");
		return;
	}
	(void)relay_api_body_max(r, q->method, q->target, &max, &stream);
	if (q->body_len > max ||
	    ((q->body_file || q->body_part) && !stream)) {
		fail(a, 413, "request body too large for this route");
		return;
	}
	if (r->stopping) {
		fail(a, 503, "shutting down, retry later");
		return;
	}
	if (rt->fn == NULL)
		well_known(&c);
	else
		rt->fn(&c);
}
