/* fuzz-push.c - the push endpoint body (protocol.md 1.12): the decoder
 * never reads out of bounds, takes only URLs nc_push_url_check takes, and
 * what it takes encodes back to the same bytes. The URL check alone runs
 * on the input as a string too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relaymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[NC_PUSH_URL_MAX + 2];
	char url[NC_PUSH_URL_MAX + 1];
	nc_buf b = NC_BUF_INIT;
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
	int k;

	memcpy(s, data, n);
	s[n] = '\0';
	k = nc_push_url_check(s);
	if (k != NC_PUSH_BAD && (strlen(s) > NC_PUSH_URL_MAX ||
	    (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) ||
	    strpbrk(s, " #\"<>\\^`{|}") != NULL))
		abort();
	if (nc_push_dec(url, data, size) != 0)
		return 0;
	if (nc_push_url_check(url) == NC_PUSH_BAD || nc_push_enc(&b, url) != 0 ||
	    b.len != size || memcmp(b.p, data, size) != 0)
		abort();
	nc_buf_free(&b);
	return 0;
}
