/* devlink.c - linking a device by code (devlink.h, protocol.md 1.11, 2.12). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "devinfo.h"
#include "devlink.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "hex.h"
#include "link.h"
#include "relayc.h"

/* The history budget: what the sealed message may hold besides the rest. */
#define HIST_BUDGET (NC_LINK_BODY_MAX - 512 * 1024)

/* ---- the existing device ---- */

static int
put_devices(nc_state *s, const nc_self *self, nc_link_msg *m)
{
	nc_devlist l;
	char hex[33];
	int rc, i;

	if ((rc = nc_dir_show(s, self->addr, &l, NULL, NULL, NULL)) != 0)
		return rc;
	for (i = 0; i < l.n && i < NC_DEVLIST_MAX; i++) {
		nc_hex_encode(hex, l.dev[i].id, NC_DEVID_LEN);
		memcpy(m->dev[i].id, l.dev[i].id, NC_DEVID_LEN);
		nc_devinfo_name(s, hex, m->dev[i].name);
		m->dev[i].added = (uint64_t)nc_devinfo_added(s, hex);
	}
	m->ndev = (uint16_t)i;
	return 0;
}

static int
put_contacts(nc_state *s, const nc_self *self, nc_buf *b, uint32_t *n)
{
	sqlite3_stmt *st;
	nc_link_contact c;
	int rc = 0;

	if ((rc = nc_state_prep(s, &st, "SELECT devlist, new_devlist, verified,"
	    " changed, first_seen FROM contact WHERE user != ? ORDER BY user")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, self->addr, -1, SQLITE_STATIC);
	while (rc == 0 && *n < NC_LINK_CONTACTS_MAX && sqlite3_step(st) == SQLITE_ROW) {
		c.list = sqlite3_column_blob(st, 0);
		c.listlen = (size_t)sqlite3_column_bytes(st, 0);
		c.pending = sqlite3_column_type(st, 1) == SQLITE_BLOB ?
		    sqlite3_column_blob(st, 1) : NULL;
		c.pendlen = (size_t)sqlite3_column_bytes(st, 1);
		c.verified = sqlite3_column_int(st, 2) != 0;
		c.changed = (uint32_t)sqlite3_column_int64(st, 3);
		c.first_seen = (uint64_t)sqlite3_column_int64(st, 4);
		if ((rc = nc_link_put_contact(b, &c)) == 0)
			(*n)++;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The newest messages, as many as max and the budget allow, oldest
 * first: encoded newest first, then the entries are laid out reversed. */
static int
put_history(nc_state *s, const nc_self *self, unsigned max, nc_buf *out,
    uint32_t *n)
{
	sqlite3_stmt *st;
	nc_buf tmp = NC_SECBUF_INIT, body = NC_SECBUF_INIT;
	size_t *off = NULL, cap = 0;
	char me[33];
	nc_link_hist h;
	int rc;

	nc_hex_encode(me, self->dev->id, NC_DEVID_LEN);
	if (max == 0)
		return 0;
	if ((rc = nc_state_prep(s, &st, "SELECT id, dir, peer, dev, time, body,"
	    " status, files FROM message ORDER BY seq DESC LIMIT ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, max);
	while (sqlite3_step(st) == SQLITE_ROW) {
		memset(&h, 0, sizeof h);
		snprintf(h.id, sizeof h.id, "%s", sqlite3_column_text(st, 0));
		h.dir = (uint8_t)sqlite3_column_int(st, 1);
		snprintf(h.peer, sizeof h.peer, "%s", sqlite3_column_text(st, 2));
		snprintf(h.dev, sizeof h.dev, "%s", sqlite3_column_text(st, 3));
		/* what this device sent itself came from this device */
		if (h.dir == 1 && h.dev[0] == '\0')
			memcpy(h.dev, me, sizeof h.dev);
		h.time = (uint64_t)sqlite3_column_int64(st, 4);
		snprintf(h.status, sizeof h.status, "%s", sqlite3_column_text(st, 6));
		h.files = sqlite3_column_int(st, 7) != 0;
		nc_buf_reset(&body);
		if ((rc = nc_state_unseal_msg(s, h.dir, h.peer, h.id, sqlite3_column_blob(st, 5),
		    (size_t)sqlite3_column_bytes(st, 5), &body)) != 0)
			break;
		if (body.len > NC_LINK_MSG_BODY_MAX)
			continue;
		h.body = body.p;
		h.bodylen = body.len;
		if (*n == cap) {
			size_t *p = realloc(off, (cap ? 2 * cap : 256) * sizeof *off);
			if (p == NULL) {
				rc = nc_fail(NC_EOSERR, "out of memory");
				break;
			}
			off = p;
			cap = cap ? 2 * cap : 256;
		}
		off[*n] = tmp.len;
		if ((rc = nc_link_put_hist(&tmp, &h)) != 0)
			break;
		if (tmp.len > HIST_BUDGET) {
			tmp.len = off[*n];
			break;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	for (uint32_t i = *n; rc == 0 && i-- > 0; )
		rc = nc_buf_add(out, tmp.p + off[i], (i + 1 < *n ? off[i + 1] :
		    tmp.len) - off[i]);
	free(off);
	nc_buf_free(&tmp);
	nc_buf_free(&body);
	return rc;
}

int
nc_devlink_send(nc_state *s, nc_self *self, const char *code,
    unsigned max_hist, unsigned *ncontact, unsigned *nhist)
{
	nc_link_code c;
	nc_link_msg m;
	nc_buf idk = NC_SECBUF_INIT, contacts = NC_BUF_INIT, hist = NC_SECBUF_INIT;
	nc_buf pt = NC_SECBUF_INIT, sealed = NC_BUF_INIT;
	nc_relay *r = NULL;
	int rc;

	if ((rc = nc_link_code_decode(&c, code)) != 0)
		return rc;
	if (strcmp(c.domain, self->domain) != 0)
		return nc_fail(NC_EUSAGE, "this code is for a device at %s, and this "
		    "one is %s: run nc-keygen --link %s on the new device",
		    c.domain, self->addr, self->addr);
	if (self->id == NULL)
		return nc_fail(NC_EPERM, "%s: this device does not hold the identity "
		    "key; link from one that does", self->addr);
	memset(&m, 0, sizeof m);
	nc_link_box(m.box, c.pk);
	strcpy(m.user, self->addr);
	m.time = (uint64_t)time(NULL);
	if ((rc = nc_idkey_encode(self->id, &idk)) != 0 ||
	    (rc = put_devices(s, self, &m)) != 0 ||
	    (rc = put_contacts(s, self, &contacts, &m.ncontact)) != 0 ||
	    (rc = put_history(s, self, max_hist, &hist, &m.nhist)) != 0)
		goto done;
	m.idkey = idk.p;
	m.idkeylen = idk.len;
	if ((rc = nc_link_encode(&pt, &m, &contacts, &hist)) != 0 ||
	    (rc = nc_link_seal(&sealed, c.pk, &pt)) != 0 ||
	    (rc = nc_relay_open(&r, s->home, self->domain)) != 0 ||
	    (rc = nc_relay_link_put(r, self->name, self->dev, m.box, &sealed)) != 0)
		goto done;
	*ncontact = m.ncontact;
	*nhist = m.nhist;
done:
	nc_relay_close(r);
	nc_buf_free(&idk);
	nc_buf_free(&contacts);
	nc_buf_free(&hist);
	nc_buf_free(&pt);
	nc_buf_free(&sealed);
	return rc;
}

/* ---- the new device ---- */

struct import {
	const uint8_t *pt;
	size_t len;
	const char *addr;
	unsigned ncontact, nhist;
};

static int
import_contact(void *ctx, const nc_link_contact *c)
{
	nc_state *s = ((void **)ctx)[0];
	struct import *im = ((void **)ctx)[1];
	nc_devlist l, p;
	sqlite3_stmt *st;
	int rc;

	/* every list as signed by its user: nothing the sender could forge */
	if (nc_devlist_parse(&l, c->list, c->listlen) != 0 ||
	    (c->pending && nc_devlist_parse(&p, c->pending, c->pendlen) != 0) ||
	    (c->pending && strcmp(p.user, l.user) != 0))
		return nc_fail(NC_ESECURITY, "link message: a contact's device list "
		    "does not verify");
	if (strcmp(l.user, im->addr) == 0)
		return 0;   /* our own: fetched, not taken */
	if ((rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO contact(user,"
	    " identity, devlist, version, changed, new_devlist, verified,"
	    " first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, l.user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, l.identity, 32, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, c->list, (int)c->listlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)l.version);
	sqlite3_bind_int64(st, 5, c->pending ? (sqlite3_int64)c->changed : 0);
	if (c->pending)
		sqlite3_bind_blob(st, 6, c->pending, (int)c->pendlen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int(st, 7, c->verified);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)c->first_seen);
	if ((rc = nc_state_done(s, st)) == 0)
		im->ncontact++;
	return rc;
}

static int
import_hist(void *ctx, const nc_link_hist *h)
{
	nc_state *s = ((void **)ctx)[0];
	struct import *im = ((void **)ctx)[1];
	nc_buf ct = NC_BUF_INIT;
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_seal_msg(s, h->dir, h->peer, h->id, h->body, h->bodylen,
	    &ct)) != 0)
		return rc;
	if ((rc = nc_state_prep(s, &st, "INSERT OR IGNORE INTO message(id, dir,"
	    " peer, dev, time, body, status, files) VALUES (?, ?, ?, ?, ?, ?, ?,"
	    " ?)")) != 0)
		goto done;
	sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, h->dir);
	sqlite3_bind_text(st, 3, h->peer, -1, SQLITE_STATIC);
	/* a dev that is not '' keeps the sent trigger from firing: the
	 * event is added here, the same for both directions */
	sqlite3_bind_text(st, 4, h->dev[0] ? h->dev : "-", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)h->time);
	sqlite3_bind_blob(st, 6, ct.p, (int)ct.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, h->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, h->files);
	if ((rc = nc_state_done(s, st)) != 0 || sqlite3_changes(s->db) == 0)
		goto done;
	if ((rc = nc_event_add(s, "message", h->id, h->peer, h->dev,
	    "", sqlite3_last_insert_rowid(s->db))) == 0)
		im->nhist++;
done:
	nc_buf_free(&ct);
	return rc;
}

static int
import(nc_state *s, void *arg)
{
	struct import *im = arg;
	void *ctx[2] = { s, im };
	nc_link_msg m;
	char hex[33];
	int rc, i;

	if ((rc = nc_link_decode(&m, im->pt, im->len, import_contact, import_hist,
	    ctx)) != 0)
		return rc;
	for (i = 0; i < m.ndev; i++) {
		nc_hex_encode(hex, m.dev[i].id, NC_DEVID_LEN);
		if ((m.dev[i].name[0] && nc_devname_valid(m.dev[i].name,
		    strlen(m.dev[i].name)) &&
		    (rc = nc_devinfo_set_name(s, hex, m.dev[i].name)) != 0) ||
		    (m.dev[i].added && (rc = nc_devinfo_set_added(s, hex,
		    (int64_t)m.dev[i].added)) != 0))
			return rc;
	}
	/* the history is there to read (nc-recv --history), not news: the
	 * default reader starts after it */
	return nc_event_skip(s);
}

/* Take the box's message: the relay holds each request up to LINK_POLL
 * seconds until it comes (a long-poll); an answer sooner than that with
 * nothing (an error, a relay without wait=) is asked again a second later. */
#define LINK_POLL 20
static int
wait_msg(nc_relay *r, const char *name, const uint8_t box[NC_LINK_BOX_LEN],
    nc_buf *out)
{
	const char *e = getenv("NC_LINK_WAIT");
	long wait = e && *e ? strtol(e, NULL, 10) : NC_LINK_TTL;
	time_t end = time(NULL) + (wait > 0 && wait <= NC_LINK_TTL ? wait : NC_LINK_TTL);
	time_t t0, left;
	int rc, got = 0;

	for (;;) {
		nc_buf_reset(out);
		t0 = time(NULL);
		left = end - t0;
		if ((rc = nc_relay_link_take(r, name, box,
		    left < 1 ? 0 : left > LINK_POLL ? LINK_POLL : (int)left, out, &got)) != 0 &&
		    rc != NC_ETEMP && rc != NC_EUNAVAIL)
			return rc;
		if (rc == 0 && got)
			return 0;
		if (time(NULL) >= end)
			return nc_fail(NC_ETEMP, "the link code expired unused: run "
			    "nc-keygen --link again for a new one");
		if (rc != 0 || time(NULL) - t0 < (left > LINK_POLL ? LINK_POLL : left) - 1)
			sleep(1);
	}
}

int
nc_devlink_new(const char *home, const char *addr, const char *devname,
    FILE *out, unsigned *ncontact, unsigned *nhist)
{
	nc_link_code c;
	nc_link_msg m;
	uint8_t *sk = NULL, box[NC_LINK_BOX_LEN];
	char code[NC_LINK_CODE_MAX + 1], name[NC_USER_MAX + 1];
	const char *at = strchr(addr, '@');
	nc_buf sealed = NC_BUF_INIT, pt = NC_SECBUF_INIT;
	nc_relay *r = NULL;
	nc_idkey *id = NULL;
	struct import im;
	int64_t now;
	int rc;

	if (!nc_addr_valid(addr) || at == NULL)
		return nc_fail(NC_EUSAGE, "%s: not a valid user@domain", addr);
	if (devname && !nc_devname_valid(devname, strlen(devname)))
		return nc_fail(NC_EUSAGE, "--name: 1 to %d bytes of text, no control "
		    "characters", NC_DEVNAME_MAX);
	snprintf(name, sizeof name, "%.*s", (int)(at - addr), addr);
	snprintf(c.domain, sizeof c.domain, "%s", at + 1);
	if ((sk = sodium_malloc(32)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	crypto_box_keypair(c.pk, sk);
	nc_link_box(box, c.pk);
	if ((rc = nc_link_code_encode(&c, code, sizeof code)) != 0 ||
	    (rc = nc_relay_open(&r, home, c.domain)) != 0 ||
	    (rc = nc_relay_link_open(r, name, box)) != 0)
		goto done;
	fprintf(out, "%s\n", code);
	fflush(out);
	if ((rc = wait_msg(r, name, box, &sealed)) != 0 ||
	    (rc = nc_link_open(&pt, c.pk, sk, sealed.p, sealed.len)) != 0)
		goto done;
	/* made for this code, for this user, lately */
	now = (int64_t)time(NULL);
	if ((rc = nc_link_decode(&m, pt.p, pt.len, NULL, NULL, NULL)) != 0)
		goto done;
	if (sodium_memcmp(m.box, box, sizeof box) != 0 || strcmp(m.user, addr) != 0 ||
	    (int64_t)m.time < now - NC_LINK_TTL - 300 || (int64_t)m.time > now + 300) {
		rc = nc_fail(NC_ESECURITY, "link message: made for another code, "
		    "user or time (replayed?); refused");
		goto done;
	}
	if ((id = nc_idkey_decode(m.idkey, m.idkeylen)) == NULL) {
		rc = nc_fail(NC_ESECURITY, "link message: bad identity key");
		goto done;
	}
	memset(&im, 0, sizeof im);
	im.pt = pt.p;
	im.len = pt.len;
	im.addr = addr;
	if ((rc = nc_account_link(home, addr, &id, devname, import, &im)) == 0) {
		*ncontact = im.ncontact;
		*nhist = im.nhist;
	}
done:
	if (id)
		nc_idkey_free(id);
	sodium_free(sk);
	nc_relay_close(r);
	nc_buf_free(&sealed);
	nc_buf_free(&pt);
	return rc;
}
