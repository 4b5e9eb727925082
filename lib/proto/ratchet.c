/* ratchet.c - the Double Ratchet (protocol.md 2.4). Decryption is a
 * transaction: everything is computed into temporaries (new skipped keys go
 * past the end of the live list) and committed only after the AEAD has
 * accepted the message, so a failure leaves the state untouched.
 *
 * A session state lives only while one message is handled (the store
 * keeps it encrypted), so it is plain malloc'd memory wiped on every free
 * and reallocation: sodium_malloc's guard pages and mlock cost ~0.4 ms a
 * call here, more than the ratchet itself. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "ratchet.h"
#include "rng.h"
#include "wire.h"

#define RATCHET_VERSION 1
#define MSG_TYPE 0x30
#define STATE_TYPE 0x40
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

enum { HAS_DHR = 1, HAS_CKS = 2, HAS_CKR = 4, PENDING = 8, FLAGS_ALL = 15 };

static const char rk_info[] = "newchat ratchet root v1";

static void put32(uint8_t *, uint32_t);

typedef struct {
	uint8_t dh[32];     /* the sender's ratchet key of that chain */
	uint32_t n;         /* message number in that chain */
	uint32_t step;      /* st->step when it was stored (for expiry) */
	uint8_t mk[32];
} skipped;

struct nc_ratchet {
	uint8_t ad[32];
	uint8_t rk[32];
	uint8_t dhs_sk[32], dhs_pk[32];
	uint8_t dhr[32];
	uint8_t cks[32], ckr[32];
	uint32_t ns, nr, pn;
	uint32_t step;      /* receiving DH ratchet steps taken */
	uint32_t lost;      /* skipped keys expired or evicted: messages given up */
	uint8_t flags;
	nc_x3dh_hdr pend;   /* X3DH header while PENDING */
	skipped *sk;        /* oldest first; wiped when freed */
	uint32_t nsk, cap;
};

#define SKIP_CAP (NC_MAX_SKIP_TOTAL + 2 * NC_MAX_SKIP + 2)

/* KDF_RK: HKDF-SHA256(salt = rk, ikm = dh, info) -> rk', ck. */
static int
kdf_rk(uint8_t rk_out[32], uint8_t ck_out[32], const uint8_t rk[32],
    const uint8_t dh[32])
{
	uint8_t o[64];
	int rc;

	rc = nc_hkdf(o, sizeof o, rk, 32, dh, 32,
	    (const uint8_t *)rk_info, sizeof rk_info - 1);
	memcpy(rk_out, o, 32);
	memcpy(ck_out, o + 32, 32);
	sodium_memzero(o, sizeof o);
	return rc ? nc_fail(NC_ESOFTWARE, "ratchet: kdf failed") : 0;
}

/* KDF_CK: mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02); ck may alias ck_out. */
static void
kdf_ck(uint8_t mk[32], uint8_t ck_out[32], const uint8_t ck[32])
{
	static const uint8_t one = 1, two = 2;
	uint8_t next[32];

	crypto_auth_hmacsha256(mk, &one, 1, ck);
	crypto_auth_hmacsha256(next, &two, 1, ck);
	memcpy(ck_out, next, 32);
	sodium_memzero(next, sizeof next);
}

static nc_ratchet *
alloc_state(void)
{
	nc_ratchet *st;

	if ((st = calloc(1, sizeof *st)) == NULL) {
		nc_fail(NC_EOSERR, "out of memory");
		return NULL;
	}
	return st;
}

void
nc_ratchet_free(nc_ratchet *st)
{
	if (st == NULL)
		return;
	if (st->sk != NULL) {
		sodium_memzero(st->sk, (size_t)st->cap * sizeof *st->sk);
		free(st->sk);
	}
	sodium_memzero(st, sizeof *st);
	free(st);
}

