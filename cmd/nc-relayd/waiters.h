/* waiters.h - long-polls waiting for mail: woken when a delivery to their
 * mailbox commits, or when their deadline passes. No polling: a delivery
 * notifies, and one timer thread sleeps until the nearest deadline. */
#ifndef RELAY_WAITERS_H
#define RELAY_WAITERS_H

#include <stddef.h>
#include <stdint.h>

#include "relaymsg.h"

struct waiter {
	char user[NC_NAME_MAX + 1];
	uint8_t dev[NC_DEVID_LEN];
	int64_t deadline_ms;            /* monotonic */
	void (*fire)(void *arg);        /* called once, with the lock held */
	void *arg;
	int armed;
	size_t slot, heap_i;            /* waiters.c's */
	struct waiter *prev, *next;
};

struct waiters;

struct waiters *waiters_new(void);
void waiters_free(struct waiters *ws);
/* A counter bumped by every notification: read it before listing. */
uint64_t waiters_gen(struct waiters *ws);
/* Arm w, unless mail arrived since gen was read: then 0 (list again);
 * -1 out of memory. */
int waiters_add(struct waiters *ws, struct waiter *w, uint64_t gen);
/* Disarm w if it has not fired; safe to call at any time. */
void waiters_remove(struct waiters *ws, struct waiter *w);
void waiters_notify(struct waiters *ws, const char *user, const uint8_t dev[NC_DEVID_LEN]);
/* Fire every waiter and every later one at once (shutdown). */
void waiters_fire_all(struct waiters *ws);
int64_t waiters_now_ms(void);
/* Long-polls armed now. */
size_t waiters_count(struct waiters *ws);

#endif
