/* http.c - the HTTP front on libmicrohttpd. Bounds enforced here: the body
 * size from the request line (before a byte of body is read) and while it
 * arrives, header size (the connection memory limit), connections per
 * address, an inactivity timeout, and a total deadline per request (a reaper
 * thread shuts down sockets past it: MHD's own timeout only measures
 * inactivity, which a slow sender resets byte by byte).
 *
 * Connections (issue 20): MHD on epoll, long-polls suspended (no thread or
 * poll slot each). Every connection is on one list: idle (no request in
 * progress, oldest first), busy (a request arriving or answered) or none
 * (suspended). Past --conns-max a connection is still accepted - MHD's own
 * limit is higher, so nothing is left in the listen queue - and its request
 * answered 503 with Retry-After; idle ones past --idle-max, and any idle
 * one when a new connection finds the relay full, are closed oldest first;
 * long-polls past --polls-max get 503. So idle sockets and long-polls can
 * never take the room deliveries need. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "err.h"
#include "fsutil.h"
#include "http.h"
#include "reqsig.h"
#include "waiters.h"

enum { C_IDLE, C_BUSY, C_PARKED, C_GONE };

/* One TCP connection, for the limits and the deadline reaper. */
struct conn {
	int fd;
	int where;                /* C_*: the list it is on (none if parked/gone) */
	int over;                 /* accepted past conns_max: answered 503 */
	int64_t deadline_ms;      /* busy: the request's end */
	int64_t since_ms;         /* idle: since when */
	/* A blob append written in place holds its upload's lock while its
	 * body comes: a sender gone part-way must not keep it for the idle
	 * timeout (MHD may miss the end of a socket whose last bytes came
	 * with it), so the reaper ends such a connection (part_stalled). */
	int part;                 /* receiving such a body */
	atomic_ullong part_got;   /* its bytes so far (its MHD thread's) */
	unsigned long long part_seen;   /* part_got at the reaper's last turn */
	struct conn *prev, *next;
};

struct clist {
	struct conn *head, *tail;
	long n;
};

#define STREAM_PATH_MAX 4200

/* One request (a held long-poll is one of these, a struct conn and MHD's
 * connection: keep it small). */
struct req {
	struct http *h;
	struct conn *conn;
	struct MHD_Connection *mc;
	struct req *next;         /* in the work queue */
	int answered;             /* a worker ran relay_api() */
	char addr[INET6_ADDRSTRLEN + 1];
	struct api_req r;
	char *target, *method;
	int started, too_long, failed;
	uint64_t max, got, over;   /* over: bytes past max, discarded */
	nc_buf body;
	int stream_fd;
	char *stream_path;        /* a streamed body's file (malloc'd), or NULL */
	struct blob_w *part;      /* or a blob append's, written in place */
	int waiting;              /* suspended: 1 armed, 2 woken */
	int held;                 /* suspended, counted in h->held */
	int polled;               /* counted in h->polls */
	int close;                /* answer with Connection: close */
	int64_t wait_until_ms;
	struct waiter w;
	struct api_resp a;
};

struct http {
	struct http_conf conf;
	int proxy_af;             /* --trust-proxy: AF_INET/AF_INET6, or 0 */
	unsigned char proxy[16];
	struct relay *r;
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	struct clist idle, busy;
	long live;                /* connections not shut down by us */
	long active;
	long held;                /* connections suspended now */
	long polls;               /* long-polls held now */
	pthread_t reaper;
	int stop;
	char *tls_cert, *tls_key;
	/* Workers run relay_api() off the MHD threads, which only do I/O: a
	 * request waiting for its commit holds a worker and a suspended
	 * connection, so every request in flight joins the next group commit. */
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	struct req *whead, *wtail;
	pthread_t *workers;
	unsigned nworkers;
	int wstop;
};

void
http_conf_defaults(struct http_conf *c)
{
	memset(c, 0, sizeof *c);
	c->listen = "127.0.0.1:8080";
	c->threads = 4;
	c->workers = 64;
	c->conns_per_ip = 64;
	c->conns_max = 0;         /* from the descriptor limit */
	c->idle_timeout = 15;
	c->request_timeout = 30;
	c->upload_timeout = 600;
}

static int64_t
now_ms(void)
{
	return waiters_now_ms();
}

/* ---- connection lists (all under h->mu) ---- */

