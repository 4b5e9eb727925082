/* opaque.c - OPAQUE-3DH, RFC 9807, composed of oprf.c (RFC 9497),
 * HKDF-SHA512 (hkdf.c) and libsodium's ristretto255, HMAC-SHA512, SHA-512
 * and Argon2id. Section numbers below are RFC 9807's. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "opaque.h"
#include "oprf.h"
#include "rng.h"

#define NN 32      /* nonces */
#define NH 64      /* hash, MAC and KDF outputs */
#define NPK 32

/* A growing byte string on the stack for the RFC's concat()s: every
 * caller's total is bounded by the sizes above and the identities' (each
 * at most ID_MAX). */
#define ID_MAX 1024
struct cat {
	uint8_t p[2 * ID_MAX + 1024];
	size_t n;
	int over;
};

static void
put(struct cat *c, const void *p, size_t n)
{
	if (n == 0)   /* p may be NULL then */
		return;
	if (n > sizeof c->p - c->n) {
		c->over = 1;
		return;
	}
	memcpy(c->p + c->n, p, n);
	c->n += n;
}

static void
put16(struct cat *c, const void *p, size_t n)   /* I2OSP(len, 2) || p */
{
	uint8_t l[2] = { (uint8_t)(n >> 8), (uint8_t)n };

	put(c, l, 2);
	put(c, p, n);
}

static void
cat_wipe(struct cat *c)
{
	sodium_memzero(c, sizeof *c);
}

static int
expand(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
    const uint8_t *a, size_t alen, const char *label)
{
	struct cat info = { .n = 0 };
	int rc;

	put(&info, a, alen);
	put(&info, label, strlen(label));
	rc = nc_hkdf512_expand(out, outlen, key, keylen, info.p, info.n);
	cat_wipe(&info);
	return rc;
}

static void
mac(uint8_t out[NH], const uint8_t key[NH], const uint8_t *m, size_t n)
{
	crypto_auth_hmacsha512_state st;

	crypto_auth_hmacsha512_init(&st, key, NH);
	crypto_auth_hmacsha512_update(&st, m, n);
	crypto_auth_hmacsha512_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* 6.4.2 DeriveDiffieHellmanKeyPair, for ristretto255 */
static int
dh_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t seed[32])
{
	static const char info[] = "OPAQUE-DeriveDiffieHellmanKeyPair";

	return nc_oprf_derive_keypair(sk, pk, seed, 32, (const uint8_t *)info,
	    sizeof info - 1);
}

int
nc_opaque_server_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t seed[32])
{
	return dh_keypair(sk, pk, seed);
}

static int
dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	if (!nc_oprf_element_ok(pk) || crypto_scalarmult_ristretto255(out, sk, pk) != 0)
		return nc_fail(NC_EDATA, "opaque: a key share is not a group element");
	return 0;
}

/* 4.1.2 CleartextCredentials: server pk || server identity || client identity */
static void
cleartext(struct cat *c, const uint8_t server_pk[NPK], const uint8_t client_pk[NPK],
    const struct nc_opaque_ids *ids)
{
	put(c, server_pk, NPK);
	if (ids->server)
		put16(c, ids->server, ids->server_len);
	else
		put16(c, server_pk, NPK);
	if (ids->client)
		put16(c, ids->client, ids->client_len);
	else
		put16(c, client_pk, NPK);
}

static int
ids_ok(const struct nc_opaque_ids *ids)
{
	if (ids->client_len > ID_MAX || ids->server_len > ID_MAX ||
	    ids->context_len > ID_MAX)
		return nc_fail(NC_EDATA, "opaque: an identity longer than %d bytes", ID_MAX);
	return 0;
}

