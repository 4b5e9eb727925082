/* api_blob.c - blobs at capability URLs (protocol.md 1.7). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api_int.h"
#include "hex.h"
#include "ratelimit.h"

#define EXPIRES_DEFAULT (30 * 86400)

static int
blob_id(struct call *c, uint8_t id[32])
{
	const char *s = c->seg[2];

	if (nc_hex_decode(id, 32, s, strlen(s)) == 0)
		return 0;
	fail(c->a, 400, "bad blob id: want 64 lowercase hex digits");
	return -1;
}

static int
expiry(struct call *c, int64_t *exp)
{
	const char *s = c->q->h_expires;
	char *end;
	long long v = EXPIRES_DEFAULT;

	if (s != NULL) {
		v = strtoll(s, &end, 10);
		if (s[0] < '0' || s[0] > '9' || *end != '\0' || strlen(s) > 12 || v < 1) {
			fail(c->a, 400, "bad X-NC-Expires: want seconds");
			return -1;
		}
	}
	if (v > c->r->conf.blob_expiry_max)
		v = c->r->conf.blob_expiry_max;
	*exp = c->q->now + v;
	return 0;
}

/* For callers without a streamed file (tests, fuzzing): write the body. */
static int
spill(struct call *c, char *path, size_t n)
{
	int fd;
	ssize_t w;
	size_t off = 0;

	if (store_blob_tmp(c->r->store, path, n, &fd) != ST_OK)
		return -1;
	while (off < c->q->body_len) {
		if ((w = write(fd, c->q->body + off, c->q->body_len - off)) <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

void
h_blob_put(struct call *c)
{
	uint8_t id[32], delhash[32];
	const char *dh = c->q->h_delete_hash;
	char tmp[4200];
	const char *file = c->q->body_file;
	uint64_t size = file ? c->q->body_file_size : c->q->body_len;
	int64_t exp;
	int rc;

	if (blob_id(c, id) || limited(c, RL_ANON) || expiry(c, &exp))
		return;
	if (dh == NULL || nc_hex_decode(delhash, 32, dh, strlen(dh)) != 0) {
		fail(c->a, 400, "bad or missing X-NC-Delete-Hash");
		return;
	}
	if (size == 0) {
		fail(c->a, 400, "empty blob");
		return;
	}
	if (file == NULL) {
		if (spill(c, tmp, sizeof tmp) != 0) {
			fail(c->a, 503, "cannot store the blob");
			return;
		}
		file = tmp;
	}
	rc = store_blob_put(c->r->store, id, file, size, delhash, exp);
	if (rc == ST_OK)
		c->a->file_taken = 1;
	else if (file == tmp)
		unlink(tmp);
	if (rc == ST_EXISTS)
		fail(c->a, 409, "blob id exists");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "blob");
	else
		reply(c->a, 201);
}

void
h_blob_get(struct call *c)
{
	uint8_t id[32];
	int rc;

	if (blob_id(c, id))
		return;
	rc = store_blob_open(c->r->store, id, c->q->now, &c->a->fd, &c->a->fd_size);
	if (rc != ST_OK)
		fail_store(c->a, rc, "blob");
	else
		reply(c->a, 200);
}

void
h_blob_delete(struct call *c)
{
	uint8_t id[32], tok[32], h[32];
	const char *t = c->q->h_delete_token;
	int rc;

	if (blob_id(c, id))
		return;
	if (t == NULL || nc_hex_decode(tok, 32, t, strlen(t)) != 0) {
		fail(c->a, 400, "bad or missing X-NC-Delete-Token");
		return;
	}
	crypto_generichash(h, sizeof h, tok, sizeof tok, NULL, 0);
	rc = store_blob_delete(c->r->store, id, h);
	if (rc == ST_FORBIDDEN)
		fail(c->a, 403, "wrong delete token");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "blob");
	else
		reply(c->a, 204);
}
