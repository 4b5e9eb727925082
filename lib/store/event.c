/* event.c - recording and printing events, and the stored history. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "event.h"
#include "devlist.h"
#include "json.h"

void
nc_time_iso(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32,
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(out, "1970-01-01T00:00:00Z");
}

int
nc_event_add(nc_state *s, const char *type, const char *id, const char *peer,
    const char *dev, const char *reason, int64_t msg)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "INSERT INTO event(type, id, peer, dev,"
	    " time, reason, msg) VALUES (?, ?, ?, ?, ?, ?, ?)")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id ? id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, peer ? peer : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, dev ? dev : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 6, reason ? reason : "", -1, SQLITE_STATIC);
	if (msg > 0)
		sqlite3_bind_int64(st, 7, msg);
	return nc_state_done(s, st);
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

#define MSG_COLS "id, dir, peer, dev, time, body, status"

/* One message row (the columns MSG_COLS of st) as a line; dir 1 rows say
 * "to" instead of "from". */
static int
fmt_row(nc_state *s, sqlite3_stmt *st, int json, int history, nc_buf *o)
{
	nc_buf body = NC_SECBUF_INIT, pre = NC_BUF_INIT;
	char row[600], when[32], self[NC_ADDR_MAX + 1] = "";
	const char *id, *peer, *dev, *status;
	int dir, rc;

	id = (const char *)sqlite3_column_text(st, 0);
	dir = sqlite3_column_int(st, 1);
	peer = (const char *)sqlite3_column_text(st, 2);
	dev = (const char *)sqlite3_column_text(st, 3);
	nc_time_iso(when, sqlite3_column_int64(st, 4));
	status = (const char *)sqlite3_column_text(st, 6);
	snprintf(row, sizeof row, "%d/%s/%s", dir, peer, id);
	if ((rc = nc_state_unseal(s, "message", row, sqlite3_column_blob(st, 5),
	    (size_t)sqlite3_column_bytes(st, 5), &body)) != 0)
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
		    (rc = nc_json_kv(o, dir ? "to" : "from", peer)) != 0 ||
		    (rc = nc_json_kv(o, "device", dev)) != 0 ||
		    (rc = nc_json_kv(o, "time", when)) != 0 ||
		    (rc = nc_buf_addstr(o, ",\"body\":")) != 0 ||
		    (rc = nc_json_str(o, (const char *)body.p, body.len)) != 0)
			goto done;
		if (history && ((rc = nc_json_kv(o, "dir", dir ? "out" : "in")) != 0 ||
		    (rc = nc_json_kv(o, "status", status)) != 0))
			goto done;
		if (dir && !history && (rc = nc_buf_addstr(o, ",\"sent\":true")) != 0)
			goto done;
		rc = nc_buf_addstr(o, "}\n");
	} else {
		if (history)
			rc = nc_buf_printf(&pre, "%s %s%s: ", when, dir ? "> " : "",
			    peer);
		else if (dir)
			rc = nc_buf_printf(&pre, "%s > %s: ", self, peer);
		else
			rc = nc_buf_printf(&pre, "%s: ", peer);
		if (rc == 0 && (rc = nc_buf_nul(&pre)) == 0)
			rc = text_lines(o, (const char *)pre.p, body.p, body.len);
	}
done:
	nc_buf_free(&body);
	nc_buf_free(&pre);
	return rc;
}

/* A device came to or left our own list. */
static int
fmt_device(nc_buf *o, int json, const char *user, const char *dev,
    const char *status)
{
	if (!json)
		return nc_buf_printf(o, "device %s %s: %s\n", dev, status, user);
	if (nc_json_kv(o, "type", "device") || nc_json_kv(o, "user", user) ||
	    nc_json_kv(o, "device", dev) || nc_json_kv(o, "status", status))
		return NC_EOSERR;
	return nc_buf_addstr(o, "}\n");
}

static int
fmt_message(nc_state *s, int64_t seq, int json, nc_buf *o)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, "SELECT " MSG_COLS " FROM message"
	    " WHERE seq = ?")) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = nc_fail(NC_ESOFTWARE, "state: message %lld missing",
		    (long long)seq);
	else
		rc = fmt_row(s, st, json, 0, o);
	sqlite3_finalize(st);
	return rc;
}

