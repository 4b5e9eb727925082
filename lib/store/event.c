/* event.c - recording and printing events, and the stored history. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "devinfo.h"
#include "event.h"
#include "devlist.h"
#include "hex.h"
#include "groupapp.h"
#include "json.h"
#include "media.h"
#include "wire.h"

void
nc_time_iso(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32,
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(out, "1970-01-01T00:00:00Z");
}

void
nc_time_local(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(out, 32,
	    "%Y-%m-%d %H:%M", &tm) == 0)
		strcpy(out, "1970-01-01 00:00");
}

int
nc_event_add_st(nc_state *s, sqlite3_stmt **st, const char *type, const char *id,
    const char *peer, const char *dev, const char *reason, int64_t msg)
{
	int rc;

	if (*st == NULL && (rc = nc_state_prep(s, st, "INSERT INTO event(type, id,"
	    " peer, dev, time, reason, msg) VALUES (?, ?, ?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(*st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, id ? id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 3, peer ? peer : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 4, dev ? dev : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(*st, 6, reason ? reason : "", -1, SQLITE_STATIC);
	if (msg > 0)
		sqlite3_bind_int64(*st, 7, msg);
	else
		sqlite3_bind_null(*st, 7);
	return nc_state_run(s, *st);
}

int
nc_event_add(nc_state *s, const char *type, const char *id, const char *peer,
    const char *dev, const char *reason, int64_t msg)
{
	sqlite3_stmt *st = NULL;
	int rc = nc_event_add_st(s, &st, type, id, peer, dev, reason, msg);

	sqlite3_finalize(st);
	return rc;
}

/* Text for a terminal: control characters other than tab become '?', each
 * line of the body gets the sender's prefix. */
static int
text_lines(nc_buf *o, const char *prefix, const uint8_t *p, size_t n)
{
	size_t i;
	int rc = 0, start = 1;

	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n == 0)
		return nc_buf_printf(o, "%s\n", prefix);
	for (i = 0; i < n && rc == 0; i++) {
		if (start && (rc = nc_buf_addstr(o, prefix)) != 0)
			break;
		start = p[i] == '\n';
		if (p[i] == '\n' || p[i] == '\t' || p[i] >= 0x20)
			rc = nc_buf_add(o, p[i] == 0x7f ? (const uint8_t *)"?" : p + i, 1);
		else
			rc = nc_buf_add(o, "?", 1);
	}
	return rc ? rc : nc_buf_add(o, "\n", 1);
}

/* Every JSON event ends with its local sequence number. */
static int
end_seq(nc_buf *o, int64_t seq)
{
	return nc_buf_printf(o, ",\"seq\":%lld}\n", (long long)seq);
}

#define MSG_COLS "m.id, m.dir, m.peer, m.dev, m.time, m.body, m.status, " \
	"m.files, m.seq"

/* Where nc-recv --save put attachment i of message seq ("" if nowhere). */
static void
saved_path(nc_state *s, int64_t seq, size_t i, char *out, size_t max)
{
	nc_buf b = NC_BUF_INIT;
	char k[64];

	out[0] = '\0';
	snprintf(k, sizeof k, NC_SAVED_KEY "%lld/%zu", (long long)seq, i);
	if (nc_state_get_secret(s, k, &b) == 0 && b.len < max &&
	    nc_utf8_valid(b.p, b.len)) {
		memcpy(out, b.p, b.len);
		out[b.len] = '\0';
	} else
		nc_clearerr();   /* not saved: no error */
	nc_buf_free(&b);
}

/* The attachments of message seq: a JSON array (after the body), or a
 * line each with the prefix: where it was saved, or how to fetch it. */
