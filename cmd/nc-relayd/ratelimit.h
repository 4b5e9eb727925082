/* ratelimit.h - token buckets per (class, client address): in memory, or
 * in the store when it is shared by many relay processes (store_shared). */
#ifndef RELAY_RATELIMIT_H
#define RELAY_RATELIMIT_H

#include <stdint.h>

enum { RL_REGISTER, RL_LOGIN, RL_ANON };

struct ratelimit;

struct ratelimit *rl_new(void);
void rl_free(struct ratelimit *rl);
/* From now on, the buckets of every process on store st (PostgreSQL),
 * named by a hash keyed from key, a secret all those processes share. */
struct store;
void rl_share(struct ratelimit *rl, struct store *st, const uint8_t key[32]);
/* Take one token from the bucket of (cls, addr), which refills at rate per
 * second up to burst. 0 if allowed; else the seconds to wait (>= 1). A rate
 * of 0 means no limit. */
unsigned rl_take(struct ratelimit *rl, int cls, const char *addr, double rate,
    double burst, double now);

#endif
