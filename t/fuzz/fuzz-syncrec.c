/* fuzz-syncrec.c - the data of a backup record as nc-sync restore and
 * import decode it (lib/app/syncbackup.c): contacts, history chunks,
 * settings and meta, from an archive or relay that holds the root key's
 * owner's records - bounded, strict, never out of bounds. The first byte
 * picks the kind. */
#include <stdint.h>
#include <stdlib.h>

#include "syncbackup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[] = { "contact/bob@b.test", "hist/0", "settings",
	    "meta" };

	if (size < 1)
		return 0;
	(void)!nc_sync_record_check(ids[data[0] % 4], data + 1, size - 1);
	return 0;
}
