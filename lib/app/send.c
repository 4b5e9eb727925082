/* send.c - nc-send's work: queue, deliver, report per recipient. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "hex.h"
#include "inbox.h"
#include "send.h"
#include "session.h"

/* Worse outcomes win: a security refusal over a missing user over a
 * queued message. */
static int
worse(int a, int b)
{
	static const int rank[] = { 0, NC_ETEMP, NC_EUNAVAIL, NC_ENOUSER, 1 };
	int ra = 0, rb = 0, i;

	for (i = 0; i < 5; i++) {
		if (rank[i] == a)
			ra = i;
		if (rank[i] == b)
			rb = i;
	}
	if (ra == 0 && a != 0)
		ra = 5;   /* anything else: an error worth most */
	if (rb == 0 && b != 0)
		rb = 5;
	return rb > ra ? b : a;
}

/* The last error, naming the recipient once. */
static void
report(const char *rcpt)
{
	const char *m = nc_errmsg();

	if (strstr(m, rcpt) != NULL)
		fprintf(stderr, "nc-send: %s\n", m);
	else
		fprintf(stderr, "nc-send: %s: %s\n", rcpt, m);
}

static int
armored(nc_state *s, nc_self *self, const char *rcpt, const char *msgid,
    const uint8_t *body, size_t len)
{
	nc_devlist l;
	nc_payload pl;
	nc_buf out = NC_BUF_INIT;
	int rc;

	memset(&pl, 0, sizeof pl);
	pl.type = NC_PL_TEXT;
	pl.time = (uint64_t)time(NULL);
	pl.body = body;
	pl.bodylen = len;
	if ((rc = nc_hex_decode(pl.id, 16, msgid, 32)) != 0 ||
	    (rc = nc_dir_get(s, rcpt, 0, &l)) != 0 ||
	    (rc = nc_outbox_add(s, msgid, rcpt, body, len, -1)) != 0 ||
	    (rc = nc_session_encrypt(s, self, &l, msgid, &pl, 0, &out)) != 0)
		goto done;
	if (fwrite(out.p, 1, out.len, stdout) != out.len)
		rc = nc_fail(NC_EIO, "standard output: write error");
done:
	nc_buf_free(&out);
	return rc;
}

/* Wait for every recipient's receipt (polling our own mailbox). */
static int
wait_receipts(nc_state *s, nc_self *self, const char **rcpt, int n,
    const char *msgid, long secs)
{
	time_t end = time(NULL) + secs;
	uint64_t cursor = 0;
	char st[16];
	nc_rx rx;
	int more, i, left, rc;

	memset(&rx, 0, sizeof rx);
	for (;;) {
		for (left = 0, i = 0; i < n; i++) {
			nc_outbox_status(s, msgid, rcpt[i], st);
			left += strcmp(st, "delivered") != 0;
		}
		if (left == 0)
			return 0;
		if (time(NULL) >= end)
			return nc_fail(NC_ETEMP, "no delivery receipt within %ld s", secs);
		rc = nc_inbox_fetch(s, self, (int)(end - time(NULL) > 30 ? 30 :
		    end - time(NULL)), &cursor, &more, &rx);
		if (rc != 0 && rc != NC_ESECURITY) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
		}
	}
}

int
nc_send(const nc_send_opts *o, const char **rcpt, int n, const uint8_t *body,
    size_t len)
{
	nc_state *s;
	nc_self self;
	nc_flush f;
	uint8_t id[16];
	char msgid[33], st[16];
	int rc, i, worst = 0, r;

	if ((rc = nc_cli_open(&s, &self)) != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	randombytes_buf(id, sizeof id);
	nc_hex_encode(msgid, id, sizeof id);
	for (i = 0; i < n; i++) {
		if (o->armor)
			r = armored(s, &self, rcpt[i], msgid, body, len);
		else
			r = nc_outbox_add(s, msgid, rcpt[i], body, len, o->ttl);
		if (r != 0) {
			nc_cli_error(r);
			worst = worse(worst, r);
		}
	}
	if (o->armor || worst != 0)
		goto done;
	/* "Sent" copies for our other devices (protocol.md 2.5), when we
	 * know of any: a device added since then says hello, or shows up at
	 * the hourly check. */
	if (self.list.n > 1 &&
	    (rc = nc_outbox_copy(s, msgid, self.addr, o->ttl)) != 0) {
		nc_cli_error(rc);
		worst = rc;
		goto done;
	}
	if ((rc = nc_outbox_flush(s, &self, msgid, 1, &f)) != 0) {
		nc_cli_error(rc);
		worst = rc;
		goto done;
	}
	for (i = 0; i < n; i++) {
		nc_outbox_status(s, msgid, rcpt[i], st);
		if (strcmp(st, "accepted") == 0 || strcmp(st, "delivered") == 0)
			continue;
		if (strcmp(st, "failed") == 0) {
			fprintf(stderr, "nc-send: %s: no such user\n", rcpt[i]);
			r = NC_ENOUSER;
		} else if (f.held > 0 || f.security > 0) {
			report(rcpt[i]);
			r = NC_ESECURITY;
		} else if (f.err) {
			report(rcpt[i]);
			r = f.err;
		} else {
			fprintf(stderr, "nc-send: %s: relay unreachable; queued "
			    "(nc-send --flush retries)\n", rcpt[i]);
			r = NC_ETEMP;
		}
		worst = worse(worst, r);
	}
	if (worst == 0 && o->wait > 0 &&
	    (rc = wait_receipts(s, &self, rcpt, n, msgid, o->wait)) != 0) {
		nc_cli_error(rc);
		worst = rc;
	}
done:
	if ((worst == 0 || worst == NC_ETEMP) && !o->armor)
		printf("%s\n", msgid);
	nc_self_free(&self);
	nc_state_close(s);
	return -worst;
}

int
nc_send_flush(const nc_send_opts *o)
{
	nc_state *s;
	nc_self self;
	nc_flush f;
	int rc;

	(void)o;
	if ((rc = nc_cli_open(&s, &self)) != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	rc = nc_outbox_flush(s, &self, NULL, 1, &f);
	nc_self_free(&self);
	nc_state_close(s);
	if (rc != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	if (f.held > 0) {
		fprintf(stderr, "nc-send: messages held: a contact's identity key "
		    "changed (nc-keys trust USER)\n");
		return -NC_ESECURITY;
	}
	if (f.queued > 0) {
		fprintf(stderr, "nc-send: %d message(s) still queued: relay "
		    "unreachable\n", f.queued);
		return -NC_ETEMP;
	}
	if (f.err)
		return f.err;
	return 0;
}
