/* fsutil.h - reading descriptors and whole files, atomic writes. */
#ifndef NC_FSUTIL_H
#define NC_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Read all of fd into b, failing with NC_EDATA past max bytes. */
int nc_buf_readfd(nc_buf *b, int fd, size_t max) __attribute__((warn_unused_result));

/* Replace path with data[0..len) atomically: a temporary file in the same
 * directory (O_EXCL|O_NOFOLLOW, given mode), write, fsync, rename over
 * path, fsync the directory. A crash leaves the old or the new file, never
 * a mix; on error the temporary file is removed. 0, or NC_ECANTCREAT (cannot
 * create), NC_EIO (write/fsync/rename failed) with nc_fail set. */
int nc_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode) __attribute__((warn_unused_result));

/* Read the regular file path into buf, replacing its contents (buf may be
 * a secret buffer). 0; NC_EIO if it
 * cannot be opened or read (errno is kept from the failing call, so
 * callers can test ENOENT), NC_EDATA if it is larger than max bytes or not
 * a regular file. */
int nc_read_file(const char *path, nc_buf *buf, size_t max)
	__attribute__((warn_unused_result));

#endif
