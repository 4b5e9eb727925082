/* test-media.c - the file format of lib/proto/media.c: Padmé at its edges
 * (against a second implementation and the paper's arithmetic), the file
 * header's strictness, round trips at every chunk boundary that matters,
 * a known answer (fixed key and randomness -> t/vectors/media-kat.txt;
 * NC_KAT_PRINT=1 prints it anew), and the attacks: truncation anywhere,
 * chunks swapped, dropped or repeated, bytes after the end, a flipped
 * byte, a wrong key, padding that is not Padmé's zeros, a final tag in
 * the middle - each refused with NC_ESECURITY. Links: what parses
 * re-formats to the same text; near misses are refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "media.h"
#include "rng.h"
#include "check.h"

#define TAG_MSG   crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

static uint8_t key[32];

/* ---- Padmé ---- */

/* The paper's definition, written again with the compiler's bit count. */
static uint64_t
padme_ref(uint64_t l)
{
	int e, s;
	uint64_t mask;

	if (l < 2)
		return l;
	e = 63 - __builtin_clzll(l);
	s = 32 - __builtin_clz((unsigned)e);   /* floor(log2 e) + 1 */
	mask = ((uint64_t)1 << (e - s)) - 1;
	return (l + mask) & ~mask;
}

static void
padme(void)
{
	static const uint64_t kv[][2] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 7, 7 },
		{ 8, 8 }, { 9, 10 }, { 15, 16 }, { 16, 16 }, { 17, 18 },
		{ 255, 256 }, { 256, 256 }, { 257, 272 }, { 1000, 1024 },
		{ 1025, 1088 }, { 65535, 65536 }, { 65536, 65536 },
		{ 65537, 67584 }, { 1000000, 1015808 },
		{ ((uint64_t)1 << 50) + 1, ((uint64_t)1 << 50) + ((uint64_t)1 << 44) },
	};
	uint64_t worst = 0;

	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		CHECK_INT(nc_media_padme(kv[i][0]), kv[i][1]);
	/* every length to 2^17, and around each power of two to 2^50:
	 * the reference, never smaller, idempotent, at most 12% more */
	for (uint64_t l = 0; l <= 1 << 17; l++) {
		uint64_t p = nc_media_padme(l);

		if (p != padme_ref(l) || p < l || nc_media_padme(p) != p ||
		    (l > 0 && (p - l) * 100 > l * 12)) {
			CHECK_INT(p, padme_ref(l));
			return;
		}
		if (l >= 16 && (p - l) * 1000 / l > worst)
			worst = (p - l) * 1000 / l;
	}
	CHECK(worst > 0 && worst <= 120);
	for (int b = 2; b <= 50; b++)
		for (int64_t d = -3; d <= 3; d++) {
			uint64_t l = ((uint64_t)1 << b) + (uint64_t)d, p = nc_media_padme(l);

			CHECK(p == padme_ref(l) && p >= l && nc_media_padme(p) == p);
		}
	CHECK_INT(nc_media_ctsize(0), 24 + 17);
	CHECK_INT(nc_media_ctsize(1), 24 + 1 + 17);
	CHECK_INT(nc_media_ctsize(65536), 24 + 65536 + 17);
	CHECK_INT(nc_media_ctsize(65537), 24 + 65537 + 2 * 17);
}

/* ---- the file header ---- */

