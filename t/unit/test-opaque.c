/* test-opaque.c - OPAQUE-3DH (lib/proto/opaque.c) and the OPRF under it
 * against RFC 9807's vectors for OPRF ristretto255-SHA512 / group
 * ristretto255 (t/vectors/opaque/vectors.json; KSF identity): every
 * message, the export and session keys and every intermediate value, the
 * real vectors (with and without identities) and the fake one (an unknown
 * user's KE2). Then Argon2id as the KSF, and refusals: a wrong password, a
 * byte changed anywhere in KE2 or KE3, a group element that is not one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "opaque.h"
#include "oprf.h"
#include "rng.h"
#include "check.h"

/* ---- one vector, as "name hex" lines from jq ---- */
#define MAXV 48
static struct { char name[40]; uint8_t v[512]; size_t n; } vec[MAXV];
static int nvec;

static const uint8_t *
get(const char *name, size_t *n)
{
	int i;

	for (i = 0; i < nvec; i++)
		if (strcmp(vec[i].name, name) == 0) {
			if (n)
				*n = vec[i].n;
			return vec[i].v;
		}
	return NULL;
}

static const uint8_t *
need(const char *name, size_t n)
{
	size_t got = 0;
	const uint8_t *p = get(name, &got);

	if (p == NULL || got != n) {
		fprintf(stderr, "vector: %s missing or not %zu bytes\n", name, n);
		CHECK(!"vector field present");
		static const uint8_t zero[512];
		return zero;
	}
	return p;
}

