/* backup.c - wrapped root key, records and manifest (backup.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "err.h"
#include "hkdf.h"
#include "rng.h"
#include "wire.h"

#define WRAP_INFO "newchat backup wrap v1"
#define ROOT_AD "newchat backup root v1"
#define RECORD_AD "newchat backup record v1"
#define RECORD_KEY "newchat backup record key v1"
#define ID_KEY "newchat backup id key v1"
#define MANIFEST_CTX "newchat backup manifest v1"
#define LOCATOR_KEY "newchat backup locator v1"
#define ACCESS_KEY "newchat backup access v1"
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define WRAPPED_LEN (1 + NONCE + NC_BACKUP_KEY + TAG)

static int
user_ad(uint8_t *ad, size_t *n, const char *label, size_t labellen, const char *user)
{
	size_t u = strlen(user);

	if (u > 400)
		return nc_fail(NC_EDATA, "backup: user name too long");
	memcpy(ad, label, labellen);
	memcpy(ad + labellen, user, u);
	*n = labellen + u;
	return 0;
}

static int
wrap_key(uint8_t w[32], const uint8_t *secret, size_t n)
{
	return nc_hkdf(w, 32, NULL, 0, secret, n, (const uint8_t *)WRAP_INFO,
	    sizeof WRAP_INFO - 1);
}

int
nc_backup_wrap(nc_buf *out, const uint8_t root[NC_BACKUP_KEY], const uint8_t *secret,
    size_t secretlen, const char *user)
{
	uint8_t w[32], ad[sizeof ROOT_AD + 400], *p;
	size_t adn = 0;
	int rc;

	if ((rc = user_ad(ad, &adn, ROOT_AD, sizeof ROOT_AD, user)) != 0 ||
	    (rc = wrap_key(w, secret, secretlen)) != 0)
		return rc;
	nc_buf_reset(out);
	if ((rc = nc_buf_reserve(out, WRAPPED_LEN)) == 0) {
		p = out->p;
		p[0] = 1;
		nc_random(p + 1, NONCE);
		crypto_aead_xchacha20poly1305_ietf_encrypt(p + 1 + NONCE, NULL, root,
		    NC_BACKUP_KEY, ad, adn, NULL, p + 1, w);
		out->len = WRAPPED_LEN;
	}
	sodium_memzero(w, sizeof w);
	return rc;
}

int
nc_backup_unwrap(uint8_t root[NC_BACKUP_KEY], const uint8_t *wrapped, size_t n,
    const uint8_t *secret, size_t secretlen, const char *user)
{
	uint8_t w[32], ad[sizeof ROOT_AD + 400];
	size_t adn = 0;
	int rc;

	if (n != WRAPPED_LEN || wrapped[0] != 1)
		return nc_fail(NC_EDATA, "backup: the wrapped key is %zu bytes, not %d", n,
		    WRAPPED_LEN);
	if ((rc = user_ad(ad, &adn, ROOT_AD, sizeof ROOT_AD, user)) != 0 ||
	    (rc = wrap_key(w, secret, secretlen)) != 0)
		return rc;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(root, NULL, NULL, wrapped + 1 + NONCE,
	    NC_BACKUP_KEY + TAG, ad, adn, wrapped + 1, w) != 0)
		rc = nc_fail(NC_EPERM, "backup: wrong password or recovery code");
	sodium_memzero(w, sizeof w);
	return rc;
}

/* ---- recovery codes ---- */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void
nc_backup_code_format(char out[NC_BACKUP_CODE_LEN + 1], const uint8_t code[NC_BACKUP_CODE_BYTES])
{
	unsigned acc = 0, bits = 0, i, o = 0, letters = 0;

	for (i = 0; i < NC_BACKUP_CODE_BYTES; i++) {
		acc = (acc << 8) | code[i];
		bits += 8;
		while (bits >= 5) {
			if (letters > 0 && letters % 4 == 0)
				out[o++] = '-';
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
			letters++;
		}
	}
	out[o] = '\0';
}