static void
header(void)
{
	nc_media_meta m = { NC_MEDIA_FILE, 12345, "a b.txt", "text/plain" }, d;
	nc_buf b = NC_BUF_INIT;
	char name[300];

	CHECK_INT(nc_media_meta_enc(&b, &m), 0);
	CHECK_INT(b.len, 1 + 1 + 8 + 2 + 7 + 2 + 10 + 2);
	CHECK_INT(b.p[b.len - 2] << 8 | b.p[b.len - 1], b.len);
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len), 0);
	CHECK(d.kind == m.kind && d.size == m.size);
	CHECK_STR(d.name, m.name);
	CHECK_STR(d.type, m.type);
	/* one byte short, one too many, each field changed */
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len - 1), NC_EDATA);
	CHECK_INT(nc_buf_add(&b, "", 1), 0);
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len), NC_EDATA);
	b.len--;
	b.p[0] = 2;
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len), NC_EDATA);
	b.p[0] = 1;
	b.p[1] = 2;
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len), NC_EDATA);
	b.p[1] = 0;
	b.p[b.len - 1]++;
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len), NC_EDATA);
	b.p[b.len - 1]--;
	b.p[2] = 0xff;   /* size past NC_MEDIA_SIZE_MAX */
	CHECK_INT(nc_media_meta_dec(&d, b.p, b.len), NC_EDATA);
	nc_buf_free(&b);
	/* names and types the format cannot carry */
	CHECK(nc_media_name_ok("x") && nc_media_name_ok("ünï cødé") &&
	    nc_media_name_ok(".hidden") && nc_media_name_ok("..."));
	CHECK(!nc_media_name_ok("") && !nc_media_name_ok(".") &&
	    !nc_media_name_ok("..") && !nc_media_name_ok("a/b") &&
	    !nc_media_name_ok("a\nb") && !nc_media_name_ok("a\x7f") &&
	    !nc_media_name_ok("\xff\xfe") && !nc_media_name_ok("\xc3"));
	memset(name, 'n', 255);
	name[255] = '\0';
	CHECK(nc_media_name_ok(name));
	name[255] = 'n';
	name[256] = '\0';
	CHECK(!nc_media_name_ok(name));
	CHECK(nc_media_type_ok("") && nc_media_type_ok("image/svg+xml"));
	CHECK(!nc_media_type_ok("text/plain; charset=utf-8") &&
	    !nc_media_type_ok("a\tb") && !nc_media_type_ok("é"));
	snprintf(m.name, sizeof m.name, "a/b");
	b = (nc_buf)NC_BUF_INIT;
	CHECK_INT(nc_media_meta_enc(&b, &m), NC_EDATA);
	nc_buf_free(&b);
}

/* ---- encryption and decryption ---- */

static int
sink(void *ctx, const uint8_t *p, size_t n)
{
	return nc_buf_add(ctx, p, n) == 0 ? 0 : NC_EOSERR;
}

/* Encrypt content (n bytes) named name: ciphertext into ct, hash. */
static void
encrypt(nc_buf *ct, uint8_t hash[32], const uint8_t *content, size_t n,
    const char *name, size_t step)
{
	nc_media_enc e;
	nc_media_meta m = { NC_MEDIA_FILE, 0, "", "" };   /* a 17-byte header for "f" */

	snprintf(m.name, sizeof m.name, "%s", name);
	nc_buf_reset(ct);
	CHECK_INT(nc_media_enc_init(&e, key, sink, ct), 0);
	for (size_t i = 0; i < n; i += step)
		CHECK_INT(nc_media_enc_push(&e, content + i, n - i < step ? n - i : step), 0);
	CHECK_INT(nc_media_enc_final(&e, &m, hash), 0);
	CHECK_INT(m.size, n);
	CHECK_INT(ct->len, e.ctlen);
	nc_media_enc_free(&e);
}

/* Decrypt ct fed step bytes at a time; the rc, the content in pt. */
static int
decrypt(const uint8_t *ct, size_t n, const uint8_t k[32], const uint8_t hash[32],
    size_t step, nc_buf *pt, nc_media_meta *m)
{
	nc_media_dec d;
	int rc;

	nc_buf_reset(pt);
	if ((rc = nc_media_dec_init(&d, k, sink, pt)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i += step)
		rc = nc_media_dec_feed(&d, ct + i, n - i < step ? n - i : step);
	if (rc == 0)
		rc = nc_media_dec_end(&d, hash, m);
	nc_media_dec_free(&d);
	if (rc == 0)
		pt->len = (size_t)m->size;
	return rc;
}

/* The link's hash of ct[0..n) as protocol.md 2.11 says, written apart
 * from media.c: the stream header, then each chunk's first byte and last
 * 16 (a piece shorter than 17 bytes at the end counts whole). */
static void
link_hash(uint8_t out[32], const uint8_t *ct, size_t n)
{
	crypto_generichash_state h;
	size_t off = n < NC_MEDIA_HDRBYTES ? n : NC_MEDIA_HDRBYTES;

	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, ct, off);
	while (off < n) {
		size_t k = n - off < NC_MEDIA_CTCHUNK ? n - off : NC_MEDIA_CTCHUNK;

		if (k >= 17) {
			crypto_generichash_update(&h, ct + off, 1);
			crypto_generichash_update(&h, ct + off + k - 16, 16);
		}
		off += k;
	}
	crypto_generichash_final(&h, out, 32);
}

