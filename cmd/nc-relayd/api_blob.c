/* api_blob.c - blobs at capability URLs (protocol.md 1.7). */
#include <stdio.h>
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

/* A decimal without sign or leading zero, at most 15 digits; -1 if not. */
static int
decimal(const char *s, uint64_t *v)
{
	size_t n = strlen(s);

	*v = 0;
	if (n < 1 || n > 15 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

/* The query "name=N", exactly. */
static int
query_num(struct call *c, const char *name, uint64_t *v)
{
	size_t n = strlen(name);

	if (strncmp(c->query, name, n) == 0 && c->query[n] == '=' &&
	    decimal(c->query + n + 1, v) == 0)
		return 0;
	fail(c->a, 400, name[0] == 'l' ? "bad query: want ?length=BYTES" :
	    "bad query: want ?offset=BYTES");
	return -1;
}

/* "Range: bytes=N-" (the one form clients of this relay send): *from = N.
 * 0 without a Range the relay serves (then the whole blob, RFC 9110 14.2). */
static int
range_from(const char *h, uint64_t *from)
{
	char tail[24];
	const char *dash;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 ||
	    (dash = strchr(h + 6, '-')) == NULL || dash[1] != '\0' ||
	    (size_t)(dash - (h + 6)) >= sizeof tail)
		return 0;
	memcpy(tail, h + 6, (size_t)(dash - (h + 6)));
	tail[dash - (h + 6)] = '\0';
	return decimal(tail, from) == 0;
}

void
h_blob_get(struct call *c)
{
	uint8_t id[32];
	uint64_t from = 0, size;
	int rc;

	if (blob_id(c, id))
		return;
	if (c->query[0] != '\0') {
		fail(c->a, 400, "no query on a blob");
		return;
	}
	rc = store_blob_open(c->r->store, id, c->q->now, &c->a->fd, &size);
	if (rc != ST_OK) {
		fail_store(c->a, rc, "blob");
		return;
	}
	c->a->fd_size = size;
	if (!range_from(c->q->h_range, &from) || from == 0) {
		reply(c->a, 200);
		return;
	}
	if (from >= size) {
		close(c->a->fd);
		c->a->fd = -1;
		fail(c->a, 416, "range starts past the blob's end");
		snprintf(c->a->content_range, sizeof c->a->content_range,
		    "bytes */%llu", (unsigned long long)size);
		return;
	}
	c->a->fd_off = from;
	c->a->fd_size = size - from;
	snprintf(c->a->content_range, sizeof c->a->content_range,
	    "bytes %llu-%llu/%llu", (unsigned long long)from,
	    (unsigned long long)size - 1, (unsigned long long)size);
	reply(c->a, 206);
}

/* POST /v1/blobs/{id}?length=N: a resumable upload of N bytes. */
void
h_blob_create(struct call *c)
{
	uint8_t id[32], delhash[32];
	const char *dh = c->q->h_delete_hash;
	uint64_t len;
	int64_t exp;
	int rc;

	if (blob_id(c, id) || limited(c, RL_ANON) || expiry(c, &exp) ||
	    query_num(c, "length", &len))
		return;
	if (dh == NULL || nc_hex_decode(delhash, 32, dh, strlen(dh)) != 0) {
		fail(c->a, 400, "bad or missing X-NC-Delete-Hash");
		return;
	}
	if (len == 0) {
		fail(c->a, 400, "empty blob");
		return;
	}
	if (len > c->r->conf.blob_max) {
		fail(c->a, 413, "blob larger than this relay takes (--blob-max)");
		return;
	}
	rc = store_blob_create(c->r->store, id, len, delhash, exp);
	if (rc == ST_EXISTS)
		fail(c->a, 409, "blob id exists");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "blob");
	else
		reply(c->a, 201);
}

/* Answers "offset N" (and the length) as text. */
static void
offset_reply(struct call *c, int status, uint64_t off, const char *why)
{
	nc_buf_reset(&c->a->body);
	c->a->status = status;
	c->a->ctype = "text/plain";
	if (nc_buf_printf(&c->a->body, "offset %llu%s%s\n",
	    (unsigned long long)off, why ? ": " : "", why ? why : "") != 0)
		c->a->status = 503;
}

/* Before a PATCH's body: its upload open to write the body in place, if
 * the append is one the upload takes (otherwise h_blob_append says why). */
int
blob_part(struct call *c, uint64_t n, struct blob_w *w)
{
	const char *q = c->query;
	uint8_t id[32];
	uint64_t off;

	if (n == 0 || nc_hex_decode(id, 32, c->seg[2], strlen(c->seg[2])) != 0 ||
	    strncmp(q, "offset=", 7) != 0 || decimal(q + 7, &off) != 0)
		return -1;
	return store_blob_part(c->r->store, id, off, n, w) == ST_OK ? 0 : -1;
}

/* PATCH /v1/blobs/{id}?offset=N: the body continues the upload at N. */
void
h_blob_append(struct call *c)
{
	uint8_t id[32];
	char tmp[4200];
	const char *file = c->q->body_file;
	struct blob_w *w = c->q->body_part;
	uint64_t size = file || w ? c->q->body_file_size : c->q->body_len, off, cur;
	int rc;

	if (blob_id(c, id) || limited(c, RL_ANON) || query_num(c, "offset", &off))
		return;
	if (size == 0) {
		fail(c->a, 400, "empty append");
		return;
	}
	if (file == NULL && w == NULL) {
		if (spill(c, tmp, sizeof tmp) != 0) {
			fail(c->a, 503, "cannot store the blob");
			return;
		}
		file = tmp;
	}
	rc = store_blob_append(c->r->store, id, off, w ? NULL : file, w, size,
	    c->q->now, &cur);
	if (file == tmp)
		unlink(tmp);
	if (rc == ST_OK)
		offset_reply(c, 200, cur, NULL);
	else if (rc == ST_CONFLICT)
		offset_reply(c, 409, cur, "append at the upload's offset");
	else if (rc == ST_EXISTS)
		offset_reply(c, 409, cur, "upload complete");
	else if (rc == ST_FULL)
		fail(c->a, 413, "append past the upload's length");
	else
		fail_store(c->a, rc, "upload");
}

/* GET /v1/blobs/{id}/upload: where the upload is. */
void
h_blob_offset(struct call *c)
{
	uint8_t id[32];
	uint64_t off, len;
	int rc;

	if (blob_id(c, id))
		return;
	rc = store_blob_offset(c->r->store, id, c->q->now, &off, &len);
	if (rc != ST_OK) {
		fail_store(c->a, rc, "upload");
		return;
	}
	offset_reply(c, 200, off, NULL);
	if (nc_buf_printf(&c->a->body, "length %llu\n", (unsigned long long)len) != 0)
		c->a->status = 503;
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
