/* seal.c - sealed sender (protocol.md 2.6): an ephemeral DH with the
 * recipient device's identity key hides the sender's static key; a
 * static-static DH chained into the next key proves it. Both keys are used
 * once (fresh ephemeral every time), so the nonces are zero. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "payload.h"
#include "rng.h"
#include "seal.h"
#include "wire.h"

#define SEAL_VERSION 1
#define SEAL_TYPE 0x50
#define CONTENT_TYPE 0x51
#define ENVELOPE_VERSION 1
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define STATIC_PT 33                   /* u8 0x03, fixed[32] dh_pk */
#define STATIC_CT (STATIC_PT + TAG)
#define HEAD (2 + 32 + STATIC_CT + 4)
#define AD0 33                         /* u8 1, envid, recipient device */
#define KIND_RATCHET 1
#define KIND_PREKEY 2

static const char eph_info[] = "newchat seal eph v1";         /* + 0x00 */
static const char static_info[] = "newchat seal static v1";   /* + 0x00 */
static const uint8_t zero_nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];

/* The shared ephemeral (nc_seal_share_begin), in sodium_malloc'd memory,
 * and the recipient keys it served: open addressing, at most SHARE_N of
 * them in 2 x SHARE_N slots, then a fresh ephemeral and an empty set. */
#define SHARE_N 1000
#define SHARE_SLOTS 2048
struct nc_sealshare {
	uint8_t sk[32], pk[32];
	size_t n;
	uint8_t used[SHARE_SLOTS];
	uint8_t rcpt[SHARE_SLOTS][32];
};

static int
share_fresh(struct nc_sealshare *sh)
{
	nc_random(sh->sk, sizeof sh->sk);
	memset(sh->used, 0, sizeof sh->used);
	sh->n = 0;
	return crypto_scalarmult_base(sh->pk, sh->sk);
}

