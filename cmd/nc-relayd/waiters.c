/* waiters.c - long-polls waiting for mail. Tens of thousands can wait at
 * once, so nothing here walks them all: a delivery finds its mailbox's
 * waiters in a hash table (keyed SipHash of user and device, so nobody can
 * choose ids that share a bucket), and the timer takes the nearest deadline
 * from a binary heap. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "waiters.h"

#define NBUCKET 65536u

struct waiters {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t timer;
	struct waiter **bucket;     /* NBUCKET chains */
	struct waiter **heap;       /* by deadline_ms, heap[0] nearest */
	size_t n, cap;
	int64_t timer_at;           /* when the timer wakes next */
	uint8_t key[crypto_shorthash_KEYBYTES];
	uint64_t gen;
	int stop, all;
};

int64_t
waiters_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
slot(const struct waiters *ws, const char *user, const uint8_t dev[NC_DEVID_LEN])
{
	uint8_t in[NC_NAME_MAX + 1 + NC_DEVID_LEN], h[crypto_shorthash_BYTES];
	size_t n = strlen(user);

	memcpy(in, dev, NC_DEVID_LEN);
	memcpy(in + NC_DEVID_LEN, user, n);
	crypto_shorthash(h, in, NC_DEVID_LEN + n, ws->key);
	return ((size_t)h[0] | (size_t)h[1] << 8) % NBUCKET;
}

/* ---- the deadline heap ---- */

static void
heap_set(struct waiters *ws, size_t i, struct waiter *w)
{
	ws->heap[i] = w;
	w->heap_i = i;
}

static void
heap_up(struct waiters *ws, size_t i)
{
	struct waiter *w = ws->heap[i];

	while (i > 0 && ws->heap[(i - 1) / 2]->deadline_ms > w->deadline_ms) {
		heap_set(ws, i, ws->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(ws, i, w);
}

static void
heap_down(struct waiters *ws, size_t i)
{
	struct waiter *w = ws->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < ws->n) {
		if (c + 1 < ws->n && ws->heap[c + 1]->deadline_ms < ws->heap[c]->deadline_ms)
			c++;
		if (ws->heap[c]->deadline_ms >= w->deadline_ms)
			break;
		heap_set(ws, i, ws->heap[c]);
		i = c;
	}
	heap_set(ws, i, w);
}

static void
unlink_w(struct waiters *ws, struct waiter *w)
{
	size_t i = w->heap_i;

	if (w->prev)
		w->prev->next = w->next;
	else
		ws->bucket[w->slot] = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	if (i != --ws->n) {   /* the last one fills the hole */
		struct waiter *m = ws->heap[ws->n];

		heap_set(ws, i, m);
		heap_down(ws, i);
		heap_up(ws, m->heap_i);
	}
	w->armed = 0;
}

static void
fire(struct waiters *ws, struct waiter *w)
{
	unlink_w(ws, w);
	w->fire(w->arg);
}

/* Sleeps until the nearest deadline (or a nearer one is added), fires
 * what expired. */
static void *
timer(void *arg)
{
	struct waiters *ws = arg;
	struct timespec ts;
	int64_t now, d;

	pthread_mutex_lock(&ws->mu);
	while (!ws->stop) {
		now = waiters_now_ms();
		while (ws->n > 0 && ws->heap[0]->deadline_ms <= now)
			fire(ws, ws->heap[0]);
		ws->timer_at = ws->n > 0 ? ws->heap[0]->deadline_ms : now + 60000;
		d = ws->timer_at - now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += d / 1000;
		ts.tv_nsec += (d % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ws->cv, &ws->mu, &ts);
	}
	pthread_mutex_unlock(&ws->mu);
	return NULL;
}

struct waiters *
waiters_new(void)
{
	struct waiters *ws = calloc(1, sizeof *ws);

	if (ws == NULL)
		return NULL;
	if ((ws->bucket = calloc(NBUCKET, sizeof *ws->bucket)) == NULL) {
		free(ws);
		return NULL;
	}
	randombytes_buf(ws->key, sizeof ws->key);
	pthread_mutex_init(&ws->mu, NULL);
	pthread_cond_init(&ws->cv, NULL);
	if (pthread_create(&ws->timer, NULL, timer, ws) != 0) {
		free(ws->bucket);
		free(ws);
		return NULL;
	}
	return ws;
}

void
waiters_free(struct waiters *ws)
{
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->mu);
	ws->stop = 1;
	pthread_cond_signal(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
	pthread_join(ws->timer, NULL);
	pthread_mutex_destroy(&ws->mu);
	pthread_cond_destroy(&ws->cv);
	free(ws->heap);
	free(ws->bucket);
	free(ws);
}

uint64_t
waiters_gen(struct waiters *ws)
{
	uint64_t g;

	pthread_mutex_lock(&ws->mu);
	g = ws->gen;
	pthread_mutex_unlock(&ws->mu);
	return g;
}

int
waiters_add(struct waiters *ws, struct waiter *w, uint64_t gen)
{
	struct waiter **h;
	int ok;

	pthread_mutex_lock(&ws->mu);
	ok = gen == ws->gen && !ws->all;
	if (ok && ws->n == ws->cap) {
		size_t cap = ws->cap ? 2 * ws->cap : 1024;

		if ((h = realloc(ws->heap, cap * sizeof *h)) == NULL)
			ok = -1;
		else {
			ws->heap = h;
			ws->cap = cap;
		}
	}
	if (ok == 1) {
		w->armed = 1;
		w->slot = slot(ws, w->user, w->dev);
		w->prev = NULL;
		w->next = ws->bucket[w->slot];
		if (w->next)
			w->next->prev = w;
		ws->bucket[w->slot] = w;
		heap_set(ws, ws->n++, w);
		heap_up(ws, ws->n - 1);
		if (w->deadline_ms < ws->timer_at)
			pthread_cond_signal(&ws->cv);   /* a nearer deadline */
	}
	pthread_mutex_unlock(&ws->mu);
	return ok;
}

void
waiters_remove(struct waiters *ws, struct waiter *w)
{
	pthread_mutex_lock(&ws->mu);
	if (w->armed)
		unlink_w(ws, w);
	pthread_mutex_unlock(&ws->mu);
}

void
waiters_notify(struct waiters *ws, const char *user, const uint8_t dev[NC_DEVID_LEN])
{
	struct waiter *w, *next;

	pthread_mutex_lock(&ws->mu);
	ws->gen++;
	for (w = ws->bucket[slot(ws, user, dev)]; w; w = next) {
		next = w->next;
		if (memcmp(w->dev, dev, NC_DEVID_LEN) == 0 && strcmp(w->user, user) == 0)
			fire(ws, w);
	}
	pthread_mutex_unlock(&ws->mu);
}

void
waiters_fire_all(struct waiters *ws)
{
	pthread_mutex_lock(&ws->mu);
	ws->all = 1;
	ws->gen++;
	while (ws->n > 0)
		fire(ws, ws->heap[ws->n - 1]);
	pthread_mutex_unlock(&ws->mu);
}

size_t
waiters_count(struct waiters *ws)
{
	size_t n;

	pthread_mutex_lock(&ws->mu);
	n = ws->n;
	pthread_mutex_unlock(&ws->mu);
	return n;
}
