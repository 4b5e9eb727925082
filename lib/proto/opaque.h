/* opaque.h - OPAQUE-3DH (RFC 9807) with OPRF ristretto255-SHA512, group
 * ristretto255, HKDF-SHA512, HMAC-SHA512, SHA-512 (Nh = Nm = Nx = 64,
 * Npk = Nsk = Nok = Nn = Nseed = 32), the key-stretching function Argon2id
 * (or the identity, for the RFC's vectors). Pure: the messages in and out,
 * randomness from nc_random (rng.h) in the order the RFC draws it.
 *
 *   registration   client: nc_opaque_reg_start -> request (32)
 *                  server: nc_opaque_reg_respond -> response (64)
 *                  client: nc_opaque_reg_finish -> record (192), export key
 *   login          client: nc_opaque_ke1 -> KE1 (96)
 *                  server: nc_opaque_ke2 (record, or NULL: a fake one) -> KE2 (320)
 *                  client: nc_opaque_ke3 -> KE3 (64), session key, export key
 *                  server: nc_opaque_server_finish(KE3) -> session key
 *
 * Every function returns 0, NC_EDATA (a message that does not decode: bad
 * length or group element), or NC_EPERM (authentication failed: the
 * password, or a server that is not the one registered with), with
 * nc_fail set. */
#ifndef NC_OPAQUE_H
#define NC_OPAQUE_H

#include <stddef.h>
#include <stdint.h>

#define NC_OPAQUE_REQUEST 32
#define NC_OPAQUE_RESPONSE 64
#define NC_OPAQUE_ENVELOPE 96     /* nonce || auth tag */
#define NC_OPAQUE_RECORD 192      /* client pk || masking key || envelope */
#define NC_OPAQUE_KE1 96          /* blinded || client nonce || client keyshare */
#define NC_OPAQUE_KE2 320         /* evaluated || masking nonce || masked (pk || envelope)
                                     || server nonce || server keyshare || server MAC */
#define NC_OPAQUE_KE3 64
#define NC_OPAQUE_KEY 64          /* export and session keys */
#define NC_OPAQUE_SEED 64         /* the server's OPRF seed */

/* Who the parties are, bound into the envelope and the transcript. A NULL
 * identity stands for that party's public key (the RFC's default). */
struct nc_opaque_ids {
	const uint8_t *context;
	size_t context_len;
	const uint8_t *client, *server;
	size_t client_len, server_len;
};

/* Key stretching: Argon2id(password = OPRF output, salt = 16 zero bytes,
 * 64 bytes out) at ops/mem; ops == 0 is the identity (test vectors). */
struct nc_opaque_ksf {
	unsigned long long ops;
	size_t mem;
};

/* The client between its two messages. Secret: wipe it after use. */
struct nc_opaque_client {
	uint8_t blind[32];
	uint8_t keyshare_sk[32];
	uint8_t ke1[NC_OPAQUE_KE1];
	/* after nc_opaque_ke3 or _reg_finish: what the RFC calls intermediates */
	uint8_t randomized_pw[64], masking_key[64], auth_key[64];
	uint8_t client_sk[32], client_pk[32], server_pk[32];
	uint8_t handshake_secret[64], km2[64], km3[64];
};

/* The server between KE2 and KE3. Secret: wipe it after use. */
struct nc_opaque_server {
	uint8_t oprf_key[32];
	uint8_t expected_ke3[NC_OPAQUE_KE3];
	uint8_t session_key[NC_OPAQUE_KEY];
	uint8_t handshake_secret[64], km2[64], km3[64];
};

/* The server's long-term AKE key pair from a 32-byte seed. */
int nc_opaque_server_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t seed[32])
	__attribute__((warn_unused_result));

int nc_opaque_reg_start(struct nc_opaque_client *c, uint8_t request[NC_OPAQUE_REQUEST],
    const uint8_t *pw, size_t pwlen) __attribute__((warn_unused_result));
int nc_opaque_reg_respond(uint8_t response[NC_OPAQUE_RESPONSE],
    const uint8_t request[NC_OPAQUE_REQUEST], const uint8_t server_pk[32],
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t oprf_seed[NC_OPAQUE_SEED])
	__attribute__((warn_unused_result));
int nc_opaque_reg_finish(struct nc_opaque_client *c, uint8_t record[NC_OPAQUE_RECORD],
    uint8_t export_key[NC_OPAQUE_KEY], const uint8_t *pw, size_t pwlen,
    const uint8_t response[NC_OPAQUE_RESPONSE], const struct nc_opaque_ids *ids,
    const struct nc_opaque_ksf *ksf) __attribute__((warn_unused_result));

int nc_opaque_ke1(struct nc_opaque_client *c, uint8_t ke1[NC_OPAQUE_KE1],
    const uint8_t *pw, size_t pwlen) __attribute__((warn_unused_result));
/* For a user that does not exist, give a fake record (below) and the
 * answer is indistinguishable from a real one (RFC 9807 10.9). */
int nc_opaque_ke2(struct nc_opaque_server *s, uint8_t ke2[NC_OPAQUE_KE2],
    const struct nc_opaque_ids *ids, const uint8_t server_sk[32],
    const uint8_t server_pk[32], const uint8_t record[NC_OPAQUE_RECORD],
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t oprf_seed[NC_OPAQUE_SEED],
    const uint8_t ke1[NC_OPAQUE_KE1]) __attribute__((warn_unused_result));
/* The server's public key it recovered is left in c->server_pk: the
 * caller compares it with the one it pinned. */
int nc_opaque_ke3(struct nc_opaque_client *c, uint8_t ke3[NC_OPAQUE_KE3],
    uint8_t session_key[NC_OPAQUE_KEY], uint8_t export_key[NC_OPAQUE_KEY],
    const uint8_t *pw, size_t pwlen, const uint8_t ke2[NC_OPAQUE_KE2],
    const struct nc_opaque_ids *ids, const struct nc_opaque_ksf *ksf)
	__attribute__((warn_unused_result));
int nc_opaque_server_finish(const struct nc_opaque_server *s,
    uint8_t session_key[NC_OPAQUE_KEY], const uint8_t ke3[NC_OPAQUE_KE3])
	__attribute__((warn_unused_result));

/* A fake record: the public key of a random key pair, a random masking
 * key, an all-zero envelope. */
void nc_opaque_fake_record(uint8_t record[NC_OPAQUE_RECORD]);

#endif