static struct clist *
list_of(struct http *h, int where)
{
	return where == C_IDLE ? &h->idle : where == C_BUSY ? &h->busy : NULL;
}

static void
c_unlink(struct http *h, struct conn *c)
{
	struct clist *l = list_of(h, c->where);

	if (l == NULL)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->n--;
}

/* Move c to the end of list where (a gone connection stays gone). */
static void
c_move(struct http *h, struct conn *c, int where)
{
	struct clist *l;

	if (c == NULL || c->where == C_GONE)
		return;
	c_unlink(h, c);
	c->where = where;
	if ((l = list_of(h, where)) == NULL)
		return;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
	if (where == C_IDLE)
		c->since_ms = now_ms();
}

/* Close c from our side: MHD sees the socket end and cleans up. */
static void
c_drop(struct http *h, struct conn *c)
{
	c_unlink(h, c);
	c->where = C_GONE;
	h->live--;
	shutdown(c->fd, SHUT_RDWR);
}

/* Close the oldest idle connection if it has been idle min_ms: 1 if one
 * was. A client's fresh connection is idle only until its request line
 * arrives, a few milliseconds; what stays idle is what holds a socket and
 * says nothing. */
static int
drop_idle(struct http *h, int64_t now, int64_t min_ms)
{
	struct conn *c = h->idle.head;

	if (c == NULL || now - c->since_ms < min_ms)
		return 0;
	c_drop(h, c);
	return 1;
}

/* Idle connections younger than this are never dropped: a client's request
 * line follows its connection within a round trip. Past --idle-max (a
 * flood of silent sockets) the bound is shorter, so room is made at each
 * of the reaper's turns and a client behind the flood is not refused. */
#define IDLE_MIN_MS 1000
#define IDLE_FLOOD_MS 100

static int64_t
idle_min(const struct http *h)
{
	return h->idle.n > (long)h->conf.idle_max ? IDLE_FLOOD_MS : IDLE_MIN_MS;
}

/* ---- deadlines ---- */

/* c receives a blob append in place and no byte came since the last turn,
 * while its peer has closed its side and nothing is left unread: the
 * body can never end. */
static int
part_stalled(struct conn *c)
{
	unsigned long long got = atomic_load_explicit(&c->part_got,
	    memory_order_relaxed);
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	int unread = -1, stalled;

	stalled = got == c->part_seen &&
	    getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    ti.tcpi_state == TCP_CLOSE_WAIT &&
	    ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0;
	c->part_seen = got;
	return stalled;
}

/* Whether q's connection receives a blob append in place (part_stalled). */
static void
conn_part(struct http *h, struct conn *c, int on)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	c->part = on;
	c->part_seen = ~0ull;
	pthread_mutex_unlock(&h->mu);
}

static void *
reaper(void *arg)
{
	struct http *h = arg;
	struct timespec ts = { 0, 250 * 1000000 };
	struct conn *c, *next;
	int64_t now, idle_max_ms = (int64_t)h->conf.request_timeout * 1000;

	for (;;) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&h->mu);
		if (h->stop) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		now = now_ms();
		for (c = h->busy.head; c; c = next) {
			next = c->next;
			if (now > c->deadline_ms || (c->part && part_stalled(c)))
				c_drop(h, c);
		}
		/* A request line dribbled in byte by byte, or an idle socket
		 * past its time; then the idle past the cap. */
		while (drop_idle(h, now, idle_max_ms))
			;
		while (h->idle.n > (long)h->conf.idle_max &&
		    drop_idle(h, now, IDLE_FLOOD_MS))
			;
		pthread_mutex_unlock(&h->mu);
	}
}

static void
set_deadline(struct http *h, struct conn *c, unsigned seconds)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	c_move(h, c, C_BUSY);
	c->deadline_ms = now_ms() + (int64_t)seconds * 1000;
	pthread_mutex_unlock(&h->mu);
}

/* Suspend q's connection (a worker answers it, or mail wakes it), or 0
 * once the relay is stopping: MHD_stop_daemon() must never find a
 * suspended connection, so none is suspended after http_stop() begins.
 * (Deciding under h->mu is what makes "none after" true.) Suspended, the
 * connection is exempt from the request deadline. */
