/* event.h - what nc-recv prints: messages, receipts, failures and alarms,
 * recorded in the state, each with a local sequence number (event.seq).
 * Reading never deletes or marks events: a reader is a position in that
 * sequence. The default reader's position is kept in the state (shared by
 * every nc-recv of one NC_HOME that names no cursor file, so together they
 * print each event once); other readers keep theirs themselves. */
#ifndef NC_EVENT_H
#define NC_EVENT_H

#include <stdint.h>
#include <stdio.h>

#include "state.h"

/* kv keys NC_SAVED_KEY "SEQ/I": where nc-recv --save put attachment I
 * of message SEQ (a secret: a file name). */
#define NC_SAVED_KEY "saved/"

/* Record an event (inside the caller's transaction, if any). msg: the
 * message row for "message" events, else 0. */
int nc_event_add(nc_state *s, const char *type, const char *id,
    const char *peer, const char *dev, const char *reason, int64_t msg)
	__attribute__((warn_unused_result));
/* The same with the INSERT prepared on the first call into *st and kept
 * (the caller finalizes it): for many events in one transaction. */
int nc_event_add_st(nc_state *s, sqlite3_stmt **st, const char *type,
    const char *id, const char *peer, const char *dev, const char *reason,
    int64_t msg) __attribute__((warn_unused_result));

/* How events are shown, and (history) which. */
typedef struct {
	int json;             /* one object a line, with its "seq" */
	int verbose;          /* text: delivery receipts too (JSON always) */
	const char *peer;     /* history: one conversation (NULL: all) */
	int64_t since_seq;    /* history: from this sequence number on */
	int64_t since_time;   /* history: messages sent at or after (unix s) */
} nc_view;

/* The default reader: print every event after its position and move the
 * position past them. The new position is committed (lazily: no sync)
 * before the lines are written, so nothing is printed twice, even when
 * the commit fails (then nothing is printed: NC_EIO); when the write
 * fails the position is put back if no other reader moved it meanwhile.
 * Lines go out in as few writes as a pipe takes at once. *n counts the
 * events printed (may be NULL). 0; NC_EIO (out, or the state, cannot be
 * written); NC_ETEMP (state busy). */
int nc_event_print(nc_state *s, const nc_view *v, FILE *out, int *n)
	__attribute__((warn_unused_result));

/* Another reader, whose position *pos the caller keeps: print the events
 * after it and advance it. Writes nothing to the state. */
int nc_event_print_after(nc_state *s, const nc_view *v, FILE *out,
    int64_t *pos, int *n) __attribute__((warn_unused_result));

/* The default reader's position (0: nothing printed yet). */
int64_t nc_event_position(nc_state *s);

/* Move the default reader past every stored event (history imported
 * when a device is linked is there to re-read, not news). */
int nc_event_skip(nc_state *s) __attribute__((warn_unused_result));

/* Print an event that is not stored (alarms about armored input). */
int nc_event_direct(FILE *out, int json, const char *type, const char *peer,
    const char *reason) __attribute__((warn_unused_result));

/* The stored conversation (messages both ways, filtered by v) after *pos,
 * in sequence order; *pos moves past what was printed. Writes nothing. */
int nc_history_print(nc_state *s, const nc_view *v, FILE *out, int64_t *pos)
	__attribute__((warn_unused_result));

/* "2026-11-26T10:00:00Z" (JSON), and "2026-11-26 11:00" in local time
 * (text). */
void nc_time_iso(char out[32], int64_t t);
void nc_time_local(char out[32], int64_t t);

#endif
