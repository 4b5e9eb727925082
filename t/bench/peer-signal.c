/* peer-signal.c - the same two patterns over libsignal-protocol-c's
 * session cipher (bench only; -lsignal-protocol-c, and OpenSSL's libcrypto
 * for the AES-CBC its messages use). Sessions are set up with its own
 * ratcheting_session_*_initialize (X3DH excluded from the timing, as for
 * the other sides); its session store is in memory. Prints "name value".
 * "peer-signal group N": its group cipher instead (t/bench/groupmsg.sh):
 * a sender key made with group_session_builder_create_session, its
 * distribution message processed by the other side, then N messages
 * encrypted and decrypted (the sender key records in memory), best of 5:
 * "signal_group msg/s". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <signal/curve.h>
#include <signal/group_cipher.h>
#include <signal/group_session_builder.h>
#include <signal/key_helper.h>
#include <signal/protocol.h>
#include <signal/ratchet.h>
#include <signal/session_cipher.h>
#include <signal/session_record.h>
#include <signal/session_state.h>
#include <signal/signal_protocol.h>
#include <sodium.h>

#define MSG 100
#define OK(x) do { if ((x) != 0) { fprintf(stderr, "signal: %s failed\n", #x); exit(1); } } while (0)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- crypto provider: libsodium for HMAC/SHA-512/random, libcrypto AES --- */

static int
p_random(uint8_t *d, size_t n, void *u)
{
	(void)u;
	randombytes_buf(d, n);
	return 0;
}

static int
p_hmac_init(void **ctx, const uint8_t *key, size_t n, void *u)
{
	crypto_auth_hmacsha256_state *s = malloc(sizeof *s);

	(void)u;
	if (s == NULL)
		return SG_ERR_NOMEM;
	crypto_auth_hmacsha256_init(s, key, n);
	*ctx = s;
	return 0;
}

static int
p_hmac_update(void *ctx, const uint8_t *d, size_t n, void *u)
{
	(void)u;
	return crypto_auth_hmacsha256_update(ctx, d, n);
}

static int
p_hmac_final(void *ctx, signal_buffer **out, void *u)
{
	uint8_t m[32];

	(void)u;
	crypto_auth_hmacsha256_final(ctx, m);
	*out = signal_buffer_create(m, sizeof m);
	return *out ? 0 : SG_ERR_NOMEM;
}

static void
p_free(void *ctx, void *u)
{
	(void)u;
	free(ctx);
}

static int
p_sha_init(void **ctx, void *u)
{
	crypto_hash_sha512_state *s = malloc(sizeof *s);

	(void)u;
	if (s == NULL)
		return SG_ERR_NOMEM;
	crypto_hash_sha512_init(s);
	*ctx = s;
	return 0;
}

static int
p_sha_update(void *ctx, const uint8_t *d, size_t n, void *u)
{
	(void)u;
	return crypto_hash_sha512_update(ctx, d, n);
}

static int
p_sha_final(void *ctx, signal_buffer **out, void *u)
{
	uint8_t h[64];

	(void)u;
	crypto_hash_sha512_final(ctx, h);
	crypto_hash_sha512_init(ctx);
	*out = signal_buffer_create(h, sizeof h);
	return *out ? 0 : SG_ERR_NOMEM;
}

static int
p_aes(signal_buffer **out, int cipher, const uint8_t *key, size_t kl,
    const uint8_t *iv, size_t ivl, const uint8_t *in, size_t n, int enc)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *x;
	uint8_t *buf;
	int l1 = 0, l2 = 0;

	(void)ivl;
	if (kl != 32)
		return SG_ERR_UNKNOWN;
	c = cipher == SG_CIPHER_AES_CBC_PKCS5 ? EVP_aes_256_cbc() : EVP_aes_256_ctr();
	if ((x = EVP_CIPHER_CTX_new()) == NULL || (buf = malloc(n + 32)) == NULL)
		return SG_ERR_NOMEM;
	if (EVP_CipherInit_ex(x, c, NULL, key, iv, enc) != 1 ||
	    EVP_CipherUpdate(x, buf, &l1, in, (int)n) != 1 ||
	    EVP_CipherFinal_ex(x, buf + l1, &l2) != 1) {
		EVP_CIPHER_CTX_free(x);
		free(buf);
		return SG_ERR_UNKNOWN;
	}
	EVP_CIPHER_CTX_free(x);
	*out = signal_buffer_create(buf, (size_t)(l1 + l2));
	free(buf);
	return *out ? 0 : SG_ERR_NOMEM;
}

static int
p_encrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t kl,
    const uint8_t *iv, size_t ivl, const uint8_t *in, size_t n, void *u)
{
	(void)u;
	return p_aes(out, cipher, key, kl, iv, ivl, in, n, 1);
}

static int
p_decrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t kl,
    const uint8_t *iv, size_t ivl, const uint8_t *in, size_t n, void *u)
{
	(void)u;
	return p_aes(out, cipher, key, kl, iv, ivl, in, n, 0);
}

