/* send.c - nc-send's work: check, queue, deliver, report per recipient. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "fsutil.h"
#include "hex.h"
#include "inbox.h"
#include "json.h"
#include "relayc.h"
#include "send.h"
#include "session.h"

/* What became of the message for one recipient. */
typedef struct {
	const char *to;
	const char *state;   /* accepted delivered queued held failed armored
	                        rejected (nothing stored) */
	int code;            /* its exit status */
	char why[600];
} result;

/* Worse outcomes win: a security failure over any other error, over a
 * permanent one (no such domain, no such user), over an unreachable
 * relay, over a queued message, over success. */
static int
rank(int c)
{
	switch (c) {
	case 0: return 0;
	case NC_ETEMP: return 1;
	case NC_EUNAVAIL: return 2;
	case NC_ENOUSER: return 3;
	case NC_ENOHOST: return 4;
	case NC_ESECURITY: return 6;
	default: return 5;
	}
}

static int
worse(int a, int b)
{
	return rank(b) > rank(a) ? b : a;
}

static void
set(result *r, const char *state, int code, const char *why)
{
	r->state = state;
	r->code = code;
	snprintf(r->why, sizeof r->why, "%s", why ? why : "");
}

/* Whether the message exists for r: printed ids name only those. */
static int
stored(const result *r)
{
	return strcmp(r->state, "rejected") != 0 &&
	    strcmp(r->state, "failed") != 0;
}

/* One line on stderr for a recipient that did not get the message (the
 * reason names the recipient once), control characters shown as '?'. */
static void
report(const result *r)
{
	char line[800];
	const char *m = r->why[0] ? r->why : "failed";

	if (strcmp(r->state, "queued") == 0 && r->code == NC_ETEMP)
		snprintf(line, sizeof line, "%s: queued: %s; nc-send --flush "
		    "retries, nc-send --queue shows it", r->to, r->why[0] ? r->why :
		    "not tried yet");
	else if (strstr(m, r->to) == m)
		snprintf(line, sizeof line, "%s", m);
	else
		snprintf(line, sizeof line, "%s: %s", r->to, m);
	/* Refused for another reason than a passing one: it still waits. */
	if (strcmp(r->state, "queued") == 0 && r->code != NC_ETEMP)
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    "; it waits in the outbox (nc-send --queue, --cancel ID)");
	nc_fail(r->code, "%s", line);
	nc_cli_error(r->code);
}

static int
print_json(const char *msgid, const result *r)
{
	nc_buf o = NC_BUF_INIT;
	char code[16];
	int rc;

	snprintf(code, sizeof code, "%d", r->code);
	rc = nc_json_kv(&o, "to", r->to) ||
	    (stored(r) || strcmp(r->state, "failed") == 0 ?
	    nc_json_kv(&o, "id", msgid) : 0) ||
	    nc_json_kv(&o, "state", r->state) ||
	    nc_buf_printf(&o, ",\"exit\":%s", code) ||
	    (r->why[0] ? nc_json_kv(&o, "reason", r->why) : 0) ||
	    nc_buf_addstr(&o, "}\n") ? NC_EOSERR : 0;
	if (rc == 0 && fwrite(o.p, 1, o.len, stdout) != o.len)
		rc = NC_EIO;
	nc_buf_free(&o);
	return rc;
}

/* Encrypt the message to rcpt's devices and append the armored envelopes
 * to out (nothing is queued: the row says "armored"). */
static int
armored(nc_state *s, nc_self *self, const char *rcpt, const char *msgid,
    const uint8_t *body, size_t len, int files, nc_buf *out)
{
	nc_devlist l;
	nc_payload pl;
	int rc;

	memset(&pl, 0, sizeof pl);
	pl.type = files ? NC_PL_FILES : NC_PL_TEXT;
	pl.time = (uint64_t)time(NULL);
	pl.body = body;
	pl.bodylen = len;
	if ((rc = nc_hex_decode(pl.id, 16, msgid, 32)) != 0 ||
	    (rc = nc_dir_get(s, rcpt, 0, &l)) != 0 ||
	    (strcmp(rcpt, self->addr) != 0 && (rc = nc_dir_sendable(s, rcpt)) != 0) ||
	    (rc = nc_outbox_add_files(s, msgid, rcpt, body, len, -1, files)) != 0)
		return rc;
	return nc_session_encrypt(s, self, &l, msgid, &pl, 0, out);
}

