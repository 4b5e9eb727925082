/* kt.h - the key-transparency log, the pure part (issue 19): what a
 * relay's log holds and signs, and what a client checks with every key
 * fetch.
 *
 * Every version of every user's device list is one leaf of an append-only
 * RFC 9162 Merkle tree (merkle.h):
 *
 *   label      = VRF(VRF key, "newchat kt label v1" 0 || user@domain ||
 *                u64 version)[0..32]      (vrf.h: the directory cannot be
 *                                          enumerated without the relay)
 *   commitment = BLAKE2b-256(key "newchat kt commit v1", opening[32] ||
 *                label || identity key || BLAKE2b-256(signed device list))
 *   leaf       = u8 1 || label || commitment
 *
 * The relay signs tree heads {size, root, time} with its log key (Ed25519;
 * the VRF key is another key: none serves two protocols). A fetch comes with a proof: the version,
 * the VRF proof of its label, the opening, the leaf's index, the signed
 * head and the inclusion proof, and - when the client names the size of
 * the last head it saw - a consistency proof from it. This first step logs
 * the leaves directly (no prefix tree): proving that a version is the
 * newest is left to monitoring (each device reads the new leaves and looks
 * for its own labels) and to auditors. */
#ifndef NC_KT_H
#define NC_KT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "merkle.h"
#include "vrf.h"

#define NC_KT_LABEL 32
#define NC_KT_LEAF (1 + NC_KT_LABEL + 32)

typedef struct {
	uint64_t size;
	uint8_t root[NC_MERKLE_HASH];
	uint64_t time;              /* unix seconds when the relay signed it */
	uint8_t sig[64];
} nc_kt_head;

typedef struct {
	uint64_t version;
	uint8_t vrf[NC_VRF_PROOF];
	uint8_t opening[32];
	uint64_t index;             /* the leaf's */
	nc_kt_head head;
	nc_merkle_hash incl[NC_MERKLE_PROOF_MAX];
	size_t nincl;
	uint64_t since;             /* 0, or the size the consistency proof starts at */
	nc_merkle_hash cons[NC_MERKLE_PROOF_MAX];
	size_t ncons;
} nc_kt_proof;

/* ---- the relay's side ---- */

/* The label of user's version (and its VRF proof). */
int nc_kt_label(uint8_t label[NC_KT_LABEL], uint8_t proof[NC_VRF_PROOF],
    const uint8_t vrf_seed[32], const char *user, uint64_t version)
	__attribute__((warn_unused_result));
void nc_kt_commit(uint8_t out[32], const uint8_t opening[32], const uint8_t label[NC_KT_LABEL],
    const uint8_t identity[32], const uint8_t *devlist, size_t n);
void nc_kt_leaf(uint8_t out[NC_KT_LEAF], const uint8_t label[NC_KT_LABEL],
    const uint8_t commitment[32]);
void nc_kt_head_sign(nc_kt_head *h, const uint8_t log_sk[64], const char *domain);

/* u8 1 || u64 version || vrf[80] || opening[32] || u64 index || head
 * (u64 size, root, u64 time, sig) || u8 n, n hashes || u64 since ||
 * u8 m, m hashes */
int nc_kt_proof_encode(nc_buf *out, const nc_kt_proof *p) __attribute__((warn_unused_result));
int nc_kt_proof_decode(nc_kt_proof *p, const uint8_t *b, size_t n)
	__attribute__((warn_unused_result));

/* ---- what the log's routes answer (GET /v1/kt/...) ---- */

#define NC_KT_ENTRIES_MAX 1000   /* leaves in one answer */

/* A tree head alone: u64 size || root || u64 time || sig[64]. */
#define NC_KT_HEAD_LEN (8 + NC_MERKLE_HASH + 8 + 64)
int nc_kt_head_encode(nc_buf *out, const nc_kt_head *h) __attribute__((warn_unused_result));
int nc_kt_head_decode(nc_kt_head *h, const uint8_t *b, size_t n)
	__attribute__((warn_unused_result));

/* A consistency proof: u64 from || u64 to || u8 m || m hashes. */
typedef struct {
	uint64_t from, to;
	nc_merkle_hash h[NC_MERKLE_PROOF_MAX];
	size_t n;
} nc_kt_cons;
int nc_kt_cons_encode(nc_buf *out, const nc_kt_cons *c) __attribute__((warn_unused_result));
int nc_kt_cons_decode(nc_kt_cons *c, const uint8_t *b, size_t n)
	__attribute__((warn_unused_result));

/* Leaves for auditors: u64 start || u16 n || n leaves (each NC_KT_LEAF
 * bytes, starting with 1), n <= NC_KT_ENTRIES_MAX. */
typedef struct {
	uint64_t start;
	size_t n;
	uint8_t leaf[NC_KT_ENTRIES_MAX][NC_KT_LEAF];
} nc_kt_entries;
int nc_kt_entries_encode(nc_buf *out, const nc_kt_entries *e)
	__attribute__((warn_unused_result));
int nc_kt_entries_decode(nc_kt_entries *e, const uint8_t *b, size_t n)
	__attribute__((warn_unused_result));

/* One label's VRF proof, for a user's own devices watching the log for
 * their entries: u64 version || u64 leaf index || vrf[80]. */
typedef struct {
	uint64_t version, index;
	uint8_t vrf[NC_VRF_PROOF];
} nc_kt_labelproof;
int nc_kt_labelproof_encode(nc_buf *out, const nc_kt_labelproof *l)
	__attribute__((warn_unused_result));
int nc_kt_labelproof_decode(nc_kt_labelproof *l, const uint8_t *b, size_t n)
	__attribute__((warn_unused_result));
/* The label the proof gives for (user, l->version) under vrf_pk: 0, or
 * NC_ESECURITY if the proof is not the VRF key's for that input. */
int nc_kt_labelproof_verify(uint8_t label[NC_KT_LABEL], const nc_kt_labelproof *l,
    const uint8_t vrf_pk[32], const char *user) __attribute__((warn_unused_result));

/* ---- the client's side ---- */

int nc_kt_head_verify(const nc_kt_head *h, const uint8_t log_pk[32], const char *domain)
	__attribute__((warn_unused_result));

/* Everything a fetch of user's device list must prove: the head signed by
 * the log key; the label the VRF proof (under vrf_pk) gives for (user,
 * p->version); the
 * commitment to identity and devlist under the opening; the leaf in the
 * tree of that head; and, when last is not NULL (the newest head this
 * client saw from the relay), that the new head extends it (an older or
 * inconsistent head is an alarm). 0, or NC_ESECURITY with nc_fail saying
 * "key log: ...". */
int nc_kt_verify(const nc_kt_proof *p, const uint8_t log_pk[32], const uint8_t vrf_pk[32],
    const char *domain,
    const char *user, const uint8_t identity[32], const uint8_t *devlist, size_t n,
    const nc_kt_head *last) __attribute__((warn_unused_result));
/* The same; with known 0 the label the VRF proof gives is put in label;
 * with known 1 label is the one a VRF proof of (user, p->version) gave
 * before: the proof's output must be that label (else NC_ESECURITY, "the
 * relay ... equivocates"), and the proof is not verified again. */
int nc_kt_verify_label(const nc_kt_proof *p, const uint8_t log_pk[32],
    const uint8_t vrf_pk[32], const char *domain, const char *user,
    const uint8_t identity[32], const uint8_t *devlist, size_t n, const nc_kt_head *last,
    uint8_t label[NC_KT_LABEL], int known) __attribute__((warn_unused_result));

#endif
