/* test-backup.c - the backup's pure part (lib/proto/backup.c): the root key
 * wrapped and unwrapped (wrong secret, other user, bad length), recovery
 * codes (RFC 4648 base32 known answer, lower case and spaces, bad ones),
 * records (every byte flipped, one record served under another's id, a
 * wrong root key), and the manifest (signature, another user, a rollback
 * below a known counter, bad order, a dropped and an injected record). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "err.h"
#include "check.h"

static void
wrap(void)
{
	uint8_t root[32], back[32], exp[64], other[64];
	nc_buf w = NC_BUF_INIT;

	randombytes_buf(root, sizeof root);
	randombytes_buf(exp, sizeof exp);
	memcpy(other, exp, sizeof other);
	other[63] ^= 1;
	CHECK_INT(nc_backup_wrap(&w, root, exp, sizeof exp, "alice@a.test"), 0);
	CHECK_INT(w.len, 1 + 24 + 32 + 16);
	CHECK_INT(nc_backup_unwrap(back, w.p, w.len, exp, sizeof exp, "alice@a.test"), 0);
	CHECK_MEM(back, root, 32);
	CHECK_INT(nc_backup_unwrap(back, w.p, w.len, other, sizeof other, "alice@a.test"), NC_EPERM);
	CHECK_STR(nc_errmsg(), "backup: wrong password or recovery code");
	CHECK_INT(nc_backup_unwrap(back, w.p, w.len, exp, sizeof exp, "mallory@a.test"), NC_EPERM);
	CHECK_INT(nc_backup_unwrap(back, w.p, w.len - 1, exp, sizeof exp, "alice@a.test"), NC_EDATA);
	nc_buf_free(&w);
}

static void
codes(void)
{
	uint8_t code[20], back[20];
	char s[NC_BACKUP_CODE_LEN + 1];
	int i;

	for (i = 0; i < 20; i++)
		code[i] = (uint8_t)i;
	nc_backup_code_format(s, code);
	CHECK_STR(s, "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT");   /* base32 of 00..13 */
	CHECK_INT(nc_backup_code_parse(back, s), 0);
	CHECK_MEM(back, code, 20);
	CHECK_INT(nc_backup_code_parse(back, "aaaq eaye auda ocaj bifq ydio b4ib ceqt"), 0);
	CHECK_MEM(back, code, 20);
	CHECK_INT(nc_backup_code_parse(back, "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQ"), NC_EDATA);
	CHECK_INT(nc_backup_code_parse(back, "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQTA"), NC_EDATA);
	CHECK_INT(nc_backup_code_parse(back, "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQ1"), NC_EDATA);
	for (i = 0; i < 100; i++) {
		randombytes_buf(code, sizeof code);
		nc_backup_code_format(s, code);
		CHECK(strlen(s) == NC_BACKUP_CODE_LEN && nc_backup_code_parse(back, s) == 0 &&
		    memcmp(back, code, 20) == 0);
	}
}

