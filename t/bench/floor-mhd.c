/* floor-mhd.c - the benchmark floor: a bare libmicrohttpd handler (same
 * thread pool and epoll as nc-relayd) that answers 201 to every PUT after
 * doing nothing (mode none) or inserting the body into sqlite in WAL mode
 * with synchronous=NORMAL (no fsync per commit) or FULL (one per request).
 *   floor-mhd MODE DBFILE     prints its URL, serves until SIGTERM */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <sqlite3.h>

static sqlite3 *db;
static sqlite3_stmt *ins;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct req {
	char body[65536];
	size_t len;
};

static int
store(const char *url, const char *p, size_t n)
{
	int rc;

	if (db == NULL)
		return 0;
	pthread_mutex_lock(&mu);
	sqlite3_reset(ins);
	sqlite3_bind_text(ins, 1, url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(ins, 2, p, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(ins) == SQLITE_DONE ? 0 : -1;
	pthread_mutex_unlock(&mu);
	return rc;
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
	ret = MHD_queue_response(c, store(url, r->body, r->len) == 0 ? 201 : 503, rs);
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
	int sig;

	if (argc != 3)
		return 64;
	if (strcmp(argv[1], "none") != 0) {
		char sql[200];
		snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
		    "CREATE TABLE IF NOT EXISTS m(k TEXT, v BLOB);",
		    strcmp(argv[1], "full") == 0 ? "FULL" : "NORMAL");
		if (sqlite3_open(argv[2], &db) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(db, "INSERT INTO m VALUES (?, ?)", -1, &ins, NULL))
			return 71;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0,
	    NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	    MHD_OPTION_THREAD_POOL_SIZE, 16u, MHD_OPTION_CONNECTION_LIMIT, 1000u,
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (d == NULL)
		return 71;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	getsockname(di->listen_fd, (struct sockaddr *)&sa, &sl);
	printf("http://127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return 0;
}
