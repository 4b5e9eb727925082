/* fuzz-vrf.c - a VRF proof from an attacker (lib/proto/vrf.c): it never
 * verifies unless it is the one proof of that key for that input (an
 * ECVRF's output is unique), and decoding reads nothing out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vrf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t seed[32] = { 3 }, pk[32], genuine[80];
	static int ready;
	uint8_t proof[80] = { 0 }, beta[64], again[64];
	const uint8_t alpha[] = "alice@a.test";

	if (!ready++) {
		if (sodium_init() < 0)
			abort();
		nc_vrf_public(pk, seed);
		if (nc_vrf_prove(genuine, seed, alpha, sizeof alpha - 1) != 0)
			abort();
	}
	memcpy(proof, data, size < sizeof proof ? size : sizeof proof);
	if (nc_vrf_verify(beta, pk, proof, alpha, sizeof alpha - 1) == 0) {
		if (memcmp(proof, genuine, sizeof proof) != 0)
			abort();   /* a second proof for one input */
		if (nc_vrf_output(again, proof) != 0 || memcmp(again, beta, sizeof beta) != 0)
			abort();
	} else if (nc_vrf_output(again, proof) == 0 && memcmp(proof, genuine, 32) == 0 &&
	    nc_vrf_output(beta, genuine) == 0 && memcmp(again, beta, sizeof beta) != 0) {
		abort();   /* one Gamma, two outputs */
	}
	return 0;
}
