/* http.c - HTTP requests over libcurl, which is loaded with dlopen on first
 * use. <curl/curl.h> provides only types and constants here: no symbol of
 * libcurl is referenced at link time. */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "curlfns.h"
#include "err.h"
#include "http.h"
#include "netproc.h"

/* libcurl's functions, set once (load) before any use */
static const struct nc_curlfns *C;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static _Thread_local CURL *handle;   /* kept for keep-alive */
/* The parent's handle, after fork: kept reachable, never used (volatile:
 * the store must not be optimised away). */
static CURL *volatile parents;

/* A forked child must not reuse (or close) its parent's connections: it
 * starts with no handle. The old one is left alone, not cleaned up. */
static void
forget_handle(void)
{
	if (handle != NULL)
		parents = handle;
	handle = NULL;
}

static void
load(void)
{
	if ((C = nc_curlfns()) != NULL)
		pthread_atfork(NULL, NULL, forget_handle);
}

void
nc_http_load(void)
{
	pthread_once(&load_once, load);
	if (C != NULL && handle == NULL)
		handle = C->easy_init();
}

int
nc_http_loaded(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD);

	if (h == NULL)
		return 0;
	dlclose(h);
	return 1;
}

void
nc_http_cleanup(void)
{
	if (handle != NULL) {
		C->easy_cleanup(handle);
		handle = NULL;
	}
}

void
nc_http_resp_free(nc_http_resp *resp)
{
	nc_buf_free(&resp->body);
}

struct sink {
	nc_http_resp *resp;
	size_t max;
	int over, oom;
	long os_errno;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t k = size * n;

	if (k > s->max - s->resp->body.len) {
		s->over = 1;
		return 0;   /* aborts the transfer */
	}
	if (nc_buf_add(&s->resp->body, p, k) != 0) {
		s->oom = 1;
		return 0;
	}
	return k;
}

/* Two digits at p, or -1. */
static int
num2(const char *p)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

