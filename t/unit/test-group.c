/* test-group.c - lib/proto/group.c: the chain of group states (who may
 * change what, replays, skipped and forked epochs, strict decoding),
 * sender keys (order, skipped keys, replays, tampering, forgery by a
 * member who holds the chain key), and a seeded property test: random
 * commits by random authors reach three members in random order with
 * duplicates and drops repaired late; every member ends at the same state
 * hash, and exactly the commits the rules allow are accepted. The
 * plaintext of a group message: text (v 1) or files (v 2), strict. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "group.h"
#include "groupmsg.h"
#include "media.h"
#include "check.h"

#define USERS 8
static const char *addr[USERS] = { "alice@a.test", "bob@b.test", "carol@a.test",
	"dave@b.test", "erin@c.test", "frank@a.test", "grace@b.test", "heidi@c.test" };
static uint8_t pk[USERS][32], sk[USERS][64];

static void
keys(uint32_t seed)
{
	uint8_t s[32] = { 0 };
	int i;

	for (i = 0; i < USERS; i++) {
		memcpy(s, &seed, 4);
		s[4] = (uint8_t)i;
		crypto_sign_seed_keypair(pk[i], sk[i], s);
	}
}

static int
user(const char *a)
{
	int i;

	for (i = 0; i < USERS; i++)
		if (strcmp(addr[i], a) == 0)
			return i;
	return -1;
}

static void
same_state(const nc_group_state *a, const nc_group_state *b)
{
	uint8_t ha[32], hb[32];

	CHECK_INT(nc_group_hash(ha, a), 0);
	CHECK_INT(nc_group_hash(hb, b), 0);
	CHECK_MEM(ha, hb, 32);
}

/* author u commits next on cur, member view v verifies: rc */
static int
commit_verify(nc_buf *c, const nc_group_state *cur, nc_group_state *next, int u,
    nc_group_state *out)
{
	char who[NC_ADDR_MAX + 1];
	int rc;

	CHECK_INT(nc_group_commit(c, cur, next, addr[u], sk[u]), 0);
	rc = nc_group_verify(out, who, cur, c->p, c->len);
	if (rc == 0)
		CHECK_STR(who, addr[u]);
	return rc;
}

