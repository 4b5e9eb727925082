/* x3dh.h - Signal's X3DH key agreement between two devices (protocol.md
 * 2.3): the initiator uses the responder's prekey bundle (signed prekey,
 * optional one-time prekey); both derive the same 32-byte secret SK and a
 * 32-byte associated data AD that binds both users, both user identity
 * keys, both device ids and both device DH keys. */
#ifndef NC_X3DH_H
#define NC_X3DH_H

#include <stdint.h>

#include "devlist.h"
#include "keys.h"

/* One side of a session, as certified by that user's device list. */
typedef struct {
	char user[NC_ADDR_MAX + 1];   /* user@domain */
	uint8_t identity[32];         /* user identity key (Ed25519) */
	uint8_t dev[NC_DEVID_LEN];    /* device id */
	uint8_t sign_pk[32];          /* device signing key (Ed25519) */
	uint8_t dh_pk[32];            /* device identity key (X25519) */
} nc_party;

/* A prekey bundle as claimed from the relay (protocol.md 1.5). */
typedef struct {
	uint32_t spk_id;
	uint8_t spk_pk[32];
	uint8_t spk_sig[64];
	int has_otpk;
	uint32_t otpk_id;
	uint8_t otpk_pk[32];
} nc_bundle;

/* What the initiator sends in its prekey messages (the X3DH header). */
typedef struct {
	uint8_t ek[32];       /* initiator's ephemeral X25519 public key */
	uint32_t spk_id;
	int has_otpk;
	uint32_t otpk_id;
} nc_x3dh_hdr;

/* sk is secret: sodium_memzero the whole struct once the session has
 * been started from it (nc_ratchet_init_*). */
typedef struct {
	uint8_t sk[32];       /* shared secret: the first root key */
	uint8_t ad[32];       /* session associated data */
	nc_x3dh_hdr hdr;
	uint8_t spk_pk[32];   /* responder's signed prekey: initial ratchet key */
} nc_x3dh_out;

/* Initiator: verify the bundle's signed-prekey signature with
 * peer->sign_pk, pick an ephemeral key, derive SK and AD. 0, NC_ESECURITY
 * (bad signature, low-order key) or NC_EDATA. */
int nc_x3dh_initiate(nc_x3dh_out *out, const nc_party *self,
    const nc_device *self_dev, const nc_party *peer, const nc_bundle *b)
	__attribute__((warn_unused_result));

/* Responder: given the header of a prekey message from `peer` and the
 * signed prekey (and one-time prekey, or NULL, when hdr->has_otpk) it
 * names, derive the same SK and AD. The caller must refuse a header whose
 * nc_x3dh_replay_tag it has seen before (without a one-time prekey the
 * first message is otherwise replayable), and delete the one-time prekey. */
int nc_x3dh_respond(nc_x3dh_out *out, const nc_party *self,
    const nc_device *self_dev, const nc_spk *spk, const nc_otpk *otpk,
    const nc_party *peer, const nc_x3dh_hdr *hdr)
	__attribute__((warn_unused_result));

/* BLAKE2b-256("newchat x3dh replay v1" 0x00 || u32 spk_id || ek): store
 * these for as long as the signed prekey is accepted. */
void nc_x3dh_replay_tag(uint8_t tag[32], uint32_t spk_id, const uint8_t ek[32]);

/* X25519 that fails (NC_ESECURITY) on an all-zero result: a low-order or
 * otherwise degenerate public key. Used for every DH in the protocol. */
int nc_dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
	__attribute__((warn_unused_result));

#endif
