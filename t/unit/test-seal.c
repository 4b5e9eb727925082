/* test-seal.c - payloads and Padme, sealed sender and envelopes: the whole
 * path between two devices, every bit flip, swapped ids, forged senders,
 * certificates against device lists. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto-util.h"
#include "envelope.h"
#include "payload.h"
#include "seal.h"
#include "check.h"

static tuser A, B, M;

static void
cert_of(nc_cert *c, const tuser *u)
{
	memset(c, 0, sizeof *c);
	c->who = u->party;
	c->devlist_version = 3;
}

static void
devlist_of(nc_devlist *l, const tuser *u)
{
	memset(l, 0, sizeof *l);
	strcpy(l->user, u->party.user);
	l->version = 3;
	l->n = 1;
	nc_device_entry(u->dev, &l->dev[0]);
	if (nc_devlist_sign(l, u->id->sk) != 0)
		abort();
}

static void
payloads(void)
{
	nc_payload p = { NC_PL_TEXT, { 1, 2, 3 }, 1700000000, (const uint8_t *)"hi", 2, 0, NULL, NC_PL_NOGOSSIP }, q;
	nc_buf b = NC_BUF_INIT;
	uint8_t acks[32];

	CHECK_INT(nc_payload_encode(&p, &b), 0);
	CHECK_INT(b.len, 1 + 1 + 16 + 8 + 4 + 2 + 2);
	CHECK_INT(nc_payload_decode(&q, b.p, b.len), 0);
	CHECK(q.type == NC_PL_TEXT && q.time == 1700000000 && q.bodylen == 2 &&
	    memcmp(q.body, "hi", 2) == 0 && memcmp(q.id, p.id, 16) == 0);
	int bad = 0;
	for (size_t i = 0; i < b.len; i++)
		bad += nc_payload_decode(&q, b.p, i) == NC_EDATA;
	CHECK_INT(bad, (long long)b.len);
	b.p[1] = 7;   /* 5 and 6 carry files now (media.h); 7 is unknown */
	CHECK_INT(nc_payload_decode(&q, b.p, b.len), NC_EDATA);
	nc_buf_reset(&b);
	/* Receipts carry acknowledged ids, and only receipts do. */
	memset(acks, 7, sizeof acks);
	p.type = NC_PL_RECEIPT;
	CHECK_INT(nc_payload_encode(&p, &b), NC_EDATA);
	p.nacks = 2;
	p.acks = acks;
	CHECK_INT(nc_payload_encode(&p, &b), 0);
	CHECK_INT(nc_payload_decode(&q, b.p, b.len), 0);
	CHECK(q.nacks == 2 && memcmp(q.acks, acks, 32) == 0);
	p.type = NC_PL_CONTROL;
	CHECK_INT(nc_payload_encode(&p, &b), NC_EDATA);
	nc_buf_free(&b);

	/* A sent copy's body: recipients, then the text; strict. */
	{
		static nc_sent sc;
		const char *to[2] = { "bob@b.test", "carol@c.test:8080" };
		nc_buf sb = NC_BUF_INIT;
		CHECK_INT(nc_sent_encode(&sb, to, 2, (const uint8_t *)"hey", 3), 0);
		CHECK_INT(nc_sent_decode(&sc, sb.p, sb.len), 0);
		CHECK(sc.nto == 2 && strcmp(sc.to[0], "bob@b.test") == 0 &&
		    strcmp(sc.to[1], "carol@c.test:8080") == 0 && sc.textlen == 3 &&
		    memcmp(sc.text, "hey", 3) == 0);
		bad = 0;
		for (size_t i = 0; i < sb.len; i++)
			bad += nc_sent_decode(&sc, sb.p, i) == NC_EDATA;
		CHECK_INT(bad, (long long)sb.len);
		CHECK_INT(nc_buf_add(&sb, "", 1), 0);   /* trailing byte */
		CHECK_INT(nc_sent_decode(&sc, sb.p, sb.len), NC_EDATA);
		nc_buf_reset(&sb);
		CHECK_INT(nc_sent_encode(&sb, to, 0, (const uint8_t *)"", 0), NC_EDATA);
		to[0] = "Bob@b.test";
		nc_buf_reset(&sb);
		CHECK_INT(nc_sent_encode(&sb, to, 1, (const uint8_t *)"", 0), 0);
		CHECK_INT(nc_sent_decode(&sc, sb.p, sb.len), NC_EDATA);
		nc_buf_free(&sb);
	}

	/* Padme: 256 minimum, at most 12% overhead, known values. */
	CHECK_INT(nc_padme(0), 256);
	CHECK_INT(nc_padme(256), 256);
	CHECK_INT(nc_padme(257), 272);
	CHECK_INT(nc_padme(1000), 1024);
	CHECK_INT(nc_padme(4100), 4352);
	CHECK_INT(nc_padme(9999), 10240);
	CHECK_INT(nc_padme(131072), 131072);
	int worse = 0;
	for (size_t n = 1; n < 300000; n += 37)
		worse += nc_padme(n) < n || (n > 256 && nc_padme(n) > n + n / 8);
	CHECK_INT(worse, 0);
}

