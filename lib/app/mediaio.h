/* mediaio.h - nc-media's logic: encrypt a file, a directory (as a tar
 * archive) or a stream and upload it to one's relay, resumably; fetch a
 * link, verify and decrypt it with nothing released before the whole file
 * verified; delete and list what this home uploaded. The format is
 * lib/proto/media.h, the transfers lib/net/blob.h. */
#ifndef NC_APP_MEDIAIO_H
#define NC_APP_MEDIAIO_H

#include <stddef.h>
#include <stdint.h>

#include "home.h"
#include "media.h"
#include "state.h"

/* What this home keeps of an upload (encrypted at rest in state.db):
 * the link and the delete token are secrets. */
typedef struct {
	char link[NC_MEDIA_LINK_MAX + 1];
	char name[NC_MEDIA_NAME_MAX + 1];
	char type[NC_MEDIA_TYPE_MAX + 1];
	uint8_t kind;
	uint64_t size;          /* content bytes */
	int64_t created, expires;
	uint8_t deltoken[32];
} nc_media_rec;

typedef struct {
	int64_t ttl;            /* seconds; 0: the relay's default */
	int progress;           /* a bar on stderr */
	int kind;               /* -1: from the path; NC_MEDIA_DIR: a tar given as such */
	/* get into the directory out for nc-recv --save: mode 0600, a name
	 * that is not taken (NAME-1.EXT, NAME-2.EXT...; a leading dot made
	 * '_'), the path put into saved[0..savedmax) */
	int save;
	char *saved;
	size_t savedmax;
} nc_media_opts;

/* Encrypt path (a file, a directory, or "-" for stdin) and upload it to
 * relay_base; rec filled and kept in s. */
int nc_media_put(nc_state *s, const char *relay_base, const char *path,
    const nc_media_opts *o, nc_media_rec *rec) __attribute__((warn_unused_result));
/* Fetch, verify and decrypt link: out NULL (the header's name in the
 * current directory), "-" (stdout), a directory (the name inside it) or a
 * path; a directory archive is extracted under out (default "."). m: the
 * header. NC_ESECURITY for anything that does not verify; nothing is left
 * behind on failure. */
int nc_media_get(const char *link, const char *out, const nc_media_opts *o,
    nc_media_meta *m) __attribute__((warn_unused_result));
/* Delete an upload this home made (its delete token is here). */
int nc_media_rm(nc_state *s, const char *link) __attribute__((warn_unused_result));
/* Every upload this home made, oldest first; free(*out). */
int nc_media_list(nc_state *s, nc_media_rec **out, size_t *n)
	__attribute__((warn_unused_result));

/* The archive reader nc_media_get uses on a directory (verified first):
 * extract the tar archive in fd (len bytes, read from its start) into the
 * existing empty directory stage, entries under name/ only; files,
 * directories and symbolic links only, no hard links, sparse files or
 * set-id bits, at most NC_MEDIA_MAX_ENTRIES entries and NC_MEDIA_MAX_BYTES
 * (and never more than len) bytes, libarchive's secure flags. On an error
 * what was written stays in stage (the caller removes it). */
int nc_media_extract(int fd, uint64_t len, const char *stage, const char *name)
	__attribute__((warn_unused_result));
/* The transport settings (proxy, cafile) for what follows. */
void nc_media_transport(const char *proxy, const char *cafile);
/* NC_HOME's config, if there is one, with its transport settings set:
 * nc_config_free it after the transfers (NULL: none). */
nc_config *nc_media_config(void);

#endif
