/* blob.h - streaming HTTP for media (lib/app/media.c): a request body
 * pulled from a callback and a response body pushed to one, so a transfer
 * of any size runs in constant memory. libcurl is loaded with dlopen on
 * first use, as lib/net/http.c does; TLS is always verified; the proxy is
 * req->proxy, else $NC_PROXY. One request at a time per thread (the
 * handle is kept for keep-alive). */
#ifndef NC_BLOB_H
#define NC_BLOB_H

#include <stddef.h>
#include <stdint.h>

/* The body source: bytes written into p (at most n), 0 at the end; an
 * error is reported through *rc (the request returns it). */
typedef size_t (*nc_blob_src)(void *ctx, uint8_t *p, size_t n, int *rc);
/* A 2xx response's body: 0 to go on, else an nc_err that aborts. */
typedef int (*nc_blob_dst)(void *ctx, const uint8_t *p, size_t n);

typedef struct {
	const char *method;          /* GET, POST, PATCH, DELETE */
	const char *url;
	const char *const *headers;  /* "Name: value", NULL-terminated */
	nc_blob_src src;             /* NULL: no body */
	void *src_ctx;
	uint64_t body_len;           /* exact bytes src will give */
	nc_blob_dst dst;             /* NULL: 2xx bodies kept in text */
	void *dst_ctx;
	uint64_t range_from;         /* GET: > 0 asks "Range: bytes=N-"; a
	                              * server that answers 200 instead has
	                              * its first N bytes skipped */
	const char *proxy, *cafile;  /* NULL: $NC_PROXY, the system's CAs */
	long stall_secs;             /* abort after this long without a byte (30) */
} nc_blob_req;

typedef struct {
	long status;
	char text[512];              /* a small body (errors, answers), NUL-ended */
	int ranged;                  /* a 206 with Content-Range */
	uint64_t range_start;        /* ... starting here */
} nc_blob_resp;

/* 0 when a whole response arrived (check status); NC_EUNAVAIL when the
 * server could not be reached or the transfer broke off (what dst got
 * stays got: the caller may resume); NC_EDATA for a bad URL; the
 * callbacks' own error when one aborted; NC_ESOFTWARE without libcurl. */
int nc_blob_do(const nc_blob_req *req, nc_blob_resp *resp)
	__attribute__((warn_unused_result));
void nc_blob_cleanup(void);

#endif
