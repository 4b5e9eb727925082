/* group.c - group states, commits and sender keys (group.h); labels and
 * encodings as in protocol.md "Groups". */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "group.h"
#include "rng.h"
#include "wire.h"

#define STATE_KEY "newchat group state v1"
#define COMMIT_LABEL "newchat group commit v1"
#define MSG_LABEL "newchat group message v1"
#define BLOB_KEY "newchat group blob v1"
#define CHAIN_MSG "newchat sender key message v1"
#define CHAIN_NEXT "newchat sender key chain v1"
#define STATE_ENC_MAX (1 + NC_GROUP_ID + 8 + 2 + NC_GROUP_NAME_MAX + NC_GROUP_HASH + 4 + \
	NC_GROUP_MEMBERS_MAX * (2 + NC_ADDR_MAX + 32 + 1))

void
nc_group_free(nc_group_state *g)
{
	free(g->m);
	memset(g, 0, sizeof *g);
}

static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NC_GROUP_NAME_MAX || !nc_utf8_valid(name, n))
		return nc_fail(NC_EDATA, "group name: 1 to %d bytes of UTF-8", NC_GROUP_NAME_MAX);
	return 0;
}

int
nc_group_new(nc_group_state *g, const uint8_t id[NC_GROUP_ID], const char *name,
    const char *creator, const uint8_t creator_idpk[32])
{
	int rc;

	memset(g, 0, sizeof *g);
	if ((rc = name_ok(name)) != 0)
		return rc;
	memcpy(g->id, id, NC_GROUP_ID);
	memcpy(g->name, name, strlen(name) + 1);
	return nc_group_put(g, creator, creator_idpk, NC_GROUP_ADMIN);
}

int
nc_group_copy(nc_group_state *dst, const nc_group_state *src)
{
	*dst = *src;
	dst->m = NULL;
	if (src->n == 0)
		return 0;
	if ((dst->m = calloc(src->n, sizeof *dst->m)) == NULL) {
		dst->n = 0;
		return nc_fail(NC_EOSERR, "out of memory");
	}
	memcpy(dst->m, src->m, src->n * sizeof *dst->m);
	return 0;
}

