/* mediaio.c - nc-media's logic (mediaio.h). A regular file is encrypted
 * as it is uploaded (its ciphertext's length, announced first, follows
 * from its size), a chunk at a time with nothing kept on disk: a resumed
 * append is encrypted again from the file (struct ctsrc); a directory or
 * standard input is encrypted into an unlinked spool file first. The ciphertext goes in segments the relay
 * acknowledges one by one (64 MiB); downloads resume with Range
 * and decrypt into a temporary file beside the target, renamed into place
 * only after the whole file verified. */
#define _GNU_SOURCE   /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archload.h"
#include "blob.h"
#include "err.h"
#include "hex.h"
#include "media.h"
#include "mediaio.h"
#include "rng.h"
#include "wire.h"

#define SEGMENT_DEFAULT ((uint64_t)64 << 20)   /* bytes per acknowledged append */
#define TRIES 10                               /* attempts without progress */
#define ENTRIES_MAX 100000                     /* archive entries */
#define BYTES_MAX ((uint64_t)64 << 30)         /* extracted bytes */

static const char *t_proxy, *t_cafile;

void
nc_media_transport(const char *proxy, const char *cafile)
{
	t_proxy = proxy;
	t_cafile = cafile;
}

nc_config *
nc_media_config(void)
{
	char home[4096];
	nc_config *cfg = NULL;

	if (nc_home_path(home, sizeof home) != 0 || access(home, F_OK) != 0 ||
	    nc_config_load(&cfg, home) != 0)
		return NULL;
	nc_media_transport(nc_config_proxy(cfg), nc_config_cafile(cfg));
	return cfg;
}

