/* link.c - the link code, the provisioning box, the link message
 * (link.h, protocol.md 2.12). */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "link.h"
#include "media.h"       /* nc_media_attach_dec */
#include "relaymsg.h"   /* nc_domain_valid */
#include "wire.h"

#define CODE_VERSION 1
#define MSG_VERSION 1
#define MSG_TYPE 0x31
#define SEAL_VERSION 1
#define CODE_BIN_MAX (1 + 32 + 1 + NC_DOMAIN_MAX + 2)

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char box_label[] = "newchat link box v1";     /* + 0x00 */
static const char check_label[] = "newchat link code v1";  /* + 0x00 */

static void
check(uint8_t out[2], const uint8_t *p, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[16];

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)check_label, sizeof check_label);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(out, h, 2);
}

int
nc_link_code_encode(const nc_link_code *c, char *out, size_t max)
{
	uint8_t bin[CODE_BIN_MAX];
	size_t dl = strlen(c->domain), n, i, o = 0, chars = 0;
	unsigned acc = 0, bits = 0;

	if (!nc_domain_valid(c->domain))
		return nc_fail(NC_EDATA, "link code: bad domain");
	bin[0] = CODE_VERSION;
	memcpy(bin + 1, c->pk, 32);
	bin[33] = (uint8_t)dl;
	memcpy(bin + 34, c->domain, dl);
	n = 34 + dl;
	check(bin + n, bin, n);
	n += 2;
	for (i = 0; i < n || bits > 0; ) {
		if (bits < 5 && i < n) {
			acc = (acc << 8) | bin[i++];
			bits += 8;
		}
		unsigned v = bits >= 5 ? (acc >> (bits - 5)) & 31 :
		    (acc << (5 - bits)) & 31;
		bits = bits >= 5 ? bits - 5 : 0;
		if (chars > 0 && chars % 4 == 0) {
			if (o + 1 >= max)
				return nc_fail(NC_EDATA, "link code: too long");
			out[o++] = '-';
		}
		if (o + 1 >= max)
			return nc_fail(NC_EDATA, "link code: too long");
		out[o++] = b32[v];
		chars++;
	}
	out[o] = '\0';
	return 0;
}