int
nc_seal_share_begin(nc_device *d)
{
	struct nc_sealshare *sh;

	nc_seal_share_end(d);
	if ((sh = sodium_malloc(sizeof *sh)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if (share_fresh(sh) != 0) {
		sodium_free(sh);
		return nc_fail(NC_ESOFTWARE, "seal: bad ephemeral key");
	}
	d->share = sh;
	return 0;
}

void
nc_seal_share_end(nc_device *d)
{
	if (d->share != NULL) {
		sodium_free(d->share);   /* zeroes it before it unmaps */
		d->share = NULL;
	}
}

/* The shared ephemeral for rcpt_dh into e_sk, e_pk: 1; 0 when there is
 * none to share, or rcpt_dh had it already (two envelopes to one key
 * would have one key too). */
static int
share_take(struct nc_sealshare *sh, const uint8_t rcpt_dh[32],
    uint8_t e_sk[32], uint8_t e_pk[32])
{
	size_t i;

	if (sh == NULL || (sh->n == SHARE_N && share_fresh(sh) != 0))
		return 0;
	i = ((size_t)rcpt_dh[0] | (size_t)rcpt_dh[1] << 8) % SHARE_SLOTS;
	for (; sh->used[i]; i = (i + 1) % SHARE_SLOTS)
		if (memcmp(sh->rcpt[i], rcpt_dh, 32) == 0)
			return 0;
	sh->used[i] = 1;
	memcpy(sh->rcpt[i], rcpt_dh, 32);
	sh->n++;
	memcpy(e_sk, sh->sk, 32);
	memcpy(e_pk, sh->pk, 32);
	return 1;
}

/* ad0 = u8 1 || envid || recipient device id: the envelope's header, so
 * the relay can swap neither. */
static void
make_ad0(uint8_t ad[AD0], const uint8_t envid[16], const uint8_t rcpt[NC_DEVID_LEN])
{
	ad[0] = ENVELOPE_VERSION;
	memcpy(ad + 1, envid, 16);
	memcpy(ad + 17, rcpt, NC_DEVID_LEN);
}

/* (ck1, k1) = HKDF(salt 0, DH_e, "newchat seal eph v1" 0x00 || R || e). */
static int
eph_keys(uint8_t ck1[32], uint8_t k1[32], const uint8_t dh[32],
    const uint8_t rcpt_dh[32], const uint8_t e[32])
{
	uint8_t info[sizeof eph_info + 64], o[64];
	int rc;

	memcpy(info, eph_info, sizeof eph_info);
	memcpy(info + sizeof eph_info, rcpt_dh, 32);
	memcpy(info + sizeof eph_info + 32, e, 32);
	rc = nc_hkdf(o, sizeof o, NULL, 0, dh, 32, info, sizeof info);
	memcpy(ck1, o, 32);
	memcpy(k1, o + 32, 32);
	sodium_memzero(o, sizeof o);
	return rc;
}

/* k2 = HKDF(salt ck1, DH_s, "newchat seal static v1" 0x00 || s_ct). */
static int
static_key(uint8_t k2[32], const uint8_t ck1[32], const uint8_t dh[32],
    const uint8_t s_ct[STATIC_CT])
{
	uint8_t info[sizeof static_info + STATIC_CT];

	memcpy(info, static_info, sizeof static_info);
	memcpy(info + sizeof static_info, s_ct, STATIC_CT);
	return nc_hkdf(k2, 32, ck1, 32, dh, 32, info, sizeof info);
}

static void
put_cert(nc_enc *e, const nc_cert *c)
{
	nc_put_str(e, c->who.user);
	nc_put_fixed(e, c->who.identity, 32);
	nc_put_u64(e, c->devlist_version);
	nc_put_fixed(e, c->who.dev, NC_DEVID_LEN);
	nc_put_fixed(e, c->who.sign_pk, 32);
	nc_put_fixed(e, c->who.dh_pk, 32);
}

/* The content: version, type, certificate, kind, [X3DH header], message,
 * zeros up to the Padme size. */
static int
make_content(nc_buf *b, const nc_cert *cert, const nc_x3dh_hdr *hdr,
    const uint8_t *msg, size_t msglen)
{
	nc_enc e;
	size_t padded, size;
	int rc;

	/* Reserved once at its final size, so the plaintext is never left
	 * behind by a reallocation (the buffer is wiped, not guard-paged). */
	size = 2 + 2 + strlen(cert->who.user) + 32 + 8 + NC_DEVID_LEN + 64 + 1 +
	    (hdr ? 41 : 0) + 4 + msglen;
	if ((rc = nc_buf_reserve(b, nc_padme(size))) != 0)
		return rc;
	nc_enc_init(&e, b);
	nc_put_u8(&e, SEAL_VERSION);
	nc_put_u8(&e, CONTENT_TYPE);
	put_cert(&e, cert);
	nc_put_u8(&e, hdr ? KIND_PREKEY : KIND_RATCHET);
	if (hdr != NULL) {
		nc_put_fixed(&e, hdr->ek, 32);
		nc_put_u32(&e, hdr->spk_id);
		nc_put_u8(&e, hdr->has_otpk ? 1 : 0);
		nc_put_u32(&e, hdr->has_otpk ? hdr->otpk_id : 0);
	}
	nc_put_bytes(&e, msg, msglen);
	if ((rc = nc_enc_end(&e)) != 0)
		return rc;
	padded = nc_padme(b->len);
	if ((rc = nc_buf_reserve(b, padded - b->len)) != 0)
		return rc;
	memset(b->p + b->len, 0, padded - b->len);
	b->len = padded;
	return 0;
}

int
nc_seal(nc_buf *out, const nc_device *self, const nc_cert *cert,
    const uint8_t envid[16], const uint8_t rcpt_dev[NC_DEVID_LEN],
    const uint8_t rcpt_dh[32], const nc_x3dh_hdr *hdr,
    const uint8_t *msg, size_t msglen)
{
	nc_buf content = NC_BUF_INIT;
	uint8_t e_sk[32], e_pk[32], dh[32], ck1[32], k1[32], k2[32];
	uint8_t ad[AD0 + 32 + STATIC_CT], s_pt[STATIC_PT], *p;
	unsigned long long clen;
	int rc;

	if (memcmp(cert->who.dh_pk, self->dh_pk, 32) != 0 ||
	    memcmp(cert->who.dev, self->id, NC_DEVID_LEN) != 0 ||
	    memcmp(cert->who.sign_pk, self->sign_pk, 32) != 0)
		return nc_fail(NC_ESOFTWARE, "seal: certificate is not for this device");
	if (msglen > NC_SEALED_MAX)
		return nc_fail(NC_EDATA, "seal: message too long");
	if ((rc = make_content(&content, cert, hdr, msg, msglen)) != 0)
		goto out;
	if (HEAD + content.len + TAG > NC_SEALED_MAX) {
		rc = nc_fail(NC_EDATA, "seal: message too long");
		goto out;
	}
	if ((rc = nc_buf_reserve(out, HEAD + content.len + TAG)) != 0)
		goto out;
	if (!share_take(self->share, rcpt_dh, e_sk, e_pk)) {
		nc_random(e_sk, sizeof e_sk);
		if (crypto_scalarmult_base(e_pk, e_sk) != 0) {
			rc = nc_fail(NC_ESOFTWARE, "seal: bad ephemeral key");
			goto out;
		}
	}
	if ((rc = nc_dh(dh, e_sk, rcpt_dh)) != 0 ||
	    (rc = eph_keys(ck1, k1, dh, rcpt_dh, e_pk)) != 0 ||
	    (rc = nc_device_dh(dh, self, rcpt_dh)) != 0)
		goto out;
	p = out->p + out->len;
	p[0] = SEAL_VERSION;
	p[1] = SEAL_TYPE;
	memcpy(p + 2, e_pk, 32);
	make_ad0(ad, envid, rcpt_dev);
	memcpy(ad + AD0, e_pk, 32);
	s_pt[0] = NC_KT_DH_PK;
	memcpy(s_pt + 1, self->dh_pk, 32);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + 34, &clen, s_pt, sizeof s_pt,
	    ad, AD0 + 32, NULL, zero_nonce, k1);
	memcpy(ad + AD0 + 32, p + 34, STATIC_CT);
	if ((rc = static_key(k2, ck1, dh, p + 34)) != 0)
		goto out;
	p[34 + STATIC_CT] = (uint8_t)((content.len + TAG) >> 24);
	p[35 + STATIC_CT] = (uint8_t)((content.len + TAG) >> 16);
	p[36 + STATIC_CT] = (uint8_t)((content.len + TAG) >> 8);
	p[37 + STATIC_CT] = (uint8_t)(content.len + TAG);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + HEAD, &clen, content.p,
	    content.len, ad, sizeof ad, NULL, zero_nonce, k2);
	out->len += HEAD + content.len + TAG;
out:
	sodium_memzero(e_sk, sizeof e_sk);
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(ck1, sizeof ck1);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	if (content.p != NULL)
		sodium_memzero(content.p, content.cap);
	nc_buf_free(&content);
	return rc;
}