/* Where addr is, or would go (members stay sorted). */
static uint32_t
slot(const nc_group_state *g, const char *addr, int *found)
{
	uint32_t lo = 0, hi = g->n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(g->m[mid].addr, addr)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const nc_group_member *
nc_group_find(const nc_group_state *g, const char *addr)
{
	int found;
	uint32_t i = slot(g, addr, &found);

	return found ? &g->m[i] : NULL;
}

int
nc_group_put(nc_group_state *g, const char *addr, const uint8_t idpk[32], uint8_t role)
{
	nc_group_member *m;
	int found;
	uint32_t i;

	if (!nc_addr_valid(addr))
		return nc_fail(NC_EDATA, "group member: not a user@domain: %.80s", addr);
	if (role != NC_GROUP_MEMBER && role != NC_GROUP_ADMIN)
		return nc_fail(NC_EDATA, "group member: unknown role %u", role);
	i = slot(g, addr, &found);
	if (!found) {
		if (g->n >= NC_GROUP_MEMBERS_MAX)
			return nc_fail(NC_EDATA, "a group has at most %d members",
			    NC_GROUP_MEMBERS_MAX);
		if ((m = realloc(g->m, (g->n + 1) * sizeof *m)) == NULL)
			return nc_fail(NC_EOSERR, "out of memory");
		g->m = m;
		memmove(&g->m[i + 1], &g->m[i], (g->n - i) * sizeof *m);
		g->n++;
		memset(&g->m[i], 0, sizeof *m);
		memcpy(g->m[i].addr, addr, strlen(addr) + 1);
	}
	memcpy(g->m[i].idpk, idpk, 32);
	g->m[i].role = role;
	return 0;
}

int
nc_group_drop(nc_group_state *g, const char *addr)
{
	int found;
	uint32_t i = slot(g, addr, &found);

	if (!found)
		return nc_fail(NC_EDATA, "%.80s is not a member", addr);
	memmove(&g->m[i], &g->m[i + 1], (g->n - i - 1) * sizeof *g->m);
	g->n--;
	return 0;
}

int
nc_group_encode(const nc_group_state *g, nc_buf *out)
{
	nc_enc e;
	uint32_t i;

	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_fixed(&e, g->id, NC_GROUP_ID);
	nc_put_u64(&e, g->epoch);
	nc_put_str(&e, g->name);
	nc_put_fixed(&e, g->prev, NC_GROUP_HASH);
	nc_put_u32(&e, g->n);
	for (i = 0; i < g->n; i++) {
		nc_put_str(&e, g->m[i].addr);
		nc_put_fixed(&e, g->m[i].idpk, 32);
		nc_put_u8(&e, g->m[i].role);
	}
	return nc_enc_end(&e);
}

int
nc_group_decode(nc_group_state *g, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;
	uint32_t i, admins = 0;

	memset(g, 0, sizeof *g);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "group state version");
	if ((f = nc_get_fixed(&d, NC_GROUP_ID)) != NULL)
		memcpy(g->id, f, NC_GROUP_ID);
	g->epoch = nc_get_u64(&d);
	nc_get_str(&d, g->name, NC_GROUP_NAME_MAX);
	nc_dec_check(&d, g->name[0] != '\0', "group name");
	if ((f = nc_get_fixed(&d, NC_GROUP_HASH)) != NULL)
		memcpy(g->prev, f, NC_GROUP_HASH);
	g->n = nc_get_u32(&d);
	nc_dec_check(&d, g->n >= 1 && g->n <= NC_GROUP_MEMBERS_MAX, "group member count");
	if (d.err == 0 && (g->m = calloc(g->n, sizeof *g->m)) == NULL) {
		g->n = 0;
		return nc_fail(NC_EOSERR, "out of memory");
	}
	for (i = 0; d.err == 0 && i < g->n; i++) {
		nc_get_str(&d, g->m[i].addr, NC_ADDR_MAX);
		if ((f = nc_get_fixed(&d, 32)) != NULL)
			memcpy(g->m[i].idpk, f, 32);
		g->m[i].role = nc_get_u8(&d);
		nc_dec_check(&d, nc_addr_valid(g->m[i].addr), "group member address");
		nc_dec_check(&d, g->m[i].role <= NC_GROUP_ADMIN, "group member role");
		nc_dec_check(&d, i == 0 || strcmp(g->m[i - 1].addr, g->m[i].addr) < 0,
		    "group members sorted and unique");
		admins += g->m[i].role == NC_GROUP_ADMIN;
	}
	nc_dec_check(&d, admins > 0, "a group without an admin");
	if (nc_dec_end(&d, "group state") != 0) {
		nc_group_free(g);
		return NC_EDATA;
	}
	return 0;
}

int
nc_group_hash(uint8_t out[NC_GROUP_HASH], const nc_group_state *g)
{
	nc_buf b = NC_BUF_INIT;
	int rc;

	if ((rc = nc_group_encode(g, &b)) == 0)
		crypto_generichash(out, NC_GROUP_HASH, b.p, b.len,
		    (const uint8_t *)STATE_KEY, sizeof STATE_KEY - 1);
	nc_buf_free(&b);
	return rc;
}

/* ---- commits ---- */

/* What the author signs: the label, then the commit up to its signature. */
static void
commit_msg(crypto_sign_state *st, const uint8_t *body, size_t n)
{
	crypto_sign_init(st);
	crypto_sign_update(st, (const uint8_t *)COMMIT_LABEL, sizeof COMMIT_LABEL);
	crypto_sign_update(st, body, n);
}

