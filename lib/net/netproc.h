/* netproc.h - a command's HTTP requests carried out by a child process.
 *
 * A command that will talk to a relay calls nc_netproc_start() first
 * thing, before it reads a secret: it forks a child that loads libcurl
 * (about thirty libraries, most of a short command's time) while the
 * parent opens its state and encrypts. From then on the parent's nc_http
 * calls travel to the child over a socket pair, a frame each way.
 *
 * Why a process and not a thread: on two CPUs a loader thread and the
 * command's own work slowed each other down (every mapping change the
 * loader makes interrupts the other CPU to flush its TLB), so the overlap
 * bought almost nothing; two address spaces do not interfere. And the
 * code that parses what the network sends (libcurl, the TLS library)
 * runs in a process that never held a key (and wipes its copy of
 * NC_PASSWORD).
 *
 * The helper runs requests on a few threads at once (a receipt beside
 * an acknowledgement, say), so answers come back in any order. Frames
 * (u32 big-endian length, u32 tag naming the request, then the body, at
 * most NC_NETPROC_MAX), both ways between two copies of the same program
 * (lib/proto/wire.h types):
 *   request:  u8 1, bytes method, bytes url, u8 n (<= 16), n x bytes
 *             header, bytes body, u32 timeout_ms, u64 max_response,
 *             u8 has_proxy, bytes proxy, u8 has_cafile, bytes cafile
 *   response: u8 1, u32 rc (0 or an nc_err), bytes message (rc != 0),
 *             u32 status, u64 retry_after + 1 (0: none), bytes
 *             content_type, u64 date (0: none), bytes body
 * Every text field is at most its limit below and holds no NUL; a text
 * without its flag is empty; a response with an error has no status,
 * retry-after, content type, date or body, one without has no message. */
#ifndef NC_NETPROC_H
#define NC_NETPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "http.h"

#define NC_NETPROC_MAX     (NC_BUF_MAX - 64)   /* one frame */
#define NC_NETPROC_STR_MAX 8192                /* url, proxy, cafile */
#define NC_NETPROC_HDR_MAX 1024                /* one header line */
#define NC_NETPROC_HDRS    16

/* Fork the helper. 0, or -1 when it cannot (the requests then run in
 * this process, as without it). Harmless twice. Call it while this is
 * the only thread. */
int nc_netproc_start(void);
/* 1 while requests go to the helper; its process id (0: none). */
int nc_netproc_active(void);
pid_t nc_netproc_pid(void);
/* nc_http_start and nc_http_wait through the helper: the same results,
 * and NC_ESOFTWARE for every call in flight if the helper died ("network
 * helper killed by signal 9"). Answers may come in any order; waiting for
 * one keeps those that come before it in their calls. */
void nc_netproc_start_call(const nc_http_req *req, nc_http_call *call);
void nc_netproc_wait(nc_http_call *call);
/* Close our end: the helper exits. It is not waited for (its teardown
 * would only delay ours); one that is gone already is reaped. Calls still
 * in flight fail. */
void nc_netproc_stop(void);

/* The frames, for the helper, the tests and the fuzzer. */
typedef struct {
	nc_http_req req;             /* points into this struct and the frame */
	const char *hdrp[NC_NETPROC_HDRS + 1];
	char method[8];
	char url[NC_NETPROC_STR_MAX + 1];
	char hdr[NC_NETPROC_HDRS][NC_NETPROC_HDR_MAX + 1];
	char proxy[NC_NETPROC_STR_MAX + 1];
	char cafile[NC_NETPROC_STR_MAX + 1];
} nc_netproc_req;

int nc_netproc_req_enc(nc_buf *out, const nc_http_req *req)
	__attribute__((warn_unused_result));
/* NC_EDATA for anything but one well-formed request. out->req.body points
 * into p. */
int nc_netproc_req_dec(nc_netproc_req *out, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
int nc_netproc_resp_enc(nc_buf *out, int rc, const char *msg,
    const nc_http_resp *resp) __attribute__((warn_unused_result));
/* Decodes into *rc (the request's result), msg (msgsize bytes) and resp;
 * a body over max is malformed. NC_EDATA for a bad frame. */
int nc_netproc_resp_dec(const uint8_t *p, size_t n, size_t max, int *rc,
    char *msg, size_t msgsize, nc_http_resp *resp)
	__attribute__((warn_unused_result));

#endif