/* Decrypt with the hash made to match ct: what the chunks alone refuse. */
static int
decrypt_any(const uint8_t *ct, size_t n)
{
	uint8_t h[32];
	nc_buf pt = NC_BUF_INIT;
	nc_media_meta m;
	int rc;

	link_hash(h, ct, n);
	rc = decrypt(ct, n, key, h, 4096, &pt, &m);
	nc_buf_free(&pt);
	return rc;
}

static void
roundtrips(void)
{
	/* sizes at the chunk edges; 65519 and 131055 fill the final chunk
	 * exactly with a 1-byte name (a 17-byte header) */
	static const size_t sizes[] = { 0, 1, 100, 65519, 65520, 65535, 65536,
	    65537, 131055, 131072, 200000 };
	static const size_t steps[] = { 1, 17, 65553, 1 << 20 };
	uint8_t *content = malloc(200000), hash[32];
	nc_buf ct = NC_BUF_INIT, pt = NC_BUF_INIT;
	nc_media_meta m;

	randombytes_buf(content, 200000);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];

		encrypt(&ct, hash, content, n, "f", 1000);
		CHECK_INT(ct.len, nc_media_ctsize(nc_media_padme(n + 17)));
		for (size_t j = 0; j < sizeof steps / sizeof steps[0]; j++) {
			if (steps[j] == 1 && n > 70000)
				continue;
			CHECK_INT(decrypt(ct.p, ct.len, key, hash, steps[j], &pt, &m), 0);
			CHECK(pt.len == n && (n == 0 || memcmp(pt.p, content, n) == 0));
			CHECK_STR(m.name, "f");
			CHECK_INT(m.size, n);
		}
	}
	nc_buf_free(&ct);
	nc_buf_free(&pt);
	free(content);
}

