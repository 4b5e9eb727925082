/* nc-send - encrypt stdin to users and deliver it to their relays. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "attach.h"
#include "groupmsg.h"
#include "cli.h"
#include "err.h"
#include "fsutil.h"
#include "groupapp.h"
#include "hex.h"
#include "netproc.h"
#include "send.h"
#include "wire.h"

#define MSG_MAX (64 * 1024)

static void
usage(FILE *f)
{
	fputs("usage: nc-send [-hjqvV] [-t SECONDS] [-w SECONDS] [-o FILE|-] "
	    "USER@DOMAIN...\n"
	    "       nc-send [-hqvV] -f | --flush\n"
	    "       nc-send [-hjqvV] --queue\n"
	    "       nc-send [-hqvV] --cancel ID\n"
	    "       nc-send [-hjqvV] --attach FILE [--attach FILE...] USER@DOMAIN...\n"
	    "       nc-send [-hjqvV] -g GROUP [--attach FILE...]\n"
	    "  Encrypts standard input (UTF-8 text, at most 64 KiB) to every\n"
	    "  device of each USER@DOMAIN and delivers it; prints the message id\n"
	    "  (-j, --json: one object per recipient with its state); -g: to\n"
	    "  every member of GROUP (nc-group(1)).\n"
	    "  --attach: upload FILE (or a directory) once, send its link (to\n"
	    "  every recipient or member); the\n"
	    "  text is then optional (not read from a terminal).\n"
	    "  Exit 75: queued, retried by nc-send --flush and nc-recv; 68: no\n"
	    "  such domain, nothing queued; see nc-send(1) for every status.\n", f);
}

static long
number(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

static int
readmsg(nc_buf *msg, int files)
{
	int rc;

	if (files && isatty(0))
		return 0;   /* files alone */
	rc = nc_buf_readfd(msg, 0, MSG_MAX + 1);

	if (rc == NC_EDATA || (rc == 0 && msg->len > MSG_MAX)) {
		nc_fail(NC_EDATA, "message longer than 64 KiB");
		nc_cli_error(NC_EDATA);
		nc_cli_hint("split it, or send a file with nc-media");
		return -NC_EDATA;
	}
	if (rc != 0)
		return rc;
	/* The newline that ends the last line is the terminal's, not the
	 * message's: `echo hi | nc-send` sends "hi". */
	if (msg->len > 0 && msg->p[msg->len - 1] == '\n')
		msg->len--;
	if (msg->len == 0 && !files)
		return nc_fail(NC_EDATA, "empty message");
	if (!nc_utf8_valid(msg->p, msg->len))
		return nc_fail(NC_EDATA, "message is not UTF-8 text");
	return 0;
}

/* nc-send -g GROUP --attach FILE...: each file goes up once, the one
 * attachment payload goes to every member in the group's blob. */
