/* cli.c - shared command-line plumbing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"
#include "err.h"
#include "netproc.h"
#include "home.h"
#include "relayc.h"

const char *nc_prog = "newchat";
int nc_verbose;

int
nc_cli_init(const char *prog)
{
	nc_prog = prog;
	/* Everything a command creates (state.db and its WAL, which sqlite
	 * makes with the umask) is for this user alone. */
	umask(077);
	/* No core dumps: a crash would write the identity key, ratchet states
	 * and plaintext to disk (security review, issue 14 item 4). Not
	 * PR_SET_DUMPABLE, which would also hide /proc/self from our own
	 * tools. Children (the network helper) inherit the limit. */
	if (setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) != 0) {
		fprintf(stderr, "%s: cannot disable core dumps\n", prog);
		return NC_EOSERR;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to start\n", prog);
		return NC_ESOFTWARE;
	}
	return 0;
}

/* Reasons may quote what the user or a relay gave (a name, a reply):
 * control characters are shown as '?', so an error stays one line and
 * cannot drive the terminal. */
void
nc_cli_error(int rc)
{
	const char *m = *nc_errmsg() ? nc_errmsg() : "failed";

	if (rc == 0)
		return;
	fprintf(stderr, "%s: ", nc_prog);
	for (; *m; m++)
		fputc((unsigned char)*m < 0x20 || *m == 0x7f ? '?' : *m, stderr);
	fputc('\n', stderr);
}

void
nc_cli_hint(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: hint: ", nc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
nc_cli_info(const char *fmt, ...)
{
	va_list ap;

	if (nc_verbose < 0)
		return;
	fprintf(stderr, "%s: ", nc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
nc_cli_flag(int c, void (*usage)(FILE *), int *json)
{
	switch (c) {
	case 'h': usage(stdout); return nc_cli_exit(0);
	case 'j': *json = 1; return -1;
	case 'q': nc_verbose = -1; return -1;
	case 'v': nc_verbose = 1; return -1;
	case 'V':
		printf("%s (newchat) %s\n", nc_prog, NC_VERSION);
		return nc_cli_exit(0);
	default: usage(stderr); return NC_EUSAGE;
	}
}

int
nc_cli_exit(int rc)
{
	nc_netproc_stop();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: standard output: write error\n", nc_prog);
		if (rc == 0 || rc == NC_ETEMP)
			rc = NC_EIO;
	}
	return rc;
}

int
nc_cli_open(nc_state **s, nc_self *self)
{
	char home[4096];
	int rc;

	*s = NULL;
	/* nc_home_find: refuses a home that is not a directory, not ours,
	 * or open to others, as nc-keygen does when it makes one; and a
	 * command that only reads creates nothing. */
	if ((rc = nc_home_find(home, sizeof home)) != 0 ||
	    (rc = nc_state_open(s, home)) != 0)
		return rc;
	nc_relay_clock(nc_state_reqtime, *s);
	if (self != NULL && (rc = nc_self_load(*s, self)) != 0) {
		nc_state_close(*s);
		*s = NULL;
	}
	return rc;
}
