/* held.h - messages from senders not known yet (security review, issue 14
 * item 5). Checking such a sender's certificate needs its device list from
 * the relay of the domain it names, and that request would tell the
 * domain when, and from which address, the recipient reads: a beacon any
 * stranger can trigger. So, unless the config says "first-contact fetch"
 * (or a proxy is configured), the envelope is kept as it came - its seal
 * opened to learn who claims to send it, nothing decrypted, no session
 * started, no receipt - and a "held" event says so. It is released (looked
 * up, checked and read as any message) when the user asks (nc-recv
 * --release USER), or writes to the sender (nc-send pins its list; from
 * another of the user's devices: the sent copy, or a linked or restored
 * history, shows it), or otherwise makes it a contact (nc-keys show USER);
 * --reject drops it. */
#ifndef NC_HELD_H
#define NC_HELD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "account.h"
#include "seal.h"
#include "session.h"
#include "state.h"

#define NC_HELD_MAX 500               /* envelopes held at once, at most */
#define NC_HELD_KEEP (30L * 86400)    /* a held envelope older goes */

/* From nc_session_receive, the seal open: 1 go on (a known sender, or the
 * policy fetches); 0 held (or held before: the same envelope again); or an
 * error (try again later). */
int nc_held_take(nc_state *s, const nc_unsealed *u, const uint8_t envid[16],
    const uint8_t *env, size_t n, nc_rx *rx)
	__attribute__((warn_unused_result));

/* Receive the envelopes held from peer (NULL: from every sender that is a
 * contact now), oldest first: looked up with the sender's relay as needed,
 * then checked, stored and printed as any message, or refused with an
 * alarm (rx->security). One that cannot be done now (relay unreachable)
 * stays held: its error is returned. *n (may be NULL) counts those done. */
int nc_held_release(nc_state *s, nc_self *self, const char *peer,
    nc_rx *rx, int *n) __attribute__((warn_unused_result));

/* Drop what is held from peer, unread; *n counts them. */
int nc_held_reject(nc_state *s, const char *peer, int *n)
	__attribute__((warn_unused_result));

/* One line per sender: how many held, since when (text or JSON). */
int nc_held_list(nc_state *s, FILE *out, int json)
	__attribute__((warn_unused_result));

/* Drop what has been held longer than NC_HELD_KEEP (at now). */
int nc_held_prune(nc_state *s, int64_t now) __attribute__((warn_unused_result));

#endif
