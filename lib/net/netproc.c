/* netproc.c - HTTP requests carried out by a child process (netproc.h). */
#define _GNU_SOURCE   /* close_range, sched_setaffinity */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "netproc.h"
#include "wire.h"

/* ---- frames ---- */

static void
put_text(nc_enc *e, const char *s)
{
	nc_put_bytes(e, s ? s : "", s ? strlen(s) : 0);
}

/* Text of at most max bytes without NUL, copied to out (max + 1 bytes). */
static void
get_text(nc_dec *d, char *out, size_t max)
{
	size_t n = 0;
	const uint8_t *p = nc_get_bytes(d, max, &n);

	out[0] = '\0';
	if (p == NULL)
		return;
	nc_dec_check(d, memchr(p, '\0', n) == NULL, "NUL in text");
	if (!d->err) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

/* u8 has, text: NULL when has is 0 (and then the text is empty). */
static const char *
get_opt(nc_dec *d, char *out)
{
	int has = nc_get_u8(d);

	nc_dec_check(d, has <= 1, "netproc: flag");
	get_text(d, out, NC_NETPROC_STR_MAX);
	nc_dec_check(d, has || out[0] == '\0', "netproc: text without flag");
	return has ? out : NULL;
}

int
nc_netproc_req_enc(nc_buf *out, const nc_http_req *req)
{
	nc_enc e;
	size_t n = 0;

	while (req->headers && req->headers[n])
		n++;
	if (n > NC_NETPROC_HDRS)
		return nc_fail(NC_ESOFTWARE, "netproc: too many headers");
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	put_text(&e, req->method);
	put_text(&e, req->url);
	nc_put_u8(&e, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put_text(&e, req->headers[i]);
	nc_put_bytes(&e, req->body, req->body ? req->bodylen : 0);
	nc_put_u32(&e, req->timeout_ms > 0 && req->timeout_ms <= UINT32_MAX ?
	    (uint32_t)req->timeout_ms : 0);
	nc_put_u64(&e, req->max_response);
	nc_put_u8(&e, req->proxy != NULL);
	put_text(&e, req->proxy);
	nc_put_u8(&e, req->cafile != NULL);
	put_text(&e, req->cafile);
	return nc_enc_end(&e);
}

int
nc_netproc_req_dec(nc_netproc_req *q, const uint8_t *p, size_t len)
{
	nc_dec d;
	size_t n, i, bodylen = 0;

	memset(&q->req, 0, sizeof q->req);
	nc_dec_init(&d, p, len);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "netproc: version");
	get_text(&d, q->method, sizeof q->method - 1);
	get_text(&d, q->url, NC_NETPROC_STR_MAX);
	n = nc_get_u8(&d);
	nc_dec_check(&d, n <= NC_NETPROC_HDRS, "netproc: too many headers");
	for (i = 0; i < n && !d.err; i++) {
		get_text(&d, q->hdr[i], NC_NETPROC_HDR_MAX);
		q->hdrp[i] = q->hdr[i];
	}
	q->hdrp[i] = NULL;
	q->req.body = nc_get_bytes(&d, NC_NETPROC_MAX, &bodylen);
	q->req.bodylen = bodylen;
	q->req.timeout_ms = (long)nc_get_u32(&d);
	q->req.max_response = (size_t)nc_get_u64(&d);
	q->req.proxy = get_opt(&d, q->proxy);
	q->req.cafile = get_opt(&d, q->cafile);
	q->req.method = q->method;
	q->req.url = q->url;
	q->req.headers = q->hdrp;
	return nc_dec_end(&d, "netproc request");
}

int
nc_netproc_resp_enc(nc_buf *out, int rc, const char *msg,
    const nc_http_resp *resp)
{
	nc_enc e;

	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	nc_put_u32(&e, (uint32_t)rc);
	put_text(&e, rc ? msg : "");
	nc_put_u32(&e, rc ? 0 : (uint32_t)resp->status);
	nc_put_u64(&e, rc || resp->retry_after < 0 ? 0 :
	    (uint64_t)resp->retry_after + 1);
	put_text(&e, rc ? "" : resp->content_type);
	nc_put_u64(&e, rc || resp->date < 0 ? 0 : (uint64_t)resp->date);
	put_text(&e, rc ? "" : resp->kt_proof);
	nc_put_bytes(&e, rc ? NULL : resp->body.p, rc ? 0 : resp->body.len);
	return nc_enc_end(&e);
}

int
nc_netproc_resp_dec(const uint8_t *p, size_t len, size_t max, int *rc,
    char *msg, size_t msgsize, nc_http_resp *resp)
{
	nc_dec d;
	char m[512];
	const uint8_t *body;
	uint64_t ra, date;
	size_t n = 0;

	nc_dec_init(&d, p, len);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "netproc: version");
	*rc = (int)nc_get_u32(&d);
	nc_dec_check(&d, *rc >= 0 && *rc <= NC_ECONFIG, "netproc: result");
	get_text(&d, m, sizeof m - 1);
	resp->status = (long)nc_get_u32(&d);
	nc_dec_check(&d, resp->status <= 999, "netproc: status");
	ra = nc_get_u64(&d);
	nc_dec_check(&d, ra <= (uint64_t)1 << 40, "netproc: retry-after");
	resp->retry_after = ra ? (long)(ra - 1) : -1;
	get_text(&d, resp->content_type, sizeof resp->content_type - 1);
	date = nc_get_u64(&d);
	nc_dec_check(&d, date < (uint64_t)1 << 40, "netproc: date");
	resp->date = (int64_t)date;
	get_text(&d, resp->kt_proof, sizeof resp->kt_proof - 1);
	body = nc_get_bytes(&d, max, &n);
	/* One encoding only: a message with an error, the rest without. */
	nc_dec_check(&d, *rc ? resp->status == 0 && ra == 0 && n == 0 &&
	    date == 0 && resp->content_type[0] == '\0' &&
	    resp->kt_proof[0] == '\0' : m[0] == '\0',
	    "netproc: fields");
	if (nc_dec_end(&d, "netproc response") != 0)
		return NC_EDATA;
	nc_buf_reset(&resp->body);
	if (n > 0 && nc_buf_add(&resp->body, body, n) != 0)
		return NC_EOSERR;
	snprintf(msg, msgsize, "%s", m);
	return 0;
}