/* Room for `need` skipped entries in all (live + pending). */
static int
reserve(nc_ratchet *st, uint32_t need)
{
	skipped *p;
	uint32_t cap;

	if (need <= st->cap)
		return 0;
	if (need > SKIP_CAP)
		return nc_fail(NC_ESOFTWARE, "ratchet: skipped-key store full");
	cap = st->cap ? st->cap * 2 : 64;
	if (cap < need)
		cap = need;
	if (cap > SKIP_CAP)
		cap = SKIP_CAP;
	if ((p = calloc(cap, sizeof *p)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if (st->sk != NULL) {
		/* live and pending entries alike: the caller may hold both */
		memcpy(p, st->sk, (size_t)st->cap * sizeof *p);
		sodium_memzero(st->sk, (size_t)st->cap * sizeof *st->sk);
		free(st->sk);
	}
	st->sk = p;
	st->cap = cap;
	return 0;
}

static int
new_dh(uint8_t pk[32], uint8_t sk[32])
{
	nc_random(sk, 32);
	if (crypto_scalarmult_base(pk, sk) != 0)
		return nc_fail(NC_ESOFTWARE, "ratchet: bad random key");
	return 0;
}

nc_ratchet *
nc_ratchet_init_initiator(const nc_x3dh_out *x)
{
	nc_ratchet *st;
	uint8_t dh[32];

	if ((st = alloc_state()) == NULL)
		return NULL;
	memcpy(st->ad, x->ad, 32);
	memcpy(st->dhr, x->spk_pk, 32);
	if (new_dh(st->dhs_pk, st->dhs_sk) != 0 ||
	    nc_dh(dh, st->dhs_sk, st->dhr) != 0 ||
	    kdf_rk(st->rk, st->cks, x->sk, dh) != 0) {
		sodium_memzero(dh, sizeof dh);
		nc_ratchet_free(st);
		return NULL;
	}
	sodium_memzero(dh, sizeof dh);
	st->flags = HAS_DHR | HAS_CKS | PENDING;
	st->pend = x->hdr;
	return st;
}

nc_ratchet *
nc_ratchet_init_responder(const nc_x3dh_out *x, const nc_spk *spk)
{
	nc_ratchet *st;

	if (sodium_memcmp(x->spk_pk, spk->pk, 32) != 0) {
		nc_fail(NC_ESOFTWARE, "ratchet: signed prekey mismatch");
		return NULL;
	}
	if ((st = alloc_state()) == NULL)
		return NULL;
	memcpy(st->ad, x->ad, 32);
	memcpy(st->rk, x->sk, 32);
	memcpy(st->dhs_sk, spk->sk, 32);
	memcpy(st->dhs_pk, spk->pk, 32);
	return st;
}

int
nc_ratchet_copy(nc_ratchet *dst, const nc_ratchet *src)
{
	skipped *p;
	uint32_t cap;
	int rc;

	if ((rc = reserve(dst, src->nsk)) != 0)
		return rc;   /* dst unchanged */
	p = dst->sk;
	cap = dst->cap;
	if (dst->nsk > src->nsk)
		sodium_memzero(p + src->nsk, (size_t)(dst->nsk - src->nsk) * sizeof *p);
	memcpy(dst, src, sizeof *dst);
	dst->sk = p;
	dst->cap = cap;
	if (src->nsk > 0)
		memcpy(dst->sk, src->sk, (size_t)src->nsk * sizeof *p);
	return 0;
}

int
nc_ratchet_pending(const nc_ratchet *st, nc_x3dh_hdr *hdr)
{
	if (!(st->flags & PENDING))
		return 0;
	if (hdr != NULL)
		*hdr = st->pend;
	return 1;
}

const uint8_t *
nc_ratchet_ad(const nc_ratchet *st)
{
	return st->ad;
}

uint32_t
nc_ratchet_missing(const nc_ratchet *st, uint32_t min_steps)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->nsk; i++)
		n += st->step - st->sk[i].step >= min_steps;
	return n;
}

int
nc_ratchet_missing_at(const nc_ratchet *st, uint32_t i, uint8_t id[16],
    uint32_t *age)
{
	uint8_t m[36];

	if (i >= st->nsk)
		return -1;
	memcpy(m, st->sk[i].dh, 32);
	put32(m + 32, st->sk[i].n);
	crypto_generichash(id, 16, m, sizeof m, NULL, 0);
	if (age != NULL)
		*age = st->step - st->sk[i].step;
	return 0;
}