static int
hold(struct req *q)
{
	struct http *h = q->h;

	pthread_mutex_lock(&h->mu);
	if (atomic_load(&h->r->stopping)) {
		pthread_mutex_unlock(&h->mu);
		return 0;
	}
	h->held++;
	q->held = 1;
	c_move(h, q->conn, C_PARKED);
	pthread_mutex_unlock(&h->mu);
	MHD_suspend_connection(q->mc);
	return 1;
}

/* q's connection is back from a suspension: its deadline runs again. */
static void
back(struct req *q)
{
	struct http *h = q->h;

	if (!q->held)   /* only ever set and cleared on q's own MHD thread */
		return;
	pthread_mutex_lock(&h->mu);
	q->held = 0;
	h->held--;
	if (q->conn) {
		c_move(h, q->conn, C_BUSY);
		q->conn->deadline_ms = now_ms() +
		    (int64_t)h->conf.request_timeout * 1000;
	}
	pthread_mutex_unlock(&h->mu);
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **sctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct conn *c = *sctx;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (c = calloc(1, sizeof *c)) == NULL)
			return;
		c->fd = ci->connect_fd;
		c->where = C_PARKED;   /* on no list yet */
		pthread_mutex_lock(&h->mu);
		c_move(h, c, C_IDLE);
		/* Full: room from an idle one, or this one is told 503. */
		if (++h->live > (long)h->conf.conns_max &&
		    !drop_idle(h, now_ms(), idle_min(h)))
			c->over = 1;
		pthread_mutex_unlock(&h->mu);
		if (c->over)   /* and it does not keep its socket long */
			MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT,
			    (unsigned)2);
		*sctx = c;
	} else if (c != NULL) {
		pthread_mutex_lock(&h->mu);
		if (c->where != C_GONE) {
			c_unlink(h, c);
			h->live--;
		}
		pthread_mutex_unlock(&h->mu);
		free(c);
		*sctx = NULL;
	}
}

/* ---- request life ---- */

/* Called when the request line is in: the raw target, before MHD decodes
 * it, is what device signatures cover. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct http *h = cls;
	struct req *q = calloc(1, sizeof *q);
	const union MHD_ConnectionInfo *ci;

	if (q == NULL)
		return NULL;
	q->h = h;
	q->mc = mc;
	q->stream_fd = -1;
	api_resp_init(&q->a);
	if (strlen(uri) > NC_REQSIG_TARGET_MAX)
		q->too_long = 1;
	else if ((q->target = strdup(uri)) == NULL) {
		free(q);
		return NULL;
	}
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	q->conn = ci ? ci->socket_context : NULL;
	set_deadline(h, q->conn, h->conf.request_timeout);
	pthread_mutex_lock(&h->mu);
	h->active++;
	pthread_mutex_unlock(&h->mu);
	return q;
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **rctx,
    enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req *q = *rctx;

	(void)mc;
	(void)toe;
	if (q == NULL)
		return;
	back(q);
	waiters_remove(h->r->waiters, &q->w);
	if (q->stream_fd >= 0)
		close(q->stream_fd);
	if (q->stream_path && q->stream_path[0] && !q->a.file_taken)
		unlink(q->stream_path);
	free(q->stream_path);
	if (q->part != NULL) {
		conn_part(h, q->conn, 0);
		blobfs_part_end(q->part);   /* what was not committed is cut */
	}
	free(q->part);
	api_resp_free(&q->a);
	nc_buf_free(&q->body);
	free(q->target);
	free(q->method);
	pthread_mutex_lock(&h->mu);
	c_move(h, q->conn, C_IDLE);   /* until its next request, if any */
	h->active--;
	h->polls -= q->polled;
	pthread_mutex_unlock(&h->mu);
	free(q);
	*rctx = NULL;
}

static enum MHD_Result
send_resp(struct req *q, struct api_resp *a)
{
	struct MHD_Response *rs;
	char ra[24];
	enum MHD_Result rc;

	if (a->fd >= 0) {
		rs = MHD_create_response_from_fd_at_offset64(a->fd_size, a->fd,
		    a->fd_off);
		if (rs)
			a->fd = -1;   /* MHD closes it */
	} else if (a->body.len > 0) {
		rs = MHD_create_response_from_buffer(a->body.len, a->body.p,
		    MHD_RESPMEM_MUST_FREE);
		if (rs)
			a->body = (nc_buf)NC_BUF_INIT;
	} else
		rs = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (rs == NULL)
		return MHD_NO;
	if (a->status != 204)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, a->ctype);
	if (a->content_range[0])
		MHD_add_response_header(rs, "Content-Range", a->content_range);
	if (a->kt_proof)
		MHD_add_response_header(rs, "X-NC-KT-Proof", a->kt_proof);
	if (a->retry_after) {
		snprintf(ra, sizeof ra, "%u", a->retry_after);
		MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (q->close)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONNECTION, "close");
	rc = MHD_queue_response(q->mc, (unsigned)a->status, rs);
	MHD_destroy_response(rs);
	return rc;
}

