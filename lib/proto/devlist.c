/* devlist.c - the signed device list: build, sign, encode, strict decode,
 * verify (protocol.md 2.1). */
#include <string.h>

#include <sodium.h>

#include "devlist.h"
#include "err.h"
#include "relaymsg.h"   /* nc_domain_valid */
#include "wire.h"

#define DEVLIST_VERSION 1
#define DEVLIST_TYPE 0x20
static const char sig_label[] = "newchat devicelist v1";   /* + 0x00 */

static int
user_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	    c == '_' || c == '-';
}

int
nc_addr_valid(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i;

	if (at == NULL || at == s || (size_t)(at - s) > NC_USER_MAX)
		return 0;
	for (i = 0; s + i < at; i++)
		if (!user_char((unsigned char)s[i]))
			return 0;
	return nc_domain_valid(at + 1);   /* the relays' rule too */
}

void
nc_devid(uint8_t id[NC_DEVID_LEN], const uint8_t sign_pk[32])
{
	crypto_generichash(id, NC_DEVID_LEN, sign_pk, 32, NULL, 0);
}

/* The signed part: everything before the signature. */
static int
encode_body(const nc_devlist *l, nc_buf *out)
{
	nc_enc e;

	if (l->n < 1 || l->n > NC_DEVLIST_MAX || !nc_addr_valid(l->user))
		return nc_fail(NC_EDATA, "device list: bad user or device count");
	nc_enc_init(&e, out);
	nc_put_u8(&e, DEVLIST_VERSION);
	nc_put_u8(&e, DEVLIST_TYPE);
	nc_put_str(&e, l->user);
	nc_put_u64(&e, l->version);
	nc_put_fixed(&e, l->identity, 32);
	nc_put_u64(&e, l->created);
	nc_put_u16(&e, l->n);
	for (int i = 0; i < l->n; i++) {
		nc_put_fixed(&e, l->dev[i].id, NC_DEVID_LEN);
		nc_put_fixed(&e, l->dev[i].sign_pk, 32);
		nc_put_fixed(&e, l->dev[i].dh_pk, 32);
	}
	return nc_enc_end(&e);
}

/* "newchat devicelist v1" 0x00 || body */
static int
signed_msg(const nc_devlist *l, nc_buf *m)
{
	int rc;

	if ((rc = nc_buf_add(m, sig_label, sizeof sig_label)) != 0)
		return rc;
	return encode_body(l, m);
}

int
nc_devlist_sign(nc_devlist *l, const uint8_t identity_sk[64])
{
	nc_buf m = NC_BUF_INIT;
	int rc;

	crypto_sign_ed25519_sk_to_pk(l->identity, identity_sk);
	for (int i = 0; i < l->n && i < NC_DEVLIST_MAX; i++)
		nc_devid(l->dev[i].id, l->dev[i].sign_pk);
	if ((rc = signed_msg(l, &m)) == 0)
		crypto_sign_detached(l->sig, NULL, m.p, m.len, identity_sk);
	nc_buf_free(&m);
	return rc;
}

int
nc_devlist_encode(const nc_devlist *l, nc_buf *out)
{
	int rc;

	if ((rc = encode_body(l, out)) != 0)
		return rc;
	return nc_buf_add(out, l->sig, sizeof l->sig);
}

int
nc_devlist_decode(nc_devlist *l, const uint8_t *p, size_t n)
{
	nc_dec d;
	uint8_t id[NC_DEVID_LEN];
	const uint8_t *f;

	memset(l, 0, sizeof *l);
	if (n > NC_DEVLIST_ENC_MAX)
		return nc_fail(NC_EDATA, "device list: too long");
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == DEVLIST_VERSION, "device list version");
	nc_dec_check(&d, nc_get_u8(&d) == DEVLIST_TYPE, "device list type");
	nc_get_str(&d, l->user, NC_ADDR_MAX);
	nc_dec_check(&d, nc_addr_valid(l->user), "device list user");
	l->version = nc_get_u64(&d);
	if ((f = nc_get_fixed(&d, 32)) != NULL)
		memcpy(l->identity, f, 32);
	l->created = nc_get_u64(&d);
	l->n = nc_get_u16(&d);
	nc_dec_check(&d, l->n >= 1 && l->n <= NC_DEVLIST_MAX, "device count");
	for (int i = 0; !d.err && i < l->n; i++) {
		nc_devlist_dev *v = &l->dev[i];
		if ((f = nc_get_fixed(&d, 80)) == NULL)
			break;
		memcpy(v->id, f, NC_DEVID_LEN);
		memcpy(v->sign_pk, f + 16, 32);
		memcpy(v->dh_pk, f + 48, 32);
		nc_devid(id, v->sign_pk);
		nc_dec_check(&d, memcmp(id, v->id, NC_DEVID_LEN) == 0,
		    "device id does not match its key");
		for (int j = 0; j < i; j++)
			nc_dec_check(&d, memcmp(l->dev[j].id, v->id,
			    NC_DEVID_LEN) != 0, "duplicate device");
	}
	if ((f = nc_get_fixed(&d, 64)) != NULL)
		memcpy(l->sig, f, 64);
	if (nc_dec_end(&d, "device list") != 0) {
		memset(l, 0, sizeof *l);
		return nc_fail(NC_EDATA, "device list: malformed");
	}
	return 0;
}

int
nc_devlist_verify(const nc_devlist *l)
{
	nc_buf m = NC_BUF_INIT;
	int rc;

	if ((rc = signed_msg(l, &m)) == 0 &&
	    crypto_sign_verify_detached(l->sig, m.p, m.len, l->identity) != 0)
		rc = nc_fail(NC_ESECURITY, "device list: bad signature");
	nc_buf_free(&m);
	return rc;
}

int
nc_devlist_parse(nc_devlist *l, const uint8_t *p, size_t n)
{
	int rc;

	if ((rc = nc_devlist_decode(l, p, n)) != 0)
		return rc;
	return nc_devlist_verify(l);
}

int
nc_devlist_find(const nc_devlist *l, const uint8_t id[NC_DEVID_LEN])
{
	for (int i = 0; i < l->n && i < NC_DEVLIST_MAX; i++)
		if (memcmp(l->dev[i].id, id, NC_DEVID_LEN) == 0)
			return i;
	return -1;
}

int
nc_devlist_hash(const nc_devlist *l, uint8_t out[32])
{
	nc_buf b = NC_BUF_INIT;
	int rc;

	if ((rc = nc_devlist_encode(l, &b)) == 0)
		crypto_generichash(out, 32, b.p, b.len, NULL, 0);
	nc_buf_free(&b);
	return rc;
}