/* Strict parse of the opened content into u (pointers into p). */
static int
parse_content(nc_unsealed *u, const uint8_t *p, size_t n, const uint8_t s_dh[32])
{
	nc_dec d;
	const uint8_t *f;
	uint8_t id[NC_DEVID_LEN];
	int kind;

	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == SEAL_VERSION, "version");
	nc_dec_check(&d, nc_get_u8(&d) == CONTENT_TYPE, "type");
	nc_get_str(&d, u->cert.who.user, NC_ADDR_MAX);
	nc_dec_check(&d, nc_addr_valid(u->cert.who.user), "user");
	if ((f = nc_get_fixed(&d, 32)) != NULL)
		memcpy(u->cert.who.identity, f, 32);
	u->cert.devlist_version = nc_get_u64(&d);
	if ((f = nc_get_fixed(&d, NC_DEVID_LEN + 64)) != NULL) {
		memcpy(u->cert.who.dev, f, NC_DEVID_LEN);
		memcpy(u->cert.who.sign_pk, f + NC_DEVID_LEN, 32);
		memcpy(u->cert.who.dh_pk, f + NC_DEVID_LEN + 32, 32);
	}
	nc_devid(id, u->cert.who.sign_pk);
	nc_dec_check(&d, memcmp(id, u->cert.who.dev, NC_DEVID_LEN) == 0, "device id");
	/* The certificate's DH key is the one the static DH proved. */
	nc_dec_check(&d, sodium_memcmp(u->cert.who.dh_pk, s_dh, 32) == 0, "sender key");
	kind = nc_get_u8(&d);
	nc_dec_check(&d, kind == KIND_RATCHET || kind == KIND_PREKEY, "kind");
	if (kind == KIND_PREKEY) {
		u->prekey = 1;
		if ((f = nc_get_fixed(&d, 32)) != NULL)
			memcpy(u->hdr.ek, f, 32);
		u->hdr.spk_id = nc_get_u32(&d);
		u->hdr.has_otpk = nc_get_u8(&d);
		u->hdr.otpk_id = nc_get_u32(&d);
		nc_dec_check(&d, u->hdr.has_otpk == 0 || u->hdr.has_otpk == 1, "otpk");
		nc_dec_check(&d, u->hdr.has_otpk || u->hdr.otpk_id == 0, "otpk id");
	}
	u->msg = nc_get_bytes(&d, n, &u->msglen);
	/* Only zeros follow, up to exactly the Padme size. */
	nc_dec_check(&d, nc_padme(d.pos) == n, "padding length");
	nc_dec_check(&d, d.err || sodium_is_zero(p + d.pos, n - d.pos), "padding");
	d.pos = d.err ? d.pos : n;
	return nc_dec_end(&d, "sealed content");
}

