/* cli.h - what every command shares: its name for messages, the common
 * flags, opening NC_HOME, and the exit path that checks stdout. */
#ifndef NC_CLI_H
#define NC_CLI_H

#include <stdio.h>

#include "account.h"
#include "state.h"
#include "version.h"

extern const char *nc_prog;
extern int nc_verbose;   /* -v: 1, -q: -1 */

/* Name the command and start libsodium (before any secret buffer). */
int nc_cli_init(const char *prog);
/* "nc-send: reason" on stderr (nothing for rc 0). */
void nc_cli_error(int rc);
void nc_cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nc_cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The flags every command takes (-h -j -q -v -V, and getopt's '?'):
 * -1 to go on parsing, else the code to exit with. */
int nc_cli_flag(int c, void (*usage)(FILE *), int *json);
/* Exit with rc after flushing stdout; a write error becomes NC_EIO. */
int nc_cli_exit(int rc);
/* NC_HOME's state and this device's keys (self NULL: the state only, for
 * a command that needs no key but the storage key). It never creates
 * NC_HOME: without one there is no identity (NC_ECONFIG, run nc-keygen). */
int nc_cli_open(nc_state **s, nc_self *self) __attribute__((warn_unused_result));

#endif