#define RETRY_FULL 5   /* Retry-After of a 503 for lack of room */

static enum MHD_Result
refuse(struct req *q, int status, const char *why)
{
	api_resp_free(&q->a);
	api_resp_init(&q->a);
	q->a.status = status;
	if (status == 503)
		q->a.retry_after = RETRY_FULL;
	q->a.ctype = "text/plain";
	if (nc_buf_printf(&q->a.body, "%s\n", why) != 0)
		return MHD_NO;
	q->failed = 1;
	return send_resp(q, &q->a);
}

static const char *
header(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

/* The client a request is counted against (rate limits): an IPv4
 * address, or an IPv6 /64 - one subscriber's allocation, whose addresses
 * are one client, not 2^64 of them. An IPv4-mapped address is IPv4. */
static void
client_key(int af, const unsigned char *a, char *out, size_t n)
{
	unsigned char m[16];

	if (af == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a)) {
		af = AF_INET;
		a += 12;
	}
	if (af == AF_INET) {
		inet_ntop(AF_INET, a, out, (socklen_t)n);
		return;
	}
	memcpy(m, a, 8);
	memset(m + 8, 0, 8);
	inet_ntop(AF_INET6, m, out, (socklen_t)n);
	if (strlen(out) + 4 <= n)
		strcat(out, "/64");
}

/* One address as text (IPv6 possibly in brackets, spaces around) into
 * binary: its family, or 0 if it is none. */
static int
parse_addr(const char *s, size_t len, unsigned char *a)
{
	char t[INET6_ADDRSTRLEN + 3];

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len > 2 && s[0] == '[' && s[len - 1] == ']')
		s++, len -= 2;
	if (len == 0 || len >= sizeof t)
		return 0;
	memcpy(t, s, len);
	t[len] = '\0';
	if (inet_pton(AF_INET, t, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, t, a) == 1)
		return AF_INET6;
	return 0;
}

/* The peer's address; from the proxy named by --trust-proxy, the address
 * it appended last to X-Forwarded-For (the client it saw: entries before
 * it are the client's own word). Anyone else's X-Forwarded-For is ignored. */
static void
client_addr(struct http *h, struct MHD_Connection *mc, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff, *last;
	unsigned char a[16], f[16];
	int af;

	snprintf(out, n, "?");
	if (sa && sa->sa_family == AF_INET) {
		af = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		af = AF_INET6;
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	} else {
		return;
	}
	if (h->proxy_af == af && memcmp(a, h->proxy, af == AF_INET ? 4 : 16) == 0 &&
	    (xff = header(mc, "X-Forwarded-For")) != NULL) {
		last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		if ((af = parse_addr(last, strlen(last), f)) != 0) {
			client_key(af, f, out, n);
			return;
		}
		af = h->proxy_af;
	}
	client_key(af, a, out, n);
}

