/* bench-group.c - group messages under sender keys (lib/proto/group.c,
 * protocol.md 3.5): encrypt+decrypt of 100-byte messages with our
 * nc_group_seal / nc_group_open, beside the libsodium floor; and the first
 * send after a removal in a 1,000-member group (3,000 devices) at the
 * library level. Prints "name value" lines for t/bench/group.sh.
 *
 * The floor is the primitive work a sender-key message cannot avoid,
 * called straight from libsodium with no state, parsing or checks: the
 * chain step on each side (two keyed BLAKE2b: message key, next chain
 * key), a random nonce, one Ed25519 signature and one verification over
 * the associated data and the text, one XChaCha20-Poly1305 encryption and
 * decryption of text + signature, and the blob hash (BLAKE2b) on each
 * side. Ours (nc_group_seal_at / nc_group_open_at) is given the state
 * hash of the associated data, as the client has it; "ours_N_hash" also
 * encodes and hashes the group state once on each side per message (what
 * nc_group_seal/nc_group_open without it do: grows with the group).
 *
 * The removal part times, in one process, what the device that sends
 * first after the removal computes: (a) as the admin who removed: the
 * commit (the next state signed) and, for each of the other devices,
 * the commit sealed into a pairwise envelope; (b) as any remaining
 * member: checking that commit, a fresh sender key, its distribution
 * sealed into a pairwise envelope for each other device, and the message
 * itself. Envelopes are made with nc_envelope_make over one established
 * session (the chain-step path: each device's session is in that state
 * when it last sent to it); the storage, the outbox and HTTP are not in
 * it (see group-send.sh for the whole process). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../unit/crypto-util.h"
#include "envelope.h"
#include "group.h"
#include "groupmsg.h"
#include "payload.h"

#define MSG 100

static double
now(void)
{
	struct timespec ts;

	/* CPU time of this process: the machine is shared. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t pt[MSG];

static void
addr_of(char out[NC_ADDR_MAX + 1], unsigned i)
{
	snprintf(out, NC_ADDR_MAX + 1, "m%04u@%s.test", i, i % 2 ? "b" : "a");
}

/* A group of n members with fake identity keys; member 0 (the admin)
 * has idsk. */
static void
group_of(nc_group_state *g, unsigned n, uint8_t idsk[64])
{
	uint8_t id[NC_GROUP_ID], pk[32], sk[64];
	char a[NC_ADDR_MAX + 1];

	randombytes_buf(id, sizeof id);
	crypto_sign_keypair(pk, idsk);
	addr_of(a, 0);
	if (nc_group_new(g, id, "bench", a, pk) != 0)
		abort();
	for (unsigned i = 1; i < n; i++) {
		addr_of(a, i);
		crypto_sign_keypair(pk, sk);   /* a valid point */
		if (nc_group_put(g, a, pk, NC_GROUP_MEMBER) != 0)
			abort();
	}
	sodium_memzero(sk, sizeof sk);
}

/* n messages: seal by one member, open by another; the state hash given
 * (rehash 0) or computed on each side per message (rehash 1). */
static double
run_ours(unsigned members, int n, int rehash)
{
	nc_group_state g;
	nc_skey s, r;
	nc_group_ref ref;
	nc_buf blob = NC_BUF_INIT, plain = NC_BUF_INIT;
	uint8_t idsk[64], dist[NC_SKEY_DIST_LEN], sh[NC_GROUP_HASH];
	double t;

	group_of(&g, members, idsk);
	if (nc_group_hash(sh, &g) != 0)
		abort();
	nc_skey_new(&s, &g);
	nc_skey_dist(dist, &s);
	if (nc_skey_from_dist(&r, dist, sizeof dist) != 0)
		abort();
	t = now();
	for (int i = 0; i < n; i++) {
		if ((rehash && nc_group_hash(sh, &g) != 0) ||
		    nc_group_seal_at(&blob, &ref, &s, &g, sh, pt, MSG) != 0 ||
		    (rehash && nc_group_hash(sh, &g) != 0) ||
		    nc_group_open_at(&plain, &r, &g, sh, &ref, blob.p, blob.len) != 0 ||
		    plain.len != MSG)
			abort();
	}
	t = now() - t;
	nc_buf_free(&blob);
	nc_buf_free(&plain);
	nc_group_free(&g);
	return n / t;
}

