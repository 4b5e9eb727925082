/* x3dh.c - Signal's X3DH between two devices (protocol.md 2.3). */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "rng.h"
#include "wire.h"
#include "x3dh.h"

static const char sk_info[] = "newchat x3dh v1";
static const char ad_label[] = "newchat x3dh ad v1";       /* + 0x00 */
static const char replay_label[] = "newchat x3dh replay v1";   /* + 0x00 */

int
nc_dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	/* libsodium refuses small-order points and an all-zero result; check
	 * the result ourselves as well, so this never depends on that. */
	if (crypto_scalarmult(out, sk, pk) != 0 || sodium_is_zero(out, 32)) {
		sodium_memzero(out, 32);
		return nc_fail(NC_ESECURITY, "DH with a low-order key");
	}
	return 0;
}

static void
put_party(nc_enc *e, const nc_party *p)
{
	nc_put_str(e, p->user);
	nc_put_fixed(e, p->identity, 32);
	nc_put_fixed(e, p->dev, NC_DEVID_LEN);
	nc_put_fixed(e, p->dh_pk, 32);
}

/* AD = BLAKE2b-256(label 0x00 || initiator || responder). */
static int
make_ad(uint8_t ad[32], const nc_party *init, const nc_party *resp)
{
	nc_buf b = NC_BUF_INIT;
	nc_enc e;
	int rc;

	nc_enc_init(&e, &b);
	nc_put_fixed(&e, ad_label, sizeof ad_label);
	put_party(&e, init);
	put_party(&e, resp);
	if ((rc = nc_enc_end(&e)) == 0)
		crypto_generichash(ad, 32, b.p, b.len, NULL, 0);
	nc_buf_free(&b);
	return rc;
}

/* The parties must be what their device lists say (a device id is the
 * hash of its signing key) and self must be the device we hold. */
static int
check_parties(const nc_party *self, const nc_device *dev, const nc_party *peer)
{
	uint8_t id[NC_DEVID_LEN];

	if (!nc_addr_valid(self->user) || !nc_addr_valid(peer->user))
		return nc_fail(NC_EDATA, "x3dh: bad address");
	if (memcmp(self->dev, dev->id, NC_DEVID_LEN) != 0 ||
	    memcmp(self->dh_pk, dev->dh_pk, 32) != 0 ||
	    memcmp(self->sign_pk, dev->sign_pk, 32) != 0)
		return nc_fail(NC_ESOFTWARE, "x3dh: own party is not own device");
	nc_devid(id, peer->sign_pk);
	if (memcmp(id, peer->dev, NC_DEVID_LEN) != 0)
		return nc_fail(NC_ESECURITY, "x3dh: peer device id does not match its key");
	return 0;
}

/* SK = HKDF(salt 32 x 0, 32 x 0xFF || DH1 || DH2 || DH3 [|| DH4], info). */
static int
derive(uint8_t sk[32], uint8_t ikm[32 * 5], size_t ndh)
{
	uint8_t salt[32] = { 0 };
	int rc;

	memset(ikm, 0xff, 32);
	rc = nc_hkdf(sk, 32, salt, sizeof salt, ikm, 32 * (1 + ndh),
	    (const uint8_t *)sk_info, sizeof sk_info - 1);
	sodium_memzero(ikm, 32 * 5);
	return rc ? nc_fail(NC_ESOFTWARE, "x3dh: kdf failed") : 0;
}

int
nc_x3dh_initiate(nc_x3dh_out *out, const nc_party *self,
    const nc_device *self_dev, const nc_party *peer, const nc_bundle *b)
{
	uint8_t ikm[32 * 5], ek_sk[32];
	size_t ndh = b->has_otpk ? 4 : 3;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = check_parties(self, self_dev, peer)) != 0 ||
	    (rc = nc_spk_verify(peer->sign_pk, b->spk_id, b->spk_pk, b->spk_sig)) != 0)
		return rc;
	nc_random(ek_sk, sizeof ek_sk);
	if (crypto_scalarmult_base(out->hdr.ek, ek_sk) != 0)
		rc = nc_fail(NC_ESOFTWARE, "x3dh: bad ephemeral key");
	if (rc == 0)
		rc = nc_dh(ikm + 32, self_dev->dh_sk, b->spk_pk);
	if (rc == 0)
		rc = nc_dh(ikm + 64, ek_sk, peer->dh_pk);
	if (rc == 0)
		rc = nc_dh(ikm + 96, ek_sk, b->spk_pk);
	if (rc == 0 && b->has_otpk)
		rc = nc_dh(ikm + 128, ek_sk, b->otpk_pk);
	sodium_memzero(ek_sk, sizeof ek_sk);
	if (rc == 0)
		rc = derive(out->sk, ikm, ndh);
	sodium_memzero(ikm, sizeof ikm);
	if (rc == 0)
		rc = make_ad(out->ad, self, peer);
	if (rc != 0) {
		sodium_memzero(out, sizeof *out);
		return rc;
	}
	out->hdr.spk_id = b->spk_id;
	out->hdr.has_otpk = b->has_otpk ? 1 : 0;
	out->hdr.otpk_id = b->has_otpk ? b->otpk_id : 0;
	memcpy(out->spk_pk, b->spk_pk, 32);
	return 0;
}

int
nc_x3dh_respond(nc_x3dh_out *out, const nc_party *self,
    const nc_device *self_dev, const nc_spk *spk, const nc_otpk *otpk,
    const nc_party *peer, const nc_x3dh_hdr *hdr)
{
	uint8_t ikm[32 * 5];
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = check_parties(self, self_dev, peer)) != 0)
		return rc;
	if (hdr->spk_id != spk->id || (hdr->has_otpk != 0) != (otpk != NULL) ||
	    (otpk != NULL && hdr->otpk_id != otpk->id))
		return nc_fail(NC_ESOFTWARE, "x3dh: prekeys do not match the header");
	rc = nc_dh(ikm + 32, spk->sk, peer->dh_pk);
	if (rc == 0)
		rc = nc_dh(ikm + 64, self_dev->dh_sk, hdr->ek);
	if (rc == 0)
		rc = nc_dh(ikm + 96, spk->sk, hdr->ek);
	if (rc == 0 && otpk != NULL)
		rc = nc_dh(ikm + 128, otpk->sk, hdr->ek);
	if (rc == 0)
		rc = derive(out->sk, ikm, otpk != NULL ? 4 : 3);
	sodium_memzero(ikm, sizeof ikm);
	if (rc == 0)
		rc = make_ad(out->ad, peer, self);
	if (rc != 0) {
		sodium_memzero(out, sizeof *out);
		return rc;
	}
	out->hdr = *hdr;
	out->hdr.has_otpk = otpk != NULL;
	if (otpk == NULL)
		out->hdr.otpk_id = 0;
	memcpy(out->spk_pk, spk->pk, 32);
	return 0;
}

void
nc_x3dh_replay_tag(uint8_t tag[32], uint32_t spk_id, const uint8_t ek[32])
{
	uint8_t m[sizeof replay_label + 36], *q = m + sizeof replay_label;

	memcpy(m, replay_label, sizeof replay_label);
	q[0] = (uint8_t)(spk_id >> 24);
	q[1] = (uint8_t)(spk_id >> 16);
	q[2] = (uint8_t)(spk_id >> 8);
	q[3] = (uint8_t)spk_id;
	memcpy(q + 4, ek, 32);
	crypto_generichash(tag, 32, m, sizeof m, NULL, 0);
}
