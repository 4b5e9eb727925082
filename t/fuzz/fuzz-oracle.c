/* fuzz-oracle.c - the oracle: of all byte strings, only the two envelopes
 * Alice really sent may open and decrypt. Any other input that does is a
 * forgery, and the target aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fixed-session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fx_init();
	if (fx_receive(data, size) != 0)
		return 0;
	for (int i = 0; i < 2; i++)
		if (size == fx_env[i].len && memcmp(data, fx_env[i].p, size) == 0)
			return 0;
	abort();   /* a mutated ciphertext decrypted */
}
