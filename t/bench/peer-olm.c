/* peer-olm.c - the same two patterns over libolm's Olm sessions (bench
 * only; -lolm): encrypt+decrypt of 100-byte messages, alternating
 * direction and a one-direction burst of 10,000. Prints "name value".
 * "peer-olm group N": Megolm instead (t/bench/groupmsg.sh), N messages
 * from one outbound session to an inbound one made from its session key,
 * best of 5: "olm_group msg/s". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <olm/inbound_group_session.h>
#include <olm/olm.h>
#include <olm/outbound_group_session.h>
#include <sodium.h>

#define MSG 100

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
rnd(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	randombytes_buf(p, n);
	return p;
}

static void
check(size_t r, const char *what)
{
	if (r == olm_error()) {
		fprintf(stderr, "olm: %s failed\n", what);
		exit(1);
	}
}

static OlmAccount *
account(void)
{
	OlmAccount *a = olm_account(malloc(olm_account_size()));
	size_t n = olm_create_account_random_length(a);
	void *r = rnd(n);

	check(olm_create_account(a, r, n), "create account");
	free(r);
	return a;
}

/* The value of the first "key":"value" after `after` in a JSON text. */
static char *
json_value(const char *json, const char *after)
{
	const char *p = strstr(json, after), *q;
	char *v;

	if (p == NULL || (p = strchr(p + strlen(after), ':')) == NULL ||
	    (p = strchr(p, '"')) == NULL || (q = strchr(p + 1, '"')) == NULL)
		abort();
	v = strndup(p + 1, (size_t)(q - p - 1));
	return v;
}

static OlmSession *sa, *sb;
static uint8_t pt[MSG];

static void
one(OlmSession *s, OlmSession *r)
{
	size_t rl = olm_encrypt_random_length(s), ml, type, max;
	void *rr = rnd(rl);
	char msg[2048], copy[2048], out[2048];

	type = olm_encrypt_message_type(s);
	ml = olm_encrypt_message_length(s, MSG);
	if (ml > sizeof msg)
		abort();
	check(olm_encrypt(s, pt, MSG, rr, rl, msg, ml), "encrypt");
	free(rr);
	/* Olm destroys its input buffers, so each call gets a copy. */
	memcpy(copy, msg, ml);
	max = olm_decrypt_max_plaintext_length(r, type, copy, ml);
	check(max, "max length");
	memcpy(copy, msg, ml);
	if (olm_decrypt(r, type, copy, ml, out, sizeof out) != MSG)
		abort();
}

static void
setup(void)
{
	OlmAccount *a = account(), *b = account();
	char ik[512], otk[512], *bcurve, *botk;
	size_t n;
	void *r;

	check(olm_account_identity_keys(b, ik, sizeof ik), "identity keys");
	ik[olm_account_identity_keys_length(b)] = '\0';
	n = olm_account_generate_one_time_keys_random_length(b, 1);
	r = rnd(n);
	check(olm_account_generate_one_time_keys(b, 1, r, n), "one-time keys");
	free(r);
	check(olm_account_one_time_keys(b, otk, sizeof otk), "one-time keys");
	otk[olm_account_one_time_keys_length(b)] = '\0';
	bcurve = json_value(ik, "\"curve25519\"");
	botk = json_value(otk, "\"curve25519\":{");
	sa = olm_session(malloc(olm_session_size()));
	sb = olm_session(malloc(olm_session_size()));
	n = olm_create_outbound_session_random_length(sa);
	r = rnd(n);
	check(olm_create_outbound_session(sa, a, bcurve, strlen(bcurve), botk,
	    strlen(botk), r, n), "outbound session");
	free(r);
	/* First (prekey) message creates Bob's session. */
	{
		size_t rl = olm_encrypt_random_length(sa), ml, type;
		void *rr = rnd(rl);
		char msg[2048], copy[2048], out[2048];
		type = olm_encrypt_message_type(sa);
		ml = olm_encrypt_message_length(sa, MSG);
		check(olm_encrypt(sa, pt, MSG, rr, rl, msg, ml), "encrypt");
		free(rr);
		memcpy(copy, msg, ml);
		check(olm_create_inbound_session(sb, b, copy, ml), "inbound session");
		memcpy(copy, msg, ml);
		if (olm_decrypt(sb, type, copy, ml, out, sizeof out) != MSG)
			abort();
	}
	free(bcurve);
	free(botk);
}

static double
run(int alternating, int n)
{
	double t;

	setup();
	t = now();
	for (int i = 0; i < n; i++) {
		if (alternating && (i & 1))
			one(sb, sa);
		else
			one(sa, sb);
	}
	t = now() - t;
	return n / t;
}

static double
megolm(int n)
{
	OlmOutboundGroupSession *o = olm_outbound_group_session(malloc(olm_outbound_group_session_size()));
	OlmInboundGroupSession *in = olm_inbound_group_session(malloc(olm_inbound_group_session_size()));
	size_t rl = olm_init_outbound_group_session_random_length(o), kl, ml, pl;
	uint8_t *r = malloc(rl ? rl : 1), *key, msg[1024], copy[1024], out[1024];
	uint32_t idx;
	double t;

	randombytes_buf(r, rl);
	check(olm_init_outbound_group_session(o, r, rl), "init outbound");
	kl = olm_outbound_group_session_key_length(o);
	key = malloc(kl);
	check(olm_outbound_group_session_key(o, key, kl), "session key");
	check(olm_init_inbound_group_session(in, key, kl), "init inbound");
	if (olm_group_encrypt_message_length(o, MSG) > sizeof msg)
		abort();
	t = now();
	for (int i = 0; i < n; i++) {
		if ((ml = olm_group_encrypt(o, pt, MSG, msg, sizeof msg)) == olm_error()) {
			fprintf(stderr, "olm: group encrypt: %s\n", olm_outbound_group_session_last_error(o));
			exit(1);
		}
		memcpy(copy, msg, ml);
		check(pl = olm_group_decrypt(in, copy, ml, out, sizeof out, &idx), "decrypt");
		if (pl != MSG || idx != (uint32_t)i || memcmp(out, pt, MSG) != 0)
			abort();
	}
	t = now() - t;
	olm_clear_outbound_group_session(o);
	olm_clear_inbound_group_session(in);
	free(o);
	free(in);
	free(r);
	free(key);
	return n / t;
}

int
main(int argc, char **argv)
{
	int alt = argc > 1 ? atoi(argv[1]) : 1000;
	double a = 0, b = 0, x;

	if (sodium_init() < 0)
		return 2;
	memset(pt, 'm', sizeof pt);
	if (argc > 2 && strcmp(argv[1], "group") == 0) {
		for (int r = 0; r < 5; r++)
			if ((x = megolm(atoi(argv[2]))) > a)
				a = x;
		printf("olm_group %.0f\n", a);
		return 0;
	}
	for (int r = 0; r < 3; r++) {
		if ((x = run(1, alt)) > a)
			a = x;
		if ((x = run(0, 10000)) > b)
			b = x;
	}
	printf("olm_alternating %.0f\nolm_burst %.0f\n", a, b);
	return 0;
}
