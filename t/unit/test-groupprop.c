/* test-groupprop.c - a seeded property test of the membership chain and
 * the sender-key store together (issue 17), over lib/proto: a model of
 * member devices that keep a group state, the state before it, sender
 * keys, skipped message keys, the blob hashes seen and traffic kept for
 * later, applying protocol.md 3.5's receiving rules. Each run: random
 * adds, removals, role changes and concurrent commits by two admins
 * (resolved by nc_group_commit_order), random sends under per-device
 * sender keys (rotated), delivery in random order with duplicates,
 * delays and lost messages, and devices restarted (everything they keep
 * goes through its encoding and back). At the end every device that is a
 * member ends at the same state hash as the group's true state, and each
 * message, for each device it was sent to, was decrypted exactly once to
 * what was sent, or is reported (refused with an alarm, a skipped key
 * never used: missing, kept undecrypted), or its device was removed.
 * NC_QUICK (500) and NC_ASAN (2,000): fewer runs; GP_SEED=N runs seed N
 * alone, GP_DEBUG=1 says what failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "err.h"
#include "group.h"
#include "wire.h"

#define USERS 5
#define STEPS 10
#define GRACE 3          /* steps an epoch - 1 message is still taken */
#define ROTATE 3         /* messages per sender key */
#define NET_MAX 512
#define MSG_MAX 64
#define KEYS_MAX 48
#define SKIP_MAX 64
#define SEEN_MAX 64

static const char *addr[USERS] = { "a@a.test", "b@b.test", "c@a.test",
	"d@b.test", "e@c.test" };
static uint8_t pk[USERS][32], sk[USERS][64];

static uint64_t rs;
static uint32_t
rnd(uint32_t n)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rs >> 33) % n;
}

enum { IT_COMMIT, IT_KEY, IT_MSG };

typedef struct {
	int kind, to, from, live, lost;
	nc_buf commit, prev;           /* COMMIT; prev for a member it adds */
	uint8_t dist[NC_SKEY_DIST_LEN];   /* KEY */
	uint64_t epoch;                /* MSG */
	uint8_t state[32];
	nc_group_ref ref;
	nc_buf blob;
	int msgno;
} item;

typedef struct {
	nc_skey k;
	int owner, own;
} dkey;

typedef struct {
	int have, member, since;
	nc_group_state g, prev;        /* prev: epoch - 1 (have_prev) */
	int have_prev;
	nc_buf commit;                 /* of the current epoch */
	dkey keys[KEYS_MAX];
	int nkeys;
	struct { uint8_t kid[8]; uint32_t idx; uint8_t mk[32]; int used; } skip[SKIP_MAX];
	int nskip;
	struct { uint8_t kid[8]; uint32_t idx; uint8_t h[32]; } seen[SEEN_MAX];
	int nseen;
	int pending[NET_MAX];          /* items kept for later */
	int npending;
} device;

static item net[NET_MAX];
static int nnet;
static device dv[USERS];
static nc_group_state truth;
static int now, nmsg;
static unsigned char got[MSG_MAX][USERS], reported[MSG_MAX][USERS],
    sent_to[MSG_MAX][USERS], removed[MSG_MAX][USERS];
static long st_dec, st_rep, st_gone, st_commits, st_conc, st_restart, st_lost;

static int
in_state(const nc_group_state *g, int u)
{
	return nc_group_find(g, addr[u]) != NULL;
}

static int
same_hash(const nc_group_state *a, const nc_group_state *b)
{
	uint8_t x[32], y[32];

	return nc_group_hash(x, a) == 0 && nc_group_hash(y, b) == 0 &&
	    memcmp(x, y, 32) == 0;
}

/* the epoch of the state inside a commit (-1: does not decode) */
static int64_t
commit_epoch(const nc_buf *c)
{
	nc_group_state g;
	const uint8_t *p;
	size_t n;
	nc_dec d;
	int64_t e;

	nc_dec_init(&d, c->p, c->len);
	(void)nc_get_u8(&d);
	if ((p = nc_get_bytes(&d, c->len, &n)) == NULL ||
	    nc_group_decode(&g, p, n) != 0)
		return -1;
	e = (int64_t)g.epoch;
	nc_group_free(&g);
	return e;
}

