/* test-api.c - relay API bodies, hex and request signatures: round trips,
 * every truncation and trailing byte rejected, count bounds enforced. */
#include <string.h>

#include <sodium.h>

#include "relaymsg.h"
#include "check.h"
#include "devlist.h"   /* must coexist with relaymsg.h */
#include "err.h"
#include "hex.h"
#include "reqsig.h"

typedef int (*decfn)(void *out, const void *p, size_t n);

/* Every proper prefix and one extra trailing byte must be refused. */
static void
check_strict(decfn dec, void *out, const nc_buf *b, int empty_ok)
{
	uint8_t *tmp = malloc(b->len + 1);
	int bad = 0;

	memcpy(tmp, b->p, b->len);
	for (size_t i = 0; i < b->len; i++)
		if (dec(out, tmp, i) == 0 && !(i == 0 && empty_ok))
			bad++;
	CHECK_INT(bad, 0);
	tmp[b->len] = 0;
	CHECK(dec(out, tmp, b->len + 1) != 0);
	tmp[0] = 2;   /* unknown version */
	CHECK(dec(out, tmp, b->len) != 0);
	free(tmp);
}

static void
test_names(void)
{
	char u[NC_NAME_MAX + 1], d[NC_DOMAIN_MAX + 1], big[100];

	CHECK(nc_name_valid("alice"));
	CHECK(nc_name_valid("a.b_c-9"));
	CHECK(!nc_name_valid(""));
	CHECK(!nc_name_valid("Alice"));
	CHECK(!nc_name_valid("al ice"));
	CHECK(!nc_name_valid("al/ice"));
	memset(big, 'a', 64); big[64] = 0;
	CHECK(nc_name_valid(big));
	big[64] = 'a'; big[65] = 0;
	CHECK(!nc_name_valid(big));
	CHECK_INT(nc_addr_split("bob@b.test", u, d), 0);
	CHECK_STR(u, "bob");
	CHECK_STR(d, "b.test");
	CHECK_INT(nc_addr_split("bob@127.0.0.1:8080", u, d), 0);
	CHECK(nc_addr_split("bob", u, d) != 0);
	CHECK(nc_addr_split("@b.test", u, d) != 0);
	CHECK(nc_addr_split("bob@", u, d) != 0);
	CHECK(nc_addr_split("bob@B.test", u, d) != 0);
	CHECK(nc_addr_split("bob@b..test", u, d) != 0);
	CHECK(nc_addr_split("bob@b@test", u, d) != 0);
	CHECK(nc_addr_split("bob@b.test:", u, d) != 0);
	/* A relay's or a config's domain follows the rule of the names in
	 * device lists (nc_addr_valid), so every domain a relay accepts can
	 * name a user (protocol.md 0). */
	{
		static const char *dom[] = { "a.test", "127.0.0.1:8080",
		    "a-b.test", "x", "a.test:1", "a.test:65535", "-a.test",
		    "a-.test", "a.-b", "a.test.", ".a.test", "a.test:0",
		    "a.test:080", "a.test:65536", "a.test:99999", "a_b.test",
		    "a.test:", ":80", "A.test", "a.test:8a" };
		char addr[400];

		for (size_t i = 0; i < sizeof dom / sizeof dom[0]; i++) {
			snprintf(addr, sizeof addr, "bob@%s", dom[i]);
			CHECK_INT(nc_domain_valid(dom[i]), nc_addr_valid(addr));
			CHECK_INT(nc_domain_valid(dom[i]), i < 6);
		}
		memset(big, 'a', 63);
		big[63] = 0;
		CHECK(nc_domain_valid(big));
		big[63] = 'a'; big[64] = 0;
		CHECK(!nc_domain_valid(big));   /* a label is at most 63 */
	}
}

static void
test_hex(void)
{
	uint8_t b[4] = { 0, 0xab, 0x10, 0xff }, o[4];
	char s[9];

	nc_hex_encode(s, b, 4);
	CHECK_STR(s, "00ab10ff");
	CHECK_INT(nc_hex_decode(o, 4, s, 8), 0);
	CHECK_MEM(o, b, 4);
	CHECK(nc_hex_decode(o, 4, "00AB10FF", 8) != 0);
	CHECK(nc_hex_decode(o, 4, "00ab10f", 7) != 0);
	CHECK(nc_hex_decode(o, 4, "00ab10ffaa", 10) != 0);
	CHECK(nc_hex_decode(o, 4, "00ab10fg", 8) != 0);
}

