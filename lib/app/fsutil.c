/* fsutil.c - whole-file reads and atomic writes (write, fsync, rename,
 * fsync the directory), so no reader ever sees half a file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory part of path ("." if none), for the final fsync. */
static void
dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc;

	dir_of(path, dir, sizeof dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
nc_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, n, saved;
	const char *what;

	n = snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%08x", path, (long)getpid(),
	    (unsigned)randombytes_random());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return nc_fail(NC_ECANTCREAT, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return nc_fail(NC_ECANTCREAT, "%s: %s", tmp, strerror(errno));
	what = "write";
	if (write_all(fd, data, len) != 0)
		goto fail;
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	what = "close";
	n = close(fd);
	fd = -1;
	if (n != 0)
		goto fail;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	if (sync_dir(path) != 0)   /* the rename itself is now durable */
		return nc_fail(NC_EIO, "%s: fsync directory: %s", path,
		    strerror(errno));
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return nc_fail(NC_EIO, "%s: %s: %s", path, what, strerror(saved));
}

int
nc_buf_readfd(nc_buf *b, int fd, size_t max)
{
	ssize_t n;
	int rc;

	for (;;) {
		/* Room doubling from 4 KiB: a short message read from stdin
		 * does not get a 128 KiB secret buffer (a sodium_malloc). */
		if ((rc = nc_buf_reserve(b, b->len < 4096 ? 4096 : b->len)) != 0)
			return rc;
		n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nc_fail(NC_EIO, "read: %s", strerror(errno));
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		if (b->len > max)
			return nc_fail(NC_EDATA, "input longer than %zu bytes", max);
	}
}

int
nc_read_file(const char *path, nc_buf *buf, size_t max)
{
	struct stat st;
	int fd, rc, saved;

	nc_buf_reset(buf);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		saved = errno;
		nc_fail(NC_EIO, "%s: %s", path, strerror(saved));
		errno = saved;
		return NC_EIO;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		close(fd);
		return nc_fail(NC_EIO, "%s: %s", path, strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nc_fail(NC_EDATA, "%s: not a regular file", path);
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return nc_fail(NC_EDATA, "%s: larger than %zu bytes", path, max);
	}
	rc = nc_buf_readfd(buf, fd, max);
	saved = errno;
	close(fd);
	errno = saved;
	if (rc == NC_EDATA)   /* it grew while we read */
		return nc_fail(NC_EDATA, "%s: larger than %zu bytes", path, max);
	if (rc != 0) {
		char why[256];   /* nc_errmsg's buffer is about to be reused */

		snprintf(why, sizeof why, "%s", nc_errmsg());
		return nc_fail(rc, "%s: %s", path, why);
	}
	return 0;
}
