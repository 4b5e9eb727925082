/* kt.c - key-transparency leaves, heads and fetch proofs (kt.h). */
#include <string.h>

#include <sodium.h>

#include "devlist.h"
#include "err.h"
#include "kt.h"
#include "wire.h"

#define LABEL_CTX "newchat kt label v1"
#define COMMIT_KEY "newchat kt commit v1"
#define HEAD_CTX "newchat kt head v1"
#define ALPHA_MAX (sizeof LABEL_CTX + NC_ADDR_MAX + 8)

static int
alpha(uint8_t *a, size_t *n, const char *user, uint64_t version)
{
	size_t u = strlen(user);
	int i;

	if (u == 0 || u > NC_ADDR_MAX)
		return nc_fail(NC_EDATA, "key log: bad user name");
	memcpy(a, LABEL_CTX, sizeof LABEL_CTX);   /* with its 0 */
	memcpy(a + sizeof LABEL_CTX, user, u);
	for (i = 0; i < 8; i++)
		a[sizeof LABEL_CTX + u + (size_t)i] = (uint8_t)(version >> (56 - 8 * i));
	*n = sizeof LABEL_CTX + u + 8;
	return 0;
}

int
nc_kt_label(uint8_t label[NC_KT_LABEL], uint8_t proof[NC_VRF_PROOF],
    const uint8_t vrf_seed[32], const char *user, uint64_t version)
{
	uint8_t a[ALPHA_MAX], beta[NC_VRF_OUTPUT];
	size_t n;
	int rc;

	if ((rc = alpha(a, &n, user, version)) != 0 ||
	    (rc = nc_vrf_prove(proof, vrf_seed, a, n)) != 0 ||
	    (rc = nc_vrf_output(beta, proof)) != 0)
		return rc;
	memcpy(label, beta, NC_KT_LABEL);
	return 0;
}

void
nc_kt_commit(uint8_t out[32], const uint8_t opening[32], const uint8_t label[NC_KT_LABEL],
    const uint8_t identity[32], const uint8_t *devlist, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[32];

	crypto_generichash(h, sizeof h, devlist, n, NULL, 0);
	crypto_generichash_init(&st, (const uint8_t *)COMMIT_KEY, sizeof COMMIT_KEY - 1, 32);
	crypto_generichash_update(&st, opening, 32);
	crypto_generichash_update(&st, label, NC_KT_LABEL);
	crypto_generichash_update(&st, identity, 32);
	crypto_generichash_update(&st, h, sizeof h);
	crypto_generichash_final(&st, out, 32);
}

void
nc_kt_leaf(uint8_t out[NC_KT_LEAF], const uint8_t label[NC_KT_LABEL],
    const uint8_t commitment[32])
{
	out[0] = 1;
	memcpy(out + 1, label, NC_KT_LABEL);
	memcpy(out + 1 + NC_KT_LABEL, commitment, 32);
}

static void
head_msg(crypto_sign_state *st, const nc_kt_head *h, const char *domain)
{
	uint8_t b[8 + NC_MERKLE_HASH + 8], dl[2];
	size_t d = strlen(domain);
	int i;

	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(h->size >> (56 - 8 * i));
		b[8 + NC_MERKLE_HASH + i] = (uint8_t)(h->time >> (56 - 8 * i));
	}
	memcpy(b + 8, h->root, NC_MERKLE_HASH);
	dl[0] = (uint8_t)(d >> 8), dl[1] = (uint8_t)d;
	crypto_sign_init(st);
	crypto_sign_update(st, (const uint8_t *)HEAD_CTX, sizeof HEAD_CTX);
	crypto_sign_update(st, dl, 2);
	crypto_sign_update(st, (const uint8_t *)domain, d);
	crypto_sign_update(st, b, sizeof b);
}

void
nc_kt_head_sign(nc_kt_head *h, const uint8_t log_sk[64], const char *domain)
{
	crypto_sign_state st;

	head_msg(&st, h, domain);
	crypto_sign_final_create(&st, h->sig, NULL, log_sk);
}

int
nc_kt_head_verify(const nc_kt_head *h, const uint8_t log_pk[32], const char *domain)
{
	crypto_sign_state st;

	head_msg(&st, h, domain);
	if (crypto_sign_final_verify(&st, h->sig, log_pk) != 0)
		return nc_fail(NC_ESECURITY, "key log: tree head not signed by the log key of %.253s",
		    domain);
	return 0;
}

static void
put_hashes(nc_enc *e, const nc_merkle_hash *h, size_t n)
{
	size_t i;

	nc_put_u8(e, (uint8_t)n);
	for (i = 0; i < n; i++)
		nc_put_fixed(e, h[i], NC_MERKLE_HASH);
}

static void
put_head(nc_enc *e, const nc_kt_head *h)
{
	nc_put_u64(e, h->size);
	nc_put_fixed(e, h->root, NC_MERKLE_HASH);
	nc_put_u64(e, h->time);
	nc_put_fixed(e, h->sig, 64);
}

