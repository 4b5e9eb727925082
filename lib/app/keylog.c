/* keylog.c - the client's side of a relay's key log (keylog.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "event.h"
#include "hex.h"
#include "home.h"
#include "keylog.h"
#include "keys.h"
#include "wire.h"

#define KEY_MAX (NC_ADDR_MAX + 64)

/* An alarm: the event, and NC_ESECURITY with the same one line. */
static int __attribute__((format(printf, 3, 4)))
alarm_(nc_state *s, const char *addr, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if ((rc = nc_event_add(s, "alarm", "", addr ? addr : "", "", msg, 0)) != 0)
		return rc;
	return nc_fail(NC_ESECURITY, "%s", msg);
}

static void
kkey(char *out, const char *domain, const char *what)
{
	snprintf(out, KEY_MAX, "kt/%s/%s", domain, what);
}

/* A stored value, or nothing: absence is no error, so the reason of an
 * earlier failure (the one the command will print) is kept. */
static int
get_quiet(nc_state *s, const char *k, nc_buf *b)
{
	char saved[512];
	int rc;

	snprintf(saved, sizeof saved, "%s", nc_errmsg());
	if ((rc = nc_state_get(s, k, b)) != 0)
		nc_fail(rc, "%s", saved);
	return rc;
}

/* A 32-byte value: 1 found, 0 absent. */
static int
get32(nc_state *s, const char *k, uint8_t out[32])
{
	nc_buf b = NC_BUF_INIT;
	int found = get_quiet(s, k, &b) == 0 && b.len == 32;

	if (found)
		memcpy(out, b.p, 32);
	nc_buf_free(&b);
	return found;
}

static int
get_head(nc_state *s, const char *k, nc_kt_head *h)
{
	nc_buf b = NC_BUF_INIT;
	int found = get_quiet(s, k, &b) == 0 &&
	    nc_kt_head_decode(h, b.p, b.len) == 0;

	if (!found)
		memset(h, 0, sizeof *h);
	nc_buf_free(&b);
	return found;
}

static int
put_head(nc_state *s, const char *k, const nc_kt_head *h)
{
	nc_buf b = NC_BUF_INIT;
	int rc;

	if ((rc = nc_kt_head_encode(&b, h)) == 0)
		rc = nc_state_put(s, k, b.p, b.len);
	nc_buf_free(&b);
	return rc;
}

static const char *
domain_of(const char *addr, char *name, size_t max)
{
	const char *at = strchr(addr, '@');

	if (at == NULL || (size_t)(at - addr) >= max)
		return NULL;
	memcpy(name, addr, (size_t)(at - addr));
	name[at - addr] = '\0';
	return at + 1;
}

/* "policy tofu" in the config: no proofs demanded (home.h). */
static int
policy_tofu(nc_state *s)
{
	nc_config *cfg = NULL;
	int tofu;

	if (nc_config_load(&cfg, s->home) != 0)
		return 0;
	tofu = nc_config_policy(cfg) == NC_POLICY_TOFU;
	nc_config_free(cfg);
	return tofu;
}

int
nc_keylog_prepare(nc_state *s, nc_relay *r, const char *domain,
    const char *addr, nc_keylog_ctx *k)
{
	char key[KEY_MAX], a[65], b[65];
	uint8_t dlog[32], dvrf[32];
	int descr;

	memset(k, 0, sizeof *k);
	if (policy_tofu(s))
		return 0;   /* k->has 0: checked as with a relay without a log */
	kkey(key, domain, "log");
	k->pinned = get32(s, key, k->log);
	kkey(key, domain, "vrf");
	k->pinned = get32(s, key, k->vrf) && k->pinned;
	kkey(key, domain, "head");
	get_head(s, key, &k->last);
	descr = nc_relay_kt_descr(r, dlog, dvrf);
	if (k->pinned) {
		k->has = 1;
		/* The descriptor this process found the relay by (no request). */
		if (descr == 2)
			return alarm_(s, addr, "key log: the relay of %s no longer "
			    "publishes its key log (pinned before); nothing sent to %s",
			    domain, addr);
		if (descr == 1 && (sodium_memcmp(dlog, k->log, 32) != 0 ||
		    sodium_memcmp(dvrf, k->vrf, 32) != 0)) {
			nc_hex_encode(a, k->log, 32);
			nc_hex_encode(b, dlog, 32);
			return alarm_(s, addr, "key log: the relay of %s changed its log "
			    "keys (pinned kt-log %.16s..., now %.16s...); nothing sent "
			    "to %s", domain, a, b, addr);
		}
		return 0;
	}
	return nc_relay_kt_keys(r, k->log, k->vrf, &k->has);
}

