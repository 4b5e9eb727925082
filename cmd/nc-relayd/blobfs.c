/* blobfs.c - blob files (blobfs.h). Resumable uploads (protocol.md 1.7):
 * the bytes gather in ID.part, which becomes ID when the last one came.
 * An append is written into ID.part at its offset as it arrives, synced,
 * and only then is the offset in ID.off moved (and acknowledged), so an
 * acknowledged offset survives a crash and bytes past it (an append cut
 * short, or a crash amid one) are never counted: the next append cuts
 * them. An upload begun before ID.off existed counts ID.part's length. */
#define _GNU_SOURCE   /* sync_file_range */
#include <errno.h>
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
blobfs_path(const char *dir, const uint8_t id[32], int kind, char *out, size_t n)
{
	static const char *const ext[] = { "", ".part", ".off" };
	char hx[65];

	nc_hex_encode(hx, id, 32);
	snprintf(out, n, "%s/%s%s", dir, hx, ext[kind]);
}

/* ID.off: the committed offset, the length, and a check word (so that a
 * read racing a write is seen), each 8 bytes little-endian, written in
 * place with one pwrite. */
#define OFF_LEN 24
#define OFF_MAGIC 0x6e632d626c6f6221ull   /* "nc-blob!" */

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int
off_write(int fd, uint64_t committed, uint64_t length)
{
	uint8_t b[OFF_LEN];

	put64(b, committed);
	put64(b + 8, length);
	put64(b + 16, committed ^ length ^ OFF_MAGIC);
	return pwrite(fd, b, sizeof b, 0) == (ssize_t)sizeof b && fdatasync(fd) == 0 ?
	    0 : -1;
}

static int
off_read(int fd, uint64_t *committed, uint64_t *length)
{
	uint8_t b[OFF_LEN];

	for (int tries = 0; tries < 3; tries++) {
		if (pread(fd, b, sizeof b, 0) != (ssize_t)sizeof b)
			return -1;
		*committed = get64(b);
		*length = get64(b + 8);
		if ((*committed ^ *length ^ OFF_MAGIC) == get64(b + 16) &&
		    *committed <= *length)
			return 0;
	}
	return -1;
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

	blobfs_path(dir, id, BLOBFS_BLOB, path, sizeof path);
	return rename(tmp, path) == 0 && blobfs_sync_dir(dir) == 0 ? 0 : -1;
}

