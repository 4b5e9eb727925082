/* test-http.c - the libcurl wrapper against a real libmicrohttpd server on
 * 127.0.0.1 port 0, started here: methods, headers, status codes, limits,
 * timeouts, refused connections, proxies, TLS verification, keep-alive, and
 * that libcurl is loaded only on first use and is not NEEDED. All of it
 * first through a helper process (netproc.h), which must give the same
 * answers while this process never loads libcurl; then in this process.
 * Also the helper's frames, and a helper that dies. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "http.h"
#include "netproc.h"
#include "check.h"

static int connections;   /* TCP connections the server accepted */

struct upload {
	nc_buf body;
};

static void
on_conn(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)c, (void)ctx;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_add_fetch(&connections, 1, __ATOMIC_SEQ_CST);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (u) {
		nc_buf_free(&u->body);
		free(u);
	}
	*con_cls = NULL;
}

static ssize_t
stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t total = (size_t)(uintptr_t)cls, n = max < 1000 ? max : 1000;

	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n > total - pos)
		n = total - pos;
	memset(buf, 's', n);
	return (ssize_t)n;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const void *p, size_t n,
    const char *hname, const char *hval)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)p,
	    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (hname)
		MHD_add_response_header(r, hname, hval);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	const char *v;

	(void)cls, (void)version;
	if (u == NULL) {
		if ((u = calloc(1, sizeof *u)) == NULL)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*size) {
		if (nc_buf_add(&u->body, data, *size) != 0)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	if (strstr(url, "://")) {   /* we are being used as a proxy */
		char s[300];

		snprintf(s, sizeof s, "proxied %s", url);
		return reply(c, 200, s, strlen(s), NULL, NULL);
	}
	if (strcmp(url, "/echo") == 0) {
		nc_buf b = NC_BUF_INIT;
		const char *xt = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "X-Test");
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Content-Type");
		enum MHD_Result ret;

		if (nc_buf_printf(&b, "%s\nx-test=%s\ncontent-type=%s\nlen=%zu\n",
		    method, xt ? xt : "-", ct ? ct : "-", u->body.len) != 0 ||
		    nc_buf_add(&b, u->body.p, u->body.len) != 0)
			return MHD_NO;
		ret = reply(c, 200, b.p, b.len, "Content-Type", "text/plain");
		nc_buf_free(&b);
		return ret;
	}
	if (strncmp(url, "/status/", 8) == 0)
		return reply(c, (unsigned)atoi(url + 8), "status", 6, NULL, NULL);
	if (strcmp(url, "/retry") == 0)
		return reply(c, 429, "slow down\n", 10, "Retry-After", "7");
	if (strcmp(url, "/big") == 0) {
		size_t n = (v = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, "n")) ? strtoul(v, NULL, 10) : 0;
		char *p = malloc(n + 1);
		enum MHD_Result ret;

		memset(p, 'b', n);
		ret = reply(c, 200, p, n, NULL, NULL);
		free(p);
		return ret;
	}
	if (strcmp(url, "/stream") == 0) {   /* chunked: no Content-Length */
		size_t n = (v = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, "n")) ? strtoul(v, NULL, 10) : 0;
		struct MHD_Response *r = MHD_create_response_from_callback(
		    MHD_SIZE_UNKNOWN, 1000, stream_cb, (void *)(uintptr_t)n,
		    NULL);
		enum MHD_Result ret = MHD_queue_response(c, 200, r);

		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/slow") == 0) {
		usleep(1500000);
		return reply(c, 200, "late", 4, NULL, NULL);
	}
	return reply(c, 404, "no such route\n", 14, NULL, NULL);
}

static struct MHD_Daemon *
start(unsigned flags, const char *key, const char *cert, int *port)
{
	struct sockaddr_in sin;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	flags |= MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION;
	if (key)
		d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, handler,
		    NULL, MHD_OPTION_SOCK_ADDR, &sin,
		    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
		    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL,
		    MHD_OPTION_SOCK_ADDR, &sin,
		    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
		    MHD_OPTION_NOTIFY_CONNECTION, on_conn, NULL,
		    MHD_OPTION_END);
	if (d == NULL)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : 0;
	return d;
}

static int
maps_have(const char *what)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int found = 0;

	while (f && fgets(line, sizeof line, f))
		found |= strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