static int
fmt_files(nc_state *s, int64_t seq, const nc_media_attach *a, size_t n,
    int json, const char *prefix, nc_buf *o)
{
	char saved[4200], hash[65];
	nc_media_link l;
	int rc = 0;

	if (json && (rc = nc_buf_addstr(o, ",\"attachments\":[")) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		saved_path(s, seq, i, saved, sizeof saved);
		if (nc_media_link_parse(&l, a[i].link) != 0)
			return nc_fail(NC_ESOFTWARE, "state: a stored link does not parse");
		nc_hex_encode(hash, l.hash, 32);
		sodium_memzero(&l, sizeof l);
		if (!json) {
			rc = nc_buf_printf(o, "%s[file] %s (%llu bytes%s%s)", prefix,
			    a[i].name, (unsigned long long)a[i].size,
			    *a[i].type ? ", " : "", a[i].type);
			if (rc == 0)
				rc = *saved ? nc_buf_printf(o, " saved to %s\n", saved) :
				    nc_buf_printf(o, ": nc-media get '%s'\n", a[i].link);
			continue;
		}
		rc = nc_buf_addstr(o, i ? ",{\"name\":" : "{\"name\":") ||
		    nc_json_str(o, a[i].name, strlen(a[i].name)) ||
		    nc_buf_printf(o, ",\"size\":%llu", (unsigned long long)a[i].size) ||
		    nc_json_kv(o, "type", a[i].type) || nc_json_kv(o, "hash", hash) ||
		    nc_json_kv(o, "link", a[i].link) ||
		    (*saved && nc_json_kv(o, "saved", saved)) ||
		    nc_buf_addstr(o, "}") ? NC_EOSERR : 0;
	}
	if (rc == 0 && json)
		rc = nc_buf_addstr(o, "]");
	return rc;
}