/* 6.2.3 OPRF key for a credential identifier */
static int
oprf_key(uint8_t sk[32], const uint8_t seed[NC_OPAQUE_SEED], const uint8_t *cred_id,
    size_t cred_id_len)
{
	static const char info[] = "OPAQUE-DeriveKeyPair";
	uint8_t s[32], pk[32];
	int rc;

	if (cred_id_len > ID_MAX)
		return nc_fail(NC_EDATA, "opaque: credential identifier too long");
	if ((rc = expand(s, sizeof s, seed, NC_OPAQUE_SEED, cred_id, cred_id_len, "OprfKey")) == 0)
		rc = nc_oprf_derive_keypair(sk, pk, s, sizeof s, (const uint8_t *)info,
		    sizeof info - 1);
	sodium_memzero(s, sizeof s);
	return rc;
}

/* oprf_output -> randomized_password = Extract("", y || Stretch(y)) */
static int
randomize(uint8_t rwd[NH], const uint8_t y[NC_OPRF_OUTPUT], const struct nc_opaque_ksf *ksf)
{
	static const uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t in[2 * NH];

	memcpy(in, y, NH);
	if (ksf->ops == 0)
		memcpy(in + NH, y, NH);
	else if (crypto_pwhash(in + NH, NH, (const char *)y, NH, salt, ksf->ops,
	    ksf->mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(in, sizeof in);
		return nc_fail(NC_EOSERR, "opaque: Argon2id: out of memory");
	}
	nc_hkdf512_extract(rwd, NULL, 0, in, sizeof in);
	sodium_memzero(in, sizeof in);
	return 0;
}

/* 4.1.2/4.1.3: from randomized_password and an envelope nonce, the keys
 * and the client's key pair. */
static int
envelope_keys(struct nc_opaque_client *c, uint8_t export_key[NH],
    const uint8_t nonce[NN])
{
	uint8_t seed[32];
	int rc;

	if ((rc = expand(c->auth_key, NH, c->randomized_pw, NH, nonce, NN, "AuthKey")) == 0 &&
	    (rc = expand(export_key, NH, c->randomized_pw, NH, nonce, NN, "ExportKey")) == 0 &&
	    (rc = expand(seed, sizeof seed, c->randomized_pw, NH, nonce, NN, "PrivateKey")) == 0)
		rc = dh_keypair(c->client_sk, c->client_pk, seed);
	sodium_memzero(seed, sizeof seed);
	return rc;
}

static void
auth_tag(uint8_t tag[NH], const struct nc_opaque_client *c, const uint8_t nonce[NN],
    const struct nc_opaque_ids *ids)
{
	struct cat m = { .n = 0 };

	put(&m, nonce, NN);
	cleartext(&m, c->server_pk, c->client_pk, ids);
	mac(tag, c->auth_key, m.p, m.n);
	cat_wipe(&m);
}

int
nc_opaque_reg_start(struct nc_opaque_client *c, uint8_t request[NC_OPAQUE_REQUEST],
    const uint8_t *pw, size_t pwlen)
{
	memset(c, 0, sizeof *c);
	nc_oprf_random_scalar(c->blind);
	return nc_oprf_blind(request, c->blind, pw, pwlen);
}

int
nc_opaque_reg_respond(uint8_t response[NC_OPAQUE_RESPONSE],
    const uint8_t request[NC_OPAQUE_REQUEST], const uint8_t server_pk[32],
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t oprf_seed[NC_OPAQUE_SEED])
{
	uint8_t k[32];
	int rc;

	if ((rc = oprf_key(k, oprf_seed, cred_id, cred_id_len)) == 0 &&
	    (rc = nc_oprf_evaluate(response, k, request)) == 0)
		memcpy(response + 32, server_pk, 32);
	sodium_memzero(k, sizeof k);
	return rc;
}

/* Finalize the OPRF with the password and stretch it: c->randomized_pw. */
static int
unblind(struct nc_opaque_client *c, const uint8_t *pw, size_t pwlen,
    const uint8_t evaluated[32], const struct nc_opaque_ksf *ksf)
{
	uint8_t y[NC_OPRF_OUTPUT];
	int rc;

	if ((rc = nc_oprf_finalize(y, pw, pwlen, c->blind, evaluated)) == 0)
		rc = randomize(c->randomized_pw, y, ksf);
	sodium_memzero(y, sizeof y);
	return rc;
}

int
nc_opaque_reg_finish(struct nc_opaque_client *c, uint8_t record[NC_OPAQUE_RECORD],
    uint8_t export_key[NC_OPAQUE_KEY], const uint8_t *pw, size_t pwlen,
    const uint8_t response[NC_OPAQUE_RESPONSE], const struct nc_opaque_ids *ids,
    const struct nc_opaque_ksf *ksf)
{
	uint8_t nonce[NN];
	int rc;

	if ((rc = ids_ok(ids)) != 0)
		return rc;
	if (!nc_oprf_element_ok(response + 32))
		return nc_fail(NC_EDATA, "opaque: the server's public key is not a group element");
	memcpy(c->server_pk, response + 32, 32);
	nc_random(nonce, sizeof nonce);
	if ((rc = unblind(c, pw, pwlen, response, ksf)) != 0 ||
	    (rc = expand(c->masking_key, NH, c->randomized_pw, NH, NULL, 0, "MaskingKey")) != 0 ||
	    (rc = envelope_keys(c, export_key, nonce)) != 0)
		return rc;
	memcpy(record, c->client_pk, 32);
	memcpy(record + 32, c->masking_key, NH);
	memcpy(record + 32 + NH, nonce, NN);
	auth_tag(record + 32 + NH + NN, c, nonce, ids);
	return 0;
}

int
nc_opaque_ke1(struct nc_opaque_client *c, uint8_t ke1[NC_OPAQUE_KE1],
    const uint8_t *pw, size_t pwlen)
{
	uint8_t seed[32];
	int rc;

	memset(c, 0, sizeof *c);
	nc_oprf_random_scalar(c->blind);
	if ((rc = nc_oprf_blind(ke1, c->blind, pw, pwlen)) != 0)
		return rc;
	nc_random(ke1 + 32, NN);                       /* client nonce */
	nc_random(seed, sizeof seed);                  /* client keyshare seed */
	rc = dh_keypair(c->keyshare_sk, ke1 + 64, seed);
	sodium_memzero(seed, sizeof seed);
	memcpy(c->ke1, ke1, NC_OPAQUE_KE1);
	return rc;
}

/* 6.4.2 Expand-Label(secret, label, context, Nx) */
static int
derive_secret(uint8_t out[NH], const uint8_t secret[NH], const char *label,
    const uint8_t *ctx, size_t ctxlen)
{
	struct cat l = { .n = 0 };
	uint8_t b[2] = { 0, NH };
	int rc;

	put(&l, b, 2);
	b[0] = (uint8_t)(7 + strlen(label));
	put(&l, b, 1);
	put(&l, "OPAQUE-", 7);
	put(&l, label, strlen(label));
	b[0] = (uint8_t)ctxlen;
	put(&l, b, 1);
	put(&l, ctx, ctxlen);
	rc = nc_hkdf512_expand(out, NH, secret, NH, l.p, l.n);
	cat_wipe(&l);
	return rc;
}

/* 6.4.2 DeriveKeys, then the server's MAC and the client's expected one:
 * preamble is the transcript up to the server's key share. */
static int
derive_keys(uint8_t hs[NH], uint8_t km2[NH], uint8_t km3[NH], uint8_t session[NH],
    uint8_t server_mac[NH], uint8_t client_mac[NH], const uint8_t ikm[96],
    const struct cat *preamble)
{
	crypto_hash_sha512_state st;
	uint8_t prk[NH], h[NH];
	int rc;

	nc_hkdf512_extract(prk, NULL, 0, ikm, 96);
	crypto_hash_sha512(h, preamble->p, preamble->n);
	if ((rc = derive_secret(hs, prk, "HandshakeSecret", h, NH)) ||
	    (rc = derive_secret(session, prk, "SessionKey", h, NH)) ||
	    (rc = derive_secret(km2, hs, "ServerMAC", NULL, 0)) ||
	    (rc = derive_secret(km3, hs, "ClientMAC", NULL, 0)))
		goto done;
	mac(server_mac, km2, h, NH);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, preamble->p, preamble->n);
	crypto_hash_sha512_update(&st, server_mac, NH);
	crypto_hash_sha512_final(&st, h);
	mac(client_mac, km3, h, NH);
done:
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(h, sizeof h);
	return rc;
}

