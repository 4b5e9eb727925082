/* test-hkdf.c - HKDF-SHA256 against RFC 5869 A.1-A.3 and every Wycheproof
 * hkdf_sha256 case; libsodium's HMAC-SHA256 (any key length, truncated
 * tags) against every Wycheproof hmac_sha256 case.
 *
 * Wycheproof results: "valid" must reproduce the expected output (or tag);
 * "invalid" must be refused (HKDF: an output size over 255*32 is an error;
 * HMAC: a modified tag must not match). "acceptable" (none in the current
 * files) is treated as "valid": for HKDF and HMAC an acceptable case is a
 * legal input whose output is defined by the RFC, so we must compute it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "hkdf.h"
#include "check.h"

static size_t
unhex(uint8_t *out, size_t max, const char *hex)
{
	size_t n = 0;

	if (sodium_hex2bin(out, max, hex, strlen(hex), NULL, &n, NULL) != 0) {
		fprintf(stderr, "bad hex in vectors: %.40s\n", hex);
		exit(2);
	}
	return n;
}

static void
rfc5869(void)
{
	static const struct {
		const char *ikm, *salt, *info, *prk, *okm;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
		  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		  "34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		  "404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		  "9d201395faa4b61a96c8" },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t ikm[80], salt[80], info[80], prk[32], okm[82];
		uint8_t got[82], gotprk[32];
		size_t ni = unhex(ikm, sizeof ikm, v[i].ikm);
		size_t ns = unhex(salt, sizeof salt, v[i].salt);
		size_t nf = unhex(info, sizeof info, v[i].info);
		size_t no = unhex(okm, sizeof okm, v[i].okm);

		unhex(prk, sizeof prk, v[i].prk);
		CHECK_INT(nc_hkdf_extract(gotprk, salt, ns, ikm, ni), 0);
		CHECK_MEM(gotprk, prk, 32);
		CHECK_INT(nc_hkdf_expand(got, no, prk, 32, info, nf), 0);
		CHECK_MEM(got, okm, no);
		memset(got, 0, sizeof got);
		CHECK_INT(nc_hkdf(got, no, salt, ns, ikm, ni, info, nf), 0);
		CHECK_MEM(got, okm, no);
	}
}

static void
limits(void)
{
	static uint8_t out[NC_HKDF_MAXBYTES + 1], first[64];
	uint8_t prk[32] = { 1 };

	memset(out, 0xaa, sizeof out);
	CHECK_INT(nc_hkdf_expand(out, NC_HKDF_MAXBYTES + 1, prk, 32, NULL, 0),
	    NC_ESOFTWARE);
	CHECK(out[0] == 0xaa && out[NC_HKDF_MAXBYTES] == 0xaa);
	CHECK(strstr(nc_errmsg(), "hkdf") != NULL);
	CHECK_INT(nc_hkdf(out, SIZE_MAX, NULL, 0, NULL, 0, NULL, 0),
	    NC_ESOFTWARE);
	CHECK_INT(nc_hkdf_expand(out, NC_HKDF_MAXBYTES, prk, 32, NULL, 0), 0);
	CHECK(out[NC_HKDF_MAXBYTES] == 0xaa);   /* not one byte more */
	/* A shorter output is a prefix of a longer one. */
	CHECK_INT(nc_hkdf_expand(first, sizeof first, prk, 32, NULL, 0), 0);
	CHECK_MEM(first, out, sizeof first);
	CHECK_INT(nc_hkdf_expand(first, 0, prk, 32, NULL, 0), 0);
	/* Empty salt = 32 zero bytes (RFC 5869 2.2). */
	{
		uint8_t z[32] = { 0 }, a[32], b[32];

		nc_hkdf_extract(a, NULL, 0, (const uint8_t *)"k", 1);
		nc_hkdf_extract(b, z, sizeof z, (const uint8_t *)"k", 1);
		CHECK_MEM(a, b, 32);
	}
}

/* Runs jq over a vectors file; each case is one line of fields. */
static FILE *
cases(const char *file, const char *filter)
{
	char cmd[8192];

	snprintf(cmd, sizeof cmd, "jq -r '%s' '%s/wycheproof/%s'", filter,
	    check_vectors(), file);
	return popen(cmd, "r");
}