static int
put_position(nc_state *s, const char *domain, const char *name,
    uint64_t index, uint64_t version, const nc_kt_head *h)
{
	char key[KEY_MAX];
	nc_buf b = NC_BUF_INIT;
	nc_enc e;
	int rc;

	snprintf(key, sizeof key, "kt/%s/u/%s", domain, name);
	nc_enc_init(&e, &b);
	nc_put_u64(&e, index);
	nc_put_u64(&e, version);
	if ((rc = nc_enc_end(&e)) == 0 && (rc = nc_kt_head_encode(&b, h)) == 0)
		rc = nc_state_put(s, key, b.p, b.len);
	nc_buf_free(&b);
	return rc;
}

int
nc_keylog_check(nc_state *s, const char *domain, const char *addr,
    const nc_keylog_ctx *k, const nc_devlist *l, const uint8_t *enc, size_t n,
    const nc_buf *proof, int has_proof)
{
	static nc_kt_proof p;   /* 4 KB of hashes: not on the stack */
	char key[KEY_MAX], lkey[KEY_MAX], name[NC_USER_MAX + 1], why[600];
	uint8_t label[NC_KT_LABEL];
	nc_kt_head stored;
	int rc, known;

	if (domain_of(addr, name, sizeof name) == NULL)
		return nc_fail(NC_EUSAGE, "%s: not a valid user@domain", addr);
	kkey(key, domain, "none");
	if (!k->has)   /* an older relay: accepted as before, said by show */
		return nc_state_put_int(s, key, 1);
	if (!has_proof)
		return alarm_(s, addr, "key log: the relay of %s sent %s's keys "
		    "without a proof, though it publishes a key log; nothing sent "
		    "to %s", domain, addr, addr);
	if (nc_kt_proof_decode(&p, proof->p, proof->len) != 0)
		return alarm_(s, addr, "key log: the relay of %s sent a malformed "
		    "proof with %s's keys; nothing sent to %s", domain, addr, addr);
	if (p.version != l->version)
		return alarm_(s, addr, "key log: the proof is for version %llu of "
		    "%s's keys, the relay sent version %llu; nothing sent to %s",
		    (unsigned long long)p.version, addr,
		    (unsigned long long)l->version, addr);
	/* The label a VRF proof gave for this version once is kept: a
	 * fetch of the same version again checks the proof gives it, and
	 * does not verify the proof again (most of a fetch's cost). */
	snprintf(lkey, sizeof lkey, "kt/%s/l/%s/%llu", domain, name,
	    (unsigned long long)p.version);
	known = k->pinned && get32(s, lkey, label);
	if (nc_kt_verify_label(&p, k->log, k->vrf, domain, addr, l->identity, enc,
	    n, k->last.size ? &k->last : NULL, label, known) != 0) {
		snprintf(why, sizeof why, "%s", nc_errmsg());
		return alarm_(s, addr, "%s (relay of %s, %s's keys); nothing sent "
		    "to %s", why, domain, addr, addr);
	}
	if (!known && (rc = nc_state_put(s, lkey, label, sizeof label)) != 0)
		return rc;
	/* Another process may have stored a newer head meanwhile: keep the
	 * larger; one of the same size must be the same tree. */
	kkey(key, domain, "head");
	get_head(s, key, &stored);
	if (stored.size == p.head.size && stored.size > 0 &&
	    sodium_memcmp(stored.root, p.head.root, 32) != 0)
		return alarm_(s, addr, "key log: the relay of %s signed two "
		    "different trees of %llu leaves (a split view); nothing sent "
		    "to %s", domain, (unsigned long long)stored.size, addr);
	if (p.head.size > stored.size && (rc = put_head(s, key, &p.head)) != 0)
		return rc;
	if (!k->pinned) {
		kkey(key, domain, "log");
		if ((rc = nc_state_put(s, key, k->log, 32)) != 0)
			return rc;
		kkey(key, domain, "vrf");
		if ((rc = nc_state_put(s, key, k->vrf, 32)) != 0)
			return rc;
		kkey(key, domain, "none");
		if ((rc = nc_state_put_int(s, key, 0)) != 0)
			return rc;
	}
	return put_position(s, domain, name, p.index, p.version, &p.head);
}

