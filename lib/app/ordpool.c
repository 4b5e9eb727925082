/* ordpool.c - jobs made by worker threads, used in order (ordpool.h). */
#define _GNU_SOURCE   /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "ordpool.h"

typedef struct {
	int done, rc;
	char err[256];
} job;

typedef struct {
	const nc_ordpool *p;
	job *jobs;
	size_t next, used;           /* the next job to take; jobs used */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} pool;

typedef struct {
	pool *q;
	void *wctx;
	pthread_t t;
} worker;

static void *
work(void *arg)
{
	worker *w = arg;
	pool *q = w->q;
	size_t i;
	int rc;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->next < q->p->n && q->next >= q->used + q->p->window)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop || q->next >= q->p->n)
			break;
		i = q->next++;
		pthread_mutex_unlock(&q->mu);
		if ((rc = q->p->make(w->wctx, i, q->p->arg)) != 0)
			snprintf(q->jobs[i].err, sizeof q->jobs[i].err, "%s", nc_errmsg());
		pthread_mutex_lock(&q->mu);
		q->jobs[i].rc = rc;
		q->jobs[i].done = 1;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int
nc_ordpool_threads(int max)
{
	cpu_set_t set;
	int n = 1;

	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	if (max > NC_ORDPOOL_MAX)
		max = NC_ORDPOOL_MAX;
	return n < 1 ? 1 : n > max ? max : n;
}

int
nc_ordpool_run(const nc_ordpool *p)
{
	worker w[NC_ORDPOOL_MAX];
	pool q = { .p = p };
	int rc = 0, started = 0;

	if (p->n == 0)
		return 0;
	if (p->threads < 1 || p->threads > NC_ORDPOOL_MAX || p->window < 1)
		return nc_fail(NC_ESOFTWARE, "ordpool: bad size");
	if ((q.jobs = calloc(p->n, sizeof *q.jobs)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.cv, NULL);
	for (int i = 0; i < p->threads; i++) {
		w[i].q = &q;
		w[i].wctx = p->wctx[i];
		if (pthread_create(&w[i].t, NULL, work, &w[i]) != 0)
			break;   /* fewer workers */
		started++;
	}
	if (started == 0)
		rc = nc_fail(NC_EOSERR, "cannot start a thread");
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		pthread_mutex_lock(&q.mu);
		while (!q.jobs[i].done)
			pthread_cond_wait(&q.cv, &q.mu);
		pthread_mutex_unlock(&q.mu);
		rc = q.jobs[i].rc != 0 ? nc_fail(q.jobs[i].rc, "%s", q.jobs[i].err) :
		    p->use(i, p->arg);
		pthread_mutex_lock(&q.mu);
		q.used = i + 1;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.mu);
	}
	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_broadcast(&q.cv);
	pthread_mutex_unlock(&q.mu);
	for (int i = 0; i < started; i++)
		pthread_join(w[i].t, NULL);
	pthread_cond_destroy(&q.cv);
	pthread_mutex_destroy(&q.mu);
	free(q.jobs);
	return rc;
}
