/* gbatch.c - a group message's batch for one relay and its sealed
 * per-device headers (gbatch.h, protocol.md 1.6.1, 2.7.1). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "gbatch.h"
#include "rng.h"
#include "wire.h"

#define LABEL "newchat group header v1"

/* The header's one-time key from the DH result, the ephemeral key and the
 * device's key; its associated data. */
static void
hdr_key(uint8_t k[32], const uint8_t ss[32], const uint8_t epk[32],
    const uint8_t pk[32])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, ss, 32, 32);
	crypto_generichash_update(&h, (const uint8_t *)LABEL, sizeof LABEL);
	crypto_generichash_update(&h, epk, 32);
	crypto_generichash_update(&h, pk, 32);
	crypto_generichash_final(&h, k, 32);
	sodium_memzero(&h, sizeof h);
}

static void
hdr_ad(uint8_t ad[NC_ENVID_LEN + NC_DEVID_LEN + 32], const uint8_t envid[NC_ENVID_LEN],
    const uint8_t dev[NC_DEVID_LEN], const uint8_t blobhash[32])
{
	memcpy(ad, envid, NC_ENVID_LEN);
	memcpy(ad + NC_ENVID_LEN, dev, NC_DEVID_LEN);
	memcpy(ad + NC_ENVID_LEN + NC_DEVID_LEN, blobhash, 32);
}

static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

void
nc_gb_eph(uint8_t esk[32], uint8_t epk[32])
{
	nc_random(esk, 32);
	crypto_scalarmult_base(epk, esk);
}

int
nc_gb_header_seal(uint8_t out[NC_GB_HDR_LEN], const uint8_t esk[32],
    const uint8_t epk[32], const uint8_t envid[NC_ENVID_LEN],
    const uint8_t dev[NC_DEVID_LEN], const uint8_t dh_pk[32],
    const uint8_t blobhash[32], const nc_gb_ref *r)
{
	uint8_t ss[32], k[32], pt[NC_GB_REF_LEN];
	uint8_t ad[NC_ENVID_LEN + NC_DEVID_LEN + 32];
	int rc = 0;

	memcpy(out, epk, 32);
	if (crypto_scalarmult(ss, esk, dh_pk) != 0) {
		rc = nc_fail(NC_EDATA, "group header: the device's key is not usable");
		goto out;
	}
	hdr_key(k, ss, epk, dh_pk);
	memcpy(pt, r->group, NC_GROUP_ID);
	memcpy(pt + NC_GROUP_ID, r->key, NC_SKEY_ID);
	pt[NC_GROUP_ID + NC_SKEY_ID] = (uint8_t)(r->index >> 24);
	pt[NC_GROUP_ID + NC_SKEY_ID + 1] = (uint8_t)(r->index >> 16);
	pt[NC_GROUP_ID + NC_SKEY_ID + 2] = (uint8_t)(r->index >> 8);
	pt[NC_GROUP_ID + NC_SKEY_ID + 3] = (uint8_t)r->index;
	hdr_ad(ad, envid, dev, blobhash);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 32, NULL, pt, sizeof pt,
	    ad, sizeof ad, NULL, zero_nonce, k);
out:
	sodium_memzero(ss, sizeof ss);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pt, sizeof pt);
	return rc;
}

struct pk_at {
	const uint8_t *pk;
	size_t i;
};

