/* change-on-read.c - LD_PRELOAD shim for t/5000-media.bats: the first
 * read from the file named by NC_TEST_CHANGE changes that file once, as
 * NC_TEST_CHANGE_HOW says: "grow" (a byte appended), "shrink" (its last
 * byte cut) or "modify" (its last byte changed in place, the size kept).
 * So "a file that changes while it is read" happens at a known point,
 * without a race against a background writer. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int done;

static void
change(int fd)
{
	const char *path = getenv("NC_TEST_CHANGE");
	const char *how = getenv("NC_TEST_CHANGE_HOW");
	struct stat a, b;
	unsigned char c;
	int w;

	if (done || path == NULL || how == NULL || fstat(fd, &a) != 0 ||
	    !S_ISREG(a.st_mode) || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev || b.st_size < 1)
		return;
	done = 1;
	if (strcmp(how, "shrink") == 0) {
		(void)truncate(path, b.st_size - 1);
		return;
	}
	if ((w = open(path, O_RDWR)) < 0)
		return;
	if (strcmp(how, "grow") == 0)
		(void)pwrite(w, "x", 1, b.st_size);
	else if (pread(w, &c, 1, b.st_size - 1) == 1) {
		c ^= 0xff;
		(void)pwrite(w, &c, 1, b.st_size - 1);
	}
	close(w);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	ssize_t k;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	if (real == NULL)
		return -1;
	k = real(fd, buf, n);
	if (k > 0 && !done)
		change(fd);
	return k;
}