static int
needed_curl(void)
{
	char exe[1024], cmd[1200], line[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	FILE *f;
	int needed = 0, lines = 0;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(cmd, sizeof cmd, "readelf -d '%s'", exe);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, "(NEEDED)")) {
			lines++;
			needed |= strstr(line, "libcurl") != NULL;
		}
	}
	pclose(f);
	return lines == 0 ? -1 : needed;   /* no NEEDED lines: readelf failed */
}

static char base[64];
static nc_http_resp resp = NC_HTTP_RESP_INIT;

static int
get(const char *path, size_t max)
{
	char url[128];
	nc_http_req r = { .method = "GET", .url = url, .max_response = max };

	snprintf(url, sizeof url, "%s%s", base, path);
	return nc_http(&r, &resp);
}

static int
body_is(const char *s)
{
	return resp.body.len == strlen(s) && memcmp(resp.body.p, s,
	    resp.body.len) == 0;
}

static void
methods(void)
{
	char url[128];
	const char *hdrs[] = { "X-Test: hello", NULL };
	const char *ctype[] = { "Content-Type: text/plain", NULL };
	static uint8_t big[100000];

	snprintf(url, sizeof url, "%s/echo", base);
	{
		nc_http_req r = { .method = "GET", .url = url, .headers = hdrs };

		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK_INT(resp.status, 200);
		CHECK(body_is("GET\nx-test=hello\ncontent-type=-\nlen=0\n"));
		CHECK_STR(resp.content_type, "text/plain");
		CHECK_INT(resp.retry_after, -1);
	}
	{
		nc_http_req r = { .method = "POST", .url = url,
		    .body = (const uint8_t *)"abc", .bodylen = 3 };

		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK(body_is("POST\nx-test=-\ncontent-type="
		    "application/octet-stream\nlen=3\nabc"));
		r.headers = ctype;
		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK(body_is("POST\nx-test=-\ncontent-type=text/plain\nlen=3\n"
		    "abc"));
		r.body = NULL;   /* an empty POST */
		r.bodylen = 0;
		r.headers = NULL;
		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK(body_is("POST\nx-test=-\ncontent-type="
		    "application/octet-stream\nlen=0\n"));
	}
	{
		nc_http_req r = { .method = "PUT", .url = url, .body = big,
		    .bodylen = sizeof big, .max_response = 200000 };
		const char *hdr = "PUT\nx-test=-\ncontent-type="
		    "application/octet-stream\nlen=100000\n";

		randombytes_buf(big, sizeof big);
		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK_INT(resp.status, 200);
		CHECK(resp.body.len == strlen(hdr) + sizeof big &&
		    memcmp(resp.body.p, hdr, strlen(hdr)) == 0 &&
		    memcmp(resp.body.p + strlen(hdr), big, sizeof big) == 0);
	}
	{
		nc_http_req r = { .method = "DELETE", .url = url };

		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK(body_is("DELETE\nx-test=-\ncontent-type=-\nlen=0\n"));
		r.body = (const uint8_t *)"tok";
		r.bodylen = 3;
		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK(body_is("DELETE\nx-test=-\ncontent-type="
		    "application/octet-stream\nlen=3\ntok"));
	}
	{
		nc_http_req r = { .method = "PATCH", .url = url };

		CHECK_INT(nc_http(&r, &resp), NC_ESOFTWARE);
		r.method = "GET";
		r.url = "ftp://127.0.0.1/x";
		CHECK_INT(nc_http(&r, &resp), NC_EDATA);
		r.url = "file:///etc/passwd";
		CHECK_INT(nc_http(&r, &resp), NC_EDATA);
		CHECK_INT(resp.body.len, 0);
	}
}

static void
statuses(void)
{
	static const int codes[] = { 201, 204, 400, 404, 409, 500, 503 };

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char path[32];

		snprintf(path, sizeof path, "/status/%d", codes[i]);
		CHECK_INT(get(path, 0), 0);
		CHECK_INT(resp.status, codes[i]);
	}
	CHECK_INT(get("/nowhere", 0), 0);
	CHECK_INT(resp.status, 404);
	CHECK(body_is("no such route\n"));
	CHECK_INT(get("/retry", 0), 0);
	CHECK_INT(resp.status, 429);
	CHECK_INT(resp.retry_after, 7);
	CHECK_INT(get("/status/200", 0), 0);
	CHECK_INT(resp.retry_after, -1);   /* reset per request */
	/* The server's Date (libmicrohttpd sends one), through the helper
	 * or not: a client compares its clock with it. */
	CHECK(resp.date > (int64_t)time(NULL) - 5 &&
	    resp.date < (int64_t)time(NULL) + 5);
}