static nc_buf
make_env(tuser *from, nc_ratchet *st, tuser *to, const char *text, uint8_t envid[16])
{
	nc_cert c;
	nc_payload p = { NC_PL_TEXT, { 9 }, 1700000001, (const uint8_t *)text,
	    strlen(text), 0, NULL, NC_PL_NOGOSSIP };
	nc_buf out = NC_BUF_INIT;

	cert_of(&c, from);
	if (nc_envelope_make(&out, envid, st, from->dev, &c, to->party.dev,
	    to->party.dh_pk, &p) != 0)
		abort();
	return out;
}

/* Open + decrypt; 0 and the text, or the error with the state unchanged. */
static int
receive(tuser *self, nc_ratchet *st, const uint8_t *env, size_t n, const char *want)
{
	nc_unsealed u;
	nc_buf ub = NC_BUF_INIT, pb = NC_BUF_INIT, before = tsave(st);
	nc_payload pl;
	uint8_t id[16];
	int rc;

	if ((rc = nc_envelope_open(&u, &ub, id, self->dev, env, n)) == 0)
		rc = nc_envelope_decrypt(&pl, &pb, st, &u);
	if (rc == 0 && (pl.bodylen != strlen(want) || memcmp(pl.body, want, pl.bodylen) != 0))
		rc = -1;
	if (rc > 0 && !tsame(st, &before))
		rc = -2;
	nc_buf_free(&ub);
	nc_buf_free(&pb);
	nc_buf_free(&before);
	return rc;
}

