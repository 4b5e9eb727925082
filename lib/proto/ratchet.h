/* ratchet.h - Signal's Double Ratchet, as DESIGN.md 2 fixes it
 * (protocol.md 2.4): KDF_RK = HKDF-SHA256, KDF_CK = HMAC-SHA256 with
 * 0x01/0x02, XChaCha20-Poly1305 with a random nonce, AD = session AD ||
 * header. In-memory only: the caller stores nc_ratchet_save()'s bytes.
 *
 * Commit rules for callers:
 * - nc_ratchet_encrypt advances the sending chain: save and commit the new
 *   state BEFORE the ciphertext leaves the process (no key used twice).
 * - nc_ratchet_decrypt changes the state only on success; on any failure
 *   the state is byte-for-byte unchanged. Commit the new state together
 *   with the plaintext in one transaction. */
#ifndef NC_RATCHET_H
#define NC_RATCHET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "x3dh.h"

#define NC_MAX_SKIP 1000          /* skipped message keys per chain */
#define NC_MAX_SKIP_TOTAL 2000    /* skipped message keys held in all */
#define NC_SKIP_EXPIRE_STEPS 100  /* receiving DH steps a skipped key lives */

#define NC_RATCHET_HDR_LEN 42     /* u8 1, u8 0x30, dh, u32 pn, u32 n */
#define NC_RATCHET_OVERHEAD (NC_RATCHET_HDR_LEN + 24 + 4 + 16)
#define NC_RATCHET_PT_MAX (1u << 20)

typedef struct nc_ratchet nc_ratchet;

/* Start a session from X3DH output: the initiator performs the first DH
 * ratchet step towards the responder's signed prekey and remembers the
 * X3DH header (sent with every message until the peer answers); the
 * responder starts from its signed prekey (spk_sk). NULL on failure. */
nc_ratchet *nc_ratchet_init_initiator(const nc_x3dh_out *x);
nc_ratchet *nc_ratchet_init_responder(const nc_x3dh_out *x, const nc_spk *spk);
void nc_ratchet_free(nc_ratchet *st);
/* dst := src (both allocated); on failure dst is unchanged. */
int nc_ratchet_copy(nc_ratchet *dst, const nc_ratchet *src)
	__attribute__((warn_unused_result));

/* Encrypt pt into a ratchet message appended to out. */
int nc_ratchet_encrypt(nc_ratchet *st, nc_buf *out, const uint8_t *pt, size_t n)
	__attribute__((warn_unused_result));
/* Decrypt a ratchet message; plaintext appended to out (wipe it after
 * use; see nc_ratchet_save). 0, NC_EDATA (malformed), NC_ESECURITY
 * (forged, replayed, too many skipped). */
int nc_ratchet_decrypt(nc_ratchet *st, nc_buf *out, const uint8_t *msg, size_t n)
	__attribute__((warn_unused_result));

/* As nc_ratchet_decrypt, but the plaintext must also pass accept(pt, n,
 * arg) == 0 (e.g. a strict payload decode) before anything is committed;
 * accept's error is returned otherwise. */
int nc_ratchet_decrypt_if(nc_ratchet *st, nc_buf *out, const uint8_t *msg,
    size_t n, int (*accept)(const uint8_t *pt, size_t n, void *arg), void *arg)
	__attribute__((warn_unused_result));

/* 1 while the session was initiated here and no message from the peer has
 * been decrypted yet: every message must travel as a prekey message with
 * this header. */
int nc_ratchet_pending(const nc_ratchet *st, nc_x3dh_hdr *hdr);
/* Sequence integrity (DESIGN.md 2): messages known to be missing (the
 * peer's counters show it sent them; their keys wait in the skipped store)
 * whose gap opened at least min_steps receiving DH steps ago, and messages
 * given up for good (their keys expired or were evicted). Report both to
 * the user; neither is ever silently ignored. */
uint32_t nc_ratchet_missing(const nc_ratchet *st, uint32_t min_steps);
uint32_t nc_ratchet_lost(const nc_ratchet *st);
/* The i-th missing message, oldest first (i < nc_ratchet_missing(st, 0)):
 * a stable id, BLAKE2b-128(ratchet key || u32 n) of its header, so a gap
 * is reported once, and its age in receiving DH steps. 0, or -1 past the
 * end. */
int nc_ratchet_missing_at(const nc_ratchet *st, uint32_t i, uint8_t id[16],
    uint32_t *age);

/* The session associated data (from X3DH). */
const uint8_t *nc_ratchet_ad(const nc_ratchet *st);

/* Versioned, strict serialization of the whole state. It holds secrets:
 * use a secret nc_buf, or a plain one wiped after use (written in one
 * reservation, so no copy is left behind; a secret nc_buf costs a
 * sodium_malloc, ~0.4 ms per call on the project machine). */
int nc_ratchet_save(const nc_ratchet *st, nc_buf *out) __attribute__((warn_unused_result));
nc_ratchet *nc_ratchet_load(const uint8_t *p, size_t n);   /* NULL: nc_errmsg */

#endif
