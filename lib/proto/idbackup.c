/* idbackup.c - sealing and opening the identity-key backup. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "idbackup.h"
#include "wire.h"

#define VERSION 1

/* key = HKDF-SHA256(salt 0, IKM backup key, info label): the backup key
 * serves other backups later, each under its own label. */
static int
wrap_key(uint8_t key[32], const uint8_t backup_key[32])
{
	return nc_hkdf(key, 32, NULL, 0, backup_key, 32,
	    (const uint8_t *)NC_IDBACKUP_LABEL, strlen(NC_IDBACKUP_LABEL));
}

/* AD = label 0x00 || u8 1 || u8 0x86 || str addr || fixed[32] identity:
 * a backup opens only for the user and the key it names. */
static int
make_ad(nc_buf *ad, const char *addr, const uint8_t identity[32])
{
	nc_enc e;

	nc_enc_init(&e, ad);
	nc_put_fixed(&e, NC_IDBACKUP_LABEL, strlen(NC_IDBACKUP_LABEL) + 1);
	nc_put_u8(&e, VERSION);
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
	nc_dec_check(&d, nc_get_u8(&d) == VERSION, "version");
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

int
nc_idbackup_seal(nc_buf *out, const uint8_t backup_key[32], const char *addr,
    const nc_idkey *id)
{
	nc_buf ad = NC_BUF_INIT;
	nc_enc e;
	uint8_t key[32], seed[32], nonce[24], ct[48];
	int rc;

	if ((rc = make_ad(&ad, addr, id->pk)) != 0 ||
	    (rc = wrap_key(key, backup_key)) != 0)
		goto done;
	crypto_sign_ed25519_sk_to_seed(seed, id->sk);
	randombytes_buf(nonce, sizeof nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, seed, 32, ad.p,
	    ad.len, NULL, nonce, key);
	nc_enc_init(&e, out);
	nc_put_u8(&e, VERSION);
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
nc_idbackup_open(nc_idkey **out, const uint8_t backup_key[32], const char *addr,
    const uint8_t *p, size_t n)
{
	nc_idbackup b;
	nc_buf ad = NC_BUF_INIT;
	uint8_t key[32], enc[NC_IDKEY_SK_ENC];
	nc_idkey *k = NULL;
	int rc;

	*out = NULL;
	if ((rc = nc_idbackup_decode(&b, p, n)) != 0 ||
	    (rc = make_ad(&ad, addr, b.identity)) != 0 ||
	    (rc = wrap_key(key, backup_key)) != 0)
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
