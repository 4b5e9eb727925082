/* relaymsg.h - the relay API's bodies (protocol.md section 1): encoders and
 * strict decoders for every request and response, the password-auth
 * signature, user-name rules and device ids. Decoders copy fixed fields into
 * the struct; variable-size envelopes stay pointers into the input, valid
 * as long as it is. Every function returns 0 or NC_EDATA (nc_fail set). */
#ifndef NC_RELAYMSG_H
#define NC_RELAYMSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Spelled as in devlist.h so both headers can be included together. */
#define NC_USER_MAX 64
#define NC_NAME_MAX NC_USER_MAX   /* user part: [a-z0-9._-]{1,64} */
#define NC_DOMAIN_MAX 253
#define NC_ADDR_MAX (NC_USER_MAX + 1 + NC_DOMAIN_MAX)
#define NC_DEVID_LEN 16
#define NC_ENVID_LEN 16
#define NC_SALT_LEN 16
#define NC_NONCE_LEN 32
#define NC_PK_LEN 32
#define NC_SIG_LEN 64
#define NC_INVITE_MAX 64
#define NC_ENVELOPE_MAX (256 * 1024)
#define NC_PREKEY_UPLOAD_MAX 200  /* one-time prekeys per upload */
#define NC_CLAIM_MAX 64           /* devices per claim */
#define NC_DELIVER_MAX 64         /* envelopes per batch delivery */
#define NC_LIST_MAX 100           /* envelopes per mailbox listing */
#define NC_ACK_MAX 500            /* envelope ids per acknowledgement */

/* Largest well-formed request bodies (protocol.md 1.0): the relay's body
 * limits for these routes are these, so every request the format allows
 * is read. */
#define NC_PREKEYS_BODY_MAX (1 + 1 + 4 + NC_PK_LEN + NC_SIG_LEN + 2 + \
	NC_PREKEY_UPLOAD_MAX * (4 + NC_PK_LEN))           /* 7,304 */
#define NC_CLAIM_BODY_MAX (1 + 2 + NC_CLAIM_MAX * NC_DEVID_LEN)   /* 1,027 */
#define NC_ACK_BODY_MAX (1 + 2 + NC_ACK_MAX * NC_ENVID_LEN)       /* 8,003 */

enum { NC_AUTH_ADD_DEVICE = 1, NC_AUTH_DELETE = 2 };

/* 1 if user is a valid local part (lowercase [a-z0-9._-], 1-64 bytes). */
int nc_name_valid(const char *user);
/* Split "user@domain" (both parts valid, domain lowercase) into the two. */
int nc_addr_split(const char *addr, char user[NC_NAME_MAX + 1],
    char domain[NC_DOMAIN_MAX + 1]) __attribute__((warn_unused_result));
/* 1 if d is a lowercase DNS name (labels of 1..63 [a-z0-9-], no '-' at
 * either end, at most 253 bytes in all) with an optional :port (1..65535,
 * no leading zero): the domain of every user@domain (protocol.md 0). */
int nc_domain_valid(const char *d);
/* BLAKE2b-128 of a device's Ed25519 signing public key. */
void nc_device_id(uint8_t id[NC_DEVID_LEN], const uint8_t sign_pk[NC_PK_LEN]);

/* POST /v1/users/{user} */
struct nc_register {
	uint8_t auth_pk[NC_PK_LEN];
	uint8_t salt[NC_SALT_LEN];
	uint64_t opslimit, memlimit;
	uint8_t device_sign_pk[NC_PK_LEN];
	char invite[NC_INVITE_MAX + 1];
};
int nc_register_enc(nc_buf *b, const struct nc_register *r) __attribute__((warn_unused_result));
int nc_register_dec(struct nc_register *r, const void *p, size_t n) __attribute__((warn_unused_result));

/* 200 of POST /v1/users/{user}/challenge */
struct nc_challenge {
	uint8_t salt[NC_SALT_LEN];
	uint64_t opslimit, memlimit;
	uint8_t nonce[NC_NONCE_LEN];
};
int nc_challenge_enc(nc_buf *b, const struct nc_challenge *c) __attribute__((warn_unused_result));
int nc_challenge_dec(struct nc_challenge *c, const void *p, size_t n) __attribute__((warn_unused_result));