static void
test_register(void)
{
	struct nc_register r, r2;
	nc_buf b = NC_BUF_INIT;

	randombytes_buf(&r, sizeof r);
	r.opslimit = 3; r.memlimit = 1 << 26;
	strcpy(r.invite, "abc");
	CHECK_INT(nc_register_enc(&b, &r), 0);
	CHECK_INT(nc_register_dec(&r2, b.p, b.len), 0);
	CHECK_MEM(r2.auth_pk, r.auth_pk, 32);
	CHECK_MEM(r2.salt, r.salt, 16);
	CHECK_MEM(r2.device_sign_pk, r.device_sign_pk, 32);
	CHECK_INT(r2.memlimit, 1 << 26);
	CHECK_STR(r2.invite, "abc");
	check_strict((decfn)nc_register_dec, &r2, &b, 0);
	nc_buf_free(&b);
	memset(r.invite, 'x', NC_INVITE_MAX + 1); r.invite[NC_INVITE_MAX] = 0;
	CHECK_INT(nc_register_enc(&b, &r), 0);
	nc_buf_free(&b);
}

static void
test_auth(void)
{
	uint8_t pk[32], sk[64];
	struct nc_authreq a, a2;
	struct nc_challenge c, c2;
	nc_buf b = NC_BUF_INIT;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(a.nonce, sizeof a.nonce);
	randombytes_buf(a.device_sign_pk, sizeof a.device_sign_pk);
	CHECK_INT(nc_auth_sign(&a, NC_AUTH_ADD_DEVICE, "bob@b.test", sk), 0);
	CHECK_INT(nc_auth_verify(&a, NC_AUTH_ADD_DEVICE, "bob@b.test", pk), 0);
	CHECK(nc_auth_verify(&a, NC_AUTH_DELETE, "bob@b.test", pk) != 0);
	CHECK(nc_auth_verify(&a, NC_AUTH_ADD_DEVICE, "eve@b.test", pk) != 0);
	CHECK_INT(nc_adddev_enc(&b, &a), 0);
	CHECK_INT(b.len, 1 + 32 + 32 + 64);
	CHECK_INT(nc_adddev_dec(&a2, b.p, b.len), 0);
	CHECK_MEM(&a2, &a, sizeof a);
	check_strict((decfn)nc_adddev_dec, &a2, &b, 0);
	nc_buf_reset(&b);
	CHECK_INT(nc_auth_sign(&a, NC_AUTH_DELETE, "bob@b.test", sk), 0);
	CHECK_INT(nc_delete_enc(&b, &a), 0);
	CHECK_INT(b.len, 1 + 32 + 64);
	CHECK_INT(nc_delete_dec(&a2, b.p, b.len), 0);
	CHECK_INT(nc_auth_verify(&a2, NC_AUTH_DELETE, "bob@b.test", pk), 0);
	check_strict((decfn)nc_delete_dec, &a2, &b, 0);
	nc_buf_reset(&b);
	randombytes_buf(&c, sizeof c);
	CHECK_INT(nc_challenge_enc(&b, &c), 0);
	CHECK_INT(nc_challenge_dec(&c2, b.p, b.len), 0);
	CHECK_MEM(&c2, &c, sizeof c);
	check_strict((decfn)nc_challenge_dec, &c2, &b, 0);
	nc_buf_free(&b);
}

static void
test_prekeys(void)
{
	static struct nc_prekeys k, k2;
	struct nc_prekey_count c, c2;
	nc_buf b = NC_BUF_INIT;

	randombytes_buf(&k, sizeof k);
	k.has_spk = 1;
	k.n = 3;
	CHECK_INT(nc_prekeys_enc(&b, &k), 0);
	CHECK_INT(nc_prekeys_dec(&k2, b.p, b.len), 0);
	CHECK_INT(k2.spk_id, k.spk_id);
	CHECK_MEM(k2.spk_sig, k.spk_sig, 64);
	CHECK_INT(k2.n, 3);
	CHECK_MEM(k2.otpk, k.otpk, 3 * sizeof k.otpk[0]);
	check_strict((decfn)nc_prekeys_dec, &k2, &b, 0);
	nc_buf_reset(&b);
	/* The largest upload: a signed prekey and 200 one-time prekeys. */
	k.n = NC_PREKEY_UPLOAD_MAX;
	CHECK_INT(nc_prekeys_enc(&b, &k), 0);
	CHECK_INT(b.len, 7304);
	CHECK_INT(b.len, NC_PREKEYS_BODY_MAX);
	nc_buf_reset(&b);
	k.has_spk = 0;
	CHECK_INT(nc_prekeys_enc(&b, &k), 0);
	CHECK_INT(nc_prekeys_dec(&k2, b.p, b.len), 0);
	CHECK_INT(k2.has_spk, 0);
	b.p[2] = 0; b.p[3] = NC_PREKEY_UPLOAD_MAX + 1;   /* count over the bound */
	CHECK(nc_prekeys_dec(&k2, b.p, b.len) != 0);
	nc_buf_reset(&b);
	k.n = NC_PREKEY_UPLOAD_MAX + 1;
	CHECK(nc_prekeys_enc(&b, &k) != 0);
	nc_buf_reset(&b);
	c.spk_id = 7; c.otpk_count = 99;
	CHECK_INT(nc_prekey_count_enc(&b, &c), 0);
	CHECK_INT(nc_prekey_count_dec(&c2, b.p, b.len), 0);
	CHECK_INT(c2.otpk_count, 99);
	check_strict((decfn)nc_prekey_count_dec, &c2, &b, 0);
	nc_buf_free(&b);
}