int
nc_group_commit(nc_buf *out, const nc_group_state *cur, nc_group_state *next,
    const char *author, const uint8_t idsk[64])
{
	crypto_sign_state st;
	nc_buf state = NC_BUF_INIT;
	uint8_t sig[64];
	nc_enc e;
	int rc;

	if (cur) {
		memcpy(next->id, cur->id, NC_GROUP_ID);
		next->epoch = cur->epoch + 1;
		if ((rc = nc_group_hash(next->prev, cur)) != 0)
			return rc;
	} else {
		next->epoch = 0;
		memset(next->prev, 0, NC_GROUP_HASH);
	}
	if ((rc = nc_group_encode(next, &state)) != 0)
		goto done;
	nc_buf_reset(out);
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_bytes(&e, state.p, state.len);
	nc_put_str(&e, author);
	if ((rc = nc_enc_end(&e)) != 0)
		goto done;
	commit_msg(&st, out->p, out->len);
	crypto_sign_final_create(&st, sig, NULL, idsk);
	nc_enc_init(&e, out);
	nc_put_fixed(&e, sig, sizeof sig);
	rc = nc_enc_end(&e);
done:
	nc_buf_free(&state);
	return rc;
}

static int
refuse(const char *why)
{
	return nc_fail(NC_ESECURITY, "group commit: %s", why);
}

/* next == cur without author, nothing else changed */
static int
is_leave(const nc_group_state *cur, const nc_group_state *next, const char *author)
{
	uint32_t i, j = 0;

	if (strcmp(cur->name, next->name) != 0 || next->n + 1 != cur->n)
		return 0;
	for (i = 0; i < cur->n; i++) {
		if (strcmp(cur->m[i].addr, author) == 0)
			continue;
		if (j >= next->n || memcmp(&cur->m[i], &next->m[j], sizeof cur->m[i]) != 0)
			return 0;
		j++;
	}
	return 1;
}

int
nc_group_verify(nc_group_state *next, char author[NC_ADDR_MAX + 1],
    const nc_group_state *cur, const uint8_t *commit, size_t n)
{
	crypto_sign_state st;
	const nc_group_member *a;
	const uint8_t *state, *sig;
	uint8_t h[NC_GROUP_HASH];
	size_t sn, body;
	nc_dec d;
	int rc;

	memset(next, 0, sizeof *next);
	nc_dec_init(&d, commit, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "group commit version");
	state = nc_get_bytes(&d, STATE_ENC_MAX, &sn);
	nc_get_str(&d, author, NC_ADDR_MAX);
	body = d.pos;
	sig = nc_get_fixed(&d, 64);
	if (nc_dec_end(&d, "group commit") != 0)
		return NC_EDATA;
	if ((rc = nc_group_decode(next, state, sn)) != 0)
		return rc;
	if (cur == NULL) {
		static const uint8_t zero[NC_GROUP_HASH];
		a = nc_group_find(next, author);
		if (next->epoch != 0 || sodium_memcmp(next->prev, zero, NC_GROUP_HASH) != 0)
			rc = refuse("a new group starts at epoch 0");
		else if (a == NULL || a->role != NC_GROUP_ADMIN)
			rc = refuse("its creator is not its admin");
	} else {
		a = nc_group_find(cur, author);
		if (memcmp(next->id, cur->id, NC_GROUP_ID) != 0)
			rc = refuse("another group");
		else if (next->epoch != cur->epoch + 1)
			rc = next->epoch <= cur->epoch ? refuse("an old epoch (replayed)") :
			    refuse("an epoch skipped (a commit is missing)");
		else if ((rc = nc_group_hash(h, cur)) == 0 &&
		    sodium_memcmp(h, next->prev, NC_GROUP_HASH) != 0)
			rc = refuse("made on another state (the group was split)");
		else if (rc == 0 && a == NULL)
			rc = refuse("its author is not a member");
		else if (rc == 0 && a->role != NC_GROUP_ADMIN && !is_leave(cur, next, author))
			rc = refuse("its author is not an admin");
	}
	if (rc == 0) {
		commit_msg(&st, commit, body);
		if (crypto_sign_final_verify(&st, sig, a->idpk) != 0)
			rc = refuse("bad signature");
	}
	if (rc != 0)
		nc_group_free(next);
	return rc;
}

