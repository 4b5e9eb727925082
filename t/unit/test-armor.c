/* test-armor.c - armor round trips, streams of blocks, and rejections. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "armor.h"
#include "buf.h"
#include "err.h"
#include "check.h"

#define B NC_ARMOR_BEGIN "\n"
#define E NC_ARMOR_END "\n"

static int
decode_one(const char *s, size_t len, nc_buf *out, size_t max)
{
	size_t pos = 0;

	return nc_armor_next(s, len, &pos, out, max);
}

static void
round_trips(void)
{
	static uint8_t p[300 + 1];
	nc_buf a = NC_BUF_INIT, d = NC_BUF_INIT;
	int ok = 1;

	randombytes_buf(p, sizeof p);
	for (size_t n = 0; n <= 300; n++) {
		size_t pos = 0, lines;

		nc_buf_reset(&a);
		nc_buf_reset(&d);
		if (nc_armor_encode(&a, p, n) != 0 ||
		    nc_armor_next((char *)a.p, a.len, &pos, &d, n) != 0 ||
		    d.len != n || memcmp(d.p, p, n) != 0 || pos != a.len ||
		    nc_armor_next((char *)a.p, a.len, &pos, &d, n) != 1) {
			ok = 0;
			fprintf(stderr, "round trip of %zu bytes: %s\n", n,
			    nc_errmsg());
		}
		/* Exact length: BEGIN, ceil(4n/3 padded / 64) lines, END. */
		lines = ((n + 2) / 3 * 4 + 63) / 64;
		if (a.len != sizeof NC_ARMOR_BEGIN + sizeof NC_ARMOR_END +
		    (n + 2) / 3 * 4 + lines)
			ok = 0;
		/* One byte less than the payload is refused. */
		if (n > 0) {
			pos = 0;
			if (nc_armor_next((char *)a.p, a.len, &pos, &d, n - 1) !=
			    NC_EDATA || pos != 0)
				ok = 0;
		}
	}
	CHECK(ok);
	nc_buf_free(&a);
	nc_buf_free(&d);
}

static void
large(void)
{
	size_t n = getenv("NC_QUICK") ? 100000 : 3000000;
	uint8_t *p = malloc(n);
	nc_buf a = NC_BUF_INIT, d = NC_BUF_INIT;
	size_t pos = 0;

	randombytes_buf(p, n);
	CHECK_INT(nc_armor_encode(&a, p, n), 0);
	CHECK_INT(nc_armor_next((char *)a.p, a.len, &pos, &d, n), 0);
	CHECK(d.len == n && memcmp(d.p, p, n) == 0);
	/* Every line but the last is exactly 64 columns. */
	CHECK(a.p[strlen(B) + 64] == '\n' && a.p[strlen(B) + 129] == '\n');
	free(p);
	nc_buf_free(&a);
	nc_buf_free(&d);
}

