/* relaymsg.c - the relay API's bodies: encoders and strict decoders. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "relaymsg.h"
#include "err.h"
#include "wire.h"

#define V1 1

int
nc_name_valid(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > NC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') ||
		    u[i] == '.' || u[i] == '_' || u[i] == '-'))
			return 0;
	return 1;
}

int
nc_domain_valid(const char *d)
{
	size_t n = strlen(d), lab = 0;
	const char *colon = strchr(d, ':');

	if (n == 0 || n > NC_DOMAIN_MAX)
		return 0;
	if (colon != NULL) {   /* host:port, for test relays: 1..65535 */
		const char *p = colon + 1;
		if (*p == '\0' || *p == '0' || strlen(p) > 5 ||
		    strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
			return 0;
		n = (size_t)(colon - d);
	}
	/* Labels of 1..63 [a-z0-9-], not starting or ending with '-'. */
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (lab == 0 || d[i - 1] == '-')
				return 0;
			lab = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && lab > 0)) {
			if (++lab > 63)
				return 0;
		} else
			return 0;
	}
	return lab > 0 && d[n - 1] != '-';
}

int
nc_addr_split(const char *addr, char user[NC_NAME_MAX + 1],
    char domain[NC_DOMAIN_MAX + 1])
{
	const char *at = strchr(addr, '@');
	size_t un;

	if (at == NULL || strchr(at + 1, '@') != NULL)
		return nc_fail(NC_EDATA, "not a user@domain address");
	un = (size_t)(at - addr);
	if (un == 0 || un > NC_NAME_MAX || strlen(at + 1) > NC_DOMAIN_MAX)
		return nc_fail(NC_EDATA, "bad address length");
	memcpy(user, addr, un);
	user[un] = '\0';
	if (!nc_name_valid(user) || !nc_domain_valid(at + 1))
		return nc_fail(NC_EDATA, "bad user name or domain");
	strcpy(domain, at + 1);
	return 0;
}

void
nc_device_id(uint8_t id[NC_DEVID_LEN], const uint8_t pk[NC_PK_LEN])
{
	crypto_generichash(id, NC_DEVID_LEN, pk, NC_PK_LEN, NULL, 0);
}

/* Shared ends of every encoder and decoder. */
static int
enc_done(nc_enc *e, const char *what)
{
	if (nc_enc_end(e) != 0)
		return nc_fail(NC_EDATA, "%s: cannot encode", what);
	return 0;
}

static int
dec_start(nc_dec *d, const void *p, size_t n)
{
	nc_dec_init(d, p, n);
	return nc_get_u8(d) == V1;
}

static void
get(nc_dec *d, void *out, size_t n)
{
	const uint8_t *p = nc_get_fixed(d, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

int
nc_register_enc(nc_buf *b, const struct nc_register *r)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_fixed(&e, r->auth_pk, NC_PK_LEN);
	nc_put_fixed(&e, r->salt, NC_SALT_LEN);
	nc_put_u64(&e, r->opslimit);
	nc_put_u64(&e, r->memlimit);
	nc_put_fixed(&e, r->device_sign_pk, NC_PK_LEN);
	if (strlen(r->invite) > NC_INVITE_MAX)
		e.err = e.err ? e.err : NC_EDATA;
	nc_put_str(&e, r->invite);
	return enc_done(&e, "register");
}

int
nc_register_dec(struct nc_register *r, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	get(&d, r->auth_pk, NC_PK_LEN);
	get(&d, r->salt, NC_SALT_LEN);
	r->opslimit = nc_get_u64(&d);
	r->memlimit = nc_get_u64(&d);
	get(&d, r->device_sign_pk, NC_PK_LEN);
	nc_get_str(&d, r->invite, NC_INVITE_MAX);
	return nc_dec_end(&d, "register");
}

int
nc_challenge_enc(nc_buf *b, const struct nc_challenge *c)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_fixed(&e, c->salt, NC_SALT_LEN);
	nc_put_u64(&e, c->opslimit);
	nc_put_u64(&e, c->memlimit);
	nc_put_fixed(&e, c->nonce, NC_NONCE_LEN);
	return enc_done(&e, "challenge");
}

int
nc_challenge_dec(struct nc_challenge *c, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	get(&d, c->salt, NC_SALT_LEN);
	c->opslimit = nc_get_u64(&d);
	c->memlimit = nc_get_u64(&d);
	get(&d, c->nonce, NC_NONCE_LEN);
	return nc_dec_end(&d, "challenge");
}

static int
authreq_enc(nc_buf *b, const struct nc_authreq *a, int with_pk, const char *what)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_fixed(&e, a->nonce, NC_NONCE_LEN);
	if (with_pk)
		nc_put_fixed(&e, a->device_sign_pk, NC_PK_LEN);
	nc_put_fixed(&e, a->sig, NC_SIG_LEN);
	return enc_done(&e, what);
}