/* IMF-fixdate only, strictly. */
static void
dates(void)
{
	const char *ok = "Sun, 06 Nov 1994 08:49:37 GMT";

	CHECK(nc_http_date(ok, strlen(ok)) == 784111777);
	ok = "Thu, 01 Jan 1970 00:00:00 GMT";
	CHECK(nc_http_date(ok, strlen(ok)) == 0);
	ok = "Tue, 29 Feb 2028 23:59:59 GMT";
	CHECK(nc_http_date(ok, strlen(ok)) == 1835481599);
	CHECK(nc_http_date("Sunday, 06-Nov-94 08:49:37 GMT", 30) == -1);
	CHECK(nc_http_date("Sun Nov  6 08:49:37 1994     ", 29) == -1);
	CHECK(nc_http_date("Sun, 06 Nov 1994 08:49:37 UTC", 29) == -1);
	CHECK(nc_http_date("Sun, 06 Nox 1994 08:49:37 GMT", 29) == -1);
	CHECK(nc_http_date("Sun, 06 Nov 1994 24:49:37 GMT", 29) == -1);
	CHECK(nc_http_date("Sun, 6  Nov 1994 08:49:37 GMT", 29) == -1);
	CHECK(nc_http_date("Sun, 06 Nov 1994 08:49:37 GMT", 28) == -1);
}