static void
stream(void)
{
	nc_buf a = NC_BUF_INIT, d = NC_BUF_INIT;
	const char *msgs[] = { "one", "", "three three three", "4" };
	size_t pos = 0;
	int i;

	for (i = 0; i < 4; i++) {
		CHECK_INT(nc_armor_encode(&a, (const uint8_t *)msgs[i],
		    strlen(msgs[i])), 0);
		CHECK_INT(nc_buf_addstr(&a, i % 2 ? "\n\n" : " \t\r\n"), 0);
	}
	for (i = 0; i < 4; i++) {
		nc_buf_reset(&d);
		CHECK_INT(nc_armor_next((char *)a.p, a.len, &pos, &d, 100), 0);
		CHECK(d.len == strlen(msgs[i]) &&
		    memcmp(d.p, msgs[i], d.len) == 0);
	}
	CHECK_INT(nc_armor_next((char *)a.p, a.len, &pos, &d, 100), 1);
	CHECK_INT(pos, a.len);
	CHECK_INT(nc_armor_next((char *)a.p, a.len, &pos, &d, 100), 1);

	/* Appends to out; CRLF, leading blank lines, END without newline. */
	nc_buf_reset(&d);
	{
		const char *s = "\r\n  \r\n" NC_ARMOR_BEGIN "\r\naGk=\r\n"
		    NC_ARMOR_END "\r\n\r\n" NC_ARMOR_BEGIN "\nISE=\n"
		    NC_ARMOR_END;

		pos = 0;
		CHECK_INT(nc_armor_next(s, strlen(s), &pos, &d, 10), 0);
		CHECK_INT(nc_armor_next(s, strlen(s), &pos, &d, 10), 0);
		CHECK(d.len == 4 && memcmp(d.p, "hi!!", 4) == 0);
		CHECK_INT(nc_armor_next(s, strlen(s), &pos, &d, 10), 1);
	}
	CHECK_INT(decode_one("", 0, &d, 10), 1);
	CHECK_INT(decode_one(" \n\t\r\n", 5, &d, 10), 1);
	CHECK(nc_armor_detect(" \n" B, strlen(" \n" B)));
	CHECK(!nc_armor_detect("x" B, strlen("x" B)));
	CHECK(!nc_armor_detect("\x01\x02", 2));
	nc_buf_free(&a);
	nc_buf_free(&d);
}

/* 64 'A's: one full line of base64. */
#define L64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const struct {
	const char *text;
	const char *why;   /* expected in the error message */
} bad[] = {
	{ "garbage\n", "line 1: text outside" },
	{ "\n\nhello\n" B "aGk=\n" E, "line 3: text outside" },
	{ B "aGk=\n", "line 1: BEGIN without END" },
	{ B, "BEGIN without END" },
	{ B "aGk=\n" E "trailing\n", "line 4: text outside" },
	{ " " B "aGk=\n" E, "text outside" },
	{ "-----BEGIN NEWCHAT ENVELOPE----\naGk=\n" E, "malformed BEGIN" },
	{ "-----BEGIN NEWCHAT MESSAGE-----\naGk=\n" E, "malformed BEGIN" },
	{ NC_ARMOR_BEGIN " \naGk=\n" E, "malformed BEGIN" },
	{ B "aGk=\n-----END NEWCHAT ENVELOPE----\n", "line 3: malformed END" },
	{ B "aGk=\n" NC_ARMOR_END "x\n", "malformed END" },
	{ B L64 "\n " E, "line 3: character outside base64" },
	{ B B "aGk=\n" E, "line 2: BEGIN inside" },
	{ B "aGk=\n" B "aGk=\n" E E, "line 3: BEGIN inside" },
	{ B "\naGk=\n" E, "line 2: empty line" },
	{ B "aGk=\n\n" E, "line 3: empty line" },
	{ B L64 "A\n" E, "line 2: line longer" },
	{ B "AAAA\n" L64 "\n" E, "line 2: line shorter" },
	{ B L64 "\nAAAA\nAAAA\n" E, "line 3: line shorter" },
	{ B "aGk\n" E, "multiple of 4" },
	{ B "aGk=A\n" E, "multiple of 4" },
	{ B "aGkh\t\n" E, "character outside base64" },
	{ B "aG k=\n" E, "character outside base64" },
	{ B "aGk-\n" E, "character outside base64" },
	{ B "aGk_\n" E, "character outside base64" },
	{ B "aGl=\n" E, "invalid base64" },                /* non-zero pad bits */
	{ B "aR==\n" E, "invalid base64" },
	{ B "aGk=aGk=\n" E, "invalid base64" },            /* padding mid-stream */
	{ B "a===\n" E, "invalid base64" },
	{ B "====\n" E, "invalid base64" },
	{ B "aGk=\n" E "\x01\n", "line 4: text outside" },
	{ B "aGk\x80\n" E, "character outside base64" },
	{ B "aG\r=\n" E, "character outside base64" },
	{ "\x00\n" B "aGk=\n" E, "line 1: text outside" },
};

