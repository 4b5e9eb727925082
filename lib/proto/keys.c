/* keys.c - identity, device and prekeys; fingerprints and safety numbers
 * (protocol.md 2.2). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "keys.h"
#include "rng.h"
#include "wire.h"
#include "x3dh.h"

#define KEYS_VERSION 1
#define DHCACHE_N 64
static const char spk_label[] = "newchat spk v1";   /* + 0x00 */

/* Locked, guarded memory, zeroed (buf.h). */
static void *
secure_new(size_t n)
{
	void *p = nc_secmem_alloc(n);

	if (p == NULL)
		nc_fail(NC_EOSERR, "out of memory");
	return p;
}

/* Start of every secret-key decoding: length, version, type. */
static int
check_head(const uint8_t *p, size_t n, size_t want, int type, const char *what)
{
	if (n != want || p[0] != KEYS_VERSION || p[1] != type)
		return nc_fail(NC_EDATA, "%s: malformed key", what);
	return 0;
}

static int
put_secret(nc_buf *out, const uint8_t *p, size_t n)
{
	return nc_buf_add(out, p, n);
}

nc_idkey *
nc_idkey_gen(void)
{
	nc_idkey *k;
	uint8_t seed[32];

	if ((k = secure_new(sizeof *k)) == NULL)
		return NULL;
	nc_random(seed, sizeof seed);
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_memzero(seed, sizeof seed);
	return k;
}

int
nc_idkey_encode(const nc_idkey *k, nc_buf *out)
{
	uint8_t b[NC_IDKEY_SK_ENC];
	int rc;

	b[0] = KEYS_VERSION;
	b[1] = NC_KT_IDENTITY_SK;
	crypto_sign_ed25519_sk_to_seed(b + 2, k->sk);
	rc = put_secret(out, b, sizeof b);
	sodium_memzero(b, sizeof b);
	return rc;
}

nc_idkey *
nc_idkey_decode(const uint8_t *p, size_t n)
{
	nc_idkey *k;

	if (check_head(p, n, NC_IDKEY_SK_ENC, NC_KT_IDENTITY_SK, "identity key") != 0)
		return NULL;
	if ((k = secure_new(sizeof *k)) == NULL)
		return NULL;
	crypto_sign_seed_keypair(k->pk, k->sk, p + 2);
	return k;
}

void
nc_idkey_free(nc_idkey *k)
{
	nc_secmem_free(k, sizeof *k);   /* wipes; NULL is fine */
}

/* Round-robin: a flood of envelopes from strangers can only evict. */
struct nc_dhcache {
	uint32_t next;
	struct {
		uint8_t own[32], peer[32], dh[32];
		int used;
	} e[DHCACHE_N];
};

int
nc_device_dh(uint8_t out[32], const nc_device *d, const uint8_t peer[32])
{
	struct nc_dhcache *c = d->dhcache;
	int rc;

	if (c != NULL)
		for (int i = 0; i < DHCACHE_N; i++)
			if (c->e[i].used && memcmp(c->e[i].peer, peer, 32) == 0 &&
			    memcmp(c->e[i].own, d->dh_pk, 32) == 0) {
				memcpy(out, c->e[i].dh, 32);
				return 0;
			}
	if ((rc = nc_dh(out, d->dh_sk, peer)) != 0 || c == NULL)
		return rc;
	memcpy(c->e[c->next].own, d->dh_pk, 32);
	memcpy(c->e[c->next].peer, peer, 32);
	memcpy(c->e[c->next].dh, out, 32);
	c->e[c->next].used = 1;
	c->next = (c->next + 1) % DHCACHE_N;
	return 0;
}

static int
device_fill(nc_device *d, const uint8_t seed[32], const uint8_t dh_sk[32])
{
	crypto_sign_seed_keypair(d->sign_pk, d->sign_sk, seed);
	memcpy(d->dh_sk, dh_sk, 32);
	if (crypto_scalarmult_base(d->dh_pk, d->dh_sk) != 0)
		return nc_fail(NC_EDATA, "device key: bad DH key");
	nc_devid(d->id, d->sign_pk);
	if ((d->dhcache = secure_new(sizeof *d->dhcache)) == NULL)
		return NC_EOSERR;
	return 0;
}