static void
chain(void)
{
	nc_group_state g0, g1, d, v, v2, old;
	nc_buf c = NC_BUF_INIT, c1 = NC_BUF_INIT, e = NC_BUF_INIT;
	uint8_t id[16] = { 0x42 };
	char who[NC_ADDR_MAX + 1];

	keys(1);
	CHECK_INT(nc_group_new(&g0, id, "lunch", addr[0], pk[0]), 0);
	CHECK_INT(nc_group_put(&g0, addr[1], pk[1], NC_GROUP_MEMBER), 0);
	CHECK_INT(nc_group_put(&g0, addr[2], pk[2], NC_GROUP_MEMBER), 0);
	CHECK_INT(commit_verify(&c, NULL, &g0, 0, &v), 0);
	same_state(&g0, &v);
	CHECK_INT(v.n, 3);
	nc_group_free(&v);
	/* a new group whose author is not its admin */
	CHECK_INT(commit_verify(&c, NULL, &g0, 1, &v), NC_ESECURITY);

	/* alice (admin) adds dave: accepted; bob (member) adds erin: refused */
	CHECK_INT(nc_group_copy(&d, &g0), 0);
	CHECK_INT(nc_group_put(&d, addr[3], pk[3], NC_GROUP_MEMBER), 0);
	CHECK_INT(commit_verify(&c1, &g0, &d, 0, &g1), 0);
	CHECK_INT(g1.epoch, 1);
	CHECK(nc_group_find(&g1, addr[3]) != NULL);
	nc_group_free(&d);
	CHECK_INT(nc_group_copy(&d, &g0), 0);
	CHECK_INT(nc_group_put(&d, addr[4], pk[4], NC_GROUP_MEMBER), 0);
	CHECK_INT(commit_verify(&c, &g0, &d, 1, &v), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "not an admin") != NULL);
	nc_group_free(&d);
	/* bob leaves: allowed; bob leaves and renames: refused; bob removes carol: refused */
	CHECK_INT(nc_group_copy(&d, &g1), 0);
	CHECK_INT(nc_group_drop(&d, addr[1]), 0);
	CHECK_INT(commit_verify(&c, &g1, &d, 1, &v), 0);
	nc_group_free(&v);
	memcpy(d.name, "bob's", 6);
	CHECK_INT(commit_verify(&c, &g1, &d, 1, &v), NC_ESECURITY);
	nc_group_free(&d);
	CHECK_INT(nc_group_copy(&d, &g1), 0);
	CHECK_INT(nc_group_drop(&d, addr[2]), 0);
	CHECK_INT(commit_verify(&c, &g1, &d, 1, &v), NC_ESECURITY);
	nc_group_free(&d);
	/* erin, not a member, even signing with her own key: refused */
	CHECK_INT(nc_group_copy(&d, &g1), 0);
	CHECK_INT(nc_group_put(&d, addr[4], pk[4], NC_GROUP_ADMIN), 0);
	CHECK_INT(commit_verify(&c, &g1, &d, 4, &v), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "not a member") != NULL);
	nc_group_free(&d);

	/* the relay replays epoch 1's commit to a member at epoch 1: refused */
	CHECK_INT(nc_group_verify(&v, who, &g1, c1.p, c1.len), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "old epoch") != NULL);
	/* an epoch skipped */
	CHECK_INT(nc_group_copy(&d, &g1), 0);
	CHECK_INT(nc_group_copy(&old, &g0), 0);
	CHECK_INT(nc_group_commit(&c, &g1, &d, addr[0], sk[0]), 0);   /* epoch 2 */
	CHECK_INT(nc_group_verify(&v, who, &old, c.p, c.len), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "skipped") != NULL);
	nc_group_free(&d);
	/* a fork: another epoch-1 state, then a commit on it, shown to a member
	 * that took the first: "split" */
	CHECK_INT(nc_group_copy(&d, &g0), 0);
	CHECK_INT(nc_group_put(&d, addr[5], pk[5], NC_GROUP_MEMBER), 0);
	CHECK_INT(commit_verify(&c, &g0, &d, 0, &v2), 0);   /* a second epoch 1 */
	CHECK(nc_group_commit_order(c.p, c.len, c1.p, c1.len) != 0);
	nc_group_free(&d);
	CHECK_INT(nc_group_copy(&d, &v2), 0);
	CHECK_INT(nc_group_commit(&c, &v2, &d, addr[0], sk[0]), 0);
	CHECK_INT(nc_group_verify(&v, who, &g1, c.p, c.len), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "split") != NULL);
	nc_group_free(&d);
	nc_group_free(&v2);
	/* every byte of a commit flipped: never accepted */
	{
		size_t i;
		int refused = 0;
		for (i = 0; i < c1.len; i++) {
			c1.p[i] ^= 0x01;
			refused += nc_group_verify(&v, who, &g0, c1.p, c1.len) != 0;
			c1.p[i] ^= 0x01;
		}
		CHECK_INT(refused, (long long)c1.len);
		CHECK_INT(nc_group_verify(&v, who, &g0, c1.p, c1.len), 0);
		nc_group_free(&v);
	}
	/* strict decoding: unsorted members, no admin, a bad role */
	CHECK_INT(nc_group_copy(&d, &g1), 0);
	{
		nc_group_member t = d.m[0];
		d.m[0] = d.m[1];
		d.m[1] = t;
		CHECK_INT(nc_group_encode(&d, &e), 0);
		CHECK_INT(nc_group_decode(&v, e.p, e.len), NC_EDATA);
		d.m[1] = d.m[0];
		d.m[0] = t;
		d.m[0].role = NC_GROUP_MEMBER;
		nc_buf_reset(&e);
		CHECK_INT(nc_group_encode(&d, &e), 0);
		CHECK_INT(nc_group_decode(&v, e.p, e.len), NC_EDATA);
		d.m[0].role = 7;
		nc_buf_reset(&e);
		CHECK_INT(nc_group_encode(&d, &e), 0);
		CHECK_INT(nc_group_decode(&v, e.p, e.len), NC_EDATA);
	}
	nc_group_free(&d);
	nc_group_free(&old);
	nc_group_free(&g0);
	nc_group_free(&g1);
	nc_buf_free(&c);
	nc_buf_free(&c1);
	nc_buf_free(&e);
}