/* 6.4.2 Preamble, up to and including the server's key share */
static void
preamble(struct cat *p, const struct nc_opaque_ids *ids, const uint8_t client_pk[NPK],
    const uint8_t server_pk[NPK], const uint8_t ke1[NC_OPAQUE_KE1],
    const uint8_t ke2[NC_OPAQUE_KE2])
{
	put(p, "OPAQUEv1-", 9);
	put16(p, ids->context, ids->context_len);
	if (ids->client)
		put16(p, ids->client, ids->client_len);
	else
		put16(p, client_pk, NPK);
	put(p, ke1, NC_OPAQUE_KE1);
	if (ids->server)
		put16(p, ids->server, ids->server_len);
	else
		put16(p, server_pk, NPK);
	put(p, ke2, 192 + NN + 32);   /* credential response, nonce, key share */
}

int
nc_opaque_ke2(struct nc_opaque_server *s, uint8_t ke2[NC_OPAQUE_KE2],
    const struct nc_opaque_ids *ids, const uint8_t server_sk[32],
    const uint8_t server_pk[32], const uint8_t record[NC_OPAQUE_RECORD],
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t oprf_seed[NC_OPAQUE_SEED],
    const uint8_t ke1[NC_OPAQUE_KE1])
{
	struct cat p = { .n = 0 };
	uint8_t pad[NPK + NC_OPAQUE_ENVELOPE], ikm[96], seed[32], esk[32];
	size_t i;
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = ids_ok(ids)) != 0)
		return rc;
	if (!nc_oprf_element_ok(ke1 + 64))
		return nc_fail(NC_EDATA, "opaque: the client's key share is not a group element");
	/* 5.2.1 CreateCredentialResponse */
	if ((rc = oprf_key(s->oprf_key, oprf_seed, cred_id, cred_id_len)) != 0 ||
	    (rc = nc_oprf_evaluate(ke2, s->oprf_key, ke1)) != 0)
		goto done;
	nc_random(ke2 + 32, NN);                       /* masking nonce */
	if ((rc = expand(pad, sizeof pad, record + 32, NH, ke2 + 32, NN,
	    "CredentialResponsePad")) != 0)
		goto done;
	for (i = 0; i < sizeof pad; i++)
		ke2[64 + i] = pad[i] ^ (i < NPK ? server_pk[i] : record[32 + NH + i - NPK]);
	/* 6.4.3 AuthServerRespond */
	nc_random(ke2 + 192, NN);                      /* server nonce */
	nc_random(seed, sizeof seed);                  /* server keyshare seed */
	if ((rc = dh_keypair(esk, ke2 + 224, seed)) != 0)
		goto done;
	preamble(&p, ids, record, server_pk, ke1, ke2);
	if ((rc = dh(ikm, esk, ke1 + 64)) || (rc = dh(ikm + 32, server_sk, ke1 + 64)) ||
	    (rc = dh(ikm + 64, esk, record)))
		goto done;
	rc = derive_keys(s->handshake_secret, s->km2, s->km3, s->session_key,
	    ke2 + 256, s->expected_ke3, ikm, &p);