static void
attacks(void)
{
	uint8_t *content = malloc(200001), hash[32], k2[32];
	nc_buf ct = NC_BUF_INIT, x = NC_BUF_INIT, pt = NC_BUF_INIT;
	const size_t H = NC_MEDIA_HDRBYTES, C = NC_MEDIA_CTCHUNK;
	nc_media_meta m;
	size_t cuts[] = { 0, 1, 23, 24, 25, 24 + C - 1, 24 + C, 24 + C + 1,
	    24 + 2 * C, 24 + 3 * C - 5 };

	randombytes_buf(content, 200001);
	encrypt(&ct, hash, content, 200000, "attacked.bin", 4096);
	CHECK(ct.len > H + 3 * C && ct.len < H + 4 * C);   /* 4 chunks */
	/* the link's hash catches any change first */
	memcpy(k2, hash, 32);
	k2[0] ^= 1;
	CHECK_INT(decrypt(ct.p, ct.len, key, k2, 4096, &pt, &m), NC_ESECURITY);
	memcpy(k2, key, 32);
	k2[31] ^= 0x80;
	CHECK_INT(decrypt(ct.p, ct.len, k2, hash, 4096, &pt, &m), NC_ESECURITY);
	/* truncated anywhere, the hash made to match */
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
		CHECK_INT(decrypt_any(ct.p, cuts[i]), NC_ESECURITY);
	CHECK_INT(decrypt_any(ct.p, ct.len - 1), NC_ESECURITY);
	CHECK_INT(decrypt_any(ct.p, ct.len), 0);
	/* chunks 1 and 2 swapped */
	nc_buf_reset(&x);
	CHECK_INT(nc_buf_add(&x, ct.p, ct.len), 0);
	memcpy(x.p + H, ct.p + H + C, C);
	memcpy(x.p + H + C, ct.p + H, C);
	CHECK_INT(decrypt_any(x.p, x.len), NC_ESECURITY);
	/* chunk 2 dropped; chunk 1 repeated */
	nc_buf_reset(&x);
	CHECK_INT(nc_buf_add(&x, ct.p, H + C) || nc_buf_add(&x, ct.p + H + 2 * C,
	    ct.len - H - 2 * C), 0);
	CHECK_INT(decrypt_any(x.p, x.len), NC_ESECURITY);
	nc_buf_reset(&x);
	CHECK_INT(nc_buf_add(&x, ct.p, H + C) || nc_buf_add(&x, ct.p + H, ct.len - H), 0);
	CHECK_INT(decrypt_any(x.p, x.len), NC_ESECURITY);
	/* extended: a byte, a whole chunk */
	nc_buf_reset(&x);
	CHECK_INT(nc_buf_add(&x, ct.p, ct.len) || nc_buf_add(&x, "", 1), 0);
	CHECK_INT(decrypt_any(x.p, x.len), NC_ESECURITY);
	nc_buf_reset(&x);
	CHECK_INT(nc_buf_add(&x, ct.p, ct.len) || nc_buf_add(&x, ct.p + H, C), 0);
	CHECK_INT(decrypt_any(x.p, x.len), NC_ESECURITY);
	/* one flipped byte in the stream header, a chunk, a tag, the end */
	{
		size_t at[] = { 0, 23, 24, H + C - 1, H + C + 500, ct.len - 1 };

		for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
			ct.p[at[i]] ^= 0x20;
			CHECK_INT(decrypt_any(ct.p, ct.len), NC_ESECURITY);
			ct.p[at[i]] ^= 0x20;
		}
	}
	/* another file's chunk under the same key at the same place */
	{
		nc_buf o = NC_BUF_INIT;
		uint8_t h2[32];

		encrypt(&o, h2, content + 1, 200000, "attacked.bin", 4096);
		nc_buf_reset(&x);
		CHECK_INT(nc_buf_add(&x, ct.p, ct.len), 0);
		memcpy(x.p + H + C, o.p + H + C, C);
		CHECK_INT(decrypt_any(x.p, x.len), NC_ESECURITY);
		nc_buf_free(&o);
	}
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 4096, &pt, &m), 0);
	CHECK(pt.len == 200000 && memcmp(pt.p, content, 200000) == 0);
	nc_buf_free(&ct);
	nc_buf_free(&x);
	nc_buf_free(&pt);
	free(content);
}

/* A stream of our own making: plaintext p cut into chunks of `chunk`
 * bytes, the last tagged last_tag; the hash in hash. */
static void
raw_stream(nc_buf *ct, uint8_t hash[32], const uint8_t *p, size_t n,
    size_t chunk, unsigned char last_tag)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[NC_MEDIA_HDRBYTES], *c = malloc(chunk + NC_MEDIA_ABYTES);
	size_t off = 0;

	nc_buf_reset(ct);
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	CHECK_INT(nc_buf_add(ct, hdr, sizeof hdr), 0);
	do {
		size_t k = n - off < chunk ? n - off : chunk;
		int last = off + k == n;

		crypto_secretstream_xchacha20poly1305_push(&st, c, NULL, p + off, k,
		    NULL, 0, last ? last_tag : TAG_MSG);
		CHECK_INT(nc_buf_add(ct, c, k + NC_MEDIA_ABYTES), 0);
		off += k;
	} while (off < n);
	link_hash(hash, ct->p, ct->len);
	free(c);
}

