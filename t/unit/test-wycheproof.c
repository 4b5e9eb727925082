/* test-wycheproof.c - the primitives as the protocol uses them, against
 * Wycheproof's vectors (t/vectors/wycheproof): X25519 through nc_dh,
 * Ed25519 verification, XChaCha20-Poly1305. Every case must pass.
 *
 * X25519 policy for "acceptable" cases (protocol.md 2.2): a case whose
 * expected shared secret is all zero (low-order or zero public keys) must
 * be REJECTED by nc_dh; every other acceptable case (twist points,
 * non-canonical encodings, edge-case arithmetic) must give the expected
 * secret, as a valid case does. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "x3dh.h"
#include "check.h"

/* One flattened test case: space-separated fields, "-" for empty hex. */
#define MAXF 12

static int
split(char *line, char **f)
{
	int n = 0;
	char *save, *t = strtok_r(line, " \n", &save);

	while (t != NULL && n < MAXF) {
		f[n++] = strcmp(t, "-") == 0 ? t + 1 : t;   /* "" */
		t = strtok_r(NULL, " \n", &save);
	}
	return n;
}

static size_t
unhex(uint8_t *out, size_t max, const char *hex)
{
	size_t n = 0;

	if (sodium_hex2bin(out, max, hex, strlen(hex), NULL, &n, NULL) != 0)
		return (size_t)-1;
	return n;
}

static FILE *
flatten(const char *file, const char *jq)
{
	static char cmd[8192];

	/* h: empty strings become "-" so fields never collapse. */
	if (snprintf(cmd, sizeof cmd, "jq -r 'def h: if . == \"\" then \"-\" "
	    "else . end; %s' '%s/wycheproof/%s'", jq,
	    check_vectors(), file) >= (int)sizeof cmd)
		return NULL;
	return popen(cmd, "r");
}

static void
x25519(void)
{
	FILE *p = flatten("x25519_test.json", ".testGroups[] | select(.curve == \"curve25519\") | .tests[] | "
	    "\"\\(.tcId) \\(.result) \\(.public) \\(.private) \\(.shared)\"");
	static char line[1 << 16];
	int total = 0, ok = 0, rejected_low = 0;

	CHECK(p != NULL);
	while (p && fgets(line, sizeof line, p)) {
		char *f[MAXF];
		uint8_t pub[32], priv[32], want[32], got[32];
		if (split(line, f) != 5 || unhex(pub, 32, f[2]) != 32 ||
		    unhex(priv, 32, f[3]) != 32 || unhex(want, 32, f[4]) != 32) {
			fprintf(stderr, "x25519: bad vector line\n");
			total++;   /* counted as a failure */
			continue;
		}
		total++;
		int rc = nc_dh(got, priv, pub);
		int good;
		if (strcmp(f[1], "invalid") == 0)
			good = rc != 0;
		else if (sodium_is_zero(want, 32)) {
			good = rc == NC_ESECURITY;   /* policy: low order rejected */
			rejected_low += good;
		} else
			good = rc == 0 && memcmp(got, want, 32) == 0;
		if (!good)
			fprintf(stderr, "x25519 tcId %s (%s) failed\n", f[0], f[1]);
		ok += good;
	}
	if (p)
		pclose(p);
	CHECK(total > 500);
	CHECK_INT(ok, total);
	CHECK(rejected_low > 0);
	printf("x25519: %d/%d cases, %d low-order rejected\n", ok, total, rejected_low);
}

static void
ed25519(void)
{
	FILE *p = flatten("ed25519_test.json", ".testGroups[] | .publicKey.pk as $pk | .tests[] | "
	    "\"\\(.tcId) \\(.result) \\($pk) \\(.msg | h) \\(.sig | h)\"");
	static char line[1 << 16];
	static uint8_t msg[1 << 15];
	int total = 0, ok = 0;

	CHECK(p != NULL);
	while (p && fgets(line, sizeof line, p)) {
		char *f[MAXF];
		uint8_t pk[32], sig[64];
		size_t mlen, slen;
		if (split(line, f) != 5 || unhex(pk, 32, f[2]) != 32 ||
		    (mlen = unhex(msg, sizeof msg, f[3])) == (size_t)-1) {
			fprintf(stderr, "ed25519: bad vector line\n");
			total++;   /* counted as a failure */
			continue;
		}
		total++;
		slen = unhex(sig, sizeof sig, f[4]);
		int verified = slen == 64 &&
		    crypto_sign_verify_detached(sig, msg, mlen, pk) == 0;
		int good = strcmp(f[1], "valid") == 0 ? verified : !verified;
		if (!good)
			fprintf(stderr, "ed25519 tcId %s (%s) failed\n", f[0], f[1]);
		ok += good;
	}
	if (p)
		pclose(p);
	CHECK(total > 100);
	CHECK_INT(ok, total);
	printf("ed25519: %d/%d cases\n", ok, total);
}

static void
xchacha(void)
{
	FILE *p = flatten("xchacha20_poly1305_test.json", ".testGroups[] | "
	    ".ivSize as $iv | .keySize as $ks | .tagSize as $ts | .tests[] | "
	    "\"\\(.tcId) \\(.result) \\($iv) \\($ks) \\($ts) \\(.key | h) "
	    "\\(.iv | h) \\(.aad | h) \\(.msg | h) \\(.ct | h) \\(.tag | h)\"");
	static char line[1 << 17];
	static uint8_t key[64], iv[64], aad[1 << 14], msg[1 << 15], ct[(1 << 15) + 16], out[(1 << 15) + 16];
	int total = 0, ok = 0;

	CHECK(p != NULL);
	while (p && fgets(line, sizeof line, p)) {
		char *f[MAXF];
		size_t kl, il, al, ml, cl, tl;
		unsigned long long ol;
		if (split(line, f) != 11) {
			fprintf(stderr, "xchacha: bad vector line\n");
			total++;   /* counted as a failure */
			continue;
		}
		total++;
		kl = unhex(key, sizeof key, f[5]);
		il = unhex(iv, sizeof iv, f[6]);
		al = unhex(aad, sizeof aad, f[7]);
		ml = unhex(msg, sizeof msg, f[8]);
		cl = unhex(ct, sizeof ct, f[9]);
		tl = cl == (size_t)-1 ? 0 : unhex(ct + cl, sizeof ct - cl, f[10]);
		int valid = strcmp(f[1], "valid") == 0, good;
		/* Only 256-bit keys, 192-bit nonces and 128-bit tags exist for
		 * this AEAD: anything else must be refused before use. */
		if (kl != 32 || il != 24 || tl != 16 || ml == (size_t)-1 ||
		    al == (size_t)-1 || cl == (size_t)-1) {
			good = !valid;
		} else {
			int dec = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &ol,
			    NULL, ct, cl + tl, aad, al, iv, key) == 0 &&
			    ol == ml && memcmp(out, msg, ml) == 0;
			if (valid) {
				crypto_aead_xchacha20poly1305_ietf_encrypt(out, &ol, msg,
				    ml, aad, al, NULL, iv, key);
				good = dec && ol == cl + tl && memcmp(out, ct, ol) == 0;
			} else
				good = !dec;
		}
		if (!good)
			fprintf(stderr, "xchacha tcId %s (%s) failed\n", f[0], f[1]);
		ok += good;
	}
	if (p)
		pclose(p);
	CHECK(total > 300);
	CHECK_INT(ok, total);
	printf("xchacha20-poly1305: %d/%d cases\n", ok, total);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	x25519();
	ed25519();
	xchacha();
	return check_done("wycheproof");
}