/* Typos fail fast: a recipient whose domain does not resolve or serves
 * no relay gets NC_ENOHOST and nothing is queued for it, unless it is a
 * contact already (its relay was there: a failed lookup is taken as
 * temporary). A domain named in the config costs no request; one asked
 * at its well-known URL is asked once (relayc.c keeps the answer for the
 * delivery). 0 for anything else, the delivery then tells. */
static int
discover(nc_state *s, const char *rcpt, char *why, size_t max)
{
	nc_relay *r = NULL;
	nc_devlist l;
	int rc, changed, verified;

	if ((rc = nc_relay_open(&r, s->home, strchr(rcpt, '@') + 1)) == 0) {
		nc_relay_close(r);
		return 0;
	}
	if (rc != NC_ENOHOST && rc != NC_ECONFIG)
		return 0;
	snprintf(why, max, "%s", nc_errmsg());
	if (rc == NC_ENOHOST && nc_dir_show(s, rcpt, &l, &changed, NULL,
	    &verified) == 0)
		return 0;
	return rc;
}

/* Wait for every accepted recipient's receipt (polling our own
 * mailbox); those still without one get 75. */
static void
wait_receipts(nc_state *s, nc_self *self, result *res, int n,
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
			if (strcmp(res[i].state, "accepted") != 0)
				continue;
			nc_outbox_status(s, msgid, res[i].to, st);
			if (strcmp(st, "delivered") == 0)
				res[i].state = "delivered";
			else
				left++;
		}
		if (left == 0)
			return;
		if (time(NULL) >= end)
			break;
		rc = nc_inbox_fetch(s, self, (int)(end - time(NULL) > 30 ? 30 :
		    end - time(NULL)), &cursor, &more, &rx);
		if (rc != 0 && rc != NC_ESECURITY) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
		}
	}
	for (i = 0; i < n; i++)
		if (strcmp(res[i].state, "accepted") == 0) {
			char why[64];

			snprintf(why, sizeof why, "no delivery receipt within %ld s",
			    secs);
			set(&res[i], "accepted", NC_ETEMP, why);
		}
}

/* After the delivery: what became of rcpt, from the outbox. */
static void
outcome(nc_state *s, const char *msgid, result *r, int fatal,
    const char *fatalwhy)
{
	char st[16], why[600];
	int code;

	nc_outbox_status(s, msgid, r->to, st);
	if (strcmp(st, "accepted") == 0 || strcmp(st, "delivered") == 0) {
		set(r, st[0] == 'a' ? "accepted" : "delivered", 0, NULL);
		return;
	}
	if (strcmp(st, "failed") == 0) {
		set(r, "failed", NC_ENOUSER, "no such user");
		return;
	}
	code = nc_outbox_error(s, msgid, r->to, why, sizeof why);
	if (code == 0 && fatal != 0)
		set(r, "queued", NC_ETEMP, fatalwhy);
	else if (code == NC_ESECURITY)
		set(r, "held", code, why);
	else if (code == 0 || code == NC_EUNAVAIL || code == NC_ENOHOST ||
	    code == NC_ETEMP)
		set(r, "queued", NC_ETEMP, why);
	else
		set(r, "queued", code, why);
}

/* Write the armored envelopes: to stdout, or to a file made atomically
 * and for this user alone. */
static int
write_armor(const char *out, const nc_buf *b)
{
	if (strcmp(out, "-") != 0)
		return nc_write_atomic(out, b->p, b->len, 0600);
	if (fwrite(b->p, 1, b->len, stdout) != b->len || fflush(stdout) != 0)
		return nc_fail(NC_EIO, "standard output: write error");
	return 0;
}

