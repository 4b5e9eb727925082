/* test-buf.c - buffers (plain and secret), error messages. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "check.h"

static void
growth(int secret)
{
	nc_buf b = NC_BUF_INIT;
	char chunk[100];

	b.secret = secret;
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 1000; i++)
		if (nc_buf_add(&b, chunk, sizeof chunk) != 0)
			break;
	CHECK_INT(b.len, 100000);
	CHECK(b.cap > b.len);
	CHECK_INT(nc_buf_nul(&b), 0);
	CHECK_INT(b.p[b.len], 0);
	CHECK_INT(nc_buf_printf(&b, "%d-%s", 42, "z"), 0);
	CHECK(memcmp(b.p + 100000, "42-z", 4) == 0 && b.len == 100004);
	nc_buf_reset(&b);
	CHECK_INT(b.len, 0);
	if (secret)   /* reset wipes a secret buffer's old content */
		CHECK(sodium_is_zero(b.p, 100004));
	nc_buf_free(&b);
	CHECK(b.p == NULL && b.cap == 0);
}

static void
limits(void)
{
	nc_buf b = NC_BUF_INIT;

	CHECK_INT(nc_buf_reserve(&b, NC_BUF_MAX + 1), NC_EDATA);
	CHECK_INT(nc_buf_reserve(&b, (size_t)-1), NC_EDATA);
	CHECK(strstr(nc_errmsg(), "too large") != NULL);
	CHECK_INT(nc_buf_add(&b, "", 0), 0);
	CHECK(b.p == NULL);
	nc_buf_free(&b);
}

static void
readfd(void)
{
	nc_buf b = NC_BUF_INIT;
	char path[] = "/tmp/nc-test-buf-XXXXXX";
	int fd = mkstemp(path);
	static char data[200000];

	CHECK(fd >= 0);
	memset(data, 'a', sizeof data);
	CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
	lseek(fd, 0, SEEK_SET);
	CHECK_INT(nc_buf_readfd(&b, fd, sizeof data), 0);
	CHECK_INT(b.len, sizeof data);
	nc_buf_reset(&b);
	lseek(fd, 0, SEEK_SET);
	CHECK_INT(nc_buf_readfd(&b, fd, sizeof data - 1), NC_EDATA);
	close(fd);
	unlink(path);
	nc_buf_free(&b);
}

static void
errors(void)
{
	CHECK_INT(nc_fail(NC_EPERM, "relay %s: %d", "a.test", 401), NC_EPERM);
	CHECK_STR(nc_errmsg(), "relay a.test: 401");
	nc_clearerr();
	CHECK_STR(nc_errmsg(), "");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	growth(0);
	growth(1);
	limits();
	readfd();
	errors();
	return check_done("buf");
}