static void
limits(void)
{
	CHECK_INT(get("/big?n=1000", 1000), 0);
	CHECK_INT(resp.body.len, 1000);
	CHECK_INT(get("/big?n=1000", 999), NC_EDATA);
	CHECK(strstr(nc_errmsg(), "larger than 999") != NULL);
	CHECK_INT(resp.body.len, 0);
	/* Without Content-Length the limit is enforced while reading. */
	CHECK_INT(get("/stream?n=5000", 5000), 0);
	CHECK_INT(resp.body.len, 5000);
	CHECK_INT(get("/stream?n=5000", 4096), NC_EDATA);
	CHECK_INT(resp.body.len, 0);
	/* Default limit: 1 MiB. */
	CHECK_INT(get("/big?n=1048576", 0), 0);
	CHECK_INT(get("/big?n=1048577", 0), NC_EDATA);
	/* The handle is fine after an aborted transfer. */
	CHECK_INT(get("/status/200", 0), 0);
	CHECK_INT(resp.status, 200);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
unavailable(void)
{
	char url[128], want[128];
	long long t0;
	int fd, port;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	/* A total timeout: long-polls set theirs, everyone else gets 30 s. */
	snprintf(url, sizeof url, "%s/slow", base);
	{
		nc_http_req r = { .method = "GET", .url = url,
		    .timeout_ms = 300 };

		t0 = now_ms();
		CHECK_INT(nc_http(&r, &resp), NC_EUNAVAIL);
		CHECK(now_ms() - t0 < 1450);   /* before the server answers */
		CHECK(strstr(nc_errmsg(), "timed out") != NULL);
		CHECK(strncmp(nc_errmsg(), "relay http://127.0.0.1:", 23) == 0);
	}
	/* A port nobody listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	port = ntohs(sin.sin_port);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/x", port);
	{
		nc_http_req r = { .method = "GET", .url = url };

		CHECK_INT(nc_http(&r, &resp), NC_EUNAVAIL);
		snprintf(want, sizeof want, "relay http://127.0.0.1:%d: "
		    "Connection refused", port);
		CHECK_STR(nc_errmsg(), want);
	}
	/* Through a proxy that is down: the proxy is really used. */
	snprintf(want, sizeof want, "http://127.0.0.1:%d", port);
	setenv("NC_PROXY", want, 1);
	CHECK_INT(get("/status/200", 0), NC_EUNAVAIL);
	unsetenv("NC_PROXY");
	/* libcurl's own proxy variables are ignored. */
	setenv("http_proxy", want, 1);
	setenv("HTTP_PROXY", want, 1);
	CHECK_INT(get("/status/200", 0), 0);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	/* Our server as the proxy sees the absolute URL. */
	{
		nc_http_req r = { .method = "GET",
		    .url = "http://relay.example.invalid/v1/ping", .proxy = base };

		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK(body_is("proxied http://relay.example.invalid/v1/ping"));
	}
}

static void
keepalive(void)
{
	int before;

	nc_http_cleanup();
	before = __atomic_load_n(&connections, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 5; i++)
		CHECK_INT(get("/status/200", 0), 0);
	CHECK_INT(__atomic_load_n(&connections, __ATOMIC_SEQ_CST) - before, 1);
	nc_http_cleanup();
	CHECK_INT(get("/status/200", 0), 0);   /* a new handle */
	CHECK_INT(__atomic_load_n(&connections, __ATOMIC_SEQ_CST) - before, 2);
	/* A forked child opens its own connection. It reports through a
	 * pipe and ends by SIGKILL: under valgrind an exit would leak-check
	 * the child, where the server thread's half-made connection (the
	 * thread is not forked) shows as lost. */
	{
		int status, fds[2];
		char ok = 0;
		pid_t p;

		CHECK(pipe(fds) == 0);
		if ((p = fork()) == 0) {
			ok = get("/status/200", 0) == 0 && resp.status == 200;
			nc_http_cleanup();
			if (write(fds[1], &ok, 1) != 1)
				_exit(1);
			raise(SIGKILL);
		}
		close(fds[1]);
		CHECK(read(fds[0], &ok, 1) == 1 && ok == 1);
		close(fds[0]);
		CHECK(waitpid(p, &status, 0) == p && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL);
		CHECK_INT(__atomic_load_n(&connections, __ATOMIC_SEQ_CST) -
		    before, 3);
		CHECK_INT(get("/status/200", 0), 0);   /* ours still works */
		CHECK_INT(__atomic_load_n(&connections, __ATOMIC_SEQ_CST) -
		    before, 3);
	}
	nc_http_cleanup();
	nc_http_cleanup();   /* harmless twice */
}

/* A self-signed certificate for 127.0.0.1: refused unless it is given as
 * the CA file; a name it does not cover is refused even then. */
static void
tls(const char *dir)
{
	char cmd[2048], keyf[512], certf[512], url[128];
	nc_buf key = NC_BUF_INIT, cert = NC_BUF_INIT;
	struct MHD_Daemon *d;
	int port;
	FILE *f;

	snprintf(keyf, sizeof keyf, "%s/key.pem", dir);
	snprintf(certf, sizeof certf, "%s/cert.pem", dir);
	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' "
	    ">/dev/null 2>&1", keyf, certf);
	if (system(cmd) != 0) {
		printf("openssl not usable: TLS tests skipped\n");
		return;
	}
	if ((f = fopen(keyf, "r")) && nc_buf_readfd(&key, fileno(f), 1 << 16) == 0)
		CHECK_INT(nc_buf_nul(&key), 0);
	if (f)
		fclose(f);
	if ((f = fopen(certf, "r")) &&
	    nc_buf_readfd(&cert, fileno(f), 1 << 16) == 0)
		CHECK_INT(nc_buf_nul(&cert), 0);
	if (f)
		fclose(f);
	d = start(0, (char *)key.p, (char *)cert.p, &port);
	if (!CHECK(d != NULL))
		return;
	snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", port);
	{
		nc_http_req r = { .method = "GET", .url = url };

		CHECK_INT(nc_http(&r, &resp), NC_EUNAVAIL);
		CHECK(strstr(nc_errmsg(), "certificate") != NULL);
		r.cafile = certf;
		CHECK_INT(nc_http(&r, &resp), 0);
		CHECK_INT(resp.status, 200);
		CHECK(body_is("GET\nx-test=-\ncontent-type=-\nlen=0\n"));
		snprintf(url, sizeof url, "https://localhost:%d/echo", port);
		CHECK_INT(nc_http(&r, &resp), NC_EUNAVAIL);
	}
	nc_http_cleanup();
	MHD_stop_daemon(d);
	nc_buf_free(&key);
	nc_buf_free(&cert);
}

/* The frames between a command and its helper: what goes in comes out,
 * and anything but one whole well-formed frame is refused. */
