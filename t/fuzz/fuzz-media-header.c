/* fuzz-media-header.c - the file decoder (lib/proto/media.c: chunks, the
 * held-back tail, the file header, Padmé's zeros) under a fixed key,
 * against a reference written here from the format's definition: the
 * decoder accepts exactly the genuine files, and then releases exactly
 * their content - no plaintext for anything that is not a genuine file.
 *
 * The first byte: bit 0 picks the mode, bits 1-3 how the ciphertext is fed
 * (1 byte at a time ... all at once), bit 4 spoils the link's hash.
 *   mode 0: the fuzzer writes plaintext chunks, encrypted here under the
 *     key: a run of { u8 ctl, u16 len, len bytes }, ctl bits 0-1 the tag
 *     (message, push, rekey, final), bit 2 a whole 64 KiB chunk (zeros, the
 *     bytes at its end, or its start with bit 3), so the authenticated
 *     layer is passed and what lies beneath is tested;
 *   mode 1: the rest is the ciphertext itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHUNKS_MAX 6
#define META_MIN (1 + 1 + 8 + 2 + 1 + 2 + 2)

static const uint8_t key[32] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x01 };
static const unsigned char tags[4] = {
	crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
	crypto_secretstream_xchacha20poly1305_TAG_PUSH,
	crypto_secretstream_xchacha20poly1305_TAG_REKEY,
	crypto_secretstream_xchacha20poly1305_TAG_FINAL };
static const size_t steps[8] = { 1, 7, 64, 4096, 65553, 65554, 131106, SIZE_MAX };

/* The reference: the plaintext chunks (their tags, lengths and bytes)
 * make a genuine file - whole message chunks, then one final chunk of 1
 * to 64 KiB; the plaintext content, zeros, a header, Padmé's length in
 * all. Its header in m. */
static int
genuine(const unsigned char *tg, const size_t *len, size_t n, const nc_buf *p,
    nc_media_meta *m)
{
	size_t L = p->len, tlen;
	nc_buf again = NC_BUF_INIT;
	int ok;

	if (n == 0 || tg[n - 1] != tags[3] || len[n - 1] < 1 ||
	    len[n - 1] > NC_MEDIA_CHUNK || L < META_MIN)
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (tg[i] != tags[0] || len[i] != NC_MEDIA_CHUNK)
			return 0;
	tlen = (size_t)p->p[L - 2] << 8 | p->p[L - 1];
	if (tlen < META_MIN || tlen > L ||
	    nc_media_meta_dec(m, p->p + L - tlen, tlen) != 0 ||
	    m->size > L - tlen || nc_media_padme(m->size + tlen) != L)
		return 0;
	for (size_t i = (size_t)m->size; i < L - tlen; i++)
		if (p->p[i] != 0)
			return 0;
	/* a header the decoder takes is the one the encoder writes */
	ok = nc_media_meta_enc(&again, m) == 0 && again.len == tlen &&
	    memcmp(again.p, p->p + L - tlen, tlen) == 0;
	nc_buf_free(&again);
	if (!ok)
		abort();
	return 1;
}

static int
sink(void *ctx, const uint8_t *p, size_t n)
{
	return nc_buf_add(ctx, p, n) == 0 ? 0 : NC_EOSERR;
}

/* Mode 0: the input's chunks, encrypted as they are (a short chunk
 * before the end is there to be refused). */
