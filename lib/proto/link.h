/* link.h - linking a new device by a one-time code (protocol.md 2.14):
 * the code the new device shows (its ephemeral X25519 key and its relay's
 * domain, base32 in groups), the provisioning box at the relay named by
 * that key's hash, and the link message an existing device seals to the
 * key: the identity key, the user's devices' names, contacts with their
 * trust state, bounded history. */
#ifndef NC_LINK_H
#define NC_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "devlist.h"

#define NC_LINK_CODE_MAX 600          /* characters of a code, separators too */
#define NC_LINK_BOX_LEN 16
#define NC_LINK_TTL 600               /* seconds a code and its box live */
#define NC_LINK_BODY_MAX 8000000u     /* a sealed link message, at most */
#define NC_LINK_MSG_BODY_MAX (256u * 1024)   /* one history message's text */
#define NC_LINK_CONTACTS_MAX 10000
#define NC_LINK_MSGS_MAX 100000
#define NC_LINK_NAME_MAX 64

typedef struct {
	uint8_t pk[32];                   /* the new device's ephemeral key */
	char domain[NC_DOMAIN_MAX + 1];   /* its user's relay */
} nc_link_code;

/* The code as typed: base32 (RFC 4648, lower case, no padding) of u8 1,
 * fixed[32] pk, u8 n, n bytes of domain, fixed[2] check, in groups of four
 * joined by '-'. */
int nc_link_code_encode(const nc_link_code *c, char *out, size_t max)
	__attribute__((warn_unused_result));
/* Strict: letters of the alphabet in either case, '-' and spaces between
 * them (ignored), a valid domain, a matching check; NC_EDATA otherwise
 * (a typo is caught by the check). */
int nc_link_code_decode(nc_link_code *c, const char *s)
	__attribute__((warn_unused_result));

/* The provisioning box: BLAKE2b-128 keyed by nothing of
 * "newchat link box v1" 0x00 || pk. The relay learns the box, never pk. */
void nc_link_box(uint8_t box[NC_LINK_BOX_LEN], const uint8_t pk[32]);

/* The link message, as the callbacks of nc_link_decode see it. */
typedef struct {
	uint8_t id[NC_DEVID_LEN];
	char name[NC_LINK_NAME_MAX + 1];
	uint64_t added;
} nc_link_dev;

typedef struct {
	const uint8_t *list;      /* a signed device list (2.1), as pinned */
	size_t listlen;
	const uint8_t *pending;   /* a changed key's list awaiting trust, or NULL */
	size_t pendlen;
	uint8_t verified;         /* the safety number was compared */
	uint32_t changed;         /* keys offered since the pin */
	uint64_t first_seen;
} nc_link_contact;

typedef struct {
	char id[33];              /* message id, 32 hex */
	uint8_t dir;              /* 0 received, 1 sent */
	char peer[NC_ADDR_MAX + 1];
	char dev[33];             /* sending device (hex), "" */
	uint64_t time;
	const uint8_t *body;      /* UTF-8 text, or (files) an attachment payload */
	size_t bodylen;
	char status[17];
	uint8_t files;            /* body: the links and text (media.h) */
} nc_link_hist;

typedef struct {
	uint8_t box[NC_LINK_BOX_LEN];   /* the code it was made for */
	char user[NC_ADDR_MAX + 1];
	uint64_t time;                  /* made at (unix seconds) */
	const uint8_t *idkey;           /* nc_idkey_encode's bytes (secret) */
	size_t idkeylen;
	uint16_t ndev;
	nc_link_dev dev[NC_DEVLIST_MAX];
	uint32_t ncontact, nhist;
} nc_link_msg;

/* Encoding in three parts, counts first: the head, then each contact and
 * history entry appended (to separate buffers) while counting, then
 * nc_link_encode joins them. */
int nc_link_put_contact(nc_buf *b, const nc_link_contact *c)
	__attribute__((warn_unused_result));
int nc_link_put_hist(nc_buf *b, const nc_link_hist *h)
	__attribute__((warn_unused_result));
int nc_link_encode(nc_buf *out, const nc_link_msg *m, const nc_buf *contacts,
    const nc_buf *hist) __attribute__((warn_unused_result));

/* Strict decode of plaintext p: m's fields, and each contact and history
 * entry to the callbacks (NULL: only checked). A callback's non-zero
 * return stops the decode and is returned. Pointers point into p. */
int nc_link_decode(nc_link_msg *m, const uint8_t *p, size_t n,
    int (*contact)(void *, const nc_link_contact *),
    int (*hist)(void *, const nc_link_hist *), void *ctx)
	__attribute__((warn_unused_result));

/* The sealed form: u8 1, crypto_box_seal(pt) to the code's key. */
int nc_link_seal(nc_buf *out, const uint8_t pk[32], const nc_buf *pt)
	__attribute__((warn_unused_result));
/* NC_ESECURITY when it does not open with sk (not made for this code);
 * NC_EDATA when malformed. pt: a secret buffer. */
int nc_link_open(nc_buf *pt, const uint8_t pk[32], const uint8_t sk[32],
    const uint8_t *p, size_t n) __attribute__((warn_unused_result));

#endif