static int
authreq_dec(struct nc_authreq *a, const void *p, size_t n, int with_pk,
    const char *what)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	get(&d, a->nonce, NC_NONCE_LEN);
	if (with_pk)
		get(&d, a->device_sign_pk, NC_PK_LEN);
	else
		memset(a->device_sign_pk, 0, NC_PK_LEN);
	get(&d, a->sig, NC_SIG_LEN);
	return nc_dec_end(&d, what);
}

int
nc_adddev_enc(nc_buf *b, const struct nc_authreq *a)
{
	return authreq_enc(b, a, 1, "add device");
}

int
nc_adddev_dec(struct nc_authreq *a, const void *p, size_t n)
{
	return authreq_dec(a, p, n, 1, "add device");
}

int
nc_delete_enc(nc_buf *b, const struct nc_authreq *a)
{
	return authreq_enc(b, a, 0, "delete");
}

int
nc_delete_dec(struct nc_authreq *a, const void *p, size_t n)
{
	return authreq_dec(a, p, n, 0, "delete");
}

int
nc_auth_msg(nc_buf *b, int op, const char *addr, const uint8_t nonce[NC_NONCE_LEN],
    const uint8_t pk[NC_PK_LEN])
{
	static const uint8_t zero[NC_PK_LEN];
	nc_enc e;

	if (strlen(addr) > NC_ADDR_MAX || op < 1 || op > 255)
		return nc_fail(NC_EDATA, "auth: bad address or op");
	nc_enc_init(&e, b);
	nc_put_fixed(&e, "newchat auth v1", 16);   /* with its NUL */
	nc_put_u8(&e, (uint8_t)op);
	nc_put_str(&e, addr);
	nc_put_fixed(&e, nonce, NC_NONCE_LEN);
	nc_put_fixed(&e, op == NC_AUTH_DELETE ? zero : pk, NC_PK_LEN);
	return enc_done(&e, "auth message");
}

int
nc_auth_sign(struct nc_authreq *a, int op, const char *addr,
    const uint8_t auth_sk[64])
{
	nc_buf m = NC_BUF_INIT;
	int rc;

	if ((rc = nc_auth_msg(&m, op, addr, a->nonce, a->device_sign_pk)) == 0)
		crypto_sign_detached(a->sig, NULL, m.p, m.len, auth_sk);
	nc_buf_free(&m);
	return rc;
}

int
nc_auth_verify(const struct nc_authreq *a, int op, const char *addr,
    const uint8_t auth_pk[NC_PK_LEN])
{
	nc_buf m = NC_BUF_INIT;
	int rc;

	if (nc_auth_msg(&m, op, addr, a->nonce, a->device_sign_pk) != 0)
		rc = NC_EPERM;
	else if (crypto_sign_verify_detached(a->sig, m.p, m.len, auth_pk) != 0)
		rc = nc_fail(NC_EPERM, "wrong password");
	else
		rc = 0;
	nc_buf_free(&m);
	return rc;
}

int
nc_prekeys_enc(nc_buf *b, const struct nc_prekeys *k)
{
	nc_enc e;

	if (k->n > NC_PREKEY_UPLOAD_MAX)
		return nc_fail(NC_EDATA, "prekeys: too many");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u8(&e, k->has_spk ? 1 : 0);
	if (k->has_spk) {
		nc_put_u32(&e, k->spk_id);
		nc_put_fixed(&e, k->spk_pk, NC_PK_LEN);
		nc_put_fixed(&e, k->spk_sig, NC_SIG_LEN);
	}
	nc_put_u16(&e, k->n);
	for (size_t i = 0; i < k->n; i++) {
		nc_put_u32(&e, k->otpk[i].id);
		nc_put_fixed(&e, k->otpk[i].pk, NC_PK_LEN);
	}
	return enc_done(&e, "prekeys");
}

int
nc_prekeys_dec(struct nc_prekeys *k, const void *p, size_t n)
{
	nc_dec d;
	uint8_t has;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	has = nc_get_u8(&d);
	nc_dec_check(&d, has <= 1, "has_spk");
	k->has_spk = has == 1;
	k->spk_id = 0;
	memset(k->spk_pk, 0, NC_PK_LEN);
	memset(k->spk_sig, 0, NC_SIG_LEN);
	if (k->has_spk) {
		k->spk_id = nc_get_u32(&d);
		get(&d, k->spk_pk, NC_PK_LEN);
		get(&d, k->spk_sig, NC_SIG_LEN);
	}
	k->n = nc_get_u16(&d);
	nc_dec_check(&d, k->n <= NC_PREKEY_UPLOAD_MAX, "count");
	if (d.err)
		k->n = 0;
	for (size_t i = 0; i < k->n; i++) {
		k->otpk[i].id = nc_get_u32(&d);
		get(&d, k->otpk[i].pk, NC_PK_LEN);
	}
	return nc_dec_end(&d, "prekeys");
}