/* ---- the socket pair: u32 length, u32 tag, then the frame ---- */

/* All n bytes written (out) or read; -1 on EOF or an error. Written with
 * send: a helper gone is an error, not a SIGPIPE. */
static int
xfer(int fd, uint8_t *p, size_t n, int out)
{
	while (n > 0) {
		ssize_t k = out ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
send_frame(int fd, uint32_t tag, const nc_buf *b)
{
	nc_buf h = NC_BUF_INIT;
	nc_enc e;
	int rc;

	nc_enc_init(&e, &h);
	nc_put_u32(&e, (uint32_t)b->len);
	nc_put_u32(&e, tag);
	rc = nc_enc_end(&e) != 0 || xfer(fd, h.p, h.len, 1) ||
	    xfer(fd, b->p, b->len, 1) ? -1 : 0;
	nc_buf_free(&h);
	return rc;
}

/* 0; -1 on EOF or error; -2 for a frame over max (nothing read of it). */
static int
recv_frame(int fd, uint32_t *tag, nc_buf *b, size_t max)
{
	uint8_t h[8];
	nc_dec d;
	size_t n;

	nc_buf_reset(b);
	if (xfer(fd, h, 8, 0) != 0)
		return -1;
	nc_dec_init(&d, h, 8);
	n = nc_get_u32(&d);
	*tag = nc_get_u32(&d);
	if (n > max)
		return -2;
	if (nc_buf_reserve(b, n) != 0 || xfer(fd, b->p, n, 0) != 0)
		return -1;
	b->len = n;
	return 0;
}

/* ---- the helper: requests run on a few worker threads, each with its
 * own libcurl handle (and so its own kept-alive connections). A request
 * goes to the first idle worker: one at a time, they all go to the
 * first, whose connections stay warm. ---- */

#define WORKERS 4

static struct {
	pthread_mutex_t mu;      /* the slots below */
	pthread_cond_t cv;       /* a slot changed */
	pthread_mutex_t wmu;     /* one answer at a time on the socket */
	int fd;
	struct slot {
		int state;           /* 0 not started, 1 idle, 2 has work */
		uint32_t tag;
		nc_buf in;
	} w[WORKERS];
} H = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, -1, { { 0, 0, NC_BUF_INIT } } };

static void *
work(void *arg)
{
	struct slot *w = arg;
	nc_netproc_req *q = calloc(1, sizeof *q);
	nc_http_resp resp = NC_HTTP_RESP_INIT;
	nc_buf out = NC_SECBUF_INIT;
	cpu_set_t all;
	uint32_t tag;
	int rc, first = 1;

	if (q == NULL)
		_exit(1);
	/* libcurl and this thread's handle, while the parent opens its
	 * state (the first worker starts before any request) */
	nc_http_load();
	for (;;) {
		pthread_mutex_lock(&H.mu);
		while (w->state != 2)
			pthread_cond_wait(&H.cv, &H.mu);
		pthread_mutex_unlock(&H.mu);
		/* Started while the helper was held on one CPU (pin_beside), it
		 * takes the CPUs its main thread has now: the parent gave them
		 * back (unpin) before its first request. */
		if (first && sched_getaffinity(getpid(), sizeof all, &all) == 0)
			(void)sched_setaffinity(0, sizeof all, &all);
		first = 0;
		if ((rc = nc_netproc_req_dec(q, w->in.p, w->in.len)) == 0)
			rc = nc_http_here(&q->req, &resp);
		nc_buf_reset(&out);
		if (nc_netproc_resp_enc(&out, rc, nc_errmsg(), &resp) != 0)
			_exit(1);
		/* Idle before the answer goes: the parent's next request,
		 * sent as soon as it has this one's answer, finds this worker
		 * (its handle warm, its connections open), not a new thread. */
		pthread_mutex_lock(&H.mu);
		tag = w->tag;
		nc_buf_reset(&w->in);
		w->state = 1;
		pthread_cond_broadcast(&H.cv);
		pthread_mutex_unlock(&H.mu);
		pthread_mutex_lock(&H.wmu);
		if (send_frame(H.fd, tag, &out) != 0)
			_exit(0);   /* the parent is gone */
		pthread_mutex_unlock(&H.wmu);
	}
	return NULL;
}

static void
start_worker(struct slot *w)
{
	pthread_t th;

	if (pthread_create(&th, NULL, work, w) != 0)
		_exit(1);
	pthread_detach(th);
	w->state = 1;
}

static void
serve(int fd)
{
	nc_buf in = NC_SECBUF_INIT, t;
	uint32_t tag;
	int i;

	H.fd = fd;
	for (i = 0; i < WORKERS; i++)
		H.w[i].in = (nc_buf)NC_SECBUF_INIT;
	/* The first worker loads libcurl now, while the parent opens its
	 * state, and is ready for the first request when it comes. */
	pthread_mutex_lock(&H.mu);
	start_worker(&H.w[0]);
	pthread_mutex_unlock(&H.mu);
	while (recv_frame(fd, &tag, &in, NC_NETPROC_MAX) == 0) {
		pthread_mutex_lock(&H.mu);
		for (;;) {
			for (i = 0; i < WORKERS && H.w[i].state == 2; i++)
				;
			if (i < WORKERS)
				break;
			pthread_cond_wait(&H.cv, &H.mu);
		}
		if (H.w[i].state == 0)
			start_worker(&H.w[i]);
		t = H.w[i].in;
		H.w[i].in = in;
		in = t;
		H.w[i].tag = tag;
		H.w[i].state = 2;
		pthread_cond_broadcast(&H.cv);
		pthread_mutex_unlock(&H.mu);
	}
	/* The parent closed its end (or died): nothing is left to do, and
	 * the kernel closes the connections; no cleanup to wait for. */
	_exit(0);
}

static void
child(int fd, pid_t parent)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	char *pw;

	/* It reads nothing of the parent's input and writes nothing to its
	 * output (stderr stays, for what a sanitizer or libcurl may say). */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(1);
	/* No other descriptor of the parent's (a test harness's pipes, say)
	 * is held open. fd is above 2: see nc_netproc_start. */
	if (fd > 3)
		(void)close_range(3, (unsigned)fd - 1, 0);
	(void)close_range((unsigned)fd + 1, ~0U, 0);
	/* Its copy of the environment keeps no password. */
	if ((pw = getenv("NC_PASSWORD")) != NULL)
		sodium_memzero(pw, strlen(pw));
	unsetenv("NC_PASSWORD");
	/* Gone with the parent, even one killed in a long poll. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(0);
	serve(fd);
}

/* ---- the command's side ---- */

static int helper = -1;   /* our end of the socket pair */
static pid_t helper_pid;
static cpu_set_t allowed;   /* the CPUs we may use, if pinned */
static int pinned;          /* the helper is held on one of them */
static pthread_mutex_t helper_mu = PTHREAD_MUTEX_INITIALIZER;
static nc_http_call *inflight;   /* started, not answered */
static uint32_t last_tag;
static int atfork_set;

/* Run the helper beside the command, not after it. A scheduler may keep a
 * new child on its parent's CPU until the parent sleeps (a VM's kernel
 * packing tasks onto few vCPUs does, for milliseconds), and the load the
 * helper exists to overlap would then not overlap at all. So the helper
 * starts on the next CPU the command may use, if there is one, and gets
 * them all back with the first request (unpin()): running by then, it is
 * left where it is. Best effort: a failure changes only the timing. */
static void
pin_beside(pid_t pid)
{
	cpu_set_t one;
	int here = sched_getcpu(), n = CPU_SETSIZE, cpu;

	if (here < 0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
	    CPU_COUNT(&allowed) < 2)
		return;
	for (cpu = (here + 1) % n; cpu != here; cpu = (cpu + 1) % n)
		if (CPU_ISSET(cpu, &allowed))
			break;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pinned = sched_setaffinity(pid, sizeof one, &one) == 0;
}

static void
unpin(void)
{
	if (pinned)
		(void)sched_setaffinity(helper_pid, sizeof allowed, &allowed);
	pinned = 0;
}

/* A child forked later (by a test, say) does not talk to our helper. */
static void
forget_helper(void)
{
	if (helper >= 0)
		close(helper);
	helper = -1;
	pinned = 0;
	inflight = NULL;
}

int
nc_netproc_start(void)
{
	int sv[2], fd;
	pid_t pid, parent = getpid();

	if (helper >= 0)
		return 0;
	if (!atfork_set && pthread_atfork(NULL, NULL, forget_helper) == 0)
		atfork_set = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	/* The child's end goes above 2 (a command started with a standard
	 * descriptor closed gets low numbers), where /dev/null cannot land
	 * on it. */
	if ((fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 3)) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	fflush(NULL);   /* nothing buffered is written twice */
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(fd);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		child(fd, parent);
	}
	close(fd);
	helper = sv[0];
	helper_pid = pid;
	pin_beside(pid);
	return 0;
}