static int
by_pk(const void *a, const void *b)
{
	const struct pk_at *x = a, *y = b;
	int c = memcmp(x->pk, y->pk, 32);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

int
nc_gb_seal_all(uint8_t (*hdr)[NC_GB_HDR_LEN], const uint8_t *const *dev,
    const uint8_t *const *pk, size_t n, const uint8_t envid[NC_ENVID_LEN],
    const uint8_t blobhash[32], const nc_gb_ref *r)
{
	struct pk_at *o;
	uint8_t esk[32], epk[32], esk1[32], epk1[32];
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((o = malloc(n * sizeof *o)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	for (i = 0; i < n; i++) {
		o[i].pk = pk[i];
		o[i].i = i;
	}
	qsort(o, n, sizeof *o, by_pk);
	nc_gb_eph(esk, epk);
	for (i = 0; i < n && rc == 0; i++) {
		size_t at = o[i].i;

		if (i > 0 && memcmp(o[i].pk, o[i - 1].pk, 32) == 0) {
			/* the same key twice: its own ephemeral */
			nc_gb_eph(esk1, epk1);
			rc = nc_gb_header_seal(hdr[at], esk1, epk1, envid, dev[at],
			    pk[at], blobhash, r);
		} else
			rc = nc_gb_header_seal(hdr[at], esk, epk, envid, dev[at],
			    pk[at], blobhash, r);
	}
	sodium_memzero(esk, sizeof esk);
	sodium_memzero(esk1, sizeof esk1);
	free(o);
	return rc;
}

int
nc_gb_header_open(nc_gb_ref *r, const uint8_t hdr[NC_GB_HDR_LEN],
    const uint8_t envid[NC_ENVID_LEN], const uint8_t dev[NC_DEVID_LEN],
    const uint8_t dh_sk[32], const uint8_t dh_pk[32], const uint8_t blobhash[32])
{
	uint8_t ss[32], k[32], pt[NC_GB_REF_LEN];
	uint8_t ad[NC_ENVID_LEN + NC_DEVID_LEN + 32];
	const uint8_t *x = pt + NC_GROUP_ID + NC_SKEY_ID;
	int rc = 0;

	memset(r, 0, sizeof *r);
	if (crypto_scalarmult(ss, dh_sk, hdr) != 0) {
		rc = nc_fail(NC_ESECURITY, "group header: a bad ephemeral key");
		goto out;
	}
	hdr_key(k, ss, hdr, dh_pk);
	hdr_ad(ad, envid, dev, blobhash);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, hdr + 32,
	    NC_GB_HDR_LEN - 32, ad, sizeof ad, zero_nonce, k) != 0) {
		rc = nc_fail(NC_ESECURITY, "group header: not for this device, "
		    "or tampered");
		goto out;
	}
	memcpy(r->group, pt, NC_GROUP_ID);
	memcpy(r->key, pt + NC_GROUP_ID, NC_SKEY_ID);
	r->index = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
	    (uint32_t)x[2] << 8 | x[3];
out:
	sodium_memzero(ss, sizeof ss);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pt, sizeof pt);
	return rc;
}

int
nc_gb_batch_enc(nc_buf *b, const nc_gb_batch *g)
{
	nc_enc e;
	size_t total = 0;

	if (g->bloblen < 1 || g->bloblen > NC_GB_BLOB_MAX || g->nusers < 1 ||
	    g->nusers > NC_GB_USERS_MAX)
		return nc_fail(NC_EDATA, "group batch: bad blob size or user count");
	nc_enc_init(&e, b);
	nc_put_u8(&e, 1);
	nc_put_bytes(&e, g->blob, g->bloblen);
	nc_put_u16(&e, g->nusers);
	for (uint16_t i = 0; i < g->nusers; i++) {
		const nc_gb_user *u = &g->user[i];

		total += u->n;
		if (!nc_name_valid(u->name) || (i > 0 &&
		    strcmp(g->user[i - 1].name, u->name) >= 0) || u->n < 1 || u->n > NC_GB_DEVS_MAX ||
		    total > NC_GB_MAX || (size_t)u->first + u->n > NC_GB_MAX)
			return nc_fail(NC_EDATA, "group batch: bad user or device count");
		nc_put_str(&e, u->name);
		nc_put_u64(&e, u->version);
		nc_put_u8(&e, (uint8_t)u->n);
		for (uint16_t j = u->first; j < u->first + u->n; j++) {
			nc_put_fixed(&e, g->mbox[j].dev, NC_DEVID_LEN);
			nc_put_fixed(&e, g->mbox[j].hdr, NC_GB_HDR_LEN);
		}
	}
	if (nc_enc_end(&e) != 0)
		return nc_fail(NC_EDATA, "group batch: cannot encode");
	return 0;
}