int
nc_group_commit_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	uint8_t ha[32], hb[32];
	int c;

	crypto_generichash(ha, sizeof ha, a, an, NULL, 0);
	crypto_generichash(hb, sizeof hb, b, bn, NULL, 0);
	c = memcmp(ha, hb, sizeof ha);
	return (c > 0) - (c < 0);
}

/* ---- sender keys ---- */

void
nc_skey_new(nc_skey *k, const nc_group_state *g)
{
	uint8_t seed[32];

	memset(k, 0, sizeof *k);
	memcpy(k->group, g->id, NC_GROUP_ID);
	k->epoch = g->epoch;
	nc_random(k->id, NC_SKEY_ID);
	nc_random(k->chain, sizeof k->chain);
	nc_random(seed, sizeof seed);
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
	sodium_memzero(seed, sizeof seed);
}

void
nc_skey_dist(uint8_t out[NC_SKEY_DIST_LEN], const nc_skey *k)
{
	uint8_t *p = out;

	*p++ = 1;
	memcpy(p, k->group, NC_GROUP_ID), p += NC_GROUP_ID;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(k->epoch >> (8 * i));
	memcpy(p, k->id, NC_SKEY_ID), p += NC_SKEY_ID;
	for (int i = 3; i >= 0; i--)
		*p++ = (uint8_t)(k->index >> (8 * i));
	memcpy(p, k->chain, 32), p += 32;
	memcpy(p, k->sign_pk, 32);
}

int
nc_skey_from_dist(nc_skey *k, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;

	memset(k, 0, sizeof *k);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "sender key version");
	if ((f = nc_get_fixed(&d, NC_GROUP_ID)) != NULL)
		memcpy(k->group, f, NC_GROUP_ID);
	k->epoch = nc_get_u64(&d);
	if ((f = nc_get_fixed(&d, NC_SKEY_ID)) != NULL)
		memcpy(k->id, f, NC_SKEY_ID);
	k->index = nc_get_u32(&d);
	if ((f = nc_get_fixed(&d, 32)) != NULL)
		memcpy(k->chain, f, 32);
	if ((f = nc_get_fixed(&d, 32)) != NULL)
		memcpy(k->sign_pk, f, 32);
	nc_dec_check(&d, d.err || crypto_core_ed25519_is_valid_point(k->sign_pk),
	    "sender key signing key");
	if (nc_dec_end(&d, "sender key") != 0) {
		sodium_memzero(k, sizeof *k);
		return NC_EDATA;
	}
	return 0;
}

void
nc_group_ref_encode(uint8_t out[NC_GROUP_REF_LEN], const nc_group_ref *r)
{
	uint8_t *p = out;

	*p++ = 1;
	memcpy(p, r->group, NC_GROUP_ID), p += NC_GROUP_ID;
	memcpy(p, r->key, NC_SKEY_ID), p += NC_SKEY_ID;
	for (int i = 3; i >= 0; i--)
		*p++ = (uint8_t)(r->index >> (8 * i));
	memcpy(p, r->hash, 32);
}

int
nc_group_ref_decode(nc_group_ref *r, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;

	memset(r, 0, sizeof *r);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "group message ref version");
	if ((f = nc_get_fixed(&d, NC_GROUP_ID)) != NULL)
		memcpy(r->group, f, NC_GROUP_ID);
	if ((f = nc_get_fixed(&d, NC_SKEY_ID)) != NULL)
		memcpy(r->key, f, NC_SKEY_ID);
	r->index = nc_get_u32(&d);
	if ((f = nc_get_fixed(&d, 32)) != NULL)
		memcpy(r->hash, f, 32);
	return nc_dec_end(&d, "group message ref");
}