int
nc_netproc_active(void)
{
	return helper >= 0;
}

pid_t
nc_netproc_pid(void)
{
	return helper >= 0 ? helper_pid : 0;
}

static void
finish(nc_http_call *c, int rc, const char *msg)
{
	c->rc = rc;
	snprintf(c->msg, sizeof c->msg, "%s", rc ? msg : "");
	c->done = 1;
}

/* The helper is gone (or out of step, and then killed): every call in
 * flight fails, saying how, and the process goes on without it. Called
 * with helper_mu held. */
static void
lost(int kill_it)
{
	char why[80] = "network helper exited";
	int st = 0;
	nc_http_call *c;

	if (kill_it)
		kill(helper_pid, SIGKILL);
	close(helper);
	helper = -1;
	if (waitpid(helper_pid, &st, 0) == helper_pid && WIFSIGNALED(st) &&
	    !kill_it)
		snprintf(why, sizeof why, "network helper killed by signal %d",
		    WTERMSIG(st));
	else if (kill_it)
		snprintf(why, sizeof why, "network helper: bad answer");
	for (c = inflight; c != NULL; c = c->next)
		finish(c, NC_ESOFTWARE, why);
	inflight = NULL;
}

void
nc_netproc_start_call(const nc_http_req *req, nc_http_call *call)
{
	nc_buf out = NC_SECBUF_INIT;
	nc_http_req q = *req;
	nc_http_resp *resp = call->resp;
	int rc;

	call->max = req->max_response ? req->max_response : NC_HTTP_MAX_DEFAULT;
	if (call->max > NC_BUF_MAX - 1)
		call->max = NC_BUF_MAX - 1;
	nc_buf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after = -1;
	resp->content_type[0] = '\0';
	resp->kt_proof[0] = '\0';
	/* The proxy is the one this process was told about: the helper's
	 * environment is a copy from the time it started. */
	q.proxy = req->proxy ? req->proxy :
	    getenv("NC_PROXY") ? getenv("NC_PROXY") : "";
	if ((rc = nc_netproc_req_enc(&out, &q)) != 0) {
		finish(call, rc, nc_errmsg());
		goto done;
	}
	pthread_mutex_lock(&helper_mu);
	unpin();
	call->tag = ++last_tag;
	call->next = inflight;
	inflight = call;
	if (helper < 0)
		lost(0);   /* (cannot be: the caller checked) */
	else if (send_frame(helper, call->tag, &out) != 0)
		lost(0);
	pthread_mutex_unlock(&helper_mu);
done:
	nc_buf_free(&out);
}