static void
test_claim(void)
{
	static struct nc_claim_req q, q2;
	static struct nc_claim_resp r, r2;
	nc_buf b = NC_BUF_INIT;

	q.n = 0;
	CHECK_INT(nc_claim_req_enc(&b, &q), 0);
	CHECK_INT(b.len, 0);
	CHECK_INT(nc_claim_req_dec(&q2, b.p, 0), 0);
	CHECK_INT(q2.n, 0);
	randombytes_buf(q.dev, sizeof q.dev);
	q.n = 2;
	CHECK_INT(nc_claim_req_enc(&b, &q), 0);
	CHECK_INT(nc_claim_req_dec(&q2, b.p, b.len), 0);
	CHECK_MEM(q2.dev, q.dev, 2 * 16);
	check_strict((decfn)nc_claim_req_dec, &q2, &b, 1);
	nc_buf_reset(&b);
	/* The largest claim (64 devices) is 1,027 bytes: the relay's limit for
	 * the route is this size, not the 1,024 of the other small bodies. */
	q.n = NC_CLAIM_MAX;
	CHECK_INT(nc_claim_req_enc(&b, &q), 0);
	CHECK_INT(b.len, 1027);
	CHECK_INT(b.len, NC_CLAIM_BODY_MAX);
	CHECK_INT(nc_claim_req_dec(&q2, b.p, b.len), 0);
	CHECK_INT(q2.n, NC_CLAIM_MAX);
	CHECK_MEM(q2.dev, q.dev, sizeof q.dev);
	q.n = NC_CLAIM_MAX + 1;
	nc_buf_reset(&b);
	CHECK(nc_claim_req_enc(&b, &q) != 0);
	nc_buf_reset(&b);
	randombytes_buf(&r, sizeof r);
	r.n = 2;
	r.b[0].has_otpk = 1;
	r.b[1].has_otpk = 0;
	CHECK_INT(nc_claim_resp_enc(&b, &r), 0);
	CHECK_INT(nc_claim_resp_dec(&r2, b.p, b.len), 0);
	CHECK_INT(r2.n, 2);
	CHECK_MEM(r2.b[0].otpk_pk, r.b[0].otpk_pk, 32);
	CHECK_INT(r2.b[1].has_otpk, 0);
	CHECK_MEM(r2.b[1].spk_sig, r.b[1].spk_sig, 64);
	check_strict((decfn)nc_claim_resp_dec, &r2, &b, 0);
	nc_buf_free(&b);
}