int
nc_keylog_position(nc_state *s, const char *addr, uint64_t *index,
    uint64_t *version, nc_kt_head *h, int *nolog)
{
	char key[KEY_MAX], name[NC_USER_MAX + 1];
	const char *domain = domain_of(addr, name, sizeof name);
	nc_buf b = NC_BUF_INIT;
	int found = 0;

	*nolog = 0;
	if (domain == NULL)
		return 0;
	snprintf(key, sizeof key, "kt/%s/u/%s", domain, name);
	if (nc_state_get(s, key, &b) == 0 && b.len == 16 + NC_KT_HEAD_LEN &&
	    nc_kt_head_decode(h, b.p + 16, NC_KT_HEAD_LEN) == 0) {
		nc_dec d;

		nc_dec_init(&d, b.p, 16);
		*index = nc_get_u64(&d);
		*version = nc_get_u64(&d);
		found = d.err == 0;
	}
	nc_buf_free(&b);
	kkey(key, domain, "none");
	*nolog = !found && nc_state_get_int(s, key, 0) == 1;
	return found;
}

/* GET path with a 200 answer into out; 404 is NC_ENOUSER. */
static int
get(nc_relay *r, const char *domain, const char *path, nc_buf *out)
{
	long status;
	int rc;

	if ((rc = nc_relay_req(r, "GET", path, NULL, 0, NULL, &status, out)) != 0)
		return rc;
	if (status == 404)
		return NC_ENOUSER;
	if (status != 200)
		return nc_fail(status >= 500 || status == 429 ? NC_ETEMP : NC_EDATA,
		    "relay of %s answered %ld to GET %s", domain, status, path);
	return 0;
}

/* The log's keys for domain: pinned, else the descriptor's (not pinned
 * here: only a verified fetch or an audit pins). */
static int
keys_for(nc_state *s, nc_relay *r, const char *domain, uint8_t log[32],
    uint8_t vrf[32], int *pinned)
{
	char key[KEY_MAX];
	int has = 0, rc;

	kkey(key, domain, "log");
	*pinned = get32(s, key, log);
	kkey(key, domain, "vrf");
	*pinned = get32(s, key, vrf) && *pinned;
	if (*pinned)
		return 0;
	if ((rc = nc_relay_kt_keys(r, log, vrf, &has)) != 0)
		return rc;
	return has ? 0 : nc_fail(NC_EUNAVAIL, "the relay of %s publishes no key "
	    "log (an older relay)", domain);
}

static int
fetch_head(nc_state *s, nc_relay *r, const char *domain, const uint8_t log[32],
    nc_kt_head *h)
{
	nc_buf b = NC_BUF_INIT;
	int rc;

	if ((rc = get(r, domain, "/v1/kt/head", &b)) == 0 &&
	    (nc_kt_head_decode(h, b.p, b.len) != 0 ||
	    nc_kt_head_verify(h, log, domain) != 0))
		rc = alarm_(s, NULL, "key log: the relay of %s sent a tree head its "
		    "log key did not sign", domain);
	nc_buf_free(&b);
	return rc == NC_ENOUSER ? nc_fail(NC_EDATA, "relay of %s: no /v1/kt/head "
	    "(an older relay?)", domain) : rc;
}

/* Version v of addr in its relay's log (r, with VRF key vrf): 1 found, o
 * filled (the label's VRF proof checked, its leaf read), 0 not in the log,
 * or -rc (an alarm for anything that does not check). */
