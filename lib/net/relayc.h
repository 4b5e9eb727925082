/* relayc.h - typed calls to a user's relay (protocol.md section 1). A
 * relay is found by domain: a "relay DOMAIN URL" line in $NC_HOME/config,
 * else https://DOMAIN/.well-known/newchat. Errors map to exit codes:
 * NC_ENOHOST a domain that serves no relay, NC_EUNAVAIL unreachable,
 * NC_ENOUSER 404, NC_EPERM 401/403, NC_ETEMP 5xx and 429, NC_EDATA
 * malformed answers. Messages name the relay by domain ("relay of b.test
 * unreachable: http://...: Connection refused", "relay of b.test
 * answered 503 disk full"). */
#ifndef NC_RELAYC_H
#define NC_RELAYC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "relaymsg.h"
#include "http.h"
#include "keys.h"
#include "x3dh.h"

typedef struct nc_relay nc_relay;

/* Find the relay of domain (no network when the config names it; a
 * well-known URL is asked once a process). NC_ENOHOST: the domain does
 * not resolve or serves no descriptor (the message says which line to
 * add to home/config); NC_EUNAVAIL: its server is down. */
int nc_relay_open(nc_relay **out, const char *home, const char *domain)
	__attribute__((warn_unused_result));
void nc_relay_close(nc_relay *r);
/* The relay URL (into url, max bytes) from a well-known answer of domain
 * with HTTP status and body: 0; NC_ENOHOST for a 404 or other refusal, a
 * body that is not "newchat 1 / domain DOMAIN / relay URL" lines or names
 * another domain; NC_EUNAVAIL for 5xx, 408, 429; NC_ESECURITY for an
 * http:// relay (a downgrade: only the config may name one). */
int nc_relay_descriptor(const char *domain, long status, const uint8_t *body,
    size_t n, char *url, size_t max) __attribute__((warn_unused_result));
const char *nc_relay_url(const nc_relay *r);
/* Seconds a request may take in all (default 30). */
void nc_relay_timeout(nc_relay *r, long secs);

/* Signed requests carry the time and a fresh nonce (reqsig.h): two equal
 * requests differ by their nonces, so the time is the clock's. A clock
 * hook (set by the commands; nc_state_reqtime) returns the time to sign
 * request hash h with: now, never later. When a relay refuses a request's
 * time, its Date header says how far this machine's clock is off: within
 * a day the request is signed again with the relay's time (one warning
 * line on stderr, the process keeps following that relay's clock); beyond,
 * NC_EPERM names the clock. Nothing of it is stored, so a clock set right
 * works at once. */
void nc_relay_clock(int64_t (*fn)(void *ctx, const uint8_t h[32], int64_t now),
    void *ctx);

/* A request started and not yet waited for. */
typedef struct {
	nc_http_call call;
	nc_http_resp resp;
	char domain[256];   /* for messages (NC_DOMAIN_MAX is 253) */
	int started, rc;
} nc_relay_pending;

/* One request; *status is the HTTP status (0 if none came back). signer:
 * NULL for unsigned requests. Transport failures -> NC_EUNAVAIL. */
int nc_relay_req(nc_relay *r, const char *method, const char *path,
    const void *body, size_t n, const nc_device *signer, long *status,
    nc_buf *resp) __attribute__((warn_unused_result));

/* Accounts. name is the user part. */
/* An unsigned nc_relay_req in two halves, so that requests to several
 * relays travel at once: start (the body may be freed after it), then
 * wait. */
void nc_relay_req_start(nc_relay *r, const char *method, const char *path,
    const void *body, size_t n, nc_relay_pending *p);
int nc_relay_req_wait(nc_relay_pending *p, long *status, nc_buf *resp)
	__attribute__((warn_unused_result));
int nc_relay_register(nc_relay *r, const char *name, const uint8_t auth_pk[32],
    const uint8_t salt[16], uint64_t ops, uint64_t mem,
    const uint8_t dev_sign_pk[32]) __attribute__((warn_unused_result));
