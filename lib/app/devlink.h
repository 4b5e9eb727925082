/* devlink.h - linking a device by code: the new device's side (show the
 * code, wait for the message, become a device of the user) and the
 * existing device's (build and seal the link message, put it in the box). */
#ifndef NC_DEVLINK_H
#define NC_DEVLINK_H

#include <stdio.h>

#include "account.h"
#include "state.h"

/* nc-keygen --link: on an empty home, print a one-time code for addr on
 * out (then flush), wait (at most NC_LINK_TTL seconds, or NC_LINK_WAIT)
 * for a device of addr to answer it, and become a device of addr named
 * devname (may be NULL). *nhist, *ncontact: what arrived. */
int nc_devlink_new(const char *home, const char *addr, const char *devname,
    FILE *out, unsigned *ncontact, unsigned *nhist)
	__attribute__((warn_unused_result));

/* nc-sync link: send this device's identity key, the user's device
 * names, contacts with their trust state and the newest max_hist
 * messages (as many as fit) to the device that shows code. */
int nc_devlink_send(nc_state *s, nc_self *self, const char *code,
    unsigned max_hist, unsigned *ncontact, unsigned *nhist)
	__attribute__((warn_unused_result));

#endif
