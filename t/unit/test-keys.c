/* test-keys.c - key encodings (type bytes, strictness), prekey signatures
 * and rotation, fingerprints, safety numbers; X3DH with and without a
 * one-time prekey, forged bundles, low-order keys, replay tags. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto-util.h"
#include "check.h"

/* Fingerprint of 32 x 0x01 and safety number of (alice@a.test, 32 x 0x01),
 * (bob@b.test, 32 x 0x02). */
#define KAT_FPR "0752 b271 0540 527d 4dec 22bb 4a55 70e3"
#define KAT_SAFETY "29090 68394 56699 45988 77019 37706 56242 73321 16273 28443 64055 58852"

static void
encodings(void)
{
	nc_buf b = NC_SECBUF_INIT;
	nc_idkey *k = nc_idkey_gen(), *k2;
	nc_device *d = nc_device_gen(), *d2;
	nc_spk s, s2;
	nc_otpk o, o2;
	uint8_t pk[32];

	CHECK_INT(nc_idkey_encode(k, &b), 0);
	CHECK_INT(b.len, NC_IDKEY_SK_ENC);
	CHECK(b.p[0] == 1 && b.p[1] == NC_KT_IDENTITY_SK);
	k2 = nc_idkey_decode(b.p, b.len);
	CHECK(k2 != NULL && memcmp(k2->pk, k->pk, 32) == 0 &&
	    memcmp(k2->sk, k->sk, 64) == 0);
	nc_idkey_free(k2);
	CHECK(nc_idkey_decode(b.p, b.len - 1) == NULL);
	b.p[1] = NC_KT_DEVICE_SK;   /* a key of another type is refused */
	CHECK(nc_idkey_decode(b.p, b.len) == NULL);
	nc_buf_reset(&b);

	CHECK_INT(nc_device_encode(d, &b), 0);
	CHECK_INT(b.len, NC_DEVICE_SK_ENC);
	d2 = nc_device_decode(b.p, b.len);
	CHECK(d2 != NULL && memcmp(d2, d, offsetof(nc_device, dhcache)) == 0);
	CHECK(d2 != NULL && d2->dhcache != NULL && d2->dhcache != d->dhcache);
	nc_device_free(d2);
	b.p[0] = 2;
	CHECK(nc_device_decode(b.p, b.len) == NULL);
	nc_buf_reset(&b);
	nc_devid(pk, d->sign_pk);
	CHECK_MEM(pk, d->id, 16);

	CHECK_INT(nc_spk_gen(&s, d, 9, 1000), 0);
	CHECK_INT(nc_spk_verify(d->sign_pk, 9, s.pk, s.sig), 0);
	CHECK_INT(nc_spk_verify(d->sign_pk, 10, s.pk, s.sig), NC_ESECURITY);
	CHECK_INT(nc_spk_verify(k->pk, 9, s.pk, s.sig), NC_ESECURITY);
	CHECK_INT(nc_spk_encode(&s, &b), 0);
	CHECK_INT(b.len, NC_SPK_SK_ENC);
	CHECK_INT(nc_spk_decode(&s2, b.p, b.len), 0);
	CHECK_MEM(&s2, &s, sizeof s);
	b.p[b.len - 70] ^= 1;   /* secret no longer matches the public key */
	CHECK_INT(nc_spk_decode(&s2, b.p, b.len), NC_EDATA);
	nc_buf_reset(&b);
	CHECK(!nc_spk_due(1000, 1000 + NC_SPK_ROTATE_SECS - 1));
	CHECK(nc_spk_due(1000, 1000 + NC_SPK_ROTATE_SECS));
	CHECK(!nc_spk_expired(1000, 1000 + NC_SPK_ROTATE_SECS));
	CHECK(nc_spk_expired(1000, 1000 + NC_SPK_ROTATE_SECS + NC_SPK_GRACE_SECS));
	CHECK(!nc_spk_due(1000, 10));   /* a clock going back does not rotate */

	CHECK_INT(nc_otpk_gen(&o, 77), 0);
	CHECK_INT(nc_otpk_encode(&o, &b), 0);
	CHECK_INT(b.len, NC_OTPK_SK_ENC);
	CHECK_INT(nc_otpk_decode(&o2, b.p, b.len), 0);
	CHECK_MEM(&o2, &o, sizeof o);
	CHECK_INT(nc_otpk_decode(&o2, b.p, b.len - 1), NC_EDATA);
	nc_buf_free(&b);

	nc_buf p = NC_BUF_INIT;
	CHECK_INT(nc_pk_encode(&p, NC_KT_SPK_PK, s.pk), 0);
	CHECK_INT(p.len, NC_PK_ENC);
	CHECK_INT(nc_pk_decode(pk, NC_KT_SPK_PK, p.p, p.len), 0);
	CHECK_MEM(pk, s.pk, 32);
	CHECK_INT(nc_pk_decode(pk, NC_KT_OTPK_PK, p.p, p.len), NC_EDATA);
	nc_buf_free(&p);
	nc_idkey_free(k);
	nc_device_free(d);
}

