/* fuzz-idbackup.c - the identity-key backup decoder and opener must never
 * read out of bounds, and never open anything not sealed under the key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idbackup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 1 };
	nc_idbackup b;
	nc_idkey *k = NULL;

	if (nc_idbackup_decode(&b, data, size) != 0)
		return 0;
	if (nc_idbackup_open(&k, key, "alice@a.test", data, size) == 0)
		abort();   /* forging one needs the key */
	if (k != NULL)
		abort();
	return 0;
}