/* A group's name as a line may show it (control characters as '?'). */
static const char *
group_name(nc_state *s, const char *gid, char name[128])
{
	nc_group_name(s, gid, name, 128);
	for (char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return name;
}

/* One message row (the columns MSG_COLS of st) as a line, event seq; dir
 * 1 rows say "to" instead of "from". */
static int
fmt_row(nc_state *s, sqlite3_stmt *st, int64_t seq, int json, int history,
    const char *group, nc_buf *o)
{
	static _Thread_local nc_media_attach att[NC_MEDIA_ATTACH_MAX];
	nc_buf body = NC_SECBUF_INIT, pre = NC_BUF_INIT;
	char when[32], self[NC_ADDR_MAX + 1] = "", gname[128];
	const char *id, *peer, *dev, *status;
	const uint8_t *text;
	size_t natt = 0, textlen;
	int dir, rc, files = sqlite3_column_int(st, 7);
	int64_t mseq = sqlite3_column_int64(st, 8);

	id = (const char *)sqlite3_column_text(st, 0);
	dir = sqlite3_column_int(st, 1);
	peer = (const char *)sqlite3_column_text(st, 2);
	dev = (const char *)sqlite3_column_text(st, 3);
	if (json)
		nc_time_iso(when, sqlite3_column_int64(st, 4));
	else
		nc_time_local(when, sqlite3_column_int64(st, 4));
	status = (const char *)sqlite3_column_text(st, 6);
	if ((rc = nc_state_unseal_msg(s, dir, peer, id, sqlite3_column_blob(st, 5),
	    (size_t)sqlite3_column_bytes(st, 5), &body)) != 0)
		goto done;
	text = body.p;
	textlen = body.len;
	if (files && (rc = nc_media_attach_dec(att, &natt, &text, &textlen,
	    body.p, body.len)) != 0)
		goto done;
	/* An event about a message going out is a copy one of our other
	 * devices sent: from us, to peer. */
	if (dir && !history &&
	    (rc = nc_state_get_str(s, "addr", self, sizeof self)) != 0)
		goto done;
	if (json) {
		if ((rc = nc_json_kv(o, "type", "message")) != 0 ||
		    (rc = nc_json_kv(o, "id", id)) != 0 ||
		    (dir && !history && (rc = nc_json_kv(o, "from", self)) != 0) ||
		    (rc = nc_json_kv(o, dir && !*group ? "to" : "from", peer)) != 0 ||
		    (rc = nc_json_kv(o, "device", dev)) != 0 ||
		    (*group && (rc = nc_json_kv(o, "group", group)) != 0) ||
		    (rc = nc_json_kv(o, "time", when)) != 0 ||
		    (rc = nc_buf_addstr(o, ",\"body\":")) != 0 ||
		    (rc = nc_json_str(o, (const char *)text, textlen)) != 0 ||
		    (natt && (rc = fmt_files(s, mseq, att, natt, 1, "", o)) != 0))
			goto done;
		if (history && ((rc = nc_json_kv(o, "dir", dir ? "out" : "in")) != 0 ||
		    (rc = nc_json_kv(o, "status", status)) != 0))
			goto done;
		if (dir && !history && (rc = nc_buf_addstr(o, ",\"sent\":true")) != 0)
			goto done;
		rc = end_seq(o, seq);
	} else {
		/* A message not (yet) handed to the relay must not read
		 * like a sent one. */
		int pending = strcmp(status, "queued") == 0 ||
		    strcmp(status, "failed") == 0;

		/* our own group message: to the group, not to a peer */
		if (history && dir && *group)
			rc = pending ? nc_buf_printf(&pre, "%s > [%s] [%s]: ", when,
			    status, group_name(s, group, gname)) :
			    nc_buf_printf(&pre, "%s > [%s]: ", when,
			    group_name(s, group, gname));
		else if (history && dir && pending)
			rc = nc_buf_printf(&pre, "%s > [%s] %s: ", when, status,
			    peer);
		else if (history && *group)
			rc = nc_buf_printf(&pre, "%s [%s] %s: ", when,
			    group_name(s, group, gname), peer);
		else if (history)
			rc = nc_buf_printf(&pre, "%s %s%s: ", when, dir ? "> " : "",
			    peer);
		else if (dir)
			rc = nc_buf_printf(&pre, "%s > %s: ", self, peer);
		else if (*group)
			rc = nc_buf_printf(&pre, "[%s] %s: ",
			    group_name(s, group, gname), peer);
		else
			rc = nc_buf_printf(&pre, "%s: ", peer);
		if (rc == 0 && (rc = nc_buf_nul(&pre)) == 0 && (textlen > 0 ||
		    natt == 0))
			rc = text_lines(o, (const char *)pre.p, text, textlen);
		if (rc == 0 && natt)
			rc = fmt_files(s, mseq, att, natt, 0, (const char *)pre.p, o);
	}
done:
	nc_buf_free(&body);
	nc_buf_free(&pre);
	return rc;
}

/* A device came to or left our own list. */
static int
fmt_device(nc_state *s, nc_buf *o, int json, int64_t seq, const char *user,
    const char *dev, const char *status)
{
	char name[NC_DEVNAME_MAX + 1];

	nc_devinfo_name(s, dev, name);
	if (!json)
		return nc_buf_printf(o, "device %s %s: %s%s%s%s\n", dev, status,
		    user, *name ? " (" : "", name, *name ? ")" : "");
	if (nc_json_kv(o, "type", "device") || nc_json_kv(o, "user", user) ||
	    nc_json_kv(o, "device", dev) || nc_json_kv(o, "status", status) ||
	    nc_json_kv(o, "name", name))
		return NC_EOSERR;
	return end_seq(o, seq);
}

static int
fmt_message(nc_state *s, int64_t msg, int64_t seq, int json,
    const char *group, nc_buf *o)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "SELECT " MSG_COLS " FROM message m"
	    " WHERE m.seq = ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, msg);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = nc_fail(NC_ESOFTWARE, "state: message %lld missing",
		    (long long)msg);
	else
		rc = fmt_row(s, st, seq, json, 0, group, o);
	sqlite3_finalize(st);
	return rc;
}

#define EV_COLS "seq, type, id, peer, dev, reason, msg, n"

/* One event (the columns EV_COLS of ev) as a line, or nothing: a message
 * this device sent itself, a receipt in quiet text. */