static void
records(void)
{
	uint8_t root[32], other[32], hid[32], hid2[32];
	nc_buf r = NC_BUF_INIT, r2 = NC_BUF_INIT, out = NC_BUF_INIT;
	char id[NC_BACKUP_ID_MAX + 1];
	size_t i;
	int refused = 0;

	randombytes_buf(root, sizeof root);
	memcpy(other, root, 32);
	other[0] ^= 1;
	CHECK_INT(nc_backup_record_seal(&r, hid, root, "contact/bob@b.test", (const uint8_t *)"trusted", 7), 0);
	CHECK_INT(nc_backup_record_open(id, &out, root, hid, r.p, r.len), 0);
	CHECK_STR(id, "contact/bob@b.test");
	CHECK(out.len == 7 && memcmp(out.p, "trusted", 7) == 0);
	/* a second one is appended */
	CHECK_INT(nc_backup_record_open(id, &out, root, hid, r.p, r.len), 0);
	CHECK(out.len == 14 && memcmp(out.p, "trustedtrusted", 14) == 0);
	out.len = 7;
	/* ids are hidden: the hid is keyed by the root key */
	nc_backup_hid(hid2, other, "contact/bob@b.test");
	CHECK(memcmp(hid, hid2, 32) != 0);
	for (i = 0; i < r.len; i++) {
		r.p[i] ^= 0x08;
		refused += nc_backup_record_open(id, &out, root, hid, r.p, r.len) != 0;
		r.p[i] ^= 0x08;
	}
	CHECK_INT(refused, (long long)r.len);
	CHECK(out.len == 7 && memcmp(out.p, "trusted", 7) == 0);   /* as it was */
	CHECK_INT(nc_backup_record_open(id, &out, other, hid, r.p, r.len), NC_ESECURITY);
	/* the relay serves one record where another is listed */
	CHECK_INT(nc_backup_record_seal(&r2, hid2, root, "contact/carol@a.test", (const uint8_t *)"x", 1), 0);
	CHECK_INT(nc_backup_record_open(id, &out, root, hid, r2.p, r2.len), NC_ESECURITY);
	CHECK_INT(nc_backup_record_seal(&r2, hid2, root, "", (const uint8_t *)"x", 1), NC_EDATA);
	nc_buf_free(&r);
	nc_buf_free(&r2);
	nc_buf_free(&out);
}

static void
manifest(void)
{
	uint8_t root[32], pk[32], sk[64], pk2[32], sk2[64];
	nc_backup_entry e[50];
	nc_backup_manifest m = { 7, 50, e }, got;
	nc_buf b = NC_BUF_INIT, rec = NC_BUF_INIT;
	char id[40];
	int i, missing = 0, found = 0;

	randombytes_buf(root, sizeof root);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof id, "history/%04d", i);
		CHECK_INT(nc_backup_record_seal(&rec, e[i].hid, root, id, (const uint8_t *)id, strlen(id)), 0);
		nc_backup_record_hash(e[i].hash, rec.p, rec.len);
	}
	CHECK_INT(nc_backup_manifest_sign(&b, &m, "alice@a.test", sk), 0);
	CHECK_INT(nc_backup_manifest_verify(&got, b.p, b.len, "alice@a.test", pk, 7), 0);
	CHECK_INT(got.counter, 7);
	CHECK_INT(got.n, 50);
	/* every record listed can be found; one the manifest never listed cannot */
	for (i = 0; i < 50; i++) {
		uint8_t h[32];
		snprintf(id, sizeof id, "history/%04d", i);
		nc_backup_hid(h, root, id);
		found += nc_backup_manifest_find(&got, h) != NULL;
	}
	CHECK_INT(found, 50);
	{
		uint8_t h[32];
		nc_backup_hid(h, root, "history/injected");
		missing = nc_backup_manifest_find(&got, h) == NULL;
	}
	CHECK(missing);
	nc_backup_manifest_free(&got);
	/* a rollback: a client that knows counter 8 refuses 7 */
	CHECK_INT(nc_backup_manifest_verify(&got, b.p, b.len, "alice@a.test", pk, 8), NC_ESECURITY);
	CHECK(strstr(nc_errmsg(), "older backup") != NULL);
	/* another user's, another key, one byte changed */
	CHECK_INT(nc_backup_manifest_verify(&got, b.p, b.len, "bob@b.test", pk, 0), NC_ESECURITY);
	CHECK_INT(nc_backup_manifest_verify(&got, b.p, b.len, "alice@a.test", pk2, 0), NC_ESECURITY);
	b.p[b.len / 2] ^= 1;
	CHECK(nc_backup_manifest_verify(&got, b.p, b.len, "alice@a.test", pk, 0) != 0);
	b.p[b.len / 2] ^= 1;
	CHECK_INT(nc_backup_manifest_verify(&got, b.p, b.len - 1, "alice@a.test", pk, 0), NC_EDATA);
	/* a record listed twice is refused when signing */
	e[1] = e[0];
	CHECK_INT(nc_backup_manifest_sign(&b, &m, "alice@a.test", sk), NC_ESOFTWARE);
	nc_buf_free(&b);
	nc_buf_free(&rec);
}

