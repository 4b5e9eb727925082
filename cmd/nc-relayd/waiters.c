/* waiters.c - long-polls waiting for mail. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waiters.h"

struct waiters {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t timer;
	struct waiter *head;
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

static void
unlink_w(struct waiters *ws, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		ws->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->armed = 0;
}

static void
fire(struct waiters *ws, struct waiter *w)
{
	unlink_w(ws, w);
	w->fire(w->arg);
}

/* Sleeps until the nearest deadline (or a change), fires what expired. */
static void *
timer(void *arg)
{
	struct waiters *ws = arg;
	struct waiter *w, *next;
	struct timespec ts;
	int64_t now, min;

	pthread_mutex_lock(&ws->mu);
	while (!ws->stop) {
		now = waiters_now_ms();
		min = now + 60000;
		for (w = ws->head; w; w = next) {
			next = w->next;
			if (w->deadline_ms <= now)
				fire(ws, w);
			else if (w->deadline_ms < min)
				min = w->deadline_ms;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		min -= now;
		ts.tv_sec += min / 1000;
		ts.tv_nsec += (min % 1000) * 1000000;
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
	pthread_mutex_init(&ws->mu, NULL);
	pthread_cond_init(&ws->cv, NULL);
	if (pthread_create(&ws->timer, NULL, timer, ws) != 0) {
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
	int ok;

	pthread_mutex_lock(&ws->mu);
	ok = gen == ws->gen && !ws->all;
	if (ok) {
		w->armed = 1;
		w->prev = NULL;
		w->next = ws->head;
		if (ws->head)
			ws->head->prev = w;
		ws->head = w;
		pthread_cond_signal(&ws->cv);   /* maybe a nearer deadline */
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
	for (w = ws->head; w; w = next) {
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
	while (ws->head)
		fire(ws, ws->head);
	pthread_mutex_unlock(&ws->mu);
}
