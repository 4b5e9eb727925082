/* dlsyms.h - a library opened with dlopen and a table of its functions
 * filled in (libcurl for the network process and blobs, libarchive for
 * archives): the commands that never use one do not pay for loading it. */
#ifndef NC_DLSYMS_H
#define NC_DLSYMS_H

#include <stddef.h>

typedef struct {
	const char *name;
	size_t off;          /* where in the caller's table: offsetof */
} nc_dlsym;

/* Opens soname (RTLD_LAZY | RTLD_LOCAL: functions never called are never
 * bound) and stores each symbol's address at base + off. 0, or -1 with
 * the reason in err (the table may be partly filled). The library stays
 * loaded until exit. */
int nc_dlsyms(const char *soname, const nc_dlsym *syms, size_t n, void *base,
    char *err, size_t errlen);

#endif