static void
test_mail(void)
{
	static struct nc_deliver d, d2;
	static struct nc_mailbox m, m2;
	static struct nc_ack a, a2;
	uint8_t env[400], big[NC_ENVELOPE_MAX + 1];
	uint64_t v;
	nc_buf b = NC_BUF_INIT;

	randombytes_buf(env, sizeof env);
	randombytes_buf(&d, sizeof d);
	d.n = 2;
	for (int i = 0; i < 2; i++) {
		d.item[i].env = env;
		d.item[i].len = sizeof env - (size_t)i;
	}
	CHECK_INT(nc_deliver_enc(&b, &d), 0);
	CHECK_INT(nc_deliver_dec(&d2, b.p, b.len), 0);
	CHECK_INT(d2.devlist_version, d.devlist_version);
	CHECK_INT(d2.item[1].len, 399);
	CHECK_MEM(d2.item[1].env, env, 399);
	CHECK_MEM(d2.item[1].envid, d.item[1].envid, 16);
	check_strict((decfn)nc_deliver_dec, &d2, &b, 0);
	nc_buf_reset(&b);
	d.n = 1;
	d.item[0].env = big;
	d.item[0].len = sizeof big;
	CHECK(nc_deliver_enc(&b, &d) != 0);
	nc_buf_reset(&b);
	CHECK_INT(nc_version_enc(&b, 42), 0);
	CHECK_INT(nc_version_dec(&v, b.p, b.len), 0);
	CHECK_INT(v, 42);
	CHECK(nc_version_dec(&v, b.p, 7) != 0);
	nc_buf_reset(&b);

	m.n = 3;
	for (int i = 0; i < 3; i++) {
		m.m[i].cursor = 10 + (uint64_t)i;
		randombytes_buf(m.m[i].envid, 16);
		m.m[i].received = 1700000000;
		m.m[i].env = env;
		m.m[i].len = 100 + (size_t)i;
	}
	CHECK_INT(nc_mailbox_enc(&b, &m), 0);
	CHECK_INT(nc_mailbox_dec(&m2, b.p, b.len), 0);
	CHECK_INT(m2.n, 3);
	CHECK_INT(m2.m[2].cursor, 12);
	CHECK_INT(m2.m[2].len, 102);
	check_strict((decfn)nc_mailbox_dec, &m2, &b, 0);
	nc_buf_reset(&b);
	m.m[1].cursor = 10;   /* cursors must increase */
	CHECK_INT(nc_mailbox_enc(&b, &m), 0);
	CHECK(nc_mailbox_dec(&m2, b.p, b.len) != 0);
	nc_buf_reset(&b);

	randombytes_buf(a.envid, sizeof a.envid);
	a.n = NC_ACK_MAX;
	CHECK_INT(nc_ack_enc(&b, &a), 0);
	CHECK_INT(nc_ack_dec(&a2, b.p, b.len), 0);
	CHECK_MEM(a2.envid, a.envid, sizeof a.envid);
	check_strict((decfn)nc_ack_dec, &a2, &b, 0);
	a.n = NC_ACK_MAX + 1;
	nc_buf_reset(&b);
	CHECK(nc_ack_enc(&b, &a) != 0);
	a.n = 0;
	CHECK(nc_ack_enc(&b, &a) != 0);
	nc_buf_free(&b);
}