/* Plaintexts that authenticate but are not files: refused. */
static void
not_files(void)
{
	nc_media_meta m = { NC_MEDIA_FILE, 0, "p", "" }, d;
	nc_buf meta = NC_BUF_INIT, p = NC_BUF_INIT, ct = NC_BUF_INIT, pt = NC_BUF_INIT;
	uint8_t hash[32];
	size_t total;

	/* 1000 bytes of content: padme(1017) = 1024, so 7 zeros between */
	m.size = 1000;
	CHECK_INT(nc_media_meta_enc(&meta, &m), 0);
	total = nc_media_padme(1000 + meta.len);
	CHECK_INT(total, 1024);
	CHECK_INT(nc_buf_reserve(&p, total), 0);
	memset(p.p, 'c', 1000);
	memset(p.p + 1000, 0, total - 1000 - meta.len);
	memcpy(p.p + total - meta.len, meta.p, meta.len);
	p.len = total;
	/* as made: accepted (the reference for the rest) */
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), 0);
	CHECK(d.size == 1000 && pt.len == 1000 && memcmp(pt.p, p.p, 1000) == 0);
	/* no final tag; a final tag on an empty chunk after it; chunks
	 * shorter than 64 KiB before the end; a PUSH tag */
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK, TAG_MSG);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	raw_stream(&ct, hash, p.p, p.len, 512, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK,
	    crypto_secretstream_xchacha20poly1305_TAG_PUSH);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	/* a non-zero byte in the padding */
	p.p[1003] = 1;
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	p.p[1003] = 0;
	/* padding one byte short and one too long (not Padmé's length) */
	raw_stream(&ct, hash, p.p + 1, p.len - 1, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	{
		nc_buf q = NC_BUF_INIT;

		CHECK_INT(nc_buf_add(&q, "", 1) || nc_buf_add(&q, p.p, p.len), 0);
		raw_stream(&ct, hash, q.p, q.len, NC_MEDIA_CHUNK, TAG_FINAL);
		CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
		nc_buf_free(&q);
	}
	/* a header claiming more content than there is before it */
	m.size = 1010;
	nc_buf_reset(&meta);
	CHECK_INT(nc_media_meta_enc(&meta, &m), 0);
	memcpy(p.p + total - meta.len, meta.p, meta.len);
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	/* a header whose length field is wrong; no header at all */
	p.p[total - 1] ^= 1;
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	memset(p.p, 0, total);
	raw_stream(&ct, hash, p.p, p.len, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	raw_stream(&ct, hash, p.p, 3, NC_MEDIA_CHUNK, TAG_FINAL);
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 100, &pt, &d), NC_ESECURITY);
	nc_buf_free(&meta);
	nc_buf_free(&p);
	nc_buf_free(&ct);
	nc_buf_free(&pt);
}

/* ---- known answers ---- */

#define KAT "t/vectors/media-kat.txt"

static void
kat_str(const char *name, const char *got)
{
	check_kat_str(KAT, name, got);
}

static void
kat_hex(const char *name, const uint8_t *p, size_t n)
{
	check_kat_hex(KAT, name, p, n);
}

/* The test's randomness: bytes 0x80, 0x81, ... */
static void
counter_rng(void *ctx, void *p, size_t n)
{
	uint8_t *c = ctx, *o = p;

	for (size_t i = 0; i < n; i++)
		o[i] = (*c)++;
}

