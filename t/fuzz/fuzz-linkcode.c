/* fuzz-linkcode.c - the link code decoder (nc-sync link CODE) must never
 * read out of bounds; a code that decodes encodes to the same key and
 * domain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[NC_LINK_CODE_MAX + 2], t[NC_LINK_CODE_MAX + 1];
	nc_link_code c, d;

	if (size > NC_LINK_CODE_MAX + 1)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (nc_link_code_decode(&c, s) != 0)
		return 0;
	if (nc_link_code_encode(&c, t, sizeof t) != 0 ||
	    nc_link_code_decode(&d, t) != 0 || memcmp(c.pk, d.pk, 32) != 0 ||
	    strcmp(c.domain, d.domain) != 0)
		abort();
	return 0;
}