/* POST /v1/users/{user}/devices (op 1) and DELETE /v1/users/{user} (op 2:
 * device_sign_pk all zero and not on the wire). */
struct nc_authreq {
	uint8_t nonce[NC_NONCE_LEN];
	uint8_t device_sign_pk[NC_PK_LEN];
	uint8_t sig[NC_SIG_LEN];
};
int nc_adddev_enc(nc_buf *b, const struct nc_authreq *a) __attribute__((warn_unused_result));
int nc_adddev_dec(struct nc_authreq *a, const void *p, size_t n) __attribute__((warn_unused_result));
int nc_delete_enc(nc_buf *b, const struct nc_authreq *a) __attribute__((warn_unused_result));
int nc_delete_dec(struct nc_authreq *a, const void *p, size_t n) __attribute__((warn_unused_result));

/* The message the auth key signs: "newchat auth v1" 0x00, u8 op,
 * str "user@domain", nonce, device_sign_pk. */
int nc_auth_msg(nc_buf *b, int op, const char *addr,
    const uint8_t nonce[NC_NONCE_LEN], const uint8_t device_sign_pk[NC_PK_LEN])
	__attribute__((warn_unused_result));
/* Sign a->nonce/device_sign_pk into a->sig with the auth key (64-byte sk). */
int nc_auth_sign(struct nc_authreq *a, int op, const char *addr,
    const uint8_t auth_sk[64]) __attribute__((warn_unused_result));
/* 0 if a->sig is auth_pk's signature; NC_EPERM otherwise. */
int nc_auth_verify(const struct nc_authreq *a, int op, const char *addr,
    const uint8_t auth_pk[NC_PK_LEN]) __attribute__((warn_unused_result));

/* OPAQUE (protocol.md 1.2): every message starts with u8 2. */
#define V2_OPAQUE 2
#define NC_LOGIN_TOKEN_LEN 192    /* nonce 24, sealed (id 16, expiry 8, KE3 64, session key 64), tag 16 */
#define NC_OP_MAC_LEN 64
#define NC_IDBACKUP_MAX 256       /* the relay's cap on a backup */
/* Argon2id cost names: the client's choice, kept with the record. */
enum { NC_COST_INTERACTIVE = 1, NC_COST_MODERATE = 2, NC_COST_SENSITIVE = 3 };
/* Operations under a login. */
enum { NC_OP_ADD_DEVICE = 1, NC_OP_DELETE = 2, NC_OP_PASSWD = 3 };

/* POST /v1/users/{user}/opaque: fixed[32] registration request; 200:
 * u8 taken (the name has an account), fixed[64] registration response. */
int nc_regreq_enc(nc_buf *b, const uint8_t req[32]) __attribute__((warn_unused_result));
int nc_regreq_dec(uint8_t req[32], const void *p, size_t n) __attribute__((warn_unused_result));
int nc_regresp_enc(nc_buf *b, int taken, const uint8_t resp[64]) __attribute__((warn_unused_result));
int nc_regresp_dec(int *taken, uint8_t resp[64], const void *p, size_t n)
	__attribute__((warn_unused_result));

/* POST /v1/users/{user} (u8 2): fixed[192] record, u8 cost,
 * fixed[32] device_sign_pk, str invite. */
struct nc_register2 {
	uint8_t record[192];
	int cost;
	uint8_t device_sign_pk[NC_PK_LEN];
	char invite[NC_INVITE_MAX + 1];
};
int nc_register2_enc(nc_buf *b, const struct nc_register2 *r) __attribute__((warn_unused_result));
int nc_register2_dec(struct nc_register2 *r, const void *p, size_t n)
	__attribute__((warn_unused_result));

/* POST /v1/users/{user}/login: fixed[96] KE1; 200: u8 cost,
 * fixed[320] KE2, fixed[192] token. */
