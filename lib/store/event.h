/* event.h - what nc-recv prints: messages, receipts, failures and alarms,
 * recorded in the state and printed in order, each exactly once even when
 * several processes print from one NC_HOME at once. */
#ifndef NC_EVENT_H
#define NC_EVENT_H

#include <stdint.h>
#include <stdio.h>

#include "state.h"

/* Record an event (inside the caller's transaction, if any). msg: the
 * message row for "message" events, else 0. */
int nc_event_add(nc_state *s, const char *type, const char *id,
    const char *peer, const char *dev, const char *reason, int64_t msg)
	__attribute__((warn_unused_result));

/* Print every event not printed yet, claiming each in its own committed
 * transaction before writing it, so no two processes print one event.
 * json: one object a line. *n counts what was printed. 0, or NC_EIO when
 * out cannot be written. */
int nc_event_print(nc_state *s, int json, FILE *out, int *n)
	__attribute__((warn_unused_result));

/* Print an event that is not stored (alarms about armored input). */
int nc_event_direct(FILE *out, int json, const char *type, const char *peer,
    const char *reason) __attribute__((warn_unused_result));

/* The stored conversation (with peer, or all of it). */
int nc_history_print(nc_state *s, const char *peer, int json, FILE *out)
	__attribute__((warn_unused_result));

/* "2026-11-26T10:00:00Z" */
void nc_time_iso(char out[32], int64_t t);

#endif
