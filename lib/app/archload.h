/* archload.h - libarchive, loaded with dlopen on first use.
 *
 * Only directories sent as media (mediaio.c) and nc-sync's archives
 * (syncbackup.c) need it. Linked into a command, libarchive brings
 * libxml2, ICU (a 30 MB data mapping) and libstdc++ with it, ~5,000
 * relocations the dynamic loader does before main in every nc-send and
 * nc-recv, which need none of it. Loaded here instead, it costs only the
 * commands that use it. It stays a dependency of the package
 * (libarchive13): a missing library is an error naming it, at the first
 * archive.
 *
 * <archive.h> provides types and constants; the functions are called
 * through nc_ar, whose members are named and typed as libarchive's own:
 * nc_ar.archive_read_new(). Call nc_archive_load() (0, or NC_ESOFTWARE
 * with a message) before the first. */
#ifndef NC_ARCHLOAD_H
#define NC_ARCHLOAD_H

#include <archive.h>
#include <archive_entry.h>

#define NC_ARCHIVE_FNS(X) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_gname) \
	X(archive_entry_set_hardlink) \
	X(archive_entry_set_nlink) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_uid) \
	X(archive_entry_set_uname) \
	X(archive_entry_size) \
	X(archive_entry_sourcepath) \
	X(archive_entry_sparse_count) \
	X(archive_error_string) \
	X(archive_read_data) \
	X(archive_read_disk_descend) \
	X(archive_read_disk_new) \
	X(archive_read_disk_open) \
	X(archive_read_disk_set_standard_lookup) \
	X(archive_read_disk_set_symlink_physical) \
	X(archive_read_extract2) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_next_header2) \
	X(archive_read_open_fd) \
	X(archive_read_open_filename) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_tar) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_disk_new) \
	X(archive_write_disk_set_options) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open2) \
	X(archive_write_open_fd) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_set_format_pax_restricted)

typedef struct {
#define NC_ARCHIVE_FN(f) __typeof__(f) *f;
	NC_ARCHIVE_FNS(NC_ARCHIVE_FN)
#undef NC_ARCHIVE_FN
} nc_archive_fns;

extern nc_archive_fns nc_ar;

/* Load once (thread-safe); later calls return the first answer. */
int nc_archive_load(void) __attribute__((warn_unused_result));

#endif
