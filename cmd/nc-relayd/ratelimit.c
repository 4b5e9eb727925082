/* ratelimit.c - token buckets in a fixed table: memory stays bounded however
 * many addresses call; when a probe finds no room, the stalest bucket of the
 * probe window is reused (a flood of addresses can only reset buckets, which
 * per-IP connection limits and the proxy in front must absorb). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"
#include "store.h"

#define SLOTS 16384
#define PROBE 8

struct bucket {
	uint64_t key;
	double tokens, last;
};

struct ratelimit {
	struct store *shared;   /* the buckets are there, not in b[] */
	pthread_mutex_t mu;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	uint8_t skey[32];         /* the shared buckets' names' key */
	struct bucket b[SLOTS];
};

struct ratelimit *
rl_new(void)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);

	if (rl == NULL)
		return NULL;
	pthread_mutex_init(&rl->mu, NULL);
	randombytes_buf(rl->hkey, sizeof rl->hkey);   /* unpredictable slots */
	return rl;
}

void
rl_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	sodium_memzero(rl, sizeof *rl);
	free(rl);
}

void
rl_share(struct ratelimit *rl, struct store *st, const uint8_t key[32])
{
	rl->shared = st;
	crypto_generichash(rl->skey, sizeof rl->skey, (const uint8_t *)"newchat rate-limit "
	    "names v1", 27, key, 32);
}

/* A bucket shared by every process: named by a hash keyed with what every
 * process derives alike (rl_share; not hkey, each process's own), so the
 * database holds no name that a guess of an address could be checked
 * against; a row in the database's btree, where no probe sequence can be
 * crowded. A database that does not answer limits
 * nothing: the request meets the same database next and gets its 503. */
static unsigned
take_shared(struct ratelimit *rl, const uint8_t *in, size_t n, double rate,
    double burst, double now)
{
	uint8_t k[16];
	unsigned wait;

	crypto_generichash(k, sizeof k, in, n, rl->skey, sizeof rl->skey);
	return store_shared_rate(rl->shared, k, rate, burst, now, &wait) == ST_OK ?
	    wait : 0;
}

static struct bucket *
find(struct ratelimit *rl, uint64_t key, double burst, double now)
{
	struct bucket *b, *stale = NULL;

	for (int i = 0; i < PROBE; i++) {
		b = &rl->b[(key + (uint64_t)i) % SLOTS];
		if (b->key == key)
			return b;
		if (stale == NULL || b->last < stale->last)
			stale = b;
	}
	stale->key = key;
	stale->tokens = burst;
	stale->last = now;
	return stale;
}

unsigned
rl_take(struct ratelimit *rl, int cls, const char *addr, double rate,
    double burst, double now)
{
	uint8_t in[80], h[8];
	size_t n = strnlen(addr, sizeof in - 1);
	struct bucket *b;
	uint64_t key;
	unsigned wait = 0;

	if (rate <= 0)
		return 0;
	in[0] = (uint8_t)cls;
	memcpy(in + 1, addr, n);
	if (rl->shared)
		return take_shared(rl, in, n + 1, rate, burst, now);
	crypto_shorthash(h, in, n + 1, rl->hkey);
	memcpy(&key, h, sizeof key);
	key |= 1;   /* 0 marks an empty slot */
	pthread_mutex_lock(&rl->mu);
	b = find(rl, key, burst, now);
	b->tokens = fmin(burst, b->tokens + (now - b->last) * rate);
	b->last = now;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (unsigned)ceil((1 - b->tokens) / rate);
	pthread_mutex_unlock(&rl->mu);
	return wait ? wait : 0;
}
