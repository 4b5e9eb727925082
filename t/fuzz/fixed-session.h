/* fixed-session.h - a session between two devices made from a fixed seed,
 * so fuzz targets (and their corpora) can mutate real envelopes: env[0] is
 * Alice's prekey message to Bob, env[1] her second message. */
#ifndef NC_FIXED_SESSION_H
#define NC_FIXED_SESSION_H

#include "../unit/crypto-util.h"
#include "envelope.h"

static tuser fx_a, fx_b;
static nc_buf fx_env[2];

static inline void
fx_init(void)
{
	static int done;
	nc_ratchet *sa;
	nc_cert c;
	nc_payload p = { NC_PL_TEXT, { 1 }, 1700000000, (const uint8_t *)"fixed", 5, 0, NULL, NC_PL_NOGOSSIP };
	uint8_t id[16];

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0)
		abort();
	det_seed(4242);
	tuser_make(&fx_a, "alice@a.test");
	tuser_make(&fx_b, "bob@b.test");
	{
		nc_ratchet *sb;
		if (tsession(&fx_a, &fx_b, 1, &sa, &sb) != 0)
			abort();
		nc_ratchet_free(sb);
	}
	memset(&c, 0, sizeof c);
	c.who = fx_a.party;
	c.devlist_version = 1;
	for (int i = 0; i < 2; i++) {
		memset(&fx_env[i], 0, sizeof fx_env[i]);
		if (nc_envelope_make(&fx_env[i], id, sa, fx_a.dev, &c, fx_b.party.dev,
		    fx_b.party.dh_pk, &p) != 0)
			abort();
	}
	nc_ratchet_free(sa);
}

/* Open and decrypt as Bob, starting his session from the prekey header
 * (as a client does for a first message): 0 if accepted. */
static inline int
fx_receive(const uint8_t *data, size_t size)
{
	nc_unsealed u;
	nc_buf ub = NC_BUF_INIT, pb = NC_BUF_INIT;
	nc_payload pl;
	uint8_t id[16];
	nc_x3dh_out x;
	nc_ratchet *st = NULL;
	int rc;

	if ((rc = nc_envelope_open(&u, &ub, id, fx_b.dev, data, size)) == 0) {
		/* A prekey message starts Bob's session from its header. */
		if (u.prekey && nc_x3dh_respond(&x, &fx_b.party, fx_b.dev, &fx_b.spk,
		    u.hdr.has_otpk ? &fx_b.otpk : NULL, &u.cert.who, &u.hdr) == 0)
			st = nc_ratchet_init_responder(&x, &fx_b.spk);
		rc = st ? nc_envelope_decrypt(&pl, &pb, st, &u) : -1;
		nc_ratchet_free(st);
	}
	nc_buf_free(&ub);
	nc_buf_free(&pb);
	return rc;
}

#endif
