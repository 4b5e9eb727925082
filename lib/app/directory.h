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
/* May a message be sent to addr under this home's policy? 0 yes; under
 * "policy verified" (home.h) a contact not marked verified (nc-keys
 * verify) is NC_ESECURITY, "...: not verified ...; messages held". */
int nc_dir_sendable(nc_state *s, const char *addr) __attribute__((warn_unused_result));
/* Pin addr's own list without asking anyone (our own list at keygen). */
int nc_dir_pin(nc_state *s, const nc_devlist *l) __attribute__((warn_unused_result));
/* Accept a changed identity key, exactly the one the user checked:
 * checked is its fingerprint (32 hex digits) or the safety number with it
 * (60 digits), separators removed; NULL relies on a confirmation by
 * nc_dir_verified of the pending key (else NC_EUSAGE). The pending list
 * becomes the pin, old sessions go, held messages are released (*pinned
 * 1). NC_ESECURITY when checked is not the key pending now (nothing
 * changes); 0 with *pinned 0 when nothing is pending. NC_ENOUSER if
 * unknown. */
int nc_dir_trust(nc_state *s, const char *addr, const char *self_addr,
    const uint8_t self_id[32], const char *checked, int *pinned)
	__attribute__((warn_unused_result));
/* Pinned list, and the pending changed one (l2, when changed; changed
 * counts the different keys offered since the pin). */
int nc_dir_show(nc_state *s, const char *addr, nc_devlist *l, int *changed,
    nc_devlist *l2, int *verified) __attribute__((warn_unused_result));
/* The user compared the safety number with identity: mark addr verified
 * if that is its pinned key, or confirm its pending key (for
 * nc_dir_trust; another change voids it). NC_ESECURITY if identity is
 * neither any more. */
int nc_dir_verified(nc_state *s, const char *addr, const uint8_t identity[32])
	__attribute__((warn_unused_result));

#endif