int nc_ke1_enc(nc_buf *b, const uint8_t ke1[96]) __attribute__((warn_unused_result));
int nc_ke1_dec(uint8_t ke1[96], const void *p, size_t n) __attribute__((warn_unused_result));
int nc_ke2_enc(nc_buf *b, int cost, const uint8_t ke2[320],
    const uint8_t token[NC_LOGIN_TOKEN_LEN]) __attribute__((warn_unused_result));
int nc_ke2_dec(int *cost, uint8_t ke2[320], uint8_t token[NC_LOGIN_TOKEN_LEN],
    const void *p, size_t n) __attribute__((warn_unused_result));

/* An operation under a login (add device: POST /v1/users/{user}/devices;
 * delete: DELETE /v1/users/{user}; password change: POST
 * /v1/users/{user}/passwd): fixed[192] token, fixed[64] KE3, u8 op, then
 * op 1: fixed[32] device_sign_pk; op 2: nothing; op 3: fixed[192] record,
 * u8 cost, u16 n, fixed[n] identity-key backup (n <= 256); then
 * fixed[64] MAC = HMAC-SHA512(session key, "newchat op v1" 0x00 ||
 * str "user@domain" || every byte before the MAC). */
struct nc_opreq {
	uint8_t token[NC_LOGIN_TOKEN_LEN], ke3[64], mac[NC_OP_MAC_LEN];
	int op;
	uint8_t device_sign_pk[NC_PK_LEN];
	uint8_t record[192];
	int cost;
	uint8_t backup[NC_IDBACKUP_MAX];
	size_t backup_len;
	size_t maclen;      /* decoded: bytes before the MAC */
};
/* Encode o with its MAC under session_key. */
int nc_opreq_enc(nc_buf *b, struct nc_opreq *o, const uint8_t session_key[64],
    const char *addr) __attribute__((warn_unused_result));
int nc_opreq_dec(struct nc_opreq *o, const void *p, size_t n) __attribute__((warn_unused_result));
/* 0 if o->mac is right for the decoded bytes p; NC_EPERM otherwise. */
int nc_opreq_verify(const struct nc_opreq *o, const void *p,
    const uint8_t session_key[64], const char *addr) __attribute__((warn_unused_result));

/* POST /v1/users/{user}/migrate, an old-scheme account's move to OPAQUE:
 * fixed[32] challenge nonce, fixed[192] record, u8 cost, u16 n,
 * fixed[n] backup, fixed[64] sig: the old auth key's Ed25519 signature of
 * "newchat migrate v1" 0x00 || str "user@domain" || every byte before it. */
struct nc_migrate {
	uint8_t nonce[NC_NONCE_LEN], record[192], sig[NC_SIG_LEN];
	int cost;
	uint8_t backup[NC_IDBACKUP_MAX];
	size_t backup_len, siglen;
};
int nc_migrate_enc(nc_buf *b, struct nc_migrate *m, const uint8_t auth_sk[64],
    const char *addr) __attribute__((warn_unused_result));
int nc_migrate_dec(struct nc_migrate *m, const void *p, size_t n) __attribute__((warn_unused_result));
int nc_migrate_verify(const struct nc_migrate *m, const void *p,
    const uint8_t auth_pk[NC_PK_LEN], const char *addr) __attribute__((warn_unused_result));

/* PUT /v1/users/{user}/devices/{dev}/prekeys */
struct nc_otpk {
	uint32_t id;
	uint8_t pk[NC_PK_LEN];
};
struct nc_prekeys {
	int has_spk;
	uint32_t spk_id;
	uint8_t spk_pk[NC_PK_LEN];
	uint8_t spk_sig[NC_SIG_LEN];
	uint16_t n;
	struct nc_otpk otpk[NC_PREKEY_UPLOAD_MAX];
};
int nc_prekeys_enc(nc_buf *b, const struct nc_prekeys *k) __attribute__((warn_unused_result));
int nc_prekeys_dec(struct nc_prekeys *k, const void *p, size_t n) __attribute__((warn_unused_result));

