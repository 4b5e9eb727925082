/* check.h - the unit tests' assertions. Every CHECK counts as one test; a
 * program ends with check_done(), which prints "N passed, N failed". */
#ifndef NC_CHECK_H
#define NC_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) check_one(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (!check_one(a_ == b_, __FILE__, __LINE__, #a " == " #b)) \
		fprintf(stderr, "    %lld != %lld\n", a_, b_); } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!check_one(a_ && b_ && strcmp(a_, b_) == 0, __FILE__, __LINE__, #a " == " #b)) \
		fprintf(stderr, "    \"%s\" != \"%s\"\n", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

static inline int
check_one(int ok, const char *file, int line, const char *what)
{
	if (ok)
		check_passed++;
	else {
		check_failed++;
		fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
	}
	return ok;
}

static inline int
check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

/* The outside known-answer vectors, committed in t/vectors (see its
 * README for sources and licences); tests run from the top of the tree. */
static inline const char *
check_vectors(void)
{
	return "t/vectors";
}

#endif