/* The static-DH cache gives what X25519 gives, for any number of peers,
 * and never keeps a refused key. */
static void
dhcache(void)
{
	nc_device *d = nc_device_gen();
	uint8_t sk[70][32], pk[70][32], want[32], got[32];
	static const uint8_t zero[32];
	int same = 0;

	for (int i = 0; i < 70; i++) {
		randombytes_buf(sk[i], 32);
		crypto_scalarmult_base(pk[i], sk[i]);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 70; i++) {
			CHECK_INT(nc_dh(want, d->dh_sk, pk[i]), 0);
			if (nc_device_dh(got, d, pk[i]) == 0 && memcmp(got, want, 32) == 0)
				same++;
		}
	CHECK_INT(same, 3 * 70);
	CHECK_INT(nc_device_dh(got, d, zero), NC_ESECURITY);
	CHECK_INT(nc_device_dh(got, d, zero), NC_ESECURITY);
	nc_device copy = *d;   /* a struct copy without the cache still works */
	copy.dhcache = NULL;
	CHECK_INT(nc_device_dh(got, &copy, pk[3]), 0);
	CHECK_INT(nc_dh(want, d->dh_sk, pk[3]), 0);
	CHECK_MEM(got, want, 32);
	sodium_memzero(&copy, sizeof copy);
	nc_device_free(d);
}

static void
numbers(void)
{
	uint8_t a[32], b[32];
	char f1[NC_FPR_LEN], f2[NC_FPR_LEN], s1[NC_SAFETY_LEN], s2[NC_SAFETY_LEN];

	memset(a, 1, 32);
	memset(b, 2, 32);
	nc_fingerprint(f1, a);
	nc_fingerprint(f2, b);
	CHECK_INT(strlen(f1), NC_FPR_LEN - 1);
	CHECK(f1[4] == ' ' && f1[9] == ' ' && strcmp(f1, f2) != 0);
	CHECK_INT(nc_safety_number(s1, "alice@a.test", a, "bob@b.test", b), 0);
	CHECK_INT(nc_safety_number(s2, "bob@b.test", b, "alice@a.test", a), 0);
	CHECK_STR(s1, s2);   /* order-independent */
	CHECK_INT(strlen(s1), NC_SAFETY_LEN - 1);
	int digits = 0, spaces = 0;
	for (const char *p = s1; *p; p++)
		*p == ' ' ? spaces++ : (*p >= '0' && *p <= '9' ? digits++ : 0);
	CHECK(digits == 60 && spaces == 11);
	b[31] ^= 1;   /* another key or another name: another number */
	CHECK_INT(nc_safety_number(s2, "bob@b.test", b, "alice@a.test", a), 0);
	CHECK(strcmp(s1, s2) != 0);
	b[31] ^= 1;
	CHECK_INT(nc_safety_number(s2, "bob@c.test", b, "alice@a.test", a), 0);
	CHECK(strcmp(s1, s2) != 0);
	/* Fixed inputs, fixed output: the algorithm cannot drift. */
	CHECK_STR(f1, KAT_FPR);
	CHECK_STR(s1, KAT_SAFETY);
}

