/* nc-relayd - the Newchat relay: accounts, device lists, prekeys,
 * mailboxes and blobs over HTTP, stored in sqlite. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "http.h"
#include "relay.h"
#include "version.h"

static void
usage_to(FILE *f)
{
	fprintf(f,
	    "usage: nc-relayd -d datadir [--db conninfo] -l addr:port -D domain\n"
	    "                 [--tls-cert file --tls-key file] [--invite-only]\n"
	    "                 [--public-url url]\n"
	    "                 [--threads n] [--workers n] [--conns-per-ip n]\n"
	    "                 [--conns-max n] [--polls-max n] [--idle-max n]\n"
	    "                 [--rate-register n]\n"
	    "                 [--rate-login n] [--rate-anon n] [--blob-max bytes]\n"
	    "                 [--request-timeout seconds] [--mailbox-max n]\n"
	    "                 [--backup-max n] [--backup-bytes-max bytes]\n"
	    "                 [--trust-proxy addr] [--push-allow-local]\n"
	    "       nc-relayd -d datadir [--db conninfo] --issue-invite\n"
	    "       nc-relayd -h | --help | -V | --version\n"
	    "  e.g. nc-relayd -d /var/lib/newchat -l 127.0.0.1:8080 -D example.org\n"
	    "       nc-relayd -d /srv/newchat --db postgresql:///newchat -l 127.0.0.1:8081 \\\n"
	    "           -D example.org\n");
}

static void
usage(void)
{
	usage_to(stderr);
	exit(NC_EUSAGE);
}

/* One data directory, one relay on sqlite: a second one on the same -d
 * would race the first for its sqlite store and blobs. Relays on
 * PostgreSQL (shared) share the directory (its blobs and keys) with each
 * other, never with one on sqlite. The lock (flock on datadir/lock) is
 * held until the process ends, however it ends; the file says who holds
 * it: the sqlite relay's pid, or "db" for relays on --db. */
static int
lock_datadir(const char *dir, int shared)
{
	char p[4096], who[32];
	int fd, n;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "nc-relayd: %s: %s\n", dir, strerror(errno));
		return NC_ECANTCREAT;
	}
	n = snprintf(p, sizeof p, "%s/lock", dir);
	if (n < 0 || (size_t)n >= sizeof p) {
		fprintf(stderr, "nc-relayd: %s: path too long\n", dir);
		return NC_EUSAGE;
	}
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		fprintf(stderr, "nc-relayd: %s: %s\n", p, strerror(errno));
		return NC_ECANTCREAT;
	}
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		int e = errno;

		if (e == EWOULDBLOCK) {
			n = (int)pread(fd, who, sizeof who - 1, 0);
			who[n > 0 ? n : 0] = '\0';
			if (strncmp(who, "db\n", 3) == 0)
				fprintf(stderr, "nc-relayd: %s: in use by nc-relayd on "
				    "PostgreSQL (--db); stop them first, or give this one "
				    "another -d\n", dir);
			else {
				who[strspn(who, "0123456789")] = '\0';
				fprintf(stderr, "nc-relayd: %s: in use by another nc-relayd%s"
				    "%s%s%s; stop it first, or give this one another -d\n",
				    dir, shared ? " on sqlite" : "", *who ? " (pid " : "", who,
				    *who ? ")" : "");
			}
		} else
			fprintf(stderr, "nc-relayd: %s: lock: %s\n", p, strerror(e));
		close(fd);
		return NC_ETEMP;
	}
	/* Whose lock it is, for the message above. */
	n = shared ? snprintf(who, sizeof who, "db\n") :
	    snprintf(who, sizeof who, "%ld\n", (long)getpid());
	if ((!shared && ftruncate(fd, 0) != 0) || pwrite(fd, who, (size_t)n, 0) != n ||
	    (shared && ftruncate(fd, n) != 0))
		fprintf(stderr, "nc-relayd: %s: cannot note who holds it\n", p);
	return 0;   /* fd stays open: the lock lives with the process */
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
	O_PERIP, O_RREG, O_RLOGIN, O_RANON, O_BLOBMAX, O_REQTIME, O_MAILMAX, O_WORKERS, O_TRUSTPROXY,
	O_CONNSMAX, O_POLLSMAX, O_IDLEMAX, O_PUSHLOCAL, O_DB, O_BKMAX, O_BKBYTES };

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
	{ "backup-max", required_argument, NULL, O_BKMAX },
	{ "backup-bytes-max", required_argument, NULL, O_BKBYTES },
	{ "workers", required_argument, NULL, O_WORKERS },
	{ "trust-proxy", required_argument, NULL, O_TRUSTPROXY },
	{ "conns-max", required_argument, NULL, O_CONNSMAX },
	{ "polls-max", required_argument, NULL, O_POLLSMAX },
	{ "idle-max", required_argument, NULL, O_IDLEMAX },
	{ "push-allow-local", no_argument, NULL, O_PUSHLOCAL },
	{ "db", required_argument, NULL, O_DB },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Every held long-poll is a socket: the soft descriptor limit (often 1024)
 * goes up to the hard one, which the administrator sets (LimitNOFILE=). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 1 << 20;
	(void)setrlimit(RLIMIT_NOFILE, &rl);   /* else: the limit as it is */
}

