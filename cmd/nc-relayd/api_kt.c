/* api_kt.c - the key-transparency log's routes (issue 19): the newest
 * signed head, consistency proofs, leaves for auditors, one label's VRF
 * proof; and the fetch proof that comes with every device-list GET.
 * Anonymous reads, rate limited like claims. Answers are lib/proto/kt.h's
 * encodings. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "kt.h"
#include "ratelimit.h"

#define QUERY_MAX 4   /* parameters of one route */

/* A decimal u64 as written by a client: digits only, no sign, no leading
 * zero, at most INT64_MAX (what the store holds). 0, or -1. */
static int
decimal(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

/* The query "k=v&k=v" with exactly the keys named, each once, in any
 * order: val[i] points into buf. 0, or 1 answered 400. */
static int
bad_query(struct call *c, const char *const *key, const char **val, size_t nkey,
    char *buf, size_t bufsz)
{
	char *save, *kv, *eq;
	size_t i, seen = 0;

	for (i = 0; i < nkey; i++)
		val[i] = NULL;
	if (strlen(c->query) >= bufsz || c->query[0] == '&' || strstr(c->query, "&&") ||
	    (c->query[0] && c->query[strlen(c->query) - 1] == '&'))
		goto bad;   /* an empty parameter */
	strcpy(buf, c->query);
	for (kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(kv, '=')) == NULL)
			goto bad;
		*eq = '\0';
		for (i = 0; i < nkey && strcmp(kv, key[i]) != 0; i++)
			;
		if (i == nkey || val[i] != NULL)
			goto bad;   /* unknown or repeated */
		val[i] = eq + 1;
		seen++;
	}
	if (seen == nkey)
		return 0;
bad:
	fail(c->a, 400, nkey == 1 ? "bad query: want exactly the parameter named in "
	    "protocol.md" : "bad query: want exactly the parameters named in protocol.md");
	return 1;
}

/* 200 with the body encoded (enc: its result), or the store's error. */
static void
answer(struct call *c, int rc, int enc, const char *what)
{
	if (rc != ST_OK)
		fail_store(c->a, rc, what);
	else if (enc != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, 200);
}

void
h_kt_head(struct call *c)
{
	nc_kt_head h;
	int rc;

	if (limited(c, RL_ANON))
		return;
	if (c->query[0] != '\0') {
		fail(c->a, 400, "bad query: this route takes none");
		return;
	}
	rc = store_kt_head(c->r->store, &h);
	if (rc == ST_NOTFOUND) {
		/* nothing logged yet: the empty tree, signed now */
		memset(&h, 0, sizeof h);
		crypto_hash_sha256(h.root, NULL, 0);
		h.time = (uint64_t)c->q->now;
		nc_kt_head_sign(&h, c->r->kt->log_sk, c->r->domain);
		rc = ST_OK;
	}
	answer(c, rc, rc == ST_OK ? nc_kt_head_encode(&c->a->body, &h) : 0, "key log head");
}

void
h_kt_consistency(struct call *c)
{
	static const char *const key[] = { "from", "to" };
	const char *val[2];
	char buf[128];
	uint64_t from, to;
	nc_kt_cons k;
	int rc;

	if (limited(c, RL_ANON) || bad_query(c, key, val, 2, buf, sizeof buf))
		return;
	if (decimal(val[0], &from) != 0 || decimal(val[1], &to) != 0 || from == 0 ||
	    from > to) {
		fail(c->a, 400, "bad query: want 1 <= from <= to, decimal tree sizes");
		return;
	}
	rc = store_kt_consistency(c->r->store, from, to, &k);
	if (rc == ST_NOTFOUND) {
		fail(c->a, 404, "key log: no head that large yet; GET /v1/kt/head");
		return;
	}
	answer(c, rc, rc == ST_OK ? nc_kt_cons_encode(&c->a->body, &k) : 0, "key log");
}

void
h_kt_entries(struct call *c)
{
	static const char *const key[] = { "start", "count" };
	static _Thread_local nc_kt_entries e;
	const char *val[2];
	char buf[128];
	uint64_t start, count;
	int rc;

	if (limited(c, RL_ANON) || bad_query(c, key, val, 2, buf, sizeof buf))
		return;
	if (decimal(val[0], &start) != 0 || decimal(val[1], &count) != 0 || count == 0 ||
	    count > NC_KT_ENTRIES_MAX) {
		fail(c->a, 400, "bad query: want decimal start, and count 1-1000");
		return;
	}
	rc = store_kt_entries(c->r->store, start, (size_t)count, &e);
	if (rc == ST_NOTFOUND) {
		fail(c->a, 404, "key log: start is past the newest head; GET /v1/kt/head");
		return;
	}
	answer(c, rc, rc == ST_OK ? nc_kt_entries_encode(&c->a->body, &e) : 0, "key log");
}

void
h_kt_label(struct call *c)
{
	static const char *const key[] = { "user", "version" };
	const char *val[2];
	char buf[128];
	uint64_t v;
	nc_kt_labelproof l;
	int rc;

	if (limited(c, RL_ANON) || bad_query(c, key, val, 2, buf, sizeof buf) ||
	    bad_user(c, val[0]))
		return;
	if (decimal(val[1], &v) != 0 || v == 0) {
		fail(c->a, 400, "bad query: want a decimal device-list version >= 1");
		return;
	}
	rc = store_kt_label(c->r->store, val[0], v, &l);
	if (rc == ST_NOTFOUND) {
		fail(c->a, 404, "key log: no such user or version");
		return;
	}
	answer(c, rc, rc == ST_OK ? nc_kt_labelproof_encode(&c->a->body, &l) : 0, "key log");
}

int
kt_attach_proof(struct call *c, const char *user, uint64_t version)
{
	static _Thread_local nc_kt_proof p;
	nc_buf b = NC_BUF_INIT;
	uint64_t since = 0;
	size_t n;
	int rc;

	if (c->q->h_kt_since && decimal(c->q->h_kt_since, &since) != 0) {
		fail(c->a, 400, "bad X-NC-KT-Since: want the decimal size of a tree head");
		return 1;
	}
	rc = store_kt_prove(c->r->store, user, version, since, &p);
	if (rc == ST_NOTFOUND)   /* a list the log does not hold (written into
	                            the database behind the relay's back):
	                            served without a proof, which clients refuse */
		return 0;
	if (rc != ST_OK) {
		fail(c->a, 503, "key log unavailable, retry later");
		return 1;
	}
	if (nc_kt_proof_encode(&b, &p) != 0) {
		fail(c->a, 503, "out of memory");
		return 1;
	}
	n = sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_ORIGINAL);
	if ((c->a->kt_proof = malloc(n)) == NULL) {
		nc_buf_free(&b);
		fail(c->a, 503, "out of memory");
		return 1;
	}
	sodium_bin2base64(c->a->kt_proof, n, b.p, b.len, sodium_base64_VARIANT_ORIGINAL);
	nc_buf_free(&b);
	return 0;
}