/* A fetch of records by hash (protocol.md 1.9): the request's bytes, and
 * the answer read strictly - no more records than asked, lengths inside,
 * 0 for a record not held, nothing left over. */
static void
fetches(void)
{
	static nc_backup_span v[NC_BACKUP_BATCH_RECS];
	static uint8_t h[32 * (NC_BACKUP_BATCH_RECS + 1)];
	nc_buf b = NC_BUF_INIT;
	const uint8_t *hp;
	size_t n, k;

	for (size_t i = 0; i < sizeof h; i++)
		h[i] = (uint8_t)(i * 31 + 7);
	CHECK_INT(nc_backup_fetch_req(&b, h, 3), 0);
	CHECK_INT(b.len, 3 + 96);
	CHECK(b.p[0] == 1 && b.p[1] == 0 && b.p[2] == 3 && memcmp(b.p + 3, h, 96) == 0);
	CHECK_INT(nc_backup_fetch_req_decode(&hp, &n, b.p, b.len), 0);
	CHECK(n == 3 && hp == b.p + 3);
	CHECK_INT(nc_backup_fetch_req_decode(&hp, &n, b.p, b.len - 1), NC_EDATA);
	CHECK_INT(nc_buf_add(&b, "x", 1), 0);
	CHECK_INT(nc_backup_fetch_req_decode(&hp, &n, b.p, b.len), NC_EDATA);
	CHECK_INT(nc_backup_fetch_req(&b, h, 0), NC_ESOFTWARE);
	CHECK_INT(nc_backup_fetch_req(&b, h, NC_BACKUP_BATCH_RECS + 1), NC_ESOFTWARE);
	CHECK_INT(nc_backup_fetch_req(&b, h, NC_BACKUP_BATCH_RECS), 0);
	CHECK_INT(nc_backup_fetch_req_decode(&hp, &n, b.p, b.len), 0);
	CHECK_INT(n, NC_BACKUP_BATCH_RECS);
	b.p[0] = 2;
	CHECK_INT(nc_backup_fetch_req_decode(&hp, &n, b.p, b.len), NC_EDATA);
	/* an answer: "abc", one not held, "de" */
	nc_buf_reset(&b);
	CHECK_INT(nc_buf_add(&b, "\001\000\003\000\000\000\003abc\000\000\000\000"
	    "\000\000\000\002de", 20), 0);
	CHECK_INT(nc_backup_fetch_decode(v, &k, 3, b.p, b.len), 0);
	CHECK(k == 3 && v[0].n == 3 && memcmp(v[0].p, "abc", 3) == 0 && v[1].n == 0 &&
	    v[2].n == 2 && memcmp(v[2].p, "de", 2) == 0);
	CHECK_INT(nc_backup_fetch_decode(v, &k, 5, b.p, b.len), 0);   /* fewer: fine */
	CHECK_INT(nc_backup_fetch_decode(v, &k, 2, b.p, b.len), NC_EDATA);   /* more */
	CHECK_INT(nc_backup_fetch_decode(v, &k, 3, b.p, b.len - 1), NC_EDATA);
	b.p[2] = 0;
	CHECK_INT(nc_backup_fetch_decode(v, &k, 3, b.p, b.len), NC_EDATA);   /* none */
	/* a batch still refuses an empty record */
	CHECK_INT(nc_backup_batch_decode(v, &k, (const uint8_t *)
	    "\001\000\001\000\000\000\000", 7), NC_EDATA);
	nc_buf_free(&b);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	wrap();
	codes();
	records();
	manifest();
	fetches();
	return check_done("backup");
}
