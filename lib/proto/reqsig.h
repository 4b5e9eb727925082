/* reqsig.h - device-signed relay requests (protocol.md 1.3): four headers
 * carrying the device id, the time, a fresh random nonce and an Ed25519
 * signature over
 *   "newchat req v2\n" METHOD "\n" TARGET "\n" TIME "\n" hex(NONCE) "\n"
 *   hex(BLAKE2b-256(body)) "\n".
 * The nonce makes every request unique, so the relay refuses any request it
 * has seen (GETs too) and the time only has to be near the relay's clock:
 * a client never needs a time of its own making (protocol.md 1.3). */
#ifndef NC_REQSIG_H
#define NC_REQSIG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NC_REQSIG_WINDOW 300      /* seconds either side of the relay's clock */
#define NC_REQSIG_TARGET_MAX 2048 /* longest request target signed or checked */
#define NC_REQSIG_NONCE_LEN 16

#define NC_HDR_DEVICE "X-NC-Device"
#define NC_HDR_TIME "X-NC-Time"
#define NC_HDR_NONCE "X-NC-Nonce"
#define NC_HDR_SIG "X-NC-Signature"

/* The relay's 401 reason for a time outside the window; a client that
 * reads it compares its clock with the response's Date header. */
#define NC_REQSIG_STALE "request time outside the window"

/* Header values, NUL-terminated, as a client sends them. */
typedef struct {
	char device[33];
	char time[21];
	char nonce[2 * NC_REQSIG_NONCE_LEN + 1];
	char sig[129];
} nc_reqsig_hdrs;

/* Parsed header values, as a relay checks them. */
typedef struct {
	uint8_t dev[16];
	int64_t time;
	uint8_t nonce[NC_REQSIG_NONCE_LEN];
	uint8_t sig[64];
} nc_reqsig;

/* The canonical string for method, target (path and query as sent), time,
 * nonce and body. */
int nc_reqsig_canon(nc_buf *out, const char *method, const char *target,
    int64_t time, const uint8_t nonce[NC_REQSIG_NONCE_LEN], const void *body,
    size_t n) __attribute__((warn_unused_result));

/* Client: fill h for a request signed with the device's Ed25519 secret key
 * (libsodium's 64-byte form, public key in its second half) at time now,
 * with a new random nonce. */
int nc_reqsig_sign(nc_reqsig_hdrs *h, const uint8_t sk[64], const char *method,
    const char *target, int64_t now, const void *body, size_t n)
	__attribute__((warn_unused_result));

/* Relay: parse the four header values strictly (any may be NULL: missing).
 * 0 or NC_EPERM with a reason. */
int nc_reqsig_parse(nc_reqsig *r, const char *device, const char *time,
    const char *nonce, const char *sig) __attribute__((warn_unused_result));

/* Relay: 0 if r->time is within the window around now and r->sig is the
 * device key pk's signature of this request; NC_EPERM otherwise (the
 * reason NC_REQSIG_STALE for the time). Replays inside the window are the
 * caller's to refuse: it keeps the (device, nonce) pairs it has seen. */
int nc_reqsig_verify(const nc_reqsig *r, const uint8_t pk[32],
    const char *method, const char *target, const void *body, size_t n,
    int64_t now) __attribute__((warn_unused_result));

#endif
