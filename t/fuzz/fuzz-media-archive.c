/* fuzz-media-archive.c - the archive reader wrapper (lib/app/mediaio.c,
 * nc_media_extract: what nc-media get and nc-recv --save do with a
 * verified directory) on hostile tar bytes. Each input is extracted into
 * a fresh stage directory inside a fresh parent; the oracle: nothing is
 * ever written outside the stage (the parent holds the stage alone, and
 * a file beside it is untouched), nothing in it is other than a file, a
 * directory or a symbolic link, no set-id bit, and what is accepted stays
 * within the caps (set small here through the environment). */
#define _XOPEN_SOURCE 700   /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "mediaio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENTRIES 16
#define BYTES 65536

static uint64_t nent, nbytes;
static int bad;

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

static int
look(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)p;
	if (f->level == 0)
		return 0;
	nent++;
	if (flag == FTW_F) {
		if (!S_ISREG(sb->st_mode))
			bad = 1;   /* a fifo, a device, a socket */
		nbytes += (uint64_t)sb->st_size;
	} else if (flag != FTW_D && flag != FTW_SL && flag != FTW_SLN)
		bad = 1;
	if (sb->st_mode & (S_ISUID | S_ISGID))
		bad = 1;
	return 0;
}

/* How many entries dir holds. */
static int
count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char parent[] = "/tmp/nc-fuzz-archive.XXXXXX", stage[64], guard[64], in[64];
	struct stat sb;
	int fd, rc;

	setenv("NC_MEDIA_MAX_ENTRIES", "16", 1);
	setenv("NC_MEDIA_MAX_BYTES", "65536", 1);
	if (mkdtemp(parent) == NULL)
		abort();
	snprintf(stage, sizeof stage, "%s/stage", parent);
	snprintf(guard, sizeof guard, "%s/guard", parent);
	snprintf(in, sizeof in, "%s/in", parent);
	if (mkdir(stage, 0700) != 0 ||
	    (fd = open(guard, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write(fd, "g", 1) != 1 || close(fd) != 0 ||
	    (fd = open(in, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0 ||
	    (size && write(fd, data, size) != (ssize_t)size))
		abort();
	/* the archive stays open, its name gone: the parent holds two */
	if (unlink(in) != 0)
		abort();
	rc = nc_media_extract(fd, size, stage, "d");
	close(fd);
	nc_clearerr();
	nent = nbytes = 0;
	bad = 0;
	if (nftw(stage, look, 16, FTW_PHYS) != 0)
		abort();
	/* nothing beside the stage; the guard untouched (not followed
	 * through a link, not replaced) */
	if (count(parent) != 2 || lstat(guard, &sb) != 0 ||
	    !S_ISREG(sb.st_mode) || sb.st_size != 1 || bad)
		abort();
	/* accepted: within the caps, and under d/ */
	if (rc == 0 && (nent > ENTRIES || nbytes > BYTES || nbytes > size ||
	    count(stage) != 1))
		abort();
	if (nftw(parent, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		abort();
	return 0;
}
