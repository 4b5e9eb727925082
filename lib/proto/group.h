/* group.h - private groups, the pure part (issue 17): the signed chain of
 * group states, and sender keys for the messages.
 *
 * A group state is {id, epoch, name, hash of the previous state, members
 * with roles and identity keys}. It changes only by a commit: the next
 * state, signed with the identity key of its author, who must be an admin
 * of the current state (or a member leaving: the next state is the current
 * one without its author, nothing else changed). A member accepts a commit
 * only for epoch + 1 with the current state's hash, so a relay can neither
 * add a member nor replay an old list.
 *
 * Messages use sender keys: per member device and epoch, a hash chain
 * (message key i, then the next chain key) and an Ed25519 signing key,
 * given to the members' devices over the pairwise sessions. A message is
 * one blob for every recipient: nonce || AEAD(message key, plaintext ||
 * signature), where the associated data names the group, epoch, state
 * hash, key id and index; what a recipient needs to find the key (group,
 * key id, index, blob hash) travels to each device separately (the ref),
 * so the blob the relay stores says nothing about the group or sender. */
#ifndef NC_GROUP_H
#define NC_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "devlist.h"

#define NC_GROUP_ID 16
#define NC_GROUP_HASH 32
#define NC_GROUP_NAME_MAX 64
#define NC_GROUP_MEMBERS_MAX 1000
#define NC_SKEY_ID 8
#define NC_SKEY_SKIP_MAX 2000      /* indices a message may jump ahead */
#define NC_GROUP_BLOB_OVERHEAD (24 + 16 + 64)   /* nonce, tag, signature */

enum { NC_GROUP_MEMBER = 0, NC_GROUP_ADMIN = 1 };

typedef struct {
	char addr[NC_ADDR_MAX + 1];
	uint8_t idpk[32];          /* the member's identity key (Ed25519) */
	uint8_t role;
} nc_group_member;

typedef struct {
	uint8_t id[NC_GROUP_ID];
	uint64_t epoch;
	char name[NC_GROUP_NAME_MAX + 1];
	uint8_t prev[NC_GROUP_HASH];   /* hash of epoch - 1's state; zeros at 0 */
	uint32_t n;
	nc_group_member *m;            /* n of them, sorted by addr, unique */
} nc_group_state;

/* ---- states ---- */

/* A new group: epoch 0, the creator its only admin, others members. */
int nc_group_new(nc_group_state *g, const uint8_t id[NC_GROUP_ID], const char *name,
    const char *creator, const uint8_t creator_idpk[32]) __attribute__((warn_unused_result));
void nc_group_free(nc_group_state *g);
int nc_group_copy(nc_group_state *dst, const nc_group_state *src)
	__attribute__((warn_unused_result));

/* Edits on a draft of the next state (callers copy, edit, then commit). */
int nc_group_put(nc_group_state *g, const char *addr, const uint8_t idpk[32],
    uint8_t role) __attribute__((warn_unused_result));   /* add or change role */
int nc_group_drop(nc_group_state *g, const char *addr) __attribute__((warn_unused_result));
const nc_group_member *nc_group_find(const nc_group_state *g, const char *addr);