/* A number from the environment (tests shrink limits with it). */
static uint64_t
env_num(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return dflt;
	v = strtoull(s, &end, 10);
	return *end == '\0' && v > 0 ? (uint64_t)v : dflt;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- progress on a terminal: size, rate, time left ---- */

struct bar {
	int on;
	const char *what;
	uint64_t total, done;
	int64_t start, last;
};

static void
human(char *out, size_t n, double v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void
bar_draw(struct bar *b, int end)
{
	char d[32], t[32], r[32];
	int64_t now = now_ms();
	double secs, rate;

	if (!b->on || (!end && now - b->last < 200))
		return;
	b->last = now;
	secs = (double)(now - b->start) / 1000.0;
	rate = secs > 0 ? (double)b->done / secs : 0;
	human(d, sizeof d, (double)b->done);
	human(t, sizeof t, (double)b->total);
	human(r, sizeof r, rate);
	if (end)
		fprintf(stderr, "\r%s %s in %.1f s (%s/s)\033[K\n", b->what, d, secs, r);
	else if (rate > 0 && b->total >= b->done) {
		long left = (long)((double)(b->total - b->done) / rate);

		fprintf(stderr, "\r%s %s / %s  %s/s  %ld:%02ld left\033[K", b->what,
		    d, t, r, left / 60, left % 60);
	} else
		fprintf(stderr, "\r%s %s / %s\033[K", b->what, d, t);
}

/* ---- relay answers ---- */

static int
http_err(const nc_blob_resp *r, const char *what)
{
	char why[200];
	size_t n;

	snprintf(why, sizeof why, "%.199s", r->text);
	n = strcspn(why, "\r\n");
	why[n] = '\0';
	switch (r->status) {
	case 404: case 410:
		return nc_fail(NC_ENOUSER, "%s: no such file at the relay (expired "
		    "or deleted)", what);
	case 403: case 401:
		return nc_fail(NC_EPERM, "%s: refused: %s", what, why);
	case 413:
		return nc_fail(NC_EDATA, "%s: too large for the relay: %s", what, why);
	case 429: case 503: case 502: case 504: case 500: case 507:
		return nc_fail(NC_ETEMP, "%s: relay answered %ld %s; try again later",
		    what, r->status, why);
	default:
		return nc_fail(NC_EDATA, "%s: relay answered %ld %s", what,
		    r->status, why);
	}
}

/* Worth another try: the network, or a relay busy for now. */
static int
transient(int rc, long status)
{
	return rc == NC_EUNAVAIL || (rc == 0 && (status == 429 || status >= 500));
}

/* Wait before attempt k (1, 2...): 250 ms doubling, at most 8 s. */
static void
backoff(int k)
{
	long ms = 250L << (k < 6 ? k - 1 : 5);

	sleep_ms(ms > 8000 ? 8000 : ms);
}

/* ---- the spool: ciphertext in an unlinked temporary file ---- */

static int
spool_open(int *fd)
{
	const char *dir = getenv("TMPDIR");
	char path[4200];

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, sizeof path, "%s/nc-media-XXXXXX", dir);
	if ((*fd = mkstemp(path)) < 0)
		return nc_fail(NC_ECANTCREAT, "%s: cannot create a temporary "
		    "file: %s", dir, strerror(errno));
	unlink(path);
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
to_fd(void *ctx, const uint8_t *p, size_t n)
{
	int fd = *(int *)ctx;

	if (write_all(fd, p, n) != 0)
		return nc_fail(NC_EIO, "temporary file: %s", strerror(errno));
	return 0;
}

/* ---- putting ---- */

static const struct { const char *ext, *type; } types[] = {
	{ "txt", "text/plain" }, { "md", "text/markdown" }, { "html", "text/html" },
	{ "csv", "text/csv" }, { "json", "application/json" },
	{ "pdf", "application/pdf" }, { "zip", "application/zip" },
	{ "tar", "application/x-tar" }, { "gz", "application/gzip" },
	{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" }, { "webp", "image/webp" }, { "svg", "image/svg+xml" },
	{ "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" }, { "opus", "audio/opus" },
	{ "mp4", "video/mp4" }, { "webm", "video/webm" }, { "mov", "video/quicktime" },
};

static void
guess_type(const char *name, char *out, size_t n)
{
	const char *dot = strrchr(name, '.');

	snprintf(out, n, "application/octet-stream");
	if (dot == NULL)
		return;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0) {
			snprintf(out, n, "%s", types[i].type);
			return;
		}
}

/* The last path component, trailing slashes ignored. */
static void
base_name(const char *path, char *out, size_t n)
{
	size_t len = strlen(path), b;

	while (len > 1 && path[len - 1] == '/')
		len--;
	b = len;
	while (b > 0 && path[b - 1] != '/')
		b--;
	snprintf(out, n, "%.*s", (int)(len - b), path + b);
}

static int
encrypt_fd(nc_media_enc *e, int fd, const char *what, struct bar *b)
{
	for (;;) {
		size_t room;
		uint8_t *p = nc_media_enc_space(e, &room);
		ssize_t k;

		if (p == NULL)
			return e->err;
		if ((k = read(fd, p, room)) < 0) {
			if (errno == EINTR)
				continue;
			return nc_fail(NC_EIO, "%s: %s", what, strerror(errno));
		}
		if (k == 0)
			return 0;
		if (nc_media_enc_commit(e, (size_t)k) != 0)
			return NC_EIO;
		if (e->size > NC_MEDIA_SIZE_MAX)
			return nc_fail(NC_EDATA, "%s: too large", what);
		b->done = e->size;
		bar_draw(b, 0);
	}
}

/* libarchive's output: into the encryptor. */
static la_ssize_t
tar_out(struct archive *a, void *ctx, const void *p, size_t n)
{
	(void)a;
	return nc_media_enc_push(ctx, p, n) == 0 ? (la_ssize_t)n : -1;
}

/* dir as a tar archive (pax where ustar cannot say it), its entries
 * under its own name: regular files, directories and symbolic links;
 * anything else is left out with a warning. */
static int
encrypt_dir(nc_media_enc *e, const char *dir, const char *name)
{
	struct archive *disk, *w;
	struct archive_entry *ent;
	char buf[65536], path[PATH_MAX + 256];
	size_t skip = strlen(dir);
	int rc = 0, r, fd;

	if ((rc = nc_archive_load()) != 0)
		return rc;
	disk = nc_ar.archive_read_disk_new();
	w = nc_ar.archive_write_new();
	while (skip > 1 && dir[skip - 1] == '/')
		skip--;
	if (disk == NULL || w == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	nc_ar.archive_read_disk_set_symlink_physical(disk);
	nc_ar.archive_read_disk_set_standard_lookup(disk);
	nc_ar.archive_write_set_format_pax_restricted(w);
	nc_ar.archive_write_set_bytes_per_block(w, 0);
	if (nc_ar.archive_write_open2(w, e, NULL, tar_out, NULL, NULL) != ARCHIVE_OK ||
	    nc_ar.archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		rc = nc_fail(NC_EIO, "%s: %s", dir, nc_ar.archive_error_string(disk));
		goto out;
	}
	for (;;) {
		ent = nc_ar.archive_entry_new();
		r = nc_ar.archive_read_next_header2(disk, ent);
		if (r == ARCHIVE_EOF) {
			nc_ar.archive_entry_free(ent);
			break;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = nc_fail(NC_EIO, "%s: %s", dir, nc_ar.archive_error_string(disk));
			nc_ar.archive_entry_free(ent);
			goto out;
		}
		nc_ar.archive_read_disk_descend(disk);
		snprintf(path, sizeof path, "%s", nc_ar.archive_entry_sourcepath(ent));
		switch (nc_ar.archive_entry_filetype(ent)) {
		case AE_IFREG: case AE_IFDIR: case AE_IFLNK:
			break;
		default:
			fprintf(stderr, "nc-media: %s: not a file, directory or "
			    "symbolic link; left out\n", path);
			nc_ar.archive_entry_free(ent);
			continue;
		}
		{   /* NAME/relative path; no owner names, no set-id bits */
			char rel[PATH_MAX + 256];

			snprintf(rel, sizeof rel, "%s%s", name, path + skip);
			nc_ar.archive_entry_set_pathname(ent, rel);
			nc_ar.archive_entry_set_perm(ent, nc_ar.archive_entry_perm(ent) & 0777);
			nc_ar.archive_entry_set_uname(ent, NULL);
			nc_ar.archive_entry_set_gname(ent, NULL);
			nc_ar.archive_entry_set_uid(ent, 0);
			nc_ar.archive_entry_set_gid(ent, 0);
			nc_ar.archive_entry_set_hardlink(ent, NULL);
			nc_ar.archive_entry_set_nlink(ent, 1);
		}
		if (nc_ar.archive_write_header(w, ent) != ARCHIVE_OK) {
			rc = nc_fail(NC_EIO, "%s: %s", path, nc_ar.archive_error_string(w));
			nc_ar.archive_entry_free(ent);
			goto out;
		}
		if (nc_ar.archive_entry_filetype(ent) == AE_IFREG &&
		    nc_ar.archive_entry_size(ent) > 0) {
			ssize_t k;

			if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
				rc = nc_fail(NC_EIO, "%s: %s", path, strerror(errno));
				nc_ar.archive_entry_free(ent);
				goto out;
			}
			while ((k = read(fd, buf, sizeof buf)) > 0)
				if (nc_ar.archive_write_data(w, buf, (size_t)k) != k) {
					k = -1;
					break;
				}
			close(fd);
			if (k < 0) {
				rc = e->err ? e->err : nc_fail(NC_EIO, "%s: %s",
				    path, nc_ar.archive_error_string(w));
				nc_ar.archive_entry_free(ent);
				goto out;
			}
		}
		nc_ar.archive_entry_free(ent);
	}
	if (nc_ar.archive_write_close(w) != ARCHIVE_OK)
		rc = e->err ? e->err : nc_fail(NC_EIO, "%s: %s", dir,
		    nc_ar.archive_error_string(w));
out:
	if (disk)
		nc_ar.archive_read_free(disk);
	if (w)
		nc_ar.archive_write_free(w);
	return rc;
}

/* The ciphertext an upload sends. From a directory or standard input (a
 * length not known beforehand) it is all in the spool first. From a
 * regular file it is produced as the upload reads it, one chunk at a
 * time and kept in memory only until sent: no copy on disk. An append cut
 * part-way is produced again from the file: the encryptor's state is kept
 * at the chunk boundary at or before the start of the append in progress
 * (what the relay acknowledged) and at the stream's start, and re-running
 * it from there over the same plaintext gives the same bytes; the file is
 * checked unchanged before the final chunk as before. */
struct snap {
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state h;
	uint64_t q;            /* plaintext bytes consumed */
	uint64_t ct;           /* ciphertext bytes emitted */
};

struct ctsrc {
	int fd;                /* the spool, or -1: a regular file */
	uint64_t len;          /* the announced length */
	uint64_t pos, end;     /* this append's window */
	const char *what;
	struct bar *b;
	/* a regular file */
	nc_media_enc *e;
	int in, done;          /* the plaintext; the final chunk is out */
	struct stat st;        /* ... as it was when its length was taken */
	uint64_t size, plen;   /* content bytes; plaintext bytes (padded) */
	uint8_t meta[NC_MEDIA_META_MAX];
	size_t metalen;
	uint8_t hdr[NC_MEDIA_HDRBYTES];
	uint8_t *pend;         /* the chunk last emitted: ciphertext */
	size_t pendlen;        /* ... [pendat, pendat + pendlen) */
	uint64_t pendat;
	uint64_t q;            /* plaintext bytes consumed */
	struct snap at_pend, at_end, at_seg, at_start;
	uint8_t *hash;
	struct ahead *ahead;   /* encryption ahead in a second thread ... */
	int threaded;          /* ... running */
};

/* The plaintext is not what it was when its length was taken: another
 * size, inode or modification or change time (a write in place keeps the
 * size). Checked at its end, before the last chunk, so that an upload of
 * a file that changed never completes. */
static int
changed(const struct ctsrc *s)
{
	struct stat now;

	return fstat(s->in, &now) != 0 || now.st_size != s->st.st_size ||
	    now.st_ino != s->st.st_ino || now.st_dev != s->st.st_dev ||
	    now.st_mtim.tv_sec != s->st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != s->st.st_mtim.tv_nsec ||
	    now.st_ctim.tv_sec != s->st.st_ctim.tv_sec ||
	    now.st_ctim.tv_nsec != s->st.st_ctim.tv_nsec;
}

static int
changed_err(const struct ctsrc *s)
{
	return nc_fail(NC_ETEMP, "%s: changed while it was read; put it again",
	    s->what);
}

/* The encryptor's output: one chunk (or the stream header) at a time. */
static int
to_pend(void *ctx, const uint8_t *p, size_t n)
{
	struct ctsrc *s = ctx;

	if (n > NC_MEDIA_CTCHUNK - s->pendlen)
		return nc_fail(NC_ESOFTWARE, "media: chunk overflow");
	memcpy(s->pend + s->pendlen, p, n);
	s->pendlen += n;
	return 0;
}

static void
snap_take(struct snap *sn, const struct ctsrc *s)
{
	sn->st = s->e->st;
	sn->h = s->e->h;
	sn->q = s->q;
	sn->ct = s->e->ctlen;
}

/* Back to sn: the next chunk produced is the one at sn->ct. */
static int
snap_restore(struct ctsrc *s, const struct snap *sn)
{
	uint64_t at = sn->q < s->size ? sn->q : s->size;

	s->e->st = sn->st;
	s->e->h = sn->h;
	s->e->fill = 0;
	s->e->err = 0;
	s->e->size = sn->q;
	s->e->ctlen = sn->ct;
	s->q = sn->q;
	s->done = 0;
	s->pendat = sn->ct;
	s->pendlen = 0;
	s->at_end = *sn;
	if (lseek(s->in, (off_t)at, SEEK_SET) != (off_t)at)
		return nc_fail(NC_EIO, "%s: %s", s->what, strerror(errno));
	return 0;
}

/* Plaintext [q, q + n) into p: the file's bytes, zeros, the header. */
static int
plain(struct ctsrc *s, uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k;

		if (s->q < s->size) {
			ssize_t r;

			k = s->size - s->q < n ? (size_t)(s->size - s->q) : n;
			while ((r = read(s->in, p, k)) < 0 && errno == EINTR)
				;
			if (r < 0)
				return nc_fail(NC_EIO, "%s: %s", s->what, strerror(errno));
			if (r == 0)
				return changed_err(s);   /* shorter than it was */
			k = (size_t)r;
		} else if (s->q < s->plen - s->metalen) {
			k = s->plen - s->metalen - s->q < n ?
			    (size_t)(s->plen - s->metalen - s->q) : n;
			memset(p, 0, k);
		} else {
			size_t at = (size_t)(s->q - (s->plen - s->metalen));

			k = s->metalen - at < n ? s->metalen - at : n;
			memcpy(p, s->meta + at, k);
		}
		p += k;
		n -= k;
		s->q += k;
	}
	return 0;
}

/* The next chunk of ciphertext into pend (at pendat, where the last one
 * ended): the chunk before, once the plaintext of this one is in (a full
 * chunk goes out only when more follows), or the final one. */
static int
produce(struct ctsrc *s)
{
	size_t room;
	uint8_t *p;
	int rc;

	if (s->done)
		return changed_err(s);   /* more asked than announced */
	s->pendat += s->pendlen;
	s->pendlen = 0;
	s->at_pend = s->at_end;
	if (s->q == s->plen) {
		if (changed(s))
			return changed_err(s);
		if ((rc = nc_media_enc_close(s->e, s->hash)) != 0)
			return rc;
		s->done = 1;
		return s->e->ctlen == s->len ? 0 : changed_err(s);
	}
	if ((p = nc_media_enc_space(s->e, &room)) == NULL)
		return s->e->err;
	snap_take(&s->at_end, s);
	if (room > s->plen - s->q)
		room = (size_t)(s->plen - s->q);
	if ((rc = plain(s, p, room)) != 0)
		return rc;
	return nc_media_enc_commit(s->e, room);
}

/* ---- encryption ahead of the upload, in a second thread ---- */

/* With a second thread the encryptor runs ahead of the upload by up to
 * SLOTS chunks: it puts each chunk it emits, with the encryptor's state
 * at the chunk's start, into a slot; the upload (libcurl's read callback)
 * takes them in order and frees each once it is past it. A rewind (an
 * append to send again) stops the thread, restores a kept state and
 * starts it again. */
#define SLOTS 16

struct slot {
	struct snap sn;        /* the state at the chunk's start (sn.ct) */
	size_t len;
	uint8_t ct[NC_MEDIA_CTCHUNK];
};

struct ahead {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	struct slot *slot;     /* SLOTS of them */
	unsigned head, count;  /* the oldest slot held, how many */
	int stop;              /* the thread is to end */
	int end;               /* the final chunk is in a slot */
	int werr;              /* the thread's error, and its message */
	char wmsg[512];
};

static void *
ahead_main(void *arg)
{
	struct ctsrc *s = arg;
	struct ahead *a = s->ahead;
	int rc = 0;

	while (!s->done) {
		struct slot *sl;

		if ((rc = produce(s)) != 0)
			break;
		if (s->pendlen == 0)
			continue;   /* the first after a restore emits nothing */
		pthread_mutex_lock(&a->mu);
		while (a->count == SLOTS && !a->stop)
			pthread_cond_wait(&a->room, &a->mu);
		if (a->stop) {
			pthread_mutex_unlock(&a->mu);
			return NULL;
		}
		sl = &a->slot[(a->head + a->count) % SLOTS];
		pthread_mutex_unlock(&a->mu);
		/* a free slot: the upload does not look at it until counted */
		sl->sn = s->at_pend;
		sl->len = s->pendlen;
		memcpy(sl->ct, s->pend, s->pendlen);
		pthread_mutex_lock(&a->mu);
		a->count++;
		a->end = s->done;
		pthread_cond_signal(&a->more);
		pthread_mutex_unlock(&a->mu);
	}
	if (rc != 0) {
		pthread_mutex_lock(&a->mu);
		a->werr = rc;
		snprintf(a->wmsg, sizeof a->wmsg, "%s", nc_errmsg());
		pthread_cond_signal(&a->more);
		pthread_mutex_unlock(&a->mu);
	}
	return NULL;
}

/* Start the thread from the encryptor's present state; 0 without one
 * (then the upload produces the chunks itself). */
static int
ahead_start(struct ctsrc *s)
{
	struct ahead *a = s->ahead;

	a->head = a->count = 0;
	a->stop = a->end = a->werr = 0;
	if (pthread_create(&a->th, NULL, ahead_main, s) != 0)
		return 0;
	s->threaded = 1;
	return 1;
}

static void
ahead_stop(struct ctsrc *s)
{
	struct ahead *a = s->ahead;

	if (!s->threaded)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_signal(&a->room);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	s->threaded = 0;
}

/* The slot holding ciphertext byte pos, with a->mu held; NULL with the
 * error in *rc (and mu released) or, *rc 0, when pos is before the
 * oldest slot held (a rewind is needed; mu released). */
static struct slot *
ahead_find(struct ctsrc *s, uint64_t pos, int *rc)
{
	struct ahead *a = s->ahead;

	*rc = 0;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		/* free what the upload is past */
		while (a->count > 0 && a->slot[a->head].sn.ct +
		    a->slot[a->head].len <= pos) {
			if (a->count == 1 && a->end)
				break;   /* the last: nothing follows it */
			a->head = (a->head + 1) % SLOTS;
			a->count--;
			pthread_cond_signal(&a->room);
		}
		if (a->count > 0) {
			struct slot *f = &a->slot[a->head];
			struct slot *l = &a->slot[(a->head + a->count - 1) % SLOTS];

			if (pos < f->sn.ct)
				break;
			if (pos < l->sn.ct + l->len)
				return f;   /* the head, once freed up to pos */
			if (a->end) {
				pthread_mutex_unlock(&a->mu);
				*rc = changed_err(s);   /* more than announced */
				return NULL;
			}
		}
		if (a->werr) {
			*rc = nc_fail(a->werr, "%s", a->wmsg);
			break;
		}
		pthread_cond_wait(&a->more, &a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static struct ahead *
ahead_new(void)
{
	struct ahead *a = calloc(1, sizeof *a);
	size_t n = SLOTS * sizeof(struct slot);

	if (a == NULL)
		return NULL;
	if ((a->slot = aligned_alloc(64, (n + 63) / 64 * 64)) == NULL) {
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->more, NULL);
	pthread_cond_init(&a->room, NULL);
	return a;
}

static void
ahead_free(struct ctsrc *s)
{
	struct ahead *a = s->ahead;

	if (a == NULL)
		return;
	pthread_cond_destroy(&a->room);
	pthread_cond_destroy(&a->more);
	pthread_mutex_destroy(&a->mu);
	sodium_memzero(a->slot, SLOTS * sizeof(struct slot));
	free(a->slot);
	free(a);
	s->ahead = NULL;
}

/* An append begins at s->pos: the state to produce it again from. */
static void
seg_mark(struct ctsrc *s)
{
	if (s->fd < 0 && s->threaded && s->pos >= NC_MEDIA_HDRBYTES) {
		int rc;
		struct slot *sl = ahead_find(s, s->pos, &rc);

		if (sl != NULL) {
			s->at_seg = sl->sn;
			pthread_mutex_unlock(&s->ahead->mu);
		}
		return;   /* else a rewind, or an error the read says */
	}
	if (s->fd >= 0 || s->threaded || s->pos < s->pendat)
		return;   /* the relay went back: a rewind picks what is kept */
	if (s->pos >= s->pendat + s->pendlen && !s->done)
		s->at_seg = s->at_end;
	else
		s->at_seg = s->at_pend;
}

/* Ciphertext from s->pos into p (n bytes at most) from a regular file. */
static int
from_file(struct ctsrc *s, uint8_t *p, size_t n, size_t *got)
{
	int rc;

	if (s->pos < NC_MEDIA_HDRBYTES) {
		*got = NC_MEDIA_HDRBYTES - s->pos < n ?
		    (size_t)(NC_MEDIA_HDRBYTES - s->pos) : n;
		memcpy(p, s->hdr + s->pos, *got);
		return 0;
	}
	while (s->threaded) {
		struct slot *sl = ahead_find(s, s->pos, &rc);
		size_t off;

		if (sl != NULL) {
			pthread_mutex_unlock(&s->ahead->mu);
			off = (size_t)(s->pos - sl->sn.ct);
			*got = sl->len - off < n ? sl->len - off : n;
			memcpy(p, sl->ct + off, *got);
			return 0;
		}
		if (rc != 0)
			return rc;
		/* before what the thread holds: from a kept state again */
		ahead_stop(s);
		if ((rc = snap_restore(s, s->at_seg.ct <= s->pos ? &s->at_seg :
		    &s->at_start)) != 0)
			return rc;
		(void)ahead_start(s);
	}
	if (s->pos < s->pendat && (rc = snap_restore(s, s->at_seg.ct <= s->pos ?
	    &s->at_seg : &s->at_start)) != 0)
		return rc;
	while (s->pos >= s->pendat + s->pendlen)
		if ((rc = produce(s)) != 0)
			return rc;
	*got = (size_t)(s->pendat + s->pendlen - s->pos) < n ?
	    (size_t)(s->pendat + s->pendlen - s->pos) : n;
	memcpy(p, s->pend + (s->pos - s->pendat), *got);
	return 0;
}

static size_t
seg_read(void *ctx, uint8_t *p, size_t n, int *rc)
{
	struct ctsrc *s = ctx;
	size_t done = 0, k;
	ssize_t r;

	if (n > s->end - s->pos)
		n = (size_t)(s->end - s->pos);
	while (done < n) {
		if (s->fd < 0) {
			if ((*rc = from_file(s, p + done, n - done, &k)) != 0)
				return 0;
		} else {
			if ((r = pread(s->fd, p + done, n - done, (off_t)s->pos)) <= 0) {
				*rc = nc_fail(NC_EIO, "temporary file: %s",
				    r < 0 ? strerror(errno) : "short");
				return 0;
			}
			k = (size_t)r;
		}
		done += k;
		s->pos += k;
	}
	s->b->done = s->pos;
	bar_draw(s->b, 0);
	return done;
}

/* "offset N" at the start of an answer. */
static int
answer_offset(const char *text, uint64_t *off)
{
	unsigned long long v;

	if (sscanf(text, "offset %llu", &v) != 1)
		return -1;
	*off = v;
	return 0;
}

/* Send src's len bytes as the upload url: create it, then append
 * segments; after a break, ask where the relay is and go on from there. */
static int
upload(struct ctsrc *src, const char *url, const uint8_t delhash[32],
    int64_t ttl, int *made)
{
	char u[NC_MEDIA_URL_MAX + 64], hdr[2][128];
	const char *hdrs[3] = { hdr[0], NULL, NULL };
	uint64_t seg = env_num("NC_MEDIA_SEGMENT", SEGMENT_DEFAULT), off = 0, at;
	uint64_t len = src->len;
	nc_blob_resp r;
	int rc, tries = 0, created = 0;
	char dh[65];

	nc_hex_encode(dh, delhash, 32);
	snprintf(hdr[0], sizeof hdr[0], "X-NC-Delete-Hash: %s", dh);
	if (ttl > 0) {
		snprintf(hdr[1], sizeof hdr[1], "X-NC-Expires: %lld", (long long)ttl);
		hdrs[1] = hdr[1];
	}
	while (off < len) {
		if (!created) {
			nc_blob_req q = { .method = "POST", .headers = hdrs,
			    .proxy = t_proxy, .cafile = t_cafile };

			snprintf(u, sizeof u, "%s?length=%llu", url,
			    (unsigned long long)len);
			q.url = u;
			rc = nc_blob_do(&q, &r);
			if (rc == 0 && r.status == 201) {
				created = *made = 1;
				continue;
			}
			if (rc == 0 && r.status == 409 && tries > 0) {
				created = *made = 1;   /* ours, its answer lost */
				goto ask;
			}
		} else {
			nc_blob_req q = { .method = "PATCH", .src = seg_read,
			    .src_ctx = src,
			    .proxy = t_proxy, .cafile = t_cafile };

			src->pos = off;
			src->end = off + (len - off < seg ? len - off : seg);
			seg_mark(src);
			q.body_len = src->end - off;
			snprintf(u, sizeof u, "%s?offset=%llu", url,
			    (unsigned long long)off);
			q.url = u;
			rc = nc_blob_do(&q, &r);
			if (rc == 0 && r.status == 200 &&
			    answer_offset(r.text, &off) == 0) {
				tries = 0;
				continue;
			}
			if (rc == 0 && r.status == 409 &&
			    answer_offset(r.text, &at) == 0) {
				/* at our offset: an append of ours cut short
				 * holds the upload until the relay sees it gone */
				if (at == off && ++tries >= TRIES)
					return http_err(&r, "upload");
				if (at == off)
					backoff(tries);
				else
					tries = 0;   /* the relay says where it is */
				off = at;
				continue;
			}
		}
		if (rc != 0 && rc != NC_EUNAVAIL)
			return rc;
		if (!transient(rc, r.status))
			return http_err(&r, "upload");
		if (++tries >= TRIES)
			return rc ? rc : http_err(&r, "upload");
		backoff(tries);
		if (!created)
			continue;
ask:
		{   /* where did the relay get to? */
			nc_blob_req q = { .method = "GET", .proxy = t_proxy,
			    .cafile = t_cafile };

			snprintf(u, sizeof u, "%s/upload", url);
			q.url = u;
			if (nc_blob_do(&q, &r) == 0 && r.status == 200)
				(void)answer_offset(r.text, &off);
		}
	}
	return 0;
}

static int
rec_save(nc_state *s, const nc_media_link *l, const nc_media_rec *rec)
{
	nc_buf b = NC_SECBUF_INIT;
	nc_enc e;
	char k[80], hx[65];
	int rc;

	nc_hex_encode(hx, l->id, 32);
	snprintf(k, sizeof k, "media/%s", hx);
	nc_enc_init(&e, &b);
	nc_put_u8(&e, 1);
	nc_put_str(&e, rec->link);
	nc_put_str(&e, rec->name);
	nc_put_str(&e, rec->type);
	nc_put_u8(&e, rec->kind);
	nc_put_u64(&e, rec->size);
	nc_put_u64(&e, (uint64_t)rec->created);
	nc_put_u64(&e, (uint64_t)rec->expires);
	nc_put_fixed(&e, rec->deltoken, 32);
	if ((rc = nc_enc_end(&e)) == 0)
		rc = nc_state_put_secret(s, k, b.p, b.len);
	nc_buf_free(&b);
	return rc;
}

static int
rec_load(nc_state *s, const char *k, nc_media_rec *rec)
{
	nc_buf b = NC_SECBUF_INIT;
	nc_dec d;
	const uint8_t *t;
	int rc;

	if ((rc = nc_state_get_secret(s, k, &b)) != 0) {
		nc_buf_free(&b);
		return rc;
	}
	nc_dec_init(&d, b.p, b.len);
	nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
	nc_get_str(&d, rec->link, NC_MEDIA_LINK_MAX);
	nc_get_str(&d, rec->name, NC_MEDIA_NAME_MAX);
	nc_get_str(&d, rec->type, NC_MEDIA_TYPE_MAX);
	rec->kind = nc_get_u8(&d);
	rec->size = nc_get_u64(&d);
	rec->created = (int64_t)nc_get_u64(&d);
	rec->expires = (int64_t)nc_get_u64(&d);
	if ((t = nc_get_fixed(&d, 32)) != NULL)
		memcpy(rec->deltoken, t, 32);
	rc = nc_dec_end(&d, "media record");
	nc_buf_free(&b);
	return rc;
}

/* A put that failed after its upload was created will not be resumed (a
 * resume is within the one process): delete the upload at the relay
 * rather than leave it there until it expires. Best effort, one try
 * (the relay may be what failed); the put's own error stays the one
 * said. */
static void
abandon(const char *url, const uint8_t token[32])
{
	char msg[512], tok[65], hdr[128];
	const char *hdrs[] = { hdr, NULL };
	nc_blob_resp r;
	nc_blob_req q = { .method = "DELETE", .url = url, .headers = hdrs,
	    .proxy = t_proxy, .cafile = t_cafile, .stall_secs = 5 };

	snprintf(msg, sizeof msg, "%s", nc_errmsg());
	nc_hex_encode(tok, token, 32);
	snprintf(hdr, sizeof hdr, "X-NC-Delete-Token: %s", tok);
	if (nc_blob_do(&q, &r) != 0 || r.status != 204)
		r.status = 0;   /* left to the relay's expiry sweeper */
	sodium_memzero(tok, sizeof tok);
	sodium_memzero(hdr, sizeof hdr);
	nc_fail(0, "%s", msg);
}

int
nc_media_put(nc_state *s, const char *relay_base, const char *path,
    const nc_media_opts *o, nc_media_rec *rec)
{
	nc_media_enc e = { 0 };
	nc_media_meta m = { 0 };
	nc_media_link l = { 0 };
	struct bar b = { o->progress, "encrypting", 0, 0, now_ms(), 0 };
	struct ctsrc src = { .fd = -1, .in = -1 };
	uint8_t delhash[32];
	struct stat sb;
	int in = -1, rc, isdir = 0, made = 0;
	int64_t ttl = o->ttl > 0 ? o->ttl : 30 * 86400;

	memset(rec, 0, sizeof *rec);
	if (strcmp(path, "-") == 0) {
		in = 0;
		snprintf(m.name, sizeof m.name, "stdin");
		snprintf(m.type, sizeof m.type, "application/octet-stream");
	} else {
		if (stat(path, &sb) != 0)
			return nc_fail(NC_EDATA, "%s: %s", path, strerror(errno));
		isdir = S_ISDIR(sb.st_mode);
		if (!isdir && !S_ISREG(sb.st_mode))
			return nc_fail(NC_EDATA, "%s: not a file or directory", path);
		base_name(path, m.name, sizeof m.name);
		if (!nc_media_name_ok(m.name))
			return nc_fail(NC_EDATA, "%s: a name the format cannot "
			    "carry (1..255 bytes of UTF-8, no control characters)",
			    path);
		if (isdir)
			snprintf(m.type, sizeof m.type, "application/x-tar");
		else {
			guess_type(m.name, m.type, sizeof m.type);
			if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0)
				return nc_fail(NC_EDATA, "%s: %s", path, strerror(errno));
			/* the length is the open file's */
			if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
				close(in);
				return nc_fail(NC_ETEMP, "%s: changed while it was "
				    "read; put it again", path);
			}
			b.total = (uint64_t)sb.st_size;
		}
	}
	m.kind = isdir || o->kind == NC_MEDIA_DIR ? NC_MEDIA_DIR : NC_MEDIA_FILE;
	if (o->kind == NC_MEDIA_DIR && !isdir)
		snprintf(m.type, sizeof m.type, "application/x-tar");
	nc_random(l.key, 32);
	nc_random(l.id, 32);
	nc_random(rec->deltoken, 32);
	crypto_generichash(delhash, 32, rec->deltoken, 32, NULL, 0);
	src.what = in == 0 ? "standard input" : path;
	src.b = &b;
	src.hash = l.hash;
	if (isdir || in == 0) {
		/* a length not known beforehand: all of it into the spool */
		if ((rc = spool_open(&src.fd)) != 0)
			goto out;
		if ((rc = nc_media_enc_init(&e, l.key, to_fd, &src.fd)) != 0)
			goto out_enc;
		rc = isdir ? encrypt_dir(&e, path, m.name) : encrypt_fd(&e, in,
		    src.what, &b);
		if (rc == 0)
			rc = nc_media_enc_final(&e, &m, l.hash);
		src.len = e.ctlen;
	} else {
		/* a regular file: its ciphertext's length from its size, the
		 * encryption as the upload goes */
		nc_buf hb = NC_BUF_INIT;

		m.size = (uint64_t)sb.st_size;
		if (m.size > NC_MEDIA_SIZE_MAX)
			rc = nc_fail(NC_EDATA, "%s: too large", path);
		else if ((rc = nc_media_meta_enc(&hb, &m)) == 0 &&
		    hb.len > sizeof src.meta)
			rc = nc_fail(NC_ESOFTWARE, "media: header too long");
		if (rc == 0) {
			memcpy(src.meta, hb.p, hb.len);
			src.metalen = hb.len;
			src.size = m.size;
			src.plen = nc_media_padme(m.size + hb.len);
			src.len = nc_media_ctsize(src.plen);
			src.in = in;
			src.st = sb;
			src.e = &e;
			if ((src.pend = malloc(NC_MEDIA_CTCHUNK)) == NULL)
				rc = nc_fail(NC_EOSERR, "out of memory");
		}
		nc_buf_free(&hb);
		if (rc == 0 && (rc = nc_media_enc_init(&e, l.key, to_pend,
		    &src)) == 0) {
			memcpy(src.hdr, src.pend, NC_MEDIA_HDRBYTES);
			src.pendat = NC_MEDIA_HDRBYTES;
			src.pendlen = 0;
			snap_take(&src.at_start, &src);
			src.at_end = src.at_seg = src.at_start;
			if (env_num("NC_MEDIA_THREADS", 2) > 1 &&
			    (src.ahead = ahead_new()) != NULL &&
			    !ahead_start(&src))
				ahead_free(&src);
		}
	}
	if (rc != 0)
		goto out_enc;
	l.ctsize = src.len;
	snprintf(l.base, sizeof l.base, "%s", relay_base);
	/* the URL now, the link (with the hash) once the upload is done */
	if ((rc = nc_media_link_make(&l, rec->link, sizeof rec->link)) != 0)
		goto out_enc;
	b.what = src.e ? "encrypting and uploading" : "uploading";
	b.total = l.ctsize;
	b.done = 0;
	b.start = now_ms();
	rc = upload(&src, l.url, delhash, o->ttl, &made);
	ahead_stop(&src);
	if (rc == 0 && src.e != NULL && !src.done)
		rc = changed_err(&src);
	if (rc != 0 && made)
		abandon(l.url, rec->deltoken);
	if (rc == 0)
		rc = nc_media_link_make(&l, rec->link, sizeof rec->link);
out_enc:
	nc_media_enc_free(&e);
	if (rc != 0)
		goto out;
	bar_draw(&b, 1);
	snprintf(rec->name, sizeof rec->name, "%s", m.name);
	snprintf(rec->type, sizeof rec->type, "%s", m.type);
	rec->kind = m.kind;
	rec->size = m.size;
	rec->created = (int64_t)time(NULL);
	rec->expires = rec->created + ttl;
	rc = rec_save(s, &l, rec);
out:
	sodium_memzero(&l, sizeof l);
	ahead_stop(&src);
	ahead_free(&src);
	if (src.pend != NULL) {
		sodium_memzero(src.pend, NC_MEDIA_CTCHUNK);
		free(src.pend);
	}
	if (in > 0)
		close(in);
	if (src.fd >= 0)
		close(src.fd);
	sodium_memzero(&src, sizeof src);   /* the encryptor's states */
	return rc;
}

/* ---- getting ---- */

/* Download and decryption overlap: the download (libcurl's callbacks, the
 * calling thread) puts the ciphertext into a ring of RING bytes, a second
 * thread takes it from there through the decryptor into the temporary
 * file. Memory stays RING whatever the size. Nothing changes for what is
 * released: the plaintext still gathers in the temporary file and is
 * renamed only after nc_media_dec_end verified the whole file (in the
 * calling thread, after the second one ended). */
#define RING ((size_t)4 << 20)
#define TAKE ((size_t)256 << 10)   /* the most the decryptor takes at once */

struct dl {
	nc_media_dec d;
	uint64_t got;        /* ciphertext bytes received */
	uint64_t max;
	int out;             /* the plaintext's temporary file */
	uint64_t written, kicked;   /* bytes written to it; handed to writeback */
	struct bar *b;
	/* the ring, between the two threads */
	int threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	uint8_t *ring;
	uint64_t in, taken;  /* bytes put into the ring, taken out of it */
	int eof;             /* no more will come */
	int werr;            /* the decrypting thread's error ... */
	char wmsg[512];      /* ... and its message */
};

#define WRITEBACK ((uint64_t)8 << 20)

/* The plaintext into the temporary file. Its pages are handed to the
 * kernel's writeback every 8 MiB as they come (sync_file_range without
 * waiting), so that the fsync before the rename finds little left to
 * write instead of the whole file at once. */
static int
dl_out(void *ctx, const uint8_t *p, size_t n)
{
	struct dl *x = ctx;
	int rc;

	if ((rc = to_fd(&x->out, p, n)) != 0)
		return rc;
	x->written += n;
#ifdef SYNC_FILE_RANGE_WRITE
	if (x->written - x->kicked >= WRITEBACK) {
		(void)sync_file_range(x->out, (off_t)x->kicked,
		    (off_t)(x->written - x->kicked), SYNC_FILE_RANGE_WRITE);
		x->kicked = x->written;
	}
#endif
	return 0;
}

/* The decrypting thread: what the ring holds, through the decryptor,
 * until the end or an error (which stops it; the download sees it). */
static void *
dl_worker(void *arg)
{
	struct dl *x = arg;
	int rc = 0;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		size_t at, n;

		while (x->in == x->taken && !x->eof)
			pthread_cond_wait(&x->more, &x->mu);
		if (x->in == x->taken)
			break;
		at = (size_t)(x->taken % RING);
		n = x->in - x->taken < RING - at ? (size_t)(x->in - x->taken) :
		    RING - at;
		if (n > TAKE)
			n = TAKE;
		pthread_mutex_unlock(&x->mu);
		rc = nc_media_dec_feed(&x->d, x->ring + at, n);
		pthread_mutex_lock(&x->mu);
		if (rc != 0) {
			x->werr = rc;
			snprintf(x->wmsg, sizeof x->wmsg, "%s", nc_errmsg());
			pthread_cond_signal(&x->room);
			break;
		}
		x->taken += n;
		pthread_cond_signal(&x->room);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* The decrypting thread's error, said in this one. */
static int
dl_werr(struct dl *x)
{
	return nc_fail(x->werr, "%s", x->wmsg);
}

static void
dl_start(struct dl *x)
{
	if ((x->ring = malloc(RING)) == NULL)
		return;   /* one thread, then */
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->more, NULL);
	pthread_cond_init(&x->room, NULL);
	if (pthread_create(&x->th, NULL, dl_worker, x) != 0) {
		pthread_cond_destroy(&x->room);
		pthread_cond_destroy(&x->more);
		pthread_mutex_destroy(&x->mu);
		free(x->ring);
		x->ring = NULL;
		return;
	}
	x->threaded = 1;
}

/* No more ciphertext: the thread takes what is left, then ends. Its
 * error, if any (it concerns bytes before any the download failed on). */
static int
dl_stop(struct dl *x)
{
	if (!x->threaded)
		return 0;
	pthread_mutex_lock(&x->mu);
	x->eof = 1;
	pthread_cond_signal(&x->more);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->th, NULL);
	x->threaded = 0;
	pthread_cond_destroy(&x->room);
	pthread_cond_destroy(&x->more);
	pthread_mutex_destroy(&x->mu);
	sodium_memzero(x->ring, RING);
	free(x->ring);
	x->ring = NULL;
	return x->werr ? dl_werr(x) : 0;
}

