/* idbackup.h - the identity-key backup (protocol.md 2.10): the user
 * identity key sealed under a key derived from the password-derived backup
 * key, so a new device that knows the password can take the identity key
 * from the relay, and the relay, which never learns the backup key, cannot
 * read it. */
#ifndef NC_IDBACKUP_H
#define NC_IDBACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keys.h"

#define NC_KT_IDBACKUP 0x86
/* u8 version (1 or 2), u8 0x86, fixed[32] identity, fixed[24] nonce, fixed[48] ct */
#define NC_IDBACKUP_LEN (2 + 32 + 24 + 32 + 16)
#define NC_IDBACKUP_LABEL "newchat idkey backup v1"
#define NC_IDBACKUP_LABEL_V2 "newchat idkey backup v2"

typedef struct {
	int version;            /* 1: Argon2id backup key; 2: OPAQUE export key */
	uint8_t identity[32];   /* the identity public key it claims to hold */
	uint8_t nonce[24];
	uint8_t ct[48];         /* the Ed25519 seed, sealed */
} nc_idbackup;

/* Strict decode (size, version, type); no key needed. 0 or NC_EDATA. */
int nc_idbackup_decode(nc_idbackup *b, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Append the backup of id for addr ("user@domain"), sealed under
 * backup_key (the last 32 bytes of nc_account_derive), with a fresh
 * nonce. */
int nc_idbackup_seal(nc_buf *out, const uint8_t backup_key[32],
    const char *addr, const nc_idkey *id) __attribute__((warn_unused_result));

/* Version 2: sealed under a key derived (label "newchat idkey backup
 * v2") from the OPAQUE export key; what every account uses now. */
int nc_idbackup_seal_export(nc_buf *out, const uint8_t export_key[64],
    const char *addr, const nc_idkey *id) __attribute__((warn_unused_result));
int nc_idbackup_open_export(nc_idkey **out, const uint8_t export_key[64],
    const char *addr, const uint8_t *p, size_t n) __attribute__((warn_unused_result));

/* Open a backup (version 1) of addr: NC_EDATA malformed, NC_ESECURITY it does not
 * authenticate (other key, other user, tampered) or holds a key whose
 * public half is not the identity it names. *out: sodium_malloc'd. */
int nc_idbackup_open(nc_idkey **out, const uint8_t backup_key[32],
    const char *addr, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

#endif
