/* outbox.h - messages on their way: queued until the recipient's relay
 * accepts them, retried with backoff, failed after their TTL. Envelopes
 * are made once and retried under the same envelope ids, so the relay
 * stores a retry only once. */
#ifndef NC_OUTBOX_H
#define NC_OUTBOX_H

#include <stdint.h>

#include "account.h"
#include "state.h"

#define NC_TTL_DEFAULT (7 * 86400)
#define NC_TTL_MAX (365L * 86400)

/* Record an outgoing message (history row + outbox row) for peer, inside
 * the caller's transaction or its own. */
int nc_outbox_add(nc_state *s, const char *msgid, const char *peer,
    const uint8_t *body, size_t n, int64_t ttl)
	__attribute__((warn_unused_result));
/* The same for a message with files: body is an attachment payload
 * (media.h), sent as payload type 5 (6 to our own devices). */
int nc_outbox_add_files(nc_state *s, const char *msgid, const char *peer,
    const uint8_t *body, size_t n, int64_t ttl, int files)
	__attribute__((warn_unused_result));

/* Queue a copy of message msgid (already added for its recipients) for
 * our own other devices: an outbox row for our own address. */
int nc_outbox_copy(nc_state *s, const char *msgid, const char *self, int64_t ttl)
	__attribute__((warn_unused_result));

typedef struct {
	int accepted;   /* messages the relay took in this run */
	int queued;     /* still waiting (relay unreachable) */
	int held;       /* waiting for nc-keys trust */
	int failed;     /* TTL passed or no such user: failure events */
	int nouser;
	int security;
	int err;        /* first error code other than the above */
} nc_flush;

/* Deliver what is waiting. only: just this message id (NULL: all); all:
 * ignore the backoff schedule. */
int nc_outbox_flush(nc_state *s, nc_self *self, const char *only, int all,
    nc_flush *f) __attribute__((warn_unused_result));

/* Peers whose first batches a flush sends at the same time. */
#define NC_FLUSH_AT_ONCE 4

/* The envelopes of message id waiting in outenv (a group's sender key or
 * change, made for many peers) in one POST /v1/deliveries to each relay,
 * the relays at once (lib/store/fanout.c): peers with envelopes of other
 * messages waiting, whose list is not pinned, or whose relay refuses are
 * left as they are, for nc_outbox_flush; so are all when they are
 * NC_FLUSH_AT_ONCE peers or fewer (the flush sends them at once: one
 * round trip too). Nonzero only for a local error. */
typedef struct {
	size_t peers, envelopes;   /* taken by their relays */
	size_t requests, bytes;    /* requests taken, bytes of envelopes */
	size_t refused;            /* requests refused (left to the flush) */
	size_t stale;              /* users a relay named: list changed */
	char why[300];             /* the first refusal's reason */
} nc_fanout;
int nc_outbox_fanout(nc_state *s, nc_self *self, const char *id, nc_fanout *f)
	__attribute__((warn_unused_result));
/* The message id to peer is accepted once none of its envelopes wait
 * (inside the caller's transaction). */
int nc_outbox_settle(nc_state *s, const char *peer, const char *id)
	__attribute__((warn_unused_result));

/* Status of message id to peer: "queued", "accepted", "delivered",
 * "failed", or "" when unknown. */
void nc_outbox_status(nc_state *s, const char *id, const char *peer,
    char out[16]);

/* The last attempt's exit code for message id to peer (0: none yet, or
 * not waiting) and its reason in why. */
int nc_outbox_error(nc_state *s, const char *id, const char *peer, char *why,
    size_t max);

/* A message waiting for one recipient (or, peer = our own address, the
 * copy for our other devices). */
typedef struct {
	char id[40];
	char peer[NC_ADDR_MAX + 1];
	int64_t created, expires;
	int tries, errcode;   /* errcode: the last attempt's exit code */
	char error[512];      /* and its reason ("" before the first) */
} nc_outbox_item;

/* Call fn for each waiting message and recipient, oldest first, until it
 * returns nonzero (returned). */
int nc_outbox_list(nc_state *s, int (*fn)(const nc_outbox_item *, void *),
    void *arg) __attribute__((warn_unused_result));

/* Drop message id wherever it still waits: its outbox rows, envelopes,
 * and the history rows of recipients that never accepted it. *n: the
 * recipients dropped (0: nothing waits under id). */
int nc_outbox_cancel(nc_state *s, const char *id, int *n)
	__attribute__((warn_unused_result));

#endif