static double
ours(unsigned members, int n)
{
	return run_ours(members, n, 0);
}

static double
ours_hash(unsigned members, int n)
{
	return run_ours(members, n, 1);
}

static double
floor_rate(int n)
{
	uint8_t chain_s[32], chain_r[32], mk[32], spk[32], ssk[64], ad[100];
	uint8_t inner[MSG + 64], blob[24 + MSG + 64 + 16], back[MSG + 64], h[32];
	unsigned long long bl;
	double t;

	randombytes_buf(chain_s, 32);
	memcpy(chain_r, chain_s, 32);
	randombytes_buf(ad, sizeof ad);
	crypto_sign_keypair(spk, ssk);
	t = now();
	for (int i = 0; i < n; i++) {
		/* sender */
		crypto_generichash(mk, 32, ad, 29, chain_s, 32);
		crypto_generichash(chain_s, 32, ad, 26, chain_s, 32);
		memcpy(inner, pt, MSG);
		crypto_sign_detached(inner + MSG, NULL, pt, MSG, ssk);
		randombytes_buf(blob, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 24, &bl, inner,
		    sizeof inner, ad, sizeof ad, NULL, blob, mk);
		crypto_generichash(h, 32, blob, sizeof blob, ad, 21);
		/* receiver */
		crypto_generichash(h, 32, blob, sizeof blob, ad, 21);
		crypto_generichash(mk, 32, ad, 29, chain_r, 32);
		crypto_generichash(chain_r, 32, ad, 26, chain_r, 32);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(back, NULL, NULL,
		    blob + 24, sizeof blob - 24, ad, sizeof ad, blob, mk) != 0 ||
		    crypto_sign_verify_detached(back + MSG, back, MSG, spk) != 0)
			abort();
	}
	return n / (now() - t);
}

static double
floor_run(unsigned members, int n)
{
	(void)members;
	return floor_rate(n);
}

/* Best of 5 rounds, each round one run of every figure in turn, so that
 * whatever else the machine does slows them alike. */
static void
rounds(int n)
{
	static const struct {
		const char *name;
		double (*f)(unsigned, int);
		unsigned members;
		int div;
	} fig[] = {
		{ "floor", floor_run, 0, 1 },
		{ "ours_3", ours, 3, 1 },
		{ "ours_100", ours, 100, 1 },
		{ "ours_1000", ours, 1000, 1 },
		{ "ours_100_hash", ours_hash, 100, 4 },
		{ "ours_1000_hash", ours_hash, 1000, 20 },
	};
	double b[sizeof fig / sizeof fig[0]] = { 0 }, v;

	for (int r = 0; r < 5; r++)
		for (size_t i = 0; i < sizeof fig / sizeof fig[0]; i++)
			if ((v = fig[i].f(fig[i].members, n / fig[i].div)) > b[i])
				b[i] = v;
	for (size_t i = 0; i < sizeof fig / sizeof fig[0]; i++)
		printf("%s %.0f\n", fig[i].name, b[i]);
}

/* ---- first send after a removal ---- */

static tuser A, B;

/* One pairwise envelope of a group payload (body) to B. */
static size_t
envelope(nc_ratchet *st, const nc_cert *c, const uint8_t *body, size_t n, nc_buf *e)
{
	nc_payload pl = { NC_PL_GROUP, { 1 }, 1700000000, body, n, 0, NULL, NC_PL_NOGOSSIP };
	uint8_t id[16];

	nc_buf_reset(e);
	if (nc_envelope_make(e, id, st, A.dev, c, B.party.dev, B.party.dh_pk, &pl) != 0)
		abort();
	return e->len;
}