int
nc_prekey_count_enc(nc_buf *b, const struct nc_prekey_count *c)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u32(&e, c->spk_id);
	nc_put_u32(&e, c->otpk_count);
	return enc_done(&e, "prekey count");
}

int
nc_prekey_count_dec(struct nc_prekey_count *c, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	c->spk_id = nc_get_u32(&d);
	c->otpk_count = nc_get_u32(&d);
	return nc_dec_end(&d, "prekey count");
}

int
nc_counter_req_enc(nc_buf *b, const struct nc_counter_req *q)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u8(&e, q->flags);
	nc_put_u64(&e, q->cur.n);
	nc_put_fixed(&e, q->cur.tag, 16);
	nc_put_fixed(&e, q->next, 16);
	return enc_done(&e, "counter request");
}

int
nc_counter_req_dec(struct nc_counter_req *q, const void *p, size_t n)
{
	const uint8_t *t, *x;
	nc_dec d;

	memset(q, 0, sizeof *q);
	nc_dec_check(&d, dec_start(&d, p, n), "version");
	q->flags = nc_get_u8(&d);
	nc_dec_check(&d, (q->flags & ~NC_COUNTER_DROP_OTPK) == 0, "flags");
	q->cur.n = nc_get_u64(&d);
	nc_dec_check(&d, q->cur.n < INT64_MAX, "counter");
	t = nc_get_fixed(&d, 16);
	x = nc_get_fixed(&d, 16);
	if (t && x) {
		memcpy(q->cur.tag, t, 16);
		memcpy(q->next, x, 16);
	}
	return nc_dec_end(&d, "counter request");
}

int
nc_counter_enc(nc_buf *b, const struct nc_counter *c)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u64(&e, c->n);
	nc_put_fixed(&e, c->tag, 16);
	return enc_done(&e, "counter");
}

int
nc_counter_dec(struct nc_counter *c, const void *p, size_t n)
{
	const uint8_t *t;
	nc_dec d;

	memset(c, 0, sizeof *c);
	nc_dec_check(&d, dec_start(&d, p, n), "version");
	c->n = nc_get_u64(&d);
	nc_dec_check(&d, c->n <= INT64_MAX, "counter");
	if ((t = nc_get_fixed(&d, 16)) != NULL)
		memcpy(c->tag, t, 16);
	return nc_dec_end(&d, "counter");
}

int
nc_claim_req_enc(nc_buf *b, const struct nc_claim_req *c)
{
	nc_enc e;

	if (c->n > NC_CLAIM_MAX)
		return nc_fail(NC_EDATA, "claim: too many devices");
	if (c->n == 0)
		return 0;   /* the empty body: every device */
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u16(&e, c->n);
	for (size_t i = 0; i < c->n; i++)
		nc_put_fixed(&e, c->dev[i], NC_DEVID_LEN);
	return enc_done(&e, "claim");
}

int
nc_claim_req_dec(struct nc_claim_req *c, const void *p, size_t n)
{
	nc_dec d;

	c->n = 0;
	if (n == 0)
		return 0;
	nc_dec_check(&d, dec_start(&d, p, n), "version");
	c->n = nc_get_u16(&d);
	nc_dec_check(&d, c->n >= 1 && c->n <= NC_CLAIM_MAX, "count");
	if (d.err)
		c->n = 0;
	for (size_t i = 0; i < c->n; i++)
		get(&d, c->dev[i], NC_DEVID_LEN);
	return nc_dec_end(&d, "claim");
}

int
nc_claim_resp_enc(nc_buf *b, const struct nc_claim_resp *c)
{
	nc_enc e;

	if (c->n > NC_CLAIM_MAX)
		return nc_fail(NC_EDATA, "claim: too many bundles");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u16(&e, c->n);
	for (size_t i = 0; i < c->n; i++) {
		const struct nc_bundle *k = &c->b[i];
		nc_put_fixed(&e, k->dev, NC_DEVID_LEN);
		nc_put_u32(&e, k->spk_id);
		nc_put_fixed(&e, k->spk_pk, NC_PK_LEN);
		nc_put_fixed(&e, k->spk_sig, NC_SIG_LEN);
		nc_put_u8(&e, k->has_otpk ? 1 : 0);
		if (k->has_otpk) {
			nc_put_u32(&e, k->otpk_id);
			nc_put_fixed(&e, k->otpk_pk, NC_PK_LEN);
		}
	}
	return enc_done(&e, "claim response");
}

