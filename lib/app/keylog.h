/* keylog.h - the client's side of a relay's key log (issue 19, protocol.md
 * 1.1, 1.4, 1.8, 3.4): the log and VRF keys pinned per domain, the newest
 * head seen, the proof of each contact's keys, their history, and audits.
 *
 * In state.db's kv table (no schema change):
 *   kt/DOMAIN/log, kt/DOMAIN/vrf   the keys pinned on first use (32 bytes)
 *   kt/DOMAIN/head                 the newest head seen (nc_kt_head_encode)
 *   kt/DOMAIN/none                 1: the relay published no key log
 *   kt/DOMAIN/u/NAME               u64 index || u64 version || head: what
 *                                  proved NAME's list last
 *   kt/DOMAIN/audit                u64 size || root || u8 k || k hashes: the
 *                                  last audited head and the right edge of
 *                                  its tree (perfect subtrees, largest first) */
#ifndef NC_KEYLOG_H
#define NC_KEYLOG_H

#include <stdint.h>

#include "buf.h"
#include "devlist.h"
#include "kt.h"
#include "relayc.h"
#include "state.h"

/* The keys to check a fetch from r (of domain) with, before the fetch:
 * *has 0 for a relay without a key log; since: the size of the last head
 * seen. A pin that differs from the descriptor the relay was found by is
 * an alarm (NC_ESECURITY, recorded). */
typedef struct {
	int has;
	uint8_t log[32], vrf[32];
	int pinned;            /* the keys were in kv (else: pin them) */
	nc_kt_head last;       /* size 0: none seen */
} nc_keylog_ctx;
int nc_keylog_prepare(nc_state *s, nc_relay *r, const char *domain,
    const char *addr, nc_keylog_ctx *k) __attribute__((warn_unused_result));

/* Inside the caller's transaction, after the fetch of addr's list (enc,
 * parsed as l) with its proof: verify, then record the pins, the head and
 * where the list is. Any failure is an alarm: event recorded, NC_ESECURITY
 * "key log: ...". */
int nc_keylog_check(nc_state *s, const char *domain, const char *addr,
    const nc_keylog_ctx *k, const nc_devlist *l, const uint8_t *enc, size_t n,
    const nc_buf *proof, int has_proof) __attribute__((warn_unused_result));

/* What proved addr's keys last: 1 found, 0 none (*nolog 1 when the relay
 * publishes no key log). */
int nc_keylog_position(nc_state *s, const char *addr, uint64_t *index,
    uint64_t *version, nc_kt_head *h, int *nolog);

/* Every version of addr's keys in its relay's log, each label verified
 * and its leaf read. */
typedef struct {
	uint64_t version, index;
	uint8_t label[NC_KT_LABEL], commitment[32];
} nc_keylog_version;
#define NC_KEYLOG_HISTORY_MAX 4096
int nc_keylog_history(nc_state *s, const char *addr, nc_keylog_version *out,
    size_t max, size_t *n, nc_kt_head *head) __attribute__((warn_unused_result));

/* Monitoring one's own keys (issue 19, 3): addr's list, as this device
 * holds it at version, against its relay's log: the leaf of that version
 * must be the one that proved it to this device (else an alarm: two
 * entries for one version), and *newer says whether the log holds version
 * + 1 (a list the relay did not serve this device: the caller fetches its
 * list again, and alarms if the relay still does not serve it). 0 when the
 * relay has no log or nothing was proven yet. */
int nc_keylog_monitor(nc_state *s, const char *addr, uint64_t version,
    int *newer) __attribute__((warn_unused_result));

/* Replay domain's log from the last audited head to the newest: *read
 * leaves read, *head the new head. NC_ESECURITY (alarm recorded) on any
 * inconsistency. */
int nc_keylog_audit(nc_state *s, const char *domain, uint64_t *read,
    uint64_t *from, nc_kt_head *head) __attribute__((warn_unused_result));

/* Gossip (issue 19, 4; protocol.md 3.4): check the heads contacts
 * gossiped that differ from this device's (kept by the receive path as
 * kt-gossip rows "ktg/DOMAIN/PEER"), once per pair of heads ("kt/DOMAIN/
 * gp/PEER": BLAKE2b-256 of their head || ours): a head not signed by
 * DOMAIN's pinned log key is ignored; one of the size of ours with another
 * root, or one that the provider cannot prove consistent with ours (one
 * consistency proof fetched), is an alarm naming the peer; a newer
 * consistent head becomes ours. NC_ESECURITY when any alarm was raised;
 * rows the relay could not be asked about stay for the next run. */
int nc_keylog_gossip(nc_state *s) __attribute__((warn_unused_result));

#endif