/* First call, headers in: refuse what is too large before reading it. */
static enum MHD_Result
begin(struct req *q, const char *method)
{
	struct http *h = q->h;
	const char *cl = header(q->mc, MHD_HTTP_HEADER_CONTENT_LENGTH);
	int stream, status;

	q->started = 1;
	if (q->conn && q->conn->over) {
		q->close = 1;
		return refuse(q, 503, "relay full, retry later");
	}
	if (q->too_long)
		return refuse(q, 414, "request target too long");
	if ((q->method = strdup(method)) == NULL)
		return MHD_NO;
	status = relay_api_body_max(h->r, method, q->target, &q->max, &stream);
	if (status == 404)
		return refuse(q, 404, "no such route");
	if (status == 405)
		return refuse(q, 405, "method not allowed on this route");
	if (status != 0)
		return refuse(q, status, "bad request target");
	if (cl && strtoull(cl, NULL, 10) > q->max)
		return refuse(q, 413, "request body too large for this route");
	if (stream) {
		set_deadline(h, q->conn, h->conf.upload_timeout);
		/* an append its upload takes: into the upload's file as it comes */
		if (cl && strcmp(method, "PATCH") == 0 &&
		    (q->part = malloc(sizeof *q->part)) != NULL &&
		    relay_api_blob_part(h->r, method, q->target,
		    strtoull(cl, NULL, 10), q->part) == 0) {
			conn_part(h, q->conn, 1);
			return MHD_YES;
		}
		free(q->part);
		q->part = NULL;
		if ((q->stream_path = calloc(1, STREAM_PATH_MAX)) == NULL)
			return MHD_NO;
		if (store_blob_tmp(h->r->store, q->stream_path, STREAM_PATH_MAX,
		    &q->stream_fd) != ST_OK) {
			q->stream_path[0] = '\0';
			return refuse(q, 503, "cannot store uploads now");
		}
	} else if (cl && q->max > 0 &&
	    nc_buf_reserve(&q->body, (size_t)strtoull(cl, NULL, 10)) != 0)
		return MHD_NO;
	return MHD_YES;
}

/* A body chunk: count it against the limit, keep it in memory or on disk. */
static enum MHD_Result
take(struct req *q, const char *data, size_t n)
{
	ssize_t w;

	if (q->failed)
		return MHD_YES;   /* discard what follows a refusal */
	/* A chunked body past the limit (its size shows only now): MHD
	 * answers only once the body has ended, so the rest is read and
	 * dropped, for as much again as the route allows (at least 64 KiB),
	 * and 413 is the answer; a body that goes on past that loses its
	 * connection. */
	if (q->over > 0 || n > q->max - q->got) {
		q->over += n;
		return q->over <= (q->max > 65536 ? q->max : 65536) ? MHD_YES : MHD_NO;
	}
	q->got += n;
	if (q->part != NULL) {
		if (q->conn)
			atomic_store_explicit(&q->conn->part_got, q->got,
			    memory_order_relaxed);
		return blobfs_part_write(q->part, q->got - n, data, n) == 0 ?
		    MHD_YES : MHD_NO;
	}
	if (q->stream_fd < 0)
		return nc_buf_add(&q->body, data, n) == 0 ? MHD_YES : MHD_NO;
	while (n > 0) {
		if ((w = write(q->stream_fd, data, n)) <= 0)
			return MHD_NO;
		data += w;
		n -= (size_t)w;
	}
	return MHD_YES;
}

static void
wake(void *arg)
{
	struct req *q = arg;

	q->waiting = 2;
	MHD_resume_connection(q->mc);
}

/* Nothing to list yet: suspend until mail for this mailbox or the deadline. */
static enum MHD_Result
wait_mail(struct req *q)
{
	struct http *h = q->h;

	if (q->waiting == 0)
		q->wait_until_ms = now_ms() + (int64_t)q->a.wait.seconds * 1000;
	snprintf(q->w.user, sizeof q->w.user, "%s", q->a.wait.user);
	memcpy(q->w.dev, q->a.wait.dev, NC_DEVID_LEN);
	q->w.deadline_ms = q->wait_until_ms;
	q->w.fire = wake;
	q->w.arg = q;
	if (!q->polled) {   /* a new long-poll: is there room? */
		pthread_mutex_lock(&h->mu);
		if (h->polls < (long)h->conf.polls_max) {
			q->polled = 1;
			h->polls++;
		}
		pthread_mutex_unlock(&h->mu);
		if (!q->polled)
			return refuse(q, 503, "too many long-polls held, retry later");
	}
	if (!hold(q)) {   /* stopping: the listing as it is now */
		q->waiting = 0;
		relay_api_list(h->r, &q->a.wait, &q->a, 1);
		return send_resp(q, &q->a);
	}
	q->waiting = 1;
	switch (waiters_add(h->r->waiters, &q->w, q->a.wait.gen)) {
	case 1:
		break;
	case 0:   /* mail came meanwhile: list again */
		wake(q);
		break;
	default:  /* no memory to wait: answer what there is */
		q->wait_until_ms = 0;
		wake(q);
	}
	return MHD_YES;
}

/* ---- workers ---- */