static int
fmt_event(nc_state *s, sqlite3_stmt *ev, const nc_view *v, nc_buf *o)
{
	int64_t seq = sqlite3_column_int64(ev, 0);
	const char *type = (const char *)sqlite3_column_text(ev, 1);
	const char *id = (const char *)sqlite3_column_text(ev, 2);
	const char *peer = (const char *)sqlite3_column_text(ev, 3);
	const char *dev = (const char *)sqlite3_column_text(ev, 4);
	const char *reason = (const char *)sqlite3_column_text(ev, 5);
	int64_t n = sqlite3_column_int64(ev, 7);
	int json = v->json, rc;

	if (strcmp(type, "sent") == 0)
		return 0;   /* in the history only */
	if (strcmp(type, "message") == 0)
		return fmt_message(s, sqlite3_column_int64(ev, 6), seq, json,
		    reason, o);
	if (strcmp(type, "group") == 0) {
		if ((rc = nc_group_fmt_event(s, o, json, id, peer, reason)) != 0)
			return rc;
		return json ? end_seq(o, seq) : 0;
	}
	if (strcmp(type, "device") == 0)
		return fmt_device(s, o, json, seq, peer, id, reason);
	if (strcmp(type, "held") == 0 && !json)
		return nc_buf_printf(o, "held %s: a message from a sender not looked"
		    " up yet (nc-recv --release %s reads it)\n", peer, peer);
	if (strcmp(type, "held") == 0)
		return nc_json_kv(o, "type", "held") || nc_json_kv(o, "from", peer) ||
		    nc_json_kv(o, "device", dev) || nc_json_kv(o, "envelope", id) ||
		    nc_json_kv(o, "status", "unverified") ? NC_EOSERR :
		    end_seq(o, seq);
	if (!json) {
		if (strcmp(type, "receipt") == 0)
			return v->verbose <= 0 ? 0 :
			    nc_buf_printf(o, "receipt %s from %s: delivered\n", id, peer);
		if (strcmp(type, "failure") == 0)
			return nc_buf_printf(o, "failure %s to %s: %s\n", id, peer, reason);
		if (strcmp(type, "missing") == 0)
			return nc_buf_printf(o, "missing %s: %s (device %.8s)\n",
			    peer, reason, dev);
		if (strcmp(type, "session") == 0)
			return nc_buf_printf(o, "session %s %s: %s (device %.8s)\n",
			    peer, id, reason, dev);
		return nc_buf_printf(o, "alarm%s%s: %s\n", *peer ? " " : "", peer,
		    reason);
	}
	if ((rc = nc_json_kv(o, "type", type)) != 0)
		return rc;
	if (strcmp(type, "receipt") == 0)
		rc = nc_json_kv(o, "id", id) || nc_json_kv(o, "from", peer) ||
		    nc_json_kv(o, "status", "delivered");
	else if (strcmp(type, "failure") == 0)
		rc = nc_json_kv(o, "id", id) || nc_json_kv(o, "to", peer) ||
		    nc_json_kv(o, "reason", reason);
	else if (strcmp(type, "missing") == 0)
		rc = nc_json_kv(o, "peer", peer) || nc_json_kv(o, "device", dev) ||
		    nc_buf_printf(o, ",\"count\":%lld", (long long)n) ||
		    nc_json_kv(o, "reason", reason);
	else if (strcmp(type, "session") == 0)
		rc = nc_json_kv(o, "peer", peer) || nc_json_kv(o, "device", dev) ||
		    nc_json_kv(o, "status", id) || nc_json_kv(o, "reason", reason);
	else
		rc = (*id && nc_json_kv(o, "group", id)) ||
		    nc_json_kv(o, "peer", peer) || nc_json_kv(o, "reason", reason);
	if (rc != 0)
		return NC_EOSERR;
	return end_seq(o, seq);
}

static int
emit(FILE *out, nc_buf *o)
{
	if (o->len == 0)
		return 0;
	if (fwrite(o->p, 1, o->len, out) != o->len || fflush(out) != 0)
		return nc_fail(NC_EIO, "write: output error");
	return 0;
}