/* Ciphertext into the ring, waiting for room. */
static int
dl_put(struct dl *x, const uint8_t *p, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&x->mu);
	while (n > 0) {
		size_t at, k;

		while (x->in - x->taken == RING && !x->werr)
			pthread_cond_wait(&x->room, &x->mu);
		if (x->werr)
			break;
		at = (size_t)(x->in % RING);
		k = RING - (size_t)(x->in - x->taken);
		k = k < RING - at ? k : RING - at;
		k = k < n ? k : n;
		pthread_mutex_unlock(&x->mu);
		memcpy(x->ring + at, p, k);   /* room the thread does not read */
		pthread_mutex_lock(&x->mu);
		x->in += k;
		p += k;
		n -= k;
		pthread_cond_signal(&x->more);
	}
	if (x->werr)
		rc = dl_werr(x);
	pthread_mutex_unlock(&x->mu);
	return rc;
}

static int
dl_body(void *ctx, const uint8_t *p, size_t n)
{
	struct dl *x = ctx;

	if (n > x->max - x->got)
		return nc_fail(NC_ESECURITY, "media: the file is longer than "
		    "the link says (extended)");
	x->got += n;
	x->b->done = x->got;
	bar_draw(x->b, 0);
	return x->threaded ? dl_put(x, p, n) : nc_media_dec_feed(&x->d, p, n);
}

