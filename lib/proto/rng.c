/* rng.c - one place all protocol randomness comes from. */
#include <sodium.h>

#include "rng.h"

static void (*test_fn)(void *, void *, size_t);
static void *test_ctx;

void
nc_random(void *p, size_t n)
{
	if (test_fn != NULL)
		test_fn(test_ctx, p, n);
	else
		randombytes_buf(p, n);
}

void
nc_random_set_test(void (*fn)(void *ctx, void *p, size_t n), void *ctx)
{
	test_fn = fn;
	test_ctx = ctx;
}