static void
kat(void)
{
	uint8_t c = 0x80, hash[32], content[70000];
	nc_buf ct = NC_BUF_INIT, pt = NC_BUF_INIT, ab = NC_BUF_INIT;
	nc_media_link l, l2;
	nc_media_meta m;
	nc_media_attach a[1], a2[NC_MEDIA_ATTACH_MAX];
	char link[NC_MEDIA_LINK_MAX + 1], num[24];
	size_t n;

	for (size_t i = 0; i < sizeof content; i++)
		content[i] = (uint8_t)(i * 7 + i / 256);
	nc_random_set_test(counter_rng, &c);
	encrypt(&ct, hash, content, sizeof content, "kat.bin", 3000);
	nc_random_set_test(NULL, NULL);
	/* a push of more than a chunk at once is encrypted from the caller's
	 * bytes, not copied in first: the same ciphertext */
	{
		nc_buf ct2 = NC_BUF_INIT;
		uint8_t h2[32];

		c = 0x80;
		nc_random_set_test(counter_rng, &c);
		encrypt(&ct2, h2, content, sizeof content, "kat.bin", sizeof content);
		nc_random_set_test(NULL, NULL);
		CHECK(ct2.len == ct.len && memcmp(ct2.p, ct.p, ct.len) == 0 &&
		    memcmp(h2, hash, 32) == 0);
		nc_buf_free(&ct2);
	}
	{   /* and so is one after a full chunk left pending: one chunk, then
	     * two and a bit at once, as gathered byte runs give */
		size_t big = 3 * NC_MEDIA_CHUNK + 100;
		uint8_t *b = malloc(big), h1[32], h2[32];
		nc_buf c1 = NC_BUF_INIT, c2 = NC_BUF_INIT;
		nc_media_meta bm = { NC_MEDIA_FILE, 0, "big", "" };
		nc_media_enc e;

		for (size_t i = 0; i < big; i++)
			b[i] = (uint8_t)(i * 13 + i / 511);
		c = 0x80;
		nc_random_set_test(counter_rng, &c);
		encrypt(&c1, h1, b, big, "big", 1000);
		c = 0x80;
		CHECK_INT(nc_media_enc_init(&e, key, sink, &c2), 0);
		CHECK_INT(nc_media_enc_push(&e, b, NC_MEDIA_CHUNK), 0);
		CHECK_INT(nc_media_enc_push(&e, b + NC_MEDIA_CHUNK, big - NC_MEDIA_CHUNK), 0);
		CHECK_INT(nc_media_enc_final(&e, &bm, h2), 0);
		nc_media_enc_free(&e);
		nc_random_set_test(NULL, NULL);
		CHECK(c1.len == c2.len && memcmp(c1.p, c2.p, c1.len) == 0 &&
		    memcmp(h1, h2, 32) == 0);
		CHECK_INT(decrypt(c2.p, c2.len, key, h2, 4099, &pt, &m), 0);
		CHECK(pt.len == big && memcmp(pt.p, b, big) == 0);
		nc_buf_free(&c1);
		nc_buf_free(&c2);
		free(b);
	}
	snprintf(num, sizeof num, "%zu", ct.len);
	kat_str("ctsize", num);
	kat_hex("stream_header", ct.p, NC_MEDIA_HDRBYTES);
	kat_hex("chunk0_first64", ct.p + NC_MEDIA_HDRBYTES, 64);
	kat_hex("last64", ct.p + ct.len - 64, 64);
	kat_hex("hash", hash, 32);
	{   /* the hash as protocol.md 2.11 defines it, computed apart */
		uint8_t want[32];

		link_hash(want, ct.p, ct.len);
		CHECK(memcmp(want, hash, 32) == 0);
		nc_media_hash(want, ct.p, ct.len);
		CHECK(memcmp(want, hash, 32) == 0);
	}
	CHECK_INT(decrypt(ct.p, ct.len, key, hash, 777, &pt, &m), 0);
	CHECK(pt.len == sizeof content && memcmp(pt.p, content, sizeof content) == 0);
	{   /* libsodium alone reads the first chunk: a plain secretstream */
		crypto_secretstream_xchacha20poly1305_state st;
		unsigned long long mlen;
		unsigned char tag;
		uint8_t *p = malloc(NC_MEDIA_CHUNK);

		CHECK_INT(crypto_secretstream_xchacha20poly1305_init_pull(&st, ct.p, key), 0);
		CHECK_INT(crypto_secretstream_xchacha20poly1305_pull(&st, p, &mlen, &tag,
		    ct.p + NC_MEDIA_HDRBYTES, NC_MEDIA_CTCHUNK, NULL, 0), 0);
		CHECK(mlen == NC_MEDIA_CHUNK && tag == TAG_MSG &&
		    memcmp(p, content, NC_MEDIA_CHUNK) == 0);
		free(p);
	}
	/* the link of it at a fixed relay and id */
	memset(&l, 0, sizeof l);
	snprintf(l.base, sizeof l.base, "https://relay.example:8443/chat");
	memset(l.id, 0x5a, 32);
	memcpy(l.key, key, 32);
	memcpy(l.hash, hash, 32);
	l.ctsize = ct.len;
	CHECK_INT(nc_media_link_make(&l, link, sizeof link), 0);
	kat_str("link", link);
	CHECK_INT(nc_media_link_parse(&l2, link), 0);
	CHECK_STR(l2.base, l.base);
	CHECK_STR(l2.url, l.url);
	CHECK(memcmp(l2.key, key, 32) == 0 && l2.ctsize == ct.len);
	/* and the attachment payload naming it */
	snprintf(a[0].link, sizeof a[0].link, "%s", link);
	snprintf(a[0].name, sizeof a[0].name, "kat.bin");
	snprintf(a[0].type, sizeof a[0].type, "application/octet-stream");
	a[0].size = sizeof content;
	CHECK_INT(nc_media_attach_enc(&ab, a, 1, (const uint8_t *)"h\xc3\xa9", 3), 0);
	kat_hex("attach", ab.p, ab.len);
	{
		const uint8_t *t;
		size_t tn;

		CHECK_INT(nc_media_attach_dec(a2, &n, &t, &tn, ab.p, ab.len), 0);
		CHECK(n == 1 && strcmp(a2[0].link, link) == 0 &&
		    a2[0].size == sizeof content && tn == 3 && memcmp(t, "h\xc3\xa9", 3) == 0);
		/* no text, a text that is not UTF-8, one byte more: */
		nc_buf_reset(&ab);
		CHECK_INT(nc_media_attach_enc(&ab, a, 1, NULL, 0), 0);
		CHECK_INT(nc_media_attach_dec(a2, &n, &t, &tn, ab.p, ab.len), 0);
		CHECK(tn == 0 && t != NULL);
		CHECK_INT(nc_buf_add(&ab, "x", 1), 0);
		CHECK(nc_media_attach_dec(a2, &n, &t, &tn, ab.p, ab.len) != 0);
		nc_buf_reset(&ab);
		CHECK(nc_media_attach_enc(&ab, a, 1, (const uint8_t *)"\xff", 1) != 0);
	}
	nc_buf_free(&ct);
	nc_buf_free(&pt);
	nc_buf_free(&ab);
}