uint32_t
nc_ratchet_lost(const nc_ratchet *st)
{
	return st->lost;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* AD for the AEAD: session AD || header. */
static void
make_aad(uint8_t aad[32 + NC_RATCHET_HDR_LEN], const uint8_t ad[32],
    const uint8_t *hdr)
{
	memcpy(aad, ad, 32);
	memcpy(aad + 32, hdr, NC_RATCHET_HDR_LEN);
}

int
nc_ratchet_encrypt(nc_ratchet *st, nc_buf *out, const uint8_t *pt, size_t n)
{
	uint8_t mk[32], aad[32 + NC_RATCHET_HDR_LEN], *m;
	uint8_t *hdr;
	unsigned long long clen;
	int rc;

	if (!(st->flags & HAS_CKS))
		return nc_fail(NC_ESOFTWARE, "ratchet: no sending chain yet");
	if (n > NC_RATCHET_PT_MAX)
		return nc_fail(NC_EDATA, "ratchet: message too long");
	if (st->ns == UINT32_MAX)
		return nc_fail(NC_EDATA, "ratchet: sending chain exhausted");
	if ((rc = nc_buf_reserve(out, NC_RATCHET_OVERHEAD + n)) != 0)
		return rc;
	m = out->p + out->len;
	hdr = m;
	hdr[0] = RATCHET_VERSION;
	hdr[1] = MSG_TYPE;
	memcpy(hdr + 2, st->dhs_pk, 32);
	put32(hdr + 34, st->pn);
	put32(hdr + 38, st->ns);
	nc_random(m + NC_RATCHET_HDR_LEN, NONCE_LEN);
	put32(m + NC_RATCHET_HDR_LEN + NONCE_LEN, (uint32_t)(n + TAG_LEN));
	make_aad(aad, st->ad, hdr);
	kdf_ck(mk, st->cks, st->cks);   /* the chain advances first */
	st->ns++;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    m + NC_RATCHET_HDR_LEN + NONCE_LEN + 4, &clen, pt, n, aad, sizeof aad,
	    NULL, m + NC_RATCHET_HDR_LEN, mk);
	sodium_memzero(mk, sizeof mk);
	out->len += NC_RATCHET_OVERHEAD + n;
	return 0;
}

/* A parsed ratchet message (pointers into the input). */
typedef struct {
	const uint8_t *hdr, *dh, *nonce, *ct;
	uint32_t pn, n;
	size_t ctlen;
} msg;

static int
parse(msg *m, const uint8_t *p, size_t len)
{
	if (len < NC_RATCHET_OVERHEAD || len > NC_RATCHET_OVERHEAD + NC_RATCHET_PT_MAX ||
	    p[0] != RATCHET_VERSION || p[1] != MSG_TYPE ||
	    get32(p + NC_RATCHET_HDR_LEN + NONCE_LEN) !=
	    len - NC_RATCHET_HDR_LEN - NONCE_LEN - 4)
		return nc_fail(NC_EDATA, "ratchet: malformed message");
	m->hdr = p;
	m->dh = p + 2;
	m->pn = get32(p + 34);
	m->n = get32(p + 38);
	m->nonce = p + NC_RATCHET_HDR_LEN;
	m->ct = p + NC_RATCHET_HDR_LEN + NONCE_LEN + 4;
	m->ctlen = len - NC_RATCHET_HDR_LEN - NONCE_LEN - 4;
	return 0;
}

/* Decrypt into out (appended) with mk; on success, accept() must agree.
 * On any failure out is restored to its old length (and wiped). */
static int
open_with(const nc_ratchet *st, const msg *m, const uint8_t mk[32],
    nc_buf *out, int (*accept)(const uint8_t *, size_t, void *), void *arg)
{
	uint8_t aad[32 + NC_RATCHET_HDR_LEN];
	unsigned long long plen;
	size_t old = out->len;
	int rc;

	if ((rc = nc_buf_reserve(out, m->ctlen)) != 0)
		return rc;
	make_aad(aad, st->ad, m->hdr);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->p + old, &plen, NULL,
	    m->ct, m->ctlen, aad, sizeof aad, m->nonce, mk) != 0)
		return nc_fail(NC_ESECURITY, "ratchet: message failed authentication");
	if (accept != NULL && (rc = accept(out->p + old, (size_t)plen, arg)) != 0) {
		sodium_memzero(out->p + old, (size_t)plen);
		return rc;
	}
	out->len = old + (size_t)plen;
	return 0;
}

/* Derive and append keys nr..until-1 of chain (dh, ck) as pending skipped
 * entries after the live ones; *added counts them. ck advances. */
static int
skip_keys(nc_ratchet *st, uint32_t *added, const uint8_t dh[32], uint8_t ck[32],
    uint32_t nr, uint32_t until, uint32_t step)
{
	int rc;

	if (until <= nr)
		return 0;
	if (until - nr > NC_MAX_SKIP)
		return nc_fail(NC_ESECURITY, "ratchet: too many skipped messages");
	if ((rc = reserve(st, st->nsk + *added + (until - nr))) != 0)
		return rc;
	for (uint32_t i = nr; i < until; i++) {
		skipped *e = &st->sk[st->nsk + *added];
		memcpy(e->dh, dh, 32);
		e->n = i;
		e->step = step;
		kdf_ck(e->mk, ck, ck);
		(*added)++;
	}
	return 0;
}

