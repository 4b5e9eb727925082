/* nc-recv - fetch, decrypt, store, acknowledge, print. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "attach.h"
#include "cli.h"
#include "err.h"
#include "event.h"
#include "fsutil.h"
#include "held.h"
#include "netproc.h"
#include "inbox.h"
#include "keylog.h"
#include "outbox.h"
#include "relayc.h"
#include "relaymsg.h"
#include "state.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-recv [-hqvV] [--json] [--cursor-file FILE] [--follow]\n"
	    "       nc-recv [-hqvV] [--json] [--cursor-file FILE] - | FILE...\n"
	    "       nc-recv [-hqvV] [--json] [--cursor-file FILE] --unread\n"
	    "       nc-recv [-hqvV] [--json] --history [--since TIME|SEQ] [--follow]\n"
	    "               [USER@DOMAIN]\n"
	    "       nc-recv [-hqvV] [--json] --held | --release USER@DOMAIN |\n"
	    "               --reject USER@DOMAIN\n"
	    "       nc-recv [-hqvV] --push-endpoint URL | none\n"
	    "  --save DIR (not with --history, --unread): fetch the files of\n"
	    "  the messages about to be printed into DIR first.\n"
	    "  Fetches this device's messages, decrypts and stores them,\n"
	    "  acknowledges them to the relay and prints what this reader has\n"
	    "  not printed yet: the default reader (shared by every nc-recv of\n"
	    "  NC_HOME without --cursor-file), or the one whose position FILE\n"
	    "  keeps. - or FILE...: read armored envelopes instead.\n"
	    "  --unread lists what the reader has not printed, --history what is\n"
	    "  stored; neither marks anything read. Local sequence numbers are\n"
	    "  the \"seq\" of --json.\n"
	    "  A message from a sender not looked up yet is held (config\n"
	    "  first-contact): --held lists them, --release looks the sender up\n"
	    "  and reads them, --reject drops them.\n"
	    "  --push-endpoint URL registers this device's push endpoint with\n"
	    "  its relay (woken by a content-free POST when mail comes); none\n"
	    "  removes it.\n"
	    "  Exit 1: a tampered, forged or replayed envelope was refused;\n"
	    "  74: the messages could not be stored (nothing was printed twice).\n",
	    f);
}

/* A reader: the default one (its position in the state), one whose
 * position a cursor file keeps, or the history. */
typedef struct {
	const char *file;   /* cursor file, or NULL */
	int hist;
	int64_t pos;        /* cursor file and history: last seq printed */
	const char *save;   /* --save DIR */
} reader;

/* A cursor file: one decimal sequence number and a newline. Missing: 0,
 * the beginning. */
static int
cursor_read(const char *file, int64_t *pos)
{
	nc_buf b = NC_BUF_INIT;
	size_t i;
	int rc;

	*pos = 0;
	if ((rc = nc_read_file(file, &b, 32)) != 0) {
		nc_buf_free(&b);
		return rc == NC_EIO && errno == ENOENT ? 0 : rc;
	}
	for (i = 0; i < b.len && b.p[i] >= '0' && b.p[i] <= '9'; i++)
		*pos = *pos * 10 + (b.p[i] - '0');
	if (i == 0 || i > 18 || b.len != i + 1 || b.p[i] != '\n')
		rc = nc_fail(NC_EDATA, "%s: not a cursor file (one sequence "
		    "number); remove it to read from the beginning", file);
	nc_buf_free(&b);
	return rc;
}

/* Replace the cursor file atomically (temporary file and rename). Not
 * synced: lost to a power failure, the lines after the old position are
 * printed again, never lost. */