done:
	if (p.over)
		rc = nc_fail(NC_ESOFTWARE, "opaque: transcript too long");
	cat_wipe(&p);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(ikm, sizeof ikm);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(esk, sizeof esk);
	return rc;
}

int
nc_opaque_ke3(struct nc_opaque_client *c, uint8_t ke3[NC_OPAQUE_KE3],
    uint8_t session_key[NC_OPAQUE_KEY], uint8_t export_key[NC_OPAQUE_KEY],
    const uint8_t *pw, size_t pwlen, const uint8_t ke2[NC_OPAQUE_KE2],
    const struct nc_opaque_ids *ids, const struct nc_opaque_ksf *ksf)
{
	struct cat p = { .n = 0 };
	uint8_t pad[NPK + NC_OPAQUE_ENVELOPE], plain[NPK + NC_OPAQUE_ENVELOPE];
	uint8_t ikm[96], tag[NH], server_mac[NH];
	size_t i;
	int rc;

	if ((rc = ids_ok(ids)) != 0)
		return rc;
	if (!nc_oprf_element_ok(ke2 + 224))
		return nc_fail(NC_EDATA, "opaque: the server's key share is not a group element");
	/* 6.3.2.2 RecoverCredentials */
	if ((rc = unblind(c, pw, pwlen, ke2, ksf)) != 0 ||
	    (rc = expand(c->masking_key, NH, c->randomized_pw, NH, NULL, 0, "MaskingKey")) != 0 ||
	    (rc = expand(pad, sizeof pad, c->masking_key, NH, ke2 + 32, NN,
	    "CredentialResponsePad")) != 0)
		goto done;
	for (i = 0; i < sizeof pad; i++)
		plain[i] = pad[i] ^ ke2[64 + i];
	memcpy(c->server_pk, plain, NPK);
	/* 4.1.3 Recover: the envelope's tag proves the password and the server */
	if ((rc = envelope_keys(c, export_key, plain + NPK)) != 0)
		goto done;
	auth_tag(tag, c, plain + NPK, ids);
	if (!nc_oprf_element_ok(c->server_pk) ||
	    sodium_memcmp(tag, plain + NPK + NN, NH) != 0) {
		rc = nc_fail(NC_EPERM, "wrong user or password");
		goto done;
	}
	/* 6.4.4 AuthClientFinalize */
	preamble(&p, ids, c->client_pk, c->server_pk, c->ke1, ke2);
	if ((rc = dh(ikm, c->keyshare_sk, ke2 + 224)) ||
	    (rc = dh(ikm + 32, c->keyshare_sk, c->server_pk)) ||
	    (rc = dh(ikm + 64, c->client_sk, ke2 + 224)) ||
	    (rc = derive_keys(c->handshake_secret, c->km2, c->km3, session_key,
	    server_mac, ke3, ikm, &p)))
		goto done;
	if (sodium_memcmp(server_mac, ke2 + 256, NH) != 0)
		rc = nc_fail(NC_EPERM, "opaque: the server did not prove its key");
done:
	if (rc == 0 && p.over)
		rc = nc_fail(NC_ESOFTWARE, "opaque: transcript too long");
	if (rc != 0) {
		sodium_memzero(ke3, NC_OPAQUE_KE3);
		sodium_memzero(session_key, NC_OPAQUE_KEY);
		sodium_memzero(export_key, NC_OPAQUE_KEY);
	}
	cat_wipe(&p);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(plain, sizeof plain);
	sodium_memzero(ikm, sizeof ikm);
	sodium_memzero(tag, sizeof tag);
	return rc;
}

int
nc_opaque_server_finish(const struct nc_opaque_server *s,
    uint8_t session_key[NC_OPAQUE_KEY], const uint8_t ke3[NC_OPAQUE_KE3])
{
	if (sodium_memcmp(s->expected_ke3, ke3, NC_OPAQUE_KE3) != 0)
		return nc_fail(NC_EPERM, "wrong user or password");
	memcpy(session_key, s->session_key, NC_OPAQUE_KEY);
	return 0;
}

void
nc_opaque_fake_record(uint8_t record[NC_OPAQUE_RECORD])
{
	uint8_t seed[32], sk[32];

	do
		nc_random(seed, sizeof seed);
	while (dh_keypair(sk, record, seed) != 0);
	nc_random(record + 32, NH);
	memset(record + 32 + NH, 0, NC_OPAQUE_ENVELOPE);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
}
