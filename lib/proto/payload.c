/* payload.c - the typed plaintext inside a ratchet message (protocol.md
 * 2.5) and Padme padding. */
#include <string.h>

#include "err.h"
#include "payload.h"
#include "kt.h"
#include "relaymsg.h"

_Static_assert(NC_PL_HEAD_LEN == NC_KT_HEAD_LEN, "a gossiped head is a kt head");
#include "wire.h"

#define PAYLOAD_VERSION 1

int
nc_payload_encode(const nc_payload *pl, nc_buf *out)
{
	nc_enc e;

	if ((pl->type != NC_PL_GROUP && (pl->type < NC_PL_TEXT ||
	    pl->type > NC_PL_SENT_FILES)) ||
	    pl->bodylen > NC_PL_BODY_MAX || pl->nacks > NC_PL_ACKS_MAX ||
	    (pl->type == NC_PL_RECEIPT) != (pl->nacks > 0) ||
	    pl->ngossip > NC_PL_GOSSIP_MAX)
		return nc_fail(NC_EDATA, "payload: bad type, size or receipt");
	for (size_t i = 0; i < pl->ngossip; i++)
		if (!nc_domain_valid(pl->gossip[i].domain))
			return nc_fail(NC_EDATA, "payload: bad gossip domain");
	nc_enc_init(&e, out);
	nc_put_u8(&e, PAYLOAD_VERSION);
	nc_put_u8(&e, (uint8_t)pl->type);
	nc_put_fixed(&e, pl->id, 16);
	nc_put_u64(&e, pl->time);
	nc_put_bytes(&e, pl->body, pl->bodylen);
	nc_put_u16(&e, pl->nacks);
	nc_put_fixed(&e, pl->acks, (size_t)pl->nacks * 16);
	/* Gossip: absent when empty, so a payload without it is the bytes it
	 * always was. */
	if (pl->ngossip > 0) {
		nc_put_u8(&e, pl->ngossip);
		for (size_t i = 0; i < pl->ngossip; i++) {
			nc_put_str(&e, pl->gossip[i].domain);
			nc_put_fixed(&e, pl->gossip[i].head, NC_PL_HEAD_LEN);
		}
	}
	return nc_enc_end(&e);
}

int
nc_payload_decode(nc_payload *pl, const uint8_t *p, size_t n)
{
	nc_dec d;
	const uint8_t *f;

	memset(pl, 0, sizeof *pl);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == PAYLOAD_VERSION, "version");
	pl->type = nc_get_u8(&d);
	nc_dec_check(&d, pl->type == NC_PL_GROUP ||
	    (pl->type >= NC_PL_TEXT && pl->type <= NC_PL_SENT_FILES), "type");
	if ((f = nc_get_fixed(&d, 16)) != NULL)
		memcpy(pl->id, f, 16);
	pl->time = nc_get_u64(&d);
	pl->body = nc_get_bytes(&d, NC_PL_BODY_MAX, &pl->bodylen);
	pl->nacks = nc_get_u16(&d);
	nc_dec_check(&d, pl->nacks <= NC_PL_ACKS_MAX, "acks");
	nc_dec_check(&d, (pl->type == NC_PL_RECEIPT) == (pl->nacks > 0), "receipt");
	pl->acks = nc_get_fixed(&d, (size_t)pl->nacks * 16);
	if (d.err == 0 && nc_dec_left(&d) > 0) {
		pl->ngossip = nc_get_u8(&d);
		nc_dec_check(&d, pl->ngossip >= 1 && pl->ngossip <= NC_PL_GOSSIP_MAX,
		    "gossip");
		for (size_t i = 0; i < pl->ngossip && d.err == 0; i++) {
			const uint8_t *h;

			nc_get_str(&d, pl->gossip[i].domain, NC_DOMAIN_MAX);
			nc_dec_check(&d, nc_domain_valid(pl->gossip[i].domain),
			    "gossip domain");
			if ((h = nc_get_fixed(&d, NC_PL_HEAD_LEN)) != NULL)
				memcpy(pl->gossip[i].head, h, NC_PL_HEAD_LEN);
		}
	}
	if (nc_dec_end(&d, "payload") != 0) {
		memset(pl, 0, sizeof *pl);
		return nc_fail(NC_EDATA, "payload: malformed");
	}
	if (pl->bodylen == 0)
		pl->body = (const uint8_t *)"";
	return 0;
}