int nc_relay_challenge(nc_relay *r, const char *name, uint8_t salt[16],
    uint64_t *ops, uint64_t *mem, uint8_t nonce[32])
	__attribute__((warn_unused_result));
/* backup: receives the stored identity-key backup (empty if none). A
 * 409 (32 devices) is NC_ECANTCREAT. */
int nc_relay_add_device(nc_relay *r, const char *name, const char *addr,
    const uint8_t nonce[32], const uint8_t dev_sign_pk[32],
    const uint8_t auth_sk[64], nc_buf *backup) __attribute__((warn_unused_result));
/* OPAQUE (protocol.md 1.2). The relay's AKE public key from its
 * /.well-known/newchat "opaque" line (NC_EDATA if none). */
int nc_relay_opaque_pk(nc_relay *r, uint8_t pk[32]) __attribute__((warn_unused_result));
/* Registration request -> response; *taken: the name has an account. */
int nc_relay_reg_init(nc_relay *r, const char *name, const uint8_t req[32],
    int *taken, uint8_t resp[64]) __attribute__((warn_unused_result));
/* A new OPAQUE account (409: NC_ECANTCREAT "name taken"). */
int nc_relay_register2(nc_relay *r, const char *name, const uint8_t record[192],
    int cost, const uint8_t dev_sign_pk[32]) __attribute__((warn_unused_result));
/* KE1 -> cost, KE2, token. */
int nc_relay_login(nc_relay *r, const char *name, const uint8_t ke1[96],
    int *cost, uint8_t ke2[320], uint8_t token[NC_LOGIN_TOKEN_LEN])
	__attribute__((warn_unused_result));
/* An operation under a login (method and path by o->op); resp: the
 * answer's body (add device: the identity-key backup). 401 is NC_EPERM
 * "wrong user or password"; 409 on add device NC_ECANTCREAT. */
int nc_relay_op(nc_relay *r, const char *name, const char *addr,
    struct nc_opreq *o, const uint8_t session_key[64], nc_buf *resp)
	__attribute__((warn_unused_result));
/* An old-scheme account's move to OPAQUE (401: NC_EPERM). */
int nc_relay_migrate(nc_relay *r, const char *name, const char *addr,
    struct nc_migrate *m, const uint8_t auth_sk[64]) __attribute__((warn_unused_result));
int nc_relay_put_idbackup(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t *p, size_t n) __attribute__((warn_unused_result));

/* Device lists: the raw signed encoding. */
int nc_relay_put_devlist(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t *p, size_t n) __attribute__((warn_unused_result));
int nc_relay_get_devlist(nc_relay *r, const char *name, nc_buf *out)
	__attribute__((warn_unused_result));
/* The same with the key log's proof (protocol.md 1.4): since is the size
 * of the last head seen from this relay (0: none), sent as X-NC-KT-Since;
 * proof receives the decoded X-NC-KT-Proof (empty if it was not base64),
 * *has_proof whether the header came. */
int nc_relay_get_devlist_kt(nc_relay *r, const char *name, uint64_t since,
    nc_buf *out, nc_buf *proof, int *has_proof) __attribute__((warn_unused_result));
/* The key log's keys (kt-log, kt-vrf) of the relay's descriptor; *has 0
 * for a relay that publishes none. A relay found by discovery gives the
 * descriptor it was found by; one named in the config is asked for its
 * /.well-known/newchat once (NC_EDATA for malformed key lines). */
int nc_relay_kt_keys(nc_relay *r, uint8_t log[32], uint8_t vrf[32], int *has)
	__attribute__((warn_unused_result));
/* The keys if the descriptor was already read (no request): 1 keys, 2
 * none, 0 not read. */
int nc_relay_kt_descr(const nc_relay *r, uint8_t log[32], uint8_t vrf[32]);

/* Provisioning boxes for linking by code (protocol.md 1.11): open one
 * (a new device), put the sealed link message (a device of the user,
 * signed), take it (once: *got 0 while there is none yet). An unknown,
 * expired or used box is NC_EDATA with what to do. */
int nc_relay_link_open(nc_relay *r, const char *name, const uint8_t box[16])
	__attribute__((warn_unused_result));
