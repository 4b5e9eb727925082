/* directory.h - contacts' device lists: fetched from their relay, verified,
 * and pinned on first use (TOFU). A later list under another identity key
 * is an alarm: the contact is marked changed, sending to it is refused and
 * its queued messages are held until the user trusts the new key. */
#ifndef NC_DIRECTORY_H
#define NC_DIRECTORY_H

#include "devlist.h"
#include "state.h"

/* The trusted list of addr. fetch 0: the pinned copy when there is one
 * (no network); 1: fetch it from the relay and update the pin. Returns 0,
 * NC_ENOUSER, NC_EUNAVAIL, or NC_ESECURITY (key changed: alarm recorded,
 * or a rolled-back or malformed list). */
int nc_dir_get(nc_state *s, const char *addr, int fetch, nc_devlist *out)
	__attribute__((warn_unused_result));
/* Pin addr's own list without asking anyone (our own list at keygen). */
int nc_dir_pin(nc_state *s, const nc_devlist *l) __attribute__((warn_unused_result));
/* Accept a changed identity key: the new list becomes the pin, old
 * sessions go, held messages are released. NC_ENOUSER if unknown. */
int nc_dir_trust(nc_state *s, const char *addr) __attribute__((warn_unused_result));
/* Pinned list, and the pending changed one (l2, when changed). */
int nc_dir_show(nc_state *s, const char *addr, nc_devlist *l, int *changed,
    nc_devlist *l2, int *verified) __attribute__((warn_unused_result));
int nc_dir_verified(nc_state *s, const char *addr) __attribute__((warn_unused_result));

#endif
