/* send.h - what nc-send does, as library calls: queue a message for each
 * recipient and deliver it now, or write armored envelopes instead. */
#ifndef NC_SEND_H
#define NC_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "outbox.h"

typedef struct {
	int json;
	int armor;       /* -o -: armored envelopes on stdout, nothing sent */
	long ttl;        /* seconds until an unaccepted message fails */
	long wait;       /* seconds to wait for delivery receipts */
} nc_send_opts;

/* Returns the exit status; problems are reported on stderr per recipient
 * (the status of the worst one wins: 1, 67, 69, 75). */
int nc_send(const nc_send_opts *o, const char **rcpt, int n,
    const uint8_t *body, size_t len);
int nc_send_flush(const nc_send_opts *o);

#endif