static void
full_path(void)
{
	nc_bundle bun;
	nc_x3dh_out xa, xb;
	nc_ratchet *sa, *sb;
	nc_unsealed u;
	nc_buf ub = NC_SECBUF_INIT, pb = NC_SECBUF_INIT, e1, e2, e3;
	nc_payload pl;
	nc_devlist la;
	uint8_t id1[16], id[16];

	/* Alice starts a session from Bob's bundle and sends. */
	tbundle(&bun, &B, 1);
	CHECK_INT(nc_x3dh_initiate(&xa, &A.party, A.dev, &B.party, &bun), 0);
	CHECK((sa = nc_ratchet_init_initiator(&xa)) != NULL);
	e1 = make_env(&A, sa, &B, "hello bob", id1);
	CHECK(e1.len < 600 && e1.len > 256);

	/* Bob opens it: a prekey message from Alice's device. */
	CHECK_INT(nc_envelope_open(&u, &ub, id, B.dev, e1.p, e1.len), 0);
	CHECK_MEM(id, id1, 16);
	CHECK(u.prekey);
	CHECK_STR(u.cert.who.user, "alice@a.test");
	CHECK_MEM(&u.cert.who, &A.party, sizeof A.party);
	devlist_of(&la, &A);
	CHECK_INT(nc_cert_check(&u.cert, &la), 0);
	CHECK_INT(u.hdr.spk_id, B.spk.id);
	CHECK_INT(u.hdr.has_otpk, 1);
	CHECK_INT(u.hdr.otpk_id, B.otpk.id);
	CHECK_INT(nc_x3dh_respond(&xb, &B.party, B.dev, &B.spk, &B.otpk,
	    &u.cert.who, &u.hdr), 0);
	CHECK((sb = nc_ratchet_init_responder(&xb, &B.spk)) != NULL);
	CHECK_INT(nc_envelope_decrypt(&pl, &pb, sb, &u), 0);
	CHECK(pl.type == NC_PL_TEXT && pl.bodylen == 9 && memcmp(pl.body, "hello bob", 9) == 0);
	CHECK(pl.time == 1700000001);

	/* Bob answers; Alice's session stops sending prekey messages. */
	e2 = make_env(&B, sb, &A, "hi alice", id);
	CHECK_INT(receive(&A, sa, e2.p, e2.len, "hi alice"), 0);
	CHECK(!nc_ratchet_pending(sa, NULL));
	e3 = make_env(&A, sa, &B, "second", id);
	nc_buf_reset(&ub);
	CHECK_INT(nc_envelope_open(&u, &ub, id, B.dev, e3.p, e3.len), 0);
	CHECK(!u.prekey);

	/* Every single-bit flip of the envelope is rejected, state unchanged. */
	int rejected = 0, tried = 0;
	for (size_t i = 0; i < e3.len * 8; i += quick() ? 13 : 1) {
		e3.p[i / 8] ^= (uint8_t)(1 << (i % 8));
		int rc = receive(&B, sb, e3.p, e3.len, "second");
		rejected += rc > 0;
		tried++;
		e3.p[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	CHECK_INT(rejected, tried);
	/* Truncated or extended: rejected. */
	CHECK(receive(&B, sb, e3.p, e3.len - 1, "second") > 0);
	CHECK_INT(nc_buf_add(&e3, "", 1), 0);
	CHECK(receive(&B, sb, e3.p, e3.len, "second") > 0);
	e3.len--;
	/* The relay swaps the envelope id: the seal binds it. */
	nc_envelope env;
	nc_buf sw = NC_BUF_INIT;
	CHECK_INT(nc_envelope_decode(&env, e3.p, e3.len), 0);
	id[0] = env.id[0] ^ 1;
	memcpy(id + 1, env.id + 1, 15);
	CHECK_INT(nc_envelope_encode(&sw, id, env.rcpt, env.sealed, env.sealedlen), 0);
	CHECK_INT(receive(&B, sb, sw.p, sw.len, "second"), NC_ESECURITY);
	/* Delivered to another device (Alice's): not hers to open. */
	CHECK_INT(receive(&A, sa, e3.p, e3.len, "second"), NC_ESECURITY);
	/* The real one, once; its replay is refused. */
	CHECK_INT(receive(&B, sb, e3.p, e3.len, "second"), 0);
	CHECK_INT(receive(&B, sb, e3.p, e3.len, "second"), NC_ESECURITY);
	CHECK_INT(receive(&B, sb, e1.p, e1.len, "hello bob"), NC_ESECURITY);

	nc_buf_free(&sw);
	nc_buf_free(&e1); nc_buf_free(&e2); nc_buf_free(&e3);
	nc_buf_free(&ub); nc_buf_free(&pb);
	nc_ratchet_free(sa); nc_ratchet_free(sb);
}

/* Mallory has a device of her own and claims to be Alice. */
static void
forged_sender(void)
{
	nc_cert c;
	nc_devlist la;
	nc_unsealed u;
	nc_buf s = NC_BUF_INIT, ub = NC_BUF_INIT;
	uint8_t envid[16] = { 1 };

	devlist_of(&la, &A);
	/* 1. Her own device keys under Alice's name: opens, but Alice's list
	 * does not have that device. */
	cert_of(&c, &M);
	strcpy(c.who.user, A.party.user);
	memcpy(c.who.identity, A.party.identity, 32);
	CHECK_INT(nc_seal(&s, M.dev, &c, envid, B.party.dev, B.party.dh_pk, NULL,
	    (const uint8_t *)"x", 1), 0);
	CHECK_INT(nc_unseal(&u, &ub, B.dev, envid, s.p, s.len), 0);
	CHECK_INT(nc_cert_check(&u.cert, &la), NC_ESECURITY);
	c.devlist_version = 4;   /* "a newer list has it": refetch, then refuse */
	nc_buf_reset(&s);
	CHECK_INT(nc_seal(&s, M.dev, &c, envid, B.party.dev, B.party.dh_pk, NULL,
	    (const uint8_t *)"x", 1), 0);
	nc_buf_reset(&ub);
	CHECK_INT(nc_unseal(&u, &ub, B.dev, envid, s.p, s.len), 0);
	CHECK_INT(nc_cert_check(&u.cert, &la), NC_ETEMP);
	/* 2. Alice's device keys in the certificate, without her secret: the
	 * static DH does not match and nothing opens. */
	nc_device fake = *M.dev;
	fake.dhcache = NULL;   /* not M's cache */
	memcpy(fake.id, A.dev->id, 16);
	memcpy(fake.sign_pk, A.dev->sign_pk, 32);
	memcpy(fake.dh_pk, A.dev->dh_pk, 32);
	cert_of(&c, &A);
	nc_buf_reset(&s);
	CHECK_INT(nc_seal(&s, &fake, &c, envid, B.party.dev, B.party.dh_pk, NULL,
	    (const uint8_t *)"x", 1), 0);
	nc_buf_reset(&ub);
	CHECK_INT(nc_unseal(&u, &ub, B.dev, envid, s.p, s.len), NC_ESECURITY);
	CHECK_INT(ub.len, 0);
	/* A certificate that is not the sealing device's is refused. */
	cert_of(&c, &A);
	CHECK_INT(nc_seal(&s, M.dev, &c, envid, B.party.dev, B.party.dh_pk, NULL,
	    (const uint8_t *)"x", 1), NC_ESOFTWARE);
	/* Sealing to a low-order key is refused. */
	uint8_t zero[32] = { 0 };
	cert_of(&c, &M);
	CHECK_INT(nc_seal(&s, M.dev, &c, envid, B.party.dev, zero, NULL,
	    (const uint8_t *)"x", 1), NC_ESECURITY);
	sodium_memzero(&fake, sizeof fake);
	nc_buf_free(&s);
	nc_buf_free(&ub);
}

/* A shared ephemeral (nc_seal_share_begin): the same e_pk for two
 * recipients, its own for a recipient key met again, each opens; after
 * the end, a fresh one for every envelope again. */
static void
shared_ephemeral(void)
{
	nc_cert c;
	nc_unsealed u;
	nc_buf s1 = NC_BUF_INIT, s2 = NC_BUF_INIT, s3 = NC_BUF_INIT,
	    s4 = NC_BUF_INIT, ub = NC_BUF_INIT;
	uint8_t envid[16] = { 9 };

	cert_of(&c, &M);
	CHECK_INT(nc_seal_share_begin(M.dev), 0);
	CHECK_INT(nc_seal(&s1, M.dev, &c, envid, B.party.dev, B.party.dh_pk, NULL,
	    (const uint8_t *)"one", 3), 0);
	CHECK_INT(nc_seal(&s2, M.dev, &c, envid, A.party.dev, A.party.dh_pk, NULL,
	    (const uint8_t *)"two", 3), 0);
	CHECK_INT(nc_seal(&s3, M.dev, &c, envid, B.party.dev, B.party.dh_pk, NULL,
	    (const uint8_t *)"three", 5), 0);
	nc_seal_share_end(M.dev);
	CHECK(M.dev->share == NULL);
	CHECK_INT(nc_seal(&s4, M.dev, &c, envid, A.party.dev, A.party.dh_pk, NULL,
	    (const uint8_t *)"four", 4), 0);
	CHECK(memcmp(s1.p + 2, s2.p + 2, 32) == 0);   /* e_pk shared */
	CHECK(memcmp(s1.p + 2, s3.p + 2, 32) != 0);   /* B again: its own */
	CHECK(memcmp(s2.p + 2, s4.p + 2, 32) != 0);   /* ended */
	CHECK_INT(nc_unseal(&u, &ub, B.dev, envid, s1.p, s1.len), 0);
	CHECK(u.msglen == 3 && memcmp(u.msg, "one", 3) == 0);
	nc_buf_reset(&ub);
	CHECK_INT(nc_unseal(&u, &ub, A.dev, envid, s2.p, s2.len), 0);
	CHECK(u.msglen == 3 && memcmp(u.msg, "two", 3) == 0);
	nc_buf_reset(&ub);
	CHECK_INT(nc_unseal(&u, &ub, B.dev, envid, s3.p, s3.len), 0);
	CHECK(u.msglen == 5 && memcmp(u.msg, "three", 5) == 0);
	nc_buf_reset(&ub);
	CHECK_INT(nc_unseal(&u, &ub, A.dev, envid, s1.p, s1.len), NC_ESECURITY);
	nc_seal_share_end(M.dev);   /* harmless twice */
	/* 1,000 envelopes share one, then a fresh one */
	{
		uint8_t first[32], sk[32], pk[32];
		int same = 1;

		CHECK_INT(nc_seal_share_begin(M.dev), 0);
		for (int i = 0; i <= 1000; i++) {
			randombytes_buf(sk, sizeof sk);
			crypto_scalarmult_base(pk, sk);
			nc_buf_reset(&s4);
			CHECK_INT(nc_seal(&s4, M.dev, &c, envid, A.party.dev, pk, NULL,
			    (const uint8_t *)"x", 1), 0);
			if (i == 0)
				memcpy(first, s4.p + 2, 32);
			else if (i < 1000)
				same &= memcmp(first, s4.p + 2, 32) == 0;
		}
		CHECK(same);
		CHECK(memcmp(first, s4.p + 2, 32) != 0);
		nc_seal_share_end(M.dev);
	}
	nc_buf_free(&s1);
	nc_buf_free(&s2);
	nc_buf_free(&s3);
	nc_buf_free(&s4);
	nc_buf_free(&ub);
}

static void
sizes(void)
{
	nc_cert c;
	nc_buf s = NC_BUF_INIT;
	uint8_t envid[16] = { 0 }, big[5000];
	int padded = 0, tried = 0;

	memset(big, 'x', sizeof big);
	cert_of(&c, &A);
	/* The content is always a Padme size: blob = 2 + 32 + 49 + 4 + content
	 * + 16. */
	for (size_t n = 0; n < sizeof big; n += 50) {
		nc_buf_reset(&s);
		CHECK_INT(nc_seal(&s, A.dev, &c, envid, B.party.dev, B.party.dh_pk,
		    NULL, big, n), 0);
		size_t content = s.len - (2 + 32 + 49 + 4 + 16);
		padded += nc_padme(content) == content;
		tried++;
	}
	CHECK_INT(padded, tried);
	CHECK(s.len < 5000 + 5000 / 8 + 400);
	nc_buf_free(&s);
}


/* --- a seeded property test over whole envelopes --- */

/* A receiving device as a client runs it: one session per peer device,
 * the replay tags of the prekey messages that created sessions, one
 * one-time prekey (used once). */
typedef struct {
	tuser *u;
	nc_ratchet *st;
	uint8_t tags[64][32];
	int ntags;
	int otpk_used;
} rx;

static uint64_t eprng;

static uint32_t
erand(uint32_t n)
{
	eprng ^= eprng << 13;
	eprng ^= eprng >> 7;
	eprng ^= eprng << 17;
	return (uint32_t)(eprng % n);
}

static int
seen_tag(const rx *r, const uint8_t t[32])
{
	for (int i = 0; i < r->ntags; i++)
		if (memcmp(r->tags[i], t, 32) == 0)
			return 1;
	return 0;
}

/* 0 and the payload text in *got, or an error; r changes only on success. */
static int
rx_receive(rx *r, const tuser *from, const nc_buf *env, char got[64])
{
	nc_unsealed u;
	nc_buf ub = NC_BUF_INIT, pb = NC_BUF_INIT;
	nc_payload pl;
	nc_devlist l;
	uint8_t id[16], tag[32];
	nc_ratchet *fresh = NULL;
	int rc;

	devlist_of(&l, from);
	if ((rc = nc_envelope_open(&u, &ub, id, r->u->dev, env->p, env->len)) != 0 ||
	    (rc = nc_cert_check(&u.cert, &l)) != 0)
		goto out;
	rc = NC_ESECURITY;
	if (r->st != NULL)
		rc = nc_envelope_decrypt(&pl, &pb, r->st, &u);
	if (rc != 0 && u.prekey) {
		nc_x3dh_out x;
		nc_x3dh_replay_tag(tag, u.hdr.spk_id, u.hdr.ek);
		if (seen_tag(r, tag) || (u.hdr.has_otpk && r->otpk_used) ||
		    u.hdr.spk_id != r->u->spk.id) {
			rc = NC_ESECURITY;
			goto out;
		}
		if ((rc = nc_x3dh_respond(&x, &r->u->party, r->u->dev, &r->u->spk,
		    u.hdr.has_otpk ? &r->u->otpk : NULL, &u.cert.who, &u.hdr)) != 0)
			goto out;
		if ((fresh = nc_ratchet_init_responder(&x, &r->u->spk)) == NULL)
			abort();
		nc_buf_reset(&pb);
		if ((rc = nc_envelope_decrypt(&pl, &pb, fresh, &u)) != 0)
			goto out;
		nc_ratchet_free(r->st);
		r->st = fresh;
		fresh = NULL;
		memcpy(r->tags[r->ntags++ % 64], tag, 32);
		r->otpk_used |= u.hdr.has_otpk;
	}
	if (rc == 0) {
		if (pl.bodylen >= 64)
			abort();
		memcpy(got, pl.body, pl.bodylen);
		got[pl.bodylen] = '\0';
	}
out:
	nc_ratchet_free(fresh);
	nc_buf_free(&ub);
	nc_buf_free(&pb);
	return rc;
}

typedef struct {
	nc_buf env;
	char text[32];
} flying;

static int eprop_fail;

#define ECHECK(c) do { if (!(c)) { eprop_fail++; fprintf(stderr, \
	"envelope property: seed %llu: %s (line %d)\n", \
	(unsigned long long)seed, #c, __LINE__); } } while (0)

static void
eprop_run(uint64_t seed)
{
	tuser *who[2] = { &A, &B };
	nc_ratchet *send[2] = { NULL, NULL };
	rx r[2];
	flying q[2][16], done[2][16];
	int nq[2] = { 0, 0 }, nd[2] = { 0, 0 }, sent = 0;
	nc_bundle bun;
	nc_x3dh_out x;

	eprng = seed * 0x9e3779b97f4a7c15ULL + 7;
	det_seed(seed + 1000000);
	memset(r, 0, sizeof r);
	r[0].u = &A;
	r[1].u = &B;
	/* A starts from B's bundle; B's sending state is its receiving one. */
	tbundle(&bun, &B, (int)(seed & 1));
	if (nc_x3dh_initiate(&x, &A.party, A.dev, &B.party, &bun) != 0 ||
	    (send[0] = nc_ratchet_init_initiator(&x)) == NULL)
		abort();
	r[0].st = send[0];   /* A sends and receives with one session */
	int nact = 1 + (int)erand(20);
	for (int a = 0; a < nact && !eprop_fail; a++) {
		int s = (int)erand(2), d = !s;
		nc_ratchet *st = s == 0 ? r[0].st : r[1].st;
		switch (erand(6)) {
		case 0: case 1: {   /* send, if this side has a session to send on */
			uint8_t id[16];
			nc_cert c;
			flying *f = &q[d][nq[d]];
			if (st == NULL || nq[d] == 16)
				break;
			memset(f, 0, sizeof *f);
			snprintf(f->text, sizeof f->text, "env %d", sent++);
			cert_of(&c, who[s]);
			nc_payload p = { NC_PL_TEXT, { 0 }, 1, (const uint8_t *)f->text,
			    strlen(f->text), 0, NULL, NC_PL_NOGOSSIP };
			if (nc_envelope_make(&f->env, id, st, who[s]->dev, &c,
			    who[d]->party.dev, who[d]->party.dh_pk, &p) != 0) {
				ECHECK(s == 1);   /* responder before its first message */
				nc_buf_free(&f->env);
				break;
			}
			nq[d]++;
			break;
		}
		case 2: case 3: {   /* deliver one of the first three in flight */
			if (nq[s] == 0)
				break;
			int i = (int)erand((uint32_t)(nq[s] < 3 ? nq[s] : 3));
			char got[64];
			ECHECK(rx_receive(&r[s], who[d], &q[s][i].env, got) == 0);
			ECHECK(strcmp(got, q[s][i].text) == 0);
			if (nd[s] < 16)
				done[s][nd[s]++] = q[s][i];
			else
				nc_buf_free(&q[s][i].env);
			memmove(&q[s][i], &q[s][i + 1], (size_t)(nq[s] - i - 1) * sizeof q[0][0]);
			nq[s]--;
			break;
		}
		case 4:   /* replay something delivered */
			if (nd[s] > 0) {
				char got[64];
				ECHECK(rx_receive(&r[s], who[d], &done[s][erand((uint32_t)nd[s])].env,
				    got) != 0);
			}
			break;
		case 5:   /* flip a bit of something in flight */
			if (nq[s] > 0) {
				flying *f = &q[s][erand((uint32_t)nq[s])];
				size_t bit = erand((uint32_t)(f->env.len * 8));
				char got[64];
				f->env.p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
				ECHECK(rx_receive(&r[s], who[d], &f->env, got) != 0);
				f->env.p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			}
			break;
		}
	}
	for (int s = 0; s < 2 && !eprop_fail; s++)
		while (nq[s] > 0 && !eprop_fail) {
			char got[64];
			ECHECK(rx_receive(&r[s], who[!s], &q[s][0].env, got) == 0);
			ECHECK(strcmp(got, q[s][0].text) == 0);
			nc_buf_free(&q[s][0].env);
			memmove(&q[s][0], &q[s][1], (size_t)(nq[s] - 1) * sizeof q[0][0]);
			nq[s]--;
		}
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < nq[s]; i++)
			nc_buf_free(&q[s][i].env);
		for (int i = 0; i < nd[s]; i++)
			nc_buf_free(&done[s][i].env);
		nc_ratchet_free(r[s].st);
	}
	nc_random_set_test(NULL, NULL);
}

static void
envelope_property(void)
{
	int runs = quick() ? 30 : asan() ? 200 : 1000;

	for (int i = 0; i < runs && !eprop_fail; i++)
		eprop_run((uint64_t)i + 1);
	CHECK_INT(eprop_fail, 0);
	printf("envelope property: %d runs\n", runs);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	tuser_make(&A, "alice@a.test");
	tuser_make(&B, "bob@b.test");
	tuser_make(&M, "mallory@m.test");
	payloads();
	full_path();
	forged_sender();
	shared_ephemeral();
	sizes();
	envelope_property();
	tuser_free(&A);
	tuser_free(&B);
	tuser_free(&M);
	return check_done("seal");
}