nc_device *
nc_device_gen(void)
{
	nc_device *d;
	uint8_t s[64];
	int rc;

	if ((d = secure_new(sizeof *d)) == NULL)
		return NULL;
	nc_random(s, sizeof s);
	rc = device_fill(d, s, s + 32);
	sodium_memzero(s, sizeof s);
	if (rc != 0) {
		nc_device_free(d);
		return NULL;
	}
	return d;
}

int
nc_device_encode(const nc_device *d, nc_buf *out)
{
	uint8_t b[NC_DEVICE_SK_ENC];
	int rc;

	b[0] = KEYS_VERSION;
	b[1] = NC_KT_DEVICE_SK;
	crypto_sign_ed25519_sk_to_seed(b + 2, d->sign_sk);
	memcpy(b + 34, d->dh_sk, 32);
	rc = put_secret(out, b, sizeof b);
	sodium_memzero(b, sizeof b);
	return rc;
}

nc_device *
nc_device_decode(const uint8_t *p, size_t n)
{
	nc_device *d;

	if (check_head(p, n, NC_DEVICE_SK_ENC, NC_KT_DEVICE_SK, "device key") != 0)
		return NULL;
	if ((d = secure_new(sizeof *d)) == NULL)
		return NULL;
	if (device_fill(d, p + 2, p + 34) != 0) {
		nc_device_free(d);
		return NULL;
	}
	return d;
}

void
nc_device_free(nc_device *d)
{
	if (d == NULL)
		return;
	nc_secmem_free(d->dhcache, sizeof *d->dhcache);   /* wipes */
	sodium_free(d->share);   /* a span never ended (seal.c); wipes */
	nc_secmem_free(d, sizeof *d);
}

void
nc_device_entry(const nc_device *d, nc_devlist_dev *out)
{
	memcpy(out->id, d->id, NC_DEVID_LEN);
	memcpy(out->sign_pk, d->sign_pk, 32);
	memcpy(out->dh_pk, d->dh_pk, 32);
}

/* "newchat spk v1" 0x00 || u32 id || pk */
static void
spk_msg(uint8_t m[sizeof spk_label + 36], uint32_t id, const uint8_t pk[32])
{
	uint8_t *q = m + sizeof spk_label;

	memcpy(m, spk_label, sizeof spk_label);
	q[0] = (uint8_t)(id >> 24);
	q[1] = (uint8_t)(id >> 16);
	q[2] = (uint8_t)(id >> 8);
	q[3] = (uint8_t)id;
	memcpy(q + 4, pk, 32);
}

/* A fresh X25519 key pair from nc_random; fails only on an all-zero
 * public key (impossible in practice, checked anyway). */
static int
dh_keypair(uint8_t pk[32], uint8_t sk[32])
{
	nc_random(sk, 32);
	if (crypto_scalarmult_base(pk, sk) != 0)
		return nc_fail(NC_ESOFTWARE, "bad random key");
	return 0;
}

int
nc_spk_gen(nc_spk *k, const nc_device *d, uint32_t id, uint64_t now)
{
	int rc;

	memset(k, 0, sizeof *k);
	k->id = id;
	k->created = now;
	if ((rc = dh_keypair(k->pk, k->sk)) != 0)
		return rc;
	nc_spk_sign(k->sig, d->sign_sk, id, k->pk);
	return 0;
}

void
nc_spk_sign(uint8_t sig[64], const uint8_t sign_sk[64], uint32_t id,
    const uint8_t pk[32])
{
	uint8_t m[sizeof spk_label + 36];

	spk_msg(m, id, pk);
	crypto_sign_detached(sig, NULL, m, sizeof m, sign_sk);
}