static void *
worker(void *arg)
{
	struct http *h = arg;
	struct req *q;

	pthread_mutex_lock(&h->wmu);
	for (;;) {
		while (h->whead == NULL && !h->wstop)
			pthread_cond_wait(&h->wcv, &h->wmu);
		if ((q = h->whead) == NULL)
			break;
		if ((h->whead = q->next) == NULL)
			h->wtail = NULL;
		pthread_mutex_unlock(&h->wmu);
		relay_api(h->r, &q->r, &q->a);
		q->answered = 1;
		MHD_resume_connection(q->mc);
		pthread_mutex_lock(&h->wmu);
	}
	pthread_mutex_unlock(&h->wmu);
	return NULL;
}

/* Hand q to a worker and suspend its connection until it has answered.
 * Header values stay valid: MHD leaves a suspended connection alone. */
static enum MHD_Result
dispatch(struct req *q)
{
	struct http *h = q->h;
	struct api_req *r = &q->r;

	if (q->stream_fd >= 0) {
		close(q->stream_fd);
		q->stream_fd = -1;
		r->body_file = q->stream_path;
		r->body_file_size = q->got;
	}
	if (q->part != NULL) {
		conn_part(h, q->conn, 0);   /* all came */
		r->body_part = q->part;
		r->body_file_size = q->got;
	}
	client_addr(h, q->mc, q->addr, sizeof q->addr);
	r->method = q->method;
	r->target = q->target;
	r->addr = q->addr;
	r->h_device = header(q->mc, NC_HDR_DEVICE);
	r->h_time = header(q->mc, NC_HDR_TIME);
	r->h_nonce = header(q->mc, NC_HDR_NONCE);
	r->h_sig = header(q->mc, NC_HDR_SIG);
	r->h_delete_hash = header(q->mc, "X-NC-Delete-Hash");
	r->h_delete_token = header(q->mc, "X-NC-Delete-Token");
	r->h_expires = header(q->mc, "X-NC-Expires");
	r->h_backup_token = header(q->mc, "X-NC-Backup-Token");
	r->h_range = header(q->mc, "Range");
	r->h_kt_since = header(q->mc, "X-NC-KT-Since");
	r->body = q->body.p;
	r->body_len = q->body.len;
	r->now = (int64_t)time(NULL);
	if (!hold(q))
		return refuse(q, 503, "shutting down, retry later");
	pthread_mutex_lock(&h->wmu);
	q->next = NULL;
	if (h->wtail)
		h->wtail->next = q;
	else
		h->whead = q;
	h->wtail = q;
	pthread_cond_signal(&h->wcv);
	pthread_mutex_unlock(&h->wmu);
	return MHD_YES;
}

static enum MHD_Result
finish(struct req *q)
{
	struct http *h = q->h;

	if (q->waiting == 2) {   /* woken: list again */
		relay_api_list(h->r, &q->a.wait, &q->a, now_ms() >= q->wait_until_ms);
		return q->a.status == 0 ? wait_mail(q) : send_resp(q, &q->a);
	}
	if (!q->answered)
		return dispatch(q);
	return q->a.status == 0 ? wait_mail(q) : send_resp(q, &q->a);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **rctx)
{
	struct req *q = *rctx;

	(void)cls;
	(void)url;
	(void)version;
	if (q == NULL)
		return MHD_NO;
	q->mc = mc;
	back(q);
	if (!q->started)
		return begin(q, method);
	if (*size > 0) {
		enum MHD_Result rc = take(q, data, *size);
		*size = 0;
		return rc;
	}
	if (q->failed)
		return MHD_YES;
	if (q->over > 0)
		return refuse(q, 413, "request body too large for this route");
	return finish(q);
}

/* ---- start / stop ---- */

static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char *end;
	long port;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= sizeof host)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof *ss);
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof *s4;
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

int
http_listen_check(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return parse_listen(s, &ss, &len);
}

/* Why MHD could not listen on ss (it does not say): bind a socket of our
 * own there and look at errno. */
