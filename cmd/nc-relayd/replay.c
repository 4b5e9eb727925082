/* replay.c - two generations of open-addressed hash sets: entries live one
 * to two windows, at least as long as a signature can be accepted. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "replay.h"
#include "store.h"

struct gen {
	uint8_t (*key)[16];
	size_t used;
};

struct replay {
	struct store *shared;   /* the pairs are there, not in g[] */
	pthread_mutex_t mu;
	uint8_t hkey[32];
	size_t cap, max;   /* slots (power of two), entries allowed */
	int64_t window, started;
	struct gen g[2];   /* g[0] current, g[1] previous */
};

struct replay *
replay_new(size_t max, int64_t window)
{
	struct replay *rp = calloc(1, sizeof *rp);

	if (rp == NULL)
		return NULL;
	for (rp->cap = 64; rp->cap < 2 * max; rp->cap *= 2)
		;
	rp->max = max;
	rp->window = window;
	rp->g[0].key = calloc(rp->cap, 16);
	rp->g[1].key = calloc(rp->cap, 16);
	if (rp->g[0].key == NULL || rp->g[1].key == NULL) {
		replay_free(rp);
		return NULL;
	}
	pthread_mutex_init(&rp->mu, NULL);
	randombytes_buf(rp->hkey, sizeof rp->hkey);
	return rp;
}

void
replay_free(struct replay *rp)
{
	if (rp == NULL)
		return;
	free(rp->g[0].key);
	free(rp->g[1].key);
	pthread_mutex_destroy(&rp->mu);
	free(rp);
}

void
replay_share(struct replay *rp, struct store *st)
{
	rp->shared = st;
}

/* Slot of k in g: where it is, or the empty slot where it would go. */
static size_t
slot(const struct replay *rp, const struct gen *g, const uint8_t k[16])
{
	static const uint8_t zero[16];
	uint64_t h;
	size_t i;

	memcpy(&h, k, sizeof h);
	for (i = h & (rp->cap - 1);; i = (i + 1) & (rp->cap - 1))
		if (memcmp(g->key[i], k, 16) == 0 || memcmp(g->key[i], zero, 16) == 0)
			return i;
}

int
replay_check(struct replay *rp, const uint8_t dev[16], const uint8_t nonce[16],
    int64_t now)
{
	uint8_t in[32], k[16];
	struct gen t;
	size_t i;
	int rc = 0;

	/* Keyed by what the client chose, not by the signature: a replay is
	 * caught however the signature bytes are spelled. */
	memcpy(in, dev, 16);
	memcpy(in + 16, nonce, 16);
	if (rp->shared) {
		/* one name in every process (so unkeyed), kept as long as
		 * the two generations below would keep it at most */
		crypto_generichash(k, sizeof k, in, sizeof in, NULL, 0);
		switch (store_shared_replay(rp->shared, k, now + 2 * rp->window, now)) {
		case ST_OK: return 0;
		case ST_EXISTS: return 1;
		default: return -1;
		}
	}
	crypto_generichash(k, sizeof k, in, sizeof in, rp->hkey, sizeof rp->hkey);
	k[0] |= 1;   /* never the all-zero empty marker */
	pthread_mutex_lock(&rp->mu);
	if (now - rp->started >= rp->window) {   /* rotate */
		t = rp->g[1];
		rp->g[1] = rp->g[0];
		memset(t.key, 0, rp->cap * 16);
		t.used = 0;
		rp->g[0] = t;
		rp->started = now;
	}
	if (memcmp(rp->g[1].key[slot(rp, &rp->g[1], k)], k, 16) == 0)
		rc = 1;
	else if (memcmp(rp->g[0].key[i = slot(rp, &rp->g[0], k)], k, 16) == 0)
		rc = 1;
	else if (rp->g[0].used >= rp->max)
		rc = -1;
	else {
		memcpy(rp->g[0].key[i], k, 16);
		rp->g[0].used++;
	}
	pthread_mutex_unlock(&rp->mu);
	return rc;
}