static int
load(int index)
{
	char cmd[512], line[2048], *sp;
	FILE *p;

	snprintf(cmd, sizeof cmd, "jq -r '.[%d] | (.config, .inputs, .intermediates, "
	    ".outputs) | to_entries[] | \"\\(.key) \\(.value)\"' '%s/opaque/vectors.json'",
	    index, check_vectors());
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	nvec = 0;
	while (fgets(line, sizeof line, p) && nvec < MAXV) {
		line[strcspn(line, "\n")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		if (strlen(line) >= sizeof vec[nvec].name)
			continue;
		memcpy(vec[nvec].name, line, strlen(line) + 1);
		if (sodium_hex2bin(vec[nvec].v, sizeof vec[nvec].v, sp + 1, strlen(sp + 1),
		    NULL, &vec[nvec].n, NULL) != 0)   /* not hex: keep as text */
			vec[nvec].n = strlen(sp + 1) < sizeof vec[nvec].v ?
			    (memcpy(vec[nvec].v, sp + 1, strlen(sp + 1)), strlen(sp + 1)) : 0;
		nvec++;
	}
	return pclose(p) == 0 && nvec > 0 ? 0 : -1;
}

static int
is(const char *name, const char *text)
{
	size_t n;
	const uint8_t *p = get(name, &n);

	return p && n == strlen(text) && memcmp(p, text, n) == 0;
}

/* ---- randomness: the vector's values, in the order the RFC draws them ---- */
static const uint8_t *queue[4];
static size_t queue_n[4];
static int queue_len, queue_pos, queue_bad;

static void
from_queue(void *ctx, void *p, size_t n)
{
	(void)ctx;
	if (queue_pos >= queue_len || queue_n[queue_pos] != n) {
		queue_bad = 1;
		memset(p, 0x55, n);
		return;
	}
	memcpy(p, queue[queue_pos++], n);
}

static void
draws(const char *a, const char *b, const char *c)
{
	const char *names[3] = { a, b, c };
	int i;

	queue_len = queue_pos = queue_bad = 0;
	for (i = 0; i < 3 && names[i]; i++) {
		queue[i] = need(names[i], 32);
		queue_n[i] = 32;
		queue_len++;
	}
	nc_random_set_test(from_queue, NULL);
}

static void
drawn(void)
{
	CHECK(!queue_bad && queue_pos == queue_len);
	nc_random_set_test(NULL, NULL);
}

static void
ids_of(struct nc_opaque_ids *ids)
{
	size_t n;

	memset(ids, 0, sizeof *ids);
	ids->context = get("Context", &ids->context_len);
	if ((ids->client = get("client_identity", &n)) != NULL)
		ids->client_len = n;
	if ((ids->server = get("server_identity", &n)) != NULL)
		ids->server_len = n;
}

static const struct nc_opaque_ksf identity_ksf = { 0, 0 };

static void
real(int index)
{
	struct nc_opaque_client c;
	struct nc_opaque_server s;
	struct nc_opaque_ids ids;
	uint8_t req[32], resp[64], rec[NC_OPAQUE_RECORD], exp[64], ke1[96], ke2[320];
	uint8_t ke3[64], sk_c[64], sk_s[64], exp2[64];
	size_t pwn, cidn;
	const uint8_t *pw, *cid;

	CHECK_INT(load(index), 0);
	CHECK(is("Group", "ristretto255") && is("Fake", "False"));
	ids_of(&ids);
	pw = get("password", &pwn);
	cid = get("credential_identifier", &cidn);

	draws("blind_registration", NULL, NULL);
	CHECK_INT(nc_opaque_reg_start(&c, req, pw, pwn), 0);
	drawn();
	CHECK_MEM(req, need("registration_request", 32), 32);
	CHECK_INT(nc_opaque_reg_respond(resp, req, need("server_public_key", 32), cid, cidn,
	    need("oprf_seed", 64)), 0);
	CHECK_MEM(resp, need("registration_response", 64), 64);
	draws("envelope_nonce", NULL, NULL);
	CHECK_INT(nc_opaque_reg_finish(&c, rec, exp, pw, pwn, resp, &ids, &identity_ksf), 0);
	drawn();
	CHECK_MEM(rec, need("registration_upload", 192), 192);
	CHECK_MEM(rec + 96, need("envelope", 96), 96);
	CHECK_MEM(exp, need("export_key", 64), 64);
	CHECK_MEM(c.randomized_pw, need("randomized_password", 64), 64);
	CHECK_MEM(c.masking_key, need("masking_key", 64), 64);
	CHECK_MEM(c.auth_key, need("auth_key", 64), 64);
	CHECK_MEM(c.client_pk, need("client_public_key", 32), 32);

	draws("blind_login", "client_nonce", "client_keyshare_seed");
	CHECK_INT(nc_opaque_ke1(&c, ke1, pw, pwn), 0);
	drawn();
	CHECK_MEM(ke1, need("KE1", 96), 96);
	draws("masking_nonce", "server_nonce", "server_keyshare_seed");
	CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, need("server_private_key", 32),
	    need("server_public_key", 32), rec, cid, cidn, need("oprf_seed", 64), ke1), 0);
	drawn();
	CHECK_MEM(ke2, need("KE2", 320), 320);
	CHECK_MEM(s.oprf_key, need("oprf_key", 32), 32);
	CHECK_MEM(s.handshake_secret, need("handshake_secret", 64), 64);
	CHECK_MEM(s.km2, need("server_mac_key", 64), 64);
	CHECK_MEM(s.km3, need("client_mac_key", 64), 64);
	CHECK_INT(nc_opaque_ke3(&c, ke3, sk_c, exp2, pw, pwn, ke2, &ids, &identity_ksf), 0);
	CHECK_MEM(ke3, need("KE3", 64), 64);
	CHECK_MEM(sk_c, need("session_key", 64), 64);
	CHECK_MEM(exp2, need("export_key", 64), 64);
	CHECK_MEM(c.server_pk, need("server_public_key", 32), 32);
	CHECK_MEM(c.handshake_secret, need("handshake_secret", 64), 64);
	CHECK_MEM(c.km2, need("server_mac_key", 64), 64);
	CHECK_MEM(c.km3, need("client_mac_key", 64), 64);
	CHECK_INT(nc_opaque_server_finish(&s, sk_s, ke3), 0);
	CHECK_MEM(sk_s, need("session_key", 64), 64);
	printf("# real vector %d: registration, KE1, KE2, KE3, keys and intermediates\n", index);
}

