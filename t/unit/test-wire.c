/* test-wire.c - the canonical encoding: round trips, truncation, bounds. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "wire.h"
#include "check.h"

static void
round_trip(void)
{
	nc_buf b = NC_BUF_INIT;
	nc_enc e;
	nc_dec d;
	char s[16];
	size_t n;
	const uint8_t *p;

	nc_enc_init(&e, &b);
	nc_put_u8(&e, 0xab);
	nc_put_u16(&e, 0x1234);
	nc_put_u32(&e, 0xdeadbeef);
	nc_put_u64(&e, 0x0102030405060708ULL);
	nc_put_fixed(&e, "xyz", 3);
	nc_put_bytes(&e, "hello", 5);
	nc_put_str(&e, "h\xc3\xa9");
	CHECK_INT(nc_enc_end(&e), 0);
	CHECK_INT(b.len, 1 + 2 + 4 + 8 + 3 + 4 + 5 + 2 + 3);

	nc_dec_init(&d, b.p, b.len);
	CHECK_INT(nc_get_u8(&d), 0xab);
	CHECK_INT(nc_get_u16(&d), 0x1234);
	CHECK_INT(nc_get_u32(&d), 0xdeadbeef);
	CHECK(nc_get_u64(&d) == 0x0102030405060708ULL);
	CHECK_MEM(nc_get_fixed(&d, 3), "xyz", 3);
	p = nc_get_bytes(&d, 5, &n);
	CHECK(p && n == 5 && memcmp(p, "hello", 5) == 0);
	nc_get_str(&d, s, sizeof s - 1);
	CHECK_STR(s, "h\xc3\xa9");
	CHECK_INT(nc_dec_end(&d, "test"), 0);

	/* Every truncation fails, and the error sticks. */
	for (size_t cut = 0; cut < b.len; cut++) {
		nc_dec_init(&d, b.p, cut);
		nc_get_u8(&d); nc_get_u16(&d); nc_get_u32(&d); nc_get_u64(&d);
		nc_get_fixed(&d, 3); nc_get_bytes(&d, 5, &n);
		nc_get_str(&d, s, sizeof s - 1);
		CHECK_INT(nc_dec_end(&d, "test"), NC_EDATA);
	}
	/* Trailing bytes fail. */
	nc_dec_init(&d, b.p, b.len);
	nc_get_u8(&d);
	CHECK_INT(nc_dec_end(&d, "test"), NC_EDATA);
	nc_buf_free(&b);
}

static void
bounds(void)
{
	/* A length over the stated maximum fails without reading on. */
	static const uint8_t big[] = { 0, 0, 0, 6, 'a', 'b', 'c', 'd', 'e', 'f' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t nul[] = { 0, 2, 'a', 0 };
	static const uint8_t badutf[] = { 0, 2, 0xc0, 0x80 };
	nc_dec d;
	size_t n;
	char s[8];

	nc_dec_init(&d, big, sizeof big);
	CHECK(nc_get_bytes(&d, 5, &n) == NULL && n == 0);
	CHECK_INT(nc_dec_end(&d, "t"), NC_EDATA);
	nc_dec_init(&d, big, sizeof big);
	CHECK(nc_get_bytes(&d, 6, &n) != NULL && n == 6);
	CHECK_INT(nc_dec_end(&d, "t"), 0);
	nc_dec_init(&d, huge, sizeof huge);
	CHECK(nc_get_bytes(&d, SIZE_MAX, &n) == NULL);
	CHECK_INT(nc_dec_end(&d, "t"), NC_EDATA);
	nc_dec_init(&d, nul, sizeof nul);
	nc_get_str(&d, s, 7);
	CHECK_INT(nc_dec_end(&d, "t"), NC_EDATA);
	nc_dec_init(&d, badutf, sizeof badutf);
	nc_get_str(&d, s, 7);
	CHECK_INT(nc_dec_end(&d, "t"), NC_EDATA);
	CHECK_STR(s, "");
}

static void
utf8(void)
{
	CHECK(nc_utf8_valid("plain", 5));
	CHECK(nc_utf8_valid("\xe2\x82\xac", 3));          /* euro sign */
	CHECK(nc_utf8_valid("\xf0\x9f\x98\x80", 4));      /* emoji */
	CHECK(!nc_utf8_valid("\xc0\xaf", 2));             /* overlong */
	CHECK(!nc_utf8_valid("\xed\xa0\x80", 3));         /* surrogate */
	CHECK(!nc_utf8_valid("\xf4\x90\x80\x80", 4));     /* > U+10FFFF */
	CHECK(!nc_utf8_valid("\xe2\x82", 2));             /* truncated */
	CHECK(!nc_utf8_valid("\x80", 1));                 /* stray continuation */
	CHECK(!nc_utf8_valid("a\0b", 3));                 /* NUL */
	CHECK(!nc_utf8_valid("\xff", 1));
}

int
main(void)
{
	round_trip();
	bounds();
	utf8();
	return check_done("wire");
}
