/* attach.c - files in messages (attach.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attach.h"
#include "cli.h"
#include "err.h"
#include "event.h"
#include "home.h"
#include "media.h"
#include "mediaio.h"
#include "relayc.h"

int
nc_attach_upload(const char *const *files, size_t n, const uint8_t *text,
    size_t textlen, int progress, nc_buf *body)
{
	static nc_media_attach a[NC_MEDIA_ATTACH_MAX];
	nc_media_opts o = { 0, progress, -1, 0, NULL, 0 };
	nc_media_rec rec;
	nc_config *cfg;
	nc_state *s;
	nc_self self;
	nc_relay *r = NULL;
	size_t i;
	int rc;

	if (n < 1 || n > NC_MEDIA_ATTACH_MAX)
		return nc_fail(NC_EUSAGE, "--attach: 1 to %d files", NC_MEDIA_ATTACH_MAX);
	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	cfg = nc_media_config();
	if ((rc = nc_relay_open(&r, s->home, self.domain)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = nc_media_put(s, nc_relay_url(r), files[i], &o, &rec)) != 0) {
			nc_fail(rc, "%s: %s", files[i], nc_errmsg());
			break;
		}
		snprintf(a[i].link, sizeof a[i].link, "%s", rec.link);
		snprintf(a[i].name, sizeof a[i].name, "%s", rec.name);
		snprintf(a[i].type, sizeof a[i].type, "%s", rec.type);
		a[i].size = rec.size;
		sodium_memzero(&rec, sizeof rec);
	}
	if (rc == 0)
		rc = nc_media_attach_enc(body, a, n, text, textlen);
out:
	sodium_memzero(a, sizeof a);
	nc_relay_close(r);
	nc_config_free(cfg);
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}

/* A received message with files, as stored. */
typedef struct {
	int64_t seq;
	char peer[NC_ADDR_MAX + 1];
	nc_buf body;        /* its attachment payload, unsealed */
} pending;

static int
worse(int a, int b)
{
	if (a == NC_ESECURITY || b == NC_ESECURITY)
		return NC_ESECURITY;
	return a ? a : b;
}

/* The messages to look at, oldest first; *np of them. */
static int
collect(nc_state *s, int64_t after, pending **out, size_t *np)
{
	sqlite3_stmt *st;
	pending *v = NULL;
	size_t n = 0;
	int rc, step;

	*out = NULL;
	*np = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT m.seq, m.peer, m.id, m.body"
	    " FROM event e JOIN message m ON m.seq = e.msg WHERE e.seq > ?"
	    " AND e.type = 'message' AND m.dir = 0 AND m.files = 1"
	    " ORDER BY e.seq")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		pending *t = realloc(v, (n + 1) * sizeof *v);

		if (t == NULL) {
			rc = nc_fail(NC_EOSERR, "out of memory");
			break;
		}
		v = t;
		memset(&v[n], 0, sizeof v[n]);
		v[n].body = (nc_buf)NC_SECBUF_INIT;
		v[n].seq = sqlite3_column_int64(st, 0);
		snprintf(v[n].peer, sizeof v[n].peer, "%s", sqlite3_column_text(st, 1));
		n++;
		if ((rc = nc_state_unseal_msg(s, 0, v[n - 1].peer,
		    (const char *)sqlite3_column_text(st, 2), sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3), &v[n - 1].body)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = nc_state_dberr(s, "read");
	sqlite3_finalize(st);
	*out = v;
	*np = n;
	return rc;
}

int
nc_attach_save(nc_state *s, const char *dir, int64_t after, int progress)
{
	static nc_media_attach a[NC_MEDIA_ATTACH_MAX];
	char saved[4200], k[64];
	nc_media_opts o = { 0, progress, -1, 1, saved, sizeof saved };
	nc_media_meta m;
	nc_buf have = NC_BUF_INIT;
	pending *v;
	size_t n, na, tn;
	const uint8_t *t;
	int rc, worst = 0, failed = 0;

	if ((rc = collect(s, after, &v, &n)) != 0)
		worst = rc;
	for (size_t j = 0; j < n && rc == 0; j++) {
		if (nc_media_attach_dec(a, &na, &t, &tn, v[j].body.p, v[j].body.len) != 0)
			continue;   /* checked when stored */
		for (size_t i = 0; i < na; i++) {
			snprintf(k, sizeof k, NC_SAVED_KEY "%lld/%zu",
			    (long long)v[j].seq, i);
			nc_buf_reset(&have);
			if (nc_state_get_secret(s, k, &have) == 0)
				continue;   /* saved by an earlier run */
			if ((rc = nc_media_get(a[i].link, dir, &o, &m)) == 0)
				rc = nc_state_put_secret(s, k, saved, strlen(saved));
			if (rc != 0) {
				nc_fail(rc, "%s from %s: not saved: %s", a[i].name,
				    v[j].peer, nc_errmsg());
				nc_cli_error(rc);
				worst = worse(worst, rc);
				failed++;
				rc = 0;
			}
		}
	}
	for (size_t j = 0; j < n; j++)
		nc_buf_free(&v[j].body);
	free(v);
	sodium_memzero(a, sizeof a);
	nc_buf_free(&have);
	if (failed > 0)
		nc_fail(worst, "%d attachment%s not saved (named above); the "
		    "message%s how to fetch %s", failed, failed == 1 ? "" : "s",
		    failed == 1 ? " says" : "s say", failed == 1 ? "it" : "them");
	return worst;
}