static void
drop_pending(nc_ratchet *st, uint32_t added)
{
	if (added > 0)
		sodium_memzero(&st->sk[st->nsk], (size_t)added * sizeof *st->sk);
}

/* Remove entries [i, i+k) keeping the order; wipe the freed tail. */
static void
remove_range(nc_ratchet *st, uint32_t i, uint32_t k)
{
	sodium_memzero(&st->sk[i], (size_t)k * sizeof *st->sk);
	memmove(&st->sk[i], &st->sk[i + k],
	    (size_t)(st->nsk - i - k) * sizeof *st->sk);
	st->nsk -= k;
	sodium_memzero(&st->sk[st->nsk], (size_t)k * sizeof *st->sk);
}

static void
count_lost(nc_ratchet *st, uint32_t n)
{
	st->lost = n > UINT32_MAX - st->lost ? UINT32_MAX : st->lost + n;
}

/* Commit pending entries; expire old ones; evict the oldest over the cap.
 * Both give a message up for good: counted, so the caller can report it. */
static void
commit_skipped(nc_ratchet *st, uint32_t added)
{
	uint32_t i, j;

	st->nsk += added;
	for (i = j = 0; i < st->nsk; i++) {
		if (st->step - st->sk[i].step > NC_SKIP_EXPIRE_STEPS)
			continue;
		if (i != j)
			st->sk[j] = st->sk[i];
		j++;
	}
	if (j < st->nsk) {
		sodium_memzero(&st->sk[j], (size_t)(st->nsk - j) * sizeof *st->sk);
		count_lost(st, st->nsk - j);
		st->nsk = j;
	}
	if (st->nsk > NC_MAX_SKIP_TOTAL) {
		count_lost(st, st->nsk - NC_MAX_SKIP_TOTAL);
		remove_range(st, 0, st->nsk - NC_MAX_SKIP_TOTAL);
	}
}

static int
find_skipped(const nc_ratchet *st, const msg *m)
{
	for (uint32_t i = 0; i < st->nsk; i++)
		if (st->sk[i].n == m->n && memcmp(st->sk[i].dh, m->dh, 32) == 0)
			return (int)i;
	return -1;
}

/* A message of the current receiving chain. */
static int
recv_same_chain(nc_ratchet *st, const msg *m, nc_buf *out,
    int (*accept)(const uint8_t *, size_t, void *), void *arg)
{
	uint8_t ck[32], mk[32];
	uint32_t added = 0;
	int rc;

	if (m->n < st->nr)
		return nc_fail(NC_ESECURITY, "ratchet: replayed or expired message");
	if (m->n == UINT32_MAX)
		return nc_fail(NC_EDATA, "ratchet: bad message number");
	memcpy(ck, st->ckr, 32);
	rc = skip_keys(st, &added, m->dh, ck, st->nr, m->n, st->step);
	if (rc == 0) {
		kdf_ck(mk, ck, ck);
		rc = open_with(st, m, mk, out, accept, arg);
		sodium_memzero(mk, sizeof mk);
	}
	if (rc != 0) {
		drop_pending(st, added);
		sodium_memzero(ck, sizeof ck);
		return rc;
	}
	memcpy(st->ckr, ck, 32);
	sodium_memzero(ck, sizeof ck);
	st->nr = m->n + 1;
	commit_skipped(st, added);
	return 0;
}