static int
cursor_write(const char *file, int64_t pos)
{
	char tmp[4200], line[32];
	int fd, n, ok;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", file,
	    (long)getpid()) >= sizeof tmp)
		return nc_fail(NC_EUSAGE, "%s: name too long", file);
	n = snprintf(line, sizeof line, "%lld\n", (long long)pos);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		return nc_fail(NC_ECANTCREAT, "%s: %s", tmp, strerror(errno));
	ok = write(fd, line, (size_t)n) == n;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, file) != 0) {
		int e = errno;
		unlink(tmp);
		return nc_fail(NC_EIO, "%s: cannot write the position: %s", file,
		    strerror(e));
	}
	return 0;
}

/* Print what reader r has not printed. */
static int
show(nc_state *s, const nc_view *v, reader *r)
{
	int64_t was = r->pos;
	int rc, rc2, saved = 0;
	char why[300] = "";

	/* Files first, so the lines say where they went. */
	if (r->save && !r->hist && (saved = nc_attach_save(s, r->save, r->file ?
	    r->pos : nc_event_position(s), isatty(2) && nc_verbose >= 0)) != 0)
		snprintf(why, sizeof why, "%s", nc_errmsg());
	if (r->hist)
		return nc_history_print(s, v, stdout, &r->pos);
	if (r->file == NULL)
		rc = nc_event_print(s, v, stdout, NULL);
	else {
		rc = nc_event_print_after(s, v, stdout, &r->pos, NULL);
		if (r->pos != was && (rc2 = cursor_write(r->file, r->pos)) != 0 &&
		    rc == 0)
			rc = rc2;
	}
	return rc ? rc : saved ? nc_fail(saved, "%s", why) : 0;
}

/* Fetch until the mailbox is empty (one long-poll round when wait > 0). */
static int
fetch(nc_state *s, nc_self *self, int wait, uint64_t *cursor, nc_rx *rx)
{
	int more = 1, rc = 0;

	while (rc == 0 && more) {
		rc = nc_inbox_fetch(s, self, wait, cursor, &more, rx);
		wait = 0;
	}
	if (rc == NC_EPERM) {
		/* Our mailbox refused: say "revoked" if that is why. */
		char why[600];

		snprintf(why, sizeof why, "%s", nc_errmsg());
		if (nc_self_revoked(s, self, 1) != NC_EPERM)
			nc_fail(NC_EPERM, "%s", why);
	}
	return rc;
}

static void
pause_s(int secs)
{
	struct timespec ts = { secs, 0 };

	nanosleep(&ts, NULL);
}

static int
follow(nc_state *s, nc_self *self, const nc_view *v, reader *r, nc_rx *rx)
{
	uint64_t cursor = 0;
	int rc, delay = 1;

	for (;;) {
		/* Writing on into a deleted state.db would acknowledge
		 * messages nobody can ever read. */
		if ((rc = nc_state_check(s)) != 0)
			return rc;
		if ((rc = fetch(s, self, 25, &cursor, rx)) != 0) {
			/* A dropped connection is said with -v; what was not
			 * stored always: it is retried (the cursor stays). */
			if (nc_verbose > 0 || rc != NC_EUNAVAIL)
				nc_cli_error(rc);
			if (rc == NC_EPERM || rc == NC_ECONFIG)
				return rc;
			if ((rc = nc_state_check(s)) != 0)
				return rc;   /* nothing more to print from it */
			pause_s(delay);
			delay = delay < 30 ? delay * 2 : 30;
		} else
			delay = 1;
		nc_inbox_after(s, self, rx);
		if ((rc = nc_keylog_gossip(s)) != 0 && rc != NC_ESECURITY)
			nc_cli_error(rc);   /* an alarm is an event, shown below */
		if ((rc = nc_inbox_gaps(s)) != 0)
			nc_cli_error(rc);
		if ((rc = show(s, v, r)) != 0) {
			if (ferror(stdout))
				return rc;   /* nobody reads any more */
			nc_cli_error(rc);
			pause_s(delay);
		}
	}
}

/* "2026-11-26", "2026-11-26 10:00[:00]" (or with T) in local time, with
 * a final Z in UTC; "@SECONDS". */
