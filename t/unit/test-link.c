/* test-link.c - the link code (round trip, every typo caught, strict
 * alphabet and length), the box, the link message (round trip, every
 * truncation refused, limits) and its seal (opens only with the code's
 * key; a flipped byte refused). NC_LINK_SEEDS=DIR writes fuzz seeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "err.h"
#include "link.h"

static void
seed(const char *name, const void *p, size_t n)
{
	const char *dir = getenv("NC_LINK_SEEDS");
	char path[4096];
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) != NULL) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

static void
code(void)
{
	nc_link_code c, d;
	char s[NC_LINK_CODE_MAX + 1], t[NC_LINK_CODE_MAX + 2];
	size_t i;
	int caught = 0, tried = 0;

	randombytes_buf(c.pk, 32);
	strcpy(c.domain, "a.test");
	CHECK_INT(nc_link_code_encode(&c, s, sizeof s), 0);
	seed("code", s, strlen(s));
	CHECK_INT(nc_link_code_decode(&d, s), 0);
	CHECK_MEM(d.pk, c.pk, 32);
	CHECK_STR(d.domain, "a.test");
	/* groups of four, lower case */
	CHECK(s[4] == '-' && s[9] == '-');
	/* upper case and spaces for dashes are the same code */
	for (i = 0; s[i]; i++)
		t[i] = s[i] == '-' ? ' ' : (char)(s[i] >= 'a' && s[i] <= 'z' ?
		    s[i] - 32 : s[i]);
	t[i] = '\0';
	CHECK_INT(nc_link_code_decode(&d, t), 0);
	CHECK_MEM(d.pk, c.pk, 32);
	/* every one-letter change is refused (check, or a bad domain) */
	for (i = 0; s[i]; i++) {
		if (s[i] == '-')
			continue;
		strcpy(t, s);
		t[i] = t[i] == 'a' ? 'b' : 'a';
		tried++;
		if (nc_link_code_decode(&d, t) != 0)
			caught++;
		else if (memcmp(d.pk, c.pk, 32) != 0 && strcmp(d.domain, "a.test") == 0)
			fprintf(stderr, "    letter %zu: a typo decoded\n", i);
	}
	/* 2 check bytes: a random typo slips through once in 65536 */
	CHECK(caught >= tried - 1);
	/* a letter more or less, a foreign character, empty */
	strcpy(t, s);
	t[strlen(t) - 1] = '\0';
	CHECK_INT(nc_link_code_decode(&d, t), NC_EDATA);
	snprintf(t, sizeof t, "%sa", s);
	CHECK_INT(nc_link_code_decode(&d, t), NC_EDATA);
	strcpy(t, s);
	t[2] = '1';
	CHECK_INT(nc_link_code_decode(&d, t), NC_EDATA);
	CHECK_INT(nc_link_code_decode(&d, ""), NC_EDATA);
	/* a domain with a port, the longest domain */
	strcpy(c.domain, "chat.example.org:8443");
	CHECK_INT(nc_link_code_encode(&c, s, sizeof s), 0);
	CHECK_INT(nc_link_code_decode(&d, s), 0);
	CHECK_STR(d.domain, "chat.example.org:8443");
	strcpy(c.domain, "Bad.Domain");
	CHECK_INT(nc_link_code_encode(&c, s, sizeof s), NC_EDATA);
}

static int ncontacts, nhists;

static int
on_contact(void *ctx, const nc_link_contact *c)
{
	(void)ctx;
	CHECK_INT(c->listlen, 5);
	CHECK(c->pending == NULL);
	ncontacts++;
	return 0;
}

static int
on_hist(void *ctx, const nc_link_hist *h)
{
	(void)ctx;
	CHECK_STR(h->peer, "bob@b.test");
	CHECK_INT(h->bodylen, 5);
	nhists++;
	return 0;
}

/* the decoder's answer to message m with the one history entry h */
static int
one_hist(nc_link_msg *m, const nc_buf *cb, const nc_link_hist *h)
{
	nc_buf hb = NC_BUF_INIT, p = NC_BUF_INIT;
	nc_link_msg d;
	int rc;

	CHECK_INT(nc_link_put_hist(&hb, h), 0);
	CHECK_INT(nc_link_encode(&p, m, cb, &hb), 0);
	rc = nc_link_decode(&d, p.p, p.len, NULL, NULL, NULL);
	nc_buf_free(&hb);
	nc_buf_free(&p);
	return rc;
}