int nc_relay_link_put(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t box[16], const nc_buf *body) __attribute__((warn_unused_result));
/* wait > 0: the relay holds the request up to wait seconds (at most 60)
 * for the message to come; *got 0 when it did not. */
int nc_relay_link_take(nc_relay *r, const char *name, const uint8_t box[16],
    int wait, nc_buf *out, int *got) __attribute__((warn_unused_result));

/* Prekeys. */
int nc_relay_put_prekeys(nc_relay *r, const char *name, const nc_device *d,
    const nc_spk *spk, const nc_otpk *otpk, size_t n)
	__attribute__((warn_unused_result));
int nc_relay_prekey_count(nc_relay *r, const char *name, const nc_device *d,
    uint32_t *spk_id, uint32_t *count) __attribute__((warn_unused_result));
/* Move this device's counter from q->cur to (q->cur.n + 1, q->next)
 * (protocol.md 1.10): 0 and *moved = 1, out the new value; 0 and *moved =
 * 0 when the relay holds another value (out: that value). */
int nc_relay_counter(nc_relay *r, const char *name, const nc_device *d,
    const struct nc_counter_req *q, int *moved, struct nc_counter *out)
	__attribute__((warn_unused_result));
/* The same in two halves, so that the command works meanwhile: start,
 * then wait with the same r, name, d and q (a request refused for its
 * time is asked again). */
void nc_relay_counter_start(nc_relay *r, const char *name, const nc_device *d,
    const struct nc_counter_req *q, nc_relay_pending *p);
int nc_relay_counter_wait(nc_relay *r, const char *name, const nc_device *d,
    const struct nc_counter_req *q, nc_relay_pending *p, int *moved,
    struct nc_counter *out) __attribute__((warn_unused_result));
/* Register this device's push endpoint (protocol.md 1.12; url NULL:
 * remove it). The relay checks the endpoint and says why it refuses one
 * (NC_EDATA with its reason). */
int nc_relay_push(nc_relay *r, const char *name, const nc_device *d, const char *url)
	__attribute__((warn_unused_result));
/* Claim bundles of devs[0..n) (n <= 64); out[i] / outdev[i] for each
 * returned, *nout of them. */
int nc_relay_claim(nc_relay *r, const char *name,
    const uint8_t (*devs)[NC_DEVID_LEN], size_t n, nc_bundle *out,
    uint8_t (*outdev)[NC_DEVID_LEN], size_t *nout)
	__attribute__((warn_unused_result));

/* Mailboxes. */
typedef struct {
	uint8_t dev[NC_DEVID_LEN];
	uint8_t envid[16];
	const uint8_t *env;
	size_t len;
} nc_relay_item;
/* Deliver items (n <= 64) in one commit; NC_ETEMP with *cur set to the
 * relay's list version when `version` is outdated (refetch, retry), and
 * *cur set to UINT64_MAX on a 410 or 404 (a device, or the user, gone:
 * refetch to tell which). */
int nc_relay_deliver(nc_relay *r, const char *name, uint64_t version,
    const nc_relay_item *it, size_t n, uint64_t *cur)
	__attribute__((warn_unused_result));
/* The same in two halves, so that deliveries to several relays travel at
 * once: start (the items may be freed after it), then wait with the same
 * name, which returns nc_relay_deliver's result and sets *cur. */
void nc_relay_deliver_start(nc_relay *r, const char *name, uint64_t version,
    const nc_relay_item *it, size_t n, nc_relay_pending *p);
int nc_relay_deliver_wait(nc_relay_pending *p, const char *name,
    uint64_t *cur) __attribute__((warn_unused_result));

/* POST /v1/deliveries (protocol.md 1.6): pairwise envelopes to many users
 * of r's domain in one request, started (the body may be freed after
 * it), then waited for: 0 when the relay took them all; on a 409 naming
 * users whose device list changed, NC_ETEMP and *stale set (stale->n
 * users); other refusals as nc_relay_req's statuses (NC_EUNAVAIL for a
 * relay without the route). */