int
nc_spk_verify(const uint8_t sign_pk[32], uint32_t id, const uint8_t pk[32],
    const uint8_t sig[64])
{
	uint8_t m[sizeof spk_label + 36];

	spk_msg(m, id, pk);
	if (crypto_sign_verify_detached(sig, m, sizeof m, sign_pk) != 0)
		return nc_fail(NC_ESECURITY, "signed prekey: bad signature");
	return 0;
}

int
nc_spk_encode(const nc_spk *k, nc_buf *out)
{
	nc_buf t = NC_SECBUF_INIT;
	nc_enc e;
	int rc;

	nc_enc_init(&e, &t);
	nc_put_u8(&e, KEYS_VERSION);
	nc_put_u8(&e, NC_KT_SPK_SK);
	nc_put_u32(&e, k->id);
	nc_put_u64(&e, k->created);
	nc_put_fixed(&e, k->pk, 32);
	nc_put_fixed(&e, k->sk, 32);
	nc_put_fixed(&e, k->sig, 64);
	if ((rc = nc_enc_end(&e)) == 0)
		rc = put_secret(out, t.p, t.len);
	nc_buf_free(&t);
	return rc;
}

/* The public key must be the secret key's: a stored key pair is whole. */
static int
pair_ok(const uint8_t pk[32], const uint8_t sk[32])
{
	uint8_t q[32];
	int ok = crypto_scalarmult_base(q, sk) == 0 && sodium_memcmp(q, pk, 32) == 0;

	sodium_memzero(q, sizeof q);
	return ok;
}

int
nc_spk_decode(nc_spk *k, const uint8_t *p, size_t n)
{
	nc_dec d;

	memset(k, 0, sizeof *k);
	if (check_head(p, n, NC_SPK_SK_ENC, NC_KT_SPK_SK, "signed prekey") != 0)
		return NC_EDATA;
	nc_dec_init(&d, p + 2, n - 2);
	k->id = nc_get_u32(&d);
	k->created = nc_get_u64(&d);
	memcpy(k->pk, nc_get_fixed(&d, 32), 32);
	memcpy(k->sk, nc_get_fixed(&d, 32), 32);
	memcpy(k->sig, nc_get_fixed(&d, 64), 64);
	if (nc_dec_end(&d, "signed prekey") != 0 || !pair_ok(k->pk, k->sk)) {
		nc_spk_wipe(k);
		return nc_fail(NC_EDATA, "signed prekey: malformed key");
	}
	return 0;
}

void
nc_spk_wipe(nc_spk *k)
{
	sodium_memzero(k, sizeof *k);
}

int
nc_spk_due(uint64_t created, uint64_t now)
{
	return now >= created && now - created >= NC_SPK_ROTATE_SECS;
}

int
nc_spk_expired(uint64_t created, uint64_t now)
{
	return now >= created &&
	    now - created >= NC_SPK_ROTATE_SECS + NC_SPK_GRACE_SECS;
}

int
nc_otpk_gen(nc_otpk *k, uint32_t id)
{
	memset(k, 0, sizeof *k);
	k->id = id;
	return dh_keypair(k->pk, k->sk);
}

int
nc_otpk_encode(const nc_otpk *k, nc_buf *out)
{
	uint8_t b[NC_OTPK_SK_ENC];
	int rc;

	b[0] = KEYS_VERSION;
	b[1] = NC_KT_OTPK_SK;
	b[2] = (uint8_t)(k->id >> 24);
	b[3] = (uint8_t)(k->id >> 16);
	b[4] = (uint8_t)(k->id >> 8);
	b[5] = (uint8_t)k->id;
	memcpy(b + 6, k->pk, 32);
	memcpy(b + 38, k->sk, 32);
	rc = put_secret(out, b, sizeof b);
	sodium_memzero(b, sizeof b);
	return rc;
}

int
nc_otpk_decode(nc_otpk *k, const uint8_t *p, size_t n)
{
	memset(k, 0, sizeof *k);
	if (check_head(p, n, NC_OTPK_SK_ENC, NC_KT_OTPK_SK, "one-time prekey") != 0)
		return NC_EDATA;
	k->id = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
	    (uint32_t)p[4] << 8 | p[5];
	memcpy(k->pk, p + 6, 32);
	memcpy(k->sk, p + 38, 32);
	if (!pair_ok(k->pk, k->sk)) {
		nc_otpk_wipe(k);
		return nc_fail(NC_EDATA, "one-time prekey: malformed key");
	}
	return 0;
}