static int
parse_time(const char *a, int64_t *t)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, k = 0;
	const char *p;
	char *end;
	time_t tt;

	if (a[0] == '@') {
		errno = 0;
		long long v = strtoll(a + 1, &end, 10);
		if (errno || end == a + 1 || *end || v < 0)
			return -1;
		*t = v;
		return 0;
	}
	if (sscanf(a, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = a + n;
	if ((*p == ' ' || *p == 'T') &&
	    sscanf(p + 1, "%2d:%2d%n", &h, &mi, &k) == 2 && k == 5) {
		p += 1 + k;
		if (*p == ':' && sscanf(p + 1, "%2d%n", &sec, &k) == 1 && k == 2)
			p += 3;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	if (strcmp(p, "Z") == 0)
		tt = timegm(&tm);
	else if (*p == '\0')
		tt = mktime(&tm);
	else
		return -1;
	if (tt == (time_t)-1)
		return -1;
	*t = (int64_t)tt;
	return 0;
}

/* --since: digits are a sequence number, anything else a time. */
static int
parse_since(const char *a, nc_view *v)
{
	size_t i, n = strlen(a);

	for (i = 0; i < n && a[i] >= '0' && a[i] <= '9'; i++)
		;
	if (n > 0 && i == n && n <= 18) {
		v->since_seq = strtoll(a, NULL, 10);
		return 0;
	}
	if (parse_time(a, &v->since_time) == 0)
		return 0;
	return nc_fail(NC_EUSAGE, "--since %s: not a sequence number or a time "
	    "(2026-11-26, \"2026-11-26 10:00\", 2026-11-26T09:00:00Z, @UNIX)",
	    a);
}

/* Standard input is read when it is a regular file with something in it
 * (nc-recv < file.asc); /dev/null (cron), a terminal or a pipe are not. */
static int
stdin_file(void)
{
	struct stat sb;

	return fstat(0, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* Armored envelopes from each of files[0..n) ("-": standard input). */
static int
armored(nc_state *s, nc_self *self, char **files, int n, nc_rx *rx)
{
	int i, fd, rc = 0, rc1;

	for (i = 0; i < n; i++) {
		if (strcmp(files[i], "-") == 0)
			fd = 0;
		else if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) < 0) {
			rc1 = nc_fail(errno == ENOENT ? NC_EDATA : NC_EIO, "%s: %s",
			    files[i], strerror(errno));
			nc_cli_error(rc1);
			rc = rc ? rc : rc1;
			continue;
		}
		rc1 = nc_inbox_armored(s, self, fd, rx);
		if (fd != 0)
			close(fd);
		if (rc1 != 0) {
			if (n > 1 && fd != 0)
				nc_fail(rc1, "%s: %s", files[i], nc_errmsg());
			nc_cli_error(rc1);
			rc = rc ? rc : rc1;
		}
	}
	if (rx->other > 0)
		nc_cli_info("%d envelope%s addressed to another device: skipped",
		    rx->other, rx->other == 1 ? "" : "s");
	if (rx->again > 0 && nc_verbose > 0)
		nc_cli_info("%d envelope%s received before: nothing to do",
		    rx->again, rx->again == 1 ? "" : "s");
	/* Said above already: the exit status keeps it. */
	nc_clearerr();
	return rc;
}

/* --push-endpoint URL|none: register (or remove) this device's push
 * endpoint with its relay, which checks it first. */
static int
push_endpoint(const char *url)
{
	nc_state *s = NULL;
	nc_self self;
	nc_relay *rl = NULL;
	int rc, rc2;

	if (strcmp(url, "none") == 0)
		url = NULL;
	else if (nc_push_url_check(url) == NC_PUSH_BAD) {
		nc_cli_error(nc_fail(NC_EUSAGE, "--push-endpoint %s: not an https:// URL "
		    "(at most %d bytes, no user part or fragment), or none", url,
		    NC_PUSH_URL_MAX));
		return NC_EUSAGE;
	}
	memset(&self, 0, sizeof self);
	if ((rc = nc_cli_open(&s, &self)) == 0 &&
	    (rc = nc_relay_open(&rl, s->home, self.domain)) == 0 &&
	    (rc = nc_relay_push(rl, self.name, self.dev, url)) == 0)
		nc_cli_info(url ? "push endpoint registered: the relay of %s wakes it "
		    "when mail comes" : "push endpoint removed at the relay of %s",
		    self.domain);
	nc_relay_close(rl);
	nc_self_free(&self);
	if ((rc2 = nc_state_close(s)) != 0 && rc == 0)
		rc = rc2;
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "history", no_argument, NULL, 'H' },
		{ "unread", no_argument, NULL, 'U' },
		{ "since", required_argument, NULL, 'S' },
		{ "cursor-file", required_argument, NULL, 'C' },
		{ "held", no_argument, NULL, 'L' },
		{ "release", required_argument, NULL, 'R' },
		{ "reject", required_argument, NULL, 'X' },
		{ "save", required_argument, NULL, 'D' },
		{ "push-endpoint", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	nc_state *s = NULL;
	nc_self self;
	nc_view v;
	nc_rx rx;
	nc_flush fl;
	reader r;
	uint64_t cursor = 0;
	const char *since = NULL, *release = NULL, *reject = NULL, *push = NULL;
	char *dash[] = { "-" };
	char **files = NULL;
	int c, json = 0, fol = 0, hist = 0, unread = 0, nfiles = 0, rc, rc2;
	int reported = 0, dashes = 0, held = 0, n;

	if (nc_cli_init("nc-recv") != 0)
		return NC_ESOFTWARE;
	memset(&rx, 0, sizeof rx);
	memset(&v, 0, sizeof v);
	memset(&r, 0, sizeof r);
	while ((c = getopt_long(argc, argv, "fhHjqvV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fol = 1; break;
		case 'H': hist = 1; break;
		case 'U': unread = 1; break;
		case 'S': since = optarg; break;
		case 'C': r.file = optarg; break;
		case 'L': held = 1; break;
		case 'R': release = optarg; break;
		case 'X': reject = optarg; break;
		case 'D': r.save = optarg; break;
		case 'P': push = optarg; break;
		default:
			if ((rc = nc_cli_flag(c, usage, &json)) >= 0)
				return rc;
			break;
		}
	}
	if ((held + !!release + !!reject > 1) || ((held || release || reject) &&
	    (hist || unread || fol || r.file || optind < argc))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if (push != NULL) {
		if (held || release || reject || hist || unread || fol || r.file ||
		    r.save || since || optind < argc) {
			usage(stderr);
			return NC_EUSAGE;
		}
		return push_endpoint(push);
	}
	if ((release && !nc_addr_valid(release)) ||
	    (reject && !nc_addr_valid(reject))) {
		nc_cli_error(nc_fail(NC_EUSAGE, "%s: not a valid user@domain",
		    release ? release : reject));
		return NC_EUSAGE;
	}
	if (!hist && !unread && optind < argc) {
		files = argv + optind;
		nfiles = argc - optind;
		optind = argc;
		for (c = 0; c < nfiles; c++)
			dashes += strcmp(files[c], "-") == 0;
	}
	if ((hist ? argc - optind > 1 : optind != argc) ||
	    (fol && (nfiles || unread)) || (hist && (unread || r.file)) ||
	    (since && !hist) || (r.file && !*r.file) || dashes > 1 ||
	    (r.save && (hist || unread || !*r.save))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if (hist && optind < argc && !nc_addr_valid(argv[optind])) {
		nc_cli_error(nc_fail(NC_EUSAGE, "%s: not a valid user@domain", argv[optind]));
		return NC_EUSAGE;
	}
	v.json = json;
	v.verbose = nc_verbose;
	v.peer = hist && optind < argc ? argv[optind] : NULL;
	r.hist = hist;
	if (since && (rc = parse_since(since, &v)) != 0) {
		nc_cli_error(rc);
		return rc;
	}
	if (!hist && !unread && !fol && nfiles == 0 && stdin_file()) {
		files = dash;
		nfiles = 1;
	}
	if (r.file && (rc = cursor_read(r.file, &r.pos)) != 0) {
		nc_cli_error(rc);
		return nc_cli_exit(rc);
	}
	if ((!hist || fol) && !unread && !held && !reject && nfiles == 0)
		(void)nc_netproc_start();   /* loads libcurl while the state opens */
	memset(&self, 0, sizeof self);
	if ((rc = nc_cli_open(&s, (hist && !fol) || unread || held || reject ?
	    NULL : &self)) != 0)
		goto out;
	if (held) {
		rc = nc_held_list(s, stdout, json);
		goto done;
	}
	if (reject || release) {
		rc = reject ? nc_held_reject(s, reject, &n) :
		    nc_held_release(s, &self, release, &rx, &n);
		if (n == 0 && rc == 0)
			nc_cli_info("nothing held from %s", reject ? reject : release);
		else if (reject && rc == 0)
			nc_cli_info("%d message%s from %s dropped unread", n,
			    n == 1 ? "" : "s", reject);
		if (reject)
			goto done;
		if (rc == 0) {
			nc_inbox_after(s, &self, &rx);   /* receipts owed */
			rc = nc_keylog_gossip(s);
		}
		goto shown;
	}
	if (unread) {
		/* What this reader would print next, left unread. */
		if (!r.file)
			r.pos = nc_event_position(s);
		rc = nc_event_print_after(s, &v, stdout, &r.pos, NULL);
		goto done;
	}
	if (hist && !fol) {
		rc = nc_history_print(s, &v, stdout, &r.pos);
		goto done;
	}
	if (nfiles > 0) {
		rx.direct = stdout;
		rx.json = json;
		rc = armored(s, &self, files, nfiles, &rx);
		reported = rc != 0;
	} else {
		/* Queued messages get another chance on every run. */
		(void)!nc_outbox_flush(s, &self, NULL, 0, &fl);
		if (fol) {
			if (hist && (rc = show(s, &v, &r)) != 0)
				goto done;
			rc = follow(s, &self, &v, &r, &rx);
		} else {
			rc = fetch(s, &self, 0, &cursor, &rx);
			nc_inbox_after(s, &self, &rx);
			/* Heads contacts gossiped (after the batch: a proof may
			 * be asked for). */
			if ((rc2 = nc_keylog_gossip(s)) != 0 && rc == 0)
				rc = rc2;
		}
	}
	if ((rc2 = nc_inbox_gaps(s)) != 0 && rc == 0)
		rc = rc2;
shown:
	if (rx.dropped > 0)
		nc_cli_info("%d message%s from unknown senders dropped: %d held "
		    "already (nc-recv --held)", rx.dropped, rx.dropped == 1 ? "" :
		    "s", NC_HELD_MAX);
	/* What was committed is printed even when the relay or the disk
	 * failed us (only what was committed: nothing twice). */
	if ((rc2 = show(s, &v, &r)) != 0 && rc == 0)
		rc = rc2;
	if (rc == 0)
		rc = nc_self_alarm(s, &self);
	if (rc == 0 && rx.security > 0)
		rc = nc_fail(NC_ESECURITY, "%d envelope(s) raised an alarm: "
		    "tampered, forged, replayed or inconsistent", rx.security);
done:
	nc_self_free(&self);
	if ((rc2 = nc_state_close(s)) != 0 && rc == 0)
		rc = rc2;
out:
	if (!reported || *nc_errmsg())
		nc_cli_error(rc);
	return nc_cli_exit(rc);
}