int
nc_claim_resp_dec(struct nc_claim_resp *c, const void *p, size_t n)
{
	nc_dec d;
	uint8_t has;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	c->n = nc_get_u16(&d);
	nc_dec_check(&d, c->n <= NC_CLAIM_MAX, "count");
	if (d.err)
		c->n = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct nc_bundle *k = &c->b[i];
		get(&d, k->dev, NC_DEVID_LEN);
		k->spk_id = nc_get_u32(&d);
		get(&d, k->spk_pk, NC_PK_LEN);
		get(&d, k->spk_sig, NC_SIG_LEN);
		has = nc_get_u8(&d);
		nc_dec_check(&d, has <= 1, "has_otpk");
		k->has_otpk = has == 1;
		k->otpk_id = 0;
		memset(k->otpk_pk, 0, NC_PK_LEN);
		if (k->has_otpk) {
			k->otpk_id = nc_get_u32(&d);
			get(&d, k->otpk_pk, NC_PK_LEN);
		}
	}
	return nc_dec_end(&d, "claim response");
}

int
nc_deliver_enc(nc_buf *b, const struct nc_deliver *dl)
{
	nc_enc e;

	if (dl->n < 1 || dl->n > NC_DELIVER_MAX)
		return nc_fail(NC_EDATA, "deliver: bad count");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u64(&e, dl->devlist_version);
	nc_put_u16(&e, dl->n);
	for (size_t i = 0; i < dl->n; i++) {
		const struct nc_deliver_item *it = &dl->item[i];
		if (it->len < 1 || it->len > NC_ENVELOPE_MAX)
			return nc_fail(NC_EDATA, "deliver: bad envelope size");
		nc_put_fixed(&e, it->dev, NC_DEVID_LEN);
		nc_put_fixed(&e, it->envid, NC_ENVID_LEN);
		nc_put_bytes(&e, it->env, it->len);
	}
	return enc_done(&e, "deliver");
}

int
nc_deliver_dec(struct nc_deliver *dl, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	dl->devlist_version = nc_get_u64(&d);
	dl->n = nc_get_u16(&d);
	nc_dec_check(&d, dl->n >= 1 && dl->n <= NC_DELIVER_MAX, "count");
	if (d.err)
		dl->n = 0;
	for (size_t i = 0; i < dl->n; i++) {
		struct nc_deliver_item *it = &dl->item[i];
		get(&d, it->dev, NC_DEVID_LEN);
		get(&d, it->envid, NC_ENVID_LEN);
		it->env = nc_get_bytes(&d, NC_ENVELOPE_MAX, &it->len);
		nc_dec_check(&d, it->len >= 1, "empty envelope");
	}
	return nc_dec_end(&d, "deliver");
}

int
nc_deliveries_enc(nc_buf *b, const struct nc_deliveries *dl)
{
	nc_enc e;
	size_t k = 0;

	if (dl->nusers < 1 || dl->nusers > NC_DELIVERIES_MAX ||
	    dl->n < 1 || dl->n > NC_DELIVERIES_MAX)
		return nc_fail(NC_EDATA, "deliveries: bad count");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u16(&e, dl->nusers);
	for (size_t i = 0; i < dl->nusers; i++) {
		const struct nc_deliveries_user *u = &dl->user[i];

		if (!nc_name_valid(u->name) || (i > 0 &&
		    strcmp(dl->user[i - 1].name, u->name) >= 0) || u->n < 1 ||
		    u->n > NC_DELIVERIES_DEVS || u->first != k || k + u->n > dl->n)
			return nc_fail(NC_EDATA, "deliveries: bad user %zu", i);
		nc_put_str(&e, u->name);
		nc_put_u64(&e, u->version);
		nc_put_u8(&e, (uint8_t)u->n);
		for (size_t j = k; j < k + u->n; j++) {
			const struct nc_deliver_item *it = &dl->item[j];

			if (it->len < 1 || it->len > NC_ENVELOPE_MAX)
				return nc_fail(NC_EDATA, "deliveries: bad envelope size");
			nc_put_fixed(&e, it->dev, NC_DEVID_LEN);
			nc_put_fixed(&e, it->envid, NC_ENVID_LEN);
			nc_put_bytes(&e, it->env, it->len);
		}
		k += u->n;
	}
	if (k != dl->n)
		return nc_fail(NC_EDATA, "deliveries: bad count");
	return enc_done(&e, "deliveries");
}