static int
fmt_event(nc_state *s, sqlite3_stmt *ev, int json, nc_buf *o)
{
	const char *type = (const char *)sqlite3_column_text(ev, 1);
	const char *id = (const char *)sqlite3_column_text(ev, 2);
	const char *peer = (const char *)sqlite3_column_text(ev, 3);
	const char *reason = (const char *)sqlite3_column_text(ev, 5);
	const char *dev = (const char *)sqlite3_column_text(ev, 4);
	int64_t n = sqlite3_column_int64(ev, 7);
	int rc;

	if (strcmp(type, "message") == 0)
		return fmt_message(s, sqlite3_column_int64(ev, 6), json, o);
	if (strcmp(type, "device") == 0)
		return fmt_device(o, json, peer, id, reason);
	if (!json) {
		if (strcmp(type, "receipt") == 0)
			return nc_buf_printf(o, "receipt %s from %s: delivered\n", id, peer);
		if (strcmp(type, "failure") == 0)
			return nc_buf_printf(o, "failure %s to %s: %s\n", id, peer, reason);
		if (strcmp(type, "missing") == 0)
			return nc_buf_printf(o, "missing %s: %s (device %.8s)\n",
			    peer, reason, dev);
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
	else
		rc = nc_json_kv(o, "peer", peer) || nc_json_kv(o, "reason", reason);
	if (rc != 0)
		return NC_EOSERR;
	return nc_buf_addstr(o, "}\n");
}

static int
emit(FILE *out, nc_buf *o)
{
	if (fwrite(o->p, 1, o->len, out) != o->len || fflush(out) != 0)
		return nc_fail(NC_EIO, "write: output error");
	return 0;
}

/* Wait until out can take a line without blocking (a pipe with room for
 * PIPE_BUF bytes; files at once), before the write lock is taken. */
static void
writable(FILE *out)
{
	struct pollfd p = { .fd = fileno(out), .events = POLLOUT };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* Claim the oldest unprinted events, as many as fit in one write of
 * PIPE_BUF bytes (at least one): the number claimed, their lines in o and
 * the claiming transaction left open for the caller to commit once the
 * lines are written; 0 none (no transaction open). */
static int
claim(nc_state *s, int json, nc_buf *o)
{
	sqlite3_stmt *ev = NULL, *up = NULL;
	nc_buf line = NC_SECBUF_INIT;   /* JSON objects start on an empty one */
	int rc, got = 0;

	if ((rc = nc_state_begin(s)) != 0)
		return -rc;
	if ((rc = nc_state_prep(s, &ev, "SELECT seq, type, id, peer, dev,"
	    " reason, msg, n FROM event WHERE printed = 0 ORDER BY seq LIMIT 1")) != 0 ||
	    (rc = nc_state_prep(s, &up,
	    "UPDATE event SET printed = 1 WHERE seq = ?")) != 0)
		goto fail;
	while (sqlite3_step(ev) == SQLITE_ROW) {
		nc_buf_reset(&line);
		if ((rc = fmt_event(s, ev, json, &line)) != 0)
			goto fail;
		if (got > 0 && o->len + line.len > PIPE_BUF)
			break;   /* the next write's */
		if ((rc = nc_buf_add(o, line.p, line.len)) != 0)
			goto fail;
		sqlite3_bind_int64(up, 1, sqlite3_column_int64(ev, 0));
		sqlite3_reset(ev);
		if (sqlite3_step(up) != SQLITE_DONE) {
			rc = nc_state_dberr(s, "write");
			goto fail;
		}
		sqlite3_reset(up);
		got++;
	}
	sqlite3_finalize(ev);
	sqlite3_finalize(up);
	nc_buf_free(&line);
	if (!got)
		nc_state_rollback(s);   /* nothing changed */
	return got;
fail:
	sqlite3_finalize(ev);
	sqlite3_finalize(up);
	nc_buf_free(&line);
	nc_state_rollback(s);
	return -rc;
}

int
nc_event_print(nc_state *s, int json, FILE *out, int *n)
{
	nc_buf o = NC_SECBUF_INIT;
	int rc, got;

	if (n)
		*n = 0;
	/* Written inside the claiming transaction, committed right after: a
	 * process killed once the commit record is in the WAL has printed and
	 * claimed the lines. Only a kill in the microseconds between write(2)
	 * and that record can print them again, so they go in as few writes
	 * as a pipe takes at once; the transaction holds the write lock, so
	 * two live processes never print one event. The claim is lazy
	 * (state.h): a power failure soon after may print the lines again,
	 * never lose them. */
	for (;;) {
		nc_buf_reset(&o);
		writable(out);   /* a stalled reader must not hold the lock */
		if ((got = claim(s, json, &o)) <= 0) {
			rc = got;
			break;
		}
		if ((rc = emit(out, &o)) != 0) {
			nc_state_rollback(s);
			break;
		}
		nc_state_lazy(s);
		if ((rc = nc_state_commit(s)) != 0)
			break;
		if (n)
			*n += got;
	}
	nc_buf_free(&o);
	return rc < 0 ? -rc : rc;
}

int
nc_history_print(nc_state *s, const char *peer, int json, FILE *out)
{
	sqlite3_stmt *st;
	nc_buf o = NC_SECBUF_INIT, line = NC_SECBUF_INIT;
	int rc, rc2;

	/* One query for all rows, and lines written a few KiB at a time. */
	if ((rc = nc_state_prep(s, &st, peer ?
	    "SELECT " MSG_COLS " FROM message WHERE peer = ? ORDER BY seq" :
	    "SELECT " MSG_COLS " FROM message ORDER BY seq")) != 0)
		return rc;
	if (peer)
		sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		nc_buf_reset(&line);   /* JSON objects start on an empty one */
		if ((rc = fmt_row(s, st, json, 1, &line)) != 0 ||
		    (rc = nc_buf_add(&o, line.p, line.len)) != 0)
			break;
		if (o.len >= 8192) {
			if ((rc = emit(out, &o)) != 0)
				break;
			nc_buf_reset(&o);
		}
	}
	sqlite3_finalize(st);
	/* The lines before a damaged row are still written. */
	if (o.len > 0 && (rc2 = emit(out, &o)) != 0 && rc == 0)
		rc = rc2;
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
