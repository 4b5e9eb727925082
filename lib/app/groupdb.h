/* groupdb.h - a device's group state in state.db: the current state of
 * each group and the verified log of its commits, sender keys (this
 * device's own and those received), skipped message keys, the blob hash
 * of every group message seen (the transcript members compare), group
 * traffic waiting for its key or commit, and the group outbox (payloads
 * for members not yet encrypted to them). The tables are made on first
 * use; secrets and states are sealed at rest (nc_state_seal). */
#ifndef NC_GROUPDB_H
#define NC_GROUPDB_H

#include <stdint.h>

#include "group.h"
#include "state.h"

/* Make the tables if they are not there yet. */
int nc_gdb_init(nc_state *s) __attribute__((warn_unused_result));

/* The current state of group id: 0, or NC_ENOUSER (no such group).
 * *member: this user is in it; *since: when this epoch began here. */
int nc_gdb_load(nc_state *s, const uint8_t id[NC_GROUP_ID], nc_group_state *g,
    int *member, int64_t *since) __attribute__((warn_unused_result));
/* The state after commit `commit` becomes the current one (and the
 * commit is logged under its epoch, replacing one there was). */
int nc_gdb_save(nc_state *s, const nc_group_state *g, int member,
    const uint8_t *commit, size_t n) __attribute__((warn_unused_result));
/* The logged commit of an epoch: 0, NC_ENOUSER (none). */
int nc_gdb_commit(nc_state *s, const uint8_t id[NC_GROUP_ID], uint64_t epoch,
    nc_buf *out) __attribute__((warn_unused_result));
/* GROUP (32 hex digits, a unique prefix of them, or a unique name) ->
 * id: 0, NC_EUSAGE (none, or ambiguous: nc_fail says). */
int nc_gdb_find(nc_state *s, const char *arg, uint8_t id[NC_GROUP_ID])
	__attribute__((warn_unused_result));
/* Call fn for every group, by name. */
int nc_gdb_each(nc_state *s, int (*fn)(nc_state *, const nc_group_state *, int,
    void *), void *arg) __attribute__((warn_unused_result));
/* The state inside a commit (not verified). */
int nc_gdb_commit_state(nc_group_state *g, const uint8_t *commit, size_t n)
	__attribute__((warn_unused_result));

/* Sender keys, by group and key id; user and dev are whose it is. An
 * existing key id is never replaced by put (only by update). */
int nc_gdb_key_put(nc_state *s, const nc_skey *k, const char *user,
    const uint8_t dev[16], int own) __attribute__((warn_unused_result));
int nc_gdb_key_update(nc_state *s, const nc_skey *k)
	__attribute__((warn_unused_result));
/* 0, NC_ENOUSER */
int nc_gdb_key_get(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], nc_skey *k, char user[NC_ADDR_MAX + 1],
    uint8_t dev[16]) __attribute__((warn_unused_result));
/* This device's newest key for the group's epoch and when it was made:
 * 0, NC_ENOUSER. */
int nc_gdb_own_key(nc_state *s, const nc_group_state *g, nc_skey *k,
    int64_t *created) __attribute__((warn_unused_result));

/* Call fn for every sender key of group grp's epoch (own and others'),
 * oldest first, with the user and device it is of. */
int nc_gdb_keys_each(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    uint64_t epoch, int (*fn)(const nc_skey *, const char *,
    const uint8_t[16], void *), void *arg) __attribute__((warn_unused_result));

/* A skipped message key kept, and taken (deleted) when used: 0 or
 * NC_ENOUSER. */
int nc_gdb_skip_put(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, const uint8_t mk[32])
	__attribute__((warn_unused_result));
int nc_gdb_skip_take(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, uint8_t mk[32])
	__attribute__((warn_unused_result));

/* The transcript: the blob hash of message idx under key kid. get: 0,
 * NC_ENOUSER. last: this device's view for a new message (the newest
 * index of up to max keys of the group's epoch). */
int nc_gdb_seen_put(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, const uint8_t h[32])
	__attribute__((warn_unused_result));
int nc_gdb_seen_get(nc_state *s, const uint8_t grp[NC_GROUP_ID],
    const uint8_t kid[NC_SKEY_ID], uint32_t idx, uint8_t h[32])
	__attribute__((warn_unused_result));

/* Who has been sent key kid: 1 yes, 0 no; mark records it. */
int nc_gdb_sent(nc_state *s, const uint8_t kid[NC_SKEY_ID], const char *user);
int nc_gdb_sent_mark(nc_state *s, const uint8_t kid[NC_SKEY_ID],
    const char *user) __attribute__((warn_unused_result));

/* The group outbox: payload `part` of operation op (a message id) for
 * user; delivered in the order added. */
int nc_gdb_out_add(nc_state *s, const char *op, int part, const char *user,
    const uint8_t *body, size_t n) __attribute__((warn_unused_result));

/* Group traffic that waits for a commit or a key (kept a week, at most
 * 1000 rows). */
int nc_gdb_pending_add(nc_state *s, const char *user, const uint8_t dev[16],
    const uint8_t *body, size_t n) __attribute__((warn_unused_result));

#endif