static void
frames(void)
{
	const char *h[] = { "A: 1", "B: two", NULL };
	const char *many[NC_NETPROC_HDRS + 2];
	static const uint8_t body[] = "body\0bytes";
	nc_http_req r = { .method = "POST", .url = "http://x/y", .headers = h,
	    .body = body, .bodylen = sizeof body, .timeout_ms = 1234,
	    .max_response = 999, .cafile = "/ca.pem" };
	nc_http_resp a = { 201, NC_BUF_INIT, 7, "text/plain", 1800000000, "" };
	nc_http_resp c = NC_HTTP_RESP_INIT;
	nc_netproc_req *q = calloc(1, sizeof *q);
	nc_buf b = NC_BUF_INIT;
	char msg[512];
	size_t n, bad = 0;
	int rc = -1;

	if (!CHECK(q != NULL))
		return;
	CHECK_INT(nc_netproc_req_enc(&b, &r), 0);
	CHECK_INT(nc_netproc_req_dec(q, b.p, b.len), 0);
	CHECK_STR(q->req.method, "POST");
	CHECK_STR(q->req.url, "http://x/y");
	CHECK_STR(q->req.headers[0], "A: 1");
	CHECK_STR(q->req.headers[1], "B: two");
	CHECK(q->req.headers[2] == NULL);
	CHECK(q->req.bodylen == sizeof body &&
	    memcmp(q->req.body, body, sizeof body) == 0);
	CHECK_INT(q->req.timeout_ms, 1234);
	CHECK_INT(q->req.max_response, 999);
	CHECK(q->req.proxy == NULL);
	CHECK_STR(q->req.cafile, "/ca.pem");
	for (n = 0; n < b.len; n++)
		bad += nc_netproc_req_dec(q, b.p, n) != NC_EDATA;
	CHECK_INT(bad, 0);
	CHECK_INT(nc_buf_add(&b, "", 1), 0);
	CHECK_INT(nc_netproc_req_dec(q, b.p, b.len), NC_EDATA);
	/* A NUL inside the URL (after the version and "POST"). */
	b.len--;
	b.p[1 + 4 + 4 + 4] = '\0';
	CHECK_INT(nc_netproc_req_dec(q, b.p, b.len), NC_EDATA);
	b.p[0] = 2;
	CHECK_INT(nc_netproc_req_dec(q, b.p, b.len), NC_EDATA);
	for (n = 0; n < NC_NETPROC_HDRS + 1; n++)
		many[n] = "X: y";
	many[n] = NULL;
	r.headers = many;
	nc_buf_reset(&b);
	CHECK_INT(nc_netproc_req_enc(&b, &r), NC_ESOFTWARE);

	CHECK_INT(nc_buf_add(&a.body, "hi", 2), 0);
	nc_buf_reset(&b);
	CHECK_INT(nc_netproc_resp_enc(&b, 0, "ignored", &a), 0);
	CHECK_INT(nc_netproc_resp_dec(b.p, b.len, 2, &rc, msg, sizeof msg, &c), 0);
	CHECK_INT(rc, 0);
	CHECK_STR(msg, "");
	CHECK_INT(c.status, 201);
	CHECK_INT(c.retry_after, 7);
	CHECK_STR(c.content_type, "text/plain");
	CHECK(c.date == 1800000000);
	CHECK(c.body.len == 2 && memcmp(c.body.p, "hi", 2) == 0);
	CHECK_INT(nc_netproc_resp_dec(b.p, b.len, 1, &rc, msg, sizeof msg, &c),
	    NC_EDATA);   /* a body over the limit */
	for (bad = 0, n = 0; n < b.len; n++)
		bad += nc_netproc_resp_dec(b.p, n, 2, &rc, msg, sizeof msg, &c) !=
		    NC_EDATA;
	CHECK_INT(bad, 0);
	nc_buf_reset(&b);
	a.retry_after = -1;
	CHECK_INT(nc_netproc_resp_enc(&b, 0, "", &a), 0);
	CHECK_INT(nc_netproc_resp_dec(b.p, b.len, 2, &rc, msg, sizeof msg, &c), 0);
	CHECK_INT(c.retry_after, -1);
	nc_buf_reset(&b);
	CHECK_INT(nc_netproc_resp_enc(&b, NC_EUNAVAIL, "relay x: refused", &a), 0);
	CHECK_INT(nc_netproc_resp_dec(b.p, b.len, 2, &rc, msg, sizeof msg, &c), 0);
	CHECK_INT(rc, NC_EUNAVAIL);
	CHECK_STR(msg, "relay x: refused");
	CHECK_INT(c.status, 0);
	CHECK_INT(c.body.len, 0);
	b.p[1 + 3] = 99;   /* not an error code of ours */
	CHECK_INT(nc_netproc_resp_dec(b.p, b.len, 2, &rc, msg, sizeof msg, &c),
	    NC_EDATA);
	nc_buf_free(&a.body);
	nc_http_resp_free(&c);
	nc_buf_free(&b);
	free(q);
}