int
nc_deliveries_dec(struct nc_deliveries *dl, const void *p, size_t n)
{
	nc_dec d;
	uint16_t nu, i;
	uint8_t nd;

	dl->nusers = dl->n = 0;
	dl->too_many = 0;
	nc_dec_check(&d, dec_start(&d, p, n), "version");
	nu = nc_get_u16(&d);
	if (!d.err && nu > NC_DELIVERIES_MAX)
		dl->too_many = 1;
	nc_dec_check(&d, nu >= 1 && nu <= NC_DELIVERIES_MAX, "user count");
	for (i = 0; !d.err && i < nu; i++) {
		struct nc_deliveries_user *u = &dl->user[i];

		nc_get_str(&d, u->name, NC_NAME_MAX);
		nc_dec_check(&d, nc_name_valid(u->name), "user name");
		/* ascending: one encoding, and the order a relay locks them in */
		nc_dec_check(&d, i == 0 || strcmp(dl->user[i - 1].name, u->name) < 0,
		    "users not in order");
		u->version = nc_get_u64(&d);
		nd = nc_get_u8(&d);
		nc_dec_check(&d, nd >= 1 && nd <= NC_DELIVERIES_DEVS, "envelope count");
		if (!d.err && dl->n + nd > NC_DELIVERIES_MAX) {
			dl->too_many = 1;
			nc_dec_check(&d, 0, "envelope count");
		}
		u->first = dl->n;
		u->n = d.err ? 0 : nd;
		for (uint8_t k = 0; !d.err && k < nd; k++) {
			struct nc_deliver_item *it = &dl->item[dl->n];

			get(&d, it->dev, NC_DEVID_LEN);
			get(&d, it->envid, NC_ENVID_LEN);
			it->env = nc_get_bytes(&d, NC_ENVELOPE_MAX, &it->len);
			nc_dec_check(&d, it->len >= 1, "empty envelope");
			if (!d.err)
				dl->n++;
		}
		if (!d.err)
			dl->nusers++;
	}
	if (nc_dec_end(&d, "deliveries") != 0) {
		dl->nusers = dl->n = 0;
		return NC_EDATA;
	}
	return 0;
}

int
nc_stale_enc(nc_buf *b, const struct nc_stale *st)
{
	nc_enc e;

	if (st->n < 1 || st->n > NC_DELIVERIES_MAX)
		return nc_fail(NC_EDATA, "stale users: bad count");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u16(&e, st->n);
	for (size_t i = 0; i < st->n; i++) {
		if (!nc_name_valid(st->user[i]))
			return nc_fail(NC_EDATA, "stale users: bad name");
		nc_put_str(&e, st->user[i]);
	}
	return enc_done(&e, "stale users");
}

int
nc_stale_dec(struct nc_stale *st, const void *p, size_t n)
{
	nc_dec d;
	uint16_t k;

	st->n = 0;
	nc_dec_check(&d, dec_start(&d, p, n), "version");
	k = nc_get_u16(&d);
	nc_dec_check(&d, k >= 1 && k <= NC_DELIVERIES_MAX, "count");
	for (uint16_t i = 0; !d.err && i < k; i++) {
		nc_get_str(&d, st->user[i], NC_NAME_MAX);
		nc_dec_check(&d, nc_name_valid(st->user[i]), "user name");
		if (!d.err)
			st->n++;
	}
	if (nc_dec_end(&d, "stale users") != 0) {
		st->n = 0;
		return NC_EDATA;
	}
	return 0;
}

int
nc_version_enc(nc_buf *b, uint64_t version)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u64(&e, version);
	return enc_done(&e, "version");
}

int
nc_version_dec(uint64_t *version, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_init(&d, p, n);
	*version = nc_get_u64(&d);
	return nc_dec_end(&d, "version");
}

int
nc_mailbox_enc(nc_buf *b, const struct nc_mailbox *m)
{
	nc_enc e;

	if (m->n > NC_LIST_MAX)
		return nc_fail(NC_EDATA, "mailbox: too many");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u16(&e, m->n);
	for (size_t i = 0; i < m->n; i++) {
		nc_put_u64(&e, m->m[i].cursor);
		nc_put_fixed(&e, m->m[i].envid, NC_ENVID_LEN);
		nc_put_u64(&e, m->m[i].received);
		nc_put_bytes(&e, m->m[i].env, m->m[i].len);
	}
	return enc_done(&e, "mailbox");
}

int
nc_mailbox_dec(struct nc_mailbox *m, const void *p, size_t n)
{
	nc_dec d;
	uint64_t last = 0;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	m->n = nc_get_u16(&d);
	nc_dec_check(&d, m->n <= NC_LIST_MAX, "count");
	if (d.err)
		m->n = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct nc_mail *x = &m->m[i];
		x->cursor = nc_get_u64(&d);
		nc_dec_check(&d, i == 0 || x->cursor > last, "cursor order");
		last = x->cursor;
		get(&d, x->envid, NC_ENVID_LEN);
		x->received = nc_get_u64(&d);
		x->env = nc_get_bytes(&d, NC_ENVELOPE_MAX, &x->len);
		nc_dec_check(&d, x->len >= 1, "empty envelope");
	}
	return nc_dec_end(&d, "mailbox");
}

int
nc_ack_enc(nc_buf *b, const struct nc_ack *a)
{
	nc_enc e;

	if (a->n < 1 || a->n > NC_ACK_MAX)
		return nc_fail(NC_EDATA, "ack: bad count");
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_u16(&e, a->n);
	for (size_t i = 0; i < a->n; i++)
		nc_put_fixed(&e, a->envid[i], NC_ENVID_LEN);
	return enc_done(&e, "ack");
}

