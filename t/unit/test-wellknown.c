/* test-wellknown.c - what a domain's /.well-known/newchat answer means
 * (nc_relay_descriptor): a relay URL; no such domain (NC_ENOHOST: a 404,
 * a page that is not a descriptor, another domain's, a bad URL) - a
 * permanent failure, nothing queued; or a relay down for now
 * (NC_EUNAVAIL: 5xx, 408, 429); or a downgrade to a plain-http relay
 * (NC_ESECURITY). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "relayc.h"
#include "check.h"

static int
desc(long status, const char *body, char *url, size_t max)
{
	return nc_relay_descriptor("b.test", status, (const uint8_t *)body,
	    strlen(body), url, max);
}

int
main(void)
{
	char url[256];
	static char big[5000];

	/* A good one, with CRLFs and an unknown line (ignored). */
	CHECK_INT(desc(200, "newchat 1\ndomain b.test\nrelay https://r.b.test/nc\n",
	    url, sizeof url), 0);
	CHECK_STR(url, "https://r.b.test/nc");
	CHECK_INT(desc(200, "newchat 1\r\ndomain b.test\r\nrelay https://127.0.0.1:8\r\n"
	    "future thing\r\n", url, sizeof url), 0);
	CHECK_STR(url, "https://127.0.0.1:8");
	/* A descriptor fetched over https may not name a plain-http relay. */
	CHECK_INT(desc(200, "newchat 1\ndomain b.test\nrelay http://127.0.0.1:8\n",
	    url, sizeof url), NC_ESECURITY);
	CHECK_STR(url, "");
	CHECK(strstr(nc_errmsg(), "plain-http") != NULL);

	/* The domain serves no relay: permanent. */
	CHECK_INT(desc(404, "not found", url, sizeof url), NC_ENOHOST);
	CHECK_STR(nc_errmsg(), "HTTP 404");
	CHECK_STR(url, "");
	CHECK_INT(desc(410, "", url, sizeof url), NC_ENOHOST);
	CHECK_INT(desc(403, "", url, sizeof url), NC_ENOHOST);
	CHECK_INT(desc(301, "", url, sizeof url), NC_ENOHOST);
	CHECK_INT(desc(200, "<html>welcome</html>", url, sizeof url), NC_ENOHOST);
	CHECK_STR(nc_errmsg(), "not a Newchat descriptor");
	CHECK_INT(desc(200, "", url, sizeof url), NC_ENOHOST);
	CHECK_INT(desc(200, "newchat 2\ndomain b.test\nrelay https://r\n", url,
	    sizeof url), NC_ENOHOST);
	CHECK_INT(desc(200, "newchat 1\nrelay https://r\n", url, sizeof url),
	    NC_ENOHOST);
	CHECK_INT(desc(200, "newchat 1\ndomain b.test\n", url, sizeof url),
	    NC_ENOHOST);
	CHECK_INT(desc(200, "newchat 1\ndomain b.test\nrelay ftp://r\n", url,
	    sizeof url), NC_ENOHOST);
	CHECK_STR(url, "");
	CHECK_INT(desc(200, "newchat 1\ndomain b.test\nrelay https://r x\n", url,
	    sizeof url), NC_ENOHOST);
	CHECK_INT(desc(200, "newchat 1\ndomain c.test\nrelay https://r\n", url,
	    sizeof url), NC_ENOHOST);
	CHECK_STR(nc_errmsg(), "a descriptor for another domain");
	CHECK_INT(desc(200, "newchat 1\ndomain b.test.evil\nrelay https://r\n",
	    url, sizeof url), NC_ENOHOST);
	/* A NUL inside, or more than the 4 KiB a descriptor may take. */
	CHECK_INT(nc_relay_descriptor("b.test", 200, (const uint8_t *)
	    "newchat 1\0\ndomain b.test\nrelay https://r\n", 40, url, sizeof url),
	    NC_ENOHOST);
	memset(big, '#', sizeof big - 1);
	memcpy(big, "newchat 1\ndomain b.test\nrelay https://r\n", 40);
	CHECK_INT(desc(200, big, url, sizeof url), NC_ENOHOST);
	/* A relay URL longer than the caller's buffer is not cut short. */
	CHECK_INT(desc(200, "newchat 1\ndomain b.test\nrelay https://a-long-name\n",
	    url, 12), NC_ENOHOST);

	/* Down or busy for now: temporary. */
	CHECK_INT(desc(503, "disk full", url, sizeof url), NC_EUNAVAIL);
	CHECK_STR(nc_errmsg(), "HTTP 503");
	CHECK_INT(desc(500, "", url, sizeof url), NC_EUNAVAIL);
	CHECK_INT(desc(502, "", url, sizeof url), NC_EUNAVAIL);
	CHECK_INT(desc(429, "", url, sizeof url), NC_EUNAVAIL);
	CHECK_INT(desc(408, "", url, sizeof url), NC_EUNAVAIL);
	return check_done("test-wellknown");
}
