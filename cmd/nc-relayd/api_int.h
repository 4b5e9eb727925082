/* api_int.h - what the route handlers (api_*.c) share. */
#ifndef RELAY_API_INT_H
#define RELAY_API_INT_H

#include "api.h"
#include "devlist.h"
#include "err.h"
#include "wire.h"

#define SEG_MAX 8

struct call {
	struct relay *r;
	const struct api_req *q;
	struct api_resp *a;
	char *seg[SEG_MAX];   /* path segments after the leading '/' */
	int nseg;
	const char *query;    /* after '?', or "" */
};

/* Answers status with a one-line text reason. */
void fail(struct api_resp *a, int status, const char *reason);
/* Answers a store error with the status it maps to. */
void fail_store(struct api_resp *a, int rc, const char *what);
/* Answers 201/200/204 with the body built so far. */
void reply(struct api_resp *a, int status);
/* 1 (and answered 400) unless name is a valid user name. */
int bad_user(struct call *c, const char *name);
/* 1 (and answered 400) unless hex is a device/envelope id. */
int bad_id(struct call *c, const char *hex, uint8_t out[16]);
/* 1 (and answered 429) if the client is over its rate for class cls. */
int limited(struct call *c, int cls);
/* 0 if the request is signed by a current device of user (dev: that one
 * device); else 1, answered 401 (or 503). */
int unsigned_req(struct call *c, const char *user, const uint8_t *dev);
/* The same, also accepting a device added by password, never listed, that
 * the list `joining` names (NULL: no such exception). */
int unsigned_req_joining(struct call *c, const char *user, const uint8_t *dev,
    const nc_devlist *joining);

void h_register(struct call *c);
void h_counter(struct call *c);
void h_challenge(struct call *c);
void h_add_device(struct call *c);
void h_opaque_reg(struct call *c);
void h_login(struct call *c);
void h_passwd(struct call *c);
void h_migrate(struct call *c);
/* The relay's OPAQUE AKE public key (made at the first call): 0 or -1. */
int relay_opaque_pk(const struct relay *r, uint8_t pk[32]);
void h_delete_user(struct call *c);
void h_devlist_put(struct call *c);
void h_devlist_get(struct call *c);
void h_idbackup_put(struct call *c);
void h_prekeys_put(struct call *c);
void h_prekeys_get(struct call *c);
void h_claim(struct call *c);
void h_mail_put(struct call *c);
void h_deliver(struct call *c);
void h_batch(struct call *c);
void h_deliveries(struct call *c);
void h_mail_list(struct call *c);
void h_mail_ack(struct call *c);
void h_push_put(struct call *c);
void h_push_get(struct call *c);
void h_push_delete(struct call *c);
void h_link_open(struct call *c);
void h_link_put(struct call *c);
void h_link_take(struct call *c);
void h_blob_put(struct call *c);
void h_blob_get(struct call *c);
void h_blob_delete(struct call *c);
void h_blob_create(struct call *c);
void h_blob_append(struct call *c);
void h_blob_offset(struct call *c);
/* relay_api_blob_part, once routed: 0, or -1. */
int blob_part(struct call *c, uint64_t n, struct blob_w *w);
void relay_api_link(struct relay *r, struct api_wait *w, struct api_resp *a, int last);
void h_backup_rec_put(struct call *c);
void h_backup_recs_post(struct call *c);
void h_backup_rec_get(struct call *c);
void h_backup_fetch(struct call *c);
void h_backup_head_put(struct call *c);
void h_backup_head_get(struct call *c);
void h_backup_key_get(struct call *c);
void h_kt_head(struct call *c);
void h_kt_consistency(struct call *c);
void h_kt_entries(struct call *c);
void h_kt_label(struct call *c);
/* The key log's part of a device-list GET: the X-NC-KT-Proof of user's
 * version (since from X-NC-KT-Since). 0, or 1 answered (400, 503). */
int kt_attach_proof(struct call *c, const char *user, uint64_t version);

#endif