static int
count_tests(const char *file)
{
	FILE *f = cases(file, ".numberOfTests");
	int n = -1;

	if (f == NULL || fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

/* Fields are prefixed with 'x' so empty hex strings survive sscanf. */
static void
wycheproof_hkdf(void)
{
	FILE *f = cases("hkdf_sha256_test.json", ".testGroups[].tests[] | "
	    "\"\\(.tcId) \\(.result) \\(.size) x\\(.ikm) x\\(.salt) "
	    "x\\(.info) x\\(.okm)\"");
	static char line[1 << 16], res[32], ikmh[4096], salth[4096],
	    infoh[4096], okmh[1 << 15];
	static uint8_t ikm[2048], salt[2048], info[2048], okm[NC_HKDF_MAXBYTES],
	    got[NC_HKDF_MAXBYTES + 1];
	int n = 0, bad = 0, valid = 0, invalid = 0, id;
	size_t size;

	if (!CHECK(f != NULL))
		return;
	while (fgets(line, sizeof line, f)) {
		size_t ni, ns, nf, no;
		int rc, ok;

		if (sscanf(line, "%d %31s %zu %4095s %4095s %4095s %32767s", &id,
		    res, &size, ikmh, salth, infoh, okmh) != 7) {
			fprintf(stderr, "bad case line: %.60s\n", line);
			bad++;
			continue;
		}
		n++;
		ni = unhex(ikm, sizeof ikm, ikmh + 1);
		ns = unhex(salt, sizeof salt, salth + 1);
		nf = unhex(info, sizeof info, infoh + 1);
		no = unhex(okm, sizeof okm, okmh + 1);
		rc = size <= NC_HKDF_MAXBYTES + 1 ? nc_hkdf(got, size, salt, ns,
		    ikm, ni, info, nf) : NC_ESOFTWARE;
		if (strcmp(res, "invalid") == 0) {
			invalid++;
			ok = rc == NC_ESOFTWARE;
		} else {   /* valid, or acceptable: see the top comment */
			valid++;
			ok = rc == 0 && no == size && memcmp(got, okm, no) == 0;
		}
		if (!ok) {
			bad++;
			fprintf(stderr, "hkdf tcId %d (%s) failed\n", id, res);
		}
	}
	pclose(f);
	CHECK_INT(bad, 0);
	CHECK_INT(n, count_tests("hkdf_sha256_test.json"));
	CHECK(valid > 0 && invalid > 0);
	printf("wycheproof hkdf_sha256: %d cases (%d valid, %d invalid), "
	    "%d failed\n", n, valid, invalid, bad);
}

static void
wycheproof_hmac(void)
{
	FILE *f = cases("hmac_sha256_test.json", ".testGroups[] | .tagSize as "
	    "$t | .tests[] | \"\\(.tcId) \\(.result) \\($t) x\\(.key) "
	    "x\\(.msg) x\\(.tag)\"");
	static char line[1 << 16], res[32], keyh[4096], msgh[4096], tagh[4096];
	static uint8_t key[2048], msg[2048], tag[64];
	int n = 0, bad = 0, valid = 0, invalid = 0, id, tagbits;

	if (!CHECK(f != NULL))
		return;
	while (fgets(line, sizeof line, f)) {
		crypto_auth_hmacsha256_state st;
		uint8_t mac[crypto_auth_hmacsha256_BYTES];
		size_t nk, nm, nt, want;
		int match, ok;

		if (sscanf(line, "%d %31s %d %4095s %4095s %4095s", &id, res,
		    &tagbits, keyh, msgh, tagh) != 6 || tagbits % 8 != 0 ||
		    tagbits <= 0 || tagbits > 256) {
			fprintf(stderr, "bad case line: %.60s\n", line);
			bad++;
			continue;
		}
		n++;
		nk = unhex(key, sizeof key, keyh + 1);
		nm = unhex(msg, sizeof msg, msgh + 1);
		nt = unhex(tag, sizeof tag, tagh + 1);
		want = (size_t)tagbits / 8;
		crypto_auth_hmacsha256_init(&st, key, nk);
		crypto_auth_hmacsha256_update(&st, msg, nm);
		crypto_auth_hmacsha256_final(&st, mac);
		/* A truncated tag is the first tagSize bits of the HMAC. */
		match = nt == want && sodium_memcmp(mac, tag, want) == 0;
		if (strcmp(res, "invalid") == 0) {
			invalid++;
			ok = !match;
		} else {
			valid++;
			ok = match;
		}
		if (!ok) {
			bad++;
			fprintf(stderr, "hmac tcId %d (%s) failed\n", id, res);
		}
	}
	pclose(f);
	CHECK_INT(bad, 0);
	CHECK_INT(n, count_tests("hmac_sha256_test.json"));
	CHECK(valid > 0 && invalid > 0);
	printf("wycheproof hmac_sha256: %d cases (%d valid, %d invalid), "
	    "%d failed\n", n, valid, invalid, bad);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	rfc5869();
	limits();
	wycheproof_hkdf();
	wycheproof_hmac();
	return check_done("test-hkdf");
}