int
nc_send(const nc_send_opts *o, const char **rcpt, int n, const uint8_t *body,
    size_t len)
{
	nc_state *s;
	nc_self self;
	nc_flush f;
	nc_buf armor = NC_BUF_INIT;
	result *res;
	uint8_t id[16];
	char msgid[33], fatalwhy[600] = "", why[600];
	int rc, i, j, worst = 0, fatal = 0, added = 0, any = 0;

	if ((rc = nc_cli_open(&s, &self)) != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	/* A revoked device sends nothing more (its mail is gone, contacts
	 * drop it): our own list as the relay has it now; offline, as last
	 * seen (the message is queued as usual). -o writes a file: no
	 * network for that. */
	if ((rc = nc_self_revoked(s, &self, !o->out)) != 0) {
		nc_cli_error(rc);
		nc_self_free(&self);
		nc_state_close(s);
		return -rc;
	}
	if ((res = calloc((size_t)n, sizeof *res)) == NULL) {
		nc_self_free(&self);
		nc_state_close(s);
		nc_cli_error(nc_fail(NC_EOSERR, "out of memory"));
		return -NC_EOSERR;
	}
	randombytes_buf(id, sizeof id);
	nc_hex_encode(msgid, id, sizeof id);
	for (i = 0; i < n; i++) {
		res[i].to = rcpt[i];
		set(&res[i], "queued", 0, NULL);
		if (o->out) {
			if ((rc = armored(s, &self, rcpt[i], msgid, body, len,
			    o->files, &armor)) != 0)
				set(&res[i], "rejected", rc, nc_errmsg());
			else
				set(&res[i], "armored", 0, NULL);
			continue;
		}
		/* A domain judged once for all its recipients. */
		for (j = 0; j < i; j++)
			if (strcmp(strchr(rcpt[j], '@'), strchr(rcpt[i], '@')) == 0)
				break;
		if (j < i && strcmp(res[j].state, "rejected") == 0 &&
		    (res[j].code == NC_ENOHOST || res[j].code == NC_ECONFIG))
			rc = nc_fail(res[j].code, "%s", res[j].why);
		else if (j < i)
			rc = 0;
		else if ((rc = discover(s, rcpt[i], why, sizeof why)) != 0)
			rc = nc_fail(rc, "%s", why);
		if (rc == 0 && (rc = nc_outbox_add_files(s, msgid, rcpt[i], body,
		    len, o->ttl, o->files)) == 0)
			added++;
		if (rc != 0)
			set(&res[i], "rejected", rc, nc_errmsg());
	}
	if (o->out) {
		for (i = 0; i < n; i++)
			any |= strcmp(res[i].state, "armored") == 0;
		if (any && (rc = write_armor(o->out, &armor)) != 0)
			for (i = 0; i < n; i++)
				if (strcmp(res[i].state, "armored") == 0)
					set(&res[i], "rejected", rc, nc_errmsg());
		goto report;
	}
	if (added == 0)
		goto report;
	/* "Sent" copies for our other devices (protocol.md 2.5), when we
	 * know of any: a device added since then says hello, or shows up at
	 * the hourly check. Not a recipient: its fate is not the exit's. */
	if (self.list.n > 1 &&
	    (rc = nc_outbox_copy(s, msgid, self.addr, o->ttl)) != 0) {
		fatal = rc;
		snprintf(fatalwhy, sizeof fatalwhy, "%s", nc_errmsg());
	}
	if (fatal == 0 && (rc = nc_outbox_flush(s, &self, msgid, 1, &f)) != 0) {
		fatal = rc;
		snprintf(fatalwhy, sizeof fatalwhy, "%s", nc_errmsg());
	}
	for (i = 0; i < n; i++)
		if (strcmp(res[i].state, "rejected") != 0)
			outcome(s, msgid, &res[i], fatal, fatalwhy);
	if (nc_verbose > 0 && self.list.n > 1 && fatal == 0)
		nc_cli_info("copy for your other devices: %s", nc_outbox_error(s,
		    msgid, self.addr, why, sizeof why) ? why : "accepted");
	for (worst = 0, i = 0; i < n; i++)
		worst = worse(worst, res[i].code);
	if (worst == 0 && fatal == 0 && o->wait > 0)
		wait_receipts(s, &self, res, n, msgid, o->wait);
report:
	for (worst = 0, any = 0, i = 0; i < n; i++) {
		worst = worse(worst, res[i].code);
		any |= stored(&res[i]);
		if (res[i].code != 0 && (nc_verbose >= 0 || res[i].code != NC_ETEMP))
			report(&res[i]);
		else if (res[i].code == 0 && nc_verbose > 0)
			nc_cli_info("%s: %s", res[i].to, res[i].state);
	}
	if (fatal != 0) {
		nc_cli_error(nc_fail(fatal, "%s", fatalwhy));
		worst = worse(worst, fatal);
	}
	/* The id whenever the message exists for anyone: a script that
	 * resends on failure must not send it twice (with -o -, standard
	 * output is the envelopes). */
	for (i = 0; nc_verbose >= 0 && o->json && i < n; i++)
		if (print_json(msgid, &res[i]) != 0)
			break;
	if (nc_verbose >= 0 && !o->json && any &&
	    (o->out == NULL || strcmp(o->out, "-") != 0))
		printf("%s\n", msgid);
	nc_buf_free(&armor);
	free(res);
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
	if (nc_verbose > 0)
		nc_cli_info("outbox: %d still queued, %d held, %d failed",
		    f.queued, f.held, f.failed);
	if (f.held > 0) {
		fprintf(stderr, "nc-send: messages held: a contact's identity key "
		    "changed (nc-keys show, then nc-keys trust USER)\n");
		return -NC_ESECURITY;
	}
	if (f.err) {
		fprintf(stderr, "nc-send: messages still queued after an error "
		    "(nc-send --queue shows why)\n");
		return -f.err;
	}
	if (f.queued > 0) {
		if (nc_verbose >= 0)
			fprintf(stderr, "nc-send: %d message(s) still queued "
			    "(nc-send --queue shows why)\n", f.queued);
		return -NC_ETEMP;
	}
	return 0;
}

/* "42s", "5m", "3h", "2d" */
static void
age(char *out, size_t max, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, max, "%llds", (long long)secs);
	else if (secs < 2 * 3600)
		snprintf(out, max, "%lldm", (long long)secs / 60);
	else if (secs < 2 * 86400)
		snprintf(out, max, "%lldh", (long long)secs / 3600);
	else
		snprintf(out, max, "%lldd", (long long)secs / 86400);
}