static int
listen_error(const struct sockaddr_storage *ss, socklen_t len, const char *s)
{
	int fd, one = 1, e = 0;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		e = errno;
	else {
		/* as MHD does, so a port in TIME_WAIT is not "in use" */
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (const struct sockaddr *)ss, len) != 0)
			e = errno;
		close(fd);
	}
	if (e == EADDRINUSE) {
		fprintf(stderr, "nc-relayd: -l %s: address in use (another relay "
		    "or server listens there): pick another port, e.g. -l %.*s:0 "
		    "for a free one\n", s, (int)(strrchr(s, ':') - s), s);
		return NC_EUSAGE;
	}
	if (e == EADDRNOTAVAIL) {
		fprintf(stderr, "nc-relayd: -l %s: not an address of this machine "
		    "(e.g. -l 127.0.0.1:8080, or -l 0.0.0.0:8080 for all)\n", s);
		return NC_EUSAGE;
	}
	if (e == EACCES) {
		fprintf(stderr, "nc-relayd: -l %s: permission denied (ports below "
		    "1024 need root or CAP_NET_BIND_SERVICE; or e.g. -l %.*s:8080)\n",
		    s, (int)(strrchr(s, ':') - s), s);
		return NC_EPERM;
	}
	fprintf(stderr, "nc-relayd: cannot listen on %s%s%s\n", s,
	    e ? ": " : "", e ? strerror(e) : "");
	return NC_EOSERR;
}

static char *
slurp(const char *path)
{
	nc_buf b = NC_BUF_INIT;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || nc_buf_readfd(&b, fd, 1 << 20) != 0 || nc_buf_nul(&b) != 0) {
		if (fd >= 0)
			close(fd);
		nc_buf_free(&b);
		return NULL;
	}
	close(fd);
	return (char *)b.p;
}

static void
base_url(struct http *h, const struct sockaddr_storage *req, char *url, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d,
	    MHD_DAEMON_INFO_LISTEN_FD);
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;
	const char *scheme = h->tls_cert ? "https" : "http";

	if (di && getsockname(di->listen_fd, (struct sockaddr *)&ss, &len) == 0)
		req = &ss;
	if (req->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)req;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		port = ntohs(s6->sin6_port);
		snprintf(url, n, "%s://[%s]:%u", scheme, host, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)req;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		snprintf(url, n, "%s://%s:%u", scheme, host, port);
	}
}

static void
start_workers(struct http *h)
{
	pthread_attr_t at;

	pthread_mutex_init(&h->wmu, NULL);
	pthread_cond_init(&h->wcv, NULL);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, (size_t)512 << 10);
	h->workers = calloc(h->conf.workers, sizeof *h->workers);
	for (unsigned i = 0; h->workers && i < h->conf.workers; i++)
		if (pthread_create(&h->workers[h->nworkers], &at, worker, h) == 0)
			h->nworkers++;
	pthread_attr_destroy(&at);
}

