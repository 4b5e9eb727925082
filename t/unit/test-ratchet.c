/* test-ratchet.c - the Double Ratchet: ping-pong, out of order, replays,
 * tampering, MAX_SKIP, forward secrecy and healing, state serialization,
 * and a seeded random property test over drops, duplicates, reordering and
 * crash-and-restore. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto-util.h"
#include "check.h"

static tuser A, B;

static nc_buf
enc(nc_ratchet *st, const char *text)
{
	nc_buf c = NC_BUF_INIT;

	if (nc_ratchet_encrypt(st, &c, (const uint8_t *)text, strlen(text)) != 0)
		abort();
	return c;
}

/* 0 and the right text, or the error (state checked unchanged). */
static int
dec(nc_ratchet *st, const nc_buf *c, const char *want)
{
	nc_buf p = NC_BUF_INIT, before = tsave(st);
	int rc = nc_ratchet_decrypt(st, &p, c->p, c->len);

	if (rc == 0) {
		if (want == NULL || p.len != strlen(want) || memcmp(p.p, want, p.len) != 0)
			rc = -1;
	} else {
		if (!tsame(st, &before) || p.len != 0)
			rc = -2;   /* a failure changed something */
	}
	nc_buf_free(&p);
	nc_buf_free(&before);
	return rc;
}