static void
removal(unsigned members, unsigned devs)
{
	nc_group_state g0, next, v;
	nc_ratchet *sa, *sb;
	nc_cert c;
	nc_buf commit = NC_BUF_INIT, body = NC_BUF_INIT, e = NC_BUF_INIT;
	nc_buf blob = NC_BUF_INIT;
	nc_gm m;
	nc_skey k;
	nc_group_ref ref;
	uint8_t idsk[64], dist[NC_SKEY_DIST_LEN];
	char author[NC_ADDR_MAX + 1];
	unsigned others = (members - 1) * devs - 1;   /* after the removal, not self */
	size_t cbytes = 0, kbytes = 0, cenv = 0, kenv = 0;
	double t, t_commit, t_cenv, t_verify, t_key, t_kenv, t_msg;

	group_of(&g0, members, idsk);
	tuser_make(&A, "alice@a.test");
	tuser_make(&B, "bob@b.test");
	if (tsession(&A, &B, 1, &sa, &sb) != 0)
		abort();
	memset(&c, 0, sizeof c);
	c.who = A.party;
	c.devlist_version = 1;
	envelope(sa, &c, pt, 1, &e);   /* past the first (prekey) message */

	/* (a) the admin: the commit, and one envelope of it per device */
	t = now();
	if (nc_group_copy(&next, &g0) != 0 || nc_group_drop(&next, g0.m[members - 1].addr) != 0 ||
	    nc_group_commit(&commit, &g0, &next, g0.m[0].addr, idsk) != 0)
		abort();
	t_commit = now() - t;
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_COMMIT;
	m.commit = commit.p;
	m.commitlen = commit.len;
	nc_buf_reset(&body);
	if (nc_gm_encode(&body, &m) != 0)
		abort();
	cbytes = body.len;
	t = now();
	for (unsigned i = 0; i < others; i++)
		cenv += envelope(sa, &c, body.p, body.len, &e);
	t_cenv = now() - t;

	/* (b) any remaining member: check the commit, a new key, its
	 * distribution to each other device, the message */
	t = now();
	if (nc_group_verify(&v, author, &g0, commit.p, commit.len) != 0)
		abort();
	t_verify = now() - t;
	t = now();
	nc_skey_new(&k, &v);
	nc_skey_dist(dist, &k);
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_SKEY;
	m.dist = dist;
	nc_buf_reset(&body);
	if (nc_gm_encode(&body, &m) != 0)
		abort();
	t_key = now() - t;
	kbytes = body.len;
	t = now();
	for (unsigned i = 0; i < others; i++)
		kenv += envelope(sa, &c, body.p, body.len, &e);
	t_kenv = now() - t;
	t = now();
	if (nc_group_seal(&blob, &ref, &k, &v, pt, MSG) != 0)   /* hashes v */
		abort();
	t_msg = now() - t;

	printf("removal_members %u\nremoval_devices %u\n", members - 1, others);
	printf("removal_commit_ms %.2f\nremoval_commit_bytes %zu\n", t_commit * 1e3, cbytes);
	printf("removal_commit_env_ms %.1f\nremoval_commit_env_bytes %zu\n", t_cenv * 1e3, cenv);
	printf("removal_verify_ms %.2f\n", t_verify * 1e3);
	printf("removal_skey_ms %.3f\nremoval_skey_body_bytes %zu\n", t_key * 1e3, kbytes);
	printf("removal_skey_env_ms %.1f\nremoval_skey_env_bytes %zu\n", t_kenv * 1e3, kenv);
	printf("removal_msg_ms %.3f\n", t_msg * 1e3);
	printf("removal_member_ms %.1f\n", (t_verify + t_key + t_kenv + t_msg) * 1e3);
	printf("removal_admin_ms %.1f\n", (t_commit + t_cenv + t_key + t_kenv + t_msg) * 1e3);
	nc_group_free(&g0);
	nc_group_free(&next);
	nc_group_free(&v);
	nc_ratchet_free(sa);
	nc_ratchet_free(sb);
	nc_buf_free(&commit);
	nc_buf_free(&body);
	nc_buf_free(&e);
	nc_buf_free(&blob);
	tuser_free(&A);
	tuser_free(&B);
	sodium_memzero(idsk, sizeof idsk);
	sodium_memzero(&k, sizeof k);
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(pt, sizeof pt);
	rounds(n);
	removal(1000, 3);
	return 0;
}
