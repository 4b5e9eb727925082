/* sync.h - nc-sync's sub-commands about this user's devices: link a new
 * device by its one-time code, list the devices, revoke one. Each takes
 * its own arguments (argv[0] is the sub-command's name) and returns an
 * exit code (err.h) with the reason set. */
#ifndef NC_SYNC_H
#define NC_SYNC_H

#include <stdint.h>

#include "state.h"

int nc_sync_devices(int argc, char **argv) __attribute__((warn_unused_result));
int nc_sync_link(int argc, char **argv) __attribute__((warn_unused_result));
int nc_sync_revoke(int argc, char **argv) __attribute__((warn_unused_result));

#endif
