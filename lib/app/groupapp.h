/* groupapp.h - private groups for the commands (issue 17): nc-group's
 * changes, nc-send -g, and what nc-recv does with group traffic that
 * comes over the pairwise sessions (payload type NC_PL_GROUP,
 * protocol.md 3.5). */
#ifndef NC_GROUPAPP_H
#define NC_GROUPAPP_H

#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "buf.h"
#include "group.h"
#include "state.h"

/* The grace after a commit during which a message of the epoch before
 * is still taken (from someone who is still a member). */
#define NC_GROUP_GRACE 300
/* A sender key is replaced after this many messages or this age. */
#define NC_GROUP_ROTATE_MSGS 100
#define NC_GROUP_ROTATE_SECS (7 * 86400)

/* nc-group's subcommands; each returns its exit status, reported. */
typedef struct {
	int json;
} nc_group_opts;
int nc_group_create(const nc_group_opts *o, const char *name,
    const char **users, int n);
/* op: "add", "remove", "admin" (users), "rename" (name), "leave" */
int nc_group_change(const nc_group_opts *o, const char *op, const char *group,
    const char **args, int n);
int nc_group_list(const nc_group_opts *o);
int nc_group_show(const nc_group_opts *o, const char *group);
int nc_group_log(const nc_group_opts *o, const char *group);

/* nc-send -g GROUP: the exit status, negated when reported already.
 * files: body is an attachment payload (nc_attach_upload), uploaded once
 * whatever the number of members. */
int nc_group_send(int json, const char *group, const uint8_t *body, size_t len,
    int files);

/* A group payload from user's device dev (identity: the user's identity
 * key, as the sealed sender proved it), inside the receiving transaction:
 * stored, applied, kept for later, or refused with an alarm event
 * (*alarms counts them). 0 unless the state fails. */
int nc_group_receive(nc_state *s, nc_self *self, const char *user,
    const uint8_t dev[16], const uint8_t identity[32], const uint8_t *body,
    size_t n, int *alarms) __attribute__((warn_unused_result));

/* Encrypt what waits in the group outbox to its members (pairwise) and
 * hand it to the outbox; errors are left for the next try. */
void nc_group_retry(nc_state *s, nc_self *self);

/* Our own list gained a device: queue, for our own devices, a SYNC
 * (protocol.md 3.5) of every group we are in - its current commit and
 * the sender keys of its epoch that this device holds - so the new one
 * joins them. Inside the caller's transaction; sent with the outbox. */
int nc_group_sync_own(nc_state *s, const char *self)
	__attribute__((warn_unused_result));

/* This device has just joined group g through a SYNC: a fresh sender
 * key of its own, queued for every member (its own user's other devices
 * too); a member's relay-checked device list learns of this device from
 * it, so what members send next reaches it. */
int nc_group_announce(nc_state *s, nc_self *self, const nc_group_state *g)
	__attribute__((warn_unused_result));
/* The message of op waiting in the group outbox, to each relay that
 * hosts members in one PUT /v1/batches (protocol.md 1.6.1); members
 * delivered so leave the outbox, the others stay for the pairwise path.
 * *sent: the bytes of the batches the relays took. 0 unless the state
 * fails. */
int nc_group_batch_out(nc_state *s, nc_self *self, const char *op,
    uint64_t *sent) __attribute__((warn_unused_result));

/* For nc-recv's lines: the name of group id (32 hex digits; "?" when
 * unknown), and a "group" event (reason as recorded) as text (a whole
 * line) or JSON fields (after "{", without the seq and "}"). */
void nc_group_name(nc_state *s, const char *id, char *out, size_t max);
int nc_group_fmt_event(nc_state *s, nc_buf *o, int json, const char *id,
    const char *by, const char *reason) __attribute__((warn_unused_result));

#endif