int
nc_kt_proof_encode(nc_buf *out, const nc_kt_proof *p)
{
	nc_enc e;

	if (p->nincl > NC_MERKLE_PROOF_MAX || p->ncons > NC_MERKLE_PROOF_MAX)
		return nc_fail(NC_ESOFTWARE, "key log: proof too long");
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_u64(&e, p->version);
	nc_put_fixed(&e, p->vrf, NC_VRF_PROOF);
	nc_put_fixed(&e, p->opening, 32);
	nc_put_u64(&e, p->index);
	put_head(&e, &p->head);
	put_hashes(&e, p->incl, p->nincl);
	nc_put_u64(&e, p->since);
	put_hashes(&e, p->cons, p->ncons);
	return nc_enc_end(&e);
}

static void
get_fixed(nc_dec *d, void *out, size_t n)
{
	const uint8_t *f = nc_get_fixed(d, n);

	if (f)
		memcpy(out, f, n);
}

static size_t
get_hashes(nc_dec *d, nc_merkle_hash *h)
{
	size_t n = nc_get_u8(d), i;

	nc_dec_check(d, n <= NC_MERKLE_PROOF_MAX, "key log proof length");
	for (i = 0; d->err == 0 && i < n; i++)
		get_fixed(d, h[i], NC_MERKLE_HASH);
	return d->err ? 0 : n;
}

static void
get_head(nc_dec *d, nc_kt_head *h)
{
	h->size = nc_get_u64(d);
	get_fixed(d, h->root, NC_MERKLE_HASH);
	h->time = nc_get_u64(d);
	get_fixed(d, h->sig, 64);
}

int
nc_kt_proof_decode(nc_kt_proof *p, const uint8_t *b, size_t n)
{
	nc_dec d;

	memset(p, 0, sizeof *p);
	nc_dec_init(&d, b, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "key log proof version");
	p->version = nc_get_u64(&d);
	get_fixed(&d, p->vrf, NC_VRF_PROOF);
	get_fixed(&d, p->opening, 32);
	p->index = nc_get_u64(&d);
	get_head(&d, &p->head);
	p->nincl = get_hashes(&d, p->incl);
	p->since = nc_get_u64(&d);
	p->ncons = get_hashes(&d, p->cons);
	nc_dec_check(&d, p->index < p->head.size, "key log proof: leaf outside the tree");
	nc_dec_check(&d, p->since <= p->head.size, "key log proof: consistency from a larger tree");
	return nc_dec_end(&d, "key log proof");
}

/* ---- the log's routes ---- */

int
nc_kt_head_encode(nc_buf *out, const nc_kt_head *h)
{
	nc_enc e;

	nc_enc_init(&e, out);
	put_head(&e, h);
	return nc_enc_end(&e);
}

int
nc_kt_head_decode(nc_kt_head *h, const uint8_t *b, size_t n)
{
	nc_dec d;

	memset(h, 0, sizeof *h);
	nc_dec_init(&d, b, n);
	get_head(&d, h);
	return nc_dec_end(&d, "key log head");
}

int
nc_kt_cons_encode(nc_buf *out, const nc_kt_cons *c)
{
	nc_enc e;

	if (c->n > NC_MERKLE_PROOF_MAX)
		return nc_fail(NC_ESOFTWARE, "key log: proof too long");
	nc_enc_init(&e, out);
	nc_put_u64(&e, c->from);
	nc_put_u64(&e, c->to);
	put_hashes(&e, c->h, c->n);
	return nc_enc_end(&e);
}

int
nc_kt_cons_decode(nc_kt_cons *c, const uint8_t *b, size_t n)
{
	nc_dec d;

	memset(c, 0, sizeof *c);
	nc_dec_init(&d, b, n);
	c->from = nc_get_u64(&d);
	c->to = nc_get_u64(&d);
	c->n = get_hashes(&d, c->h);
	nc_dec_check(&d, c->from <= c->to, "key log consistency proof: from a larger tree");
	return nc_dec_end(&d, "key log consistency proof");
}

int
nc_kt_entries_encode(nc_buf *out, const nc_kt_entries *en)
{
	nc_enc e;

	if (en->n > NC_KT_ENTRIES_MAX)
		return nc_fail(NC_ESOFTWARE, "key log: too many entries");
	nc_enc_init(&e, out);
	nc_put_u64(&e, en->start);
	nc_put_u16(&e, (uint16_t)en->n);
	for (size_t i = 0; i < en->n; i++)
		nc_put_fixed(&e, en->leaf[i], NC_KT_LEAF);
	return nc_enc_end(&e);
}