/* Read answers until call's has come; the others are kept in theirs. */
void
nc_netproc_wait(nc_http_call *call)
{
	nc_buf in = NC_SECBUF_INIT;
	nc_http_call **pp, *c;
	uint32_t tag;
	int got, rc;

	pthread_mutex_lock(&helper_mu);
	while (!call->done) {
		if (helper < 0) {
			finish(call, NC_ESOFTWARE, "network helper not running");
			break;
		}
		if ((got = recv_frame(helper, &tag, &in, NC_NETPROC_MAX)) != 0) {
			lost(got == -2);
			continue;
		}
		for (pp = &inflight; *pp != NULL && (*pp)->tag != tag;
		    pp = &(*pp)->next)
			;
		if ((c = *pp) == NULL) {   /* an answer to nothing we asked */
			lost(1);
			continue;
		}
		*pp = c->next;
		if (nc_netproc_resp_dec(in.p, in.len, c->max, &rc, c->msg,
		    sizeof c->msg, c->resp) != 0)
			finish(c, NC_ESOFTWARE, "network helper: bad answer");
		else
			c->rc = rc, c->done = 1;
	}
	pthread_mutex_unlock(&helper_mu);
	nc_buf_free(&in);
}

void
nc_netproc_stop(void)
{
	nc_http_call *c;

	pthread_mutex_lock(&helper_mu);
	if (helper >= 0) {
		close(helper);
		helper = -1;
		(void)waitpid(helper_pid, NULL, WNOHANG);
	}
	for (c = inflight; c != NULL; c = c->next)
		finish(c, NC_ESOFTWARE, "network helper stopped");
	inflight = NULL;
	pthread_mutex_unlock(&helper_mu);
}