static void
stop_workers(struct http *h)
{
	pthread_mutex_lock(&h->wmu);
	h->wstop = 1;
	pthread_cond_broadcast(&h->wcv);
	pthread_mutex_unlock(&h->wmu);
	for (unsigned i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
	free(h->workers);
	pthread_mutex_destroy(&h->wmu);
	pthread_cond_destroy(&h->wcv);
}

/* libmicrohttpd's own consistency checks: say which one failed, then
 * abort as its default handler would. */
static void
on_panic(void *cls, const char *file, unsigned line, const char *reason)
{
	(void)cls;
	fprintf(stderr, "nc-relayd: libmicrohttpd %s:%u: %s\n",
	    file ? file : "?", line, reason ? reason : "panic");
	abort();
}

#define FD_RESERVE 256          /* descriptors kept for files, sqlite, pipes */
#define CONNS_AUTO_MAX 100000   /* --conns-max by default, descriptors allowing */

/* Connections MHD itself accepts for conns_max of ours: the rest are told
 * 503 rather than left in the listen queue. */
static unsigned
headroom(unsigned conns_max)
{
	return conns_max / 16 + 16;
}

/* conns_max (0: as many as the descriptor limit allows, up to
 * CONNS_AUTO_MAX), polls_max and idle_max (0: a share of conns_max). 0, or
 * NC_EUSAGE with the reason on stderr. */
static int
size_limits(struct http_conf *c)
{
	struct rlimit rl;
	unsigned long long fds = 1024, budget;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fds = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (unsigned long long)rl.rlim_cur;
	budget = fds > FD_RESERVE + 64 ? fds - FD_RESERVE : 64;
	if (c->conns_max == 0) {
		c->conns_max = (unsigned)((budget - 16) * 16 / 17);
		if (c->conns_max > CONNS_AUTO_MAX)
			c->conns_max = CONNS_AUTO_MAX;
	} else if (c->conns_max + (unsigned long long)headroom(c->conns_max) > budget) {
		fprintf(stderr, "nc-relayd: --conns-max %u needs %llu file "
		    "descriptors, the limit is %llu: raise it (ulimit -n, "
		    "LimitNOFILE= in systemd) or lower --conns-max\n", c->conns_max,
		    c->conns_max + (unsigned long long)headroom(c->conns_max) + FD_RESERVE, fds);
		return NC_EUSAGE;
	}
	if (c->polls_max == 0)
		c->polls_max = c->conns_max - c->conns_max / 16 * 3;
	if (c->idle_max == 0)
		c->idle_max = c->conns_max / 8 + 1;
	if (c->polls_max > c->conns_max || c->idle_max > c->conns_max) {
		fprintf(stderr, "nc-relayd: --polls-max and --idle-max must not exceed "
		    "--conns-max (%u)\n", c->conns_max);
		return NC_EUSAGE;
	}
	return 0;
}

int
http_start(struct http **hp, const struct http_conf *c, struct relay *r,
    char *url, size_t urllen)
{
	struct http *h = calloc(1, sizeof *h);
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
	int rc0;

	if (h == NULL)
		return -1;
	MHD_set_panic_func(on_panic, NULL);
	h->conf = *c;
	h->r = r;
	if ((rc0 = size_limits(&h->conf)) != 0) {
		free(h);
		return rc0;
	}
	c = &h->conf;
	if (c->trust_proxy)   /* checked by main(): unparsable trusts no one */
		h->proxy_af = parse_addr(c->trust_proxy, strlen(c->trust_proxy), h->proxy);
	pthread_mutex_init(&h->mu, NULL);
	if (parse_listen(c->listen, &ss, &sl) != 0) {
		fprintf(stderr, "nc-relayd: -l %s: not an address:port (e.g. -l "
		    "127.0.0.1:8080)\n", c->listen);
		free(h);
		return NC_EUSAGE;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (c->tls_cert || c->tls_key) {
		if ((h->tls_cert = slurp(c->tls_cert ? c->tls_cert : "")) == NULL ||
		    (h->tls_key = slurp(c->tls_key ? c->tls_key : "")) == NULL) {
			fprintf(stderr, "nc-relayd: cannot read the TLS certificate and key\n");
			free(h->tls_cert);
			free(h);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	/* Ready before the first request can reach dispatch(), which waits
	 * for wmu until the relay knows its own URL. */
	start_workers(h);
	pthread_mutex_lock(&h->wmu);
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
	    MHD_OPTION_CONNECTION_LIMIT, c->conns_max + headroom(c->conns_max),
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)c->conns_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    h->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->tls_cert,
	    MHD_OPTION_HTTPS_MEM_KEY, h->tls_key,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		int rc;

		pthread_mutex_unlock(&h->wmu);
		rc = listen_error(&ss, sl, c->listen);
		stop_workers(h);
		free(h->tls_cert);
		free(h->tls_key);
		free(h);
		return rc;
	}
	base_url(h, &ss, url, urllen);
	if (r->url[0] == '\0')   /* no --public-url: the address we listen on */
		snprintf(r->url, sizeof r->url, "%s", url);
	pthread_mutex_unlock(&h->wmu);
	pthread_create(&h->reaper, NULL, reaper, h);
	*hp = h;
	return 0;
}

void
http_stop(struct http *h, unsigned grace)
{
	struct timespec ts = { 0, 20 * 1000000 };
	int64_t until = now_ms() + (int64_t)grace * 1000;
	long active, held;

	/* No MHD_quiesce_daemon(): on an epoll daemon with its own threads
	 * it races the event loop for the listen socket and aborts the
	 * process (libmicrohttpd 0.9.75). Connections that come meanwhile
	 * are answered 503. */
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->r->stopping, 1);
	pthread_mutex_unlock(&h->mu);
	waiters_fire_all(h->r->waiters);
	for (;;) {
		pthread_mutex_lock(&h->mu);
		active = h->active;
		held = h->held;
		pthread_mutex_unlock(&h->mu);
		/* Past the grace, requests still reading a body are cut; a
		 * suspended one is always waited for (a worker answers it
		 * soon: everything now is answered 503). */
		if (held == 0 && (active == 0 || now_ms() >= until))
			break;
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(h->d);
	stop_workers(h);
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->reaper, NULL);
	free(h->tls_cert);
	free(h->tls_key);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
