/* err.c - the last error message, per thread. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

static _Thread_local char last[512];

int
nc_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last, sizeof last, fmt, ap);
	va_end(ap);
	return code;
}

const char *
nc_errmsg(void)
{
	return last;
}

void
nc_clearerr(void)
{
	last[0] = '\0';
}
