/* push.h - wake-ups to devices' push endpoints (protocol.md 1.12): after a
 * delivery commits, the relay POSTs a fixed, content-free body to the
 * endpoint the device registered (a UnifiedPush endpoint, an ntfy topic),
 * from a thread of its own, so no delivery waits for a push service. */
#ifndef RELAY_PUSH_H
#define RELAY_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "relaymsg.h"
#include "store.h"

/* The body of every wake-up: no sender, size, id or time. */
#define PUSH_BODY "newchat wake v1"
/* A device's endpoint is deleted after this many wake-ups in a row failed
 * (not 2xx: an error, a timeout, a redirect, any other status); at once on
 * 404 or 410 (UnifiedPush: the endpoint is gone). */
#define PUSH_FAILS_MAX 5
/* Deliveries within this long of the first one share one wake-up. */
#define PUSH_DELAY_MS 1000
/* At most this many wake-ups per device per minute (and one at a time);
 * more mail waits for the next minute, still as one wake-up. */
#define PUSH_PER_MIN 12
/* A push (connect, TLS, answer) must be over within these. */
#define PUSH_CONNECT_MS 3000
#define PUSH_TIMEOUT_MS 5000
/* Devices with a wake-up pending, in flight or failing, held at once;
 * past it a delivery wakes no one (the device's own polls still find it). */
#define PUSH_TABLE_MAX 100000
#define PUSH_INFLIGHT_MAX 64

struct pusher;

/* allow_local: http:// endpoints and loopback, private and link-local
 * addresses are taken too (tests; a relay whose push service is on its
 * own network); otherwise https:// to public addresses only. NULL on
 * failure (a message on stderr). */
struct pusher *push_new(struct store *s, int allow_local);
/* Stop the thread (what is pending is dropped; push_mail may still be
 * called, and does nothing), then free. */
void push_stop(struct pusher *p);
void push_free(struct pusher *p);
/* After a commit put mail in (user, dev)'s mailbox: never blocks on the
 * network. */
void push_mail(struct pusher *p, const char *user, const uint8_t dev[NC_DEVID_LEN]);
/* The registration check: url must be acceptable (scheme, address) and
 * answer the wake-up body's POST with 2xx. 0, or -1 with why (a line). */
int push_check(const struct pusher *p, const char *url, char *why, size_t n);

#endif