int64_t
nc_http_date(const char *s, size_t n)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char wday[] = "Mon,Tue,Wed,Thu,Fri,Sat,Sun,";
	int d, m, y, hh, mm, ss, y1, y2, i;
	int64_t days;

	/* "Www, DD Mon YYYY HH:MM:SS GMT", 29 characters exactly. */
	if (n != 29 || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	for (i = 0; i < 7 && memcmp(wday + 4 * i, s, 4) != 0; i++)
		;
	if (i == 7)
		return -1;
	for (m = 0; m < 12 && memcmp(mon + 3 * m, s + 8, 3) != 0; m++)
		;
	d = num2(s + 5);
	y1 = num2(s + 12);
	y2 = num2(s + 14);
	hh = num2(s + 17);
	mm = num2(s + 20);
	ss = num2(s + 23);
	if (m == 12 || d < 1 || d > 31 || y1 < 19 || y2 < 0 || hh < 0 ||
	    hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -1;
	y = y1 * 100 + y2;
	/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
	{
		int yy = y - (m < 2), era = yy / 400, yoe = yy - era * 400;
		int doy = (153 * (m + (m > 1 ? -2 : 10)) + 2) / 5 + d - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = (int64_t)era * 146097 + doe - 719468;
	}
	return days * 86400 + hh * 3600 + mm * 60 + ss;
}

/* Retry-After as delta-seconds (what relays send); an HTTP date is left to
 * libcurl's CURLINFO_RETRY_AFTER below. Date: the server's clock, which
 * a client whose signed request came too early or late compares with its
 * own (relayc.c). */
static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t k = size * n, name = strlen("Retry-After:");
	long v = 0;

	if (k >= 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a new response */
		s->resp->retry_after = -1;
		s->resp->date = 0;
		s->resp->kt_proof[0] = '\0';
	}
	if (k > 14 && strncasecmp(p, "X-NC-KT-Proof:", 14) == 0) {
		size_t i = 14, e = k;

		while (i < e && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' ||
		    p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		/* Too long to be a proof: "!" decodes as nothing (an alarm). */
		if (e - i >= sizeof s->resp->kt_proof || memchr(p + i, '\0', e - i))
			strcpy(s->resp->kt_proof, "!");
		else {
			memcpy(s->resp->kt_proof, p + i, e - i);
			s->resp->kt_proof[e - i] = '\0';
		}
		return k;
	}
	if (k > 5 && strncasecmp(p, "Date:", 5) == 0) {
		size_t i = 5, e = k;
		int64_t t;

		while (i < e && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' ||
		    p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if ((t = nc_http_date(p + i, e - i)) > 0)
			s->resp->date = t;
		return k;
	}
	if (k <= name || strncasecmp(p, "Retry-After:", name) != 0)
		return k;
	size_t i = name;
	while (i < k && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == k || !isdigit((unsigned char)p[i]))
		return k;
	for (; i < k && isdigit((unsigned char)p[i]) && v < 100000000; i++)
		v = v * 10 + (p[i] - '0');
	s->resp->retry_after = v;
	return k;
}

/* "scheme://host:port" of url, for messages. */
static void
origin(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n = strlen(url);

	if (p != NULL && (p = strchr(p + 3, '/')) != NULL)
		n = (size_t)(p - url);
	snprintf(out, size, "%.*s", (int)(n > 200 ? 200 : n), url);
}

static int
fail(const nc_http_req *req, CURLcode rc, const char *errbuf,
    const struct sink *s)
{
	char o[256];
	const char *why = *errbuf ? errbuf : C->easy_strerror(rc);

	origin(req->url, o, sizeof o);
	if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
		return nc_fail(NC_EDATA, "relay %s: response larger than %zu "
		    "bytes", o, s->max);
	if (s->oom || rc == CURLE_OUT_OF_MEMORY)
		return nc_fail(NC_EOSERR, "out of memory");
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return nc_fail(NC_EDATA, "bad URL %s: %s", o, why);
	/* libcurl says "Failed to connect to h port p after 0 ms: Couldn't
	 * connect to server"; the system's reason is more useful. */
	if (rc == CURLE_COULDNT_CONNECT && s->os_errno != 0)
		why = strerror(s->os_errno);
	/* A name that does not resolve is told apart: for a domain's
	 * well-known URL it means no such domain (relayc.c decides). */
	return nc_fail(rc == CURLE_COULDNT_RESOLVE_HOST ? NC_ENOHOST :
	    NC_EUNAVAIL, "relay %s: %s", o, why);
}

static int
has_header(const char *const *h, const char *name)
{
	size_t n = strlen(name);

	for (; h && *h; h++)
		if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':')
			return 1;
	return 0;
}

static struct curl_slist *
make_headers(const nc_http_req *req, int with_body)
{
	struct curl_slist *l = NULL, *t;

	/* No "Expect: 100-continue" round trip before a body. */
	if ((l = C->slist_append(l, "Expect:")) == NULL)
		return NULL;
	if (with_body && !has_header(req->headers, "Content-Type")) {
		if ((t = C->slist_append(l, "Content-Type: "
		    "application/octet-stream")) == NULL)
			goto oom;
		l = t;
	}
	for (const char *const *h = req->headers; h && *h; h++) {
		if ((t = C->slist_append(l, *h)) == NULL)
			goto oom;
		l = t;
	}
	return l;
oom:
	C->slist_free_all(l);
	return NULL;
}

static int
setup(CURL *c, const nc_http_req *req, struct sink *s,
    struct curl_slist *hdrs, char *errbuf, int with_body)
{
	const char *proxy = req->proxy ? req->proxy : getenv("NC_PROXY");
	CURLcode rc = CURLE_OK;

#define SET(opt, val) if (rc == CURLE_OK) rc = C->easy_setopt(c, opt, val)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)NC_HTTP_CONNECT_MS);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms :
	    (long)NC_HTTP_TIMEOUT_MS);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);   /* always; see http.h */
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->cafile)
		SET(CURLOPT_CAINFO, req->cafile);
	/* "" turns off libcurl's own reading of http_proxy and friends: the
	 * only proxy is the one Newchat was told about. */
	SET(CURLOPT_PROXY, proxy && *proxy ? proxy : "");
	SET(CURLOPT_USERAGENT, "newchat/1");
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, s);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	if (strcmp(req->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(req->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, req->method);
		if (with_body) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->bodylen);
			SET(CURLOPT_POSTFIELDS, req->body ? (const char *)req->body :
			    "");
		}
	}