int
blobfs_new_part(const char *dir, const uint8_t id[32], uint64_t length)
{
	char path[4200];
	int fd, rc;

	blobfs_path(dir, id, BLOBFS_PART, path, sizeof path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	close(fd);
	blobfs_path(dir, id, BLOBFS_OFF, path, sizeof path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	rc = off_write(fd, 0, length);
	close(fd);
	return rc == 0 ? blobfs_sync_dir(dir) : -1;
}

int
blobfs_open(const char *dir, const uint8_t id[32], int *fd)
{
	char path[4200];

	blobfs_path(dir, id, BLOBFS_BLOB, path, sizeof path);
	return (*fd = open(path, O_RDONLY)) < 0 ? ST_NOTFOUND : ST_OK;
}

void
blobfs_unlink(const char *dir, const uint8_t id[32])
{
	char path[4200];

	for (int k = BLOBFS_BLOB; k <= BLOBFS_OFF; k++) {
		blobfs_path(dir, id, k, path, sizeof path);
		unlink(path);
	}
}

/* The committed offset of an upload whose ID.part is open as fd (and
 * ID.off, if there is one, as *off_fd): 0, or -1 with ID.off unreadable. */
static int
committed(const char *dir, const uint8_t id[32], int fd, int *off_fd,
    uint64_t *cur, uint64_t *length)
{
	char path[4200];
	struct stat sb;
	uint64_t len = 0;

	if (fstat(fd, &sb) != 0)
		return -1;
	blobfs_path(dir, id, BLOBFS_OFF, path, sizeof path);
	if ((*off_fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			return -1;
		*cur = (uint64_t)sb.st_size;   /* an upload from before ID.off */
		return 0;
	}
	if (off_read(*off_fd, cur, &len) != 0)
		return -1;
	if (*length == 0)
		*length = len;
	else if (len != *length)
		return -1;
	if (*cur > (uint64_t)sb.st_size)   /* never more than is there */
		*cur = (uint64_t)sb.st_size;
	return 0;
}

int
blobfs_offset(const char *dir, const uint8_t id[32], uint64_t length, uint64_t *off)
{
	char path[4200];
	struct stat sb;
	int fd, off_fd = -1, rc;

	blobfs_path(dir, id, BLOBFS_BLOB, path, sizeof path);
	if (stat(path, &sb) == 0) {
		*off = length;
		return ST_OK;
	}
	blobfs_path(dir, id, BLOBFS_PART, path, sizeof path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ST_NOTFOUND;
	rc = committed(dir, id, fd, &off_fd, off, &length) == 0 ? ST_OK : ST_ERR;
	if (off_fd >= 0)
		close(off_fd);
	close(fd);
	return rc;
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
blobfs_part_begin(const char *dir, const uint8_t id[32], uint64_t off, uint64_t n,
    uint64_t length, struct blob_w *w, uint64_t *cur)
{
	char path[4200];
	struct stat sb;
	int rc;

	*w = (struct blob_w){ .fd = -1, .off_fd = -1 };
	blobfs_path(dir, id, BLOBFS_PART, path, sizeof path);
	if ((w->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		*cur = length;
		blobfs_path(dir, id, BLOBFS_BLOB, path, sizeof path);
		return stat(path, &sb) == 0 ? ST_EXISTS : ST_NOTFOUND;
	}
	/* One append at a time per upload; a second one is told to ask. */
	if (flock(w->fd, LOCK_EX | LOCK_NB) != 0) {
		(void)committed(dir, id, w->fd, &w->off_fd, cur, &length);
		rc = ST_CONFLICT;
		goto fail;
	}
	rc = ST_ERR;
	if (fstat(w->fd, &sb) != 0)
		goto fail;
	if (sb.st_nlink == 0) {      /* completed meanwhile */
		*cur = length;
		rc = ST_EXISTS;
		goto fail;
	}
	if (committed(dir, id, w->fd, &w->off_fd, cur, &length) != 0 || length == 0)
		goto fail;
	if (off != *cur) {
		rc = ST_CONFLICT;
		goto fail;
	}
	if (n > length - off) {
		rc = ST_FULL;
		goto fail;
	}
	/* what an append cut short (or a crash) left past the offset */
	if ((uint64_t)sb.st_size > off && ftruncate(w->fd, (off_t)off) != 0)
		goto fail;
	w->off = off;
	w->n = n;
	w->length = length;
	return ST_OK;
fail:
	w->done = 1;   /* nothing to cut */
	blobfs_part_end(w);
	return rc;
}

#define WRITEBACK ((uint64_t)8 << 20)

/* The pages are handed to the kernel's writeback every 8 MiB as they come
 * (sync_file_range without waiting), so that the sync before the answer
 * finds little left to write instead of the whole append at once. */
int
blobfs_part_write(struct blob_w *w, uint64_t at, const void *p, size_t n)
{
	const char *c = p;
	ssize_t k;

	if (w->fd < 0 || w->done || at > w->n || n > w->n - at) {
		errno = EINVAL;
		return -1;
	}
	while (n > 0) {
		if ((k = pwrite(w->fd, c, n, (off_t)(w->off + at))) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += k;
		n -= (size_t)k;
		at += (uint64_t)k;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	if (at - w->kicked >= WRITEBACK) {
		(void)sync_file_range(w->fd, (off_t)(w->off + w->kicked),
		    (off_t)(at - w->kicked), SYNC_FILE_RANGE_WRITE);
		w->kicked = at;
	}
#endif
	return 0;
}

int
blobfs_part_commit(const char *dir, const uint8_t id[32], struct blob_w *w,
    uint64_t *cur)
{
	char part[4200], path[4200];
	uint64_t end = w->off + w->n;

	if (w->done || fdatasync(w->fd) != 0)
		return ST_ERR;
	if (end == w->length) {
		blobfs_path(dir, id, BLOBFS_BLOB, path, sizeof path);
		blobfs_path(dir, id, BLOBFS_PART, part, sizeof part);
		if (rename(part, path) != 0)
			return ST_ERR;
		w->done = 1;
		if (blobfs_sync_dir(dir) != 0)
			return ST_ERR;
		/* a leftover ID.off goes with the blob (blobfs_unlink) */
		blobfs_path(dir, id, BLOBFS_OFF, path, sizeof path);
		(void)unlink(path);
	} else if (w->off_fd >= 0 && off_write(w->off_fd, end, w->length) != 0)
		return ST_ERR;
	w->done = 1;
	*cur = end;
	/* The upload's lock goes now, before the answer: the client's next
	 * append follows the answer at once, and one that found the lock
	 * still held (it went when the request was done with) was told 409
	 * and waited its backoff for nothing. */
	blobfs_part_end(w);
	return ST_OK;
}

void
blobfs_part_end(struct blob_w *w)
{
	if (w->fd >= 0) {
		if (!w->done)   /* uncounted anyway; the space back now */
			(void)ftruncate(w->fd, (off_t)w->off);
		close(w->fd);
	}
	if (w->off_fd >= 0)
		close(w->off_fd);
	w->fd = w->off_fd = -1;
}

int
blobfs_append(const char *dir, const uint8_t id[32], uint64_t off, const char *tmp,
    struct blob_w *w, uint64_t n, uint64_t length, uint64_t *cur)
{
	struct blob_w own;
	int in, rc;

	if (w != NULL) {   /* written in place already */
		if (w->off != off || w->n != n || w->length != length)
			return ST_ERR;
		return blobfs_part_commit(dir, id, w, cur);
	}
	if ((rc = blobfs_part_begin(dir, id, off, n, length, &own, cur)) != ST_OK)
		return rc;
	rc = ST_ERR;
	if ((in = open(tmp, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (copy_at(in, own.fd, off, n) == 0)
			rc = blobfs_part_commit(dir, id, &own, cur);
		close(in);
	}
	blobfs_part_end(&own);
	return rc;
}