static void
basics(void)
{
	nc_ratchet *a, *b;
	nc_buf m[6];
	nc_x3dh_hdr h;

	CHECK_INT(tsession(&A, &B, 1, &a, &b), 0);
	CHECK(nc_ratchet_pending(a, &h));
	CHECK(!nc_ratchet_pending(b, NULL));
	CHECK_MEM(nc_ratchet_ad(a), nc_ratchet_ad(b), 32);
	/* The responder cannot send before it has heard from the initiator. */
	nc_buf x = NC_BUF_INIT;
	CHECK(nc_ratchet_encrypt(b, &x, (const uint8_t *)"x", 1) != 0);
	CHECK_INT(x.len, 0);

	m[0] = enc(a, "one");
	m[1] = enc(a, "two");
	m[2] = enc(a, "three");
	CHECK_INT(m[0].len, NC_RATCHET_OVERHEAD + 3);
	CHECK_INT(dec(b, &m[1], "two"), 0);         /* out of order */
	CHECK_INT(dec(b, &m[1], NULL), NC_ESECURITY);   /* replay */
	CHECK_INT(dec(b, &m[0], "one"), 0);         /* from the skipped store */
	CHECK_INT(dec(b, &m[0], NULL), NC_ESECURITY);
	CHECK(nc_ratchet_pending(a, NULL));
	m[3] = enc(b, "four");
	CHECK_INT(dec(a, &m[3], "four"), 0);
	CHECK(!nc_ratchet_pending(a, NULL));     /* the peer answered */
	m[4] = enc(a, "five");
	m[5] = enc(b, "six");
	CHECK_INT(dec(b, &m[4], "five"), 0);
	CHECK_INT(dec(a, &m[5], "six"), 0);
	CHECK_INT(dec(b, &m[2], "three"), 0);    /* late, from an old chain */
	CHECK_INT(dec(b, &m[2], NULL), NC_ESECURITY);
	/* A message for the other direction, or empty and huge inputs. */
	CHECK_INT(dec(a, &m[4], NULL), NC_ESECURITY);
	CHECK(nc_ratchet_decrypt(a, &x, m[4].p, 0) == NC_EDATA);
	CHECK(nc_ratchet_encrypt(a, &x, m[4].p, NC_RATCHET_PT_MAX + 1) == NC_EDATA);

	/* Every bit flipped: rejected, state unchanged. */
	nc_buf t = enc(a, "tamper");
	int bad = 0;
	for (size_t i = 0; i < t.len * 8; i++) {
		t.p[i / 8] ^= (uint8_t)(1 << (i % 8));
		if (dec(b, &t, "tamper") > 0)
			bad++;
		t.p[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	CHECK_INT(bad, (long long)t.len * 8);
	CHECK_INT(dec(b, &t, "tamper"), 0);
	/* The header is authenticated: a message moved to another number. */
	nc_buf u = enc(a, "moved");
	u.p[41] ^= 1;
	CHECK_INT(dec(b, &u, NULL), NC_ESECURITY);

	for (int i = 0; i < 6; i++)
		nc_buf_free(&m[i]);
	nc_buf_free(&t);
	nc_buf_free(&u);
	nc_buf_free(&x);
	nc_ratchet_free(a);
	nc_ratchet_free(b);
}

static void
max_skip(void)
{
	nc_ratchet *a, *b;
	static nc_buf m[NC_MAX_SKIP + 3];

	CHECK_INT(tsession(&A, &B, 0, &a, &b), 0);
	for (int i = 0; i < NC_MAX_SKIP + 3; i++)
		m[i] = enc(a, "m");
	/* Skipping 1,001 keys: refused, nothing changes. */
	CHECK_INT(dec(b, &m[NC_MAX_SKIP + 1], NULL), NC_ESECURITY);
	/* Skipping exactly 1,000 is fine; then the rest decrypt once. */
	CHECK_INT(dec(b, &m[NC_MAX_SKIP], "m"), 0);
	CHECK_INT(dec(b, &m[NC_MAX_SKIP + 1], "m"), 0);
	int ok = 0;
	for (int i = 0; i < NC_MAX_SKIP; i++)
		ok += dec(b, &m[i], "m") == 0;
	CHECK_INT(ok, NC_MAX_SKIP);
	CHECK_INT(dec(b, &m[5], NULL), NC_ESECURITY);
	for (int i = 0; i < NC_MAX_SKIP + 3; i++)
		nc_buf_free(&m[i]);

	/* Across a DH step: the old chain's remainder counts as well. */
	nc_buf r = enc(b, "r");
	CHECK_INT(dec(a, &r, "r"), 0);
	for (int i = 0; i < NC_MAX_SKIP + 2; i++)
		m[i] = enc(a, "n");
	nc_buf s = enc(b, "s");
	CHECK_INT(dec(a, &s, "s"), 0);
	nc_buf t = enc(a, "t");   /* new chain; pn = 1,002 */
	CHECK_INT(dec(b, &t, NULL), NC_ESECURITY);
	CHECK_INT(dec(b, &m[1], "n"), 0);
	CHECK_INT(dec(b, &t, "t"), 0);   /* now only 1,000 left to skip */
	for (int i = 0; i < NC_MAX_SKIP + 2; i++)
		nc_buf_free(&m[i]);
	nc_buf_free(&r);
	nc_buf_free(&s);
	nc_buf_free(&t);
	nc_ratchet_free(a);
	nc_ratchet_free(b);
}

/* Gaps are visible, expired and evicted keys are counted as lost. */
static void
gaps(void)
{
	nc_ratchet *a, *b;
	nc_buf m[4], x, y;

	CHECK_INT(tsession(&A, &B, 0, &a, &b), 0);
	for (int i = 0; i < 4; i++)
		m[i] = enc(a, "g");
	CHECK_INT(dec(b, &m[3], "g"), 0);
	CHECK_INT(nc_ratchet_missing(b, 0), 3);
	CHECK_INT(nc_ratchet_missing(b, 1), 0);   /* the gap is new */
	uint8_t id0[16], id1[16], id2[16];
	uint32_t age = 9;
	CHECK_INT(nc_ratchet_missing_at(b, 0, id0, &age), 0);
	CHECK_INT(age, 0);
	CHECK_INT(nc_ratchet_missing_at(b, 2, id2, NULL), 0);
	CHECK_INT(nc_ratchet_missing_at(b, 3, id1, NULL), -1);
	CHECK_INT(dec(b, &m[1], "g"), 0);
	CHECK_INT(nc_ratchet_missing(b, 0), 2);
	/* Ids are stable: the remaining gaps keep theirs. */
	CHECK_INT(nc_ratchet_missing_at(b, 0, id1, NULL), 0);
	CHECK_MEM(id0, id1, 16);
	CHECK_INT(nc_ratchet_missing_at(b, 1, id1, NULL), 0);
	CHECK_MEM(id2, id1, 16);
	/* 100 round trips: the gap is old, then its keys expire. */
	for (int i = 0; i <= NC_SKIP_EXPIRE_STEPS; i++) {
		x = enc(b, "r");
		CHECK_INT(dec(a, &x, "r"), 0);
		y = enc(a, "s");
		CHECK_INT(dec(b, &y, "s"), 0);
		nc_buf_free(&x);
		nc_buf_free(&y);
		if (i == NC_SKIP_EXPIRE_STEPS - 1) {
			CHECK_INT(nc_ratchet_missing(b, NC_SKIP_EXPIRE_STEPS), 2);
			CHECK_INT(nc_ratchet_lost(b), 0);
		}
	}
	CHECK_INT(nc_ratchet_missing(b, 0), 0);
	CHECK_INT(nc_ratchet_lost(b), 2);
	CHECK_INT(dec(b, &m[0], NULL), NC_ESECURITY);
	CHECK_INT(dec(b, &m[2], NULL), NC_ESECURITY);
	for (int i = 0; i < 4; i++)
		nc_buf_free(&m[i]);

	/* Three chains of 1,000 skipped keys: the oldest 1,000 are evicted. */
	for (int c = 0; c < 3; c++) {
		nc_buf last = NC_BUF_INIT;
		for (int i = 0; i <= NC_MAX_SKIP; i++) {
			nc_buf_free(&last);
			last = enc(a, "e");
		}
		CHECK_INT(dec(b, &last, "e"), 0);
		nc_buf_free(&last);
		x = enc(b, "r");
		CHECK_INT(dec(a, &x, "r"), 0);
		nc_buf_free(&x);
	}
	CHECK_INT(nc_ratchet_missing(b, 0), NC_MAX_SKIP_TOTAL);
	CHECK_INT(nc_ratchet_lost(b), 2 + 3 * NC_MAX_SKIP - NC_MAX_SKIP_TOTAL);
	/* The counters survive a save and load. */
	nc_buf s1 = tsave(b);
	nc_ratchet *c = nc_ratchet_load(s1.p, s1.len);
	CHECK(c != NULL && nc_ratchet_lost(c) == nc_ratchet_lost(b) &&
	    nc_ratchet_missing(c, 0) == NC_MAX_SKIP_TOTAL);
	nc_buf_free(&s1);
	nc_ratchet_free(a);
	nc_ratchet_free(b);
	nc_ratchet_free(c);
}

static nc_ratchet *
snapshot(const nc_ratchet *st)
{
	nc_buf b = tsave(st);
	nc_ratchet *c = nc_ratchet_load(b.p, b.len);

	nc_buf_free(&b);
	return c;
}

/* A copy of B's state taken at step k decrypts nothing delivered before k,
 * and nothing A sends after one round trip. */
static void
forward_secrecy(void)
{
	nc_ratchet *a, *b, *k1, *k2;
	nc_buf old[4], m1, m2, m3, m4, m5;

	CHECK_INT(tsession(&A, &B, 1, &a, &b), 0);
	old[0] = enc(a, "o0");
	CHECK_INT(dec(b, &old[0], "o0"), 0);
	old[1] = enc(b, "o1");
	CHECK_INT(dec(a, &old[1], "o1"), 0);
	old[2] = enc(a, "o2");
	old[3] = enc(a, "o3");
	CHECK_INT(dec(b, &old[3], "o3"), 0);
	CHECK_INT(dec(b, &old[2], "o2"), 0);
	k1 = snapshot(b);
	k2 = snapshot(b);
	CHECK(k1 != NULL && k2 != NULL);
	int leaked = 0;
	for (int i = 0; i < 4; i += 2)   /* A -> B messages before k */
		leaked += dec(k1, &old[i], NULL) == 0;
	CHECK_INT(leaked, 0);

	m1 = enc(a, "m1");   /* the chain in flight at k: readable, inevitably */
	CHECK_INT(dec(b, &m1, "m1"), 0);
	m2 = enc(b, "m2");
	CHECK_INT(dec(a, &m2, "m2"), 0);
	m3 = enc(a, "m3");
	CHECK_INT(dec(b, &m3, "m3"), 0);
	m4 = enc(b, "m4");
	CHECK_INT(dec(a, &m4, "m4"), 0);
	m5 = enc(a, "m5");
	CHECK_INT(dec(b, &m5, "m5"), 0);
	CHECK_INT(dec(k1, &m1, "m1"), 0);
	/* B's fresh ratchet key (in m2) healed the session. */
	CHECK(dec(k1, &m3, NULL) != 0);
	CHECK(dec(k1, &m5, NULL) != 0);
	CHECK(dec(k2, &m3, NULL) != 0);
	CHECK(dec(k2, &m5, NULL) != 0);
	for (int i = 0; i < 4; i++)
		nc_buf_free(&old[i]);
	nc_buf_free(&m1); nc_buf_free(&m2); nc_buf_free(&m3);
	nc_buf_free(&m4); nc_buf_free(&m5);
	nc_ratchet_free(a); nc_ratchet_free(b);
	nc_ratchet_free(k1); nc_ratchet_free(k2);
}

static void
serialization(void)
{
	nc_ratchet *a, *b, *c;
	nc_buf s1, s2, m[3];

	CHECK_INT(tsession(&A, &B, 1, &a, &b), 0);
	m[0] = enc(a, "x");
	m[1] = enc(a, "y");
	m[2] = enc(a, "z");
	CHECK_INT(dec(b, &m[2], "z"), 0);   /* two skipped keys held */
	s1 = tsave(b);
	c = nc_ratchet_load(s1.p, s1.len);
	CHECK(c != NULL);
	s2 = tsave(c);
	CHECK(s1.len == s2.len && memcmp(s1.p, s2.p, s1.len) == 0);
	CHECK_INT(dec(c, &m[0], "x"), 0);
	/* Strict: every truncation, a trailing byte, unknown flags. */
	int bad = 0;
	for (size_t i = 0; i < s1.len; i++) {
		nc_ratchet *d = nc_ratchet_load(s1.p, i);
		bad += d == NULL;
		nc_ratchet_free(d);
	}
	CHECK_INT(bad, (long long)s1.len);
	CHECK_INT(nc_buf_add(&s1, "", 1), 0);
	CHECK(nc_ratchet_load(s1.p, s1.len) == NULL);
	s1.len--;
	s1.p[2 + 128] |= 0x80;   /* flags */
	CHECK(nc_ratchet_load(s1.p, s1.len) == NULL);
	s1.p[2 + 128] &= 0x7f;
	s1.p[0] = 2;             /* version */
	CHECK(nc_ratchet_load(s1.p, s1.len) == NULL);
	/* A pending initiator state round-trips with its X3DH header. */
	nc_buf_free(&s2);
	nc_ratchet *d;
	s2 = tsave(a);
	CHECK((d = nc_ratchet_load(s2.p, s2.len)) != NULL);
	nc_x3dh_hdr h1, h2;
	CHECK(nc_ratchet_pending(a, &h1) && nc_ratchet_pending(d, &h2));
	CHECK(memcmp(&h1, &h2, sizeof h1) == 0);
	/* nc_ratchet_copy */
	CHECK_INT(nc_ratchet_copy(d, b), 0);
	CHECK(tsame(d, &(nc_buf){ 0 }) == 0);
	nc_buf sb = tsave(b);
	CHECK(tsame(d, &sb));
	nc_buf_free(&sb);
	for (int i = 0; i < 3; i++)
		nc_buf_free(&m[i]);
	nc_buf_free(&s1);
	nc_buf_free(&s2);
	nc_ratchet_free(a); nc_ratchet_free(b);
	nc_ratchet_free(c); nc_ratchet_free(d);
}

/* --- the property test --- */

static uint64_t prng;

static uint32_t
rnd(uint32_t n)
{
	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return (uint32_t)(prng % n);
}

#define INFLIGHT 64
typedef struct {
	nc_buf c;
	char text[32];
	int delivered;
} wire_msg;

typedef struct {
	nc_ratchet *st;
	nc_buf saved;          /* last committed state */
	wire_msg q[INFLIGHT];  /* messages travelling to this side */
	int nq;
	wire_msg done[INFLIGHT];   /* delivered ones, for replays */
	int ndone;
} side;

static int prop_fail;

#define PCHECK(c) do { if (!(c)) { prop_fail++; \
	fprintf(stderr, "property: run seed %llu: %s (line %d)\n", \
	    (unsigned long long)seed, #c, __LINE__); } } while (0)

static void
commit(side *s)
{
	nc_buf_free(&s->saved);
	s->saved = tsave(s->st);
}

static void
restore(side *s)
{
	nc_ratchet_free(s->st);
	s->st = nc_ratchet_load(s->saved.p, s->saved.len);
	if (s->st == NULL)
		abort();
}

static void
side_free(side *s)
{
	nc_ratchet_free(s->st);
	nc_buf_free(&s->saved);
	for (int i = 0; i < s->nq; i++)
		nc_buf_free(&s->q[i].c);
	for (int i = 0; i < s->ndone; i++)
		nc_buf_free(&s->done[i].c);
}

/* Deliver q[i] to s: must decrypt exactly once, with the right text. */
static void
deliver(side *s, int i, uint64_t seed, int crash_before_commit)
{
	nc_buf p = NC_BUF_INIT;
	wire_msg w = s->q[i];
	int rc = nc_ratchet_decrypt(s->st, &p, w.c.p, w.c.len);

	PCHECK(rc == 0);
	PCHECK(rc != 0 || (p.len == strlen(w.text) && memcmp(p.p, w.text, p.len) == 0));
	nc_buf_free(&p);
	if (crash_before_commit) {   /* plaintext lost with the state: redeliver later */
		restore(s);
		return;
	}
	commit(s);
	memmove(&s->q[i], &s->q[i + 1], (size_t)(s->nq - i - 1) * sizeof w);
	s->nq--;
	if (s->ndone < INFLIGHT)
		s->done[s->ndone++] = w;
	else
		nc_buf_free(&w.c);
}

/* A failed decryption must change nothing. */
static void
must_fail(side *s, const uint8_t *c, size_t n, uint64_t seed)
{
	nc_buf p = NC_BUF_INIT;

	PCHECK(nc_ratchet_decrypt(s->st, &p, c, n) != 0);
	PCHECK(p.len == 0);
	PCHECK(tsame(s->st, &s->saved));
	nc_buf_free(&p);
}

static void
prop_run(uint64_t seed)
{
	side s[2];
	int sent = 0;
	const int window = 4;

	memset(s, 0, sizeof s);
	prng = seed * 0x9e3779b97f4a7c15ULL + 1;
	det_seed(seed);
	if (tsession(&A, &B, (int)(seed & 1), &s[0].st, &s[1].st) != 0)
		abort();
	commit(&s[0]);
	commit(&s[1]);
	int nact = 1 + (int)rnd(40);
	for (int a = 0; a < nact && !prop_fail; a++) {
		int who = (int)rnd(2), to = !who;
		side *me = &s[who], *peer = &s[to];
		switch (rnd(8)) {
		case 0: case 1: case 2: {   /* send (commit before it leaves) */
			if (peer->nq == INFLIGHT)
				break;
			wire_msg *w = &peer->q[peer->nq];
			memset(w, 0, sizeof *w);
			snprintf(w->text, sizeof w->text, "msg %d from %d", sent++, who);
			if (nc_ratchet_encrypt(me->st, &w->c, (const uint8_t *)w->text,
			    strlen(w->text)) != 0) {
				/* only the responder before its first message */
				PCHECK(who == 1);
				nc_buf_free(&w->c);
				PCHECK(tsame(me->st, &me->saved));
				break;
			}
			commit(me);
			peer->nq++;
			break;
		}
		case 3: case 4:   /* deliver one of the first `window` in flight */
			if (me->nq > 0)
				deliver(me, (int)rnd((uint32_t)(me->nq < window ? me->nq : window)),
				    seed, 0);
			break;
		case 5:   /* drop, or decrypt then crash before the commit */
			if (me->nq > 0) {
				int i = (int)rnd((uint32_t)me->nq);
				if (rnd(2)) {
					nc_buf_free(&me->q[i].c);
					memmove(&me->q[i], &me->q[i + 1],
					    (size_t)(me->nq - i - 1) * sizeof me->q[0]);
					me->nq--;
				} else
					deliver(me, i, seed, 1);
			}
			break;
		case 6:   /* duplicate a delivered message, or tamper with one */
			if (me->ndone > 0 && rnd(2)) {
				wire_msg *w = &me->done[rnd((uint32_t)me->ndone)];
				must_fail(me, w->c.p, w->c.len, seed);
			} else if (me->nq > 0) {
				wire_msg *w = &me->q[rnd((uint32_t)me->nq)];
				size_t bit = rnd((uint32_t)(w->c.len * 8));
				w->c.p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
				must_fail(me, w->c.p, w->c.len, seed);
				w->c.p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			}
			break;
		case 7:   /* crash and restore from the committed state */
			restore(me);
			PCHECK(tsame(me->st, &me->saved));
			break;
		}
	}
	/* Everything still in flight arrives, in any order, exactly once. */
	for (int w = 0; w < 2 && !prop_fail; w++)
		while (s[w].nq > 0 && !prop_fail)
			deliver(&s[w], (int)rnd((uint32_t)s[w].nq), seed, 0);
	for (int w = 0; w < 2 && !prop_fail; w++)
		for (int i = 0; i < s[w].ndone; i++)
			must_fail(&s[w], s[w].done[i].c.p, s[w].done[i].c.len, seed);
	side_free(&s[0]);
	side_free(&s[1]);
	nc_random_set_test(NULL, NULL);
}

static void
property(void)
{
	int runs = quick() ? 200 : asan() ? 2000 : 10000;
	const char *r = getenv("NC_PROP_RUNS");

	if (r != NULL)
		runs = atoi(r);
	for (int i = 0; i < runs && !prop_fail; i++)
		prop_run((uint64_t)i + 1);
	CHECK_INT(prop_fail, 0);
	printf("property: %d runs\n", runs);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	tuser_make(&A, "alice@a.test");
	tuser_make(&B, "bob@b.test");
	basics();
	max_skip();
	gaps();
	forward_secrecy();
	serialization();
	property();
	tuser_free(&A);
	tuser_free(&B);
	return check_done("ratchet");
}