/* 200 of GET /v1/users/{user}/devices/{dev}/prekeys */
struct nc_prekey_count {
	uint32_t spk_id;
	uint32_t otpk_count;
};
int nc_prekey_count_enc(nc_buf *b, const struct nc_prekey_count *c) __attribute__((warn_unused_result));

/* A device's counter (protocol.md 1.10, sessions that heal). Request:
 * u8 1, u8 flags, u64 n, fixed[16] tag, fixed[16] next (42 bytes): "the
 * counter is (n, tag): make it (n + 1, next)". Answer (200, and 409 when
 * it was not): u8 1, u64 n, fixed[16] tag (25 bytes). */
#define NC_COUNTER_DROP_OTPK 0x01   /* flags: drop the one-time prekeys held */
#define NC_COUNTER_REQ_LEN 42
struct nc_counter {
	uint64_t n;
	uint8_t tag[16];
};
struct nc_counter_req {
	uint8_t flags;
	struct nc_counter cur;
	uint8_t next[16];
};
int nc_counter_req_enc(nc_buf *b, const struct nc_counter_req *q) __attribute__((warn_unused_result));
int nc_counter_req_dec(struct nc_counter_req *q, const void *p, size_t n) __attribute__((warn_unused_result));
int nc_counter_enc(nc_buf *b, const struct nc_counter *c) __attribute__((warn_unused_result));
int nc_counter_dec(struct nc_counter *c, const void *p, size_t n) __attribute__((warn_unused_result));
int nc_prekey_count_dec(struct nc_prekey_count *c, const void *p, size_t n) __attribute__((warn_unused_result));

/* POST /v1/users/{user}/prekeys/claim: n == 0 is the empty body (every
 * device of the current list). */
struct nc_claim_req {
	uint16_t n;
	uint8_t dev[NC_CLAIM_MAX][NC_DEVID_LEN];
};
int nc_claim_req_enc(nc_buf *b, const struct nc_claim_req *c) __attribute__((warn_unused_result));
int nc_claim_req_dec(struct nc_claim_req *c, const void *p, size_t n) __attribute__((warn_unused_result));

struct nc_bundle {
	uint8_t dev[NC_DEVID_LEN];
	uint32_t spk_id;
	uint8_t spk_pk[NC_PK_LEN];
	uint8_t spk_sig[NC_SIG_LEN];
	int has_otpk;
	uint32_t otpk_id;
	uint8_t otpk_pk[NC_PK_LEN];
};
struct nc_claim_resp {
	uint16_t n;
	struct nc_bundle b[NC_CLAIM_MAX];
};
int nc_claim_resp_enc(nc_buf *b, const struct nc_claim_resp *c) __attribute__((warn_unused_result));
int nc_claim_resp_dec(struct nc_claim_resp *c, const void *p, size_t n) __attribute__((warn_unused_result));

/* POST /v1/users/{user}/deliver */
struct nc_deliver_item {
	uint8_t dev[NC_DEVID_LEN];
	uint8_t envid[NC_ENVID_LEN];
	const uint8_t *env;
	size_t len;          /* 1..NC_ENVELOPE_MAX */
};
struct nc_deliver {
	uint64_t devlist_version;
	uint16_t n;          /* 1..NC_DELIVER_MAX */
	struct nc_deliver_item item[NC_DELIVER_MAX];
};
int nc_deliver_enc(nc_buf *b, const struct nc_deliver *d) __attribute__((warn_unused_result));
int nc_deliver_dec(struct nc_deliver *d, const void *p, size_t n) __attribute__((warn_unused_result));

/* POST /v1/deliveries: pairwise envelopes for several users of one relay
 * in one commit (protocol.md 1.6): u8 1 || u16 users (1..1000) || users x
 * (str user (ascending, by bytes) || u64 device-list version || u8 n
 * (1..32) || n x (dev[16] || envid[16] || bytes envelope)); 1..1000
 * envelopes in all. Decoded, envelopes point into the input. */