/* A message under a new ratchet key of the peer: a DH ratchet step. */
static int
recv_new_chain(nc_ratchet *st, const msg *m, nc_buf *out,
    int (*accept)(const uint8_t *, size_t, void *), void *arg)
{
	uint8_t old_ck[32], dh[32], rk1[32], ckr[32], mk[32];
	uint8_t nsk[32], npk[32], rk2[32], cks[32];
	uint32_t added = 0;
	int rc = 0;

	if (m->n == UINT32_MAX)
		return nc_fail(NC_EDATA, "ratchet: bad message number");
	/* The rest of the old receiving chain, up to what the peer says it sent. */
	if (st->flags & HAS_CKR) {
		memcpy(old_ck, st->ckr, 32);
		rc = skip_keys(st, &added, st->dhr, old_ck, st->nr, m->pn, st->step);
		sodium_memzero(old_ck, sizeof old_ck);
	}
	if (rc == 0)
		rc = nc_dh(dh, st->dhs_sk, m->dh);
	if (rc == 0)
		rc = kdf_rk(rk1, ckr, st->rk, dh);
	if (rc == 0)
		rc = skip_keys(st, &added, m->dh, ckr, 0, m->n, st->step + 1);
	if (rc == 0) {
		kdf_ck(mk, ckr, ckr);
		rc = open_with(st, m, mk, out, accept, arg);
		sodium_memzero(mk, sizeof mk);
	}
	/* Our next sending chain, computed before anything is committed. */
	if (rc == 0 && (rc = new_dh(npk, nsk)) == 0 &&
	    (rc = nc_dh(dh, nsk, m->dh)) == 0)
		rc = kdf_rk(rk2, cks, rk1, dh);
	if (rc == 0) {
		if (st->flags & HAS_CKS)
			st->pn = st->ns;
		st->ns = 0;
		st->nr = m->n + 1;
		memcpy(st->dhr, m->dh, 32);
		memcpy(st->ckr, ckr, 32);
		memcpy(st->rk, rk2, 32);
		memcpy(st->cks, cks, 32);
		memcpy(st->dhs_sk, nsk, 32);
		memcpy(st->dhs_pk, npk, 32);
		st->flags |= HAS_DHR | HAS_CKR | HAS_CKS;
		st->step++;
		commit_skipped(st, added);
	} else
		drop_pending(st, added);
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(rk1, sizeof rk1);
	sodium_memzero(ckr, sizeof ckr);
	sodium_memzero(nsk, sizeof nsk);
	sodium_memzero(rk2, sizeof rk2);
	sodium_memzero(cks, sizeof cks);
	return rc;
}

int
nc_ratchet_decrypt_if(nc_ratchet *st, nc_buf *out, const uint8_t *p, size_t len,
    int (*accept)(const uint8_t *, size_t, void *), void *arg)
{
	msg m;
	int i, rc;

	if ((rc = parse(&m, p, len)) != 0)
		return rc;
	if ((i = find_skipped(st, &m)) >= 0) {
		if ((rc = open_with(st, &m, st->sk[i].mk, out, accept, arg)) != 0)
			return rc;
		remove_range(st, (uint32_t)i, 1);
	} else if ((st->flags & HAS_DHR) && (st->flags & HAS_CKR) &&
	    sodium_memcmp(m.dh, st->dhr, 32) == 0) {
		rc = recv_same_chain(st, &m, out, accept, arg);
	} else if ((st->flags & HAS_DHR) && !(st->flags & HAS_CKR) &&
	    sodium_memcmp(m.dh, st->dhr, 32) == 0) {
		/* The initiator's first chain points at the responder's signed
		 * prekey; the peer cannot reuse it as its own ratchet key. */
		rc = nc_fail(NC_ESECURITY, "ratchet: message failed authentication");
	} else {
		rc = recv_new_chain(st, &m, out, accept, arg);
	}
	if (rc == 0)
		st->flags &= (uint8_t)~PENDING;   /* the peer has the session */
	return rc;
}

int
nc_ratchet_decrypt(nc_ratchet *st, nc_buf *out, const uint8_t *msg_, size_t n)
{
	return nc_ratchet_decrypt_if(st, out, msg_, n, NULL, NULL);
}

#define STATE_FIXED (2 + 4 * 32 + 1 + 3 * 32 + 5 * 4 + 2)
#define STATE_PENDING (32 + 4 + 1 + 4)
#define STATE_SKIPPED 72

