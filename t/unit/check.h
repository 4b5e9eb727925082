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

/* This project's own known answers: lines "name value" in file (under
 * t/vectors). check_kat_str checks got against the value named name;
 * NC_KAT_PRINT=1 prints "name got" so the file can be made anew. */
static inline const char *
check_kat_get(const char *file, const char *name)
{
	static char line[16384];
	FILE *f = fopen(file, "r");
	size_t l = strlen(name);
	const char *v = NULL;

	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, name, l) == 0 && line[l] == ' ') {
			line[strcspn(line, "\n")] = '\0';
			v = line + l + 1;
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static inline void
check_kat_str(const char *file, const char *name, const char *got)
{
	const char *want = check_kat_get(file, name);

	if (getenv("NC_KAT_PRINT"))
		printf("%s %s\n", name, got);
	check_one(want != NULL && strcmp(want, got) == 0, file, 0, name);
	if (want && strcmp(want, got) != 0)
		fprintf(stderr, "    %s: %s, want %s\n", name, got, want);
}

static inline void
check_kat_hex(const char *file, const char *name, const unsigned char *p,
    size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char *h = malloc(2 * n + 1);
	size_t i;

	if (h == NULL)
		abort();
	for (i = 0; i < n; i++) {
		h[2 * i] = hx[p[i] >> 4];
		h[2 * i + 1] = hx[p[i] & 15];
	}
	h[2 * n] = '\0';
	check_kat_str(file, name, h);
	free(h);
}

#endif
