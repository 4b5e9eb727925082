/* session.h - sessions with other devices: started with X3DH from claimed
 * prekey bundles, advanced by the Double Ratchet, stored encrypted. The
 * sending state is committed together with the envelope it produced
 * before anything leaves the process; a received envelope's plaintext,
 * the new session state and the "seen" mark commit in one transaction. */
#ifndef NC_SESSION_H
#define NC_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "account.h"
#include "devlist.h"
#include "outbox.h"
#include "payload.h"
#include "state.h"

/* Encrypt pl to every device of l but our own, starting sessions where
 * there are none (claiming bundles: network, unless offline, then
 * NC_EUNAVAIL), and store the envelopes as outenv rows of (msgid, l->user)
 * - or, when armored is not NULL, append them to it armored instead. */
int nc_session_encrypt(nc_state *s, nc_self *self, const nc_devlist *l,
    const char *msgid, const nc_payload *pl, int offline, nc_buf *armored)
	__attribute__((warn_unused_result));

/* As nc_session_encrypt to outenv rows, but only to the devices of l for
 * which want(dev, arg) is true (want NULL: all), and only if still(arg) is
 * true once the transaction holds the state (still NULL: always) - another
 * process of the same NC_HOME may have done it meanwhile. */
int nc_session_encrypt_some(nc_state *s, nc_self *self, const nc_devlist *l,
    const char *msgid, const nc_payload *pl,
    int (*want)(const uint8_t dev[16], void *arg), int (*still)(void *arg),
    void *arg)
	__attribute__((warn_unused_result));

typedef struct {
	FILE *direct;       /* armored input: alarms printed here, not stored,
	                       and an envelope seen before is a replay */
	int json;
	int security;       /* envelopes refused: tampered, forged, replayed */
	int prekey;         /* prekey messages taken: check the pool */
	int stored;         /* new events recorded */
	int other;          /* armored: envelopes for other devices, skipped */
	int again;          /* armored: envelopes received before, byte for
	                       byte the same: nothing to do */
	int refreshed;      /* armored: our own device list refetched */
	int64_t received;   /* when the relay took the envelope (0: now) */
	int held;           /* from senders not known yet: held (held.h) */
	int dropped;        /* ... and dropped: NC_HELD_MAX held already */
	int nohold;         /* releasing: look every sender up */
	int first;          /* the config's first-contact (0: not read yet) */
} nc_rx;

/* Open, check, decrypt and store one envelope. 0: done (acknowledge it);
 * NC_ESECURITY: refused, alarm recorded (acknowledge it too); anything
 * else: try again later (do not acknowledge). envid receives its id.
 * Armored input (rx->direct): an envelope addressed to another device of
 * this user is skipped (rx->other; to a device not of this user it is
 * refused, as injected), one received before with the same bytes is a
 * no-op (rx->again); the same envelope id with other bytes is a replay. */
int nc_session_receive(nc_state *s, nc_self *self, const uint8_t *env,
    size_t n, uint8_t envid[16], nc_rx *rx) __attribute__((warn_unused_result));

/* Forget what no envelope can need any more (at now): the ids of
 * envelopes taken longer ago than a sender retries one (NC_SEEN_KEEP_SECS,
 * past the longest TTL), and the replay tags of first messages older than
 * the grace period of signed prekeys (their prekey is gone, so a replay
 * fails without the tag). Call after the old signed prekeys are deleted. */
/* A contact's pinned device list is checked with its relay again when a
 * message comes and the last check is older than this (seconds). */
#define NC_DEVLIST_MAXAGE 86400L
#define NC_SEEN_KEEP_SECS (NC_TTL_MAX + 35L * 86400)
int nc_session_prune(nc_state *s, int64_t now) __attribute__((warn_unused_result));
/* Unused one-time prekey secrets: one published (its created time) more
 * than NC_OTPK_LIFE ago can no longer start a session (the longest a
 * sender's outbox retries, plus a day of clock difference): deleted; and
 * at most NC_OTPK_KEEP are kept, the oldest going first (a pool drained
 * and refilled again and again would otherwise grow without bound; a
 * message that claimed a dropped one fails to open and is reported). */
#define NC_OTPK_LIFE (NC_TTL_MAX + 86400L)
#define NC_OTPK_KEEP (2 * NC_OTPK_TARGET)
int nc_session_prekeys_prune(nc_state *s, int64_t now)
	__attribute__((warn_unused_result));

/* Turn owed delivery receipts into envelopes (outenv rows). */
int nc_session_receipts(nc_state *s, nc_self *self)
	__attribute__((warn_unused_result));

#endif
