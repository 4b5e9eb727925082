/* fuzz-kt.c - a key-log fetch proof from a hostile relay (lib/proto/kt.c):
 * the decoder reads nothing out of bounds and re-encodes what it accepts
 * to the same bytes; no proof verifies for a device list the fixed log
 * never held. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t log_pk[32], log_sk[64], vrf_pk[32], idpk[32] = { 4 };
	static int ready;
	nc_kt_proof p;
	nc_buf b = NC_BUF_INIT;

	if (!ready++) {
		uint8_t seed[32] = { 5 };
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(log_pk, log_sk, seed);
		seed[0] = 6;
		nc_vrf_public(vrf_pk, seed);
	}
	if (nc_kt_proof_decode(&p, data, size) != 0)
		return 0;
	if (nc_kt_proof_encode(&b, &p) != 0 || b.len != size || memcmp(b.p, data, size) != 0)
		abort();
	nc_buf_free(&b);
	if (nc_kt_verify(&p, log_pk, vrf_pk, "a.test", "alice@a.test", idpk,
	    (const uint8_t *)"never logged", 12, NULL) == 0)
		abort();   /* a head signed without the log key */
	return 0;
}