static void
messages(void)
{
	nc_group_state g, g2;
	nc_skey mine, theirs, evil;
	nc_group_ref ref[4], r;
	nc_buf blob[4] = { NC_BUF_INIT, NC_BUF_INIT, NC_BUF_INIT, NC_BUF_INIT };
	nc_buf out = NC_BUF_INIT, c = NC_BUF_INIT;
	uint8_t id[16] = { 7 }, dist[NC_SKEY_DIST_LEN], mk1[32], rb[NC_GROUP_REF_LEN];
	char text[32];
	int i;

	keys(2);
	CHECK_INT(nc_group_new(&g, id, "ops", addr[0], pk[0]), 0);
	CHECK_INT(nc_group_put(&g, addr[1], pk[1], NC_GROUP_MEMBER), 0);
	nc_skey_new(&mine, &g);
	nc_skey_dist(dist, &mine);
	CHECK_INT(nc_skey_from_dist(&theirs, dist, sizeof dist), 0);
	CHECK_MEM(theirs.chain, mine.chain, 32);
	for (i = 0; i < 4; i++) {
		snprintf(text, sizeof text, "message %d", i);
		CHECK_INT(nc_group_seal(&blob[i], &ref[i], &mine, &g, (const uint8_t *)text,
		    strlen(text)), 0);
		CHECK_INT(blob[i].len, (long long)(strlen(text) + NC_GROUP_BLOB_OVERHEAD));
		CHECK_INT(ref[i].index, i);
	}
	/* the ref survives its encoding */
	nc_group_ref_encode(rb, &ref[2]);
	CHECK_INT(nc_group_ref_decode(&r, rb, sizeof rb), 0);
	CHECK_MEM(&r, &ref[2], sizeof r);
	CHECK_INT(nc_group_ref_decode(&r, rb, sizeof rb - 1), NC_EDATA);
	/* in order 0, then 2 (1 skipped: its key kept), then 1, then 3 */
	CHECK_INT(nc_group_open(&out, &theirs, &g, &ref[0], blob[0].p, blob[0].len), 0);
	CHECK(out.len == 9 && memcmp(out.p, "message 0", 9) == 0);
	CHECK_INT(nc_skey_message_key(mk1, &theirs, 1), 0);
	CHECK_INT(nc_group_open(&out, &theirs, &g, &ref[2], blob[2].p, blob[2].len), 0);
	CHECK(memcmp(out.p, "message 2", 9) == 0);
	CHECK_INT(nc_group_open(&out, &theirs, &g, &ref[1], blob[1].p, blob[1].len), NC_ESECURITY);
	CHECK_INT(nc_group_open_with(&out, mk1, &theirs, &g, &ref[1], blob[1].p, blob[1].len), 0);
	CHECK(memcmp(out.p, "message 1", 9) == 0);
	/* replays: an index already passed */
	CHECK_INT(nc_group_open(&out, &theirs, &g, &ref[0], blob[0].p, blob[0].len), NC_ESECURITY);
	/* tampering: any byte of the blob */
	{
		size_t j;
		int refused = 0;
		for (j = 0; j < blob[3].len; j++) {
			nc_skey k = theirs;
			blob[3].p[j] ^= 0x20;
			refused += nc_group_open(&out, &k, &g, &ref[3], blob[3].p, blob[3].len) ==
			    NC_ESECURITY;
			blob[3].p[j] ^= 0x20;
		}
		CHECK_INT(refused, (long long)blob[3].len);
	}
	/* a ref naming another hash, another key, or the state of another epoch */
	r = ref[3];
	r.hash[0] ^= 1;
	CHECK_INT(nc_group_open(&out, &theirs, &g, &r, blob[3].p, blob[3].len), NC_ESECURITY);
	r = ref[3];
	r.key[0] ^= 1;
	CHECK_INT(nc_group_open(&out, &theirs, &g, &r, blob[3].p, blob[3].len), NC_ESECURITY);
	CHECK_INT(nc_group_copy(&g2, &g), 0);
	CHECK_INT(nc_group_commit(&c, &g, &g2, addr[0], sk[0]), 0);
	{
		nc_skey k = theirs;
		k.epoch = g2.epoch;
		CHECK_INT(nc_group_open(&out, &k, &g2, &ref[3], blob[3].p, blob[3].len), NC_ESECURITY);
	}
	/* bob holds alice's chain key: he can encrypt as her key, not sign */
	evil = theirs;
	randombytes_buf(evil.sign_sk, 64);
	{
		uint8_t seed[32] = { 9 }, ppk[32];
		crypto_sign_seed_keypair(ppk, evil.sign_sk, seed);
	}
	CHECK_INT(nc_group_seal(&blob[0], &r, &evil, &g, (const uint8_t *)"pay me", 6), 0);
	CHECK_INT(nc_group_open(&out, &theirs, &g, &r, blob[0].p, blob[0].len), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "forged") != NULL);
	/* the _at forms: with another state hash given, refused; with the
	 * right one, the same as without */
	{
		uint8_t sh[NC_GROUP_HASH];
		nc_skey k = theirs;
		CHECK_INT(nc_group_hash(sh, &g), 0);
		sh[5] ^= 1;
		CHECK_INT(nc_group_open_at(&out, &k, &g, sh, &ref[3], blob[3].p, blob[3].len),
		    NC_ESECURITY);
		sh[5] ^= 1;
		CHECK_INT(nc_group_open_at(&out, &k, &g, sh, &ref[3], blob[3].p, blob[3].len), 0);
		CHECK(memcmp(out.p, "message 3", 9) == 0);
	}
	/* the genuine 3 still opens; too far ahead does not */
	CHECK_INT(nc_group_open(&out, &theirs, &g, &ref[3], blob[3].p, blob[3].len), 0);
	CHECK_INT(nc_skey_message_key(mk1, &theirs, theirs.index + NC_SKEY_SKIP_MAX + 1),
	    NC_ESECURITY);
	/* a distribution message of another length or with a bad key */
	CHECK_INT(nc_skey_from_dist(&evil, dist, sizeof dist - 1), NC_EDATA);
	memset(dist + sizeof dist - 32, 0, 32);
	CHECK_INT(nc_skey_from_dist(&evil, dist, sizeof dist), NC_EDATA);
	for (i = 0; i < 4; i++)
		nc_buf_free(&blob[i]);
	nc_buf_free(&out);
	nc_buf_free(&c);
	nc_group_free(&g);
	nc_group_free(&g2);
}