int
nc_ack_dec(struct nc_ack *a, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	a->n = nc_get_u16(&d);
	nc_dec_check(&d, a->n >= 1 && a->n <= NC_ACK_MAX, "count");
	if (d.err)
		a->n = 0;
	for (size_t i = 0; i < a->n; i++)
		get(&d, a->envid[i], NC_ENVID_LEN);
	return nc_dec_end(&d, "ack");
}

/* ---- OPAQUE (protocol.md 1.2) ---- */

static int
dec2(nc_dec *d, const void *p, size_t n)
{
	nc_dec_init(d, p, n);
	return nc_get_u8(d) == V2_OPAQUE;
}

static int
cost_ok(int c)
{
	return c >= NC_COST_INTERACTIVE && c <= NC_COST_SENSITIVE;
}

int
nc_regreq_enc(nc_buf *b, const uint8_t req[32])
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_fixed(&e, req, 32);
	return enc_done(&e, "registration request");
}

int
nc_regreq_dec(uint8_t req[32], const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec2(&d, p, n), "version");
	get(&d, req, 32);
	return nc_dec_end(&d, "registration request");
}

int
nc_regresp_enc(nc_buf *b, int taken, const uint8_t resp[64])
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_u8(&e, taken ? 1 : 0);
	nc_put_fixed(&e, resp, 64);
	return enc_done(&e, "registration response");
}

int
nc_regresp_dec(int *taken, uint8_t resp[64], const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec2(&d, p, n), "version");
	*taken = nc_get_u8(&d);
	nc_dec_check(&d, *taken <= 1, "taken");
	get(&d, resp, 64);
	return nc_dec_end(&d, "registration response");
}

int
nc_register2_enc(nc_buf *b, const struct nc_register2 *r)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_fixed(&e, r->record, 192);
	nc_put_u8(&e, (uint8_t)r->cost);
	nc_put_fixed(&e, r->device_sign_pk, NC_PK_LEN);
	if (strlen(r->invite) > NC_INVITE_MAX || !cost_ok(r->cost))
		e.err = e.err ? e.err : NC_EDATA;
	nc_put_str(&e, r->invite);
	return enc_done(&e, "register");
}

int
nc_register2_dec(struct nc_register2 *r, const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec2(&d, p, n), "version");
	get(&d, r->record, 192);
	r->cost = nc_get_u8(&d);
	nc_dec_check(&d, cost_ok(r->cost), "cost");
	get(&d, r->device_sign_pk, NC_PK_LEN);
	nc_get_str(&d, r->invite, sizeof r->invite);
	return nc_dec_end(&d, "register");
}

int
nc_ke1_enc(nc_buf *b, const uint8_t ke1[96])
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_fixed(&e, ke1, 96);
	return enc_done(&e, "KE1");
}

int
nc_ke1_dec(uint8_t ke1[96], const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec2(&d, p, n), "version");
	get(&d, ke1, 96);
	return nc_dec_end(&d, "KE1");
}

int
nc_ke2_enc(nc_buf *b, int cost, const uint8_t ke2[320],
    const uint8_t token[NC_LOGIN_TOKEN_LEN])
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_u8(&e, (uint8_t)cost);
	nc_put_fixed(&e, ke2, 320);
	nc_put_fixed(&e, token, NC_LOGIN_TOKEN_LEN);
	return enc_done(&e, "KE2");
}

int
nc_ke2_dec(int *cost, uint8_t ke2[320], uint8_t token[NC_LOGIN_TOKEN_LEN],
    const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec2(&d, p, n), "version");
	*cost = nc_get_u8(&d);
	nc_dec_check(&d, cost_ok(*cost), "cost");
	get(&d, ke2, 320);
	get(&d, token, NC_LOGIN_TOKEN_LEN);
	return nc_dec_end(&d, "KE2");
}

/* record, cost, u16 n, backup: shared by op 3 and the migration. */
static void
put_rec(nc_enc *e, const uint8_t record[192], int cost, const uint8_t *bk, size_t n)
{
	nc_put_fixed(e, record, 192);
	nc_put_u8(e, (uint8_t)cost);
	if (!cost_ok(cost) || n > NC_IDBACKUP_MAX)
		e->err = e->err ? e->err : NC_EDATA;
	nc_put_u16(e, (uint16_t)(n > NC_IDBACKUP_MAX ? 0 : n));
	nc_put_fixed(e, bk, n > NC_IDBACKUP_MAX ? 0 : n);
}

