/* blob.c - streaming HTTP requests for media over libcurl, loaded with
 * dlopen on first use (curlfns.h, as for http.c). */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "blob.h"
#include "curlfns.h"
#include "err.h"

static const struct nc_curlfns *C;   /* set once (load) before any use */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static _Thread_local CURL *handle;

static void
load(void)
{
	C = nc_curlfns();
}

void
nc_blob_cleanup(void)
{
	if (handle != NULL) {
		C->easy_cleanup(handle);
		handle = NULL;
	}
}

struct io {
	const nc_blob_req *req;
	nc_blob_resp *resp;
	size_t textlen;
	int rc;              /* a callback's error */
	long os_errno;
	uint64_t skip;       /* a 200 to a ranged GET: bytes the caller has */
};

static size_t
on_read(char *p, size_t size, size_t n, void *ud)
{
	struct io *io = ud;
	int rc = 0;
	size_t k = io->req->src(io->req->src_ctx, (uint8_t *)p, size * n, &rc);

	if (rc != 0) {
		io->rc = rc;
		return CURL_READFUNC_ABORT;
	}
	return k;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct io *io = ud;
	size_t k = size * n, room;
	long st = io->resp->status;

	if (st >= 200 && st < 300 && io->req->dst != NULL) {
		/* A 206 must start where we asked: other bytes would only fail
		 * the hash at the very end, after the whole download. */
		if (st == 206 && (!io->resp->ranged ||
		    io->resp->range_start != io->req->range_from)) {
			io->rc = nc_fail(NC_EDATA, "relay answered a range that "
			    "was not asked for");
			return 0;
		}
		if (st == 200 && io->skip > 0) {   /* the server ignored Range */
			size_t d = k < io->skip ? k : (size_t)io->skip;

			io->skip -= d;
			if (d == k)
				return k;
			p += d;
			k -= d;
			if ((io->rc = io->req->dst(io->req->dst_ctx, (uint8_t *)p, k)) != 0)
				return 0;
			return size * n;
		}
		if ((io->rc = io->req->dst(io->req->dst_ctx, (uint8_t *)p, k)) != 0)
			return 0;
		return k;
	}
	room = sizeof io->resp->text - 1 - io->textlen;
	if (k > room)
		k = room;   /* the rest of an error page is not needed */
	memcpy(io->resp->text + io->textlen, p, k);
	io->textlen += k;
	io->resp->text[io->textlen] = '\0';
	return size * n;
}

/* The status line and Content-Range, as they come: the body callback
 * must know the status before the first byte. */
static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct io *io = ud;
	size_t k = size * n;
	char line[256];
	unsigned long long a;
	int st;

	if (k >= sizeof line)
		return k;
	memcpy(line, p, k);
	line[k] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = strchr(line, ' ');

		io->resp->ranged = 0;
		io->resp->range_start = 0;
		if (sp != NULL && sscanf(sp + 1, "%3d", &st) == 1)
			io->resp->status = st;
	} else if (strncasecmp(line, "Content-Range:", 14) == 0 &&
	    sscanf(line + 14, " bytes %llu-", &a) == 1) {
		io->resp->ranged = 1;
		io->resp->range_start = a;
	}
	return k;
}

static void
origin(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n = strlen(url);

	if (p != NULL && (p = strchr(p + 3, '/')) != NULL)
		n = (size_t)(p - url);
	snprintf(out, size, "%.*s", (int)(n > 200 ? 200 : n), url);
}

int
nc_blob_do(const nc_blob_req *req, nc_blob_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "", range[48], o[256];
	struct io io = { req, resp, 0, 0, 0, req->range_from };
	struct curl_slist *hdrs = NULL, *t;
	const char *proxy = req->proxy ? req->proxy : getenv("NC_PROXY");
	CURLcode rc = CURLE_OK;
	int ret = 0;

	memset(resp, 0, sizeof *resp);
	pthread_once(&load_once, load);
	if (C == NULL && nc_curlfns() == NULL)   /* says why, in this thread */
		return NC_ESOFTWARE;
	if (handle == NULL && (handle = C->easy_init()) == NULL)
		return nc_fail(NC_EOSERR, "curl_easy_init failed");
	C->easy_reset(handle);
	hdrs = C->slist_append(NULL, "Expect:");
	for (const char *const *h = req->headers; hdrs && h && *h; h++)
		if ((t = C->slist_append(hdrs, *h)) != NULL)
			hdrs = t;
	if (hdrs && req->src && (t = C->slist_append(hdrs,
	    "Content-Type: application/octet-stream")) != NULL)
		hdrs = t;
	if (hdrs == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
#define SET(opt, val) if (rc == CURLE_OK) rc = C->easy_setopt(handle, opt, val)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	/* No total timeout (a large file takes what it takes); a transfer
	 * that stalls is cut and resumed. */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, req->stall_secs > 0 ? req->stall_secs : 30L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->cafile)
		SET(CURLOPT_CAINFO, req->cafile);
	SET(CURLOPT_PROXY, proxy && *proxy ? proxy : "");
	SET(CURLOPT_USERAGENT, "newchat/1");
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &io);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, &io);
	SET(CURLOPT_BUFFERSIZE, 256L * 1024);
	if (strcmp(req->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
		if (req->range_from > 0) {
			snprintf(range, sizeof range, "%llu-",
			    (unsigned long long)req->range_from);
			SET(CURLOPT_RANGE, range);
		}
	} else {
		SET(CURLOPT_CUSTOMREQUEST, req->method);
		if (req->src != NULL) {
			SET(CURLOPT_UPLOAD, 1L);
			SET(CURLOPT_READFUNCTION, on_read);
			SET(CURLOPT_READDATA, &io);
			SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
			SET(CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
		} else if (strcmp(req->method, "DELETE") != 0) {
			SET(CURLOPT_POSTFIELDSIZE, 0L);
			SET(CURLOPT_POSTFIELDS, "");
		}
	}
#undef SET
	if (rc != CURLE_OK) {
		ret = nc_fail(NC_ESOFTWARE, "libcurl: %s", C->easy_strerror(rc));
	} else if ((rc = C->easy_perform(handle)) != CURLE_OK) {
		origin(req->url, o, sizeof o);
		C->easy_getinfo(handle, CURLINFO_OS_ERRNO, &io.os_errno);
		if (io.rc != 0)
			ret = io.rc;
		else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
			ret = nc_fail(NC_EDATA, "bad URL %s: %s", o, *errbuf ?
			    errbuf : C->easy_strerror(rc));
		else
			ret = nc_fail(NC_EUNAVAIL, "relay %s: %s", o,
			    rc == CURLE_COULDNT_CONNECT && io.os_errno ?
			    strerror((int)io.os_errno) : *errbuf ? errbuf :
			    C->easy_strerror(rc));
	} else
		C->easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &resp->status);
	C->easy_reset(handle);
	C->slist_free_all(hdrs);
	return ret;
}
