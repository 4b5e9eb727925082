/* inbox.h - receiving: fetch this device's mailbox, decrypt and commit
 * each envelope, THEN acknowledge it; or read armored envelopes. */
#ifndef NC_INBOX_H
#define NC_INBOX_H

#include <stdint.h>

#include "account.h"
#include "session.h"
#include "state.h"

/* One round: list the mailbox after *cursor (long-poll up to wait
 * seconds), process and acknowledge what came. *more: a full page came,
 * call again. 0, NC_EUNAVAIL, NC_EPERM, ... */
int nc_inbox_fetch(nc_state *s, nc_self *self, int wait, uint64_t *cursor,
    int *more, nc_rx *rx) __attribute__((warn_unused_result));

/* Process armored envelopes from fd (nothing is acknowledged). */
int nc_inbox_armored(nc_state *s, nc_self *self, int fd, nc_rx *rx)
	__attribute__((warn_unused_result));

/* Report missing messages whose window (config gap-window) has passed. */
int nc_inbox_gaps(nc_state *s) __attribute__((warn_unused_result));

/* After receiving: owed receipts out, queued messages retried, prekeys
 * topped up. Errors here are not the caller's concern (retried later). */
void nc_inbox_after(nc_state *s, nc_self *self, const nc_rx *rx);

#endif
