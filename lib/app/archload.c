/* archload.c - libarchive, loaded with dlopen on first use (archload.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "archload.h"
#include "err.h"

nc_archive_fns nc_ar;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[256];   /* empty: loaded */

static void
load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define NC_ARCHIVE_SYM(f) { #f, offsetof(nc_archive_fns, f) },
		NC_ARCHIVE_FNS(NC_ARCHIVE_SYM)
#undef NC_ARCHIVE_SYM
	};
	/* The soname libarchive-dev links against (Debian's libarchive13). */
	void *lib = dlopen("libarchive.so.13", RTLD_LAZY | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(load_err, sizeof load_err, "%s (install libarchive13)",
		    dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL) {
			snprintf(load_err, sizeof load_err, "libarchive.so.13: no "
			    "%s (a newer libarchive13 is needed)", syms[i].name);
			memset(&nc_ar, 0, sizeof nc_ar);
			return;
		}
		/* POSIX guarantees data and function pointers convert. */
		memcpy((char *)&nc_ar + syms[i].off, &f, sizeof f);
	}
	/* The library stays loaded until exit. */
}

int
nc_archive_load(void)
{
	pthread_once(&once, load);
	if (load_err[0] != '\0')
		return nc_fail(NC_ESOFTWARE, "%s", load_err);
	return 0;
}
