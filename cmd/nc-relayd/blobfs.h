/* blobfs.h - the blob files of both storage backends: DIR/ID (complete),
 * DIR/ID.part (a resumable upload) and DIR/ID.off (how much of it is
 * committed, and its length), DIR/tmp-* (bodies being received).
 * The rows that say which blobs exist and until when are the backend's. */
#ifndef RELAY_BLOBFS_H
#define RELAY_BLOBFS_H

#include <stddef.h>
#include <stdint.h>

/* kind: BLOBFS_BLOB, BLOBFS_PART, BLOBFS_OFF */
enum { BLOBFS_BLOB, BLOBFS_PART, BLOBFS_OFF };
void blobfs_path(const char *dir, const uint8_t id[32], int kind, char *out, size_t n);
int blobfs_sync_dir(const char *dir);
/* A temporary file for a body (ST_OK, ST_ERR), and making it durable. */
int blobfs_tmp(const char *dir, char *path, size_t n, int *fd);
int blobfs_sync_file(const char *path);
/* tmp becomes blob id, durably: 0 or -1. */
int blobfs_link(const char *dir, const uint8_t id[32], const char *tmp);
/* An empty ID.part of an upload of length bytes, durably: 0 or -1. */
int blobfs_new_part(const char *dir, const uint8_t id[32], uint64_t length);
/* Open blob id for reading: ST_OK or ST_NOTFOUND. */
int blobfs_open(const char *dir, const uint8_t id[32], int *fd);
void blobfs_unlink(const char *dir, const uint8_t id[32]);
/* The offset of an upload of length bytes (ST_OK, ST_NOTFOUND). */
int blobfs_offset(const char *dir, const uint8_t id[32], uint64_t length, uint64_t *off);

/* An append written in place: ID.part open for writing, the upload's
 * lock held, the bytes past its committed offset cut. The body goes to
 * fd at off.. off + n - 1 as it comes; blobfs_part_commit syncs it and
 * only then moves the committed offset (ID.off) or completes the blob,
 * and once committed lets the lock go (before the answer);
 * blobfs_part_end cuts what was not committed and lets the lock go. A
 * crash or a body cut short leaves the offset where it was. */
struct blob_w {
	int fd, off_fd;       /* ID.part; ID.off (-1: an upload without one) */
	uint64_t off, n, length;
	uint64_t kicked;      /* body bytes handed to writeback */
	int done;             /* committed */
};
/* length 0: the one ID.off holds. ST_OK, else as store_blob_append. */
int blobfs_part_begin(const char *dir, const uint8_t id[32], uint64_t off, uint64_t n,
    uint64_t length, struct blob_w *w, uint64_t *cur);
/* Body bytes at off + at (at + n <= w->n): 0, or -1 with errno. */
int blobfs_part_write(struct blob_w *w, uint64_t at, const void *p, size_t n);
int blobfs_part_commit(const char *dir, const uint8_t id[32], struct blob_w *w,
    uint64_t *cur);
void blobfs_part_end(struct blob_w *w);
/* store.h's store_blob_append, once the row says the upload exists: w's
 * bytes (written in place) or tmp's n bytes at off. */
int blobfs_append(const char *dir, const uint8_t id[32], uint64_t off, const char *tmp,
    struct blob_w *w, uint64_t n, uint64_t length, uint64_t *cur);

#endif
