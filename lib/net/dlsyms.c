/* dlsyms.c - a library's functions through dlopen (dlsyms.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dlsyms.h"

int
nc_dlsyms(const char *soname, const nc_dlsym *syms, size_t n, void *base,
    char *err, size_t errlen)
{
	void *lib = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL) {
			snprintf(err, errlen, "%s: no %s", soname, syms[i].name);
			return -1;
		}
		/* POSIX guarantees data and function pointers convert. */
		memcpy((char *)base + syms[i].off, &f, sizeof f);
	}
	return 0;
}
