/* blobfs.h - the blob files of both storage backends: DIR/ID (complete),
 * DIR/ID.part (a resumable upload), DIR/tmp-* (bodies being received).
 * The rows that say which blobs exist and until when are the backend's. */
#ifndef RELAY_BLOBFS_H
#define RELAY_BLOBFS_H

#include <stddef.h>
#include <stdint.h>

void blobfs_path(const char *dir, const uint8_t id[32], int part, char *out, size_t n);
int blobfs_sync_dir(const char *dir);
/* A temporary file for a body (ST_OK, ST_ERR), and making it durable. */
int blobfs_tmp(const char *dir, char *path, size_t n, int *fd);
int blobfs_sync_file(const char *path);
/* tmp becomes blob id, durably: 0 or -1. */
int blobfs_link(const char *dir, const uint8_t id[32], const char *tmp);
/* An empty ID.part, durably: 0 or -1. */
int blobfs_new_part(const char *dir, const uint8_t id[32]);
/* Open blob id for reading: ST_OK or ST_NOTFOUND. */
int blobfs_open(const char *dir, const uint8_t id[32], int *fd);
void blobfs_unlink(const char *dir, const uint8_t id[32]);
/* The offset of an upload of length bytes (ST_OK, ST_NOTFOUND). */
int blobfs_offset(const char *dir, const uint8_t id[32], uint64_t length, uint64_t *off);
/* store.h's store_blob_append, once the row says the upload exists. */
int blobfs_append(const char *dir, const uint8_t id[32], uint64_t off, const char *tmp,
    uint64_t n, uint64_t length, uint64_t *cur);

#endif