static int
read_version(nc_state *s, nc_relay *r, const char *domain, const char *name,
    const char *addr, const uint8_t vrf[32], uint64_t v, nc_kt_entries *e,
    nc_buf *b, nc_keylog_version *o)
{
	char path[256];
	nc_kt_labelproof lp;
	int rc;

	snprintf(path, sizeof path, "/v1/kt/label?user=%s&version=%llu", name,
	    (unsigned long long)v);
	if ((rc = get(r, domain, path, b)) == NC_ENOUSER)
		return 0;
	if (rc != 0)
		return -rc;
	if (nc_kt_labelproof_decode(&lp, b->p, b->len) != 0 || lp.version != v ||
	    nc_kt_labelproof_verify(o->label, &lp, vrf, addr) != 0)
		return -alarm_(s, addr, "key log: the relay of %s sent a label of "
		    "%s (version %llu) its VRF key did not make", domain, addr,
		    (unsigned long long)v);
	snprintf(path, sizeof path, "/v1/kt/entries?start=%llu&count=1",
	    (unsigned long long)lp.index);
	if ((rc = get(r, domain, path, b)) != 0 ||
	    (rc = nc_kt_entries_decode(e, b->p, b->len)) != 0 || e->n != 1 ||
	    e->start != lp.index || memcmp(e->leaf[0] + 1, o->label,
	    NC_KT_LABEL) != 0)
		return -alarm_(s, addr, "key log: the relay of %s says version %llu "
		    "of %s is leaf %llu, which does not hold its label", domain,
		    (unsigned long long)v, addr, (unsigned long long)lp.index);
	o->version = v;
	o->index = lp.index;
	memcpy(o->commitment, e->leaf[0] + 1 + NC_KT_LABEL, 32);
	return 1;
}

/* domain's relay, its log keys and room for a page of leaves, for
 * reading versions (the caller frees *e and closes *r either way). */
