/* fuzz-opaque.c - OPAQUE's messages from an attacker (lib/proto/opaque.c).
 * The first byte chooses the role: a client given a KE2 that is not the
 * server's must never authenticate (an oracle: no key, no KE3 out); a
 * server given any KE1 must answer or refuse without reading out of
 * bounds, and any KE3 but the right one must be refused. Fixed keys, the
 * identity KSF, so a run is fast and repeatable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "opaque.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t pw[] = "fuzz password", user[] = "alice@a.test";
static const struct nc_opaque_ids ids = { (const uint8_t *)"newchat opaque v1", 17,
    NULL, NULL, 0, 0 };
static const struct nc_opaque_ksf ksf = { 0, 0 };
static uint8_t ssk[32], spk[32], oseed[64], rec[NC_OPAQUE_RECORD], ke1[96], ke2[320];
static struct nc_opaque_client client;
static struct nc_opaque_server server;

static void
setup(void)
{
	static int done;
	uint8_t seed[32] = { 7 }, req[32], resp[64], exp[64];
	struct nc_opaque_client c;

	if (done++)
		return;
	if (sodium_init() < 0)
		abort();
	memset(oseed, 9, sizeof oseed);
	if (nc_opaque_server_keypair(ssk, spk, seed) ||
	    nc_opaque_reg_start(&c, req, pw, sizeof pw - 1) ||
	    nc_opaque_reg_respond(resp, req, spk, user, sizeof user - 1, oseed) ||
	    nc_opaque_reg_finish(&c, rec, exp, pw, sizeof pw - 1, resp, &ids, &ksf) ||
	    nc_opaque_ke1(&client, ke1, pw, sizeof pw - 1) ||
	    nc_opaque_ke2(&server, ke2, &ids, ssk, spk, rec, user, sizeof user - 1, oseed, ke1))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t msg[320], ke3[64], k[64], exp[64], out[320];
	struct nc_opaque_client c;
	struct nc_opaque_server s;

	setup();
	if (size < 1)
		return 0;
	memset(msg, 0, sizeof msg);
	memcpy(msg, data + 1, size - 1 < sizeof msg ? size - 1 : sizeof msg);
	switch (data[0] % 3) {
	case 0:   /* a KE2 */
		c = client;
		if (nc_opaque_ke3(&c, ke3, k, exp, pw, sizeof pw - 1, msg, &ids, &ksf) == 0 &&
		    memcmp(msg, ke2, sizeof ke2) != 0)
			abort();   /* authenticated a KE2 the server never sent */
		break;
	case 1:   /* a KE1 */
		if (nc_opaque_ke2(&s, out, &ids, ssk, spk, rec, user, sizeof user - 1, oseed,
		    msg) != 0 && memcmp(msg, ke1, sizeof ke1) == 0)
			abort();   /* refused the client's own KE1 */
		break;
	default:  /* a KE3 */
		if (nc_opaque_server_finish(&server, k, msg) == 0) {
			c = client;
			if (nc_opaque_ke3(&c, ke3, k, exp, pw, sizeof pw - 1, ke2, &ids, &ksf) != 0 ||
			    memcmp(ke3, msg, sizeof ke3) != 0)
				abort();   /* accepted a KE3 the client never made */
		}
	}
	return 0;
}