/* Fetch l into the decryptor, resuming with Range after a break. */
static int
download(const nc_media_link *l, struct dl *x)
{
	nc_blob_resp r;
	int rc, tries = 0;

	while (x->got < l->ctsize) {
		nc_blob_req q = { .method = "GET", .url = l->url,
		    .dst = dl_body, .dst_ctx = x, .range_from = x->got,
		    .proxy = t_proxy, .cafile = t_cafile };
		uint64_t before = x->got;

		rc = nc_blob_do(&q, &r);
		if (rc == 0 && (r.status == 200 || r.status == 206)) {
			if (x->got < l->ctsize)   /* the whole answer came */
				return nc_fail(NC_ESECURITY, "media: the file is "
				    "shorter than the link says (truncated)");
			break;
		}
		if (rc != 0 && rc != NC_EUNAVAIL)
			return rc;
		if (rc == 0 && !transient(rc, r.status))
			return http_err(&r, "download");
		if (x->got > before)
			tries = 0;
		if (++tries >= TRIES)
			return rc ? rc : http_err(&r, "download");
		backoff(tries);
	}
	return 0;
}

static int
copy_out(int fd, uint64_t n, int to)
{
	uint8_t buf[65536];
	off_t pos = 0;
	ssize_t k;

	while (n > 0) {
		k = pread(fd, buf, n < sizeof buf ? (size_t)n : sizeof buf, pos);
		if (k <= 0)
			return nc_fail(NC_EIO, "temporary file: read error");
		if (write_all(to, buf, (size_t)k) != 0)
			return nc_fail(NC_EIO, "standard output: %s", strerror(errno));
		pos += k;
		n -= (uint64_t)k;
	}
	return 0;
}