/* Wait until out can take a line without blocking (a pipe with room for
 * PIPE_BUF bytes; files at once), so that lines taken are written soon. */
static void
writable(FILE *out)
{
	struct pollfd p = { .fd = fileno(out), .events = POLLOUT };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* The events after `after`, as many as fit in one write of PIPE_BUF bytes
 * (at least one), as lines in o: the number taken (*last: the seq of the
 * last one), 0 none, or -rc. */
static int
batch(nc_state *s, const nc_view *v, int64_t after, nc_buf *o, int64_t *last)
{
	sqlite3_stmt *ev = NULL;
	nc_buf line = NC_SECBUF_INIT;   /* JSON objects start on an empty one */
	int rc, step, got = 0;

	if ((rc = nc_state_prep(s, &ev, "SELECT " EV_COLS " FROM event"
	    " WHERE seq > ? ORDER BY seq")) != 0)
		return -rc;
	sqlite3_bind_int64(ev, 1, after);
	while ((step = sqlite3_step(ev)) == SQLITE_ROW) {
		nc_buf_reset(&line);
		if ((rc = fmt_event(s, ev, v, &line)) != 0)
			goto fail;
		if (got > 0 && o->len + line.len > PIPE_BUF)
			break;   /* the next write's */
		if ((rc = nc_buf_add(o, line.p, line.len)) != 0)
			goto fail;
		*last = sqlite3_column_int64(ev, 0);
		got++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = nc_state_dberr(s, "read");
		goto fail;
	}
	sqlite3_finalize(ev);
	nc_buf_free(&line);
	return got;
fail:
	sqlite3_finalize(ev);
	nc_buf_free(&line);
	return -rc;
}

#define READ_SEQ "read-seq"   /* kv: the default reader's position */

int64_t
nc_event_position(nc_state *s)
{
	return nc_state_get_int(s, READ_SEQ, 0);
}

int
nc_event_skip(nc_state *s)
{
	sqlite3_stmt *st;
	int64_t last = 0;
	int rc;

	if ((rc = nc_state_prep(s, &st, "SELECT coalesce(max(seq), 0) FROM event")) != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return nc_state_put_int(s, READ_SEQ, last);
}

/* A write failed: give the default reader back the events from `from` on,
 * unless another process has moved the position since (best effort). */
static void
unclaim(nc_state *s, int64_t from, int64_t last)
{
	if (nc_state_begin(s) != 0)
		return;
	if (nc_event_position(s) == last &&
	    nc_state_put_int(s, READ_SEQ, from) != 0) {
		nc_state_rollback(s);
		return;
	}
	nc_state_lazy(s);
	(void)!nc_state_commit(s);
}

/* Anything after pos? Read without a write transaction, so that a reader
 * with nothing new takes no lock. */
static int
any_after(nc_state *s, int64_t pos)
{
	sqlite3_stmt *st;
	int found;

	if (nc_state_prep(s, &st, "SELECT 1 FROM event WHERE seq > ? LIMIT 1") != 0)
		return 1;   /* let the caller find the error */
	sqlite3_bind_int64(st, 1, pos);
	found = sqlite3_step(st) != SQLITE_DONE;
	sqlite3_finalize(st);
	return found;
}

int
nc_event_print(nc_state *s, const nc_view *v, FILE *out, int *n)
{
	nc_buf o = NC_SECBUF_INIT;
	int64_t pos, last;
	int rc = 0, got;

	if (n)
		*n = 0;
	/* Taken first, printed after: a position committed is never printed
	 * again, so a commit that fails (a full disk) prints nothing, and a
	 * process killed between the two loses lines only to this reader
	 * (--history still has them). The position is lazy (state.h): a
	 * power failure soon after may print lines again, never lose them. */
	if (!any_after(s, nc_event_position(s)))
		return 0;
	for (;;) {
		nc_buf_reset(&o);
		writable(out);   /* a stalled reader must not take lines early */
		if ((rc = nc_state_begin(s)) != 0)
			break;
		pos = last = nc_event_position(s);
		if ((got = batch(s, v, pos, &o, &last)) <= 0) {
			nc_state_rollback(s);
			rc = -got;
			break;
		}
		if ((rc = nc_state_put_int(s, READ_SEQ, last)) != 0) {
			nc_state_rollback(s);
			break;
		}
		nc_state_lazy(s);
		if ((rc = nc_state_commit(s)) != 0)
			break;
		if ((rc = emit(out, &o)) != 0) {
			unclaim(s, pos, last);
			break;
		}
		if (n)
			*n += got;
	}
	nc_buf_free(&o);
	return rc;
}

int
nc_event_print_after(nc_state *s, const nc_view *v, FILE *out, int64_t *pos,
    int *n)
{
	nc_buf o = NC_SECBUF_INIT;
	int64_t last;
	int rc = 0, got;

	if (n)
		*n = 0;
	for (;;) {
		nc_buf_reset(&o);
		last = *pos;
		if ((got = batch(s, v, *pos, &o, &last)) <= 0) {
			rc = -got;
			break;
		}
		if ((rc = emit(out, &o)) != 0)
			break;
		*pos = last;
		if (n)
			*n += got;
	}
	nc_buf_free(&o);
	return rc;
}

int
nc_history_print(nc_state *s, const nc_view *v, FILE *out, int64_t *pos)
{
	sqlite3_stmt *st;
	nc_buf o = NC_SECBUF_INIT, line = NC_SECBUF_INIT;
	int64_t last = *pos;
	int rc, rc2;

	/* One query for all rows, and lines written a few KiB at a time.
	 * Messages both ways: received ones and copies have "message"
	 * events, the ones sent here "sent" events (a trigger, state.c). */
	if ((rc = nc_state_prep(s, &st, "SELECT " MSG_COLS ", e.seq,"
	    " coalesce(e.reason, '') FROM event e"
	    " JOIN message m ON m.seq = e.msg WHERE e.seq > ?1 AND e.seq >= ?2"
	    " AND e.type IN ('message', 'sent') AND m.time >= ?3"
	    " AND (?4 IS NULL OR m.peer = ?4) ORDER BY e.seq")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, *pos);
	sqlite3_bind_int64(st, 2, v->since_seq);
	sqlite3_bind_int64(st, 3, v->since_time);
	if (v->peer)
		sqlite3_bind_text(st, 4, v->peer, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		nc_buf_reset(&line);   /* JSON objects start on an empty one */
		/* a received message's event names its group, if any */
		if ((rc = fmt_row(s, st, sqlite3_column_int64(st, 9), v->json, 1,
		    (const char *)sqlite3_column_text(st, 10), &line)) != 0 ||
		    (rc = nc_buf_add(&o, line.p, line.len)) != 0)
			break;
		last = sqlite3_column_int64(st, 9);
		if (o.len >= 8192) {
			if ((rc = emit(out, &o)) != 0)
				break;
			nc_buf_reset(&o);
			*pos = last;
		}
	}
	sqlite3_finalize(st);
	/* The lines before a damaged row are still written. */
	if (o.len > 0 && (rc2 = emit(out, &o)) != 0 && rc == 0)
		rc = rc2;
	if (rc == 0)
		*pos = last;
	nc_buf_free(&o);
	nc_buf_free(&line);
	return rc;
}

int
nc_event_direct(FILE *out, int json, const char *type, const char *peer,
    const char *reason)
{
	nc_buf o = NC_BUF_INIT;
	int rc;

	if (json)
		rc = nc_json_kv(&o, "type", type) || nc_json_kv(&o, "peer", peer) ||
		    nc_json_kv(&o, "reason", reason) || nc_buf_addstr(&o, "}\n") ?
		    NC_EOSERR : 0;
	else
		rc = nc_buf_printf(&o, "%s%s%s: %s\n", type, *peer ? " " : "", peer,
		    reason);
	if (rc == 0)
		rc = emit(out, &o);
	nc_buf_free(&o);
	return rc;
}