static void
build(const uint8_t *d, size_t n, nc_buf *ct, unsigned char *tg, size_t *lens,
    size_t *nt, nc_buf *pt)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[NC_MEDIA_HDRBYTES], *m = calloc(1, NC_MEDIA_CHUNK),
	    *c = malloc(NC_MEDIA_CTCHUNK);
	size_t pos = 0;

	if (m == NULL || c == NULL)
		abort();
	for (size_t i = 0; i < sizeof hdr; i++)
		hdr[i] = (uint8_t)(0xa0 + i);
	/* init_push is randombytes(header) then init_pull's derivation */
	crypto_secretstream_xchacha20poly1305_init_pull(&st, hdr, key);
	if (nc_buf_add(ct, hdr, sizeof hdr) != 0)
		abort();
	*nt = 0;
	while (pos + 3 <= n && *nt < CHUNKS_MAX) {
		uint8_t ctl = d[pos];
		size_t len = (size_t)d[pos + 1] << 8 | d[pos + 2], k;

		pos += 3;
		if (len > n - pos)
			len = n - pos;
		k = ctl & 4 ? NC_MEDIA_CHUNK : len;
		memset(m, 0, NC_MEDIA_CHUNK);
		if (ctl & 4)
			memcpy(ctl & 8 ? m : m + NC_MEDIA_CHUNK - len, d + pos, len);
		else
			memcpy(m, d + pos, len);
		pos += len;
		crypto_secretstream_xchacha20poly1305_push(&st, c, NULL, m, k,
		    NULL, 0, tags[ctl & 3]);
		if (nc_buf_add(ct, c, k + NC_MEDIA_ABYTES) != 0 ||
		    nc_buf_add(pt, m, k) != 0)
			abort();
		lens[*nt] = k;
		tg[(*nt)++] = tags[ctl & 3];
	}
	free(m);
	free(c);
}

/* Mode 1's reference: pull the ciphertext chunk by chunk as the format
 * cuts it. */
static int
pull_all(const uint8_t *ct, size_t n, unsigned char *tg, size_t *lens,
    size_t *nt, nc_buf *pt)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *m = malloc(NC_MEDIA_CHUNK);
	size_t pos = NC_MEDIA_HDRBYTES;
	int ok = 1;

	*nt = 0;
	if (m == NULL)
		abort();
	if (n <= NC_MEDIA_HDRBYTES ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st, ct, key) != 0)
		ok = 0;
	while (ok && pos < n) {
		size_t k = n - pos < NC_MEDIA_CTCHUNK ? n - pos : NC_MEDIA_CTCHUNK;
		unsigned long long mlen;
		unsigned char tag;

		if (k <= NC_MEDIA_ABYTES || *nt == CHUNKS_MAX * 4 ||
		    crypto_secretstream_xchacha20poly1305_pull(&st, m, &mlen, &tag,
		    ct + pos, k, NULL, 0) != 0 || nc_buf_add(pt, m, (size_t)mlen) != 0)
			ok = 0;
		else {
			lens[*nt] = (size_t)mlen;
			tg[(*nt)++] = tag;
		}
		pos += k;
	}
	free(m);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char tg[CHUNKS_MAX * 4];
	static size_t lens[CHUNKS_MAX * 4];
	nc_buf ct = NC_BUF_INIT, pt = NC_BUF_INIT, out = NC_BUF_INIT;
	nc_media_meta want, got;
	nc_media_dec d;
	uint8_t hash[32];
	size_t nt = 0, step;
	int ref, rc;

	if (size < 1 || sodium_init() < 0)
		return 0;
	step = steps[(data[0] >> 1) & 7];
	if (data[0] & 1) {
		if (nc_buf_add(&ct, data + 1, size - 1) != 0)
			abort();
		ref = pull_all(ct.p, ct.len, tg, lens, &nt, &pt);
	} else {
		build(data + 1, size - 1, &ct, tg, lens, &nt, &pt);
		ref = 1;
	}
	ref = ref && genuine(tg, lens, nt, &pt, &want);
	nc_media_hash(hash, ct.p, ct.len);
	if (data[0] & 16) {
		hash[7] ^= 0x10;
		ref = 0;
	}
	if (nc_media_dec_init(&d, key, sink, &out) != 0)
		abort();
	rc = 0;
	for (size_t i = 0; i < ct.len && rc == 0; i += step)
		rc = nc_media_dec_feed(&d, ct.p + i, ct.len - i < step ? ct.len - i : step);
	if (rc == 0)
		rc = nc_media_dec_end(&d, hash, &got);
	nc_media_dec_free(&d);
	/* accepted exactly when genuine, refused as a security failure */
	if ((rc == 0) != ref || (rc != 0 && rc != NC_ESECURITY))
		abort();
	if (rc == 0 && (got.size != want.size || got.kind != want.kind ||
	    strcmp(got.name, want.name) != 0 || strcmp(got.type, want.type) != 0 ||
	    out.len < got.size || memcmp(out.p, pt.p, (size_t)got.size) != 0))
		abort();
	nc_buf_free(&ct);
	nc_buf_free(&pt);
	nc_buf_free(&out);
	return 0;
}
