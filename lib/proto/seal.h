/* seal.h - sealed sender (protocol.md 2.6), in the manner of Signal's
 * sealed sender v1: the sender's certificate and the ratchet message are
 * encrypted to the recipient device's X25519 identity key; an ephemeral
 * DH hides the sender's static key, a static-static DH proves it. The
 * envelope id and recipient device id are bound as associated data. */
#ifndef NC_SEAL_H
#define NC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keys.h"
#include "x3dh.h"

#define NC_SEALED_MAX (256u << 10)

/* The sender certificate: the sender device as its user's device list
 * (of version devlist_version) certifies it. The receiver checks it
 * against the list it trusts (nc_cert_check). */
typedef struct {
	nc_party who;               /* user, identity key, device id, keys */
	uint64_t devlist_version;
} nc_cert;

typedef struct {
	nc_cert cert;               /* verified: who.dh_pk proved by the static DH */
	int prekey;                 /* 1: a prekey message, hdr valid */
	nc_x3dh_hdr hdr;
	const uint8_t *msg;         /* the ratchet message, inside the opened buffer */
	size_t msglen;
} nc_unsealed;

/* Seal: appends the sealed blob to out. hdr: NULL for a plain ratchet
 * message, the X3DH header for a prekey message. */
int nc_seal(nc_buf *out, const nc_device *self, const nc_cert *cert,
    const uint8_t envid[16], const uint8_t rcpt_dev[NC_DEVID_LEN],
    const uint8_t rcpt_dh[32], const nc_x3dh_hdr *hdr,
    const uint8_t *msg, size_t msglen) __attribute__((warn_unused_result));

/* From begin to end, the envelopes d seals share one ephemeral key (a
 * fresh one after every 1,000), as the recipients of Signal's
 * multi-recipient sealed sender share one: an X25519 an envelope instead
 * of two. A recipient key met before in the span gets an ephemeral of its
 * own (protocol.md 2.6). For one distribution to many devices, whose
 * envelopes travel together anyway (a group's sender key, 3.5); never for
 * a long-running process, whose envelopes it would link. begin: 0 or
 * NC_EOSERR; end wipes it (and is harmless without a begin). */
int nc_seal_share_begin(nc_device *d) __attribute__((warn_unused_result));
void nc_seal_share_end(nc_device *d);

/* Open: `buf` (wiped by the caller after use) receives the plaintext the
 * result's pointers point into. 0, NC_EDATA or NC_ESECURITY. The caller
 * must still check u->cert against the sender's trusted device list. */
int nc_unseal(nc_unsealed *u, nc_buf *buf, const nc_device *self,
    const uint8_t envid[16], const uint8_t *sealed, size_t n)
	__attribute__((warn_unused_result));

/* 0 if cert names a device of list l (same user, identity key, device id,
 * signing and DH keys); if the device is not in l but the certificate
 * names a newer list version, NC_ETEMP (refetch the list, check again);
 * else NC_ESECURITY. l must already be verified and trusted. */
int nc_cert_check(const nc_cert *cert, const nc_devlist *l)
	__attribute__((warn_unused_result));

#endif