static void
fake(int index)
{
	struct nc_opaque_server s;
	struct nc_opaque_ids ids;
	uint8_t rec[NC_OPAQUE_RECORD], ke2[320];
	size_t cidn;
	const uint8_t *cid;

	CHECK_INT(load(index), 0);
	CHECK(is("Group", "ristretto255") && is("Fake", "True"));
	ids_of(&ids);
	cid = get("credential_identifier", &cidn);
	memcpy(rec, need("client_public_key", 32), 32);
	memcpy(rec + 32, need("masking_key", 64), 64);
	memset(rec + 96, 0, 96);
	draws("masking_nonce", "server_nonce", "server_keyshare_seed");
	CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, need("server_private_key", 32),
	    need("server_public_key", 32), rec, cid, cidn, need("oprf_seed", 64),
	    need("KE1", 96)), 0);
	drawn();
	CHECK_MEM(ke2, need("KE2", 320), 320);
	printf("# fake vector %d: an unknown user's KE2\n", index);
}

/* Fresh randomness, Argon2id: a whole registration and login, then every
 * way a login must fail. */
static void
live(void)
{
	static const char pw[] = "correct horse", bad[] = "correct horsf";
	static const uint8_t ctx[] = "newchat opaque v1", user[] = "alice@a.test",
	    dom[] = "a.test";
	struct nc_opaque_ids ids = { ctx, sizeof ctx - 1, user, dom, sizeof user - 1,
	    sizeof dom - 1 };
	struct nc_opaque_ksf ksf = { crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };
	struct nc_opaque_client c;
	struct nc_opaque_server s;
	uint8_t seed[32], ssk[32], spk[32], oseed[64], req[32], resp[64], rec[192];
	uint8_t exp[64], exp2[64], ke1[96], ke2[320], ke3[64], k1[64], k2[64], frec[192];
	uint8_t ke2b[320], ke3b[64], ke2_fake[320];
	size_t i;
	int refused = 0, fake_refused = 0;

	randombytes_buf(seed, sizeof seed);
	randombytes_buf(oseed, sizeof oseed);
	CHECK_INT(nc_opaque_server_keypair(ssk, spk, seed), 0);
	CHECK_INT(nc_opaque_reg_start(&c, req, (const uint8_t *)pw, strlen(pw)), 0);
	CHECK_INT(nc_opaque_reg_respond(resp, req, spk, user, sizeof user - 1, oseed), 0);
	CHECK_INT(nc_opaque_reg_finish(&c, rec, exp, (const uint8_t *)pw, strlen(pw), resp,
	    &ids, &ksf), 0);

	CHECK_INT(nc_opaque_ke1(&c, ke1, (const uint8_t *)pw, strlen(pw)), 0);
	CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, ssk, spk, rec, user, sizeof user - 1, oseed, ke1), 0);
	CHECK_INT(nc_opaque_ke3(&c, ke3, k1, exp2, (const uint8_t *)pw, strlen(pw), ke2, &ids, &ksf), 0);
	CHECK_INT(nc_opaque_server_finish(&s, k2, ke3), 0);
	CHECK_MEM(k1, k2, 64);
	CHECK_MEM(exp, exp2, 64);
	CHECK_MEM(c.server_pk, spk, 32);

	/* the identity KSF gives another export key: the cost is not optional */
	{
		struct nc_opaque_ksf none = { 0, 0 };
		uint8_t k3[64], exp3[64], ke3c[64];
		CHECK_INT(nc_opaque_ke1(&c, ke1, (const uint8_t *)pw, strlen(pw)), 0);
		CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, ssk, spk, rec, user, sizeof user - 1, oseed, ke1), 0);
		CHECK_INT(nc_opaque_ke3(&c, ke3c, k3, exp3, (const uint8_t *)pw, strlen(pw), ke2,
		    &ids, &none), NC_EPERM);
	}

	/* a wrong password: NC_EPERM, nothing out */
	CHECK_INT(nc_opaque_ke1(&c, ke1, (const uint8_t *)bad, strlen(bad)), 0);
	CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, ssk, spk, rec, user, sizeof user - 1, oseed, ke1), 0);
	CHECK_INT(nc_opaque_ke3(&c, ke3, k1, exp2, (const uint8_t *)bad, strlen(bad), ke2, &ids, &ksf),
	    NC_EPERM);
	CHECK_STR(nc_errmsg(), "wrong user or password");

	/* other identities than at registration: refused */
	{
		struct nc_opaque_ids other = ids;
		other.client = (const uint8_t *)"mallory@a.test";
		other.client_len = 14;
		CHECK_INT(nc_opaque_ke1(&c, ke1, (const uint8_t *)pw, strlen(pw)), 0);
		CHECK_INT(nc_opaque_ke2(&s, ke2, &other, ssk, spk, rec, user, sizeof user - 1, oseed, ke1), 0);
		CHECK(nc_opaque_ke3(&c, ke3, k1, exp2, (const uint8_t *)pw, strlen(pw), ke2, &other,
		    &ksf) != 0);
	}

	/* every byte of KE2 changed in turn: the client refuses each
	 * (the minimal Argon2id keeps this loop affordable) */
	CHECK_INT(nc_opaque_ke1(&c, ke1, (const uint8_t *)pw, strlen(pw)), 0);
	CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, ssk, spk, rec, user, sizeof user - 1, oseed, ke1), 0);
	for (i = 0; i < sizeof ke2; i += (getenv("NC_QUICK") ? 37 : 1)) {
		struct nc_opaque_client cc = c;
		memcpy(ke2b, ke2, sizeof ke2);
		ke2b[i] ^= 0x01;
		refused += nc_opaque_ke3(&cc, ke3b, k1, exp2, (const uint8_t *)pw, strlen(pw), ke2b,
		    &ids, &ksf) != 0;
		sodium_memzero(&cc, sizeof cc);
	}
	CHECK_INT(refused, getenv("NC_QUICK") ? (sizeof ke2 + 36) / 37 : sizeof ke2);
	/* and the untouched KE2 still works; every byte of KE3 changed: the
	 * server refuses each */
	CHECK_INT(nc_opaque_ke3(&c, ke3, k1, exp2, (const uint8_t *)pw, strlen(pw), ke2, &ids, &ksf), 0);
	for (i = 0, refused = 0; i < sizeof ke3; i++) {
		memcpy(ke3b, ke3, sizeof ke3);
		ke3b[i] ^= 0x80;
		refused += nc_opaque_server_finish(&s, k2, ke3b) == NC_EPERM;
	}
	CHECK_INT(refused, 64);

	/* an unknown user: a fake record answers; the client fails exactly as
	 * for a wrong password */
	nc_opaque_fake_record(frec);
	CHECK_INT(nc_opaque_ke1(&c, ke1, (const uint8_t *)pw, strlen(pw)), 0);
	CHECK_INT(nc_opaque_ke2(&s, ke2_fake, &ids, ssk, spk, frec, (const uint8_t *)"nobody@a.test",
	    13, oseed, ke1), 0);
	fake_refused = nc_opaque_ke3(&c, ke3, k1, exp2, (const uint8_t *)pw, strlen(pw), ke2_fake,
	    &ids, &ksf);
	CHECK_INT(fake_refused, NC_EPERM);
	CHECK_STR(nc_errmsg(), "wrong user or password");

	/* group elements that are not: the identity and a non-canonical one */
	{
		uint8_t zero[32] = { 0 }, ff[32], out[32];
		memset(ff, 0xff, sizeof ff);
		CHECK_INT(nc_oprf_evaluate(out, ssk, zero), NC_EDATA);
		CHECK_INT(nc_oprf_evaluate(out, ssk, ff), NC_EDATA);
		CHECK_INT(nc_opaque_reg_respond(resp, zero, spk, user, 12, oseed), NC_EDATA);
		memcpy(ke2b, ke1, 96);
		memset(ke2b + 64, 0, 32);   /* KE1 with an identity key share */
		CHECK_INT(nc_opaque_ke2(&s, ke2, &ids, ssk, spk, rec, user, 12, oseed, ke2b), NC_EDATA);
	}
	sodium_memzero(&c, sizeof c);
	sodium_memzero(&s, sizeof s);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	real(0);   /* no identities */
	real(1);   /* client "alice", server "bob" */
	fake(6);
	live();
	return check_done("opaque");
}
