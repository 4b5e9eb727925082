/* nc-holdconns - many connections to one relay at once, for the capacity
 * tests (issue 20): one process, one epoll, no thread per socket.
 *
 *   nc-holdconns [-i] PORT KEYDIR USER DEVHEX N SECONDS SRC...
 *
 * Opens N connections to 127.0.0.1:PORT, from the source addresses SRC in
 * turn (127.0.0.2, 127.0.0.3, ...: one address has too few ports and meets
 * the relay's per-address cap), and on each sends a long-poll signed with
 * KEYDIR/dev.sk (its own nonce each):
 *	GET /v1/users/USER/devices/DEVHEX/mailbox?wait=60
 * With -i it sends nothing: idle sockets. When every connection is made it
 * prints "sent S failed F" (F: connect errors), then holds them SECONDS and
 * prints "held H answered A closed C" and one "status CODE COUNT" line per
 * status code of the answers: H connections still open without a byte
 * from the relay, A answered, C closed by the relay without an answer.
 * Its own descriptor limit is raised to what N needs; exit 77 with the
 * reason if that is not allowed, 1 on other errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "reqsig.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define INFLIGHT 256   /* connects in progress at once */

enum { S_CONNECTING = 1, S_SENT, S_DONE };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
die(const char *what)
{
	fprintf(stderr, "nc-holdconns: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The relay answered s or closed it: count which, and close it. */
static void
settle(int s, long *answered, long *closed, long statuses[600])
{
	char buf[1024];
	ssize_t len = read(s, buf, sizeof buf - 1);

	if (len <= 0)
		(*closed)++;
	else {
		(*answered)++;
		buf[len] = '\0';
		if (len > 12 && memcmp(buf, "HTTP/1.", 7) == 0)
			statuses[atoi(buf + 9) % 600]++;
	}
	close(s);
}

/* Room for n sockets: soft limit up, the hard one too if we may. */
static void
fds_for(long n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		rl.rlim_max = need;   /* works with CAP_SYS_RESOURCE */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		printf("skip: %ld sockets need %lu descriptors, the hard limit "
		    "is %lu\n", n, (unsigned long)need, (unsigned long)rl.rlim_max);
		exit(77);
	}
}

int
main(int argc, char **argv)
{
	int idle = 0, ep, *fd, *state;
	long n, i, next = 0, inflight = 0, sent = 0, failed = 0, done = 0;
	long answered = 0, closed = 0, statuses[600] = { 0 };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct in_addr *src;
	int nsrc, seconds;
	uint8_t sk[64];
	char target[256], path[4096];
	struct epoll_event ev, evs[256];
	int64_t until;
	FILE *f = NULL;

	if (argc > 1 && strcmp(argv[1], "-i") == 0) {
		idle = 1;
		argv++;
		argc--;
	}
	if (argc < 8) {
		fprintf(stderr, "usage: nc-holdconns [-i] PORT KEYDIR USER DEVHEX N "
		    "SECONDS SRC...\n");
		return 1;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[1]));
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	n = atol(argv[5]);
	seconds = atoi(argv[6]);
	nsrc = argc - 7;
	if (n <= 0 || (src = calloc((size_t)nsrc, sizeof *src)) == NULL ||
	    (fd = calloc((size_t)n, sizeof *fd)) == NULL ||
	    (state = calloc((size_t)n, sizeof *state)) == NULL)
		return 1;
	for (i = 0; i < nsrc; i++)
		if (inet_pton(AF_INET, argv[7 + i], &src[i]) != 1) {
			fprintf(stderr, "nc-holdconns: %s: not an IPv4 address\n", argv[7 + i]);
			return 1;
		}
	snprintf(target, sizeof target, "/v1/users/%s/devices/%s/mailbox?wait=60",
	    argv[3], argv[4]);
	snprintf(path, sizeof path, "%s/dev.sk", argv[2]);
	if (sodium_init() < 0 || (f = fopen(path, "rb")) == NULL ||
	    fread(sk, 1, sizeof sk, f) != sizeof sk)
		die("dev.sk");
	fclose(f);
	fds_for(n);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");

	/* Connect, at most INFLIGHT at a time; send once connected. */
	while (sent + failed < n) {
		while (next < n && inflight < INFLIGHT) {
			struct sockaddr_in me = { .sin_family = AF_INET,
			    .sin_addr = src[next % nsrc] };
			int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

			if (s < 0)
				die("socket");
			(void)setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
			if (bind(s, (struct sockaddr *)&me, sizeof me) != 0)
				die("bind (is the source a loopback address?)");
			if (connect(s, (struct sockaddr *)&dst, sizeof dst) != 0 &&
			    errno != EINPROGRESS)
				die("connect");
			fd[next] = s;
			state[next] = S_CONNECTING;
			ev.events = EPOLLOUT;
			ev.data.u64 = (uint64_t)next;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0)
				die("epoll_ctl");
			next++;
			inflight++;
		}
		int k = epoll_wait(ep, evs, 256, 10000);

		if (k <= 0) {
			fprintf(stderr, "nc-holdconns: connects stalled at %ld of %ld\n",
			    sent + failed, n);
			return 1;
		}
		for (int j = 0; j < k; j++) {
			long x = (long)evs[j].data.u64;
			int err = 0;
			socklen_t el = sizeof err;
			nc_reqsig_hdrs h;
			char buf[1024];
			int len;

			if (state[x] != S_CONNECTING) {
				/* answered or closed while we still connect others */
				if (state[x] == S_SENT) {
					settle(fd[x], &answered, &closed, statuses);
					state[x] = S_DONE;
					done++;
				}
				continue;
			}
			inflight--;
			getsockopt(fd[x], SOL_SOCKET, SO_ERROR, &err, &el);
			if (err != 0) {
				failed++;
				close(fd[x]);
				state[x] = S_DONE;
				continue;
			}
			state[x] = S_SENT;
			sent++;
			ev.events = EPOLLIN | EPOLLRDHUP;
			ev.data.u64 = (uint64_t)x;
			if (epoll_ctl(ep, EPOLL_CTL_MOD, fd[x], &ev) != 0)
				die("epoll_ctl");
			if (idle)
				continue;
			if (nc_reqsig_sign(&h, sk, "GET", target, (int64_t)time(NULL), NULL, 0) != 0)
				return 1;
			len = snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: relay\r\n"
			    "%s: %s\r\n%s: %s\r\n%s: %s\r\n%s: %s\r\n\r\n", target,
			    NC_HDR_DEVICE, h.device, NC_HDR_TIME, h.time, NC_HDR_NONCE,
			    h.nonce, NC_HDR_SIG, h.sig);
			if (write(fd[x], buf, (size_t)len) != len)
				die("write");
		}
	}
	printf("sent %ld failed %ld\n", sent, failed);
	fflush(stdout);

	until = now_ms() + (int64_t)seconds * 1000;
	for (int64_t left; (left = until - now_ms()) > 0;) {
		int k = epoll_wait(ep, evs, 256, (int)left);

		for (int j = 0; j < k; j++) {
			long x = (long)evs[j].data.u64;

			if (state[x] != S_SENT)
				continue;
			settle(fd[x], &answered, &closed, statuses);
			state[x] = S_DONE;
			done++;
		}
	}
	printf("held %ld answered %ld closed %ld\n", sent - done, answered, closed);
	for (i = 0; i < 600; i++)
		if (statuses[i])
			printf("status %ld %ld\n", i, statuses[i]);
	free(src);
	free(fd);
	free(state);
	return fflush(stdout) != 0;
}