static void
message(void)
{
	nc_link_msg m, d;
	nc_buf cb = NC_BUF_INIT, hb = NC_BUF_INIT, pt = NC_BUF_INIT;
	nc_buf sealed = NC_BUF_INIT, opened = NC_SECBUF_INIT;
	nc_link_contact c = { (const uint8_t *)"list!", 5, NULL, 0, 1, 0, 1700000000 };
	nc_link_hist h;
	uint8_t pk[32], sk[32], pk2[32], sk2[32], idk[34] = { 1, 0x81 };
	size_t i;
	int bad = 0;

	memset(&m, 0, sizeof m);
	randombytes_buf(m.box, sizeof m.box);
	strcpy(m.user, "alice@a.test");
	m.time = 1700000000;
	m.idkey = idk;
	m.idkeylen = sizeof idk;
	m.ndev = 1;
	strcpy(m.dev[0].name, "laptop");
	m.ncontact = 2;
	CHECK_INT(nc_link_put_contact(&cb, &c), 0);
	CHECK_INT(nc_link_put_contact(&cb, &c), 0);
	memset(&h, 0, sizeof h);
	strcpy(h.id, "00112233445566778899aabbccddeeff");
	strcpy(h.peer, "bob@b.test");
	h.body = (const uint8_t *)"hello";
	h.bodylen = 5;
	strcpy(h.status, "received");
	m.nhist = 1;
	CHECK_INT(nc_link_put_hist(&hb, &h), 0);
	CHECK_INT(nc_link_encode(&pt, &m, &cb, &hb), 0);
	seed("message", pt.p, pt.len);
	CHECK_INT(nc_link_decode(&d, pt.p, pt.len, on_contact, on_hist, NULL), 0);
	CHECK_INT(ncontacts, 2);
	CHECK_INT(nhists, 1);
	CHECK_STR(d.user, "alice@a.test");
	CHECK_STR(d.dev[0].name, "laptop");
	CHECK_MEM(d.box, m.box, sizeof m.box);
	for (i = 0; i < pt.len; i++)
		if (nc_link_decode(&d, pt.p, i, NULL, NULL, NULL) != NC_EDATA)
			bad++;
	CHECK_INT(bad, 0);
	CHECK_INT(nc_buf_add(&pt, "", 1), 0);
	CHECK_INT(nc_link_decode(&d, pt.p, pt.len, NULL, NULL, NULL), NC_EDATA);
	pt.len--;
	/* a status outside the rules; "armored" (nc-send -o) is one of them;
	 * a body with files must be an attachment payload, "hello" is not */
	nc_buf_reset(&cb);
	m.ncontact = 0;
	strcpy(h.status, "bogus");
	CHECK_INT(one_hist(&m, &cb, &h), NC_EDATA);
	strcpy(h.status, "armored");
	CHECK_INT(one_hist(&m, &cb, &h), 0);
	h.files = 1;
	CHECK_INT(one_hist(&m, &cb, &h), NC_EDATA);
	h.files = 0;
	/* sealed to the code's key: opens with it only, every byte bound */
	crypto_box_keypair(pk, sk);
	crypto_box_keypair(pk2, sk2);
	CHECK_INT(nc_link_seal(&sealed, pk, &pt), 0);
	seed("sealed", sealed.p, sealed.len);
	CHECK_INT(nc_link_open(&opened, pk, sk, sealed.p, sealed.len), 0);
	CHECK_INT(opened.len, pt.len);
	CHECK_MEM(opened.p, pt.p, pt.len);
	nc_buf_reset(&opened);
	CHECK_INT(nc_link_open(&opened, pk2, sk2, sealed.p, sealed.len), NC_ESECURITY);
	sealed.p[sealed.len / 2] ^= 1;
	CHECK_INT(nc_link_open(&opened, pk, sk, sealed.p, sealed.len), NC_ESECURITY);
	sealed.p[0] = 2;
	CHECK_INT(nc_link_open(&opened, pk, sk, sealed.p, sealed.len), NC_EDATA);
	CHECK_INT(nc_link_open(&opened, pk, sk, sealed.p, 10), NC_EDATA);
	nc_buf_free(&cb);
	nc_buf_free(&hb);
	nc_buf_free(&pt);
	nc_buf_free(&sealed);
	nc_buf_free(&opened);
}

static void
box(void)
{
	uint8_t pk[32] = { 0 }, b1[16], b2[16];

	nc_link_box(b1, pk);
	pk[31] = 1;
	nc_link_box(b2, pk);
	CHECK(memcmp(b1, b2, 16) != 0);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	code();
	message();
	box();
	return check_done("link");
}
