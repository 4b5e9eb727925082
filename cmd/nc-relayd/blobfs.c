/* blobfs.c - blob files (blobfs.h). Resumable uploads (protocol-media.md):
 * the bytes gather in ID.part, which becomes ID when the last one came.
 * The part's length is the offset; an append is synced before it is
 * acknowledged, so an acknowledged offset survives a crash. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobfs.h"
#include "hex.h"
#include "store.h"

void
blobfs_path(const char *dir, const uint8_t id[32], int part, char *out, size_t n)
{
	char hx[65];

	nc_hex_encode(hx, id, 32);
	snprintf(out, n, "%s/%s%s", dir, hx, part ? ".part" : "");
}

/* fsync a file or directory by its name: 0, or -1 with errno. */
static int
sync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | flags), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
blobfs_sync_dir(const char *dir)
{
	return sync_path(dir, O_DIRECTORY);
}

int
blobfs_tmp(const char *dir, char *path, size_t n, int *fd)
{
	if (snprintf(path, n, "%s/tmp-XXXXXX", dir) >= (int)n)
		return ST_ERR;
	if ((*fd = mkstemp(path)) < 0)
		return ST_ERR;
	return ST_OK;
}

int
blobfs_sync_file(const char *path)
{
	return sync_path(path, 0);
}

int
blobfs_link(const char *dir, const uint8_t id[32], const char *tmp)
{
	char path[4200];

	blobfs_path(dir, id, 0, path, sizeof path);
	return rename(tmp, path) == 0 && blobfs_sync_dir(dir) == 0 ? 0 : -1;
}

int
blobfs_new_part(const char *dir, const uint8_t id[32])
{
	char path[4200];
	int fd;

	blobfs_path(dir, id, 1, path, sizeof path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	close(fd);
	return blobfs_sync_dir(dir);
}

int
blobfs_open(const char *dir, const uint8_t id[32], int *fd)
{
	char path[4200];

	blobfs_path(dir, id, 0, path, sizeof path);
	return (*fd = open(path, O_RDONLY)) < 0 ? ST_NOTFOUND : ST_OK;
}

void
blobfs_unlink(const char *dir, const uint8_t id[32])
{
	char path[4200];

	blobfs_path(dir, id, 0, path, sizeof path);
	unlink(path);
	blobfs_path(dir, id, 1, path, sizeof path);
	unlink(path);
}

int
blobfs_offset(const char *dir, const uint8_t id[32], uint64_t length, uint64_t *off)
{
	char path[4200];
	struct stat sb;

	blobfs_path(dir, id, 0, path, sizeof path);
	if (stat(path, &sb) == 0) {
		*off = length;
		return ST_OK;
	}
	blobfs_path(dir, id, 1, path, sizeof path);
	if (stat(path, &sb) != 0)
		return ST_NOTFOUND;
	*off = (uint64_t)sb.st_size;
	return ST_OK;
}

/* n bytes of in from its start to out at offset off (in the kernel). */
static int
copy_at(int in, int out, uint64_t off, uint64_t n)
{
	off_t ip = 0;
	ssize_t k;

	if (lseek(out, (off_t)off, SEEK_SET) < 0)
		return -1;
	while (n > 0) {
		k = sendfile(out, in, &ip, n > (1u << 30) ? 1u << 30 : (size_t)n);
		if (k <= 0)
			return -1;
		n -= (uint64_t)k;
	}
	return 0;
}

int
blobfs_append(const char *dir, const uint8_t id[32], uint64_t off, const char *tmp,
    uint64_t n, uint64_t length, uint64_t *cur)
{
	char part[4200], path[4200];
	struct stat sb;
	int fd = -1, in = -1, rc;

	blobfs_path(dir, id, 0, path, sizeof path);
	blobfs_path(dir, id, 1, part, sizeof part);
	if ((fd = open(part, O_WRONLY | O_CLOEXEC)) < 0) {
		*cur = length;
		return stat(path, &sb) == 0 ? ST_EXISTS : ST_NOTFOUND;
	}
	/* One append at a time per upload; a second one is told to ask. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &sb) != 0) {
		rc = ST_CONFLICT;
		goto out;
	}
	*cur = (uint64_t)sb.st_size;
	if (sb.st_nlink == 0) {      /* completed meanwhile */
		*cur = length;
		rc = ST_EXISTS;
		goto out;
	}
	if (off != *cur) {
		rc = ST_CONFLICT;
		goto out;
	}
	if (n > length - off) {
		rc = ST_FULL;
		goto out;
	}
	rc = ST_ERR;
	if ((in = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 ||
	    copy_at(in, fd, off, n) != 0 || fsync(fd) != 0)
		goto out;
	*cur = off + n;
	if (*cur == length && (rename(part, path) != 0 || blobfs_sync_dir(dir) != 0))
		goto out;
	rc = ST_OK;
out:
	if (in >= 0)
		close(in);
	close(fd);
	return rc;
}