int
nc_link_code_decode(nc_link_code *c, const char *s)
{
	uint8_t bin[CODE_BIN_MAX], ck[2];
	size_t n = 0, chars = 0, dl;
	unsigned acc = 0, bits = 0;
	const char *q;

	memset(c, 0, sizeof *c);
	if (strlen(s) > NC_LINK_CODE_MAX)
		return nc_fail(NC_EDATA, "link code: too long");
	for (; *s; s++) {
		int ch = (unsigned char)*s;

		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (ch == '\0' || (q = strchr(b32, ch)) == NULL)
			return nc_fail(NC_EDATA, "link code: '%c' is not a letter of "
			    "the code (a-z, 2-7)", ch >= 0x20 && ch < 0x7f ? ch : '?');
		acc = (acc << 5) | (unsigned)(q - b32);
		bits += 5;
		chars++;
		if (bits >= 8) {
			if (n >= sizeof bin)
				return nc_fail(NC_EDATA, "link code: too long");
			bin[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* only the canonical form: leftover bits fewer than 5, all zero */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0 || n < 36)
		return nc_fail(NC_EDATA, "link code: incomplete (a letter missing "
		    "or too many?)");
	(void)chars;
	dl = bin[33];
	if (bin[0] != CODE_VERSION || n != 34 + dl + 2)
		return nc_fail(NC_EDATA, "link code: malformed (a letter missing or "
		    "too many?)");
	check(ck, bin, 34 + dl);
	if (memcmp(ck, bin + 34 + dl, 2) != 0)
		return nc_fail(NC_EDATA, "link code: check failed (a typo?)");
	memcpy(c->domain, bin + 34, dl);
	c->domain[dl] = '\0';
	if (strlen(c->domain) != dl || !nc_domain_valid(c->domain)) {
		memset(c, 0, sizeof *c);
		return nc_fail(NC_EDATA, "link code: bad domain");
	}
	memcpy(c->pk, bin + 1, 32);
	return 0;
}

void
nc_link_box(uint8_t box[NC_LINK_BOX_LEN], const uint8_t pk[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, NC_LINK_BOX_LEN);
	crypto_generichash_update(&st, (const uint8_t *)box_label, sizeof box_label);
	crypto_generichash_update(&st, pk, 32);
	crypto_generichash_final(&st, box, NC_LINK_BOX_LEN);
}

static int
name_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
hex32_ok(const char *s, int empty_ok)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return empty_ok;
	if (n != 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
status_ok(const char *s)
{
	static const char *ok[] = { "received", "sent", "delivered", "queued",
	    "failed", "accepted", "armored" };
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

int
nc_link_put_contact(nc_buf *b, const nc_link_contact *c)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_bytes(&e, c->list, c->listlen);
	nc_put_bytes(&e, c->pending, c->pending ? c->pendlen : 0);
	nc_put_u8(&e, c->verified);
	nc_put_u32(&e, c->changed);
	nc_put_u64(&e, c->first_seen);
	return nc_enc_end(&e);
}

int
nc_link_put_hist(nc_buf *b, const nc_link_hist *h)
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_str(&e, h->id);
	nc_put_u8(&e, (uint8_t)(h->dir | (h->files ? 2 : 0)));
	nc_put_str(&e, h->peer);
	nc_put_str(&e, h->dev);
	nc_put_u64(&e, h->time);
	nc_put_bytes(&e, h->body, h->bodylen);
	nc_put_str(&e, h->status);
	return nc_enc_end(&e);
}

int
nc_link_encode(nc_buf *out, const nc_link_msg *m, const nc_buf *contacts,
    const nc_buf *hist)
{
	nc_enc e;

	if (m->ndev > NC_DEVLIST_MAX || m->ncontact > NC_LINK_CONTACTS_MAX ||
	    m->nhist > NC_LINK_MSGS_MAX)
		return nc_fail(NC_EDATA, "link message: too many entries");
	nc_enc_init(&e, out);
	nc_put_u8(&e, MSG_VERSION);
	nc_put_u8(&e, MSG_TYPE);
	nc_put_fixed(&e, m->box, NC_LINK_BOX_LEN);
	nc_put_str(&e, m->user);
	nc_put_u64(&e, m->time);
	nc_put_bytes(&e, m->idkey, m->idkeylen);
	nc_put_u16(&e, m->ndev);
	for (int i = 0; i < m->ndev; i++) {
		nc_put_fixed(&e, m->dev[i].id, NC_DEVID_LEN);
		nc_put_str(&e, m->dev[i].name);
		nc_put_u64(&e, m->dev[i].added);
	}
	nc_put_u32(&e, m->ncontact);
	nc_put_fixed(&e, contacts->p, contacts->len);
	nc_put_u32(&e, m->nhist);
	nc_put_fixed(&e, hist->p, hist->len);
	nc_put_u32(&e, 0);   /* groups: none kept by this version */
	return nc_enc_end(&e);
}

int
nc_link_decode(nc_link_msg *m, const uint8_t *p, size_t n,
    int (*contact)(void *, const nc_link_contact *),
    int (*hist)(void *, const nc_link_hist *), void *ctx)
{
	nc_dec d;
	nc_link_contact c;
	nc_link_hist h;
	const uint8_t *f;
	uint32_t i;
	int rc;

	memset(m, 0, sizeof *m);
	if (n > NC_LINK_BODY_MAX)
		return nc_fail(NC_EDATA, "link message: too long");
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == MSG_VERSION, "link message version");
	nc_dec_check(&d, nc_get_u8(&d) == MSG_TYPE, "link message type");
	if ((f = nc_get_fixed(&d, NC_LINK_BOX_LEN)) != NULL)
		memcpy(m->box, f, NC_LINK_BOX_LEN);
	nc_get_str(&d, m->user, NC_ADDR_MAX);
	nc_dec_check(&d, nc_addr_valid(m->user), "link message user");
	m->time = nc_get_u64(&d);
	m->idkey = nc_get_bytes(&d, 256, &m->idkeylen);
	m->ndev = nc_get_u16(&d);
	nc_dec_check(&d, m->ndev <= NC_DEVLIST_MAX, "link message device count");
	for (i = 0; !d.err && i < m->ndev; i++) {
		if ((f = nc_get_fixed(&d, NC_DEVID_LEN)) != NULL)
			memcpy(m->dev[i].id, f, NC_DEVID_LEN);
		nc_get_str(&d, m->dev[i].name, NC_LINK_NAME_MAX);
		nc_dec_check(&d, name_ok(m->dev[i].name), "device name");
		m->dev[i].added = nc_get_u64(&d);
	}
	m->ncontact = nc_get_u32(&d);
	nc_dec_check(&d, m->ncontact <= NC_LINK_CONTACTS_MAX, "contact count");
	for (i = 0; !d.err && i < m->ncontact; i++) {
		c.list = nc_get_bytes(&d, NC_DEVLIST_ENC_MAX, &c.listlen);
		c.pending = nc_get_bytes(&d, NC_DEVLIST_ENC_MAX, &c.pendlen);
		if (c.pendlen == 0)
			c.pending = NULL;
		c.verified = nc_get_u8(&d);
		nc_dec_check(&d, c.verified <= 1, "contact verified flag");
		c.changed = nc_get_u32(&d);
		c.first_seen = nc_get_u64(&d);
		nc_dec_check(&d, c.listlen > 0, "contact device list");
		if (!d.err && contact && (rc = contact(ctx, &c)) != 0)
			return rc;
	}
	m->nhist = nc_get_u32(&d);
	nc_dec_check(&d, m->nhist <= NC_LINK_MSGS_MAX, "history count");
	for (i = 0; !d.err && i < m->nhist; i++) {
		nc_get_str(&d, h.id, 32);
		nc_dec_check(&d, hex32_ok(h.id, 0), "history message id");
		h.dir = nc_get_u8(&d);
		nc_dec_check(&d, h.dir <= 3, "history direction and kind");
		h.files = h.dir >> 1;
		h.dir &= 1;
		nc_get_str(&d, h.peer, NC_ADDR_MAX);
		nc_dec_check(&d, nc_addr_valid(h.peer), "history peer");
		nc_get_str(&d, h.dev, 32);
		nc_dec_check(&d, hex32_ok(h.dev, 1), "history device");
		h.time = nc_get_u64(&d);
		h.body = nc_get_bytes(&d, NC_LINK_MSG_BODY_MAX, &h.bodylen);
		nc_dec_check(&d, h.files ? h.body != NULL && nc_media_attach_ok(h.body,
		    h.bodylen) : h.body == NULL || nc_utf8_valid(h.body, h.bodylen),
		    "history text");
		nc_get_str(&d, h.status, 16);
		nc_dec_check(&d, status_ok(h.status), "history status");
		if (!d.err && hist && (rc = hist(ctx, &h)) != 0)
			return rc;
	}
	nc_dec_check(&d, nc_get_u32(&d) == 0, "link message groups");
	if (nc_dec_end(&d, "link message") != 0) {
		memset(m, 0, sizeof *m);
		return nc_fail(NC_EDATA, "link message: malformed");
	}
	return 0;
}

int
nc_link_seal(nc_buf *out, const uint8_t pk[32], const nc_buf *pt)
{
	size_t n = 1 + crypto_box_SEALBYTES + pt->len;
	int rc;

	if (n > NC_LINK_BODY_MAX)
		return nc_fail(NC_EDATA, "link message: too long (%zu bytes; at most "
		    "%u): send less history", n, NC_LINK_BODY_MAX);
	if ((rc = nc_buf_reserve(out, n)) != 0)
		return rc;
	out->p[out->len] = SEAL_VERSION;
	if (crypto_box_seal(out->p + out->len + 1, pt->p, pt->len, pk) != 0)
		return nc_fail(NC_EDATA, "link code: not a usable key");
	out->len += n;
	return 0;
}

int
nc_link_open(nc_buf *pt, const uint8_t pk[32], const uint8_t sk[32],
    const uint8_t *p, size_t n)
{
	size_t m;
	int rc;

	if (n < 1 + crypto_box_SEALBYTES || n > NC_LINK_BODY_MAX || p[0] != SEAL_VERSION)
		return nc_fail(NC_EDATA, "link message: malformed");
	m = n - 1 - crypto_box_SEALBYTES;
	if ((rc = nc_buf_reserve(pt, m + 1)) != 0)
		return rc;
	if (crypto_box_seal_open(pt->p, p + 1, n - 1, pk, sk) != 0)
		return nc_fail(NC_ESECURITY, "link message: not made for this code "
		    "(forged or damaged)");
	pt->len = m;
	return 0;
}