static void
get_rec(nc_dec *d, uint8_t record[192], int *cost, uint8_t *bk, size_t *n)
{
	get(d, record, 192);
	*cost = nc_get_u8(d);
	nc_dec_check(d, cost_ok(*cost), "cost");
	*n = nc_get_u16(d);
	nc_dec_check(d, *n <= NC_IDBACKUP_MAX, "backup length");
	if (*n > NC_IDBACKUP_MAX)
		*n = 0;
	get(d, bk, *n);
}

#define OP_LABEL "newchat op v1"
#define MIGRATE_LABEL "newchat migrate v1"

/* label 0x00 || str addr || p[0..n) */
static int
bound_msg(nc_buf *m, const char *label, const char *addr, const void *p, size_t n)
{
	nc_enc e;

	nc_enc_init(&e, m);
	nc_put_fixed(&e, label, strlen(label) + 1);
	nc_put_str(&e, addr);
	nc_put_fixed(&e, p, n);
	return enc_done(&e, label);
}

static int
op_mac(uint8_t mac[64], const uint8_t key[64], const char *addr, const void *p,
    size_t n)
{
	nc_buf m = NC_BUF_INIT;
	int rc;

	crypto_auth_hmacsha512_state st;

	if ((rc = bound_msg(&m, OP_LABEL, addr, p, n)) == 0) {
		crypto_auth_hmacsha512_init(&st, key, 64);
		crypto_auth_hmacsha512_update(&st, m.p, m.len);
		crypto_auth_hmacsha512_final(&st, mac);
		sodium_memzero(&st, sizeof st);
	}
	nc_buf_free(&m);
	return rc;
}

int
nc_opreq_enc(nc_buf *b, struct nc_opreq *o, const uint8_t key[64], const char *addr)
{
	nc_enc e;
	size_t start = b->len;
	int rc;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_fixed(&e, o->token, NC_LOGIN_TOKEN_LEN);
	nc_put_fixed(&e, o->ke3, 64);
	nc_put_u8(&e, (uint8_t)o->op);
	if (o->op == NC_OP_ADD_DEVICE)
		nc_put_fixed(&e, o->device_sign_pk, NC_PK_LEN);
	else if (o->op == NC_OP_PASSWD)
		put_rec(&e, o->record, o->cost, o->backup, o->backup_len);
	else if (o->op != NC_OP_DELETE)
		e.err = e.err ? e.err : NC_EDATA;
	if ((rc = enc_done(&e, "operation")) != 0)
		return rc;
	o->maclen = b->len - start;
	if ((rc = op_mac(o->mac, key, addr, b->p + start, o->maclen)) != 0)
		return rc;
	return nc_buf_add(b, o->mac, sizeof o->mac);
}

int
nc_opreq_dec(struct nc_opreq *o, const void *p, size_t n)
{
	nc_dec d;

	memset(o, 0, sizeof *o);
	nc_dec_check(&d, dec2(&d, p, n), "version");
	get(&d, o->token, NC_LOGIN_TOKEN_LEN);
	get(&d, o->ke3, 64);
	o->op = nc_get_u8(&d);
	if (o->op == NC_OP_ADD_DEVICE)
		get(&d, o->device_sign_pk, NC_PK_LEN);
	else if (o->op == NC_OP_PASSWD)
		get_rec(&d, o->record, &o->cost, o->backup, &o->backup_len);
	else
		nc_dec_check(&d, o->op == NC_OP_DELETE, "operation");
	o->maclen = d.pos;
	get(&d, o->mac, NC_OP_MAC_LEN);
	return nc_dec_end(&d, "operation");
}

int
nc_opreq_verify(const struct nc_opreq *o, const void *p, const uint8_t key[64],
    const char *addr)
{
	uint8_t mac[64];
	int ok;

	ok = op_mac(mac, key, addr, p, o->maclen) == 0 &&
	    sodium_memcmp(mac, o->mac, sizeof mac) == 0;
	sodium_memzero(mac, sizeof mac);
	return ok ? 0 : nc_fail(NC_EPERM, "operation: bad MAC");
}

int
nc_migrate_enc(nc_buf *b, struct nc_migrate *m, const uint8_t auth_sk[64],
    const char *addr)
{
	nc_buf msg = NC_BUF_INIT;
	nc_enc e;
	size_t start = b->len;
	int rc;

	nc_enc_init(&e, b);
	nc_put_u8(&e, V2_OPAQUE);
	nc_put_fixed(&e, m->nonce, NC_NONCE_LEN);
	put_rec(&e, m->record, m->cost, m->backup, m->backup_len);
	if ((rc = enc_done(&e, "migrate")) != 0)
		return rc;
	m->siglen = b->len - start;
	if ((rc = bound_msg(&msg, MIGRATE_LABEL, addr, b->p + start, m->siglen)) == 0) {
		crypto_sign_detached(m->sig, NULL, msg.p, msg.len, auth_sk);
		rc = nc_buf_add(b, m->sig, sizeof m->sig);
	}
	nc_buf_free(&msg);
	return rc;
}

