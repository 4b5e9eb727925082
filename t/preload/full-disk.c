/* full-disk.c - LD_PRELOAD shim for t/2810-faults.bats: while the file
 * named by NC_TEST_FULL exists, every write to a file called state.db or
 * state.db-wal fails with ENOSPC, as on a full disk (the shared-memory
 * index, which sqlite maps, and every other file are left alone). Tests
 * fill and free the "disk" by creating and removing that file, without
 * privileges or a small filesystem. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int
full(int fd)
{
	const char *flag = getenv("NC_TEST_FULL");
	char link[64], path[4096];
	ssize_t n;
	size_t len;

	if (flag == NULL || access(flag, F_OK) != 0)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof path - 1)) <= 0)
		return 0;
	path[n] = '\0';
	len = (size_t)n;
	return (len >= 9 && strcmp(path + len - 9, "/state.db") == 0) ||
	    (len >= 13 && strcmp(path + len - 13, "/state.db-wal") == 0);
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static void *
next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	static write_fn real;

	if (real == NULL)
		*(void **)&real = next("write");
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static pwrite_fn real;

	if (real == NULL)
		*(void **)&real = next("pwrite");
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static pwrite_fn real;

	if (real == NULL)
		*(void **)&real = next("pwrite64");
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, n, off);
}