struct listing {
	int json;
	int64_t now;
	nc_buf o;
};

static int
list_one(const nc_outbox_item *it, void *arg)
{
	struct listing *L = arg;
	char a[32], since[32], until[32];
	const char *state = it->errcode == NC_ESECURITY ? "held" : "queued";
	int rc;

	nc_buf_reset(&L->o);
	if (L->json) {
		nc_time_iso(since, it->created);
		nc_time_iso(until, it->expires);
		rc = nc_json_kv(&L->o, "id", it->id) ||
		    nc_json_kv(&L->o, "to", it->peer) ||
		    nc_json_kv(&L->o, "state", state) ||
		    nc_buf_printf(&L->o, ",\"age\":%lld,\"tries\":%d",
		    (long long)(L->now - it->created), it->tries) ||
		    nc_json_kv(&L->o, "since", since) ||
		    nc_json_kv(&L->o, "expires", until) ||
		    nc_json_kv(&L->o, "error", it->error) ||
		    nc_buf_addstr(&L->o, "}\n");
	} else {
		age(a, sizeof a, L->now - it->created);
		rc = nc_buf_printf(&L->o, "%s %s %s %s %s\n", it->id, it->peer, a,
		    state, it->error[0] ? it->error : "(not tried yet)");
		/* a relay's reason is printable ASCII already; one line each */
		for (size_t i = 0; rc == 0 && i + 1 < L->o.len; i++)
			if (L->o.p[i] < 0x20 || L->o.p[i] == 0x7f)
				L->o.p[i] = '?';
	}
	if (rc != 0)
		return nc_fail(NC_EOSERR, "out of memory");
	if (fwrite(L->o.p, 1, L->o.len, stdout) != L->o.len)
		return nc_fail(NC_EIO, "standard output: write error");
	return 0;
}

int
nc_send_queue(const nc_send_opts *o)
{
	struct listing L = { o->json, (int64_t)time(NULL), NC_BUF_INIT };
	nc_state *s;
	int rc;

	if ((rc = nc_cli_open(&s, NULL)) == 0) {
		rc = nc_outbox_list(s, list_one, &L);
		nc_state_close(s);
	}
	nc_buf_free(&L.o);
	if (rc != 0)
		nc_cli_error(rc);
	return -rc;
}

int
nc_send_cancel(const nc_send_opts *o, const char *id)
{
	nc_state *s;
	int rc, n = 0;

	(void)o;
	if ((rc = nc_cli_open(&s, NULL)) != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	rc = nc_outbox_cancel(s, id, &n);
	nc_state_close(s);
	if (rc == 0 && n == 0)
		rc = nc_fail(NC_EDATA, "%s: nothing waits under this id (accepted "
		    "already, or never queued: nc-send --queue lists what waits)",
		    id);
	if (rc != 0) {
		nc_cli_error(rc);
		return -rc;
	}
	if (nc_verbose > 0)
		nc_cli_info("%s: dropped for %d recipient(s)", id, n);
	return 0;
}