int
nc_ratchet_save(const nc_ratchet *st, nc_buf *out)
{
	size_t size = STATE_FIXED + (size_t)st->nsk * STATE_SKIPPED +
	    (st->flags & PENDING ? STATE_PENDING : 0);
	nc_enc e;
	int rc;

	/* One reservation, so the state is written straight into out (a
	 * secret buffer is never copied through a temporary). */
	if ((rc = nc_buf_reserve(out, size)) != 0)
		return rc;
	nc_enc_init(&e, out);
	nc_put_u8(&e, RATCHET_VERSION);
	nc_put_u8(&e, STATE_TYPE);
	nc_put_fixed(&e, st->ad, 32);
	nc_put_fixed(&e, st->rk, 32);
	nc_put_fixed(&e, st->dhs_sk, 32);
	nc_put_fixed(&e, st->dhs_pk, 32);
	nc_put_u8(&e, st->flags);
	nc_put_fixed(&e, st->dhr, 32);
	nc_put_fixed(&e, st->cks, 32);
	nc_put_fixed(&e, st->ckr, 32);
	nc_put_u32(&e, st->ns);
	nc_put_u32(&e, st->nr);
	nc_put_u32(&e, st->pn);
	nc_put_u32(&e, st->step);
	nc_put_u32(&e, st->lost);
	if (st->flags & PENDING) {
		nc_put_fixed(&e, st->pend.ek, 32);
		nc_put_u32(&e, st->pend.spk_id);
		nc_put_u8(&e, st->pend.has_otpk ? 1 : 0);
		nc_put_u32(&e, st->pend.has_otpk ? st->pend.otpk_id : 0);
	}
	nc_put_u16(&e, (uint16_t)st->nsk);
	for (uint32_t i = 0; i < st->nsk; i++) {
		nc_put_fixed(&e, st->sk[i].dh, 32);
		nc_put_u32(&e, st->sk[i].n);
		nc_put_u32(&e, st->sk[i].step);
		nc_put_fixed(&e, st->sk[i].mk, 32);
	}
	return nc_enc_end(&e);
}

static void
get_key(nc_dec *d, uint8_t k[32])
{
	const uint8_t *f = nc_get_fixed(d, 32);

	if (f != NULL)
		memcpy(k, f, 32);
}

nc_ratchet *
nc_ratchet_load(const uint8_t *p, size_t n)
{
	nc_ratchet *st;
	nc_dec d;
	uint32_t nsk;

	if ((st = alloc_state()) == NULL)
		return NULL;
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == RATCHET_VERSION, "version");
	nc_dec_check(&d, nc_get_u8(&d) == STATE_TYPE, "type");
	get_key(&d, st->ad);
	get_key(&d, st->rk);
	get_key(&d, st->dhs_sk);
	get_key(&d, st->dhs_pk);
	st->flags = nc_get_u8(&d);
	nc_dec_check(&d, (st->flags & ~FLAGS_ALL) == 0, "flags");
	get_key(&d, st->dhr);
	get_key(&d, st->cks);
	get_key(&d, st->ckr);
	/* Absent keys are all zero, so every state has one encoding. */
	nc_dec_check(&d, (st->flags & HAS_DHR) || sodium_is_zero(st->dhr, 32), "dhr");
	nc_dec_check(&d, (st->flags & HAS_CKS) || sodium_is_zero(st->cks, 32), "cks");
	nc_dec_check(&d, (st->flags & HAS_CKR) || sodium_is_zero(st->ckr, 32), "ckr");
	st->ns = nc_get_u32(&d);
	st->nr = nc_get_u32(&d);
	st->pn = nc_get_u32(&d);
	st->step = nc_get_u32(&d);
	st->lost = nc_get_u32(&d);
	if (st->flags & PENDING) {
		get_key(&d, st->pend.ek);
		st->pend.spk_id = nc_get_u32(&d);
		st->pend.has_otpk = nc_get_u8(&d);
		st->pend.otpk_id = nc_get_u32(&d);
		nc_dec_check(&d, st->pend.has_otpk == 0 || st->pend.has_otpk == 1, "otpk");
		nc_dec_check(&d, st->pend.has_otpk || st->pend.otpk_id == 0, "otpk id");
	}
	nsk = nc_get_u16(&d);
	nc_dec_check(&d, nsk <= NC_MAX_SKIP_TOTAL, "skipped count");
	nc_dec_check(&d, nc_dec_left(&d) == (size_t)nsk * 72, "skipped keys");
	if (!d.err && nsk > 0 && reserve(st, nsk) != 0) {
		nc_ratchet_free(st);
		return NULL;
	}
	for (uint32_t i = 0; !d.err && i < nsk; i++) {
		skipped *e = &st->sk[i];
		get_key(&d, e->dh);
		e->n = nc_get_u32(&d);
		e->step = nc_get_u32(&d);
		get_key(&d, e->mk);
		nc_dec_check(&d, st->step - e->step <= NC_SKIP_EXPIRE_STEPS, "skipped step");
		st->nsk = i + 1;
	}
	if (nc_dec_end(&d, "ratchet state") != 0) {
		nc_ratchet_free(st);
		nc_fail(NC_EDATA, "ratchet state: malformed");
		return NULL;
	}
	return st;
}
