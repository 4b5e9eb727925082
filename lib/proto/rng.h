/* rng.h - the randomness every crypto module draws from: libsodium's
 * randombytes_buf, unless a test installs a deterministic source so that
 * known-answer vectors (fixed seeds -> fixed bytes) can be committed. */
#ifndef NC_RNG_H
#define NC_RNG_H

#include <stddef.h>

void nc_random(void *p, size_t n);

/* Tests only: route nc_random through fn(ctx, p, n); NULL restores
 * randombytes_buf. Never called by library or command code. */
void nc_random_set_test(void (*fn)(void *ctx, void *p, size_t n), void *ctx);

#endif