int
nc_sent_encode(nc_buf *out, const char *const *to, size_t nto,
    const uint8_t *text, size_t n)
{
	nc_enc e;
	size_t i;

	if (nto == 0 || nto > NC_PL_TO_MAX)
		return nc_fail(NC_EDATA, "sent copy: 1..%d recipients", NC_PL_TO_MAX);
	nc_enc_init(&e, out);
	nc_put_u16(&e, (uint16_t)nto);
	for (i = 0; i < nto; i++)
		nc_put_str(&e, to[i]);
	nc_put_bytes(&e, text, n);
	return nc_enc_end(&e);
}

int
nc_sent_decode(nc_sent *sc, const uint8_t *p, size_t n)
{
	nc_dec d;
	uint16_t i;

	nc_dec_init(&d, p, n);
	sc->nto = nc_get_u16(&d);
	nc_dec_check(&d, sc->nto >= 1 && sc->nto <= NC_PL_TO_MAX, "recipients");
	for (i = 0; i < sc->nto && d.err == 0; i++) {
		nc_get_str(&d, sc->to[i], NC_ADDR_MAX);
		nc_dec_check(&d, nc_addr_valid(sc->to[i]), "recipient");
	}
	sc->text = nc_get_bytes(&d, NC_PL_BODY_MAX, &sc->textlen);
	if (nc_dec_end(&d, "sent copy") != 0) {
		sc->nto = 0;
		return nc_fail(NC_EDATA, "sent copy: malformed");
	}
	if (sc->textlen == 0)
		sc->text = (const uint8_t *)"";
	return 0;
}

int
nc_control_encode(nc_buf *out, int kind, const uint8_t *envids, uint16_t n)
{
	nc_enc e;

	if (kind != NC_CTL_DEVICE_ADDED && kind != NC_CTL_UNREAD)
		return nc_fail(NC_ESOFTWARE, "control: unknown kind %d", kind);
	if (kind == NC_CTL_UNREAD && (n < 1 || n > NC_PL_ACKS_MAX))
		return nc_fail(NC_ESOFTWARE, "control: %u envelope ids", n);
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_u8(&e, (uint8_t)kind);
	if (kind == NC_CTL_UNREAD) {
		nc_put_u16(&e, n);
		nc_put_fixed(&e, envids, (size_t)n * 16);
	}
	return nc_enc_end(&e);
}

int
nc_control_decode(nc_control *c, const uint8_t *p, size_t n)
{
	nc_dec d;

	memset(c, 0, sizeof *c);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "control version");
	c->kind = nc_get_u8(&d);
	nc_dec_check(&d, c->kind == NC_CTL_DEVICE_ADDED ||
	    c->kind == NC_CTL_UNREAD, "control kind");
	if (d.err == 0 && c->kind == NC_CTL_UNREAD) {
		c->n = nc_get_u16(&d);
		nc_dec_check(&d, c->n >= 1 && c->n <= NC_PL_ACKS_MAX,
		    "envelope ids");
		c->envids = nc_get_fixed(&d, (size_t)c->n * 16);
	}
	if (nc_dec_end(&d, "control") != 0) {
		memset(c, 0, sizeof *c);
		return nc_fail(NC_EDATA, "control: malformed");
	}
	return 0;
}

/* Padme (Nikitin et al., "Reducing metadata leakage from encrypted files
 * and communication with PURBs"): keep the top floor(log2 E) + 1 bits of
 * the length, E = floor(log2 L); at most ~12% overhead. Minimum 256. */
size_t
nc_padme(size_t n)
{
	size_t e = 0, s = 0, mask;

	if (n <= 256)
		return 256;
	while (((size_t)1 << (e + 1)) <= n)
		e++;
	while (((size_t)1 << (s + 1)) <= e)
		s++;
	s++;   /* s = floor(log2 e) + 1 */
	mask = ((size_t)1 << (e - s)) - 1;
	return (n + mask) & ~mask;
}