int nc_group_encode(const nc_group_state *g, nc_buf *out) __attribute__((warn_unused_result));
/* Strict: members sorted and unique, roles known, at least one admin. */
int nc_group_decode(nc_group_state *g, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
int nc_group_hash(uint8_t out[NC_GROUP_HASH], const nc_group_state *g)
	__attribute__((warn_unused_result));

/* ---- commits: u8 1 || bytes state || str author || fixed sig[64] ---- */

/* The next state `next` (its epoch and prev are set here from cur; for a
 * new group cur is NULL and next is epoch 0), signed by author. */
int nc_group_commit(nc_buf *out, const nc_group_state *cur, nc_group_state *next,
    const char *author, const uint8_t idsk[64]) __attribute__((warn_unused_result));
/* Checks a commit against cur (NULL: a new group, whose author must be an
 * admin of it; the caller checks that author's key is the one it knows)
 * and gives the next state and its author. NC_ESECURITY (nc_fail says
 * why) for a wrong epoch, another previous state, a bad signature, an
 * author who may not make that change; NC_EDATA for bad encoding. */
int nc_group_verify(nc_group_state *next, char author[NC_ADDR_MAX + 1],
    const nc_group_state *cur, const uint8_t *commit, size_t n)
	__attribute__((warn_unused_result));
/* Two different commits for one epoch: which one every member keeps (the
 * lower hash of the commit), so concurrent admins converge. -1, 0, 1. */
int nc_group_commit_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* ---- sender keys ---- */

typedef struct {
	uint8_t group[NC_GROUP_ID];
	uint64_t epoch;
	uint8_t id[NC_SKEY_ID];
	uint32_t index;            /* of the next message key */
	uint8_t chain[32];
	uint8_t sign_pk[32];
	uint8_t sign_sk[64];       /* own keys only; zeros for others' */
} nc_skey;

/* A fresh sender key for this device in group g at its epoch. */
void nc_skey_new(nc_skey *k, const nc_group_state *g);
/* The distribution message, for the pairwise sessions:
 * u8 1 || group || u64 epoch || id || u32 index || chain || sign_pk */
#define NC_SKEY_DIST_LEN (1 + NC_GROUP_ID + 8 + NC_SKEY_ID + 4 + 32 + 32)
void nc_skey_dist(uint8_t out[NC_SKEY_DIST_LEN], const nc_skey *k);
int nc_skey_from_dist(nc_skey *k, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* What each recipient device is told of a message (the ref):
 * u8 1 || group || key id || u32 index || blob hash (BLAKE2b-256) */
#define NC_GROUP_REF_LEN (1 + NC_GROUP_ID + NC_SKEY_ID + 4 + 32)
typedef struct {
	uint8_t group[NC_GROUP_ID];
	uint8_t key[NC_SKEY_ID];
	uint32_t index;
	uint8_t hash[32];
} nc_group_ref;
/* The blob hash a ref names (BLAKE2b-256 keyed with a label). */
void nc_group_blob_hash(uint8_t out[32], const uint8_t *blob, size_t n);
void nc_group_ref_encode(uint8_t out[NC_GROUP_REF_LEN], const nc_group_ref *r);
int nc_group_ref_decode(nc_group_ref *r, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Encrypt plaintext under the own key k (its index advances: the caller
 * stores k before the blob leaves) for the state g (its epoch and hash
 * are authenticated): the blob, and the ref for the recipients. */
int nc_group_seal(nc_buf *blob, nc_group_ref *ref, nc_skey *k, const nc_group_state *g,
    const uint8_t *plain, size_t n) __attribute__((warn_unused_result));
/* Decrypt with another member's key k for state g: checks the blob's hash
 * against the ref, derives message key ref->index (at most
 * NC_SKEY_SKIP_MAX ahead of k->index; an older index is a replay unless
 * the caller kept that skipped key: NC_ESECURITY), verifies the
 * signature. Only on success does k move past ref->index; a caller that
 * keeps skipped keys takes them first with nc_skey_message_key. */
int nc_group_open(nc_buf *plain, nc_skey *k, const nc_group_state *g,
    const nc_group_ref *ref, const uint8_t *blob, size_t n)
	__attribute__((warn_unused_result));
/* The message key at index i >= k->index, without moving k. */
int nc_skey_message_key(uint8_t mk[32], const nc_skey *k, uint32_t i)
	__attribute__((warn_unused_result));
/* Open with a message key kept for a skipped index. */
int nc_group_open_with(nc_buf *plain, const uint8_t mk[32], const nc_skey *k,
    const nc_group_state *g, const nc_group_ref *ref, const uint8_t *blob, size_t n)
	__attribute__((warn_unused_result));
/* The same three with g's state hash given (nc_group_hash: a caller that
 * has it - stored with the state, or checked against the message's - saves
 * encoding and hashing the whole membership, which grows with the group,
 * at every message); NULL: computed from g. */
int nc_group_seal_at(nc_buf *blob, nc_group_ref *ref, nc_skey *k, const nc_group_state *g,
    const uint8_t *state, const uint8_t *plain, size_t n) __attribute__((warn_unused_result));
int nc_group_open_at(nc_buf *plain, nc_skey *k, const nc_group_state *g,
    const uint8_t *state, const nc_group_ref *ref, const uint8_t *blob, size_t n)
	__attribute__((warn_unused_result));
int nc_group_open_with_at(nc_buf *plain, const uint8_t mk[32], const nc_skey *k,
    const nc_group_state *g, const uint8_t *state, const nc_group_ref *ref,
    const uint8_t *blob, size_t n) __attribute__((warn_unused_result));

#endif
