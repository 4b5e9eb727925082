/* ordpool.h - jobs made by worker threads, used in order by the caller.
 *
 * For CPU work on many independent items whose results must be consumed
 * in order (a backup's history chunks: read, open, seal; a restore's:
 * bodies sealed at rest before their rows go in): make(w, i) runs on one
 * of the workers for each i in 0..n-1, at most window jobs ahead of
 * use(i), which runs in the calling thread in order 0, 1, ... A job's
 * results live where the caller keeps them (indexed by i): make writes
 * them, use reads them after make returned (the pool's lock orders the
 * two). */
#ifndef NC_ORDPOOL_H
#define NC_ORDPOOL_H

#include <stddef.h>

#define NC_ORDPOOL_MAX 4   /* workers at most */

typedef struct {
	size_t n, window;
	int threads;                 /* 1..NC_ORDPOOL_MAX */
	void *wctx[NC_ORDPOOL_MAX];  /* each worker's own context */
	void *arg;                   /* shared by make and use */
	/* 0 or an error (nc_fail'd in the worker: its message is kept) */
	int (*make)(void *wctx, size_t i, void *arg);
	int (*use)(size_t i, void *arg);
} nc_ordpool;

/* The workers this process may run: one per CPU it may use, at most
 * max (and NC_ORDPOOL_MAX). */
int nc_ordpool_threads(int max);

/* Runs the pool to its end or its first error (of make for job i, seen
 * when i's turn comes, or of use): every worker stopped and joined
 * before it returns. */
int nc_ordpool_run(const nc_ordpool *p) __attribute__((warn_unused_result));

#endif