/* ---- the property test ---- */

static uint64_t rs;
static uint32_t
rnd(uint32_t n)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rs >> 33) % n;
}

#define OPS 4
#define VIEWS 3

/* One run: OPS random changes by random authors; the "truth" keeps what
 * the rules allow (predicted here, independently of nc_group_verify);
 * VIEWS members each get the accepted commits shuffled, some twice, and
 * apply what fits their epoch until nothing more does. */
static int
run(uint32_t seed, int *accepted, int *refused)
{
	nc_group_state truth, d, v[VIEWS];
	nc_buf commits[OPS];
	int nc = 0, i, j, k, ok = 1;
	uint8_t id[16] = { 0 };
	char who[NC_ADDR_MAX + 1];

	rs = seed;
	memcpy(id, &seed, 4);
	if (nc_group_new(&truth, id, "g", addr[0], pk[0]) != 0)
		return 0;
	for (i = 1; i < 4; i++)
		if (nc_group_put(&truth, addr[i], pk[i], rnd(2)) != 0)
			return 0;
	{
		nc_buf c0 = NC_BUF_INIT;
		ok &= nc_group_commit(&c0, NULL, &truth, addr[0], sk[0]) == 0;
		for (i = 0; i < VIEWS; i++)
			ok &= nc_group_verify(&v[i], who, NULL, c0.p, c0.len) == 0;
		nc_buf_free(&c0);
	}
	for (i = 0; i < OPS; i++) {
		int author = rnd(USERS), target = rnd(USERS), op = rnd(4);
		const nc_group_member *a = nc_group_find(&truth, addr[author]);
		int allowed, rc;
		nc_group_state next;

		if (nc_group_copy(&d, &truth) != 0)
			return 0;
		switch (op) {
		case 0: rc = nc_group_put(&d, addr[target], pk[target], NC_GROUP_MEMBER); break;
		case 1: rc = nc_group_drop(&d, addr[target]); break;
		case 2: rc = nc_group_put(&d, addr[target], pk[target], NC_GROUP_ADMIN); break;
		default: target = author; rc = nc_group_drop(&d, addr[author]); break;
		}
		{
			uint32_t m, admins = 0;
			for (m = 0; m < d.n; m++)
				admins += d.m[m].role == NC_GROUP_ADMIN;
			if (rc != 0 || admins == 0 || d.n == 0) {
				nc_group_free(&d);
				continue;
			}
		}
		allowed = a != NULL && (a->role == NC_GROUP_ADMIN ||
		    ((op == 1 || op == 3) && author == target));   /* leaving */
		commits[nc].p = NULL;
		commits[nc] = (nc_buf)NC_BUF_INIT;
		ok &= nc_group_commit(&commits[nc], &truth, &d, addr[author], sk[author]) == 0;
		rc = nc_group_verify(&next, who, &truth, commits[nc].p, commits[nc].len);
		if ((rc == 0) != allowed)
			ok = 0;
		if (rc == 0) {
			ok &= memcmp(&next.epoch, &d.epoch, 8) == 0;
			nc_group_free(&truth);
			truth = next;
			nc++;
			(*accepted)++;
		} else {
			nc_buf_free(&commits[nc]);
			(*refused)++;
		}
		nc_group_free(&d);
	}
	/* deliver: each view gets the commits in a random order, with
	 * duplicates, until it can apply no more */
	for (i = 0; i < VIEWS; i++) {
		int progress = 1, order[2 * OPS];
		while (progress) {
			/* every commit once and a few twice, shuffled */
			int m = 0;
			progress = 0;
			for (j = 0; j < nc; j++)
				order[m++] = j;
			for (j = 0; j < nc; j++)
				if (rnd(2))
					order[m++] = j;
			for (j = m - 1; j > 0; j--) {
				int t = order[j], x = (int)rnd((uint32_t)j + 1);
				order[j] = order[x];
				order[x] = t;
			}
			for (k = 0; k < m; k++) {
				nc_group_state next;
				j = order[k];
				if (nc_group_verify(&next, who, &v[i], commits[j].p, commits[j].len) == 0) {
					nc_group_free(&v[i]);
					v[i] = next;
					progress = 1;
				}
			}
		}
		{
			uint8_t h1[32], h2[32];
			ok &= nc_group_hash(h1, &v[i]) == 0 && nc_group_hash(h2, &truth) == 0 &&
			    memcmp(h1, h2, 32) == 0;
		}
		nc_group_free(&v[i]);
	}
	for (j = 0; j < nc; j++)
		nc_buf_free(&commits[j]);
	nc_group_free(&truth);
	(void)user;
	return ok;
}