void nc_relay_deliveries_start(nc_relay *r, const struct nc_deliveries *d,
    nc_relay_pending *p);
int nc_relay_deliveries_wait(nc_relay_pending *p, struct nc_stale *stale)
	__attribute__((warn_unused_result));

typedef struct {
	uint64_t cursor;
	uint8_t envid[16];
	uint64_t received;
	const uint8_t *env;   /* into the response buffer */
	size_t len;
} nc_relay_mail;
#define NC_RELAY_LIST_MAX 100
/* List the mailbox after cursor (long-poll up to wait seconds); items
 * point into resp. */
int nc_relay_fetch(nc_relay *r, const char *name, const nc_device *d,
    uint64_t after, int wait, nc_buf *resp, nc_relay_mail *out, size_t *nout)
	__attribute__((warn_unused_result));
int nc_relay_ack(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t (*ids)[16], size_t n) __attribute__((warn_unused_result));
/* The same in two halves, so that other requests (the receipts) run
 * meanwhile: start (n >= 1), then wait, which returns nc_relay_ack's
 * result. r may be closed in between. */
void nc_relay_ack_start(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t (*ids)[16], size_t n, nc_relay_pending *p);
int nc_relay_ack_wait(nc_relay_pending *p) __attribute__((warn_unused_result));

/* The encrypted backup slot (protocol.md 1.9). Reads: the wrapped root
 * key under a locator (anonymous), the head's manifest and a record by
 * hash (with the read token); NC_ENOUSER for 404. Writes are signed by a
 * current device. */
int nc_relay_backup_key(nc_relay *r, const char *name, const uint8_t locator[32],
    nc_buf *out) __attribute__((warn_unused_result));
int nc_relay_backup_head(nc_relay *r, const char *name, const uint8_t token[32],
    nc_buf *out) __attribute__((warn_unused_result));
int nc_relay_backup_record(nc_relay *r, const char *name, const uint8_t token[32],
    const uint8_t hash[32], nc_buf *out) __attribute__((warn_unused_result));
/* The same in two halves, so that several records travel at once: start,
 * then wait, which returns nc_relay_backup_record's result. */
void nc_relay_backup_record_start(nc_relay *r, const char *name,
    const uint8_t token[32], const uint8_t hash[32], nc_relay_pending *p);
int nc_relay_backup_record_wait(nc_relay_pending *p, nc_buf *out)
	__attribute__((warn_unused_result));
/* Records by hash in one request (protocol.md 1.9, POST .../backup/fetch;
 * hashes: n x 32 bytes, n 1..1024): the answer's bytes into out. A relay
 * older than the route answers 404 or 405: then *unrouted is 1, with the
 * error. */
void nc_relay_backup_fetch_start(nc_relay *r, const char *name, const uint8_t token[32],
    const uint8_t *hashes, size_t n, nc_relay_pending *p);
int nc_relay_backup_fetch_wait(nc_relay_pending *p, nc_buf *out, int *unrouted)
	__attribute__((warn_unused_result));
int nc_relay_backup_put_record(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t hash[32], const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
/* Records in one request: a batch (backup.h) of at most 8 MiB. A relay
 * older than the route answers 404 or 405: then *unrouted is 1 (else 0),
 * with the error (nothing stored), and the records go one by one. */
int nc_relay_backup_put_records(nc_relay *r, const char *name, const nc_device *d,
    const nc_buf *batch, int *unrouted) __attribute__((warn_unused_result));
/* The same in two halves, so that the next batch is made while the relay
 * stores this one: start, then wait with the same batch (kept until then:
 * a refused clock sends it again). */
void nc_relay_backup_put_records_start(nc_relay *r, const char *name,
    const nc_device *d, const nc_buf *batch, nc_relay_pending *p);
int nc_relay_backup_put_records_wait(nc_relay *r, const char *name,
    const nc_device *d, const nc_buf *batch, nc_relay_pending *p, int *unrouted)
	__attribute__((warn_unused_result));
int nc_relay_backup_put_head(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t *p, size_t n) __attribute__((warn_unused_result));

#endif
