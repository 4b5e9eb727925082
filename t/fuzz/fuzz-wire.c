/* fuzz-wire.c - the generic decoder must never read out of bounds. */
#include <stdint.h>
#include <stddef.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nc_dec d;
	char s[300];
	size_t n;

	nc_dec_init(&d, data, size);
	while (nc_dec_left(&d) > 0 && !d.err) {
		switch (nc_get_u8(&d) % 6) {
		case 0: nc_get_u16(&d); break;
		case 1: nc_get_u32(&d); break;
		case 2: nc_get_u64(&d); break;
		case 3: nc_get_fixed(&d, 7); break;
		case 4: nc_get_bytes(&d, 1000, &n); break;
		case 5: nc_get_str(&d, s, sizeof s - 1); break;
		}
	}
	if (nc_dec_end(&d, "fuzz") != 0)
		return 0;
	(void)nc_utf8_valid(data, size);
	return 0;
}