#undef SET
	if (rc != CURLE_OK)
		return nc_fail(NC_ESOFTWARE, "libcurl: %s", C->easy_strerror(rc));
	return 0;
}

int
nc_http(const nc_http_req *req, nc_http_resp *resp)
{
	nc_http_call c;

	nc_http_start(req, resp, &c);
	return nc_http_wait(&c);
}

void
nc_http_start(const nc_http_req *req, nc_http_resp *resp, nc_http_call *call)
{
	memset(call, 0, sizeof *call);
	call->resp = resp;
	if (nc_netproc_active()) {
		nc_netproc_start_call(req, call);
		return;
	}
	if ((call->rc = nc_http_here(req, resp)) != 0)
		snprintf(call->msg, sizeof call->msg, "%s", nc_errmsg());
	call->done = 1;
}

int
nc_http_wait(nc_http_call *call)
{
	if (!call->done)
		nc_netproc_wait(call);
	return call->rc ? nc_fail(call->rc, "%s", call->msg) : 0;
}

int
nc_http_here(const nc_http_req *req, nc_http_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct sink s = { resp, req->max_response ? req->max_response :
	    NC_HTTP_MAX_DEFAULT, 0, 0, 0 };
	struct curl_slist *hdrs;
	const char *ct = NULL;
	curl_off_t ra = 0;
	int rc, with_body;
	CURLcode cc;

	if (s.max > NC_BUF_MAX - 1)   /* a buffer's own limit */
		s.max = NC_BUF_MAX - 1;
	nc_buf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after = -1;
	resp->content_type[0] = '\0';
	resp->date = 0;
	resp->kt_proof[0] = '\0';
	if (req->url == NULL || req->method == NULL)
		return nc_fail(NC_ESOFTWARE, "http: no URL or method");
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") &&
	    strcmp(req->method, "PUT") && strcmp(req->method, "DELETE"))
		return nc_fail(NC_ESOFTWARE, "http: method %s", req->method);
	with_body = strcmp(req->method, "GET") != 0 &&
	    (strcmp(req->method, "DELETE") != 0 || req->bodylen > 0);
	pthread_once(&load_once, load);
	if (C == NULL && nc_curlfns() == NULL)   /* says why, in this thread */
		return NC_ESOFTWARE;
	if (handle == NULL && (handle = C->easy_init()) == NULL)
		return nc_fail(NC_EOSERR, "curl_easy_init failed");
	C->easy_reset(handle);   /* keeps the connection cache */
	if ((hdrs = make_headers(req, with_body)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if ((rc = setup(handle, req, &s, hdrs, errbuf, with_body)) == 0) {
		cc = C->easy_perform(handle);
		if (cc != CURLE_OK) {
			C->easy_getinfo(handle, CURLINFO_OS_ERRNO, &s.os_errno);
			rc = fail(req, cc, errbuf, &s);
			nc_buf_reset(&resp->body);
			resp->retry_after = -1;
		} else {
			C->easy_getinfo(handle, CURLINFO_RESPONSE_CODE,
			    &resp->status);
			if (C->easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &ct) ==
			    CURLE_OK && ct != NULL)
				snprintf(resp->content_type,
				    sizeof resp->content_type, "%s", ct);
			if (resp->retry_after < 0 && C->easy_getinfo(handle,
			    CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
				resp->retry_after = (long)ra;
		}
	}
	/* Options point into req and our stack: drop them now. */
	C->easy_reset(handle);
	C->slist_free_all(hdrs);
	return rc;
}