int
nc_kt_entries_decode(nc_kt_entries *en, const uint8_t *b, size_t n)
{
	nc_dec d;
	size_t i;

	en->start = 0;
	en->n = 0;
	nc_dec_init(&d, b, n);
	en->start = nc_get_u64(&d);
	en->n = nc_get_u16(&d);
	nc_dec_check(&d, en->n <= NC_KT_ENTRIES_MAX, "key log entries count");
	for (i = 0; d.err == 0 && i < en->n; i++) {
		get_fixed(&d, en->leaf[i], NC_KT_LEAF);
		nc_dec_check(&d, en->leaf[i][0] == 1, "key log entry version");
	}
	nc_dec_check(&d, en->n == 0 || en->start <= UINT64_MAX - en->n,
	    "key log entries past the end");
	if (d.err)
		en->n = 0;
	return nc_dec_end(&d, "key log entries");
}

int
nc_kt_labelproof_encode(nc_buf *out, const nc_kt_labelproof *l)
{
	nc_enc e;

	nc_enc_init(&e, out);
	nc_put_u64(&e, l->version);
	nc_put_u64(&e, l->index);
	nc_put_fixed(&e, l->vrf, NC_VRF_PROOF);
	return nc_enc_end(&e);
}

int
nc_kt_labelproof_decode(nc_kt_labelproof *l, const uint8_t *b, size_t n)
{
	nc_dec d;

	memset(l, 0, sizeof *l);
	nc_dec_init(&d, b, n);
	l->version = nc_get_u64(&d);
	l->index = nc_get_u64(&d);
	get_fixed(&d, l->vrf, NC_VRF_PROOF);
	return nc_dec_end(&d, "key log label proof");
}

int
nc_kt_labelproof_verify(uint8_t label[NC_KT_LABEL], const nc_kt_labelproof *l,
    const uint8_t vrf_pk[32], const char *user)
{
	uint8_t a[ALPHA_MAX], beta[NC_VRF_OUTPUT];
	size_t an;
	int rc;

	if ((rc = alpha(a, &an, user, l->version)) != 0)
		return rc;
	if (nc_vrf_verify(beta, vrf_pk, l->vrf, a, an) != 0)
		return nc_fail(NC_ESECURITY, "key log: the label's VRF proof does not verify for %.318s",
		    user);
	memcpy(label, beta, NC_KT_LABEL);
	return 0;
}

int
nc_kt_verify(const nc_kt_proof *p, const uint8_t log_pk[32], const uint8_t vrf_pk[32],
    const char *domain,
    const char *user, const uint8_t identity[32], const uint8_t *devlist, size_t n,
    const nc_kt_head *last)
{
	uint8_t label[NC_KT_LABEL];

	return nc_kt_verify_label(p, log_pk, vrf_pk, domain, user, identity, devlist, n,
	    last, label, 0);
}

int
nc_kt_verify_label(const nc_kt_proof *p, const uint8_t log_pk[32], const uint8_t vrf_pk[32],
    const char *domain,
    const char *user, const uint8_t identity[32], const uint8_t *devlist, size_t n,
    const nc_kt_head *last, uint8_t label[NC_KT_LABEL], int known)
{
	uint8_t a[ALPHA_MAX], beta[NC_VRF_OUTPUT], c[32], leaf[NC_KT_LEAF];
	nc_merkle_hash lh;
	size_t an;
	int rc;

	if ((rc = nc_kt_head_verify(&p->head, log_pk, domain)) != 0)
		return rc;
	if (known) {
		/* proven before: the proof must give that label again (a VRF
		 * has one output per input: another is a forged proof) */
		if (nc_vrf_output(beta, p->vrf) != 0 ||
		    sodium_memcmp(beta, label, NC_KT_LABEL) != 0)
			return nc_fail(NC_ESECURITY, "key log: the relay gives version %llu of "
			    "%.318s another label than the one proven before (it equivocates)",
			    (unsigned long long)p->version, user);
	} else {
		if ((rc = alpha(a, &an, user, p->version)) != 0)
			return rc;
		if (nc_vrf_verify(beta, vrf_pk, p->vrf, a, an) != 0)
			return nc_fail(NC_ESECURITY, "key log: the label's VRF proof does not "
			    "verify for %.318s", user);
		memcpy(label, beta, NC_KT_LABEL);
	}
	nc_kt_commit(c, p->opening, beta, identity, devlist, n);
	nc_kt_leaf(leaf, beta, c);
	nc_merkle_leaf(lh, leaf, sizeof leaf);
	if ((rc = nc_merkle_verify_inclusion(p->index, p->head.size, lh, p->incl, p->nincl,
	    p->head.root)) != 0)
		return nc_fail(NC_ESECURITY, "key log: %.318s's keys (version %llu) are not in the log",
		    user, (unsigned long long)p->version);
	if (last == NULL || last->size == 0)
		return 0;
	if (p->head.size < last->size)
		return nc_fail(NC_ESECURITY, "key log: the relay shows an older tree (%llu < %llu leaves)",
		    (unsigned long long)p->head.size, (unsigned long long)last->size);
	if (p->since != last->size || nc_merkle_verify_consistency(last->size, p->head.size,
	    last->root, p->head.root, p->cons, p->ncons) != 0)
		return nc_fail(NC_ESECURITY, "key log: the tree does not extend the one seen before "
		    "(a split view)");
	return 0;
}
