/* send.h - what nc-send does, as library calls: queue a message for each
 * recipient and deliver it now, or write armored envelopes instead; list
 * and cancel what waits in the outbox. */
#ifndef NC_SEND_H
#define NC_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "outbox.h"

typedef struct {
	int json;        /* one object per recipient (or waiting message) */
	const char *out; /* -o: "-" or a file for armored envelopes; nothing
	                    is sent */
	long ttl;        /* seconds until an unaccepted message fails */
	long wait;       /* seconds to wait for delivery receipts */
	int files;       /* the body is an attachment payload (attach.h) */
} nc_send_opts;

/* Returns the exit status, the worst of the recipients' (in this order:
 * 1, any other error, 68, 67, 69, 75, 0), negated when it was
 * reported already. Each recipient that did not get the message is named
 * on stderr with the reason; the id is printed whenever the message was
 * accepted, queued or held for any recipient (nc_verbose < 0: nothing on
 * stdout, and no notice of a message merely queued). */
int nc_send(const nc_send_opts *o, const char **rcpt, int n,
    const uint8_t *body, size_t len);
int nc_send_flush(const nc_send_opts *o);
/* nc-send --queue: what waits, one line (or object) per recipient. */
int nc_send_queue(const nc_send_opts *o);
/* nc-send --cancel ID. */
int nc_send_cancel(const nc_send_opts *o, const char *id);

#endif
