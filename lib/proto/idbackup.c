/* idbackup.c - sealing and opening the identity-key backup. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "idbackup.h"
#include "wire.h"

/* Version 1: under the Argon2id backup key (32 bytes); version 2: under
 * the OPAQUE export key (64 bytes). */
static const char *
label_of(int v)
{
	return v == 2 ? NC_IDBACKUP_LABEL_V2 : NC_IDBACKUP_LABEL;
}

/* key = HKDF-SHA256(salt 0, IKM backup or export key, info label): that
 * key serves other backups later, each under its own label. */
static int
wrap_key(uint8_t key[32], int v, const uint8_t *ikm)
{
	return nc_hkdf(key, 32, NULL, 0, ikm, v == 2 ? 64 : 32,
	    (const uint8_t *)label_of(v), strlen(label_of(v)));
}

/* AD = label 0x00 || u8 version || u8 0x86 || str addr || fixed[32]
 * identity: a backup opens only for the user and the key it names. */
static int
make_ad(nc_buf *ad, int v, const char *addr, const uint8_t identity[32])
{
	nc_enc e;

	nc_enc_init(&e, ad);
	nc_put_fixed(&e, label_of(v), strlen(label_of(v)) + 1);
	nc_put_u8(&e, (uint8_t)v);
	nc_put_u8(&e, NC_KT_IDBACKUP);
	nc_put_str(&e, addr);
	nc_put_fixed(&e, identity, 32);
	return nc_enc_end(&e);
}

int
nc_idbackup_decode(nc_idbackup *b, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;

	memset(b, 0, sizeof *b);
	nc_dec_init(&d, p, n);
	b->version = nc_get_u8(&d);
	nc_dec_check(&d, b->version == 1 || b->version == 2, "version");
	nc_dec_check(&d, nc_get_u8(&d) == NC_KT_IDBACKUP, "type");
	if ((f = nc_get_fixed(&d, 32)) != NULL)
		memcpy(b->identity, f, 32);
	if ((f = nc_get_fixed(&d, 24)) != NULL)
		memcpy(b->nonce, f, 24);
	if ((f = nc_get_fixed(&d, 48)) != NULL)
		memcpy(b->ct, f, 48);
	if (nc_dec_end(&d, "identity-key backup") != 0) {
		memset(b, 0, sizeof *b);
		return nc_fail(NC_EDATA, "identity-key backup: malformed");
	}
	return 0;
}

static int
seal(nc_buf *out, int v, const uint8_t *backup_key, const char *addr,
    const nc_idkey *id)
{
	nc_buf ad = NC_BUF_INIT;
	nc_enc e;
	uint8_t key[32], seed[32], nonce[24], ct[48];
	int rc;

	if ((rc = make_ad(&ad, v, addr, id->pk)) != 0 ||
	    (rc = wrap_key(key, v, backup_key)) != 0)
		goto done;
	crypto_sign_ed25519_sk_to_seed(seed, id->sk);
	randombytes_buf(nonce, sizeof nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, seed, 32, ad.p,
	    ad.len, NULL, nonce, key);
	nc_enc_init(&e, out);
	nc_put_u8(&e, (uint8_t)v);
	nc_put_u8(&e, NC_KT_IDBACKUP);
	nc_put_fixed(&e, id->pk, 32);
	nc_put_fixed(&e, nonce, 24);
	nc_put_fixed(&e, ct, 48);
	rc = nc_enc_end(&e);
done:
	sodium_memzero(key, sizeof key);
	sodium_memzero(seed, sizeof seed);
	nc_buf_free(&ad);
	return rc;
}

int
nc_idbackup_seal(nc_buf *out, const uint8_t backup_key[32], const char *addr,
    const nc_idkey *id)
{
	return seal(out, 1, backup_key, addr, id);
}

int
nc_idbackup_seal_export(nc_buf *out, const uint8_t export_key[64],
    const char *addr, const nc_idkey *id)
{
	return seal(out, 2, export_key, addr, id);
}

static int
open_v(nc_idkey **out, int v, const uint8_t *backup_key, const char *addr,
    const uint8_t *p, size_t n)
{
	nc_idbackup b;
	nc_buf ad = NC_BUF_INIT;
	uint8_t key[32], enc[NC_IDKEY_SK_ENC];
	nc_idkey *k = NULL;
	int rc;

	*out = NULL;
	if ((rc = nc_idbackup_decode(&b, p, n)) != 0)
		goto done;
	if (b.version != v) {
		rc = nc_fail(NC_ESECURITY, "identity-key backup of version %d where "
		    "%d was expected", b.version, v);
		goto done;
	}
	if ((rc = make_ad(&ad, v, addr, b.identity)) != 0 ||
	    (rc = wrap_key(key, v, backup_key)) != 0)
		goto done;
	enc[0] = 1;
	enc[1] = NC_KT_IDENTITY_SK;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(enc + 2, NULL, NULL, b.ct,
	    sizeof b.ct, ad.p, ad.len, b.nonce, key) != 0) {
		rc = nc_fail(NC_ESECURITY, "identity-key backup does not open "
		    "(tampered, or sealed for another user or password)");
		goto done;
	}
	if ((k = nc_idkey_decode(enc, sizeof enc)) == NULL) {
		rc = nc_fail(NC_EOSERR, "identity key: %s", nc_errmsg());
		goto done;
	}
	if (sodium_memcmp(k->pk, b.identity, 32) != 0) {
		nc_idkey_free(k);
		rc = nc_fail(NC_ESECURITY, "identity-key backup holds another key "
		    "than it names");
		goto done;
	}
	*out = k;
done:
	sodium_memzero(key, sizeof key);
	sodium_memzero(enc, sizeof enc);
	nc_buf_free(&ad);
	return rc;
}

int
nc_idbackup_open(nc_idkey **out, const uint8_t backup_key[32], const char *addr,
    const uint8_t *p, size_t n)
{
	return open_v(out, 1, backup_key, addr, p, n);
}

int
nc_idbackup_open_export(nc_idkey **out, const uint8_t export_key[64],
    const char *addr, const uint8_t *p, size_t n)
{
	return open_v(out, 2, export_key, addr, p, n);
}
