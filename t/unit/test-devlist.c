/* test-devlist.c - the signed device list: round trip, signature, every
 * tampered byte, strict decoding limits, names. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "devlist.h"
#include "err.h"
#include "check.h"

/* BLAKE2b-256 of the encoded list built in known_answer(). */
#define KAT_DEVLIST "ede273415a725da28bb24e40446942e00d5197cadc4d124edecda003da6ec838"

static uint8_t idpk[32], idsk[64];

static void
make(nc_devlist *l, int n)
{
	memset(l, 0, sizeof *l);
	strcpy(l->user, "alice@a.test");
	l->version = 7;
	l->created = 1700000000;
	l->n = (uint16_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t sk[64];
		crypto_sign_keypair(l->dev[i].sign_pk, sk);
		randombytes_buf(l->dev[i].dh_pk, 32);
	}
}

static void
round_trip(void)
{
	nc_devlist l, m;
	nc_buf b = NC_BUF_INIT;
	uint8_t h1[32], h2[32];

	make(&l, 3);
	CHECK_INT(nc_devlist_sign(&l, idsk), 0);
	CHECK_MEM(l.identity, idpk, 32);
	CHECK_INT(nc_devlist_encode(&l, &b), 0);
	CHECK_INT(b.len, 2 + 2 + 12 + 8 + 32 + 8 + 2 + 3 * 80 + 64);
	CHECK_INT(nc_devlist_parse(&m, b.p, b.len), 0);
	CHECK_STR(m.user, "alice@a.test");
	CHECK(m.version == 7 && m.created == 1700000000 && m.n == 3);
	CHECK_MEM(&m.dev, &l.dev, sizeof l.dev);
	CHECK_INT(nc_devlist_find(&m, l.dev[2].id), 2);
	CHECK_INT(nc_devlist_find(&m, idpk), -1);
	CHECK_INT(nc_devlist_hash(&l, h1), 0);
	CHECK_INT(nc_devlist_hash(&m, h2), 0);
	CHECK_MEM(h1, h2, 32);

	/* Every flipped bit: either malformed or a bad signature. */
	int bad = 0;
	for (size_t i = 0; i < b.len * 8; i++) {
		b.p[i / 8] ^= (uint8_t)(1 << (i % 8));
		if (nc_devlist_parse(&m, b.p, b.len) != 0)
			bad++;
		b.p[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	CHECK_INT(bad, (long long)b.len * 8);
	/* Every truncation and trailing byte fails to decode. */
	bad = 0;
	for (size_t i = 0; i < b.len; i++)
		if (nc_devlist_decode(&m, b.p, i) == NC_EDATA)
			bad++;
	CHECK_INT(bad, (long long)b.len);
	CHECK_INT(nc_buf_add(&b, "", 1), 0);
	CHECK_INT(nc_devlist_decode(&m, b.p, b.len), NC_EDATA);
	nc_buf_free(&b);
}

static void
forged(void)
{
	nc_devlist l, m;
	nc_buf b = NC_BUF_INIT;
	uint8_t pk2[32], sk2[64];

	/* Signed by another key but claiming ours: bad signature. */
	crypto_sign_keypair(pk2, sk2);
	make(&l, 1);
	CHECK_INT(nc_devlist_sign(&l, sk2), 0);
	memcpy(l.identity, idpk, 32);
	CHECK_INT(nc_devlist_encode(&l, &b), 0);
	CHECK_INT(nc_devlist_decode(&m, b.p, b.len), 0);
	CHECK_INT(nc_devlist_verify(&m), NC_ESECURITY);
	nc_buf_free(&b);

	/* A version changed after signing: bad signature. */
	make(&l, 2);
	CHECK_INT(nc_devlist_sign(&l, idsk), 0);
	l.version++;
	CHECK_INT(nc_devlist_verify(&l), NC_ESECURITY);
}

/* Hand-built bodies that the encoder refuses to produce. */
static void
strict(void)
{
	nc_devlist l, m;
	nc_buf b = NC_BUF_INIT;

	/* Device id not matching its key (re-signed so only that is wrong). */
	make(&l, 2);
	CHECK_INT(nc_devlist_sign(&l, idsk), 0);
	CHECK_INT(nc_devlist_encode(&l, &b), 0);
	b.p[2 + 2 + 12 + 8 + 32 + 8 + 2] ^= 1;
	CHECK_INT(nc_devlist_decode(&m, b.p, b.len), NC_EDATA);
	nc_buf_reset(&b);

	/* Duplicate device. */
	l.dev[1] = l.dev[0];
	CHECK_INT(nc_devlist_sign(&l, idsk), 0);
	CHECK_INT(nc_devlist_encode(&l, &b), 0);
	CHECK_INT(nc_devlist_decode(&m, b.p, b.len), NC_EDATA);
	nc_buf_reset(&b);

	/* Counts out of range are refused on both sides. */
	make(&l, 1);
	l.n = 0;
	CHECK_INT(nc_devlist_sign(&l, idsk), NC_EDATA);
	l.n = NC_DEVLIST_MAX + 1;
	CHECK_INT(nc_devlist_encode(&l, &b), NC_EDATA);
	make(&l, NC_DEVLIST_MAX);
	CHECK_INT(nc_devlist_sign(&l, idsk), 0);
	CHECK_INT(nc_devlist_encode(&l, &b), 0);
	CHECK_INT(nc_devlist_parse(&m, b.p, b.len), 0);
	/* n patched to 33 with one more entry appended: refused. */
	b.p[2 + 2 + 12 + 8 + 32 + 8 + 1] = NC_DEVLIST_MAX + 1;
	CHECK_INT(nc_devlist_decode(&m, b.p, b.len), NC_EDATA);
	nc_buf_free(&b);

	/* Bad user name. */
	make(&l, 1);
	strcpy(l.user, "Alice@a.test");
	CHECK_INT(nc_devlist_sign(&l, idsk), NC_EDATA);
}

static void
names(void)
{
	CHECK(nc_addr_valid("alice@a.test"));
	CHECK(nc_addr_valid("a.b_c-d9@x"));
	CHECK(nc_addr_valid("bob@127.0.0.1:8080"));
	CHECK(!nc_addr_valid("alice"));
	CHECK(!nc_addr_valid("@a.test"));
	CHECK(!nc_addr_valid("alice@"));
	CHECK(!nc_addr_valid("Alice@a.test"));
	CHECK(!nc_addr_valid("al ice@a.test"));
	CHECK(!nc_addr_valid("alice@A.test"));
	CHECK(!nc_addr_valid("alice@a..test"));
	CHECK(!nc_addr_valid("alice@-a.test"));
	CHECK(!nc_addr_valid("alice@a-.test"));
	CHECK(!nc_addr_valid("alice@a.test."));
	CHECK(!nc_addr_valid("alice@a@b"));
	CHECK(!nc_addr_valid("alice@a:"));
	CHECK(!nc_addr_valid("alice@a:0"));
	CHECK(!nc_addr_valid("alice@a:123456"));
	CHECK(!nc_addr_valid("alice@a:65536"));   /* ports are 1..65535 */
	CHECK(nc_addr_valid("alice@a:65535"));
	CHECK(!nc_addr_valid("alice@a:80x"));
	char u[80];
	memset(u, 'a', 65);
	strcpy(u + 65, "@a");
	CHECK(!nc_addr_valid(u));
	strcpy(u + 64, "@a");
	CHECK(nc_addr_valid(u));
}

/* A committed known-answer: fixed keys -> fixed bytes (Ed25519 is
 * deterministic), so the format cannot drift unnoticed. */
static void
known_answer(void)
{
	nc_devlist l;
	nc_buf b = NC_BUF_INIT;
	uint8_t seed[32], sk[64], pk[32], h[32];
	char hex[65];

	memset(&l, 0, sizeof l);
	strcpy(l.user, "alice@a.test");
	l.version = 1;
	l.created = 1700000000;
	l.n = 1;
	memset(seed, 2, 32);
	crypto_sign_seed_keypair(l.dev[0].sign_pk, sk, seed);
	memset(l.dev[0].dh_pk, 3, 32);
	memset(seed, 1, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	CHECK_INT(nc_devlist_sign(&l, sk), 0);
	CHECK_INT(nc_devlist_encode(&l, &b), 0);
	crypto_generichash(h, 32, b.p, b.len, NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, 32);
	CHECK_STR(hex, KAT_DEVLIST);
	nc_buf_free(&b);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	crypto_sign_keypair(idpk, idsk);
	round_trip();
	forged();
	strict();
	names();
	known_answer();
	return check_done("devlist");
}