static item *
put(int kind, int to, int from)
{
	item *it;

	if (nnet == NET_MAX)
		return NULL;
	it = &net[nnet++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->to = to;
	it->from = from;
	it->live = 1;
	return it;
}

static void
dev_apply(device *d, const nc_group_state *next, const nc_buf *c, int self)
{
	nc_group_free(&d->prev);
	d->prev = d->g;
	d->have_prev = d->have;
	if (nc_group_copy(&d->g, next) != 0)
		abort();
	d->have = 1;
	d->member = in_state(next, self);
	d->since = now;
	nc_buf_reset(&d->commit);
	if (nc_buf_add(&d->commit, c->p, c->len) != 0)
		abort();
}

/* 0 taken or nothing to do, 1 kept for later */
static int
rx_commit(device *d, int self, item *it)
{
	nc_group_state next;
	char who[NC_ADDR_MAX + 1];
	int64_t e = commit_epoch(&it->commit);
	int rc = 0;

	if (e < 0)
		return 0;
	/* a commit that comes with the state before it is for a device
	 * new to the group in its author's eyes: one removed earlier and
	 * added again, or one that holds the losing one of two concurrent
	 * commits (which added it) and is added on the winning chain; one
	 * that does not fit this device's chain joins as a new member does */
	if (d->have && it->prev.len && (uint64_t)e > d->g.epoch) {
		if ((uint64_t)e != d->g.epoch + 1 || nc_group_verify(&next, who, &d->g,
		    it->commit.p, it->commit.len) != 0)
			d->have = 0;
		else
			nc_group_free(&next);
	}
	if (!d->have) {
		nc_group_state prev;

		if (e == 0)
			rc = nc_group_verify(&next, who, NULL, it->commit.p, it->commit.len);
		else if (it->prev.len == 0 || nc_group_decode(&prev, it->prev.p,
		    it->prev.len) != 0)
			return 1;
		else {
			rc = nc_group_verify(&next, who, &prev, it->commit.p, it->commit.len);
			if (rc == 0 && in_state(&next, self)) {
				/* the state before, on the adder's word, is kept
				 * too: a concurrent commit is checked on it */
				dev_apply(d, &next, &it->commit, self);
				nc_group_free(&d->prev);
				d->prev = prev;
				d->have_prev = 1;
			} else
				nc_group_free(&prev);
			if (rc == 0)
				nc_group_free(&next);
			return 0;
		}
		if (rc != 0)
			return 0;
		if (in_state(&next, self))
			dev_apply(d, &next, &it->commit, self);
		nc_group_free(&next);
		return 0;
	}
	if ((uint64_t)e == d->g.epoch + 1) {
		if (nc_group_verify(&next, who, &d->g, it->commit.p, it->commit.len) != 0)
			/* made on the other of two concurrent commits: an
			 * alarm, and kept for when that one comes */
			return strstr(nc_errmsg(), "another state") != NULL;
		dev_apply(d, &next, &it->commit, self);
		nc_group_free(&next);
		return 0;
	}
	if ((uint64_t)e > d->g.epoch + 1)
		return 1;
	if ((uint64_t)e == d->g.epoch && d->have_prev &&
	    (d->commit.len != it->commit.len ||
	    memcmp(d->commit.p, it->commit.p, it->commit.len) != 0) &&
	    nc_group_verify(&next, who, &d->prev, it->commit.p, it->commit.len) == 0) {
		if (nc_group_commit_order(it->commit.p, it->commit.len, d->commit.p,
		    d->commit.len) < 0) {
			nc_group_free(&d->g);
			if (nc_group_copy(&d->g, &next) != 0)
				abort();
			d->member = in_state(&next, self);
			nc_buf_reset(&d->commit);
			if (nc_buf_add(&d->commit, it->commit.p, it->commit.len) != 0)
				abort();
		}
		nc_group_free(&next);
	}
	return 0;
}

static dkey *
key_find(device *d, const uint8_t kid[8])
{
	int i;

	for (i = 0; i < d->nkeys; i++)
		if (memcmp(d->keys[i].k.id, kid, 8) == 0)
			return &d->keys[i];
	return NULL;
}

static void
rx_key(device *d, item *it)
{
	nc_skey k;

	if (nc_skey_from_dist(&k, it->dist, sizeof it->dist) != 0 ||
	    key_find(d, k.id) || d->nkeys == KEYS_MAX)
		return;
	d->keys[d->nkeys].k = k;
	d->keys[d->nkeys].owner = it->from;
	d->keys[d->nkeys++].own = 0;
}

static int
seen_get(device *d, const uint8_t kid[8], uint32_t idx, uint8_t h[32])
{
	int i;

	for (i = 0; i < d->nseen; i++)
		if (memcmp(d->seen[i].kid, kid, 8) == 0 && d->seen[i].idx == idx) {
			memcpy(h, d->seen[i].h, 32);
			return 0;
		}
	return -1;
}

/* 0 done, 1 kept for later */
static int
rx_msg(device *d, int self, item *it)
{
	nc_group_state *g;
	nc_buf plain = NC_BUF_INIT;
	uint8_t h[32], mk[32];
	dkey *k;
	int i, rc = -1, skip = -1;

	if (!d->have)
		return 1;
	if (!d->member) {
		removed[it->msgno][self] = 1;
		return 0;
	}
	if (it->epoch > d->g.epoch)
		return 1;
	if (!in_state(&d->g, it->from))
		goto refuse;
	if (it->epoch < d->g.epoch) {
		if (it->epoch + 1 != d->g.epoch || now > d->since + GRACE || !d->have_prev)
			goto refuse;
		g = &d->prev;
	} else
		g = &d->g;
	if (nc_group_hash(h, g) != 0 || memcmp(h, it->state, 32) != 0)
		goto refuse;
	if ((k = key_find(d, it->ref.key)) == NULL)
		return 1;
	if (k->owner != it->from || k->k.epoch != it->epoch)
		goto refuse;
	if (it->ref.index < k->k.index) {
		for (i = 0; i < d->nskip; i++)
			if (!d->skip[i].used && d->skip[i].idx == it->ref.index &&
			    memcmp(d->skip[i].kid, it->ref.key, 8) == 0)
				skip = i;
		if (skip < 0) {
			if (seen_get(d, it->ref.key, it->ref.index, h) == 0 &&
			    memcmp(h, it->ref.hash, 32) == 0)
				return 0;   /* the same again: nothing */
			goto refuse;
		}
		rc = nc_group_open_with(&plain, d->skip[skip].mk, &k->k, g, &it->ref,
		    it->blob.p, it->blob.len);
		if (rc == 0)
			d->skip[skip].used = 1;
	} else {
		uint32_t j;

		for (j = k->k.index; j < it->ref.index && d->nskip < SKIP_MAX; j++) {
			if (nc_skey_message_key(mk, &k->k, j) != 0)
				abort();
			memcpy(d->skip[d->nskip].kid, k->k.id, 8);
			d->skip[d->nskip].idx = j;
			memcpy(d->skip[d->nskip].mk, mk, 32);
			d->skip[d->nskip++].used = 0;
		}
		rc = nc_group_open(&plain, &k->k, g, &it->ref, it->blob.p, it->blob.len);
	}
	if (rc != 0)
		goto refuse;
	{
		char want[16];

		snprintf(want, sizeof want, "m%d", it->msgno);
		if (plain.len != strlen(want) || memcmp(plain.p, want, plain.len) != 0)
			abort();   /* decrypted to something not sent */
	}
	if (d->nseen < SEEN_MAX) {
		memcpy(d->seen[d->nseen].kid, it->ref.key, 8);
		d->seen[d->nseen].idx = it->ref.index;
		memcpy(d->seen[d->nseen++].h, it->ref.hash, 32);
	}
	got[it->msgno][self]++;
	nc_buf_free(&plain);
	return 0;
refuse:
	reported[it->msgno][self] = 1;
	nc_buf_free(&plain);
	return 0;
}

static int
rx(int u, int i)
{
	item *it = &net[i];

	switch (it->kind) {
	case IT_COMMIT: return rx_commit(&dv[u], u, it);
	case IT_KEY: rx_key(&dv[u], it); return 0;
	default: return rx_msg(&dv[u], u, it);
	}
}

/* what waited, again, until nothing moves */
static void
retry(int u)
{
	device *d = &dv[u];
	int moved = 1, i, j;

	while (moved) {
		moved = 0;
		for (i = 0; i < d->npending; i++)
			if (rx(u, d->pending[i]) == 0) {
				for (j = i; j + 1 < d->npending; j++)
					d->pending[j] = d->pending[j + 1];
				d->npending--;
				moved = 1;
				break;
			}
	}
}

static void
deliver(int i)
{
	int u = net[i].to;

	if (rx(u, i) == 1) {
		if (dv[u].npending < NET_MAX)
			dv[u].pending[dv[u].npending++] = i;
	} else
		retry(u);
}

/* Everything a device keeps, through its encodings and back. */
static void
restart(device *d)
{
	nc_buf b = NC_BUF_INIT;
	uint8_t dist[NC_SKEY_DIST_LEN], ssk[64];
	int i;

	st_restart++;
	if (d->have) {
		nc_group_state g;

		if (nc_group_encode(&d->g, &b) != 0 || nc_group_decode(&g, b.p, b.len) != 0)
			abort();
		nc_group_free(&d->g);
		d->g = g;
		if (d->have_prev) {
			nc_buf_reset(&b);
			if (nc_group_encode(&d->prev, &b) != 0 ||
			    nc_group_decode(&g, b.p, b.len) != 0)
				abort();
			nc_group_free(&d->prev);
			d->prev = g;
		}
	}
	for (i = 0; i < d->nkeys; i++) {
		nc_skey_dist(dist, &d->keys[i].k);
		memcpy(ssk, d->keys[i].k.sign_sk, 64);
		if (nc_skey_from_dist(&d->keys[i].k, dist, sizeof dist) != 0)
			abort();
		memcpy(d->keys[i].k.sign_sk, ssk, 64);
	}
	nc_buf_free(&b);
}

/* u sends message number nmsg on its own view */
static void
send(int u)
{
	device *d = &dv[u];
	nc_buf blob = NC_BUF_INIT;
	nc_group_ref ref;
	dkey *k = NULL;
	char text[16];
	uint8_t h[32];
	uint32_t i;
	int j, m;

	if (!d->have || !d->member || nmsg == MSG_MAX)
		return;
	for (j = d->nkeys - 1; j >= 0; j--)
		if (d->keys[j].own && d->keys[j].k.epoch == d->g.epoch) {
			k = &d->keys[j];
			break;
		}
	if (k == NULL || k->k.index >= ROTATE) {
		if (d->nkeys == KEYS_MAX)
			return;
		k = &d->keys[d->nkeys++];
		nc_skey_new(&k->k, &d->g);
		k->owner = u;
		k->own = 1;
		for (i = 0; i < d->g.n; i++) {
			item *it;
			int to;

			for (to = 0; to < USERS && strcmp(addr[to], d->g.m[i].addr); to++)
				;
			if (to == u || (it = put(IT_KEY, to, u)) == NULL)
				continue;
			nc_skey_dist(it->dist, &k->k);
		}
	}
	m = nmsg++;
	snprintf(text, sizeof text, "m%d", m);
	if (nc_group_seal(&blob, &ref, &k->k, &d->g, (const uint8_t *)text,
	    strlen(text)) != 0 || nc_group_hash(h, &d->g) != 0)
		abort();
	for (i = 0; i < d->g.n; i++) {
		item *it;
		int to;

		for (to = 0; to < USERS && strcmp(addr[to], d->g.m[i].addr); to++)
			;
		if (to == u || (it = put(IT_MSG, to, u)) == NULL)
			continue;
		it->epoch = d->g.epoch;
		memcpy(it->state, h, 32);
		it->ref = ref;
		it->msgno = m;
		it->lost = rnd(10) == 0;
		if (nc_buf_add(&it->blob, blob.p, blob.len) != 0)
			abort();
		sent_to[m][to] = 1;
	}
	nc_buf_free(&blob);
}

/* A change by author u on the true state: the commit, or -1. */
static int
change(int u, nc_group_state *next, nc_buf *c)
{
	int t = (int)rnd(USERS), op = (int)rnd(3), rc;
	uint32_t i, admins = 0;

	if (nc_group_copy(next, &truth) != 0)
		abort();
	if (op == 0)
		rc = nc_group_put(next, addr[t], pk[t], NC_GROUP_MEMBER);
	else if (op == 1)
		rc = t == u ? -1 : nc_group_drop(next, addr[t]);
	else
		rc = nc_group_put(next, addr[t], pk[t], NC_GROUP_ADMIN);
	for (i = 0; i < next->n; i++)
		admins += next->m[i].role == NC_GROUP_ADMIN;
	if (rc != 0 || admins == 0 || nc_group_commit(c, &truth, next, addr[u],
	    sk[u]) != 0) {
		nc_group_free(next);
		nc_buf_free(c);
		return -1;
	}
	return 0;
}

static void
post_commit(const nc_buf *c, const nc_group_state *before, const nc_group_state *next,
    int author)
{
	nc_buf prev = NC_BUF_INIT;
	int to;

	if (nc_group_encode(before, &prev) != 0)
		abort();
	for (to = 0; to < USERS; to++) {
		item *it;

		if (to == author || (!in_state(before, to) && !in_state(next, to)) ||
		    (it = put(IT_COMMIT, to, author)) == NULL)
			continue;
		if (nc_buf_add(&it->commit, c->p, c->len) != 0 ||
		    (!in_state(before, to) && nc_buf_add(&it->prev, prev.p, prev.len) != 0))
			abort();
	}
	nc_buf_free(&prev);
}

/* An admin whose view is the true state commits; sometimes a second one
 * at once. */
static void
commit_step(void)
{
	nc_group_state n1, n2, before;
	nc_buf c1 = NC_BUF_INIT, c2 = NC_BUF_INIT;
	int a[USERS], na = 0, u, x, y;

	for (u = 0; u < USERS; u++) {
		const nc_group_member *m = nc_group_find(&truth, addr[u]);

		if (m && m->role == NC_GROUP_ADMIN && dv[u].have && dv[u].member &&
		    same_hash(&dv[u].g, &truth))
			a[na++] = u;
	}
	if (na == 0)
		return;
	x = a[rnd((uint32_t)na)];
	if (change(x, &n1, &c1) != 0)
		return;
	if (nc_group_copy(&before, &truth) != 0)
		abort();
	y = na > 1 && rnd(3) == 0 ? a[rnd((uint32_t)na)] : -1;
	if (y == x || (y >= 0 && change(y, &n2, &c2) != 0))
		y = -1;
	st_commits++;
	if (getenv("GP_DEBUG")) {
		int q;
		printf("# step %d: commit epoch %llu by %d%s%d:", now,
		    (unsigned long long)n1.epoch, x, y >= 0 ? " and " : " ", y);
		for (q = 0; q < USERS; q++)
			printf(" %d:%d%d%d", q, in_state(&before, q), in_state(&n1, q),
			    y >= 0 ? in_state(&n2, q) : 9);
		printf(" winner %s\n", y >= 0 && nc_group_commit_order(c2.p, c2.len,
		    c1.p, c1.len) < 0 ? "second" : "first");
	}
	dev_apply(&dv[x], &n1, &c1, x);
	post_commit(&c1, &before, &n1, x);
	nc_group_free(&truth);
	if (nc_group_copy(&truth, &n1) != 0)
		abort();
	if (y >= 0) {
		st_conc++;
		dev_apply(&dv[y], &n2, &c2, y);
		post_commit(&c2, &before, &n2, y);
		if (nc_group_commit_order(c2.p, c2.len, c1.p, c1.len) < 0) {
			nc_group_free(&truth);
			if (nc_group_copy(&truth, &n2) != 0)
				abort();
		}
		/* each author hears of the other's too */
		{
			item *it;

			if ((it = put(IT_COMMIT, x, y)) != NULL &&
			    nc_buf_add(&it->commit, c2.p, c2.len) != 0)
				abort();
			if ((it = put(IT_COMMIT, y, x)) != NULL &&
			    nc_buf_add(&it->commit, c1.p, c1.len) != 0)
				abort();
		}
		nc_group_free(&n2);
	}
	nc_group_free(&before);
	nc_group_free(&n1);
	nc_buf_free(&c1);
	nc_buf_free(&c2);
}

/* some items of the network, in random order; a message marked lost is
 * never delivered; anything may come twice */
static void
deliver_some(int all)
{
	int i, tries = all ? 4 * NET_MAX : 1 + (int)rnd(8);

	while (tries-- > 0) {
		int live = 0;

		for (i = 0; i < nnet; i++)
			live += net[i].live;
		if (live == 0)
			break;
		do
			i = (int)rnd((uint32_t)nnet);
		while (!net[i].live);
		if (net[i].kind == IT_MSG && net[i].lost) {
			net[i].live = 0;
			continue;
		}
		deliver(i);
		if (!all && rnd(5) == 0)
			continue;   /* comes again later */
		net[i].live = 0;
	}
}

static void
dev_free(device *d)
{
	nc_group_free(&d->g);
	nc_group_free(&d->prev);
	nc_buf_free(&d->commit);
	sodium_memzero(d, sizeof *d);
}

static int
run(uint32_t seed)
{
	nc_buf c0 = NC_BUF_INIT;
	uint8_t id[NC_GROUP_ID] = { 0 };
	int ok = 1, u, s, i, m;

	rs = seed;
	memset(dv, 0, sizeof dv);
	memset(got, 0, sizeof got);
	memset(reported, 0, sizeof reported);
	memset(sent_to, 0, sizeof sent_to);
	memset(removed, 0, sizeof removed);
	nnet = nmsg = now = 0;
	memcpy(id, &seed, 4);
	if (nc_group_new(&truth, id, "g", addr[0], pk[0]) != 0)
		return 0;
	for (u = 1; u < USERS; u++)
		if (rnd(2) && nc_group_put(&truth, addr[u], pk[u], rnd(3) == 0) != 0)
			return 0;
	if (nc_group_commit(&c0, NULL, &truth, addr[0], sk[0]) != 0)
		return 0;
	dev_apply(&dv[0], &truth, &c0, 0);
	for (u = 1; u < USERS; u++) {
		item *it;

		if (in_state(&truth, u) && (it = put(IT_COMMIT, u, 0)) != NULL &&
		    nc_buf_add(&it->commit, c0.p, c0.len) != 0)
			abort();
	}
	nc_buf_free(&c0);
	for (s = 0; s < STEPS; s++) {
		now++;
		switch (rnd(8)) {
		case 0: case 1: commit_step(); break;
		case 2: case 3: case 4: send((int)rnd(USERS)); break;
		case 5: restart(&dv[rnd(USERS)]); break;
		default: deliver_some(0); break;
		}
	}
	/* the end: everything left arrives (lost messages never do) */
	deliver_some(1);
	for (u = 0; u < USERS; u++)
		retry(u);
	for (u = 0; u < USERS; u++) {
		if (in_state(&truth, u) && !(dv[u].have && dv[u].member &&
		    same_hash(&dv[u].g, &truth))) {
			if (getenv("GP_DEBUG"))
				printf("# dev %d: have %d member %d epoch %llu truth %llu pending %d\n",
				    u, dv[u].have, dv[u].member, (unsigned long long)dv[u].g.epoch,
				    (unsigned long long)truth.epoch, dv[u].npending);
			ok = 0;
		}
		/* kept undecrypted: reported; skipped keys never used:
		 * reported missing */
		for (i = 0; i < dv[u].npending; i++)
			if (net[dv[u].pending[i]].kind == IT_MSG)
				reported[net[dv[u].pending[i]].msgno][u] = 1;
	}
	for (m = 0; m < nmsg; m++)
		for (u = 0; u < USERS; u++) {
			if (!sent_to[m][u])
				continue;
			if (got[m][u] > 1)
				ok = 0;    /* decrypted twice */
			if (getenv("GP_DEBUG") && !got[m][u] && !reported[m][u] &&
			    !removed[m][u] && dv[u].member)
				printf("# msg %d dev %d: not decrypted, not reported\n", m, u);
			else if (got[m][u] == 1)
				st_dec++;
			else if (reported[m][u])
				st_rep++;
			else if (removed[m][u] || !dv[u].member)
				st_gone++;
			else {
				/* lost: missing, and reported so if a later
				 * message of its key arrived (a skipped key) */
				int found = 0;

				for (i = 0; i < nnet; i++)
					if (net[i].kind == IT_MSG && net[i].msgno == m &&
					    net[i].to == u)
						break;
				if (i < nnet && net[i].lost) {
					int j;

					for (j = 0; j < dv[u].nskip; j++)
						if (!dv[u].skip[j].used &&
						    dv[u].skip[j].idx == net[i].ref.index &&
						    memcmp(dv[u].skip[j].kid, net[i].ref.key, 8) == 0)
							found = 1;
					/* the last of its key: nothing came after it */
					if (!found) {
						dkey *k = key_find(&dv[u], net[i].ref.key);

						found = k == NULL || k->k.index <= net[i].ref.index;
					}
					st_lost++;
				}
				if (!found)
					ok = 0;
			}
		}
	for (i = 0; i < nnet; i++) {
		nc_buf_free(&net[i].commit);
		nc_buf_free(&net[i].prev);
		nc_buf_free(&net[i].blob);
	}
	for (u = 0; u < USERS; u++)
		dev_free(&dv[u]);
	nc_group_free(&truth);
	return ok;
}

int
main(void)
{
	/* 10,000 runs; fewer under NC_QUICK (valgrind, TSan) and ASan */
	uint32_t runs = getenv("NC_QUICK") ? 500 : getenv("NC_ASAN") ? 2000 : 10000;
	uint32_t seed, good = 0;
	uint8_t sd[32] = { 0 };
	int i;

	if (sodium_init() < 0)
		return 2;
	for (i = 0; i < USERS; i++) {
		sd[0] = (uint8_t)i;
		crypto_sign_seed_keypair(pk[i], sk[i], sd);
	}
	if (getenv("GP_SEED"))
		seed = (uint32_t)atoi(getenv("GP_SEED")), runs = seed;
	else
		seed = 1;
	for (; seed <= runs; seed++) {
		int ok = run(seed);

		if (!ok)
			printf("# seed %u failed\n", seed);
		good += (uint32_t)ok;
		CHECK(ok);
	}
	CHECK(st_commits > 0 && st_conc > 0 && st_dec > 0 && st_rep > 0 &&
	    st_restart > 0 && st_lost > 0);
	printf("# %u seeded runs (%u good): %ld commits (%ld concurrent), %ld "
	    "restarts; per recipient device: %ld decrypted once, %ld reported, "
	    "%ld lost, %ld to a device removed since\n", runs, good, st_commits,
	    st_conc, st_restart, st_dec, st_rep, st_lost, st_gone);
	return check_done("groupprop");
}