static void
x3dh(int otpk)
{
	tuser a, b;
	nc_bundle bun;
	nc_x3dh_out xa, xb;
	uint8_t t1[32], t2[32];

	tuser_make(&a, "alice@a.test");
	tuser_make(&b, "bob@b.test");
	tbundle(&bun, &b, otpk);
	CHECK_INT(nc_x3dh_initiate(&xa, &a.party, a.dev, &b.party, &bun), 0);
	CHECK_INT(xa.hdr.has_otpk, otpk);
	CHECK_INT(nc_x3dh_respond(&xb, &b.party, b.dev, &b.spk,
	    otpk ? &b.otpk : NULL, &a.party, &xa.hdr), 0);
	CHECK_MEM(xa.sk, xb.sk, 32);
	CHECK_MEM(xa.ad, xb.ad, 32);
	CHECK(!sodium_is_zero(xa.sk, 32));
	CHECK_MEM(xa.spk_pk, b.spk.pk, 32);

	/* The replay tag is a function of (spk id, ephemeral) only. */
	nc_x3dh_replay_tag(t1, xa.hdr.spk_id, xa.hdr.ek);
	nc_x3dh_replay_tag(t2, xb.hdr.spk_id, xb.hdr.ek);
	CHECK_MEM(t1, t2, 32);
	nc_x3dh_out xc;
	CHECK_INT(nc_x3dh_initiate(&xc, &a.party, a.dev, &b.party, &bun), 0);
	nc_x3dh_replay_tag(t2, xc.hdr.spk_id, xc.hdr.ek);
	CHECK(memcmp(t1, t2, 32) != 0);
	CHECK(memcmp(xa.sk, xc.sk, 32) != 0);   /* fresh ephemeral, fresh SK */

	/* Another responder name: same keys, different AD (names are bound). */
	nc_party other = b.party;
	strcpy(other.user, "mallory@b.test");
	CHECK_INT(nc_x3dh_initiate(&xc, &a.party, a.dev, &other, &bun), 0);
	nc_x3dh_out xd;
	CHECK_INT(nc_x3dh_respond(&xd, &b.party, b.dev, &b.spk,
	    otpk ? &b.otpk : NULL, &a.party, &xc.hdr), 0);
	CHECK(memcmp(xc.ad, xd.ad, 32) != 0);

	/* Without the one-time prekey the responder derives another SK. */
	if (otpk) {
		nc_x3dh_hdr h = xa.hdr;
		h.has_otpk = 0;
		h.otpk_id = 0;
		CHECK_INT(nc_x3dh_respond(&xd, &b.party, b.dev, &b.spk, NULL,
		    &a.party, &h), 0);
		CHECK(memcmp(xd.sk, xa.sk, 32) != 0);
	}
	tuser_free(&a);
	tuser_free(&b);
}

static void
x3dh_refused(void)
{
	tuser a, b;
	nc_bundle bun;
	nc_x3dh_out x;
	/* A point of order 8 and the all-zero point. */
	static const uint8_t low[32] = { 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8,
	    0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d,
	    0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8,
	    0x00 };
	static const uint8_t zero[32];

	tuser_make(&a, "alice@a.test");
	tuser_make(&b, "bob@b.test");
	tbundle(&bun, &b, 1);
	bun.spk_sig[5] ^= 1;   /* wrong signature on the signed prekey */
	CHECK_INT(nc_x3dh_initiate(&x, &a.party, a.dev, &b.party, &bun), NC_ESECURITY);
	CHECK(sodium_is_zero((uint8_t *)&x, sizeof x));
	tbundle(&bun, &b, 1);
	bun.spk_id++;          /* signature is over the id too */
	CHECK_INT(nc_x3dh_initiate(&x, &a.party, a.dev, &b.party, &bun), NC_ESECURITY);
	tbundle(&bun, &b, 1);
	memcpy(bun.spk_pk, a.spk.pk, 32);   /* someone else's prekey */
	CHECK_INT(nc_x3dh_initiate(&x, &a.party, a.dev, &b.party, &bun), NC_ESECURITY);
	/* A low-order one-time prekey (not signed) is refused by the DH check. */
	tbundle(&bun, &b, 1);
	memcpy(bun.otpk_pk, low, 32);
	CHECK_INT(nc_x3dh_initiate(&x, &a.party, a.dev, &b.party, &bun), NC_ESECURITY);
	memcpy(bun.otpk_pk, zero, 32);
	CHECK_INT(nc_x3dh_initiate(&x, &a.party, a.dev, &b.party, &bun), NC_ESECURITY);
	/* The responder refuses a low-order ephemeral key. */
	nc_x3dh_hdr h = { { 0 }, b.spk.id, 0, 0 };
	memcpy(h.ek, low, 32);
	CHECK_INT(nc_x3dh_respond(&x, &b.party, b.dev, &b.spk, NULL, &a.party, &h),
	    NC_ESECURITY);
	/* A peer whose device id is not its key's hash. */
	nc_party p = b.party;
	p.dev[0] ^= 1;
	tbundle(&bun, &b, 0);
	CHECK_INT(nc_x3dh_initiate(&x, &a.party, a.dev, &p, &bun), NC_ESECURITY);
	/* Prekeys that do not match the header. */
	h.has_otpk = 1;
	h.otpk_id = 41;
	memcpy(h.ek, a.dev->dh_pk, 32);
	CHECK(nc_x3dh_respond(&x, &b.party, b.dev, &b.spk, &b.otpk, &a.party, &h) != 0);
	CHECK(nc_x3dh_respond(&x, &b.party, b.dev, &b.spk, NULL, &a.party, &h) != 0);
	/* nc_dh itself. */
	uint8_t out[32];
	CHECK_INT(nc_dh(out, a.dev->dh_sk, low), NC_ESECURITY);
	CHECK(sodium_is_zero(out, 32));
	CHECK_INT(nc_dh(out, a.dev->dh_sk, b.dev->dh_pk), 0);
	tuser_free(&a);
	tuser_free(&b);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	encodings();
	dhcache();
	numbers();
	x3dh(1);
	x3dh(0);
	x3dh_refused();
	return check_done("keys");
}