static void
test_reqsig(void)
{
	uint8_t pk[32], sk[64], dev[16], pk2[32], sk2[64];
	nc_reqsig_hdrs h;
	nc_reqsig r;
	const char *body = "hello";
	int64_t now = 1800000000;

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	CHECK_INT(nc_reqsig_sign(&h, sk, "GET", "/v1/x?a=1", now, body, 5), 0);
	CHECK_INT(nc_reqsig_parse(&r, h.device, h.time, h.nonce, h.sig), 0);
	nc_device_id(dev, pk);
	CHECK_MEM(r.dev, dev, 16);
	CHECK_INT(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=1", body, 5, now), 0);
	CHECK_INT(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=1", body, 5, now + 300), 0);
	CHECK(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=1", body, 5, now + 301) != 0);
	CHECK(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=1", body, 5, now - 301) != 0);
	CHECK(nc_reqsig_verify(&r, pk, "PUT", "/v1/x?a=1", body, 5, now) != 0);
	CHECK(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=2", body, 5, now) != 0);
	CHECK(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=1", "hellp", 5, now) != 0);
	CHECK(nc_reqsig_verify(&r, pk2, "GET", "/v1/x?a=1", body, 5, now) != 0);
	r.nonce[0] ^= 1;   /* the nonce is signed */
	CHECK(nc_reqsig_verify(&r, pk, "GET", "/v1/x?a=1", body, 5, now) != 0);
	r.nonce[0] ^= 1;
	{   /* two signings of one request differ (a fresh nonce each) */
		nc_reqsig_hdrs h2;

		CHECK_INT(nc_reqsig_sign(&h2, sk, "GET", "/v1/x?a=1", now, body, 5), 0);
		CHECK(strcmp(h.nonce, h2.nonce) != 0 && strcmp(h.sig, h2.sig) != 0);
	}
	CHECK(nc_reqsig_parse(&r, h.device, h.time, NULL, h.sig) != 0);
	CHECK(nc_reqsig_parse(&r, h.device, h.time, "00", h.sig) != 0);
	CHECK(nc_reqsig_parse(&r, NULL, h.time, h.nonce, h.sig) != 0);
	CHECK(nc_reqsig_parse(&r, h.device, "01800000000", h.nonce, h.sig) != 0);
	CHECK(nc_reqsig_parse(&r, h.device, "-1", h.nonce, h.sig) != 0);
	CHECK(nc_reqsig_parse(&r, h.device, "", h.nonce, h.sig) != 0);
	CHECK(nc_reqsig_parse(&r, "zz", h.time, h.nonce, h.sig) != 0);
	h.sig[5] = 'G';
	CHECK(nc_reqsig_parse(&r, h.device, h.time, h.nonce, h.sig) != 0);
}

/* POST /v1/deliveries and the 409 that names users: round trips, strict,
 * users in ascending order, the per-user and overall bounds. */
static void
test_deliveries(void)
{
	static struct nc_deliveries d, d2;
	static struct nc_stale st, st2;
	uint8_t env[300];
	nc_buf b = NC_BUF_INIT;

	randombytes_buf(env, sizeof env);
	memset(&d, 0, sizeof d);
	d.nusers = 2;
	d.n = 3;
	strcpy(d.user[0].name, "bob");
	d.user[0].version = 7;
	d.user[0].n = 2;
	strcpy(d.user[1].name, "carol");
	d.user[1].version = 1;
	d.user[1].first = 2;
	d.user[1].n = 1;
	for (int i = 0; i < 3; i++) {
		randombytes_buf(d.item[i].dev, 16);
		randombytes_buf(d.item[i].envid, 16);
		d.item[i].env = env;
		d.item[i].len = sizeof env - (size_t)i;
	}
	CHECK_INT(nc_deliveries_enc(&b, &d), 0);
	CHECK_INT(nc_deliveries_dec(&d2, b.p, b.len), 0);
	CHECK_INT(d2.nusers, 2);
	CHECK_INT(d2.n, 3);
	CHECK(strcmp(d2.user[1].name, "carol") == 0);
	CHECK_INT(d2.user[0].version, 7);
	CHECK_INT(d2.user[1].first, 2);
	CHECK_INT(d2.item[2].len, 298);
	CHECK_MEM(d2.item[2].env, env, 298);
	CHECK_MEM(d2.item[1].envid, d.item[1].envid, 16);
	check_strict((decfn)nc_deliveries_dec, &d2, &b, 0);
	/* out of order, or the same user twice: refused both ways */
	strcpy(d.user[1].name, "bob");
	nc_buf_reset(&b);
	CHECK(nc_deliveries_enc(&b, &d) != 0);
	strcpy(d.user[1].name, "carol");
	nc_buf_reset(&b);
	CHECK_INT(nc_deliveries_enc(&b, &d), 0);
	b.p[5] = 'z';   /* "bob" -> "zob", after "carol" */
	CHECK(nc_deliveries_dec(&d2, b.p, b.len) != 0);
	CHECK_INT(d2.too_many, 0);
	/* 33 envelopes of a user; 1,001 users */
	d.user[0].n = 33;
	nc_buf_reset(&b);
	CHECK(nc_deliveries_enc(&b, &d) != 0);
	nc_buf_reset(&b);
	{
		uint8_t big[3 + 2 * 1001];

		big[0] = 1;
		big[1] = 1001 >> 8;
		big[2] = 1001 & 0xff;
		memset(big + 3, 0, sizeof big - 3);
		CHECK(nc_deliveries_dec(&d2, big, sizeof big) != 0);
		CHECK_INT(d2.too_many, 1);
	}

	st.n = 2;
	strcpy(st.user[0], "erin");
	strcpy(st.user[1], "bob");
	CHECK_INT(nc_stale_enc(&b, &st), 0);
	CHECK_INT(nc_stale_dec(&st2, b.p, b.len), 0);
	CHECK_INT(st2.n, 2);
	CHECK(strcmp(st2.user[0], "erin") == 0 && strcmp(st2.user[1], "bob") == 0);
	check_strict((decfn)nc_stale_dec, &st2, &b, 0);
	nc_buf_reset(&b);
	strcpy(st.user[1], "Bob");
	CHECK(nc_stale_enc(&b, &st) != 0);
	/* the old text 409 is not a list of names */
	CHECK(nc_stale_dec(&st2, "device list changed\n", 20) != 0);
	nc_buf_free(&b);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	test_names();
	test_hex();
	test_register();
	test_auth();
	test_prekeys();
	test_claim();
	test_mail();
	test_deliveries();
	test_reqsig();
	return check_done("test-api");
}
