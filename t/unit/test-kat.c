/* test-kat.c - known answers: from a fixed seed (protocol.md 2.8), keys,
 * X3DH, the first ratchet messages and a sealed envelope must come out
 * byte for byte as committed in t/vectors/crypto-kat.txt, so the formats
 * cannot drift unnoticed. NC_KAT_WRITE=1 rewrites the file (only when a
 * format change is intended, and said so in the commit). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto-util.h"
#include "envelope.h"
#include "check.h"
#include "fsutil.h"

#define KAT_FILE "t/vectors/crypto-kat.txt"

static nc_buf lines = NC_BUF_INIT;

static void
emit(const char *name, const uint8_t *p, size_t n)
{
	char *hex = malloc(n * 2 + 1);

	if (hex == NULL)
		abort();
	sodium_bin2hex(hex, n * 2 + 1, p, n);
	if (nc_buf_printf(&lines, "%s %s\n", name, hex) != 0)
		abort();
	free(hex);
}

static void
emit_buf(const char *name, nc_buf *b)
{
	emit(name, b->p, b->len);
	nc_buf_reset(b);
}

static void
generate(void)
{
	tuser a, b;
	nc_buf k = NC_BUF_INIT, m1 = NC_BUF_INIT, m2 = NC_BUF_INIT, m3 = NC_BUF_INIT;
	nc_buf pt = NC_BUF_INIT, env = NC_BUF_INIT;
	nc_bundle bun;
	nc_x3dh_out xa, xb;
	nc_ratchet *sa, *sb;
	nc_devlist l;

	det_seed(1);
	tuser_make(&a, "alice@a.test");
	tuser_make(&b, "bob@b.test");
	CHECK_INT(nc_idkey_encode(a.id, &k), 0);
	emit_buf("alice.identity.sk", &k);
	CHECK_INT(nc_device_encode(a.dev, &k), 0);
	emit_buf("alice.device.sk", &k);
	emit("alice.device.id", a.dev->id, 16);
	CHECK_INT(nc_device_encode(b.dev, &k), 0);
	emit_buf("bob.device.sk", &k);
	CHECK_INT(nc_spk_encode(&b.spk, &k), 0);
	emit_buf("bob.spk", &k);
	CHECK_INT(nc_otpk_encode(&b.otpk, &k), 0);
	emit_buf("bob.otpk", &k);
	memset(&l, 0, sizeof l);
	strcpy(l.user, "alice@a.test");
	l.version = 1;
	l.created = 1700000000;
	l.n = 1;
	nc_device_entry(a.dev, &l.dev[0]);
	CHECK_INT(nc_devlist_sign(&l, a.id->sk), 0);
	CHECK_INT(nc_devlist_encode(&l, &k), 0);
	emit_buf("alice.devlist", &k);

	tbundle(&bun, &b, 1);
	CHECK_INT(nc_x3dh_initiate(&xa, &a.party, a.dev, &b.party, &bun), 0);
	CHECK_INT(nc_x3dh_respond(&xb, &b.party, b.dev, &b.spk, &b.otpk, &a.party, &xa.hdr), 0);
	CHECK_MEM(xa.sk, xb.sk, 32);
	emit("x3dh.ek", xa.hdr.ek, 32);
	emit("x3dh.sk", xa.sk, 32);
	emit("x3dh.ad", xa.ad, 32);
	sa = nc_ratchet_init_initiator(&xa);
	sb = nc_ratchet_init_responder(&xb, &b.spk);
	CHECK(sa && sb);
	CHECK_INT(nc_ratchet_encrypt(sa, &m1, (const uint8_t *)"hello", 5), 0);
	CHECK_INT(nc_ratchet_encrypt(sa, &m2, (const uint8_t *)"again", 5), 0);
	emit("ratchet.a1", m1.p, m1.len);
	emit("ratchet.a2", m2.p, m2.len);
	CHECK_INT(nc_ratchet_decrypt(sb, &pt, m2.p, m2.len), 0);
	CHECK_INT(nc_ratchet_decrypt(sb, &pt, m1.p, m1.len), 0);
	CHECK(pt.len == 10 && memcmp(pt.p, "againhello", 10) == 0);
	CHECK_INT(nc_ratchet_encrypt(sb, &m3, (const uint8_t *)"reply", 5), 0);
	emit("ratchet.b1", m3.p, m3.len);
	CHECK_INT(nc_ratchet_save(sb, &k), 0);
	emit_buf("ratchet.b.state", &k);

	nc_cert c = { a.party, 1 };
	nc_payload p = { NC_PL_TEXT, { 0 }, 1700000000, (const uint8_t *)"sealed hello", 12, 0, NULL, NC_PL_NOGOSSIP };
	uint8_t envid[16];
	memset(p.id, 0x11, 16);
	CHECK_INT(nc_envelope_make(&env, envid, sa, a.dev, &c, b.party.dev, b.party.dh_pk, &p), 0);
	emit("envelope.a3", env.p, env.len);
	nc_unsealed u;
	nc_buf ub = NC_BUF_INIT;
	nc_payload q;
	CHECK_INT(nc_envelope_open(&u, &ub, envid, b.dev, env.p, env.len), 0);
	nc_buf_reset(&pt);
	CHECK_INT(nc_envelope_decrypt(&q, &pt, sb, &u), 0);
	CHECK(q.bodylen == 12 && memcmp(q.body, "sealed hello", 12) == 0);

	nc_random_set_test(NULL, NULL);
	nc_buf_free(&k); nc_buf_free(&m1); nc_buf_free(&m2); nc_buf_free(&m3);
	nc_buf_free(&pt); nc_buf_free(&env); nc_buf_free(&ub);
	nc_ratchet_free(sa); nc_ratchet_free(sb);
	tuser_free(&a); tuser_free(&b);
}

int
main(void)
{
	const char *w = getenv("NC_KAT_WRITE");
	FILE *f;
	nc_buf want = NC_BUF_INIT;

	if (sodium_init() < 0)
		return 2;
	generate();
	if (w != NULL && *w == '1') {
		if ((f = fopen(KAT_FILE, "w")) == NULL ||
		    fwrite(lines.p, 1, lines.len, f) != lines.len || fclose(f) != 0)
			return 2;
		printf("wrote %s\n", KAT_FILE);
	}
	if ((f = fopen(KAT_FILE, "r")) == NULL) {
		CHECK(!"t/vectors/crypto-kat.txt is readable");
		return check_done("kat");
	}
	CHECK_INT(nc_buf_readfd(&want, fileno(f), 1 << 20), 0);
	fclose(f);
	/* Line by line, so a drift names the structure that moved. */
	CHECK_INT(nc_buf_nul(&lines), 0);
	CHECK_INT(nc_buf_nul(&want), 0);
	char *sp1, *sp2, *l1 = strtok_r((char *)lines.p, "\n", &sp1);
	char *l2 = strtok_r((char *)want.p, "\n", &sp2);
	int n = 0;
	for (; l1 != NULL || l2 != NULL; n++) {
		if (l1 == NULL || l2 == NULL || strcmp(l1, l2) != 0) {
			CHECK(!"known answer unchanged");
			fprintf(stderr, "  differs: %.40s...\n", l1 ? l1 : l2);
		} else
			CHECK(1);
		l1 = strtok_r(NULL, "\n", &sp1);
		l2 = strtok_r(NULL, "\n", &sp2);
	}
	CHECK_INT(n, 15);
	nc_buf_free(&lines);
	nc_buf_free(&want);
	return check_done("kat");
}
