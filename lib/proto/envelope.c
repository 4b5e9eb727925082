/* envelope.c - the outer envelope (protocol.md 2.7) and the send/receive
 * path: payload -> ratchet -> seal -> envelope, and back. */
#include <string.h>

#include <sodium.h>

#include "envelope.h"
#include "err.h"
#include "rng.h"
#include "wire.h"

#define ENVELOPE_VERSION 1
#define ENVELOPE_HEAD (1 + 16 + NC_DEVID_LEN + 4)

int
nc_envelope_encode(nc_buf *out, const uint8_t id[16],
    const uint8_t rcpt[NC_DEVID_LEN], const uint8_t *sealed, size_t n)
{
	nc_enc e;

	if (n > NC_SEALED_MAX || ENVELOPE_HEAD + n > NC_ENVELOPE_MAX)
		return nc_fail(NC_EDATA, "envelope: too large");
	nc_enc_init(&e, out);
	nc_put_u8(&e, ENVELOPE_VERSION);
	nc_put_fixed(&e, id, 16);
	nc_put_fixed(&e, rcpt, NC_DEVID_LEN);
	nc_put_bytes(&e, sealed, n);
	return nc_enc_end(&e);
}

int
nc_envelope_decode(nc_envelope *env, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;

	memset(env, 0, sizeof *env);
	if (n > NC_ENVELOPE_MAX)
		return nc_fail(NC_EDATA, "envelope: too large");
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == ENVELOPE_VERSION, "version");
	if ((f = nc_get_fixed(&d, 16)) != NULL)
		memcpy(env->id, f, 16);
	if ((f = nc_get_fixed(&d, NC_DEVID_LEN)) != NULL)
		memcpy(env->rcpt, f, NC_DEVID_LEN);
	env->sealed = nc_get_bytes(&d, NC_SEALED_MAX, &env->sealedlen);
	if (nc_dec_end(&d, "envelope") != 0) {
		memset(env, 0, sizeof *env);
		return NC_EDATA;
	}
	return 0;
}

int
nc_envelope_make(nc_buf *out, uint8_t envid[16], nc_ratchet *st,
    const nc_device *self, const nc_cert *cert,
    const uint8_t rcpt_dev[NC_DEVID_LEN], const uint8_t rcpt_dh[32],
    const nc_payload *pl)
{
	nc_buf pt = NC_BUF_INIT, rm = NC_BUF_INIT, sealed = NC_BUF_INIT;
	nc_x3dh_hdr hdr;
	int rc, pending = nc_ratchet_pending(st, &hdr);

	nc_random(envid, 16);
	/* Plaintext: reserved once (never reallocated), wiped below. */
	if ((rc = nc_buf_reserve(&pt, 34 + pl->bodylen + (size_t)pl->nacks * 16 +
	    1 + (size_t)pl->ngossip * (2 + NC_DOMAIN_MAX + NC_PL_HEAD_LEN))) == 0 &&
	    (rc = nc_payload_encode(pl, &pt)) == 0 &&
	    (rc = nc_ratchet_encrypt(st, &rm, pt.p, pt.len)) == 0 &&
	    (rc = nc_seal(&sealed, self, cert, envid, rcpt_dev, rcpt_dh,
	    pending ? &hdr : NULL, rm.p, rm.len)) == 0)
		rc = nc_envelope_encode(out, envid, rcpt_dev, sealed.p, sealed.len);
	if (pt.p != NULL)
		sodium_memzero(pt.p, pt.cap);
	nc_buf_free(&pt);
	nc_buf_free(&rm);
	nc_buf_free(&sealed);
	return rc;
}

int
nc_envelope_open(nc_unsealed *u, nc_buf *buf, uint8_t envid[16],
    const nc_device *self, const uint8_t *p, size_t n)
{
	nc_envelope env;
	int rc;

	memset(u, 0, sizeof *u);
	if ((rc = nc_envelope_decode(&env, p, n)) != 0)
		return rc;
	if (sodium_memcmp(env.rcpt, self->id, NC_DEVID_LEN) != 0)
		return nc_fail(NC_ESECURITY, "envelope: not addressed to this device");
	if ((rc = nc_unseal(u, buf, self, env.id, env.sealed, env.sealedlen)) != 0)
		return rc;
	memcpy(envid, env.id, 16);
	return 0;
}

static int
accept_payload(const uint8_t *p, size_t n, void *arg)
{
	return nc_payload_decode(arg, p, n);
}

int
nc_envelope_decrypt(nc_payload *pl, nc_buf *ptbuf, nc_ratchet *st,
    const nc_unsealed *u)
{
	int rc;

	rc = nc_ratchet_decrypt_if(st, ptbuf, u->msg, u->msglen, accept_payload, pl);
	if (rc != 0)
		memset(pl, 0, sizeof *pl);
	return rc;
}