static void
rejections(void)
{
	nc_buf d = NC_BUF_INIT;
	size_t nbad = sizeof bad / sizeof bad[0], pos;
	int distinct = 0;

	/* Controls: the neighbours of rejected forms are accepted. */
	CHECK_INT(decode_one(B "aQ==\n" E, strlen(B "aQ==\n" E), &d, 10), 0);
	CHECK_INT(decode_one(B "aGk=\n" E, strlen(B "aGk=\n" E), &d, 10), 0);
	CHECK_INT(decode_one(B L64 "\n" E, strlen(B L64 "\n" E), &d, 48), 0);
	for (size_t i = 0; i < nbad; i++) {
		/* The text of the NUL case starts after its NUL. */
		size_t len = bad[i].text[0] ? strlen(bad[i].text) :
		    1 + strlen(bad[i].text + 1);
		int rc;

		pos = 0;
		d.len = 0;
		rc = nc_armor_next(bad[i].text, len, &pos, &d, 100);
		if (rc == 0 && strstr(bad[i].text, E "trailing") == NULL &&
		    strstr(bad[i].text, E "\x01") == NULL) {
			CHECK_INT(rc, NC_EDATA);
			fprintf(stderr, "    case %zu accepted\n", i);
			continue;
		}
		if (rc == 0)   /* the block is fine; what follows is not */
			rc = nc_armor_next(bad[i].text, len, &pos, &d, 100);
		CHECK_INT(rc, NC_EDATA);
		if (!CHECK(strstr(nc_errmsg(), bad[i].why) != NULL))
			fprintf(stderr, "    case %zu: \"%s\" lacks \"%s\"\n", i,
			    nc_errmsg(), bad[i].why);
		distinct++;
	}
	CHECK(distinct >= 25);

	/* Too large for max, at the line check and at the final check. */
	{
		const char *s = B L64 "\n" L64 "\nAAA=\n" E;   /* 98 bytes */

		pos = 0;
		CHECK_INT(nc_armor_next(s, strlen(s), &pos, &d, 90), NC_EDATA);
		CHECK(strstr(nc_errmsg(), "line 3: payload too large") != NULL);
		pos = 0;
		CHECK_INT(nc_armor_next(s, strlen(s), &pos, &d, 97), NC_EDATA);
		CHECK(strstr(nc_errmsg(), "line 5: payload too large") != NULL);
		pos = 0;
		d.len = 0;
		CHECK_INT(nc_armor_next(s, strlen(s), &pos, &d, 98), 0);
		CHECK_INT(d.len, 98);
		pos = 0;
		CHECK_INT(nc_armor_next(B "AAAA\n" E, strlen(B "AAAA\n" E),
		    &pos, &d, 2), NC_EDATA);
		CHECK_INT(pos, 0);
		CHECK_INT(d.len, 98);   /* unchanged on error */
	}
	/* A truncated stream: every cut of a valid block fails or is
	 * recognised as end of input, never decoded to something else. */
	{
		nc_buf a = NC_BUF_INIT;
		const char *msg = "truncation must never produce a payload";
		int ok = 1;

		CHECK_INT(nc_armor_encode(&a, (const uint8_t *)msg,
		    strlen(msg)), 0);
		for (size_t cut = 0; cut < a.len; cut++) {
			int rc;

			pos = 0;
			d.len = 0;
			rc = nc_armor_next((char *)a.p, cut, &pos, &d, 100);
			/* Only the final newline may be cut. */
			if (cut == a.len - 1 ? rc != 0 : (cut == 0 ? rc != 1 :
			    rc != NC_EDATA))
				ok = 0;
		}
		CHECK(ok);
		nc_buf_free(&a);
	}
	nc_buf_free(&d);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	round_trips();
	large();
	stream();
	rejections();
	return check_done("test-armor");
}
