/* media.c - the encrypted file format and capability links
 * (share/doc/protocol-media.md). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hex.h"
#include "media.h"
#include "rng.h"
#include "wire.h"

#define TAG_MSG   crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define META_MIN  (1 + 1 + 8 + 2 + 1 + 2 + 2)

/* ---- the file header ---- */

int
nc_media_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > NC_MEDIA_NAME_MAX || !nc_utf8_valid(name, n) ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return 0;
	}
	return 1;
}

int
nc_media_type_ok(const char *type)
{
	size_t n = strlen(type);

	if (n > NC_MEDIA_TYPE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (type[i] < 0x21 || type[i] > 0x7e)
			return 0;
	return 1;
}

int
nc_media_meta_enc(nc_buf *out, const nc_media_meta *m)
{
	nc_enc e;
	size_t start = out->len;

	if (!nc_media_name_ok(m->name) || !nc_media_type_ok(m->type) ||
	    m->kind > NC_MEDIA_DIR || m->size > NC_MEDIA_SIZE_MAX)
		return nc_fail(NC_EDATA, "media: bad name, type or size");
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_u8(&e, m->kind);
	nc_put_u64(&e, m->size);
	nc_put_str(&e, m->name);
	nc_put_str(&e, m->type);
	nc_put_u16(&e, (uint16_t)(out->len - start + 2));
	return nc_enc_end(&e);
}

int
nc_media_meta_dec(nc_media_meta *m, const uint8_t *p, size_t n)
{
	nc_dec d;

	memset(m, 0, sizeof *m);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
	m->kind = nc_get_u8(&d);
	nc_dec_check(&d, m->kind <= NC_MEDIA_DIR, "kind");
	m->size = nc_get_u64(&d);
	nc_dec_check(&d, m->size <= NC_MEDIA_SIZE_MAX, "size");
	nc_get_str(&d, m->name, NC_MEDIA_NAME_MAX);
	nc_get_str(&d, m->type, NC_MEDIA_TYPE_MAX);
	nc_dec_check(&d, nc_get_u16(&d) == n, "length");
	if (nc_dec_end(&d, "media header") != 0 || !nc_media_name_ok(m->name) ||
	    !nc_media_type_ok(m->type))
		return nc_fail(NC_EDATA, "media: malformed file header");
	return 0;
}

uint64_t
nc_media_padme(uint64_t len)
{
	int e = 0, s = 0;
	uint64_t mask;

	if (len < 2)
		return len;
	for (uint64_t v = len; v > 1; v >>= 1)
		e++;                              /* floor(log2 len) */
	for (int v = e; v > 1; v >>= 1)
		s++;
	s++;                                      /* floor(log2 e) + 1 */
	mask = ((uint64_t)1 << (e - s)) - 1;
	return (len + mask) & ~mask;
}

uint64_t
nc_media_ctsize(uint64_t p)
{
	uint64_t chunks = p == 0 ? 1 : (p + NC_MEDIA_CHUNK - 1) / NC_MEDIA_CHUNK;

	return NC_MEDIA_HDRBYTES + p + chunks * NC_MEDIA_ABYTES;
}

/* ---- encryption ---- */

/* The link's hash covers the stream header and, of every chunk c of len
 * bytes, its authentication: the encrypted tag byte c[0] and the 16-byte
 * MAC c[len - 16 .. len) - 17 bytes a chunk, so that it costs nothing
 * beside the encryption (hashing all of the ciphertext cost twice the
 * encryption). */
static void
hash_chunk(crypto_generichash_state *h, const uint8_t *c, size_t len)
{
	uint8_t a[NC_MEDIA_ABYTES];

	a[0] = c[0];
	memcpy(a + 1, c + len - (NC_MEDIA_ABYTES - 1), NC_MEDIA_ABYTES - 1);
	crypto_generichash_update(h, a, sizeof a);
}

void
nc_media_hash(uint8_t out[32], const uint8_t *ct, size_t n)
{
	crypto_generichash_state h;
	size_t off = n < NC_MEDIA_HDRBYTES ? n : NC_MEDIA_HDRBYTES;

	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, ct, off);
	while (off < n) {
		size_t k = n - off < NC_MEDIA_CTCHUNK ? n - off : NC_MEDIA_CTCHUNK;

		if (k > NC_MEDIA_ABYTES)
			hash_chunk(&h, ct + off, k);
		off += k;
	}
	crypto_generichash_final(&h, out, 32);
}