/* Remove a tree we made (a failed extraction), without following links. */
static void
rm_tree(const char *path)
{
	struct archive *disk;
	struct archive_entry *ent;
	char (*dirs)[PATH_MAX] = NULL;
	size_t nd = 0;

	if (nc_archive_load() != 0 || (disk = nc_ar.archive_read_disk_new()) == NULL)
		return;
	nc_ar.archive_read_disk_set_symlink_physical(disk);
	if (nc_ar.archive_read_disk_open(disk, path) == ARCHIVE_OK) {
		while ((ent = nc_ar.archive_entry_new()) != NULL) {
			if (nc_ar.archive_read_next_header2(disk, ent) != ARCHIVE_OK) {
				nc_ar.archive_entry_free(ent);   /* the one past the end */
				break;
			}
			const char *p = nc_ar.archive_entry_sourcepath(ent);

			nc_ar.archive_read_disk_descend(disk);
			if (nc_ar.archive_entry_filetype(ent) == AE_IFDIR) {
				void *t = realloc(dirs, (nd + 1) * sizeof *dirs);

				if (t != NULL) {
					dirs = t;
					snprintf(dirs[nd++], PATH_MAX, "%s", p);
				}
			} else
				unlink(p);
			nc_ar.archive_entry_free(ent);
		}
	}
	nc_ar.archive_read_free(disk);
	while (nd > 0)
		rmdir(dirs[--nd]);
	free(dirs);
	rmdir(path);
}