/* --- one in-memory session store and trusting identity store per side --- */

typedef struct {
	signal_buffer *record;
	ratchet_identity_key_pair *id;
	signal_buffer *skey;           /* the sender key record */
} side;

static int
s_load(signal_buffer **rec, signal_buffer **user, const signal_protocol_address *a, void *u)
{
	side *s = u;

	(void)a;
	*user = NULL;
	if (s->record == NULL)
		return 0;
	*rec = signal_buffer_copy(s->record);
	return 1;
}

static int
s_store(const signal_protocol_address *a, uint8_t *rec, size_t n, uint8_t *ur,
    size_t ul, void *u)
{
	side *s = u;

	(void)a; (void)ur; (void)ul;
	signal_buffer_free(s->record);
	s->record = signal_buffer_create(rec, n);
	return 0;
}

static int
s_contains(const signal_protocol_address *a, void *u)
{
	(void)a;
	return ((side *)u)->record != NULL;
}

static int
s_sub(signal_int_list **l, const char *n, size_t nl, void *u)
{
	(void)l; (void)n; (void)nl; (void)u;
	return 0;
}

static int
s_del(const signal_protocol_address *a, void *u)
{
	(void)a; (void)u;
	return 0;
}

static int
s_delall(const char *n, size_t nl, void *u)
{
	(void)n; (void)nl; (void)u;
	return 0;
}

static int
i_pair(signal_buffer **pub, signal_buffer **priv, void *u)
{
	side *s = u;

	OK(ec_public_key_serialize(pub, ratchet_identity_key_pair_get_public(s->id)));
	OK(ec_private_key_serialize(priv, ratchet_identity_key_pair_get_private(s->id)));
	return 0;
}

static int
i_regid(void *u, uint32_t *id)
{
	(void)u;
	*id = 1;
	return 0;
}

static int
i_save(const signal_protocol_address *a, uint8_t *k, size_t n, void *u)
{
	(void)a; (void)k; (void)n; (void)u;
	return 0;
}

static int
i_trusted(const signal_protocol_address *a, uint8_t *k, size_t n, void *u)
{
	(void)a; (void)k; (void)n; (void)u;
	return 1;
}

static int
k_store(const signal_protocol_sender_key_name *nm, uint8_t *rec, size_t n,
    uint8_t *ur, size_t ul, void *u)
{
	side *s = u;

	(void)nm; (void)ur; (void)ul;
	signal_buffer_free(s->skey);
	s->skey = signal_buffer_create(rec, n);
	return 0;
}

static int
k_load(signal_buffer **rec, signal_buffer **user, const signal_protocol_sender_key_name *nm,
    void *u)
{
	side *s = u;

	(void)nm;
	*user = NULL;
	if (s->skey == NULL)
		return 0;
	*rec = signal_buffer_copy(s->skey);
	return 1;
}

static signal_context *ctx;
static uint8_t pt[MSG];

static signal_protocol_store_context *
store_for(side *s)
{
	signal_protocol_store_context *st;
	signal_protocol_session_store ss = { s_load, s_sub, s_store, s_contains,
	    s_del, s_delall, NULL, s };
	signal_protocol_identity_key_store is = { i_pair, i_regid, i_save,
	    i_trusted, NULL, s };
	signal_protocol_sender_key_store ks = { k_store, k_load, NULL, s };

	OK(signal_protocol_store_context_create(&st, ctx));
	OK(signal_protocol_store_context_set_session_store(st, &ss));
	OK(signal_protocol_store_context_set_identity_key_store(st, &is));
	OK(signal_protocol_store_context_set_sender_key_store(st, &ks));
	return st;
}

static side sa, sb;
static session_cipher *ca, *cb;
static signal_protocol_store_context *sta, *stb;

static void
setup(void)
{
	static const signal_protocol_address addr_b = { "bob", 3, 1 }, addr_a = { "alice", 5, 1 };
	ec_key_pair *base, *spk, *otpk;
	alice_signal_protocol_parameters *ap;
	bob_signal_protocol_parameters *bp;
	session_state *as, *bs;
	session_record *ar, *br;

	memset(&sa, 0, sizeof sa);
	memset(&sb, 0, sizeof sb);
	OK(signal_protocol_key_helper_generate_identity_key_pair(&sa.id, ctx));
	OK(signal_protocol_key_helper_generate_identity_key_pair(&sb.id, ctx));
	OK(curve_generate_key_pair(ctx, &base));
	OK(curve_generate_key_pair(ctx, &spk));
	OK(curve_generate_key_pair(ctx, &otpk));
	OK(alice_signal_protocol_parameters_create(&ap, sa.id, base,
	    ratchet_identity_key_pair_get_public(sb.id), ec_key_pair_get_public(spk),
	    ec_key_pair_get_public(otpk), ec_key_pair_get_public(spk)));
	OK(bob_signal_protocol_parameters_create(&bp, sb.id, spk, otpk, spk,
	    ratchet_identity_key_pair_get_public(sa.id), ec_key_pair_get_public(base)));
	OK(session_state_create(&as, ctx));
	OK(session_state_create(&bs, ctx));
	OK(ratcheting_session_alice_initialize(as, ap, ctx));
	OK(ratcheting_session_bob_initialize(bs, bp, ctx));
	OK(session_record_create(&ar, as, ctx));
	OK(session_record_create(&br, bs, ctx));
	sta = store_for(&sa);
	stb = store_for(&sb);
	OK(signal_protocol_session_store_session(sta, &addr_b, ar));
	OK(signal_protocol_session_store_session(stb, &addr_a, br));
	OK(session_cipher_create(&ca, sta, &addr_b, ctx));
	OK(session_cipher_create(&cb, stb, &addr_a, ctx));
}

