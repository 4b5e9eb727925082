/* test-gbatch.c - one upload per provider (lib/proto/gbatch.c, protocol.md
 * 1.6, 2.7.1): a sealed header against t/vectors/gbatch-kat.txt (this
 * project's own; NC_KAT_PRINT=1 prints it anew, for a deliberate format
 * change only); it opens only for its device, envelope id and blob, and
 * every byte flipped is refused; a batch and a mailbox entry re-encode to
 * the same bytes, and the bounds say 413 (too_many) or 400. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "gbatch.h"
#include "rng.h"

#define KAT "t/vectors/gbatch-kat.txt"

static void
counter_rng(void *ctx, void *p, size_t n)
{
	uint8_t *c = ctx, *o = p;

	for (size_t i = 0; i < n; i++)
		o[i] = (*c)++;
}

static void
fill(uint8_t *p, size_t n, uint8_t from)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(from + i);
}

int
main(void)
{
	static nc_gb_batch b, d;
	uint8_t envid[16], dev[16], sk[32], pk[32], bh[32], hdr[NC_GB_HDR_LEN];
	uint8_t x[NC_GB_HDR_LEN], esk[32], epk[32], blob[40], head[NC_GB_ENTRY_HEAD], ctr = 0x80;
	nc_gb_ref r = { { 0 }, { 0 }, 7 }, o;
	nc_buf e = NC_BUF_INIT, f = NC_BUF_INIT;
	nc_gb_entry en;
	size_t i;

	if (sodium_init() < 0)
		return 1;
	/* inputs: envid 01.., device 02.., its X25519 secret 40..5f, blob
	 * hash 03.., group 10.., key id 20..27, index 7, ephemeral 80..9f */
	fill(envid, 16, 0x01);
	fill(dev, 16, 0x02);
	fill(sk, 32, 0x40);
	crypto_scalarmult_base(pk, sk);
	fill(bh, 32, 0x03);
	fill(r.group, 16, 0x10);
	fill(r.key, 8, 0x20);
	nc_random_set_test(counter_rng, &ctr);
	nc_gb_eph(esk, epk);
	nc_random_set_test(NULL, NULL);
	CHECK(nc_gb_header_seal(hdr, esk, epk, envid, dev, pk, bh, &r) == 0);
	check_kat_hex(KAT, "device_pk", pk, 32);
	check_kat_hex(KAT, "header", hdr, sizeof hdr);
	CHECK(nc_gb_header_open(&o, hdr, envid, dev, sk, pk, bh) == 0);
	CHECK(memcmp(&o, &r, sizeof o) == 0);
	for (i = 0; i < sizeof hdr; i++) {
		memcpy(x, hdr, sizeof x);
		x[i] ^= 1;
		CHECK(nc_gb_header_open(&o, x, envid, dev, sk, pk, bh) != 0);
	}
	bh[0] ^= 1;     /* another blob */
	CHECK(nc_gb_header_open(&o, hdr, envid, dev, sk, pk, bh) != 0);
	bh[0] ^= 1;
	envid[0] ^= 1;  /* re-filed under another id */
	CHECK(nc_gb_header_open(&o, hdr, envid, dev, sk, pk, bh) != 0);
	envid[0] ^= 1;
	dev[0] ^= 1;    /* another mailbox */
	CHECK(nc_gb_header_open(&o, hdr, envid, dev, sk, pk, bh) != 0);
	dev[0] ^= 1;

	/* one ephemeral for a batch's headers; a repeated device key gets
	 * its own, so no two headers share a key */
	{
		uint8_t sk2[32], pk2[32], hs[3][NC_GB_HDR_LEN], devs[3][16];
		const uint8_t *dp[3] = { devs[0], devs[1], devs[2] };
		const uint8_t *pp[3] = { pk, pk2, pk };

		fill(sk2, 32, 0x70);
		crypto_scalarmult_base(pk2, sk2);
		for (i = 0; i < 3; i++)
			fill(devs[i], 16, (uint8_t)(0x30 + 16 * i));
		CHECK(nc_gb_seal_all(hs, dp, pp, 3, envid, bh, &r) == 0);
		CHECK(memcmp(hs[0], hs[1], 32) == 0);
		CHECK(memcmp(hs[2], hs[0], 32) != 0);
		CHECK(nc_gb_header_open(&o, hs[0], envid, devs[0], sk, pk, bh) == 0 &&
		    memcmp(&o, &r, sizeof o) == 0);
		CHECK(nc_gb_header_open(&o, hs[1], envid, devs[1], sk2, pk2, bh) == 0 &&
		    memcmp(&o, &r, sizeof o) == 0);
		CHECK(nc_gb_header_open(&o, hs[2], envid, devs[2], sk, pk, bh) == 0 &&
		    memcmp(&o, &r, sizeof o) == 0);
		CHECK(nc_gb_header_open(&o, hs[1], envid, devs[0], sk, pk, bh) != 0);
	}

	/* a batch: two users, ascending; re-encodes byte for byte */
	fill(blob, sizeof blob, 0x60);
	b.blob = blob;
	b.bloblen = sizeof blob;
	b.nusers = 2;
	snprintf(b.user[0].name, sizeof b.user[0].name, "alice");
	snprintf(b.user[1].name, sizeof b.user[1].name, "bob");
	b.user[0].version = 3;
	b.user[0].n = 2;
	b.user[1].first = 2;
	b.user[1].version = 9;
	b.user[1].n = 1;
	for (i = 0; i < 3; i++) {
		b.mbox[i].dev = dev;
		b.mbox[i].hdr = hdr;
	}
	b.nmbox = 3;
	CHECK(nc_gb_batch_enc(&e, &b) == 0);
	check_kat_hex(KAT, "batch", e.p, e.len);
	CHECK(nc_gb_batch_dec(&d, e.p, e.len) == 0 && d.nmbox == 3 && d.nusers == 2);
	CHECK(nc_gb_batch_enc(&f, &d) == 0 && f.len == e.len &&
	    memcmp(f.p, e.p, e.len) == 0);
	CHECK(nc_gb_batch_dec(&d, e.p, e.len - 1) != 0 && !d.too_many);
	snprintf(b.user[1].name, sizeof b.user[1].name, "aaron");   /* order */
	nc_buf_reset(&f);
	CHECK(nc_gb_batch_enc(&f, &b) != 0);
	/* over the count: u16 users 1001 -> too_many (413) */
	e.p[1 + 4 + sizeof blob] = 1001 >> 8;
	e.p[1 + 4 + sizeof blob + 1] = 1001 & 255;
	CHECK(nc_gb_batch_dec(&d, e.p, e.len) != 0 && d.too_many);

	/* the mailbox entry */
	nc_gb_entry_head(head, envid, dev, hdr, sizeof blob);
	nc_buf_reset(&f);
	CHECK(nc_buf_add(&f, head, sizeof head) == 0 &&
	    nc_buf_add(&f, blob, sizeof blob) == 0);
	check_kat_hex(KAT, "entry", f.p, f.len);
	CHECK(nc_gb_entry_dec(&en, f.p, f.len) == 0 && en.bloblen == sizeof blob &&
	    memcmp(en.hdr, hdr, sizeof hdr) == 0);
	CHECK(nc_gb_entry_dec(&en, f.p, f.len - 1) != 0);
	f.p[0] = 1;
	CHECK(nc_gb_entry_dec(&en, f.p, f.len) != 0);
	nc_buf_free(&e);
	nc_buf_free(&f);
	return check_done("gbatch");
}