void
nc_otpk_wipe(nc_otpk *k)
{
	sodium_memzero(k, sizeof *k);
}

int
nc_pk_encode(nc_buf *out, int type, const uint8_t pk[32])
{
	uint8_t b[NC_PK_ENC];

	if (type < 1 || type > 0x7f)
		return nc_fail(NC_ESOFTWARE, "bad public key type");
	b[0] = KEYS_VERSION;
	b[1] = (uint8_t)type;
	memcpy(b + 2, pk, 32);
	return nc_buf_add(out, b, sizeof b);
}

int
nc_pk_decode(uint8_t pk[32], int type, const uint8_t *p, size_t n)
{
	if (n != NC_PK_ENC || p[0] != KEYS_VERSION)
		return nc_fail(NC_EDATA, "public key: malformed");
	if (p[1] != type)
		return nc_fail(NC_EDATA, "public key: wrong type %u", p[1]);
	memcpy(pk, p + 2, 32);
	return 0;
}

void
nc_fingerprint(char out[NC_FPR_LEN], const uint8_t identity_pk[32])
{
	static const char key[] = "newchat fingerprint v1";
	uint8_t h[16];
	char *o = out;

	crypto_generichash(h, sizeof h, identity_pk, 32,
	    (const uint8_t *)key, sizeof key - 1);
	for (int i = 0; i < 16; i++) {
		if (i > 0 && i % 2 == 0)
			*o++ = ' ';
		snprintf(o, 3, "%02x", h[i]);
		o += 2;
	}
	*o = '\0';
}

/* 30 digits for one user: BLAKE2b-512 iterated 1024 times over the
 * address and identity key (so a brute-forced near collision costs
 * more), six 5-byte big-endian chunks, each mod 100000. */
static int
safety_half(char out[31], const char *user, const uint8_t id[32])
{
	static const char key[] = "newchat safety number v1";
	nc_buf b = NC_BUF_INIT;
	nc_enc e;
	uint8_t h[64];
	int rc;

	nc_enc_init(&e, &b);
	nc_put_str(&e, user);
	nc_put_u8(&e, NC_KT_IDENTITY_PK);
	nc_put_fixed(&e, id, 32);
	if ((rc = nc_enc_end(&e)) != 0) {
		nc_buf_free(&b);
		return rc;
	}
	crypto_generichash(h, sizeof h, b.p, b.len, (const uint8_t *)key,
	    sizeof key - 1);
	nc_buf_free(&b);
	for (int i = 0; i < 1024; i++) {
		uint8_t in[96];
		memcpy(in, h, 64);
		memcpy(in + 64, id, 32);
		crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
	}
	for (int i = 0; i < 6; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 5; j++)
			v = v << 8 | h[i * 5 + j];
		snprintf(out + i * 5, 6, "%05u", (unsigned)(v % 100000));
	}
	return 0;
}

int
nc_safety_number(char out[NC_SAFETY_LEN], const char *user_a,
    const uint8_t identity_a[32], const char *user_b, const uint8_t identity_b[32])
{
	char a[31], b[31], all[61], *o = out;
	int rc;

	if ((rc = safety_half(a, user_a, identity_a)) != 0 ||
	    (rc = safety_half(b, user_b, identity_b)) != 0)
		return rc;
	/* Sorted, so both users see the same number. */
	if (strcmp(a, b) <= 0)
		snprintf(all, sizeof all, "%s%s", a, b);
	else
		snprintf(all, sizeof all, "%s%s", b, a);
	for (int i = 0; i < 60; i++) {
		if (i > 0 && i % 5 == 0)
			*o++ = ' ';
		*o++ = all[i];
	}
	*o = '\0';
	return 0;
}