int
nc_backup_code_parse(uint8_t code[NC_BACKUP_CODE_BYTES], const char *s)
{
	unsigned acc = 0, bits = 0, o = 0;
	const char *q;
	int c;

	for (; *s; s++) {
		if (*s == '-' || *s == ' ')
			continue;
		c = *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s;
		if (c == 0 || (q = strchr(b32, c)) == NULL || o >= NC_BACKUP_CODE_BYTES)
			goto bad;
		acc = (acc << 5) | (unsigned)(q - b32);
		bits += 5;
		if (bits >= 8) {
			code[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (o == NC_BACKUP_CODE_BYTES && bits == 0)
		return 0;
bad:
	sodium_memzero(code, NC_BACKUP_CODE_BYTES);
	return nc_fail(NC_EDATA, "a recovery code is 32 letters and digits 2-7 (as shown: "
	    "XXXX-XXXX-...)");
}

/* ---- records ---- */

static void
subkey(uint8_t out[32], const uint8_t root[NC_BACKUP_KEY], const char *label)
{
	crypto_generichash(out, 32, (const uint8_t *)label, strlen(label), root, NC_BACKUP_KEY);
}

void
nc_backup_hid(uint8_t hid[32], const uint8_t root[NC_BACKUP_KEY], const char *id)
{
	uint8_t k[32];

	subkey(k, root, ID_KEY);
	crypto_generichash(hid, 32, (const uint8_t *)id, strlen(id), k, sizeof k);
	sodium_memzero(k, sizeof k);
}

void
nc_backup_record_hash(uint8_t out[32], const uint8_t *rec, size_t n)
{
	crypto_generichash(out, 32, rec, n, NULL, 0);
}

int
nc_backup_record_seal(nc_buf *out, uint8_t hid[32], const uint8_t root[NC_BACKUP_KEY],
    const char *id, const uint8_t *data, size_t n)
{
	const size_t at = 1 + NONCE;
	uint8_t k[32], ad[sizeof RECORD_AD + 32], *p;
	size_t plen;
	nc_enc e;
	int rc;

	if (strlen(id) == 0 || strlen(id) > NC_BACKUP_ID_MAX || n > NC_BACKUP_RECORD_MAX)
		return nc_fail(NC_EDATA, "backup: record id or size out of bounds");
	/* The plaintext is encoded in place of its ciphertext and encrypted
	 * there (libsodium's AEADs allow exact overlap): no copy of it, and
	 * no secret buffer of a record's size (past 16 KiB, an mmap, mlock
	 * and munmap each). */
	nc_buf_reset(out);
	if ((rc = nc_buf_reserve(out, at + 8 + strlen(id) + n + TAG)) != 0)
		return rc;
	out->len = at;
	nc_enc_init(&e, out);
	nc_put_str(&e, id);
	nc_put_bytes(&e, data, n);
	if ((rc = nc_enc_end(&e)) != 0 || (rc = nc_buf_reserve(out, TAG)) != 0) {
		sodium_memzero(out->p, out->cap);   /* the plaintext, not sealed */
		out->len = 0;
		return rc;
	}
	plen = out->len - at;
	nc_backup_hid(hid, root, id);
	memcpy(ad, RECORD_AD, sizeof RECORD_AD);
	memcpy(ad + sizeof RECORD_AD, hid, 32);
	subkey(k, root, RECORD_KEY);
	p = out->p;
	p[0] = 1;
	nc_random(p + 1, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + at, NULL, p + at, plen, ad, sizeof ad,
	    NULL, p + 1, k);
	out->len = at + plen + TAG;
	sodium_memzero(k, sizeof k);
	return 0;
}

int
nc_backup_record_open(char id[NC_BACKUP_ID_MAX + 1], nc_buf *data,
    const uint8_t root[NC_BACKUP_KEY], const uint8_t hid[32], const uint8_t *rec, size_t n)
{
	uint8_t k[32], ad[sizeof RECORD_AD + 32], h[32], *plain;
	const uint8_t *d;
	size_t dn, pn;
	nc_dec dec;
	int rc;

	id[0] = '\0';
	if (n < 1 + NONCE + TAG || rec[0] != 1 || n > NC_BACKUP_RECORD_MAX + 1024)
		return nc_fail(NC_EDATA, "backup: not a record");
	memcpy(ad, RECORD_AD, sizeof RECORD_AD);
	memcpy(ad + sizeof RECORD_AD, hid, 32);
	/* Opened in place at the end of data (no buffer of its own to
	 * allocate, copy from and wipe: a restore opens ~1,600 of them),
	 * then the data moved to where the plaintext starts. */
	pn = n - 1 - NONCE - TAG;
	if ((rc = nc_buf_reserve(data, pn)) != 0)
		return rc;
	plain = data->p + data->len;
	subkey(k, root, RECORD_KEY);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, rec + 1 + NONCE,
	    n - 1 - NONCE, ad, sizeof ad, rec + 1, k) != 0) {
		rc = nc_fail(NC_ESECURITY, "backup: a record does not decrypt (tampered or swapped)");
		goto done;
	}
	nc_dec_init(&dec, plain, pn);
	nc_get_str(&dec, id, NC_BACKUP_ID_MAX);
	d = nc_get_bytes(&dec, NC_BACKUP_RECORD_MAX, &dn);
	if ((rc = nc_dec_end(&dec, "backup record")) != 0)
		goto done;
	nc_backup_hid(h, root, id);
	if (sodium_memcmp(h, hid, 32) != 0) {
		rc = nc_fail(NC_ESECURITY, "backup: a record under another id");
		goto done;
	}
	memmove(plain, d, dn);
	data->len += dn;
done:
	sodium_memzero(k, sizeof k);
	sodium_memzero(data->p + data->len, pn - (rc == 0 ? dn : 0));
	return rc;
}

/* ---- manifest ---- */

static int
cmp_entry(const void *a, const void *b)
{
	return memcmp(((const nc_backup_entry *)a)->hid, ((const nc_backup_entry *)b)->hid, 32);
}

static void
manifest_msg(crypto_sign_state *st, const uint8_t *body, size_t n)
{
	crypto_sign_init(st);
	crypto_sign_update(st, (const uint8_t *)MANIFEST_CTX, sizeof MANIFEST_CTX);
	crypto_sign_update(st, body, n);
}

int
nc_backup_manifest_sign(nc_buf *out, nc_backup_manifest *m, const char *user,
    const uint8_t idsk[64])
{
	crypto_sign_state st;
	uint8_t sig[64];
	uint32_t i;
	nc_enc e;
	int rc;

	if (m->n > NC_BACKUP_ENTRIES_MAX)
		return nc_fail(NC_EDATA, "backup: too many records");
	if (m->n > 1)
		qsort(m->e, m->n, sizeof *m->e, cmp_entry);
	for (i = 1; i < m->n; i++)
		if (memcmp(m->e[i - 1].hid, m->e[i].hid, 32) == 0)
			return nc_fail(NC_ESOFTWARE, "backup: one record listed twice");
	nc_buf_reset(out);
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_str(&e, user);
	nc_put_u64(&e, m->counter);
	nc_put_u32(&e, m->n);
	for (i = 0; i < m->n; i++) {
		nc_put_fixed(&e, m->e[i].hid, 32);
		nc_put_fixed(&e, m->e[i].hash, 32);
	}
	if ((rc = nc_enc_end(&e)) != 0)
		return rc;
	manifest_msg(&st, out->p, out->len);
	crypto_sign_final_create(&st, sig, NULL, idsk);
	nc_enc_init(&e, out);
	nc_put_fixed(&e, sig, 64);
	return nc_enc_end(&e);
}

void
nc_backup_manifest_free(nc_backup_manifest *m)
{
	free(m->e);
	memset(m, 0, sizeof *m);
}

/* Decodes; *body: the length signed, *sig: the signature. */
static int
manifest_decode(nc_backup_manifest *m, char who[401], const uint8_t *p, size_t n,
    size_t *body, const uint8_t **sig)
{
	const uint8_t *f;
	uint32_t i;
	nc_dec d;

	memset(m, 0, sizeof *m);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "backup manifest version");
	nc_get_str(&d, who, 400);
	m->counter = nc_get_u64(&d);
	m->n = nc_get_u32(&d);
	nc_dec_check(&d, m->n <= NC_BACKUP_ENTRIES_MAX && nc_dec_left(&d) >= (size_t)m->n * 64 + 64,
	    "backup manifest length");
	if (d.err == 0 && m->n > 0 && (m->e = calloc(m->n, sizeof *m->e)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	for (i = 0; d.err == 0 && i < m->n; i++) {
		if ((f = nc_get_fixed(&d, 64)) != NULL) {
			memcpy(m->e[i].hid, f, 32);
			memcpy(m->e[i].hash, f + 32, 32);
		}
		nc_dec_check(&d, i == 0 || memcmp(m->e[i - 1].hid, m->e[i].hid, 32) < 0,
		    "backup manifest entries sorted and unique");
	}
	*body = d.pos;
	*sig = nc_get_fixed(&d, 64);
	if (nc_dec_end(&d, "backup manifest") != 0) {
		nc_backup_manifest_free(m);
		return NC_EDATA;
	}
	return 0;
}

int
nc_backup_manifest_parse(nc_backup_manifest *m, char user[401], const uint8_t *p, size_t n)
{
	const uint8_t *sig;
	size_t body;

	return manifest_decode(m, user, p, n, &body, &sig);
}

int
nc_backup_manifest_verify(nc_backup_manifest *m, const uint8_t *p, size_t n,
    const char *user, const uint8_t idpk[32], uint64_t min_counter)
{
	crypto_sign_state st;
	char who[401];
	const uint8_t *sig;
	size_t body;
	int rc;

	if ((rc = manifest_decode(m, who, p, n, &body, &sig)) != 0)
		return rc;
	manifest_msg(&st, p, body);
	if (strcmp(who, user) != 0 || crypto_sign_final_verify(&st, sig, idpk) != 0) {
		nc_backup_manifest_free(m);
		return nc_fail(NC_ESECURITY, "backup: the manifest is not signed by %.318s's identity key",
		    user);
	}
	if (m->counter < min_counter) {
		uint64_t c = m->counter;
		nc_backup_manifest_free(m);
		return nc_fail(NC_ESECURITY, "backup: the relay served an older backup (%llu, newest "
		    "known %llu)", (unsigned long long)c, (unsigned long long)min_counter);
	}
	return 0;
}

const nc_backup_entry *
nc_backup_manifest_find(const nc_backup_manifest *m, const uint8_t hid[32])
{
	nc_backup_entry key;

	if (m->n == 0)
		return NULL;
	memcpy(key.hid, hid, 32);
	return bsearch(&key, m->e, m->n, sizeof *m->e, cmp_entry);
}

/* ---- the relay's slot ---- */

void
nc_backup_locator(uint8_t out[32], const uint8_t *secret, size_t n)
{
	uint8_t k[32];

	/* BLAKE2b takes keys of at most 64 bytes: longer secrets hashed first */
	if (n > crypto_generichash_KEYBYTES_MAX) {
		crypto_generichash(k, sizeof k, secret, n, NULL, 0);
		secret = k;
		n = sizeof k;
	}
	crypto_generichash(out, 32, (const uint8_t *)LOCATOR_KEY, sizeof LOCATOR_KEY - 1,
	    secret, n);
	sodium_memzero(k, sizeof k);
}

void
nc_backup_token(uint8_t token[32], uint8_t access[32], const uint8_t root[NC_BACKUP_KEY])
{
	subkey(token, root, ACCESS_KEY);
	crypto_generichash(access, 32, token, 32, NULL, 0);
}

static void
put_keys(nc_enc *e, const nc_backup_head *h)
{
	nc_put_u8(e, h->k);
	for (unsigned i = 0; i < h->k && i < NC_BACKUP_WRAPS_MAX; i++) {
		nc_put_fixed(e, h->keys[i].locator, 32);
		nc_put_u16(e, h->keys[i].n);
		nc_put_fixed(e, h->keys[i].wrapped, h->keys[i].n);
	}
}

int
nc_backup_head_encode(nc_buf *out, const nc_backup_head *h)
{
	nc_enc e;

	if (h->k > NC_BACKUP_WRAPS_MAX || h->manifest_len == 0 ||
	    h->manifest_len > NC_BACKUP_MANIFEST_MAX)
		return nc_fail(NC_EDATA, "backup: head out of bounds");
	for (unsigned i = 0; i < h->k; i++)
		if (h->keys[i].n == 0 || h->keys[i].n > NC_BACKUP_WRAPPED_MAX)
			return nc_fail(NC_EDATA, "backup: wrapped key out of bounds");
	nc_buf_reset(out);
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_fixed(&e, h->access, 32);
	put_keys(&e, h);
	nc_put_u32(&e, (uint32_t)h->manifest_len);
	nc_put_fixed(&e, h->manifest, h->manifest_len);
	return nc_enc_end(&e);
}

/* The keys part from d into h; its bytes are d's from start. */
static void
get_keys(nc_dec *d, nc_backup_head *h)
{
	const uint8_t *f;
	unsigned i;

	h->k = nc_get_u8(d);
	nc_dec_check(d, h->k <= NC_BACKUP_WRAPS_MAX, "backup: at most 4 wrapped keys");
	for (i = 0; d->err == 0 && i < h->k; i++) {
		if ((f = nc_get_fixed(d, 32)) != NULL)
			memcpy(h->keys[i].locator, f, 32);
		h->keys[i].n = nc_get_u16(d);
		nc_dec_check(d, h->keys[i].n >= 1 && h->keys[i].n <= NC_BACKUP_WRAPPED_MAX,
		    "backup: wrapped key length");
		if (d->err == 0 && (f = nc_get_fixed(d, h->keys[i].n)) != NULL)
			memcpy(h->keys[i].wrapped, f, h->keys[i].n);
	}
}

int
nc_backup_head_decode(nc_backup_head *h, const uint8_t *p, size_t n)
{
	size_t start;
	uint32_t m;
	nc_dec d;

	memset(h, 0, sizeof *h);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "backup head version");
	if ((h->keys_enc = nc_get_fixed(&d, 32)) != NULL)
		memcpy(h->access, h->keys_enc, 32);
	start = d.pos;
	get_keys(&d, h);
	h->keys_enc = p + start;
	h->keys_len = d.pos - start;
	m = nc_get_u32(&d);
	nc_dec_check(&d, m >= 1 && m <= NC_BACKUP_MANIFEST_MAX, "backup manifest length");
	h->manifest = nc_get_fixed(&d, m);
	h->manifest_len = m;
	if (nc_dec_end(&d, "backup head") != 0) {
		memset(h, 0, sizeof *h);
		return NC_EDATA;
	}
	return 0;
}

int
nc_backup_keys_find(const uint8_t *keys, size_t n, const uint8_t locator[32],
    const uint8_t **w, size_t *wn)
{
	static _Thread_local nc_backup_head h;
	size_t pos = 0;
	nc_dec d;

	nc_dec_init(&d, keys, n);
	get_keys(&d, &h);
	if (nc_dec_end(&d, "backup keys") != 0)
		return NC_EDATA;
	for (unsigned i = 0; i < h.k; i++) {
		pos += 32 + 2;
		if (sodium_memcmp(h.keys[i].locator, locator, 32) == 0) {
			*w = keys + 1 + pos;
			*wn = h.keys[i].n;
			return 0;
		}
		pos += h.keys[i].n;
	}
	return NC_ENOUSER;
}

/* ---- a batch of records ---- */

int
nc_backup_batch_fits(const nc_buf *b, size_t n)
{
	size_t have = b->len ? b->len : 3;

	if (n == 0 || n > NC_BACKUP_RECORD_WIRE_MAX || n > NC_BACKUP_BATCH_MAX - 4 - have)
		return 0;
	return b->len == 0 || ((size_t)b->p[1] << 8 | b->p[2]) < NC_BACKUP_BATCH_RECS;
}

int
nc_backup_batch_add(nc_buf *b, const uint8_t *rec, size_t n)
{
	uint8_t head[3] = { 1, 0, 0 };
	unsigned k;
	nc_enc e;

	if (!nc_backup_batch_fits(b, n))
		return nc_fail(NC_EDATA, "backup: the record does not fit the batch");
	if (b->len == 0 && nc_buf_add(b, head, sizeof head) != 0)
		return nc_fail(NC_EOSERR, "out of memory");
	nc_enc_init(&e, b);
	nc_put_bytes(&e, rec, n);
	if (nc_enc_end(&e) != 0)
		return NC_EOSERR;
	k = ((unsigned)b->p[1] << 8 | b->p[2]) + 1;
	b->p[1] = (uint8_t)(k >> 8);
	b->p[2] = (uint8_t)k;
	return 0;
}

/* A batch or a fetch's answer: u8 1, u16 k (1..max_k), k x u32-length
 * records (empty ones only if allowed), at most max bytes. */
static int
spans_decode(nc_backup_span *v, size_t *count, const uint8_t *p, size_t n,
    size_t max, unsigned max_k, int empty_ok, const char *what)
{
	unsigned k, i;
	nc_dec d;

	*count = 0;
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, n <= max, "too long");
	nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
	k = nc_get_u16(&d);
	nc_dec_check(&d, k >= 1 && k <= max_k, "record count");
	for (i = 0; d.err == 0 && i < k; i++) {
		v[i].p = nc_get_bytes(&d, NC_BACKUP_RECORD_WIRE_MAX, &v[i].n);
		nc_dec_check(&d, empty_ok || v[i].n >= 1, "an empty record");
	}
	if (nc_dec_end(&d, what) != 0)
		return NC_EDATA;
	*count = k;
	return 0;
}

