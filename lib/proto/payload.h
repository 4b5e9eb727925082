/* payload.h - the typed plaintext a ratchet message carries (protocol.md
 * 2.5): text, receipt or control, with a message id and the sender's time. */
#ifndef NC_PAYLOAD_H
#define NC_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "devlist.h"

/* SENT: a copy of a text we sent, for our own other devices. FILES: a
 * text with attachments (body: media.h's attachment payload); SENT_FILES:
 * its copy (a SENT body whose text is a FILES body). */
enum { NC_PL_TEXT = 1, NC_PL_RECEIPT = 2, NC_PL_CONTROL = 3, NC_PL_SENT = 4,
	NC_PL_FILES = 5, NC_PL_SENT_FILES = 6 };
/* GROUP: group traffic (lib/proto/groupmsg.h, protocol.md 3.5). */
#define NC_PL_GROUP 8

#define NC_PL_BODY_MAX (128u << 10)   /* 128 KiB */
#define NC_PL_ACKS_MAX 500            /* message ids in one receipt */

/* Gossip (protocol.md 2.5, issue 19 item 4): up to two tree heads of key
 * logs the sender holds, each with the domain whose log signed it; the
 * head is kt.h's 112-byte encoding (NC_KT_HEAD_LEN), checked by the
 * receiver against that domain's pinned log key (lib/app/keylog.c). */
#define NC_PL_GOSSIP_MAX 2
#define NC_PL_HEAD_LEN 112
typedef struct {
	char domain[NC_DOMAIN_MAX + 1];
	uint8_t head[NC_PL_HEAD_LEN];
} nc_pl_gossip;

typedef struct {
	int type;
	uint8_t id[16];          /* random message id */
	uint64_t time;           /* sender's clock, unix seconds */
	const uint8_t *body;     /* points into the decoded bytes */
	size_t bodylen;
	uint16_t nacks;          /* receipts only; 0 otherwise */
	const uint8_t *acks;     /* nacks x 16 bytes */
	uint8_t ngossip;         /* 0..NC_PL_GOSSIP_MAX: nothing on the wire if 0 */
	nc_pl_gossip gossip[NC_PL_GOSSIP_MAX];
} nc_payload;
/* The tail of a positional initializer: no gossip. */
#define NC_PL_NOGOSSIP 0, { { "", { 0 } }, { "", { 0 } } }

int nc_payload_encode(const nc_payload *pl, nc_buf *out) __attribute__((warn_unused_result));
/* Strict; pl's pointers point into p. */
int nc_payload_decode(nc_payload *pl, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* The body of a SENT payload: u16 nto (1..64), nto x str to, bytes text. */
#define NC_PL_TO_MAX 64
typedef struct {
	uint16_t nto;
	char to[NC_PL_TO_MAX][NC_ADDR_MAX + 1];
	const uint8_t *text;     /* points into the decoded bytes */
	size_t textlen;
} nc_sent;

int nc_sent_encode(nc_buf *out, const char *const *to, size_t nto,
    const uint8_t *text, size_t n) __attribute__((warn_unused_result));
/* Strict: every `to` a valid user@domain, nothing left over. */
int nc_sent_decode(nc_sent *sc, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* The body of a CONTROL payload: u8 1, u8 kind, then for kind 2 (could
 * not decrypt) u16 n (1..NC_PL_ACKS_MAX), n x fixed[16] envelope ids.
 * Kind 1 (device added) has nothing more. */
enum { NC_CTL_DEVICE_ADDED = 1, NC_CTL_UNREAD = 2, NC_CTL_DEVICE_REVOKED = 3 };
typedef struct {
	int kind;
	uint16_t n;              /* kind 2: envelope ids */
	const uint8_t *envids;   /* n x 16 bytes, into the decoded bytes */
} nc_control;

int nc_control_encode(nc_buf *out, int kind, const uint8_t *envids,
    uint16_t n) __attribute__((warn_unused_result));
/* Strict: a known kind, nothing left over. */
int nc_control_decode(nc_control *c, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Padme (with a 256-byte minimum): the padded size for n bytes. */
size_t nc_padme(size_t n);

#endif
