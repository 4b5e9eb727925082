/* nc-forge-media - a hostile sender for the media tests (t/5000-media.bats,
 * t/5200-attach.bats): files whose header carries a name no honest client
 * writes, messages naming any link, and the link hash of any bytes.
 *   nc-forge-media hash CTFILE
 *       the link's hash of CTFILE (protocol.md 2.11: the stream header,
 *       then each chunk's first byte and last 16), written here apart from
 *       lib/proto/media.c
 *   nc-forge-media file BASEURL NAME CTFILE < CONTENT
 *       encrypt CONTENT under a fresh key with the raw header name NAME
 *       (no check: "../x", "/etc/passwd", control characters), write the
 *       ciphertext to CTFILE and print its link at BASEURL (a random id)
 *   nc-forge-media send LINK NAME USER@DOMAIN
 *       send, from NC_HOME, a message with no text whose one attachment
 *       is LINK, announced as NAME (nc_send, as nc-send --attach does) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "err.h"
#include "media.h"
#include "rng.h"
#include "send.h"
#include "wire.h"

static FILE *ctout;

static int
sink(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, ctout) == n ? 0 : NC_EIO;
}

static int
forge(const char *base, const char *name, const char *ctfile)
{
	nc_media_enc e;
	nc_media_link l;
	nc_buf hdr = NC_BUF_INIT;
	nc_enc w;
	uint8_t buf[65536];
	char link[NC_MEDIA_LINK_MAX + 1];
	size_t k;
	uint64_t pad;

	if ((ctout = fopen(ctfile, "wb")) == NULL)
		return 1;
	memset(&l, 0, sizeof l);
	nc_random(l.key, 32);
	nc_random(l.id, 32);
	if (nc_media_enc_init(&e, l.key, sink, NULL) != 0)
		return 1;
	while ((k = fread(buf, 1, sizeof buf, stdin)) > 0)
		if (nc_media_enc_push(&e, buf, k) != 0)
			return 1;
	/* the header as protocol.md 2.11 lays it out, name unchecked */
	nc_enc_init(&w, &hdr);
	nc_put_u8(&w, 1);
	nc_put_u8(&w, NC_MEDIA_FILE);
	nc_put_u64(&w, e.size);
	nc_put_u16(&w, (uint16_t)strlen(name));
	nc_put_fixed(&w, name, strlen(name));
	nc_put_u16(&w, 0);
	nc_put_u16(&w, (uint16_t)(hdr.len + 2));
	if (nc_enc_end(&w) != 0)
		return 1;
	pad = nc_media_padme(e.size + hdr.len) - e.size - hdr.len;
	memset(buf, 0, sizeof buf);
	while (pad > 0) {
		k = pad < sizeof buf ? (size_t)pad : sizeof buf;
		if (nc_media_enc_push(&e, buf, k) != 0)
			return 1;
		pad -= k;
	}
	if (nc_media_enc_push(&e, hdr.p, hdr.len) != 0 ||
	    nc_media_enc_close(&e, l.hash) != 0)
		return 1;
	l.ctsize = e.ctlen;
	nc_media_enc_free(&e);
	snprintf(l.base, sizeof l.base, "%s", base);
	if (fclose(ctout) != 0 || nc_media_link_make(&l, link, sizeof link) != 0)
		return 1;
	puts(link);
	nc_buf_free(&hdr);
	return 0;
}

static int
send_link(const char *link, const char *name, const char *to)
{
	nc_media_attach a;
	nc_send_opts o;
	nc_buf body = NC_BUF_INIT;
	const char *rcpt[1] = { to };
	int rc;

	memset(&a, 0, sizeof a);
	memset(&o, 0, sizeof o);
	snprintf(a.link, sizeof a.link, "%s", link);
	snprintf(a.name, sizeof a.name, "%s", name);
	a.size = 1;
	o.ttl = 3600;
	o.files = 1;
	if ((rc = nc_media_attach_enc(&body, &a, 1, NULL, 0)) != 0) {
		nc_cli_error(rc);
		return rc;
	}
	rc = nc_send(&o, rcpt, 1, body.p, body.len);
	nc_buf_free(&body);
	return rc < 0 ? -rc : rc;
}

static int
hash(const char *ctfile)
{
	static uint8_t c[NC_MEDIA_CTCHUNK];
	crypto_generichash_state h;
	uint8_t out[32];
	char hex[65];
	FILE *f = fopen(ctfile, "rb");
	size_t k;

	if (f == NULL || fread(c, 1, NC_MEDIA_HDRBYTES, f) != NC_MEDIA_HDRBYTES)
		return 1;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, c, NC_MEDIA_HDRBYTES);
	while ((k = fread(c, 1, sizeof c, f)) > 0) {
		if (k < 17)
			return 1;
		crypto_generichash_update(&h, c, 1);
		crypto_generichash_update(&h, c + k - 16, 16);
	}
	fclose(f);
	crypto_generichash_final(&h, out, 32);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	puts(hex);
	return 0;
}

int
main(int argc, char **argv)
{
	if (nc_cli_init("nc-forge-media") != 0)
		return 70;
	if (argc == 3 && strcmp(argv[1], "hash") == 0)
		return hash(argv[2]);
	if (argc == 5 && strcmp(argv[1], "file") == 0)
		return forge(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return send_link(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: nc-forge-media hash CTFILE\n"
	    "       nc-forge-media file BASEURL NAME CTFILE < CONTENT\n"
	    "       nc-forge-media send LINK NAME USER@DOMAIN\n");
	return 64;
}