static void
one(session_cipher *s, session_cipher *r)
{
	ciphertext_message *m;
	signal_message *sm;
	signal_buffer *ser, *out;

	OK(session_cipher_encrypt(s, pt, MSG, &m));
	ser = ciphertext_message_get_serialized(m);
	OK(signal_message_deserialize(&sm, signal_buffer_data(ser),
	    signal_buffer_len(ser), ctx));
	OK(session_cipher_decrypt_signal_message(r, sm, NULL, &out));
	if (signal_buffer_len(out) != MSG)
		abort();
	signal_buffer_free(out);
	SIGNAL_UNREF(sm);
	SIGNAL_UNREF(m);
}

static double
run(int alternating, int n)
{
	double t;

	setup();
	one(ca, cb);
	t = now();
	for (int i = 0; i < n; i++) {
		if (alternating && (i & 1))
			one(cb, ca);
		else
			one(ca, cb);
	}
	t = now() - t;
	session_cipher_free(ca);
	session_cipher_free(cb);
	return n / t;
}

/* n group messages from a's sender key to b, after the distribution. */
static double
group(int n)
{
	static const signal_protocol_sender_key_name name = { "bench", 5, { "alice", 5, 1 } };
	group_session_builder *ba, *bb;
	sender_key_distribution_message *dist, *got;
	group_cipher *ga, *gb;
	ciphertext_message *m;
	sender_key_message *km;
	signal_buffer *ser, *out;
	double t;

	setup();
	OK(group_session_builder_create(&ba, sta, ctx));
	OK(group_session_builder_create(&bb, stb, ctx));
	OK(group_session_builder_create_session(ba, &dist, &name));
	ser = ciphertext_message_get_serialized((ciphertext_message *)dist);
	OK(sender_key_distribution_message_deserialize(&got, signal_buffer_data(ser),
	    signal_buffer_len(ser), ctx));
	OK(group_session_builder_process_session(bb, &name, got));
	OK(group_cipher_create(&ga, sta, &name, ctx));
	OK(group_cipher_create(&gb, stb, &name, ctx));
	t = now();
	for (int i = 0; i < n; i++) {
		OK(group_cipher_encrypt(ga, pt, MSG, &m));
		ser = ciphertext_message_get_serialized(m);
		OK(sender_key_message_deserialize(&km, signal_buffer_data(ser),
		    signal_buffer_len(ser), ctx));
		OK(group_cipher_decrypt(gb, km, NULL, &out));
		if (signal_buffer_len(out) != MSG)
			abort();
		signal_buffer_free(out);
		SIGNAL_UNREF(km);
		SIGNAL_UNREF(m);
	}
	t = now() - t;
	group_cipher_free(ga);
	group_cipher_free(gb);
	group_session_builder_free(ba);
	group_session_builder_free(bb);
	SIGNAL_UNREF(dist);
	SIGNAL_UNREF(got);
	session_cipher_free(ca);
	session_cipher_free(cb);
	return n / t;
}

int
main(int argc, char **argv)
{
	int alt = argc > 1 ? atoi(argv[1]) : 1000;
	double a = 0, b = 0, x;
	signal_crypto_provider p = { p_random, p_hmac_init, p_hmac_update,
	    p_hmac_final, p_free, p_sha_init, p_sha_update, p_sha_final, p_free,
	    p_encrypt, p_decrypt, NULL };

	if (sodium_init() < 0)
		return 2;
	OK(signal_context_create(&ctx, NULL));
	OK(signal_context_set_crypto_provider(ctx, &p));
	memset(pt, 'm', sizeof pt);
	if (argc > 2 && strcmp(argv[1], "group") == 0) {
		for (int r = 0; r < 5; r++)
			if ((x = group(atoi(argv[2]))) > a)
				a = x;
		printf("signal_group %.0f\n", a);
		return 0;
	}
	for (int r = 0; r < 3; r++) {
		if ((x = run(1, alt)) > a)
			a = x;
		if ((x = run(0, 10000)) > b)
			b = x;
	}
	printf("signal_alternating %.0f\nsignal_burst %.0f\n", a, b);
	return 0;
}
