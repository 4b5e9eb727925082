/* floor-pg.c - the PostgreSQL benchmark floor: a bare libmicrohttpd
 * handler (the thread pool and epoll of floor-mhd.c) that answers 201 to
 * every PUT after its body is committed to PostgreSQL with
 * synchronous_commit=on:
 *   single   one INSERT (one transaction) per request, on the thread's own
 *            connection: concurrent commits share WAL flushes only as
 *            PostgreSQL's own group commit makes them
 *   batch    requests queue for one writer connection, which commits all
 *            that are waiting (up to 64) in one multi-row INSERT, then
 *            answers them
 *   floor-pg MODE CONNINFO    prints its URL, serves until SIGTERM */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#define THREADS 32u
#define BATCH 64

static const char *conninfo;
static int batched;
static _Thread_local PGconn *tconn;

struct req {
	char url[256];
	char body[65536];
	size_t len;
	int state;            /* batch: 0 queued, 1 committed, -1 failed */
	struct req *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER, answered = PTHREAD_COND_INITIALIZER;
static struct req *head, **tail = &head;

static PGconn *
db(void)
{
	if (tconn == NULL || PQstatus(tconn) != CONNECTION_OK) {
		PQfinish(tconn);
		tconn = PQconnectdb(conninfo);
	}
	return tconn;
}

static int
insert(PGconn *c, struct req **rs, int n)
{
	static _Thread_local char sql[BATCH * 16 + 64];
	const char *vals[BATCH * 2];
	int lens[BATCH * 2], fmts[BATCH * 2], i, k;
	PGresult *r;

	k = snprintf(sql, sizeof sql, "INSERT INTO m(k, v) VALUES ");
	for (i = 0; i < n; i++) {
		k += snprintf(sql + k, sizeof sql - (size_t)k, "%s($%d, $%d)", i ? "," : "",
		    2 * i + 1, 2 * i + 2);
		vals[2 * i] = rs[i]->url;
		lens[2 * i] = 0;
		fmts[2 * i] = 0;
		vals[2 * i + 1] = rs[i]->body;
		lens[2 * i + 1] = (int)rs[i]->len;
		fmts[2 * i + 1] = 1;
	}
	r = PQexecParams(c, sql, 2 * n, NULL, vals, lens, fmts, 0);
	i = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(r);
	return i;
}

static void *
writer(void *arg)
{
	struct req *b[BATCH];
	int n, rc;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (head == NULL)
			pthread_cond_wait(&queued, &mu);
		for (n = 0; n < BATCH && head != NULL; n++) {
			b[n] = head;
			head = head->next;
		}
		if (head == NULL)
			tail = &head;
		pthread_mutex_unlock(&mu);
		rc = insert(db(), b, n);
		pthread_mutex_lock(&mu);
		while (n-- > 0)
			b[n]->state = rc == 0 ? 1 : -1;
		pthread_cond_broadcast(&answered);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static int
store(struct req *r)
{
	if (!batched)
		return insert(db(), &r, 1);
	pthread_mutex_lock(&mu);
	r->state = 0;
	r->next = NULL;
	*tail = r;
	tail = &r->next;
	pthread_cond_signal(&queued);
	while (r->state == 0)
		pthread_cond_wait(&answered, &mu);
	pthread_mutex_unlock(&mu);
	return r->state == 1 ? 0 : -1;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **ctx)
{
	struct req *r = *ctx;
	struct MHD_Response *rs;
	enum MHD_Result ret;

	(void)cls; (void)method; (void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return MHD_NO;
		snprintf(r->url, sizeof r->url, "%s", url);
		*ctx = r;
		return MHD_YES;
	}
	if (*size > 0) {
		size_t k = *size < sizeof r->body - r->len ? *size : sizeof r->body - r->len;
		memcpy(r->body + r->len, data, k);
		r->len += k;
		*size = 0;
		return MHD_YES;
	}
	rs = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, store(r) == 0 ? 201 : 503, rs);
	MHD_destroy_response(rs);
	return ret;
}

static void
done(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode t)
{
	(void)cls; (void)c; (void)t;
	free(*ctx);
	*ctx = NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	socklen_t sl = sizeof sa;
	sigset_t set;
	pthread_t w;
	PGresult *r;
	int sig;

	if (argc != 3 || (strcmp(argv[1], "single") != 0 && strcmp(argv[1], "batch") != 0))
		return 64;
	batched = strcmp(argv[1], "batch") == 0;
	conninfo = argv[2];
	r = PQexec(db(), "SET synchronous_commit = on; DROP TABLE IF EXISTS m;"
	    " CREATE TABLE m(k text, v bytea)");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "floor-pg: %s", PQerrorMessage(db()));
		return 71;
	}
	PQclear(r);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (batched && pthread_create(&w, NULL, writer, NULL) != 0)
		return 71;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0,
	    NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	    MHD_OPTION_THREAD_POOL_SIZE, THREADS, MHD_OPTION_CONNECTION_LIMIT, 1000u,
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (d == NULL)
		return 71;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	getsockname(di->listen_fd, (struct sockaddr *)&sa, &sl);
	printf("http://127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	sigwait(&set, &sig);
	_exit(0);   /* a bench floor: the writer and the pool's connections go with it */
}
