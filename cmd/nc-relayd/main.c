/* nc-relayd - the Newchat relay: accounts, device lists, prekeys,
 * mailboxes and blobs over HTTP, stored in sqlite. */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "http.h"
#include "relay.h"

#define VERSION "0.1"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: nc-relayd -d datadir -l addr:port -D domain [--tls-cert file\n"
	    "                 --tls-key file] [--invite-only] [--public-url url]\n"
	    "                 [--threads n] [--workers n] [--conns-per-ip n]\n"
	    "                 [--trust-proxy addr]\n"
	    "                 [--rate-register n]\n"
	    "                 [--rate-login n] [--rate-anon n] [--blob-max bytes]\n"
	    "                 [--request-timeout seconds] [--mailbox-max n]\n"
	    "       nc-relayd -d datadir --issue-invite\n");
	exit(NC_EUSAGE);
}

static unsigned long long
num(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		usage();
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max)
		usage();
	return v;
}

/* --trust-proxy takes one IPv4 or IPv6 address, nothing else. */
static const char *
ip_addr(const char *s)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1) {
		fprintf(stderr, "nc-relayd: --trust-proxy takes an IP address "
		    "(e.g. --trust-proxy 127.0.0.1), not '%s'\n", s);
		exit(NC_EUSAGE);
	}
	return s;
}

enum { O_CERT = 256, O_KEY, O_INVITE_ONLY, O_URL, O_ISSUE, O_THREADS,
	O_PERIP, O_RREG, O_RLOGIN, O_RANON, O_BLOBMAX, O_REQTIME, O_MAILMAX, O_WORKERS, O_TRUSTPROXY };

static const struct option longopts[] = {
	{ "tls-cert", required_argument, NULL, O_CERT },
	{ "tls-key", required_argument, NULL, O_KEY },
	{ "invite-only", no_argument, NULL, O_INVITE_ONLY },
	{ "public-url", required_argument, NULL, O_URL },
	{ "issue-invite", no_argument, NULL, O_ISSUE },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "conns-per-ip", required_argument, NULL, O_PERIP },
	{ "rate-register", required_argument, NULL, O_RREG },
	{ "rate-login", required_argument, NULL, O_RLOGIN },
	{ "rate-anon", required_argument, NULL, O_RANON },
	{ "blob-max", required_argument, NULL, O_BLOBMAX },
	{ "request-timeout", required_argument, NULL, O_REQTIME },
	{ "mailbox-max", required_argument, NULL, O_MAILMAX },
	{ "workers", required_argument, NULL, O_WORKERS },
	{ "trust-proxy", required_argument, NULL, O_TRUSTPROXY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Waits for SIGTERM/SIGINT, sweeping expired data once a minute. */
static void
serve(struct relay *r)
{
	sigset_t set;
	struct timespec ts = { 60, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		if (sigtimedwait(&set, NULL, &ts) > 0)
			return;
		store_sweep(r->store, (int64_t)time(NULL));
	}
}

int
main(int argc, char **argv)
{
	struct relay_conf rc;
	struct http_conf hc;
	struct relay *r;
	struct http *h;
	char url[512];
	int ch, issue = 0;
	sigset_t set;

	relay_conf_defaults(&rc);
	http_conf_defaults(&hc);
	rc.domain = NULL;
	while ((ch = getopt_long(argc, argv, "d:l:D:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': rc.datadir = optarg; break;
		case 'l': hc.listen = optarg; break;
		case 'D': rc.domain = optarg; break;
		case O_CERT: hc.tls_cert = optarg; break;
		case O_KEY: hc.tls_key = optarg; break;
		case O_INVITE_ONLY: rc.invite_only = 1; break;
		case O_URL: rc.public_url = optarg; break;
		case O_ISSUE: issue = 1; break;
		case O_THREADS: hc.threads = (unsigned)num(optarg, 1024); break;
		case O_PERIP: hc.conns_per_ip = (unsigned)num(optarg, 65535); break;
		case O_RREG: rc.rate_register = (double)num(optarg, 1000000); break;
		case O_RLOGIN: rc.rate_login = (double)num(optarg, 1000000); break;
		case O_RANON: rc.rate_anon = (double)num(optarg, 1000000); break;
		case O_BLOBMAX: rc.blob_max = num(optarg, (uint64_t)1 << 40); break;
		case O_WORKERS: hc.workers = (unsigned)num(optarg, 4096); break;
		case O_TRUSTPROXY: hc.trust_proxy = ip_addr(optarg); break;
		case O_MAILMAX: rc.lim.mail_count = (uint32_t)num(optarg, UINT32_MAX); break;
		case O_REQTIME:
			hc.request_timeout = (unsigned)num(optarg, 3600);
			if (hc.idle_timeout > hc.request_timeout)
				hc.idle_timeout = hc.request_timeout;
			break;
		case 'V': puts("nc-relayd " VERSION); return 0;
		default: usage();
		}
	}
	if (optind != argc || rc.datadir == NULL || (!issue && rc.domain == NULL) ||
	    hc.threads == 0 || hc.workers == 0 || hc.request_timeout == 0 ||
	    (!hc.tls_cert != !hc.tls_key))
		usage();
	if (issue)
		rc.domain = "localhost";
	if (sodium_init() < 0)
		return NC_ESOFTWARE;
	/* Signals go to the main thread only, which waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (relay_open(&r, &rc) != 0)
		return NC_ECANTCREAT;
	if (issue) {
		ch = relay_issue_invite(r);
		relay_close(r);
		return ch == 0 ? 0 : NC_EIO;
	}
	if (http_start(&h, &hc, r, url, sizeof url) != 0) {
		relay_close(r);
		return NC_EOSERR;
	}
	printf("%s\n", url);
	if (fflush(stdout) != 0) {
		http_stop(h, 0);
		relay_close(r);
		return NC_EIO;
	}
	serve(r);
	http_stop(h, 30);
	relay_close(r);
	return 0;
}
