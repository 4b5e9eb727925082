/* groupmsg.c - group traffic inside pairwise payloads (groupmsg.h). */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "groupmsg.h"
#include "media.h"
#include "wire.h"

#define GM_VERSION 1
#define GM_INNER_FILES 2   /* an inner plaintext whose text has files */
#define GM_INNER_COMMIT 3  /* an inner plaintext whose text is a commit */

int
nc_gm_encode(nc_buf *out, const nc_gm *m)
{
	uint8_t ref[NC_GROUP_REF_LEN];
	nc_enc e;

	nc_enc_init(&e, out);
	nc_put_u8(&e, GM_VERSION);
	nc_put_u8(&e, (uint8_t)m->kind);
	switch (m->kind) {
	case NC_GM_COMMIT:
		if (m->commitlen == 0 || m->commitlen > NC_GM_COMMIT_MAX ||
		    m->prevlen > NC_GM_COMMIT_MAX)
			return nc_fail(NC_EDATA, "group commit too large");
		nc_put_bytes(&e, m->commit, m->commitlen);
		nc_put_bytes(&e, m->prev, m->prevlen);
		break;
	case NC_GM_SKEY:
		nc_put_fixed(&e, m->dist, NC_SKEY_DIST_LEN);
		break;
	case NC_GM_MSG:
		if (m->bloblen > NC_GM_BLOB_MAX)
			return nc_fail(NC_EDATA, "group message too large");
		nc_group_ref_encode(ref, &m->ref);
		nc_put_u64(&e, m->epoch);
		nc_put_fixed(&e, m->state, NC_GROUP_HASH);
		nc_put_fixed(&e, ref, sizeof ref);
		nc_put_bytes(&e, m->blob, m->bloblen);
		break;
	case NC_GM_SYNC:
		if (m->commitlen > NC_GM_COMMIT_MAX || m->nkeys > NC_GM_SYNC_KEYS)
			return nc_fail(NC_EDATA, "group sync too large");
		nc_put_bytes(&e, m->commit, m->commitlen);
		nc_put_u16(&e, (uint16_t)m->nkeys);
		nc_put_fixed(&e, m->keys, m->keyslen);
		break;
	case NC_GM_BATCHED:
		if (m->bloblen > NC_GM_BLOB_MAX)
			return nc_fail(NC_EDATA, "group message too large");
		nc_group_ref_encode(ref, &m->ref);
		nc_put_fixed(&e, ref, sizeof ref);
		nc_put_bytes(&e, m->blob, m->bloblen);
		break;
	default:
		return nc_fail(NC_EDATA, "group payload: unknown kind");
	}
	return nc_enc_end(&e);
}

/* One SYNC key entry from d (strict). */
static void
get_sync_key(nc_dec *d, char user[NC_ADDR_MAX + 1], uint8_t dev[16],
    const uint8_t **dist)
{
	const uint8_t *f;

	nc_get_str(d, user, NC_ADDR_MAX);
	nc_dec_check(d, nc_addr_valid(user), "user");
	if ((f = nc_get_fixed(d, 16)) != NULL)
		memcpy(dev, f, 16);
	*dist = nc_get_fixed(d, NC_SKEY_DIST_LEN);
}

int
nc_gm_sync_key_put(nc_buf *b, const char *user, const uint8_t dev[16],
    const uint8_t dist[NC_SKEY_DIST_LEN])
{
	nc_enc e;

	nc_enc_init(&e, b);
	nc_put_str(&e, user);
	nc_put_fixed(&e, dev, 16);
	nc_put_fixed(&e, dist, NC_SKEY_DIST_LEN);
	return nc_enc_end(&e);
}

int
nc_gm_sync_key(const nc_gm *m, size_t *off, char user[NC_ADDR_MAX + 1],
    uint8_t dev[16], const uint8_t **dist)
{
	nc_dec d;

	if (m->kind != NC_GM_SYNC || *off >= m->keyslen)
		return nc_fail(NC_EDATA, "group sync: no more keys");
	nc_dec_init(&d, m->keys + *off, m->keyslen - *off);
	get_sync_key(&d, user, dev, dist);
	if (d.err)
		return nc_fail(NC_EDATA, "group sync: a malformed key");
	*off = m->keyslen - nc_dec_left(&d);
	return 0;
}