static void
property(void)
{
	uint32_t runs = getenv("NC_QUICK") ? 300 : 10000, s;
	int good = 0, accepted = 0, refused = 0;

	keys(3);
	for (s = 1; s <= runs; s++)
		good += run(s, &accepted, &refused);
	CHECK_INT(good, runs);
	CHECK(accepted > 0 && refused > 0);
	printf("# %u seeded runs: every member at the same state hash; %d commits accepted, "
	    "%d refused as the rules say\n", runs, accepted, refused);
}

/* The inner plaintext: v 1 carries UTF-8 text, v 2 an attachment
 * payload; each decodes as what it is and nothing else. */
static void
inner(void)
{
	static nc_gm_inner in, out;
	static nc_media_attach a[1];
	nc_buf b = NC_BUF_INIT, ab = NC_BUF_INIT;

	memset(&in, 0, sizeof in);
	memset(in.id, 7, 16);
	in.time = 1700000000;
	in.nseen = 1;
	memset(in.seen[0].key, 1, NC_SKEY_ID);
	in.seen[0].index = 3;
	in.text = (const uint8_t *)"hi";
	in.textlen = 2;
	CHECK_INT(nc_gm_inner_encode(&b, &in), 0);
	CHECK(b.len > 0 && b.p[0] == 1);
	CHECK_INT(nc_gm_inner_decode(&out, b.p, b.len), 0);
	CHECK(!out.files && out.textlen == 2 && memcmp(out.text, "hi", 2) == 0 &&
	    out.nseen == 1 && out.seen[0].index == 3);
	/* with files: version 2, the attachment payload as it is */
	snprintf(a[0].link, sizeof a[0].link, "https://a.test/v1/blobs/%064d"
	    "#k=%064d&h=%064d&n=%d", 0, 0, 0, 4113);
	snprintf(a[0].name, sizeof a[0].name, "x.png");
	snprintf(a[0].type, sizeof a[0].type, "image/png");
	a[0].size = 4000;
	CHECK_INT(nc_media_attach_enc(&ab, a, 1, (const uint8_t *)"hi", 2), 0);
	in.text = ab.p;
	in.textlen = ab.len;
	in.files = 1;
	nc_buf_reset(&b);
	CHECK_INT(nc_gm_inner_encode(&b, &in), 0);
	CHECK(b.len > 0 && b.p[0] == 2);
	CHECK_INT(nc_gm_inner_decode(&out, b.p, b.len), 0);
	CHECK(out.files && out.textlen == ab.len && memcmp(out.text, ab.p, ab.len) == 0);
	/* v 2 whose text is not an attachment payload, v 1 whose text is
	 * not UTF-8, an unknown version: refused */
	in.text = (const uint8_t *)"hi";
	in.textlen = 2;
	nc_buf_reset(&b);
	CHECK_INT(nc_gm_inner_encode(&b, &in), 0);
	CHECK(nc_gm_inner_decode(&out, b.p, b.len) != 0);
	in.files = 0;
	in.text = (const uint8_t *)"\xff";
	in.textlen = 1;
	nc_buf_reset(&b);
	CHECK_INT(nc_gm_inner_encode(&b, &in), 0);
	CHECK(nc_gm_inner_decode(&out, b.p, b.len) != 0);
	in.text = (const uint8_t *)"hi";
	in.textlen = 2;
	nc_buf_reset(&b);
	CHECK_INT(nc_gm_inner_encode(&b, &in), 0);
	b.p[0] = 4;
	CHECK(nc_gm_inner_decode(&out, b.p, b.len) != 0);
	/* v 3: a commit (any bytes; the group code decodes it), up to the
	 * size of a commit; no files with it */
	b.p[0] = 3;
	CHECK_INT(nc_gm_inner_decode(&out, b.p, b.len), 0);
	CHECK(out.commit && !out.files && out.textlen == 2);
	in.commit = 1;
	in.text = ab.p;
	in.textlen = NC_GM_TEXT_MAX + 1;
	{
		uint8_t *big = calloc(1, NC_GM_COMMIT_MAX + 1);

		CHECK(big != NULL);
		in.text = big;
		nc_buf_reset(&b);
		CHECK_INT(nc_gm_inner_encode(&b, &in), 0);
		CHECK(b.p[0] == 3);
		CHECK_INT(nc_gm_inner_decode(&out, b.p, b.len), 0);
		CHECK(out.commit && out.textlen == NC_GM_TEXT_MAX + 1);
		in.textlen = NC_GM_COMMIT_MAX + 1;
		nc_buf_reset(&b);
		CHECK(nc_gm_inner_encode(&b, &in) != 0);
		in.textlen = 2;
		in.files = 1;
		nc_buf_reset(&b);
		CHECK(nc_gm_inner_encode(&b, &in) != 0);
		free(big);
	}
	nc_buf_free(&b);
	nc_buf_free(&ab);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	chain();
	messages();
	inner();
	property();
	return check_done("group");
}