static int
open_log(nc_state *s, const char *domain, nc_relay **r, uint8_t log[32],
    uint8_t vrf[32], nc_kt_entries **e)
{
	int pinned, rc;

	if ((rc = nc_relay_open(r, s->home, domain)) != 0 ||
	    (rc = keys_for(s, *r, domain, log, vrf, &pinned)) != 0)
		return rc;
	if ((*e = malloc(sizeof **e)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	return 0;
}

int
nc_keylog_history(nc_state *s, const char *addr, nc_keylog_version *out,
    size_t max, size_t *n, nc_kt_head *head)
{
	char name[NC_USER_MAX + 1];
	const char *domain = domain_of(addr, name, sizeof name);
	uint8_t log[32], vrf[32];
	nc_kt_entries *e = NULL;
	nc_relay *r = NULL;
	nc_buf b = NC_BUF_INIT;
	int rc, f;

	*n = 0;
	if (domain == NULL)
		return nc_fail(NC_EUSAGE, "%s: not a valid user@domain", addr);
	if ((rc = open_log(s, domain, &r, log, vrf, &e)) != 0)
		goto done;
	for (uint64_t v = 1; *n < max; v++) {
		if ((f = read_version(s, r, domain, name, addr, vrf, v, e, &b,
		    &out[*n])) < 0) {
			rc = -f;
			goto done;
		}
		if (f == 0)
			break;
		(*n)++;
	}
	/* The head last: every leaf read must be in it. */
	if ((rc = fetch_head(s, r, domain, log, head)) != 0)
		goto done;
	for (size_t i = 0; i < *n; i++)
		if (out[i].index >= head->size) {
			rc = alarm_(s, addr, "key log: the relay of %s shows leaf %llu "
			    "past its newest head (%llu leaves)", domain,
			    (unsigned long long)out[i].index,
			    (unsigned long long)head->size);
			goto done;
		}
done:
	free(e);
	nc_buf_free(&b);
	nc_relay_close(r);
	return rc;
}

int
nc_keylog_monitor(nc_state *s, const char *addr, uint64_t version,
    int *newer)
{
	char name[NC_USER_MAX + 1];
	const char *domain = domain_of(addr, name, sizeof name);
	uint64_t index, pver;
	uint8_t log[32], vrf[32];
	nc_keylog_version o;
	nc_kt_head h;
	nc_kt_entries *e = NULL;
	nc_relay *r = NULL;
	nc_buf b = NC_BUF_INIT;
	int nolog = 0, rc, f;

	*newer = 0;
	if (domain == NULL)
		return nc_fail(NC_EUSAGE, "%s: not a valid user@domain", addr);
	/* Nothing proven yet, or no log to watch. */
	if (policy_tofu(s) ||
	    nc_keylog_position(s, addr, &index, &pver, &h, &nolog) != 1)
		return 0;
	if ((rc = open_log(s, domain, &r, log, vrf, &e)) != 0)
		goto done;
	/* The version this device holds is the leaf that proved it. */
	f = pver == version ? read_version(s, r, domain, name, addr, vrf,
	    version, e, &b, &o) : 0;
	if (f < 0) {
		rc = -f;
		goto done;
	}
	if (f == 1 && o.index != index) {
		rc = alarm_(s, addr, "key log: the log of %s shows version %llu of "
		    "%s at leaf %llu, but leaf %llu proved it to this device: two "
		    "entries for one version", domain, (unsigned long long)version,
		    addr, (unsigned long long)o.index, (unsigned long long)index);
		goto done;
	}
	/* No version after it. */
	if ((f = read_version(s, r, domain, name, addr, vrf, version + 1, e, &b,
	    &o)) < 0)
		rc = -f;
	else
		*newer = f;
done:
	free(e);
	nc_buf_free(&b);
	nc_relay_close(r);
	return rc;
}

/* ---- audits ---- */

/* The right edge of a tree of size leaves: the perfect subtrees of its
 * binary decomposition, largest first (at most 64). */
typedef struct {
	uint64_t size;
	size_t k;
	nc_merkle_hash h[64];
} edge;

static void
edge_add(edge *g, const nc_merkle_hash leaf)
{
	nc_merkle_hash cur;
	uint64_t sz = g->size;

	memcpy(cur, leaf, 32);
	/* Each trailing 1 bit of the old size is a subtree to merge with. */
	while (sz & 1) {
		nc_merkle_node(cur, g->h[--g->k], cur);
		sz >>= 1;
	}
	memcpy(g->h[g->k++], cur, 32);
	g->size++;
}

/* RFC 9162 MTH: the subtrees folded from the right. */
static void
edge_root(const edge *g, nc_merkle_hash out)
{
	if (g->k == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return;
	}
	memcpy(out, g->h[g->k - 1], 32);
	for (size_t i = g->k - 1; i-- > 0;)
		nc_merkle_node(out, g->h[i], out);
}

static int
edge_load(nc_state *s, const char *domain, edge *g, nc_merkle_hash root)
{
	char key[KEY_MAX];
	nc_buf b = NC_BUF_INIT;
	nc_dec d;
	int rc = 0;

	memset(g, 0, sizeof *g);
	kkey(key, domain, "audit");
	if (nc_state_get(s, key, &b) != 0) {
		crypto_hash_sha256(root, NULL, 0);
		goto done;
	}
	nc_dec_init(&d, b.p, b.len);
	g->size = nc_get_u64(&d);
	{
		const uint8_t *p = nc_get_fixed(&d, 32);

		if (p)
			memcpy(root, p, 32);
	}
	g->k = nc_get_u8(&d);
	nc_dec_check(&d, g->k <= 64 && g->k == (size_t)__builtin_popcountll(g->size),
	    "audit state");
	for (size_t i = 0; i < g->k && !d.err; i++) {
		const uint8_t *p = nc_get_fixed(&d, 32);

		if (p)
			memcpy(g->h[i], p, 32);
	}
	if (nc_dec_end(&d, "audit state") != 0)
		rc = nc_fail(NC_ESOFTWARE, "state.db: %s is damaged; delete it to "
		    "audit the log from its start", key);
done:
	nc_buf_free(&b);
	return rc;
}

static int
edge_store(nc_state *s, const char *domain, const edge *g, const nc_merkle_hash root)
{
	char key[KEY_MAX];
	nc_buf b = NC_BUF_INIT;
	nc_enc e;
	int rc;

	kkey(key, domain, "audit");
	nc_enc_init(&e, &b);
	nc_put_u64(&e, g->size);
	nc_put_fixed(&e, root, 32);
	nc_put_u8(&e, (uint8_t)g->k);
	for (size_t i = 0; i < g->k; i++)
		nc_put_fixed(&e, g->h[i], 32);
	if ((rc = nc_enc_end(&e)) == 0)
		rc = nc_state_put(s, key, b.p, b.len);
	nc_buf_free(&b);
	return rc;
}

int
nc_keylog_audit(nc_state *s, const char *domain, uint64_t *read,
    uint64_t *from, nc_kt_head *head)
{
	static edge g;
	uint8_t log[32], vrf[32];
	nc_merkle_hash oldroot, root;
	nc_kt_entries *e = NULL;
	nc_kt_cons c;
	nc_relay *r = NULL;
	nc_buf b = NC_BUF_INIT;
	char path[128], key[KEY_MAX];
	uint64_t oldsize;
	int pinned, rc;

	*read = 0;
	if ((rc = nc_relay_open(&r, s->home, domain)) != 0 ||
	    (rc = keys_for(s, r, domain, log, vrf, &pinned)) != 0 ||
	    (rc = fetch_head(s, r, domain, log, head)) != 0 ||
	    (rc = edge_load(s, domain, &g, oldroot)) != 0)
		goto done;
	*from = oldsize = g.size;
	if (head->size < oldsize) {
		rc = alarm_(s, NULL, "key log: the relay of %s shows an older tree "
		    "(%llu leaves) than the one audited before (%llu)", domain,
		    (unsigned long long)head->size, (unsigned long long)oldsize);
		goto done;
	}
	if ((e = malloc(sizeof *e)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	while (g.size < head->size) {
		uint64_t want = head->size - g.size;

		snprintf(path, sizeof path, "/v1/kt/entries?start=%llu&count=%llu",
		    (unsigned long long)g.size, (unsigned long long)(want >
		    NC_KT_ENTRIES_MAX ? NC_KT_ENTRIES_MAX : want));
		if ((rc = get(r, domain, path, &b)) != 0 && rc != NC_ENOUSER)
			goto done;
		if (rc != 0 || nc_kt_entries_decode(e, b.p, b.len) != 0 ||
		    e->start != g.size || e->n == 0 || e->n > want) {
			rc = alarm_(s, NULL, "key log: the relay of %s does not serve "
			    "the leaves from %llu of its signed tree of %llu", domain,
			    (unsigned long long)g.size, (unsigned long long)head->size);
			goto done;
		}
		for (size_t i = 0; i < e->n; i++) {
			nc_merkle_hash lh;

			/* A leaf is 0x01 || label || commitment (3.4). */
			if (e->leaf[i][0] != 1) {
				rc = alarm_(s, NULL, "key log: leaf %llu of the relay of %s "
				    "is not a key-log leaf", (unsigned long long)g.size,
				    domain);
				goto done;
			}
			nc_merkle_leaf(lh, e->leaf[i], NC_KT_LEAF);
			edge_add(&g, lh);
		}
		*read += e->n;
	}
	edge_root(&g, root);
	if (sodium_memcmp(root, head->root, 32) != 0) {
		rc = alarm_(s, NULL, "key log: the leaves of the relay of %s do not "
		    "make the root it signed for %llu leaves", domain,
		    (unsigned long long)head->size);
		goto done;
	}
	/* The relay's own proof must agree with what was rebuilt. */
	if (oldsize > 0 && oldsize < head->size) {
		snprintf(path, sizeof path, "/v1/kt/consistency?from=%llu&to=%llu",
		    (unsigned long long)oldsize, (unsigned long long)head->size);
		if ((rc = get(r, domain, path, &b)) != 0 && rc != NC_ENOUSER)
			goto done;
		if (rc != 0 || nc_kt_cons_decode(&c, b.p, b.len) != 0 ||
		    c.from != oldsize || c.to != head->size ||
		    nc_merkle_verify_consistency(oldsize, head->size, oldroot,
		    head->root, c.h, c.n) != 0) {
			rc = alarm_(s, NULL, "key log: the tree of the relay of %s does "
			    "not extend the one audited before (%llu leaves)", domain,
			    (unsigned long long)oldsize);
			goto done;
		}
	}
	if ((rc = nc_state_begin(s)) != 0)
		goto done;
	if ((rc = edge_store(s, domain, &g, root)) == 0 && !pinned) {
		kkey(key, domain, "log");
		if ((rc = nc_state_put(s, key, log, 32)) == 0) {
			kkey(key, domain, "vrf");
			rc = nc_state_put(s, key, vrf, 32);
		}
	}
	if (rc == 0)
		rc = nc_state_commit(s);
	else
		nc_state_rollback(s);
done:
	free(e);
	nc_buf_free(&b);
	nc_relay_close(r);
	return rc;
}

/* ---- gossip (issue 19, 4; protocol.md 3.4) ---- */

#define GOSSIP_BATCH 64

/* The alarm of a split view: the provider signed two trees that cannot
 * both be its one log. */
static int
split_alarm(nc_state *s, const char *domain, const char *peer,
    const nc_kt_head *mine, const nc_kt_head *theirs, const char *how)
{
	return alarm_(s, peer, "key log: provider %s showed you and %s different "
	    "key logs (its signed trees of %llu leaves, yours, and %llu, theirs, "
	    "%s)", domain, peer, (unsigned long long)mine->size,
	    (unsigned long long)theirs->size, how);
}

/* Do the provider's trees lo and hi (lo->size < hi->size) extend one
 * another? 0 yes, NC_ESECURITY no (*how says why), other: not known now. */
static int
gossip_consistent(nc_state *s, const char *domain, const nc_kt_head *lo,
    const nc_kt_head *hi, const char **how)
{
	nc_relay *r = NULL;
	nc_buf b = NC_BUF_INIT;
	nc_kt_cons c;
	nc_merkle_hash empty;
	char path[128];
	int rc;

	*how = "which do not extend one another";
	if (lo->size == 0) {
		crypto_hash_sha256(empty, NULL, 0);
		return sodium_memcmp(empty, lo->root, 32) == 0 ? 0 : NC_ESECURITY;
	}
	snprintf(path, sizeof path, "/v1/kt/consistency?from=%llu&to=%llu",
	    (unsigned long long)lo->size, (unsigned long long)hi->size);
	if ((rc = nc_relay_open(&r, s->home, domain)) == 0 &&
	    (rc = get(r, domain, path, &b)) == NC_ENOUSER) {
		*how = "the larger of which it will not prove";
		rc = NC_ESECURITY;
	} else if (rc == 0 && (nc_kt_cons_decode(&c, b.p, b.len) != 0 ||
	    c.from != lo->size || c.to != hi->size ||
	    nc_merkle_verify_consistency(lo->size, hi->size, lo->root, hi->root,
	    c.h, c.n) != 0))
		rc = NC_ESECURITY;
	nc_buf_free(&b);
	nc_relay_close(r);
	return rc;
}

/* One head peer gossiped for domain's log (g, n bytes): 0 when done with
 * (checked, or ignored: no log pinned here, or not signed by the pinned
 * log key), NC_ESECURITY after an alarm, other: try again later. */
static int
gossip_one(nc_state *s, const char *domain, const char *peer,
    const uint8_t *g, size_t n)
{
	char key[KEY_MAX + NC_ADDR_MAX];
	uint8_t log[32], pair[32], was[32], pw[2 * NC_KT_HEAD_LEN];
	nc_kt_head mine, theirs, now;
	nc_buf b = NC_BUF_INIT;
	const char *how = "";
	int rc, seen;

	kkey(key, domain, "log");
	if (!get32(s, key, log))
		return 0;
	/* A peer cannot raise an alarm with a head the provider did not sign. */
	if (nc_kt_head_decode(&theirs, g, n) != 0 ||
	    nc_kt_head_verify(&theirs, log, domain) != 0)
		return 0;
	kkey(key, domain, "head");
	if (!get_head(s, key, &mine))
		return 0;
	/* Once per pair of heads (and peer). */
	memcpy(pw, g, NC_KT_HEAD_LEN);
	if ((rc = nc_kt_head_encode(&b, &mine)) != 0)
		return rc;
	memcpy(pw + NC_KT_HEAD_LEN, b.p, NC_KT_HEAD_LEN);
	nc_buf_free(&b);
	crypto_generichash(pair, sizeof pair, pw, sizeof pw, NULL, 0);
	snprintf(key, sizeof key, "kt/%s/gp/%s", domain, peer);
	seen = get32(s, key, was) && sodium_memcmp(was, pair, 32) == 0;
	if (seen)
		return 0;
	if (theirs.size == mine.size) {
		rc = sodium_memcmp(theirs.root, mine.root, 32) == 0 ? 0 : NC_ESECURITY;
		how = "of one size with different roots";
	} else if (theirs.size < mine.size)
		rc = gossip_consistent(s, domain, &theirs, &mine, &how);
	else if ((rc = gossip_consistent(s, domain, &mine, &theirs, &how)) == 0) {
		/* A newer head that extends ours: ours from now on. */
		kkey(key, domain, "head");
		if (get_head(s, key, &now) && theirs.size > now.size &&
		    (rc = put_head(s, key, &theirs)) != 0)
			return rc;
	}
	if (rc != 0 && rc != NC_ESECURITY)
		return rc;
	snprintf(key, sizeof key, "kt/%s/gp/%s", domain, peer);
	if (nc_state_put(s, key, pair, 32) != 0)
		return NC_ETEMP;
	return rc == 0 ? 0 : split_alarm(s, domain, peer, &mine, &theirs, how);
}

int
nc_keylog_gossip(nc_state *s)
{
	static struct {
		char key[KEY_MAX + NC_ADDR_MAX];
		uint8_t head[NC_KT_HEAD_LEN];
		size_t n;
	} p[GOSSIP_BATCH];
	sqlite3_stmt *st;
	size_t np = 0;
	int rc, alarmed = 0;

	if ((rc = nc_state_prep(s, &st, "SELECT k, v FROM kv WHERE k >= 'ktg/' "
	    "AND k < 'ktg0' ORDER BY k LIMIT 64")) != 0)
		return rc;
	while (np < GOSSIP_BATCH && sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 1);

		if (k == NULL || strlen(k) >= sizeof p[np].key)
			continue;
		snprintf(p[np].key, sizeof p[np].key, "%s", k);
		p[np].n = n > 0 && n <= NC_KT_HEAD_LEN ? (size_t)n : 0;
		if (p[np].n)
			memcpy(p[np].head, sqlite3_column_blob(st, 1), p[np].n);
		np++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < np; i++) {
		char domain[NC_DOMAIN_MAX + 1];
		const char *d = p[i].key + 4, *slash = strchr(d, '/');

		rc = 0;
		if (slash != NULL && (size_t)(slash - d) <= NC_DOMAIN_MAX) {
			memcpy(domain, d, (size_t)(slash - d));
			domain[slash - d] = '\0';
			rc = gossip_one(s, domain, slash + 1, p[i].head, p[i].n);
		}
		if (rc == NC_ESECURITY)
			alarmed++;
		else if (rc != 0)
			continue;   /* the relay did not answer: next time */
		if (nc_state_prep(s, &st, "DELETE FROM kv WHERE k = ?") == 0) {
			sqlite3_bind_text(st, 1, p[i].key, -1, SQLITE_STATIC);
			(void)!nc_state_done(s, st);
		}
	}
	return alarmed ? nc_fail(NC_ESECURITY, "key log: %d split view%s found "
	    "by comparing tree heads with contacts (see the alarm%s)", alarmed,
	    alarmed == 1 ? "" : "s", alarmed == 1 ? "" : "s") : 0;
}
