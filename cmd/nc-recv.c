/* nc-recv - fetch, decrypt, store, acknowledge, print. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "err.h"
#include "event.h"
#include "netproc.h"
#include "inbox.h"
#include "outbox.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-recv [-hqvV] [--json] [--follow]\n"
	    "       nc-recv [-hqvV] [--json] -\n"
	    "       nc-recv [-hqvV] [--json] --history [USER@DOMAIN]\n"
	    "  Fetches this device's messages, decrypts and stores them,\n"
	    "  acknowledges them to the relay and prints them, each once.\n"
	    "  -  reads armored envelopes from standard input instead.\n"
	    "  Exit 1: a tampered, forged or replayed envelope was refused.\n", f);
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
	return rc;
}

static int
follow(nc_state *s, nc_self *self, int json, nc_rx *rx)
{
	uint64_t cursor = 0;
	int rc, delay = 1;

	for (;;) {
		if ((rc = fetch(s, self, 25, &cursor, rx)) != 0) {
			if (nc_verbose > 0)
				nc_cli_error(rc);
			if (rc == NC_EPERM || rc == NC_ECONFIG)
				return rc;
			/* Connection dropped: resume from the cursor after a pause. */
			struct timespec ts = { delay, 0 };
			nanosleep(&ts, NULL);
			delay = delay < 30 ? delay * 2 : 30;
		} else
			delay = 1;
		nc_inbox_after(s, self, rx);
		if ((rc = nc_inbox_gaps(s)) != 0)
			return rc;
		if ((rc = nc_event_print(s, json, stdout, NULL)) != 0)
			return rc;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "history", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	nc_state *s = NULL;
	nc_self self;
	nc_rx rx;
	nc_flush fl;
	uint64_t cursor = 0;
	int c, json = 0, fol = 0, hist = 0, in = 0, rc, rc2;

	if (nc_cli_init("nc-recv") != 0)
		return NC_ESOFTWARE;
	memset(&rx, 0, sizeof rx);
	while ((c = getopt_long(argc, argv, "fhHjqvV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fol = 1; break;
		case 'H': hist = 1; break;
		default:
			if ((rc = nc_cli_flag(c, usage, &json)) >= 0)
				return rc;
			break;
		}
	}
	if (optind < argc && strcmp(argv[optind], "-") == 0 && !hist) {
		in = 1;
		optind++;
	}
	if ((hist ? argc - optind > 1 : optind != argc) || (fol && (in || hist))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if (hist && optind < argc && !nc_addr_valid(argv[optind])) {
		nc_cli_error(nc_fail(NC_EUSAGE, "%s: not a valid user@domain", argv[optind]));
		return NC_EUSAGE;
	}
	if (!hist && !in)
		(void)nc_netproc_start();   /* loads libcurl while the state opens */
	memset(&self, 0, sizeof self);
	if ((rc = nc_cli_open(&s, hist ? NULL : &self)) != 0)
		goto out;
	if (hist) {
		rc = nc_history_print(s, optind < argc ? argv[optind] : NULL, json,
		    stdout);
		goto done;
	}
	if (in) {
		rx.direct = stdout;
		rx.json = json;
		rc = nc_inbox_armored(s, &self, 0, &rx);
	} else {
		/* Queued messages get another chance on every run. */
		(void)!nc_outbox_flush(s, &self, NULL, 0, &fl);
		if (fol)
			rc = follow(s, &self, json, &rx);
		else {
			rc = fetch(s, &self, 0, &cursor, &rx);
			nc_inbox_after(s, &self, &rx);
		}
	}
	if ((rc2 = nc_inbox_gaps(s)) != 0 && rc == 0)
		rc = rc2;
	/* What was committed is printed even when the relay failed us. */
	if ((rc2 = nc_event_print(s, json, stdout, NULL)) != 0 && rc == 0)
		rc = rc2;
	if (rc == 0)
		rc = nc_self_alarm(s, &self);
	if (rc == 0 && rx.security > 0)
		rc = nc_fail(NC_ESECURITY, "%d envelope(s) refused: tampered, forged "
		    "or replayed", rx.security);
done:
	nc_self_free(&self);
	nc_state_close(s);
out:
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