/* Waits for SIGTERM/SIGINT, sweeping expired data once a minute (every
 * NC_RELAY_SWEEP_SECS seconds: tests shorten it). */
static void
serve(struct relay *r)
{
	sigset_t set;
	const char *e = getenv("NC_RELAY_SWEEP_SECS");
	struct timespec ts = { e && atol(e) > 0 ? atol(e) : 60, 0 };

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
		case O_CONNSMAX: hc.conns_max = (unsigned)num(optarg, 1000000); break;
		case O_POLLSMAX: hc.polls_max = (unsigned)num(optarg, 1000000); break;
		case O_IDLEMAX: hc.idle_max = (unsigned)num(optarg, 1000000); break;
		case O_PUSHLOCAL: rc.push_allow_local = 1; break;
		case O_DB: rc.db = optarg; break;
		case O_MAILMAX: rc.lim.mail_count = (uint32_t)num(optarg, UINT32_MAX); break;
		case O_BKMAX: rc.lim.backup_records = (uint32_t)num(optarg, UINT32_MAX); break;
		case O_BKBYTES: rc.lim.backup_bytes = num(optarg, (uint64_t)1 << 50); break;
		case O_REQTIME:
			hc.request_timeout = (unsigned)num(optarg, 3600);
			if (hc.idle_timeout > hc.request_timeout)
				hc.idle_timeout = hc.request_timeout;
			break;
		case 'h': usage_to(stdout); return fflush(stdout) ? NC_EIO : 0;
		case 'V':
			printf("nc-relayd (newchat) %s\n", NC_VERSION);
			return fflush(stdout) ? NC_EIO : 0;
		default: usage();
		}
	}
	if (optind != argc || rc.datadir == NULL || (!issue && rc.domain == NULL) ||
	    hc.threads == 0 || hc.workers == 0 || hc.request_timeout == 0 ||
	    (!hc.tls_cert != !hc.tls_key))
		usage();
	/* Before anything is opened: an address that cannot be is a usage
	 * error, with an example. */
	if (!issue && http_listen_check(hc.listen) != 0) {
		fprintf(stderr, "nc-relayd: -l %s: not an address:port (e.g. -l "
		    "127.0.0.1:8080, -l [::1]:8080, -l 0.0.0.0:443; port 0 picks "
		    "a free one)\n", hc.listen);
		return NC_EUSAGE;
	}
	/* On PostgreSQL, many processes share the database and the blob
	 * directory: a shared lock, which keeps a relay on sqlite out. */
	if (!issue && (ch = lock_datadir(rc.datadir, rc.db != NULL)) != 0)
		return ch;
	if (issue)
		rc.domain = "localhost";
	/* No core dumps: they would hold the key log's signing key and
	 * login secrets (security review, issue 14 item 4). */
	if (setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) != 0) {
		perror("nc-relayd: cannot disable core dumps");
		return NC_EOSERR;
	}
	raise_nofile();
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
	if ((ch = http_start(&h, &hc, r, url, sizeof url)) != 0) {
		relay_close(r);
		return ch;
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
