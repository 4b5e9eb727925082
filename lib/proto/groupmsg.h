/* groupmsg.h - what group traffic looks like inside a pairwise payload
 * (payload type NC_PL_GROUP, protocol.md 3.5): a commit (with the state
 * before it, for a member who is new to the group), a sender key, or a
 * group message; and the plaintext a group message's blob carries (the
 * message id, the time, what the sender has seen of the others, the
 * text). All decoders are strict and bounded. */
#ifndef NC_GROUPMSG_H
#define NC_GROUPMSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "group.h"

/* NC_GM_BATCHED: a message that came once to the provider (gbatch.h),
 * its header opened: kept in this form while it waits for its key. */
enum { NC_GM_COMMIT = 1, NC_GM_SKEY = 2, NC_GM_MSG = 3, NC_GM_SYNC = 4,
	NC_GM_BATCHED = 5 };

#define NC_GM_COMMIT_MAX (96u << 10)   /* a commit, or a state */
#define NC_GM_BLOB_MAX (NC_GM_COMMIT_MAX + 4096)   /* a commit's inner too */
#define NC_GM_SEEN_MAX 64
#define NC_GM_TEXT_MAX (64u << 10)
#define NC_GM_SYNC_KEYS 64             /* sender keys in one SYNC */

typedef struct {
	int kind;
	/* COMMIT: the commit, and the state it applies to (empty when the
	 * receiver has it) */
	const uint8_t *commit, *prev;
	size_t commitlen, prevlen;
	/* SKEY */
	const uint8_t *dist;           /* NC_SKEY_DIST_LEN bytes */
	/* MSG: the epoch and state hash it was sent in, its ref and blob */
	uint64_t epoch;
	uint8_t state[NC_GROUP_HASH];
	nc_group_ref ref;
	const uint8_t *blob;
	size_t bloblen;
	/* SYNC (from the user's own device): the commit of the current
	 * epoch (may be empty: keys only) and nkeys entries, as
	 * nc_gm_sync_key_put writes them */
	const uint8_t *keys;
	size_t keyslen;
	unsigned nkeys;
} nc_gm;

/* u8 1 || u8 kind || COMMIT: bytes commit || bytes prev
 *                    SKEY:   fixed dist[NC_SKEY_DIST_LEN]
 *                    MSG:    u64 epoch || state[32] || ref[NC_GROUP_REF_LEN]
 *                            || bytes blob
 *                    SYNC:   bytes commit (0..) || u16 n (0..64) ||
 *                            n x (str user || dev[16] || dist[101])
 *                    BATCHED: ref[NC_GROUP_REF_LEN] || bytes blob */
int nc_gm_encode(nc_buf *out, const nc_gm *m) __attribute__((warn_unused_result));
/* Strict; pointers point into p. */
int nc_gm_decode(nc_gm *m, const uint8_t *p, size_t n) __attribute__((warn_unused_result));

/* One entry of a SYNC's keys: whose key it is (user, device) and its
 * distribution message, added to b. */
int nc_gm_sync_key_put(nc_buf *b, const char *user, const uint8_t dev[16],
    const uint8_t dist[NC_SKEY_DIST_LEN]) __attribute__((warn_unused_result));
/* The entry at *off of a decoded SYNC's keys (*off moves past it):
 * 0, or NC_EDATA past the end. */
int nc_gm_sync_key(const nc_gm *m, size_t *off, char user[NC_ADDR_MAX + 1],
    uint8_t dev[16], const uint8_t **dist) __attribute__((warn_unused_result));

/* What one member device last saw from one sender key. */
typedef struct {
	uint8_t key[NC_SKEY_ID];
	uint32_t index;
	uint8_t hash[32];              /* the blob hash of its ref */
} nc_gm_seen;

/* The plaintext in a blob:
 * u8 v || id[16] || u64 time || u8 n (0..64) || n x (key[8] || u32 index
 * || hash[32]) || bytes text (1..64 KiB)
 * v 1: text is UTF-8; v 2: text is an attachment payload (media.h, a
 * message with files: nc-send -g --attach); v 3: text is a commit
 * (1..NC_GM_COMMIT_MAX bytes, decoded by the group code), the change an
 * admin sends once to each provider as a message of the epoch it ends. */
typedef struct {
	uint8_t id[16];
	uint64_t time;
	uint8_t nseen;
	nc_gm_seen seen[NC_GM_SEEN_MAX];
	const uint8_t *text;
	size_t textlen;
	int files;                     /* v 2 */
	int commit;                    /* v 3 */
} nc_gm_inner;

int nc_gm_inner_encode(nc_buf *out, const nc_gm_inner *in)
	__attribute__((warn_unused_result));
int nc_gm_inner_decode(nc_gm_inner *in, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

#endif
