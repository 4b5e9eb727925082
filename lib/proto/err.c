/* err.c - the last error message, per thread. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char last[512];

/* Formats into a buffer of its own first: callers may pass nc_errmsg()
 * as an argument ("relay %s: %s", name, nc_errmsg()), and formatting
 * straight into the buffer being read garbles both. */
int
nc_fail(int code, const char *fmt, ...)
{
	char line[sizeof last];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	memcpy(last, line, sizeof last);
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