static int
emit_ct(nc_media_enc *e, const uint8_t *p, size_t n)
{
	e->ctlen += n;
	return e->out(e->ctx, p, n);
}

int
nc_media_enc_init(nc_media_enc *e, const uint8_t key[32], nc_media_sink out,
    void *ctx)
{
	uint8_t hdr[NC_MEDIA_HDRBYTES];

	memset(e, 0, sizeof *e);
	e->out = out;
	e->ctx = ctx;
	if ((e->buf = malloc(1 + NC_MEDIA_CTCHUNK)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	crypto_generichash_init(&e->h, NULL, 0, 32);
	/* init_push with the header drawn from nc_random (rng.h), so a test
	 * can fix it for known answers: init_push is randombytes_buf(header)
	 * then exactly init_pull's derivation of the state from it. */
	nc_random(hdr, sizeof hdr);
	crypto_secretstream_xchacha20poly1305_init_pull(&e->st, hdr, key);
	crypto_generichash_update(&e->h, hdr, sizeof hdr);
	return emit_ct(e, hdr, sizeof hdr);
}

/* The chunk in buf + 1 (fill bytes), encrypted in place: libsodium writes
 * the tag byte to c[0] and XORs c + 1 from m = c + 1. */
static int
flush(nc_media_enc *e, unsigned char tag)
{
	crypto_secretstream_xchacha20poly1305_push(&e->st, e->buf, NULL,
	    e->buf + 1, e->fill, NULL, 0, tag);
	{
		size_t n = e->fill + NC_MEDIA_ABYTES;

		hash_chunk(&e->h, e->buf, n);
		e->fill = 0;
		return e->err = emit_ct(e, e->buf, n);
	}
}

uint8_t *
nc_media_enc_space(nc_media_enc *e, size_t *room)
{
	/* A full chunk goes out only when more comes: the last one is
	 * always left for the final tag. */
	if (e->fill == NC_MEDIA_CHUNK && flush(e, TAG_MSG) != 0) {
		*room = 0;
		return NULL;
	}
	*room = NC_MEDIA_CHUNK - e->fill;
	return e->buf + 1 + e->fill;
}

int
nc_media_enc_commit(nc_media_enc *e, size_t n)
{
	e->fill += n;
	e->size += n;
	return 0;
}

static int
push_raw(nc_media_enc *e, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n > 0) {
		size_t room, k;
		uint8_t *d;

		/* A full chunk left pending goes out now that more comes, so
		 * that what follows can take the path below. */
		if (e->fill == NC_MEDIA_CHUNK && flush(e, TAG_MSG) != 0)
			return e->err;
		/* A whole chunk with more to come, nothing gathered: encrypted
		 * straight from the caller's bytes, not copied in first. */
		if (s != NULL && e->fill == 0 && n > NC_MEDIA_CHUNK && e->err == 0) {
			crypto_secretstream_xchacha20poly1305_push(&e->st, e->buf,
			    NULL, s, NC_MEDIA_CHUNK, NULL, 0, TAG_MSG);
			hash_chunk(&e->h, e->buf, NC_MEDIA_CTCHUNK);
			if ((e->err = emit_ct(e, e->buf, NC_MEDIA_CTCHUNK)) != 0)
				return e->err;
			s += NC_MEDIA_CHUNK;
			n -= NC_MEDIA_CHUNK;
			continue;
		}
		d = nc_media_enc_space(e, &room);

		if (d == NULL)
			return e->err;
		k = n < room ? n : room;
		if (s != NULL)
			memcpy(d, s, k);
		else
			memset(d, 0, k);
		e->fill += k;
		if (s != NULL)
			s += k;
		n -= k;
	}
	return 0;
}

int
nc_media_enc_push(nc_media_enc *e, const void *p, size_t n)
{
	int rc = push_raw(e, p, n);

	if (rc == 0)
		e->size += n;
	return rc;
}

int
nc_media_enc_final(nc_media_enc *e, nc_media_meta *m, uint8_t hash[32])
{
	nc_buf meta = NC_BUF_INIT;
	uint64_t pad;
	int rc;

	m->size = e->size;
	if ((rc = nc_media_meta_enc(&meta, m)) != 0)
		return rc;
	pad = nc_media_padme(e->size + meta.len) - e->size - meta.len;
	if ((rc = push_raw(e, NULL, pad)) == 0 &&
	    (rc = push_raw(e, meta.p, meta.len)) == 0)
		rc = nc_media_enc_close(e, hash);
	nc_buf_free(&meta);
	return rc;
}

int
nc_media_enc_close(nc_media_enc *e, uint8_t hash[32])
{
	int rc;

	if ((rc = flush(e, TAG_FINAL)) == 0)
		crypto_generichash_final(&e->h, hash, 32);
	return rc;
}

void
nc_media_enc_free(nc_media_enc *e)
{
	if (e->buf != NULL) {
		sodium_memzero(e->buf, 1 + NC_MEDIA_CTCHUNK);
		free(e->buf);
	}
	sodium_memzero(e, sizeof *e);
}

/* ---- decryption ---- */

int
nc_media_dec_init(nc_media_dec *d, const uint8_t key[32], nc_media_sink out,
    void *ctx)
{
	memset(d, 0, sizeof *d);
	d->out = out;
	d->ctx = ctx;
	memcpy(d->key, key, 32);
	d->ct = malloc(NC_MEDIA_CTCHUNK);
	d->pt = malloc(NC_MEDIA_META_MAX + NC_MEDIA_CTCHUNK);
	if (d->ct == NULL || d->pt == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	crypto_generichash_init(&d->h, NULL, 0, 32);
	return 0;
}

/* Plaintext that is not the header: counted, its last non-zero byte
 * noted (everything after the content must be zero). */
static int
emit_pt(nc_media_dec *d, const uint8_t *p, size_t n)
{
	size_t i = n;

	if (n == 0)
		return 0;
	while (i > 0 && p[i - 1] == 0)
		i--;
	if (i > 0)
		d->nzend = d->ptout + i;
	d->ptout += n;
	return d->out(d->ctx, p, n);
}

/* One ciphertext chunk of len bytes in d->ct. */
static int
chunk(nc_media_dec *d, size_t len)
{
	unsigned long long mlen;
	unsigned char tag;
	uint8_t *m = d->ct + 1;
	size_t keep, emit, e1, e2, total;
	int rc;

	if (len > NC_MEDIA_ABYTES)
		hash_chunk(&d->h, d->ct, len);
	if (len <= NC_MEDIA_ABYTES ||
	    crypto_secretstream_xchacha20poly1305_pull(&d->st, m, &mlen, &tag,
	    d->ct, len, NULL, 0) != 0)
		return nc_fail(NC_ESECURITY, "media: chunk %llu does not "
		    "authenticate (wrong key, or the file was changed)",
		    (unsigned long long)((d->ctin - NC_MEDIA_HDRBYTES) / NC_MEDIA_CTCHUNK));
	if (tag != TAG_MSG && tag != TAG_FINAL)
		return nc_fail(NC_ESECURITY, "media: unexpected chunk tag");
	if (tag == TAG_MSG && len != NC_MEDIA_CTCHUNK)
		return nc_fail(NC_ESECURITY, "media: short chunk before the end");
	d->final = tag == TAG_FINAL;
	total = d->held + (size_t)mlen;
	if (d->final) {   /* all of it stays for nc_media_dec_end */
		memcpy(d->pt + d->held, m, (size_t)mlen);
		d->held = total;
		return 0;
	}
	keep = total < NC_MEDIA_META_MAX ? total : NC_MEDIA_META_MAX;
	emit = total - keep;
	e1 = emit < d->held ? emit : d->held;
	e2 = emit - e1;
	if ((rc = emit_pt(d, d->pt, e1)) != 0 || (rc = emit_pt(d, m, e2)) != 0)
		return rc;
	memmove(d->pt, d->pt + e1, d->held - e1);
	memcpy(d->pt + (d->held - e1), m + e2, (size_t)mlen - e2);
	d->held = keep;
	return 0;
}

int
nc_media_dec_feed(nc_media_dec *d, const uint8_t *p, size_t n)
{
	int rc;

	while (n > 0) {
		size_t k;

		if (d->final)
			return nc_fail(NC_ESECURITY, "media: data after the "
			    "final chunk (the file was extended)");
		if (!d->started) {
			k = NC_MEDIA_HDRBYTES - d->hdrfill;
			k = k < n ? k : n;
			memcpy(d->hdr + d->hdrfill, p, k);
			d->hdrfill += k;
			p += k;
			n -= k;
			d->ctin += k;
			if (d->hdrfill < NC_MEDIA_HDRBYTES)
				continue;
			crypto_generichash_update(&d->h, d->hdr, NC_MEDIA_HDRBYTES);
			if (crypto_secretstream_xchacha20poly1305_init_pull(&d->st,
			    d->hdr, d->key) != 0)
				return nc_fail(NC_ESECURITY, "media: bad stream header");
			d->started = 1;
			continue;
		}
		k = NC_MEDIA_CTCHUNK - d->ctfill;
		k = k < n ? k : n;
		memcpy(d->ct + d->ctfill, p, k);
		d->ctfill += k;
		p += k;
		n -= k;
		if (d->ctfill == NC_MEDIA_CTCHUNK) {
			d->ctfill = 0;
			if ((rc = chunk(d, NC_MEDIA_CTCHUNK)) != 0)
				return rc;
		}
		d->ctin += k;
	}
	return 0;
}

int
nc_media_dec_end(nc_media_dec *d, const uint8_t hash[32], nc_media_meta *m)
{
	uint8_t h[32];
	size_t tlen;
	uint64_t total;
	int rc;

	/* The last chunk (not a full one) hashed first. A chunk that does
	 * not authenticate is said as such; so is a hash that is not the
	 * link's, before anything else. */
	if (!d->final && d->started && d->ctfill > 0) {
		size_t n = d->ctfill;

		d->ctfill = 0;
		rc = chunk(d, n);
	} else
		rc = 0;
	crypto_generichash_final(&d->h, h, 32);
	if (rc == 0 && sodium_memcmp(h, hash, 32) != 0)
		return nc_fail(NC_ESECURITY, "media: the file's hash is not the "
		    "link's (the file was changed, cut or extended)");
	if (rc != 0)
		return rc;
	if (!d->final)
		return nc_fail(NC_ESECURITY, "media: the file ends before its "
		    "final chunk (truncated)");
	if (d->held < META_MIN)
		return nc_fail(NC_ESECURITY, "media: no file header");
	tlen = (size_t)d->pt[d->held - 2] << 8 | d->pt[d->held - 1];
	if (tlen < META_MIN || tlen > d->held ||
	    nc_media_meta_dec(m, d->pt + d->held - tlen, tlen) != 0)
		return nc_fail(NC_ESECURITY, "media: malformed file header");
	total = d->ptout + d->held;
	if ((rc = emit_pt(d, d->pt, d->held - tlen)) != 0)
		return rc;
	if (m->size > total - tlen || d->nzend > m->size ||
	    nc_media_padme(m->size + tlen) != total)
		return nc_fail(NC_ESECURITY, "media: padding is not Padmé's zeros");
	return 0;
}

void
nc_media_dec_free(nc_media_dec *d)
{
	if (d->pt != NULL) {
		sodium_memzero(d->pt, NC_MEDIA_META_MAX + NC_MEDIA_CTCHUNK);
		free(d->pt);
	}
	if (d->ct != NULL) {
		sodium_memzero(d->ct, NC_MEDIA_CTCHUNK);
		free(d->ct);
	}
	sodium_memzero(d, sizeof *d);
}

/* ---- links ---- */

#define BLOBS "/v1/blobs/"

/* A decimal without sign or leading zero, 1..20 digits, no overflow. */
static int
decimal(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n < 1 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    *v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

int
nc_media_link_parse(nc_media_link *l, const char *s)
{
	size_t n = strnlen(s, NC_MEDIA_LINK_MAX + 1), u, b, scheme;
	const char *hash = memchr(s, '#', n), *f;

	memset(l, 0, sizeof *l);
	if (n > NC_MEDIA_LINK_MAX || hash == NULL)
		goto bad;
	u = (size_t)(hash - s);
	scheme = strncmp(s, "https://", 8) == 0 ? 8 :
	    strncmp(s, "http://", 7) == 0 ? 7 : 0;
	if (u > NC_MEDIA_URL_MAX || scheme == 0 || u < scheme + 1 + strlen(BLOBS) + 64)
		goto bad;
	for (size_t i = 0; i < u; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '?' || s[i] == '#')
			goto bad;
	b = u - 64 - strlen(BLOBS);
	if (memcmp(s + b, BLOBS, strlen(BLOBS)) != 0 || b <= scheme ||
	    nc_hex_decode(l->id, 32, s + u - 64, 64) != 0)
		goto bad;
	memcpy(l->url, s, u);
	memcpy(l->base, s, b);
	/* "k=" 64 "&h=" 64 "&n=" digits */
	f = hash + 1;
	if (strlen(f) < 2 + 64 + 3 + 64 + 3 + 1 ||
	    strncmp(f, "k=", 2) != 0 || nc_hex_decode(l->key, 32, f + 2, 64) != 0 ||
	    strncmp(f + 66, "&h=", 3) != 0 ||
	    nc_hex_decode(l->hash, 32, f + 69, 64) != 0 ||
	    strncmp(f + 133, "&n=", 3) != 0 ||
	    decimal(f + 136, strlen(f + 136), &l->ctsize) != 0 ||
	    l->ctsize < nc_media_ctsize(META_MIN))
		goto bad;
	return 0;
bad:
	sodium_memzero(l, sizeof *l);
	return nc_fail(NC_EDATA, "not a media link: want URL/v1/blobs/ID#k=KEY&h=HASH&n=SIZE");
}

int
nc_media_link_make(nc_media_link *l, char *out, size_t max)
{
	char id[65], k[65], h[65];
	int n;

	nc_hex_encode(id, l->id, 32);
	nc_hex_encode(k, l->key, 32);
	nc_hex_encode(h, l->hash, 32);
	n = snprintf(l->url, sizeof l->url, "%s%s%s", l->base, BLOBS, id);
	if (n < 0 || (size_t)n >= sizeof l->url)
		goto bad;
	n = snprintf(out, max, "%s#k=%s&h=%s&n=%llu", l->url, k, h,
	    (unsigned long long)l->ctsize);
	sodium_memzero(k, sizeof k);
	if (n < 0 || (size_t)n >= max)
		goto bad;
	return 0;
bad:
	return nc_fail(NC_EDATA, "media: relay URL too long for a link");
}

/* ---- the attachment payload ---- */

int
nc_media_attach_enc(nc_buf *out, const nc_media_attach *a, size_t n,
    const uint8_t *text, size_t textlen)
{
	nc_enc e;
	nc_media_link l;

	if (n < 1 || n > NC_MEDIA_ATTACH_MAX)
		return nc_fail(NC_EDATA, "media: 1 to %d attachments", NC_MEDIA_ATTACH_MAX);
	if (textlen > NC_MEDIA_TEXT_MAX || (textlen > 0 &&
	    !nc_utf8_valid(text, textlen)))
		return nc_fail(NC_EDATA, "media: the text is not UTF-8 of at "
		    "most 64 KiB");
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_u8(&e, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		if (nc_media_link_parse(&l, a[i].link) != 0 ||
		    !nc_media_name_ok(a[i].name) || !nc_media_type_ok(a[i].type))
			return nc_fail(NC_EDATA, "media: bad attachment %zu", i + 1);
		nc_put_str(&e, a[i].link);
		nc_put_str(&e, a[i].name);
		nc_put_str(&e, a[i].type);
		nc_put_u64(&e, a[i].size);
	}
	nc_put_bytes(&e, textlen ? text : (const uint8_t *)"", textlen);
	sodium_memzero(&l, sizeof l);
	return nc_enc_end(&e);
}

int
nc_media_attach_ok(const uint8_t *p, size_t len)
{
	static _Thread_local nc_media_attach a[NC_MEDIA_ATTACH_MAX];
	const uint8_t *t;
	size_t na, tn;

	return nc_media_attach_dec(a, &na, &t, &tn, p, len) == 0;
}

int
nc_media_attach_dec(nc_media_attach *a, size_t *n, const uint8_t **text,
    size_t *textlen, const uint8_t *p, size_t len)
{
	nc_dec d;
	nc_media_link l;
	int ok = 1;

	*n = 0;
	nc_dec_init(&d, p, len);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
	*n = nc_get_u8(&d);
	nc_dec_check(&d, *n >= 1 && *n <= NC_MEDIA_ATTACH_MAX, "count");
	for (size_t i = 0; i < *n && d.err == 0; i++) {
		nc_get_str(&d, a[i].link, NC_MEDIA_LINK_MAX);
		nc_get_str(&d, a[i].name, NC_MEDIA_NAME_MAX);
		nc_get_str(&d, a[i].type, NC_MEDIA_TYPE_MAX);
		a[i].size = nc_get_u64(&d);
		if (d.err == 0 && (nc_media_link_parse(&l, a[i].link) != 0 ||
		    !nc_media_name_ok(a[i].name) || !nc_media_type_ok(a[i].type)))
			ok = 0;
	}
	*text = nc_get_bytes(&d, NC_MEDIA_TEXT_MAX, textlen);
	sodium_memzero(&l, sizeof l);
	if (nc_dec_end(&d, "attachments") != 0 || !ok ||
	    !nc_utf8_valid(*text, *textlen)) {
		*n = 0;
		*text = NULL;
		*textlen = 0;
		return nc_fail(NC_EDATA, "media: malformed attachment list");
	}
	if (*textlen == 0)
		*text = (const uint8_t *)"";
	return 0;
}
