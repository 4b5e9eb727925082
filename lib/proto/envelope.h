/* envelope.h - the outer envelope the relay stores (protocol.md 2.7):
 * u8 version, fixed[16] envelope id, fixed[16] recipient device id, bytes
 * sealed blob; and the whole send/receive path over a session. */
#ifndef NC_ENVELOPE_H
#define NC_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keys.h"
#include "payload.h"
#include "ratchet.h"
#include "seal.h"

#define NC_ENVELOPE_MAX (256 * 1024)   /* the relay's limit; spelled as in relaymsg.h */

typedef struct {
	uint8_t id[16];
	uint8_t rcpt[NC_DEVID_LEN];
	const uint8_t *sealed;   /* into the decoded bytes */
	size_t sealedlen;
} nc_envelope;

int nc_envelope_encode(nc_buf *out, const uint8_t id[16],
    const uint8_t rcpt[NC_DEVID_LEN], const uint8_t *sealed, size_t n)
	__attribute__((warn_unused_result));
int nc_envelope_decode(nc_envelope *e, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Send path: encrypt pl with st (advancing it: commit st before sending
 * out), seal it for the recipient device and encode the envelope with a
 * fresh random envelope id (returned in envid). */
int nc_envelope_make(nc_buf *out, uint8_t envid[16], nc_ratchet *st,
    const nc_device *self, const nc_cert *cert,
    const uint8_t rcpt_dev[NC_DEVID_LEN], const uint8_t rcpt_dh[32],
    const nc_payload *pl) __attribute__((warn_unused_result));

/* Receive, step 1: decode, check the recipient is self, unseal. The caller
 * then checks u->cert against the sender's device list, finds (or, for a
 * prekey message, creates with nc_x3dh_respond + nc_ratchet_init_responder)
 * the session, and calls step 2. */
int nc_envelope_open(nc_unsealed *u, nc_buf *buf, uint8_t envid[16],
    const nc_device *self, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Receive, step 2: decrypt u->msg with st and decode the payload into pl
 * (pointing into ptbuf). st changes only if everything succeeded. */
int nc_envelope_decrypt(nc_payload *pl, nc_buf *ptbuf, nc_ratchet *st,
    const nc_unsealed *u) __attribute__((warn_unused_result));

#endif
