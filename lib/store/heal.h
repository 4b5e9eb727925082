/* heal.h - sessions that heal (protocol.md 2.13, DESIGN.md 2): a device
 * whose state is older than what it already showed the world (a restored
 * copy of NC_HOME) finds out before it sends and starts new sessions; a
 * device that cannot decrypt a genuine envelope of a listed peer device
 * reports the message missing, starts a new session with that device
 * (rate-limited) and tells it which envelopes did not open, so that the
 * sender learns which of its messages did not arrive. */
#ifndef NC_HEAL_H
#define NC_HEAL_H

#include <stdint.h>

#include "account.h"
#include "payload.h"
#include "state.h"

/* A device starts at most one new session with a peer device to heal in
 * this many seconds (what fails meanwhile is still reported and told). */
#define NC_HEAL_EVERY 600
/* How long the message an envelope sent carried is remembered. */
#define NC_SENTENV_KEEP (30L * 86400)

/* Inside the caller's transaction: envelope envid went to (peer, dev)
 * with message msgid ("" for receipts and controls). */
int nc_heal_sent(nc_state *s, const uint8_t envid[16], const char *msgid,
    const char *peer, const uint8_t dev[16]) __attribute__((warn_unused_result));

/* Inside the caller's transaction: a new session with (user, dev) is in
 * place (ours: started by this device); no restart is due any more. */
int nc_heal_started(nc_state *s, const char *user, const uint8_t dev[16],
    int ours) __attribute__((warn_unused_result));

/* Inside the caller's transaction: a message of (user, dev) decrypted
 * with the session now current: the envelopes it sent that failed before
 * need no new session (they are still told). */
int nc_heal_spoken(nc_state *s, const char *user, const uint8_t dev[16])
	__attribute__((warn_unused_result));

/* Inside the caller's transaction: a "session" event (status restarted)
 * for (user, dev), with reason. */
int nc_heal_restarted(nc_state *s, const char *user, const uint8_t dev[16],
    const char *reason) __attribute__((warn_unused_result));

/* Inside the caller's transaction: envelope envid from (user, dev) is
 * genuine but no session here decrypts it (why): a "missing" event, and
 * the sender's device is owed a notice (nc_heal_owed). */
int nc_heal_missing(nc_state *s, const char *user, const uint8_t dev[16],
    const uint8_t envid[16], const char *why) __attribute__((warn_unused_result));

/* Inside the caller's transaction: a control payload from (user, dev).
 * Kind 2 names envelopes of ours it could not decrypt: each text message
 * they carried becomes "failed", with a "failure" event; envelopes this
 * device does not know (another copy of it sent them) are counted in one
 * "missing" event. */
int nc_heal_control(nc_state *s, const char *user, const uint8_t dev[16],
    const nc_payload *pl) __attribute__((warn_unused_result));

/* Send the notices owed (new sessions where the rate limit allows) into
 * the outbox. Network: claims prekeys. 0 unless the state fails; what
 * cannot go now stays owed. */
int nc_heal_owed(nc_state *s, nc_self *self) __attribute__((warn_unused_result));

/* Before this device sends anything made with a session: is its state
 * the newest it has shown? The relay keeps a counter for the device
 * (protocol.md 1.10) that the device moves, compare-and-set, at most once
 * a minute while it sends; a copy of NC_HOME restored after the original
 * moved it finds the relay's value ahead of its own. Then every session
 * is marked for a restart ("session" events), the relay drops the
 * device's one-time prekeys and new prekeys are published (the copy
 * lacks the secrets of those the original published). Relay unreachable:
 * nothing is known, nothing is done. 0 unless the state fails. */
#define NC_HEAL_RECHECK 60
/* *stale (may be NULL) is set when this state was found stale (its
 * sessions are marked for a restart now). A check started before is
 * answered here; otherwise one is made (at most once a minute). */
int nc_heal_check(nc_state *s, nc_self *self, int *stale)
	__attribute__((warn_unused_result));
/* The same question started now and answered by the next nc_heal_check,
 * so that the round trip overlaps the command's own work (encrypting,
 * decrypting): nothing made with a session may leave before that
 * answer. 0 unless the state fails. */
int nc_heal_check_start(nc_state *s, nc_self *self)
	__attribute__((warn_unused_result));
/* The question's tag made and synced now, if a check would be due (a
 * no-op when one is kept already), so that the sync is not on the way of
 * a check started later: nc-recv makes it while its fetch waits for the
 * network helper. */
int nc_heal_prepare(nc_state *s) __attribute__((warn_unused_result));

/* Forget which message old envelopes carried (older than
 * NC_SENTENV_KEEP). Inside the caller's transaction. */
int nc_heal_prune(nc_state *s, int64_t now) __attribute__((warn_unused_result));

#endif