/* One step of the chain: message key, then the next chain key. */
static void
chain_step(uint8_t mk[32], uint8_t chain[32])
{
	if (mk)
		crypto_generichash(mk, 32, (const uint8_t *)CHAIN_MSG, sizeof CHAIN_MSG - 1,
		    chain, 32);
	crypto_generichash(chain, 32, (const uint8_t *)CHAIN_NEXT, sizeof CHAIN_NEXT - 1,
	    chain, 32);
}

int
nc_skey_message_key(uint8_t mk[32], const nc_skey *k, uint32_t i)
{
	uint8_t c[32];
	uint32_t at;

	if (i < k->index || i - k->index > NC_SKEY_SKIP_MAX)
		return nc_fail(NC_ESECURITY, "group message: index %u is %s", i,
		    i < k->index ? "used already (a replay)" : "too far ahead");
	memcpy(c, k->chain, 32);
	for (at = k->index; at < i; at++)
		chain_step(NULL, c);
	chain_step(mk, c);
	sodium_memzero(c, sizeof c);
	return 0;
}

/* The associated data: label 0 || group || epoch || state hash || key id
 * || index. state: g's hash when the caller has it (NULL: computed here). */
#define AD_LEN (sizeof MSG_LABEL + NC_GROUP_ID + 8 + NC_GROUP_HASH + NC_SKEY_ID + 4)
static int
ad(uint8_t out[AD_LEN], const nc_group_state *g, const uint8_t *state,
    const uint8_t key[NC_SKEY_ID], uint32_t index)
{
	uint8_t *p = out;
	int rc;

	memcpy(p, MSG_LABEL, sizeof MSG_LABEL), p += sizeof MSG_LABEL;
	memcpy(p, g->id, NC_GROUP_ID), p += NC_GROUP_ID;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(g->epoch >> (8 * i));
	if (state != NULL)
		memcpy(p, state, NC_GROUP_HASH);
	else if ((rc = nc_group_hash(p, g)) != 0)
		return rc;
	p += NC_GROUP_HASH;
	memcpy(p, key, NC_SKEY_ID), p += NC_SKEY_ID;
	for (int i = 3; i >= 0; i--)
		*p++ = (uint8_t)(index >> (8 * i));
	return 0;
}

void
nc_group_blob_hash(uint8_t out[32], const uint8_t *blob, size_t n)
{
	crypto_generichash(out, 32, blob, n, (const uint8_t *)BLOB_KEY, sizeof BLOB_KEY - 1);
}

int
nc_group_seal(nc_buf *blob, nc_group_ref *ref, nc_skey *k, const nc_group_state *g,
    const uint8_t *plain, size_t n)
{
	return nc_group_seal_at(blob, ref, k, g, NULL, plain, n);
}

int
nc_group_seal_at(nc_buf *blob, nc_group_ref *ref, nc_skey *k, const nc_group_state *g,
    const uint8_t *state, const uint8_t *plain, size_t n)
{
	crypto_sign_state st;
	nc_buf inner = NC_SECBUF_INIT;
	uint8_t a[AD_LEN], mk[32], sig[64], *out;
	int rc;

	if (memcmp(k->group, g->id, NC_GROUP_ID) != 0 || k->epoch != g->epoch)
		return nc_fail(NC_ESOFTWARE, "group: a sender key of another epoch");
	if (n > NC_BUF_MAX / 2)
		return nc_fail(NC_EDATA, "group message too long");
	if ((rc = ad(a, g, state, k->id, k->index)) != 0)
		return rc;
	crypto_sign_init(&st);
	crypto_sign_update(&st, a, sizeof a);
	crypto_sign_update(&st, plain, n);
	crypto_sign_final_create(&st, sig, NULL, k->sign_sk);
	if ((rc = nc_buf_add(&inner, plain, n)) != 0 || (rc = nc_buf_add(&inner, sig, 64)) != 0)
		goto done;
	nc_buf_reset(blob);
	if ((rc = nc_buf_reserve(blob, 24 + inner.len + 16)) != 0)
		goto done;
	out = blob->p;
	nc_random(out, 24);
	ref->index = k->index;
	chain_step(mk, k->chain);
	k->index++;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 24, NULL, inner.p, inner.len,
	    a, sizeof a, NULL, out, mk);
	blob->len = 24 + inner.len + 16;
	memcpy(ref->group, g->id, NC_GROUP_ID);
	memcpy(ref->key, k->id, NC_SKEY_ID);
	nc_group_blob_hash(ref->hash, blob->p, blob->len);