int
nc_gb_batch_dec(nc_gb_batch *g, const uint8_t *p, size_t n)
{
	nc_dec d;
	uint16_t i, j;
	uint8_t nd;

	g->nusers = g->nmbox = 0;
	g->too_many = 0;
	g->blob = NULL;
	g->bloblen = 0;
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
	g->blob = nc_get_bytes(&d, NC_GB_BLOB_MAX, &g->bloblen);
	nc_dec_check(&d, g->bloblen >= 1, "empty blob");
	i = nc_get_u16(&d);
	if (!d.err && i > NC_GB_USERS_MAX)
		g->too_many = 1;
	nc_dec_check(&d, i >= 1 && i <= NC_GB_USERS_MAX, "user count");
	for (j = 0; !d.err && j < i; j++) {
		nc_gb_user *u = &g->user[j];

		nc_get_str(&d, u->name, NC_USER_MAX);
		nc_dec_check(&d, nc_name_valid(u->name), "user name");
		/* ascending: one encoding, and the order a relay locks them in */
		nc_dec_check(&d, j == 0 || strcmp(g->user[j - 1].name, u->name) < 0,
		    "users not in order");
		u->version = nc_get_u64(&d);
		nd = nc_get_u8(&d);
		nc_dec_check(&d, nd >= 1 && nd <= NC_GB_DEVS_MAX, "device count");
		if (!d.err && g->nmbox + nd > NC_GB_MAX) {
			g->too_many = 1;
			nc_dec_check(&d, 0, "mailbox count");
		}
		u->first = g->nmbox;
		u->n = d.err ? 0 : nd;
		for (uint8_t k = 0; !d.err && k < nd; k++) {
			nc_gb_mbox *m = &g->mbox[g->nmbox];

			m->dev = nc_get_fixed(&d, NC_DEVID_LEN);
			m->hdr = nc_get_fixed(&d, NC_GB_HDR_LEN);
			if (!d.err)
				g->nmbox++;
		}
		if (!d.err)
			g->nusers++;
	}
	if (nc_dec_end(&d, "group batch") != 0) {
		g->nusers = g->nmbox = 0;
		return NC_EDATA;
	}
	return 0;
}

void
nc_gb_entry_head(uint8_t out[NC_GB_ENTRY_HEAD], const uint8_t envid[NC_ENVID_LEN],
    const uint8_t dev[NC_DEVID_LEN], const uint8_t hdr[NC_GB_HDR_LEN], size_t bloblen)
{
	uint8_t *o = out;

	*o++ = NC_GB_ENVELOPE_VERSION;
	memcpy(o, envid, NC_ENVID_LEN);
	o += NC_ENVID_LEN;
	memcpy(o, dev, NC_DEVID_LEN);
	o += NC_DEVID_LEN;
	memcpy(o, hdr, NC_GB_HDR_LEN);
	o += NC_GB_HDR_LEN;
	*o++ = (uint8_t)(bloblen >> 24);
	*o++ = (uint8_t)(bloblen >> 16);
	*o++ = (uint8_t)(bloblen >> 8);
	*o = (uint8_t)bloblen;
}

int
nc_gb_entry_dec(nc_gb_entry *e, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;

	memset(e, 0, sizeof *e);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == NC_GB_ENVELOPE_VERSION, "version");
	if ((f = nc_get_fixed(&d, NC_ENVID_LEN)) != NULL)
		memcpy(e->envid, f, NC_ENVID_LEN);
	if ((f = nc_get_fixed(&d, NC_DEVID_LEN)) != NULL)
		memcpy(e->dev, f, NC_DEVID_LEN);
	e->hdr = nc_get_fixed(&d, NC_GB_HDR_LEN);
	e->blob = nc_get_bytes(&d, NC_GB_BLOB_MAX, &e->bloblen);
	nc_dec_check(&d, e->bloblen >= 1, "empty blob");
	if (nc_dec_end(&d, "group envelope") != 0) {
		memset(e, 0, sizeof *e);
		return NC_EDATA;
	}
	return 0;
}
