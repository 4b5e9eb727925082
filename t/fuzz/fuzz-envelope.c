/* fuzz-envelope.c - envelope decoding, unsealing and decryption as the
 * recipient of a fixed session: never out of bounds, whatever the bytes. */
#include <stdint.h>
#include <stddef.h>

#include "../fuzz/fixed-session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nc_envelope e;

	fx_init();
	if (nc_envelope_decode(&e, data, size) != 0)
		return 0;
	volatile int rc = fx_receive(data, size);
	(void)rc;
	return 0;
}
