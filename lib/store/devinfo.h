/* devinfo.h - what this device knows of its user's devices besides the
 * signed device list (kept in the state's settings, by device id in hex):
 * the name a device gave itself, when it was added, and when a message
 * from it last came. None of it is trusted for anything but display. */
#ifndef NC_DEVINFO_H
#define NC_DEVINFO_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define NC_DEVNAME_MAX 64   /* bytes of UTF-8, no control characters */

/* 1 if name is a valid device name (1..64 bytes of UTF-8, no control
 * characters). */
int nc_devname_valid(const char *name, size_t n);

/* The name ("" when none). */
void nc_devinfo_name(nc_state *s, const char *hex, char name[NC_DEVNAME_MAX + 1]);
int nc_devinfo_set_name(nc_state *s, const char *hex, const char *name)
	__attribute__((warn_unused_result));
/* When the device was added (0: unknown); set only if not known yet. */
int64_t nc_devinfo_added(nc_state *s, const char *hex);
int nc_devinfo_set_added(nc_state *s, const char *hex, int64_t t)
	__attribute__((warn_unused_result));
/* When a message from the device last came (0: never). */
int64_t nc_devinfo_seen(nc_state *s, const char *hex);
int nc_devinfo_set_seen(nc_state *s, const uint8_t id[16], int64_t t)
	__attribute__((warn_unused_result));

#endif