/* ---- links ---- */

static void
links(void)
{
	const char *good =
	    "http://127.0.0.1:8080/v1/blobs/"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	    "#k=0000000000000000000000000000000000000000000000000000000000000001"
	    "&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100";
	static const char *bad[] = {
		"", "http://127.0.0.1:8080/v1/blobs/00",
		/* uppercase hex, a leading zero, a space, a query, no host,
		 * another scheme, a size too small, a size past 2^64 */
		"http://h/v1/blobs/00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100",
		"http://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=0100",
		"http://h h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100",
		"http://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff?x#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100",
		"http:///v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100",
		"ftp://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100",
		"http://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=40",
		"http://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=18446744073709551616",
		"http://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&k=0000000000000000000000000000000000000000000000000000000000000001&n=100",
		"http://h/v1/blobs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff#k=0000000000000000000000000000000000000000000000000000000000000001&h=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff&n=100&x=1",
	};
	nc_media_link l;
	char out[NC_MEDIA_LINK_MAX + 1];

	CHECK_INT(nc_media_link_parse(&l, good), 0);
	CHECK_STR(l.base, "http://127.0.0.1:8080");
	CHECK_INT(l.ctsize, 100);
	CHECK_INT(l.key[31], 1);
	CHECK_INT(nc_media_link_make(&l, out, sizeof out), 0);
	CHECK_STR(out, good);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = nc_media_link_parse(&l, bad[i]);

		if (!check_one(rc == NC_EDATA, __FILE__, __LINE__, "bad link refused"))
			fprintf(stderr, "    %s\n", bad[i]);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	padme();
	header();
	roundtrips();
	attacks();
	not_files();
	kat();
	links();
	return check_done("media");
}