int
nc_migrate_dec(struct nc_migrate *m, const void *p, size_t n)
{
	nc_dec d;

	memset(m, 0, sizeof *m);
	nc_dec_check(&d, dec2(&d, p, n), "version");
	get(&d, m->nonce, NC_NONCE_LEN);
	get_rec(&d, m->record, &m->cost, m->backup, &m->backup_len);
	m->siglen = d.pos;
	get(&d, m->sig, NC_SIG_LEN);
	return nc_dec_end(&d, "migrate");
}

int
nc_migrate_verify(const struct nc_migrate *m, const void *p,
    const uint8_t auth_pk[NC_PK_LEN], const char *addr)
{
	nc_buf msg = NC_BUF_INIT;
	int ok;

	ok = bound_msg(&msg, MIGRATE_LABEL, addr, p, m->siglen) == 0 &&
	    crypto_sign_verify_detached(m->sig, msg.p, msg.len, auth_pk) == 0;
	nc_buf_free(&msg);
	return ok ? 0 : nc_fail(NC_EPERM, "migrate: bad signature");
}

/* ---- push endpoints (protocol.md 1.12) ---- */

static int
url_char(int c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL) ||
	    (c != '\0' && strchr(extra, c) != NULL);
}

static int
hexdig(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A DNS name or dotted IPv4: labels of 1..63 of [A-Za-z0-9-], not
 * starting or ending with '-', 1..253 bytes in all. */
static int
push_host(const char *h, size_t n)
{
	size_t lab = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		int c = i < n ? (unsigned char)h[i] : '.';

		if (c == '.') {
			if (lab == 0 || h[i - 1] == '-')
				return 0;
			lab = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') {
			if (lab == 0 && c == '-')
				return 0;
			if (++lab > 63)
				return 0;
		} else
			return 0;
	}
	return 1;
}

int
nc_push_url_check(const char *url)
{
	size_t n = strlen(url), hn;
	const char *p, *h, *e;
	int kind;

	if (n == 0 || n > NC_PUSH_URL_MAX)
		return NC_PUSH_BAD;
	if (strncmp(url, "https://", 8) == 0) {
		kind = NC_PUSH_HTTPS;
		h = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		kind = NC_PUSH_HTTP;
		h = url + 7;
	} else
		return NC_PUSH_BAD;
	/* the host: [IPv6] or a name/IPv4, up to ':', '/', '?' or the end */
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL || e == h + 1 || e - h > 46)
			return NC_PUSH_BAD;
		for (p = h + 1; p < e; p++)
			if (!hexdig((unsigned char)*p) && *p != ':' && *p != '.')
				return NC_PUSH_BAD;
		p = e + 1;
	} else {
		hn = strcspn(h, ":/?");
		if (!push_host(h, hn))
			return NC_PUSH_BAD;
		p = h + hn;
	}
	if (*p == ':') {   /* a port: 1..65535, no leading zero */
		size_t d = strspn(++p, "0123456789");

		if (d == 0 || d > 5 || *p == '0' || atol(p) > 65535)
			return NC_PUSH_BAD;
		p += d;
	}
	if (*p != '\0' && *p != '/' && *p != '?')
		return NC_PUSH_BAD;
	/* path and query: RFC 3986 pchar, '/', and '?' once the query starts */
	for (int query = 0; *p; p++) {
		if (*p == '?')
			query = 1;
		if (*p == '%') {
			if (!hexdig((unsigned char)p[1]) || !hexdig((unsigned char)p[2]))
				return NC_PUSH_BAD;
			p += 2;
		} else if (!url_char((unsigned char)*p, query ? "/?" : "/"))
			return NC_PUSH_BAD;
	}
	return kind;
}

int
nc_push_enc(nc_buf *b, const char *url)
{
	nc_enc e;

	if (nc_push_url_check(url) == NC_PUSH_BAD)
		return nc_fail(NC_EDATA, "push endpoint: not an http(s) URL of at most %d "
		    "bytes without a user part or fragment", NC_PUSH_URL_MAX);
	nc_enc_init(&e, b);
	nc_put_u8(&e, V1);
	nc_put_str(&e, url);
	return enc_done(&e, "push endpoint");
}

int
nc_push_dec(char url[NC_PUSH_URL_MAX + 1], const void *p, size_t n)
{
	nc_dec d;

	nc_dec_check(&d, dec_start(&d, p, n), "version");
	nc_get_str(&d, url, NC_PUSH_URL_MAX);
	nc_dec_check(&d, nc_push_url_check(url) != NC_PUSH_BAD, "url");
	if (nc_dec_end(&d, "push endpoint") != 0) {
		url[0] = '\0';
		return nc_fail(NC_EDATA, "push endpoint: want u8 1, str URL: an http(s) URL "
		    "of at most %d bytes, no user part, no fragment", NC_PUSH_URL_MAX);
	}
	return 0;
}