/* Extract the verified archive in fd (len bytes) into the new directory
 * stage: entries under NAME/ only; files, directories and symbolic links
 * only; no hard links, no sparse files; no set-id bits; caps on entries
 * and bytes; libarchive's secure flags against .., absolute paths and
 * writing through symbolic links. */
int
nc_media_extract(int fd, uint64_t len, const char *stage, const char *name)
{
	struct archive *a, *w;
	struct archive_entry *ent;
	uint64_t entries = 0, bytes = 0;
	uint64_t emax = env_num("NC_MEDIA_MAX_ENTRIES", ENTRIES_MAX);
	uint64_t bmax = env_num("NC_MEDIA_MAX_BYTES", BYTES_MAX);
	size_t nl = strlen(name);
	char cwd[PATH_MAX];
	int rc = 0, r;

	if ((rc = nc_archive_load()) != 0)
		return rc;
	a = nc_ar.archive_read_new();
	w = nc_ar.archive_write_disk_new();
	if (a == NULL || w == NULL || getcwd(cwd, sizeof cwd) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto out;
	}
	nc_ar.archive_read_support_format_tar(a);
	nc_ar.archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
	    ARCHIVE_EXTRACT_NO_OVERWRITE | ARCHIVE_EXTRACT_PERM);
	if (lseek(fd, 0, SEEK_SET) != 0 ||
	    nc_ar.archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		rc = nc_fail(NC_EDATA, "archive: %s", nc_ar.archive_error_string(a));
		goto out;
	}
	if (chdir(stage) != 0) {
		rc = nc_fail(NC_ECANTCREAT, "%s: %s", stage, strerror(errno));
		goto out;
	}
	while ((r = nc_ar.archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *p = nc_ar.archive_entry_pathname(ent);
		int64_t sz = nc_ar.archive_entry_size(ent);

		if (++entries > emax) {
			rc = nc_fail(NC_EDATA, "archive: more than %llu entries",
			    (unsigned long long)emax);
			break;
		}
		if (p == NULL || strncmp(p, name, nl) != 0 ||
		    (p[nl] != '/' && p[nl] != '\0')) {
			rc = nc_fail(NC_EDATA, "archive: entry %s is not under %s/",
			    p ? p : "(no name)", name);
			break;
		}
		switch (nc_ar.archive_entry_filetype(ent)) {
		case AE_IFREG: case AE_IFDIR: case AE_IFLNK:
			break;
		default:
			rc = nc_fail(NC_EDATA, "archive: %s is not a file, "
			    "directory or symbolic link", p);
			break;
		}
		if (rc != 0)
			break;
		if (nc_ar.archive_entry_hardlink(ent) != NULL ||
		    nc_ar.archive_entry_sparse_count(ent) > 0) {
			rc = nc_fail(NC_EDATA, "archive: %s is a hard link or "
			    "sparse file (refused)", p);
			break;
		}
		if (sz < 0 || (bytes += (uint64_t)sz) > bmax || bytes > len) {
			rc = nc_fail(NC_EDATA, "archive: more than %llu bytes "
			    "(or more than the archive holds)",
			    (unsigned long long)(bmax < len ? bmax : len));
			break;
		}
		nc_ar.archive_entry_set_perm(ent, nc_ar.archive_entry_perm(ent) & 0777);
		if (nc_ar.archive_read_extract2(a, ent, w) != ARCHIVE_OK) {
			rc = nc_fail(NC_EDATA, "archive: %s: %s", p,
			    nc_ar.archive_error_string(w));
			break;
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = nc_fail(NC_EDATA, "archive: %s", nc_ar.archive_error_string(a));
	if (rc == 0 && entries == 0)
		rc = nc_fail(NC_EDATA, "archive: empty");
	if (nc_ar.archive_write_close(w) != ARCHIVE_OK && rc == 0)
		rc = nc_fail(NC_EIO, "archive: %s", nc_ar.archive_error_string(w));
	if (chdir(cwd) != 0 && rc == 0)
		rc = nc_fail(NC_EOSERR, "%s: %s", cwd, strerror(errno));
out:
	if (a)
		nc_ar.archive_read_free(a);
	if (w)
		nc_ar.archive_write_free(w);
	return rc;
}

static int
is_dir(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The directory part of path ("." if none). */
static void
dir_of(const char *path, char *out, size_t n)
{
	const char *sl = strrchr(path, '/');

	if (sl == NULL)
		snprintf(out, n, ".");
	else if (sl == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(sl - path), path);
}

/* Candidate k for name in dir: name itself, then NAME-k.EXT, kept within
 * NAME_MAX bytes (cut at a character's start); a leading dot is '_'. */
static void
candidate(char *out, size_t max, const char *dir, const char *name, int k)
{
	char base[NC_MEDIA_NAME_MAX + 1], suf[16];
	const char *dot = strrchr(name, '.');
	size_t bl, el, room;

	if (dot == NULL || dot == name)
		dot = name + strlen(name);
	suf[0] = '\0';
	if (k)
		snprintf(suf, sizeof suf, "-%d", k);
	bl = (size_t)(dot - name);
	el = strlen(dot);
	room = NC_MEDIA_NAME_MAX - strlen(suf);
	if (el > room / 2)
		el = 0, dot = "";           /* a long "extension": not kept */
	if (bl > room - el)
		bl = room - el;
	while (bl > 0 && ((unsigned char)name[bl] & 0xc0) == 0x80)
		bl--;
	memcpy(base, name, bl);
	base[bl] = '\0';
	if (base[0] == '.')
		base[0] = '_';
	snprintf(out, max, "%s/%s%s%s", dir, base, suf, dot);
}

/* Put from (a file, or a directory when isdir) at dir/name or the first
 * free candidate: never over anything there (link(2) and mkdir(2) fail on
 * an existing name, symbolic links included). */
static int
place_free(const char *from, int isdir, const char *dir, const char *name,
    char *dest, size_t max)
{
	for (int k = 0; k < 1000; k++) {
		candidate(dest, max, dir, name, k);
		if (isdir) {
			if (mkdir(dest, 0700) != 0) {
				if (errno == EEXIST)
					continue;
				break;
			}
			if (rename(from, dest) == 0)
				return 0;
			rmdir(dest);
			break;
		}
		if (link(from, dest) == 0) {
			unlink(from);
			return 0;
		}
		if (errno == EEXIST)
			continue;
		/* no hard links here: claim the name, then replace it */
		{
			int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);

			if (fd < 0 && errno == EEXIST)
				continue;
			if (fd < 0)
				break;
			close(fd);
			if (rename(from, dest) == 0)
				return 0;
			unlink(dest);
			break;
		}
	}
	return nc_fail(NC_ECANTCREAT, "%s: cannot save %s there: %s", dir, name,
	    errno == EEXIST ? "too many files of that name" : strerror(errno));
}

int
nc_media_get(const char *link, const char *out, const nc_media_opts *o,
    nc_media_meta *m)
{
	nc_media_link l;
	struct dl x;
	struct bar b = { o->progress, "downloading", 0, 0, now_ms(), 0 };
	char tdir[PATH_MAX], tmp[PATH_MAX + 64], dest[PATH_MAX + 300];
	int rc, tofd = out != NULL && strcmp(out, "-") == 0;

	memset(&x, 0, sizeof x);
	x.out = -1;
	tmp[0] = '\0';
	if ((rc = nc_media_link_parse(&l, link)) != 0)
		return rc;
	/* The plaintext gathers beside its destination (or in TMPDIR for
	 * stdout), 0600, and is renamed only once verified. */
	if (tofd || out == NULL)
		snprintf(tdir, sizeof tdir, "%s", tofd ? (getenv("TMPDIR") &&
		    *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : ".");
	else if (is_dir(out))
		snprintf(tdir, sizeof tdir, "%s", out);
	else
		dir_of(out, tdir, sizeof tdir);
	snprintf(tmp, sizeof tmp, "%s/.nc-media-XXXXXX", tdir);
	if ((x.out = mkstemp(tmp)) < 0) {
		rc = nc_fail(NC_ECANTCREAT, "%s: cannot create a file there: %s",
		    tdir, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (tofd) {
		unlink(tmp);
		tmp[0] = '\0';
	}
	x.max = l.ctsize;
	x.b = &b;
	b.total = l.ctsize;
	if ((rc = nc_media_dec_init(&x.d, l.key, dl_out, &x)) != 0)
		goto out;
	if (env_num("NC_MEDIA_THREADS", 2) > 1)
		dl_start(&x);
	rc = download(&l, &x);
	{   /* the decryptor's error comes first: it is about earlier bytes */
		int wrc = dl_stop(&x);

		if (wrc != 0)
			rc = wrc;
	}
	if (rc != 0)
		goto out;
	if ((rc = nc_media_dec_end(&x.d, l.hash, m)) != 0)
		goto out;
	bar_draw(&b, 1);
	/* Verified: now the plaintext may go where it belongs. */
	if (ftruncate(x.out, (off_t)m->size) != 0 || fsync(x.out) != 0) {
		rc = nc_fail(NC_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (tofd) {
		rc = copy_out(x.out, m->size, 1);
		goto out;
	}
	if (m->kind == NC_MEDIA_DIR) {
		const char *under = out ? out : ".";
		char stage[PATH_MAX + 64], top[PATH_MAX + 320];

		snprintf(dest, sizeof dest, "%s/%s", under, m->name);
		if (!o->save && !is_dir(under) && mkdir(under, 0700) != 0) {
			rc = nc_fail(NC_ECANTCREAT, "%s: %s", under, strerror(errno));
			goto out;
		}
		if (!o->save && access(dest, F_OK) == 0) {
			rc = nc_fail(NC_ECANTCREAT, "%s exists; give another "
			    "place with -o DIR", dest);
			goto out;
		}
		snprintf(stage, sizeof stage, "%s/.nc-media-XXXXXX", under);
		if (mkdtemp(stage) == NULL) {
			rc = nc_fail(NC_ECANTCREAT, "%s: %s", under, strerror(errno));
			goto out;
		}
		if ((rc = nc_media_extract(x.out, m->size, stage, m->name)) == 0) {
			snprintf(top, sizeof top, "%s/%s", stage, m->name);
			if (o->save)
				rc = place_free(top, 1, under, m->name, dest,
				    sizeof dest);
			else if (rename(top, dest) != 0)
				rc = nc_fail(NC_ECANTCREAT, "%s: %s", dest,
				    strerror(errno));
		}
		rm_tree(stage);
		goto saved;
	}
	if (o->save) {
		if ((rc = place_free(tmp, 0, out, m->name, dest, sizeof dest)) != 0)
			goto out;
		tmp[0] = '\0';
		goto synced;
	}
	if (out == NULL || is_dir(out)) {
		snprintf(dest, sizeof dest, "%s/%s", out ? out : ".", m->name);
		if (access(dest, F_OK) == 0) {
			rc = nc_fail(NC_ECANTCREAT, "%s exists; name another "
			    "with -o PATH", dest);
			goto out;
		}
	} else
		snprintf(dest, sizeof dest, "%s", out);
	if (fchmod(x.out, 0644 & ~(mode_t)0) != 0 || rename(tmp, dest) != 0) {
		rc = nc_fail(NC_ECANTCREAT, "%s: %s", dest, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
synced:
	{
		int dfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
saved:
	if (rc == 0 && o->saved != NULL)
		snprintf(o->saved, o->savedmax, "%s", dest);
out:
	nc_media_dec_free(&x.d);
	if (x.out >= 0)
		close(x.out);
	if (tmp[0])
		unlink(tmp);
	sodium_memzero(&l, sizeof l);
	return rc;
}

/* ---- rm, ls ---- */

int
nc_media_rm(nc_state *s, const char *link)
{
	nc_media_link l;
	nc_media_rec rec;
	nc_blob_resp r;
	char k[80], hx[65], tok[65], hdr[128];
	const char *hdrs[] = { hdr, NULL };
	sqlite3_stmt *st;
	int rc, tries = 0;

	if ((rc = nc_media_link_parse(&l, link)) != 0)
		return rc;
	nc_hex_encode(hx, l.id, 32);
	snprintf(k, sizeof k, "media/%s", hx);
	if ((rc = rec_load(s, k, &rec)) != 0) {
		sodium_memzero(&l, sizeof l);
		return rc == NC_ENOUSER ? nc_fail(NC_ENOUSER, "not uploaded from "
		    "this home (no delete token here)") : rc;
	}
	nc_hex_encode(tok, rec.deltoken, 32);
	snprintf(hdr, sizeof hdr, "X-NC-Delete-Token: %s", tok);
	for (;;) {
		nc_blob_req q = { .method = "DELETE", .url = l.url, .headers = hdrs,
		    .proxy = t_proxy, .cafile = t_cafile };

		rc = nc_blob_do(&q, &r);
		if (!transient(rc, r.status) || ++tries >= 4)
			break;
		backoff(tries);
	}
	sodium_memzero(tok, sizeof tok);
	sodium_memzero(hdr, sizeof hdr);
	sodium_memzero(&rec, sizeof rec);
	sodium_memzero(&l, sizeof l);
	if (rc != 0)
		return rc;
	if (r.status != 204 && r.status != 404)   /* gone already: forget it too */
		return http_err(&r, "delete");
	if ((rc = nc_state_prep(s, &st, "DELETE FROM kv WHERE k = ?")) != 0)
		return rc;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	return nc_state_done(s, st);
}

static int
by_created(const void *a, const void *b)
{
	const nc_media_rec *x = a, *y = b;

	return x->created < y->created ? -1 : x->created > y->created;
}

int
nc_media_list(nc_state *s, nc_media_rec **out, size_t *n)
{
	sqlite3_stmt *st;
	nc_media_rec *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nc_state_prep(s, &st, "SELECT k FROM kv WHERE k LIKE 'media/%' "
	    "AND secret = 1")) != 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);

		if (*n == cap) {
			void *t = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);

			if (t == NULL) {
				rc = nc_fail(NC_EOSERR, "out of memory");
				break;
			}
			v = t;
		}
		if (k != NULL && (rc = rec_load(s, k, &v[*n])) != 0)
			break;
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != 0) {
		free(v);
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(v, *n, sizeof *v, by_created);
	*out = v;
	return 0;
}
