/* bench-media.c - the file format's core (lib/proto/media.c) beside its
 * floor, on N MiB in memory (argv[1], default 256): encryption (chunking,
 * padding, header, the ciphertext's BLAKE2b) against bare
 * crypto_secretstream pushes of the same 64 KiB chunks, and decryption
 * against bare pulls; and the encryption floor with the BLAKE2b of the
 * ciphertext that every link carries.
 * Prints "name MB/s" lines, best of 3 runs (CPU time). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "media.h"

static uint8_t *src, *ct, key[32], hash[32];
static size_t n, ctlen;

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
to_ct(void *ctx, const uint8_t *p, size_t k)
{
	(void)ctx;
	memcpy(ct + ctlen, p, k);
	ctlen += k;
	return 0;
}

static int
discard(void *ctx, const uint8_t *p, size_t k)
{
	(void)ctx, (void)p, (void)k;
	return 0;
}

/* The whole format (header, chunks, Padme padding, the file header, the
 * tags' hash) from the plaintext in memory, as the floor encrypts it; each
 * chunk's ciphertext handed to sink, which the floor leaves in a buffer of
 * one chunk. */
static void
enc_to(nc_media_sink sink)
{
	nc_media_enc e;
	nc_media_meta m = { NC_MEDIA_FILE, 0, "bench.bin", "" };

	ctlen = 0;
	if (nc_media_enc_init(&e, key, sink, NULL) != 0 ||
	    nc_media_enc_push(&e, src, n) != 0 ||
	    nc_media_enc_final(&e, &m, hash) != 0)
		exit(1);
	nc_media_enc_free(&e);
}

static void
ours_enc(void)
{
	enc_to(discard);
}

/* The ciphertext ours_dec reads (not timed). */
static void
ours_enc_keep(void)
{
	enc_to(to_ct);
}

static void
ours_dec(void)
{
	nc_media_dec d;
	nc_media_meta m;

	if (nc_media_dec_init(&d, key, discard, NULL) != 0 ||
	    nc_media_dec_feed(&d, ct, ctlen) != 0 || nc_media_dec_end(&d, hash, &m) != 0)
		exit(1);
	nc_media_dec_free(&d);
}

/* The floor: secretstream over the same chunks, nothing else. */
static void
floor_enc(int hash)
{
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state hs;
	static uint8_t out[NC_MEDIA_CTCHUNK];
	uint8_t hdr[24], h[32];
	size_t off = 0;

	ctlen = 0;
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	if (hash)
		crypto_generichash_init(&hs, NULL, 0, 32);
	while (off < n) {
		size_t k = n - off < NC_MEDIA_CHUNK ? n - off : NC_MEDIA_CHUNK;

		crypto_secretstream_xchacha20poly1305_push(&st, out, NULL,
		    src + off, k, NULL, 0, off + k == n ?
		    crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		if (hash)
			crypto_generichash_update(&hs, out, k + 17);
		ctlen += k + 17;
		off += k;
	}
	if (hash)
		crypto_generichash_final(&hs, h, 32);
}

static double
best(void (*f)(void))
{
	double b = 1e9;

	for (int i = 0; i < 3; i++) {
		double t = cpu();

		f();
		t = cpu() - t;
		if (t < b)
			b = t;
	}
	return (double)n / (1 << 20) / b;
}

static void fe(void) { floor_enc(0); }
static void feh(void) { floor_enc(1); }

/* Pulls under the right header: the floor's ciphertext with its header. */
static uint8_t fhdr[24];
static void
fe_keep(void)
{
	crypto_secretstream_xchacha20poly1305_state st;
	size_t off = 0;

	ctlen = 0;
	crypto_secretstream_xchacha20poly1305_init_push(&st, fhdr, key);
	while (off < n) {
		size_t k = n - off < NC_MEDIA_CHUNK ? n - off : NC_MEDIA_CHUNK;

		crypto_secretstream_xchacha20poly1305_push(&st, ct + ctlen, NULL,
		    src + off, k, NULL, 0, off + k == n ?
		    crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		ctlen += k + 17;
		off += k;
	}
}

static void
fd_right(void)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char tag;
	size_t off = 0;

	crypto_secretstream_xchacha20poly1305_init_pull(&st, fhdr, key);
	while (off < ctlen) {
		size_t k = ctlen - off < NC_MEDIA_CTCHUNK ? ctlen - off : NC_MEDIA_CTCHUNK;

		if (crypto_secretstream_xchacha20poly1305_pull(&st, src, NULL, &tag,
		    ct + off, k, NULL, 0) != 0)
			exit(1);
		off += k;
	}
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 256;

	if (sodium_init() < 0)
		return 1;
	n = mib << 20;
	src = malloc(n);
	ct = malloc(nc_media_ctsize(nc_media_padme(n + 300)));
	if (src == NULL || ct == NULL)
		return 1;
	randombytes_buf(src, n);
	randombytes_buf(key, 32);
	printf("floor_enc %.0f\n", best(fe));
	printf("floor_enc_hash %.0f\n", best(feh));
	printf("ours_enc %.0f\n", best(ours_enc));
	ours_enc_keep();
	printf("ours_dec %.0f\n", best(ours_dec));
	fe_keep();
	printf("floor_dec %.0f\n", best(fd_right));
	return 0;
}
