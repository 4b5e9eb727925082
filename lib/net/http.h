/* http.h - the client's HTTP(S) requests, over libcurl loaded with dlopen
 * on first use: commands that never touch the network do not pay for
 * loading libcurl and its dependencies, and no binary lists libcurl as
 * NEEDED. A command may have its requests carried out by a child process
 * that loads it (netproc.h). TLS certificates are always verified; there
 * is no switch to turn that off (a test relay's self-signed CA goes in
 * `cafile`). One connection cache per thread is kept between requests
 * (keep-alive). */
#ifndef NC_HTTP_H
#define NC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NC_HTTP_CONNECT_MS  10000            /* connect timeout */
#define NC_HTTP_TIMEOUT_MS  30000            /* default total timeout */
#define NC_HTTP_MAX_DEFAULT ((size_t)1 << 20) /* default response limit */
#define NC_HTTP_KTPROOF_MAX 8192             /* X-NC-KT-Proof kept, with NUL */

/* Initialise with designated initializers so fields added later are 0:
 *   nc_http_req r = { .method = "GET", .url = u }; */
typedef struct {
	const char *method;          /* GET, POST, PUT, DELETE */
	const char *url;             /* http:// or https:// only */
	const char *const *headers;  /* "Name: value" ..., NULL-terminated */
	const uint8_t *body;         /* sent for POST, PUT and DELETE */
	size_t bodylen;
	long timeout_ms;             /* whole request; 0: NC_HTTP_TIMEOUT_MS */
	size_t max_response;         /* body limit; 0: NC_HTTP_MAX_DEFAULT */
	const char *proxy;           /* e.g. socks5h://...; NULL: $NC_PROXY */
	const char *cafile;          /* CA bundle; NULL: the system's */
} nc_http_req;

typedef struct {
	long status;                 /* HTTP status code */
	nc_buf body;                 /* response body (replaced each call) */
	long retry_after;            /* Retry-After in seconds, -1 if none */
	char content_type[128];      /* "" if none */
	int64_t date;                /* the Date header, unix seconds; 0 if none */
	/* X-NC-KT-Proof (protocol.md 1.4) as sent, "" if none; "!" if it was
	 * longer than fits (a proof of a 2^63 tree is < 6,000 characters). */
	char kt_proof[NC_HTTP_KTPROOF_MAX];
} nc_http_resp;

#define NC_HTTP_RESP_INIT { 0, NC_BUF_INIT, -1, "", 0, "" }

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 5.6.7, what
 * every current server sends) as unix seconds; -1 if it is not one. */
int64_t nc_http_date(const char *s, size_t n);

/* Perform req. 0 when a response arrived, whatever its status (check
 * resp->status). NC_EUNAVAIL when the server cannot be reached or the
 * request times out or TLS verification fails ("relay http://h:1:
 * Connection refused"); NC_ENOHOST when the host name does not resolve;
 * NC_EDATA for a response over the limit or a bad
 * URL; NC_EOSERR; NC_ESOFTWARE if libcurl cannot be loaded. Not for use
 * on one thread's behalf from another. */
int nc_http(const nc_http_req *req, nc_http_resp *resp)
	__attribute__((warn_unused_result));
/* A request that runs while the caller does something else (another
 * request, say): nc_http_start, then nc_http_wait for its result, which
 * is nc_http's. Through the helper (netproc.h) requests run at the same
 * time; without it nc_http_start performs the request at once. resp must
 * stay until the wait; req only during the start. */
typedef struct nc_http_call {
	nc_http_resp *resp;
	size_t max;                  /* the body limit in force */
	uint32_t tag;                /* netproc's request number */
	int done, rc;
	char msg[512];               /* the reason, when rc != 0 */
	struct nc_http_call *next;   /* netproc's list of calls in flight */
} nc_http_call;

void nc_http_start(const nc_http_req *req, nc_http_resp *resp,
    nc_http_call *call);
int nc_http_wait(nc_http_call *call) __attribute__((warn_unused_result));

/* nc_http in this process, whatever nc_netproc_start did (the helper's
 * side of it). */
int nc_http_here(const nc_http_req *req, nc_http_resp *resp)
	__attribute__((warn_unused_result));
void nc_http_resp_free(nc_http_resp *resp);

/* Close this thread's connections (call before exit; harmless if none). */
void nc_http_cleanup(void);

/* Load libcurl now rather than at the first request, and make this
 * thread's handle ready (a failure is reported by that request). */
void nc_http_load(void);

/* 1 once libcurl has been loaded into the process (for tests). */
int nc_http_loaded(void);

#endif