int
nc_gm_decode(nc_gm *m, const uint8_t *p, size_t n)
{
	const uint8_t *f;
	nc_dec d;

	memset(m, 0, sizeof *m);
	nc_dec_init(&d, p, n);
	nc_dec_check(&d, nc_get_u8(&d) == GM_VERSION, "version");
	m->kind = nc_get_u8(&d);
	switch (m->kind) {
	case NC_GM_COMMIT:
		m->commit = nc_get_bytes(&d, NC_GM_COMMIT_MAX, &m->commitlen);
		nc_dec_check(&d, m->commitlen > 0, "empty commit");
		m->prev = nc_get_bytes(&d, NC_GM_COMMIT_MAX, &m->prevlen);
		break;
	case NC_GM_SKEY:
		m->dist = nc_get_fixed(&d, NC_SKEY_DIST_LEN);
		break;
	case NC_GM_MSG:
		m->epoch = nc_get_u64(&d);
		if ((f = nc_get_fixed(&d, NC_GROUP_HASH)) != NULL)
			memcpy(m->state, f, NC_GROUP_HASH);
		f = nc_get_fixed(&d, NC_GROUP_REF_LEN);
		nc_dec_check(&d, f == NULL || nc_group_ref_decode(&m->ref, f,
		    NC_GROUP_REF_LEN) == 0, "ref");
		m->blob = nc_get_bytes(&d, NC_GM_BLOB_MAX, &m->bloblen);
		break;
	case NC_GM_SYNC: {
		char user[NC_ADDR_MAX + 1];
		uint8_t dev[16];
		const uint8_t *dist;
		size_t left;
		unsigned i;
		nc_skey k;

		m->commit = nc_get_bytes(&d, NC_GM_COMMIT_MAX, &m->commitlen);
		m->nkeys = nc_get_u16(&d);
		nc_dec_check(&d, m->nkeys <= NC_GM_SYNC_KEYS, "keys");
		left = nc_dec_left(&d);
		m->keys = p + (n - left);
		for (i = 0; i < m->nkeys && !d.err; i++) {
			get_sync_key(&d, user, dev, &dist);
			nc_dec_check(&d, dist == NULL || nc_skey_from_dist(&k, dist,
			    NC_SKEY_DIST_LEN) == 0, "key");
		}
		sodium_memzero(&k, sizeof k);
		m->keyslen = left - nc_dec_left(&d);
		break;
	}
	case NC_GM_BATCHED:
		f = nc_get_fixed(&d, NC_GROUP_REF_LEN);
		nc_dec_check(&d, f == NULL || nc_group_ref_decode(&m->ref, f,
		    NC_GROUP_REF_LEN) == 0, "ref");
		m->blob = nc_get_bytes(&d, NC_GM_BLOB_MAX, &m->bloblen);
		break;
	default:
		nc_dec_check(&d, 0, "kind");
	}
	if (nc_dec_end(&d, "group payload") != 0) {
		memset(m, 0, sizeof *m);
		return nc_fail(NC_EDATA, "group payload: malformed");
	}
	return 0;
}

int
nc_gm_inner_encode(nc_buf *out, const nc_gm_inner *in)
{
	nc_enc e;
	int i;

	if (in->nseen > NC_GM_SEEN_MAX || in->textlen == 0 ||
	    in->textlen > (in->commit ? NC_GM_COMMIT_MAX : NC_GM_TEXT_MAX) ||
	    (in->commit && in->files))
		return nc_fail(NC_EDATA, "group message: bad size");
	nc_enc_init(&e, out);
	nc_put_u8(&e, in->commit ? GM_INNER_COMMIT : in->files ? GM_INNER_FILES :
	    GM_VERSION);
	nc_put_fixed(&e, in->id, 16);
	nc_put_u64(&e, in->time);
	nc_put_u8(&e, in->nseen);
	for (i = 0; i < in->nseen; i++) {
		nc_put_fixed(&e, in->seen[i].key, NC_SKEY_ID);
		nc_put_u32(&e, in->seen[i].index);
		nc_put_fixed(&e, in->seen[i].hash, 32);
	}
	nc_put_bytes(&e, in->text, in->textlen);
	return nc_enc_end(&e);
}

int
nc_gm_inner_decode(nc_gm_inner *in, const uint8_t *p, size_t n)
{
	const uint8_t *f;
	nc_dec d;
	int i, v;

	memset(in, 0, sizeof *in);
	nc_dec_init(&d, p, n);
	v = nc_get_u8(&d);
	nc_dec_check(&d, v == GM_VERSION || v == GM_INNER_FILES ||
	    v == GM_INNER_COMMIT, "version");
	in->files = v == GM_INNER_FILES;
	in->commit = v == GM_INNER_COMMIT;
	if ((f = nc_get_fixed(&d, 16)) != NULL)
		memcpy(in->id, f, 16);
	in->time = nc_get_u64(&d);
	in->nseen = nc_get_u8(&d);
	nc_dec_check(&d, in->nseen <= NC_GM_SEEN_MAX, "seen");
	for (i = 0; i < in->nseen && !d.err; i++) {
		if ((f = nc_get_fixed(&d, NC_SKEY_ID)) != NULL)
			memcpy(in->seen[i].key, f, NC_SKEY_ID);
		in->seen[i].index = nc_get_u32(&d);
		if ((f = nc_get_fixed(&d, 32)) != NULL)
			memcpy(in->seen[i].hash, f, 32);
	}
	in->text = nc_get_bytes(&d, in->commit ? NC_GM_COMMIT_MAX :
	    NC_GM_TEXT_MAX, &in->textlen);
	nc_dec_check(&d, in->textlen > 0 && (in->commit ? 1 : in->files ?
	    nc_media_attach_ok(in->text, in->textlen) :
	    nc_utf8_valid(in->text, in->textlen)), "text");
	if (nc_dec_end(&d, "group message") != 0) {
		memset(in, 0, sizeof *in);
		return nc_fail(NC_EDATA, "group message: malformed");
	}
	return 0;
}
