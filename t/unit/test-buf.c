/* test-buf.c - buffers (plain and secret), error messages. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "check.h"
#include "fsutil.h"

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

/* Secret memory: zeroed when handed out, wiped when given back and
 * reused, large blocks and more than the shared region fall back to blocks
 * of their own. */
static void
secmem(void)
{
	enum { N = 600 };
	static uint8_t *p[N];
	uint8_t *a, *b, *big;
	int i, ok = 1;

	a = nc_secmem_alloc(100);
	CHECK(a != NULL && sodium_is_zero(a, 128));
	memset(a, 0xa5, 100);
	nc_secmem_free(a, 100);
#ifndef __SANITIZE_ADDRESS__   /* poisoned there, rightly */
	CHECK(sodium_is_zero(a + sizeof(void *), 128 - sizeof(void *)));
#endif
	b = nc_secmem_alloc(120);   /* the same size class: the same block */
	CHECK(b == a);
	CHECK(b != NULL && sodium_is_zero(b, 128));
	nc_secmem_free(b, 120);
	big = nc_secmem_alloc(100000);
	CHECK(big != NULL && sodium_is_zero(big, 100000));
	nc_secmem_free(big, 100000);
	/* far more than the region holds: all distinct, all usable */
	for (i = 0; i < N; i++) {
		if ((p[i] = nc_secmem_alloc(1000)) == NULL) {
			ok = 0;
			break;
		}
		memset(p[i], i & 0xff, 1000);
	}
	CHECK(ok);
	for (i = 0; ok && i < N; i++)
		if (p[i][0] != (i & 0xff) || p[i][999] != (i & 0xff))
			ok = 0;
	CHECK(ok);
	for (i = 0; i < N; i++)
		nc_secmem_free(p[i], 1000);
	nc_secmem_free(NULL, 10);
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
	secmem();
	limits();
	readfd();
	errors();
	return check_done("buf");
}