done:
	sodium_memzero(mk, sizeof mk);
	nc_buf_free(&inner);
	return rc;
}

int
nc_group_open_with(nc_buf *plain, const uint8_t mk[32], const nc_skey *k,
    const nc_group_state *g, const nc_group_ref *ref, const uint8_t *blob, size_t n)
{
	return nc_group_open_with_at(plain, mk, k, g, NULL, ref, blob, n);
}

int
nc_group_open_with_at(nc_buf *plain, const uint8_t mk[32], const nc_skey *k,
    const nc_group_state *g, const uint8_t *state, const nc_group_ref *ref,
    const uint8_t *blob, size_t n)
{
	crypto_sign_state st;
	uint8_t a[AD_LEN], h[32];
	size_t len;
	int rc;

	if (memcmp(k->group, g->id, NC_GROUP_ID) != 0 || k->epoch != g->epoch ||
	    memcmp(ref->group, g->id, NC_GROUP_ID) != 0 || memcmp(ref->key, k->id, NC_SKEY_ID) != 0)
		return nc_fail(NC_ESECURITY, "group message: for another group, epoch or key");
	nc_group_blob_hash(h, blob, n);
	if (n < NC_GROUP_BLOB_OVERHEAD || sodium_memcmp(h, ref->hash, 32) != 0)
		return nc_fail(NC_ESECURITY, "group message: not the blob it names (tampered)");
	if ((rc = ad(a, g, state, k->id, ref->index)) != 0)
		return rc;
	nc_buf_reset(plain);
	if ((rc = nc_buf_reserve(plain, n - 24 - 16)) != 0)
		return rc;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain->p, NULL, NULL, blob + 24,
	    n - 24, a, sizeof a, blob, mk) != 0)
		/* (one upload per provider does not carry the sender's state
		 * hash: the AD holds ours, so a sender at another state of
		 * the epoch fails here) */
		return nc_fail(NC_ESECURITY, "group message: does not decrypt (tampered, "
		    "or sealed at another state of the epoch: the group was split)");
	len = n - 24 - 16 - 64;
	crypto_sign_init(&st);
	crypto_sign_update(&st, a, sizeof a);
	crypto_sign_update(&st, plain->p, len);
	if (crypto_sign_final_verify(&st, plain->p + len, k->sign_pk) != 0) {
		sodium_memzero(plain->p, n - 24 - 16);
		return nc_fail(NC_ESECURITY, "group message: bad signature (forged)");
	}
	plain->len = len;
	return 0;
}

int
nc_group_open(nc_buf *plain, nc_skey *k, const nc_group_state *g,
    const nc_group_ref *ref, const uint8_t *blob, size_t n)
{
	return nc_group_open_at(plain, k, g, NULL, ref, blob, n);
}

int
nc_group_open_at(nc_buf *plain, nc_skey *k, const nc_group_state *g,
    const uint8_t *state, const nc_group_ref *ref, const uint8_t *blob, size_t n)
{
	uint8_t mk[32];
	uint32_t at;
	int rc;

	if ((rc = nc_skey_message_key(mk, k, ref->index)) != 0)
		return rc;
	if ((rc = nc_group_open_with_at(plain, mk, k, g, state, ref, blob, n)) == 0) {
		for (at = k->index; at <= ref->index; at++)
			chain_step(NULL, k->chain);
		k->index = ref->index + 1;
	}
	sodium_memzero(mk, sizeof mk);
	return rc;
}