int
nc_unseal(nc_unsealed *u, nc_buf *buf, const nc_device *self,
    const uint8_t envid[16], const uint8_t *s, size_t n)
{
	uint8_t dh[32], ck1[32], k1[32], k2[32], s_pt[STATIC_PT];
	uint8_t ad[AD0 + 32 + STATIC_CT];
	unsigned long long plen;
	size_t clen, old = buf->len;
	int rc;

	memset(u, 0, sizeof *u);
	if (n < HEAD + 256 + TAG || n > NC_SEALED_MAX || s[0] != SEAL_VERSION ||
	    s[1] != SEAL_TYPE)
		return nc_fail(NC_EDATA, "sealed: malformed");
	clen = (size_t)s[34 + STATIC_CT] << 24 | (size_t)s[35 + STATIC_CT] << 16 |
	    (size_t)s[36 + STATIC_CT] << 8 | s[37 + STATIC_CT];
	if (clen != n - HEAD)
		return nc_fail(NC_EDATA, "sealed: malformed");
	if ((rc = nc_buf_reserve(buf, clen)) != 0)
		return rc;
	make_ad0(ad, envid, self->id);
	memcpy(ad + AD0, s + 2, 32);
	memcpy(ad + AD0 + 32, s + 34, STATIC_CT);
	rc = NC_ESECURITY;
	if (nc_dh(dh, self->dh_sk, s + 2) != 0 ||
	    eph_keys(ck1, k1, dh, self->dh_pk, s + 2) != 0 ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(s_pt, &plen, NULL, s + 34,
	    STATIC_CT, ad, AD0 + 32, zero_nonce, k1) != 0 || s_pt[0] != NC_KT_DH_PK ||
	    nc_device_dh(dh, self, s_pt + 1) != 0 ||
	    static_key(k2, ck1, dh, s + 34) != 0 ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(buf->p + old, &plen, NULL,
	    s + HEAD, clen, ad, sizeof ad, zero_nonce, k2) != 0)
		rc = nc_fail(NC_ESECURITY, "sealed: failed authentication");
	else if (parse_content(u, buf->p + old, (size_t)plen, s_pt + 1) != 0) {
		sodium_memzero(buf->p + old, (size_t)plen);
		rc = nc_fail(NC_ESECURITY, "sealed: bad content");
	} else {
		buf->len = old + (size_t)plen;
		rc = 0;
	}
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(ck1, sizeof ck1);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	if (rc != 0)
		memset(u, 0, sizeof *u);
	return rc;
}

int
nc_cert_check(const nc_cert *c, const nc_devlist *l)
{
	int i;

	if (strcmp(c->who.user, l->user) != 0 ||
	    sodium_memcmp(c->who.identity, l->identity, 32) != 0)
		return nc_fail(NC_ESECURITY, "sender certificate: wrong user or identity key");
	if ((i = nc_devlist_find(l, c->who.dev)) >= 0 &&
	    sodium_memcmp(l->dev[i].sign_pk, c->who.sign_pk, 32) == 0 &&
	    sodium_memcmp(l->dev[i].dh_pk, c->who.dh_pk, 32) == 0)
		return 0;
	if (c->devlist_version > l->version)
		return nc_fail(NC_ETEMP, "sender certificate: newer device list (refetch)");
	return nc_fail(NC_ESECURITY, "sender certificate: device not in the device list");
}