/* Two requests at once: through the helper the quick one is answered
 * while the slow one (1.5 s) still runs; in this process, one after the
 * other. Either way each gets its own answer. */
static void
together(int helper)
{
	char slow[128], quick[128];
	nc_http_req rs = { .method = "GET", .url = slow };
	nc_http_req rq = { .method = "GET", .url = quick };
	nc_http_resp as = NC_HTTP_RESP_INIT, aq = NC_HTTP_RESP_INIT;
	nc_http_call cs, cq;
	long long t0;

	snprintf(slow, sizeof slow, "%s/slow", base);
	snprintf(quick, sizeof quick, "%s/status/201", base);
	t0 = now_ms();
	nc_http_start(&rs, &as, &cs);
	nc_http_start(&rq, &aq, &cq);
	CHECK_INT(nc_http_wait(&cq), 0);
	CHECK_INT(aq.status, 201);
	if (helper)
		CHECK(now_ms() - t0 < 1000);
	CHECK_INT(nc_http_wait(&cs), 0);
	CHECK_INT(as.status, 200);
	CHECK(now_ms() - t0 >= 1400);
	/* A failure comes back as nc_http's would, message and all. */
	rq.url = "http://127.0.0.1:1/";
	nc_http_start(&rq, &aq, &cq);
	CHECK_INT(nc_http_wait(&cq), NC_EUNAVAIL);
	CHECK(strstr(nc_errmsg(), "127.0.0.1:1") != NULL);
	nc_http_resp_free(&as);
	nc_http_resp_free(&aq);
}

/* The helper killed: the request in flight fails and says so, the
 * process goes on without it (its next requests run here). */
static void
helper_dies(void)
{
	pid_t pid = nc_netproc_pid();

	if (!CHECK(pid > 0))
		return;
	CHECK_INT(kill(pid, SIGKILL), 0);
	CHECK_INT(get("/status/200", 0), NC_ESOFTWARE);
	CHECK_STR(nc_errmsg(), "network helper killed by signal 9");
	CHECK(!nc_netproc_active());
	CHECK_INT(nc_netproc_pid(), 0);
	CHECK_INT(get("/status/200", 0), 0);
	CHECK_INT(resp.status, 200);
	CHECK(nc_http_loaded());
}

int
main(void)
{
	struct MHD_Daemon *d;
	char dir[64] = "/tmp/test-http.XXXXXX", cmd[128];
	int port;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	unsetenv("NC_PROXY");
	/* Nothing loads libcurl before the first request. */
	CHECK_INT(needed_curl(), 0);
	CHECK(!nc_http_loaded());
	CHECK(!maps_have("libcurl"));
	frames();
	dates();
	/* The helper starts before the server's threads do (it must start
	 * while the process has one thread). */
	CHECK_INT(nc_netproc_start(), 0);
	CHECK_INT(nc_netproc_start(), 0);   /* harmless twice */
	CHECK(nc_netproc_active());
	d = start(0, NULL, NULL, &port);
	if (!CHECK(d != NULL && port > 0))
		return check_done("test-http");
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	methods();
	statuses();
	limits();
	unavailable();
	tls(dir);
	together(1);
	CHECK(nc_netproc_active());
	CHECK(!nc_http_loaded());
	CHECK(!maps_have("libcurl"));
	helper_dies();
	/* And all of it again in this process. */
	methods();
	CHECK(nc_http_loaded());
	CHECK(maps_have("libcurl"));
	statuses();
	limits();
	unavailable();
	keepalive();
	together(0);
	tls(dir);
	nc_http_cleanup();
	nc_http_resp_free(&resp);
	MHD_stop_daemon(d);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 2;
	return check_done("test-http");
}