int
nc_backup_batch_decode(nc_backup_span *v, size_t *count, const uint8_t *p, size_t n)
{
	return spans_decode(v, count, p, n, NC_BACKUP_BATCH_MAX, NC_BACKUP_BATCH_RECS,
	    0, "backup batch");
}

int
nc_backup_fetch_req(nc_buf *out, const uint8_t *h, size_t n)
{
	nc_enc e;

	if (n < 1 || n > NC_BACKUP_BATCH_RECS)
		return nc_fail(NC_ESOFTWARE, "backup fetch: 1 to 1024 records");
	nc_buf_reset(out);
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_u16(&e, (uint16_t)n);
	nc_put_fixed(&e, h, 32 * n);
	return nc_enc_end(&e);
}

int
nc_backup_fetch_req_decode(const uint8_t **h, size_t *n, const uint8_t *p, size_t len)
{
	unsigned k;
	nc_dec d;

	*n = 0;
	nc_dec_init(&d, p, len);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
	k = nc_get_u16(&d);
	nc_dec_check(&d, k >= 1 && k <= NC_BACKUP_BATCH_RECS, "record count");
	*h = nc_get_fixed(&d, d.err ? 0 : 32 * (size_t)k);
	if (nc_dec_end(&d, "backup fetch") != 0)
		return NC_EDATA;
	*n = k;
	return 0;
}

int
nc_backup_fetch_decode(nc_backup_span *v, size_t *k, size_t asked,
    const uint8_t *p, size_t len)
{
	return spans_decode(v, k, p, len, NC_BACKUP_FETCH_MAX,
	    asked < NC_BACKUP_BATCH_RECS ? (unsigned)asked : NC_BACKUP_BATCH_RECS, 1,
	    "backup fetch answer");
}
