/* archload.c - libarchive, loaded with dlopen on first use (archload.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "archload.h"
#include "dlsyms.h"
#include "err.h"

nc_archive_fns nc_ar;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[256];   /* empty: loaded */

static void
load(void)
{
	static const nc_dlsym syms[] = {
#define NC_ARCHIVE_SYM(f) { #f, offsetof(nc_archive_fns, f) },
		NC_ARCHIVE_FNS(NC_ARCHIVE_SYM)
#undef NC_ARCHIVE_SYM
	};
	char why[200];

	/* The soname libarchive-dev links against (Debian's libarchive13). */
	if (nc_dlsyms("libarchive.so.13", syms, sizeof syms / sizeof syms[0],
	    &nc_ar, why, sizeof why) != 0) {
		snprintf(load_err, sizeof load_err, "%s (install or update libarchive13)",
		    why);
		memset(&nc_ar, 0, sizeof nc_ar);
	}
}

int
nc_archive_load(void)
{
	pthread_once(&once, load);
	if (load_err[0] != '\0')
		return nc_fail(NC_ESOFTWARE, "%s", load_err);
	return 0;
}
