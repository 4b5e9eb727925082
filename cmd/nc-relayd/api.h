/* api.h - the relay's request handling, independent of the HTTP server:
 * method, target, headers and body in; status and body out. The HTTP front
 * (http.c) and the fuzz targets both call relay_api(). Without HTTP:
 *
 *	struct relay_conf c; struct relay *r; struct api_resp a;
 *	relay_conf_defaults(&c);
 *	c.datadir = "/tmp/some-empty-dir"; c.domain = "a.test";
 *	c.rate_register = c.rate_login = c.rate_anon = 0;   (no rate limits)
 *	if (relay_open(&r, &c) == 0) {
 *		struct api_req q = { .method = "POST", .target = "/v1/users/bob",
 *		    .addr = "127.0.0.1", .body = p, .body_len = n, .now = time(NULL) };
 *		relay_api(r, &q, &a);      a.status, a.body; a.status 0: long-poll
 *		api_resp_free(&a);
 *		relay_close(r);
 *	}
 */
#ifndef RELAY_API_H
#define RELAY_API_H

#include <stddef.h>
#include <stdint.h>

#include "relaymsg.h"
#include "blobfs.h"
#include "buf.h"
#include "relay.h"

struct api_req {
	const char *method;
	const char *target;            /* path and query, as sent */
	const char *addr;              /* client address, for rate limits */
	const char *h_device, *h_time, *h_nonce, *h_sig; /* X-NC-*, or NULL */
	const char *h_delete_hash, *h_delete_token, *h_expires;
	const char *h_range;            /* blob GET: "bytes=N-" */
	const char *h_kt_since;         /* device-list GET: X-NC-KT-Since */
	const char *h_backup_token;     /* backup reads: X-NC-Backup-Token */
	const uint8_t *body;
	size_t body_len;
	const char *body_file;         /* blob PUT: the body, streamed to disk */
	uint64_t body_file_size;       /* ... or body_part's */
	struct blob_w *body_part;      /* blob PATCH: the body, written in place
	                                * (relay_api_blob_part) */
	int64_t now;                   /* unix seconds */
};

/* A long-poll that found nothing: what to list when it is woken (link:
 * not a mailbox but the provisioning box dev names, to take). */
struct api_wait {
	char user[NC_NAME_MAX + 1];
	uint8_t dev[NC_DEVID_LEN];
	uint64_t after, gen;
	unsigned limit, seconds;
	int link;
};

struct api_resp {
	int status;                    /* 0: wait for mail, see .wait */
	const char *ctype;
	nc_buf body;
	int fd;                        /* >= 0: send this file (fd_size bytes) */
	uint64_t fd_size;
	uint64_t fd_off;                /* ... from this offset (a 206) */
	char content_range[80];        /* "bytes N-M/SIZE" of a 206, or "" */
	unsigned retry_after;          /* 429: seconds */
	int file_taken;                /* body_file was moved into the store */
	char *kt_proof;                /* X-NC-KT-Proof (malloc'd), or NULL */
	struct api_wait wait;
};

void api_resp_init(struct api_resp *a);
void api_resp_free(struct api_resp *a);   /* closes fd if still set */

void relay_api(struct relay *r, const struct api_req *q, struct api_resp *a);
/* List (or take, a link box) for a woken long-poll; last: answer even if
 * still empty. */
void relay_api_list(struct relay *r, struct api_wait *w, struct api_resp *a, int last);
/* From the request line alone, before any byte of body is read: 0 and the
 * largest body method + target may carry (*max, 0: none; *stream: it goes
 * to a file, not memory), or the status to refuse it with (404, 405, 414). */
int relay_api_body_max(const struct relay *r, const char *method,
    const char *target, uint64_t *max, int *stream);
/* Before the body of an append to a resumable upload (PATCH of a blob, n
 * bytes): 0 and the upload open to take it in place (w; the caller writes
 * the body at w->off, passes w as body_part, and calls blobfs_part_end
 * after), or -1: the body goes to a file, and relay_api says why. */
int relay_api_blob_part(struct relay *r, const char *method, const char *target,
    uint64_t n, struct blob_w *w);

#endif