#define NC_DELIVERIES_MAX 1000    /* envelopes (so users) per request */
#define NC_DELIVERIES_DEVS 32     /* envelopes per user (NC_DEVLIST_MAX) */
struct nc_deliveries_user {
	char name[NC_NAME_MAX + 1];
	uint64_t version;
	uint16_t first, n;   /* its envelopes: item[first .. first + n) */
};
struct nc_deliveries {
	uint16_t nusers, n;
	int too_many;        /* decoding failed on a count over the bounds */
	struct nc_deliveries_user user[NC_DELIVERIES_MAX];
	struct nc_deliver_item item[NC_DELIVERIES_MAX];
};
int nc_deliveries_enc(nc_buf *b, const struct nc_deliveries *d) __attribute__((warn_unused_result));
int nc_deliveries_dec(struct nc_deliveries *d, const void *p, size_t n) __attribute__((warn_unused_result));

/* 409 body of POST /v1/deliveries and PUT /v1/batches when device lists
 * changed: the users whose list is not the version the request named,
 * u8 1 || u16 n (1..1000) || n x str user (in the request's order). */
struct nc_stale {
	uint16_t n;
	char user[NC_DELIVERIES_MAX][NC_NAME_MAX + 1];
};
int nc_stale_enc(nc_buf *b, const struct nc_stale *s) __attribute__((warn_unused_result));
int nc_stale_dec(struct nc_stale *s, const void *p, size_t n) __attribute__((warn_unused_result));

/* 409 body of a batch delivery to an outdated device list: u64 version. */
int nc_version_enc(nc_buf *b, uint64_t version) __attribute__((warn_unused_result));
int nc_version_dec(uint64_t *version, const void *p, size_t n) __attribute__((warn_unused_result));

/* 200 of GET /v1/users/{user}/devices/{dev}/mailbox */
struct nc_mail {
	uint64_t cursor;
	uint8_t envid[NC_ENVID_LEN];
	uint64_t received;
	const uint8_t *env;
	size_t len;
};
struct nc_mailbox {
	uint16_t n;          /* 0..NC_LIST_MAX, cursors strictly increasing */
	struct nc_mail m[NC_LIST_MAX];
};
int nc_mailbox_enc(nc_buf *b, const struct nc_mailbox *m) __attribute__((warn_unused_result));
int nc_mailbox_dec(struct nc_mailbox *m, const void *p, size_t n) __attribute__((warn_unused_result));

/* POST /v1/users/{user}/devices/{dev}/mailbox/ack */
struct nc_ack {
	uint16_t n;          /* 1..NC_ACK_MAX */
	uint8_t envid[NC_ACK_MAX][NC_ENVID_LEN];
};
int nc_ack_enc(nc_buf *b, const struct nc_ack *a) __attribute__((warn_unused_result));
int nc_ack_dec(struct nc_ack *a, const void *p, size_t n) __attribute__((warn_unused_result));

/* A device's push endpoint (protocol.md 1.12): PUT body and GET answer of
 * /v1/users/{user}/devices/{dev}/push: u8 1, str url. url: at most
 * NC_PUSH_URL_MAX bytes, "https://" or "http://", a host (DNS name, IPv4 or
 * [IPv6]) and an optional port, then an optional path and query of
 * RFC 3986 characters (percent-escapes well formed); no user part, no
 * fragment, no space or control byte. The relay decides which schemes it
 * takes (http only when its operator allows it). */
#define NC_PUSH_URL_MAX 1000
#define NC_PUSH_BODY_MAX (1 + 2 + NC_PUSH_URL_MAX)
enum { NC_PUSH_BAD = 0, NC_PUSH_HTTPS = 1, NC_PUSH_HTTP = 2 };
/* NC_PUSH_HTTPS or NC_PUSH_HTTP for a URL of that form, else NC_PUSH_BAD. */
int nc_push_url_check(const char *url);
int nc_push_enc(nc_buf *b, const char *url) __attribute__((warn_unused_result));
int nc_push_dec(char url[NC_PUSH_URL_MAX + 1], const void *p, size_t n)
	__attribute__((warn_unused_result));

#endif
