/* gap.h - sequence integrity (DESIGN.md 2): messages a peer's ratchet
 * counters show were sent but never arrived. Each gap is remembered from
 * the moment it opens; one still open after the window is reported once,
 * as a "missing" event, and so is one given up before it (its key expired
 * or its session was replaced). A gap filled in time is forgotten
 * quietly. */
#ifndef NC_GAP_H
#define NC_GAP_H

#include <stdint.h>

#include "ratchet.h"
#include "state.h"

#define NC_GAP_WINDOW 120   /* seconds, unless the config says otherwise */

/* Inside the transaction that decrypted a message from (user, dev): make
 * the gap rows of that device match the skipped keys of its sessions
 * r[0..nr-1] (current, previous). may_fill: the decryption may have used
 * a skipped key (no session replaced, nothing given up), so a gap that
 * vanished was filled, not lost. since: when the message that revealed a
 * new gap reached the relay (unix seconds). */
int nc_gap_sync(nc_state *s, const char *user, const uint8_t dev[16],
    nc_ratchet *const *r, int nr, int may_fill, int64_t since)
	__attribute__((warn_unused_result));

/* Report, in one transaction, every gap open since before now - window:
 * one "missing" event per device with the count. *n: gaps reported (may
 * be NULL). Cheap when there is nothing to report (no write). */
int nc_gap_report(nc_state *s, int64_t now, int64_t window, int *n)
	__attribute__((warn_unused_result));

#endif