static int
group_files(const nc_send_opts *o, const char *group, const char **files,
    int nfiles, const nc_buf *msg, nc_buf *body)
{
	int rc;

	if ((rc = nc_attach_upload(files, (size_t)nfiles, msg->p, msg->len,
	    isatty(2) && nc_verbose >= 0, body)) != 0) {
		nc_cli_error(rc);   /* nothing sent */
		return -rc;
	}
	if (body->len > NC_GM_TEXT_MAX) {
		nc_cli_error(nc_fail(NC_EDATA, "--attach: the links and the text "
		    "take %zu bytes, more than a group message holds (%u): "
		    "nothing sent", body->len, NC_GM_TEXT_MAX));
		nc_cli_hint("a shorter text or fewer files; what went up "
		    "expires unless shared (nc-media ls, nc-media rm)");
		return -NC_EDATA;
	}
	return nc_group_send(o->json, group, body->p, body->len, 1);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "flush", no_argument, NULL, 'f' },
		{ "ttl", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "queue", no_argument, NULL, 'Q' },
		{ "cancel", required_argument, NULL, 'C' },
		{ "group", required_argument, NULL, 'g' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "attach", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	nc_send_opts o;
	nc_buf msg = NC_SECBUF_INIT, body = NC_SECBUF_INIT;
	const char *cancel = NULL, *group = NULL, *files[NC_ATTACH_ARGS];
	int c, flush = 0, queue = 0, rc, i, j, n, nfiles = 0;

	if (nc_cli_init("nc-send") != 0)
		return NC_ESOFTWARE;
	memset(&o, 0, sizeof o);
	o.ttl = NC_TTL_DEFAULT;
	while ((c = getopt_long(argc, argv, "fg:hjo:qt:vVw:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': flush = 1; break;
		case 'A':
			if (nfiles == NC_ATTACH_ARGS) {
				fprintf(stderr, "nc-send: --attach: at most %d files\n",
				    NC_ATTACH_ARGS);
				return NC_EUSAGE;
			}
			files[nfiles++] = optarg;
			break;
		case 'Q': queue = 1; break;
		case 'g': group = optarg; break;
		case 'C':
			if (strlen(optarg) != 32 ||
			    strspn(optarg, "0123456789abcdef") != 32) {
				fprintf(stderr, "nc-send: --cancel: not a message id "
				    "(32 hex digits, as nc-send --queue lists)\n");
				return NC_EUSAGE;
			}
			cancel = optarg;
			break;
		case 'o':
			if (*optarg == '\0') {
				fprintf(stderr, "nc-send: -o: a file name, or - for "
				    "standard output\n");
				return NC_EUSAGE;
			}
			o.out = optarg;
			break;
		case 't':
			if ((o.ttl = number(optarg, NC_TTL_MAX)) <= 0) {
				fprintf(stderr, "nc-send: --ttl: seconds from 1 to "
				    "%ld (365 days)\n", (long)NC_TTL_MAX);
				return NC_EUSAGE;
			}
			break;
		case 'w':
			if ((o.wait = number(optarg, 86400)) < 0) {
				fprintf(stderr, "nc-send: --wait: not a number of seconds\n");
				return NC_EUSAGE;
			}
			break;
		default:
			if ((rc = nc_cli_flag(c, usage, &o.json)) >= 0)
				return rc;
			break;
		}
	}
	if (group) {
		/* A group's members are the recipients (groupcmd.c). */
		if (optind != argc || flush || queue || cancel || o.out) {
			usage(stderr);
			return NC_EUSAGE;
		}
		(void)nc_netproc_start();
		if ((rc = readmsg(&msg, nfiles > 0)) == 0 && nfiles > 0)
			rc = group_files(&o, group, files, nfiles, &msg, &body);
		else if (rc == 0)
			rc = nc_group_send(o.json, group, msg.p, msg.len, 0);
		nc_buf_free(&msg);
		nc_buf_free(&body);
		if (rc < 0)
			return nc_cli_exit(-rc);
		nc_cli_error(rc);
		return nc_cli_exit(rc);
	}
	/* One of four things: send, --flush, --queue or --cancel. */
	if ((flush + queue + (cancel != NULL) > 0 ? optind != argc || o.out ||
	    flush + queue + (cancel != NULL) > 1 || nfiles : optind == argc) ||
	    (o.json && o.out && strcmp(o.out, "-") == 0)) {
		usage(stderr);
		return NC_EUSAGE;
	}
	for (i = optind; i < argc; i++)
		if (!nc_addr_valid(argv[i])) {
			nc_cli_error(nc_fail(NC_EUSAGE, "%s: not a valid user@domain", argv[i]));
			return NC_EUSAGE;
		}
	/* A recipient named twice gets the message once. */
	for (i = optind, n = optind; i < argc; i++) {
		for (j = optind; j < n && strcmp(argv[j], argv[i]) != 0; j++)
			;
		if (j == n)
			argv[n++] = argv[i];
	}
	argc = n;
	if (queue || cancel)
		return nc_cli_exit(-(queue ? nc_send_queue(&o) :
		    nc_send_cancel(&o, cancel)));
	if (!o.out)
		(void)nc_netproc_start();   /* loads libcurl while the state opens */
	if (flush)
		rc = nc_send_flush(&o);
	else if ((rc = readmsg(&msg, nfiles > 0)) == 0 && nfiles > 0) {
		if ((rc = nc_attach_upload(files, (size_t)nfiles, msg.p, msg.len,
		    isatty(2) && nc_verbose >= 0, &body)) != 0) {
			nc_cli_error(rc);   /* nothing sent */
			rc = -rc;
		} else {
			o.files = 1;
			rc = nc_send(&o, (const char **)argv + optind,
			    argc - optind, body.p, body.len);
		}
	} else if (rc == 0)
		rc = nc_send(&o, (const char **)argv + optind, argc - optind,
		    msg.p, msg.len);
	nc_buf_free(&msg);
	nc_buf_free(&body);
	if (rc < 0)
		return nc_cli_exit(-rc);   /* reported already */
	nc_cli_error(rc == NC_ETEMP ? 0 : rc);
	return nc_cli_exit(rc);
}
