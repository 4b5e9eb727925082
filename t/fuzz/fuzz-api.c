/* fuzz-api.c - every relay body decoder must refuse or accept without
 * reading out of bounds, and what it accepts must re-encode to the same
 * bytes (one encoding per value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relaymsg.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const nc_buf *b, const uint8_t *p, size_t n)
{
	if (b->len != n || (n && memcmp(b->p, p, n) != 0))
		abort();
}

static void
one(int kind, const uint8_t *p, size_t n)
{
	static struct nc_register reg;
	static struct nc_challenge ch;
	static struct nc_authreq au;
	static struct nc_prekeys pk;
	static struct nc_prekey_count pc;
	static struct nc_claim_req cq;
	static struct nc_claim_resp cr;
	static struct nc_deliver dl;
	static struct nc_mailbox mb;
	static struct nc_ack ack;
	static struct nc_register2 r2;
	static struct nc_opreq op;
	static struct nc_migrate mg;
	static struct nc_counter_req cq2;
	static struct nc_counter ct;
	static struct nc_deliveries dv;
	static struct nc_stale sl;
	static uint8_t x[320], tok[NC_LOGIN_TOKEN_LEN];
	int i;
	nc_buf b = NC_BUF_INIT;
	int rc = -1;

	switch (kind) {
	case 0: if (nc_register_dec(&reg, p, n) == 0) rc = nc_register_enc(&b, &reg); break;
	case 1: if (nc_challenge_dec(&ch, p, n) == 0) rc = nc_challenge_enc(&b, &ch); break;
	case 2: if (nc_adddev_dec(&au, p, n) == 0) rc = nc_adddev_enc(&b, &au); break;
	case 3: if (nc_delete_dec(&au, p, n) == 0) rc = nc_delete_enc(&b, &au); break;
	case 4: if (nc_prekeys_dec(&pk, p, n) == 0) rc = nc_prekeys_enc(&b, &pk); break;
	case 5: if (nc_prekey_count_dec(&pc, p, n) == 0) rc = nc_prekey_count_enc(&b, &pc); break;
	case 6: if (nc_claim_req_dec(&cq, p, n) == 0) rc = nc_claim_req_enc(&b, &cq); break;
	case 7: if (nc_claim_resp_dec(&cr, p, n) == 0) rc = nc_claim_resp_enc(&b, &cr); break;
	case 8: if (nc_deliver_dec(&dl, p, n) == 0) rc = nc_deliver_enc(&b, &dl); break;
	case 9: if (nc_mailbox_dec(&mb, p, n) == 0) rc = nc_mailbox_enc(&b, &mb); break;
	case 10: if (nc_ack_dec(&ack, p, n) == 0) rc = nc_ack_enc(&b, &ack); break;
	/* OPAQUE (protocol.md 1.2) */
	case 11: if (nc_regreq_dec(x, p, n) == 0) rc = nc_regreq_enc(&b, x); break;
	case 12: if (nc_regresp_dec(&i, x, p, n) == 0) rc = nc_regresp_enc(&b, i, x); break;
	case 13: if (nc_register2_dec(&r2, p, n) == 0) rc = nc_register2_enc(&b, &r2); break;
	case 14: if (nc_ke1_dec(x, p, n) == 0) rc = nc_ke1_enc(&b, x); break;
	case 15: if (nc_ke2_dec(&i, x, tok, p, n) == 0) rc = nc_ke2_enc(&b, i, x, tok); break;
	/* MAC'd and signed: the MAC or signature is all that follows */
	case 16: if (nc_opreq_dec(&op, p, n) == 0 && op.maclen + NC_OP_MAC_LEN != n) abort(); break;
	case 17: if (nc_migrate_dec(&mg, p, n) == 0 && mg.siglen + NC_SIG_LEN != n) abort(); break;
	case 18: if (nc_counter_req_dec(&cq2, p, n) == 0) rc = nc_counter_req_enc(&b, &cq2); break;
	case 19: if (nc_counter_dec(&ct, p, n) == 0) rc = nc_counter_enc(&b, &ct); break;
	/* pairwise envelopes to many users, and the 409 naming stale ones */
	case 20:
		if (nc_deliveries_dec(&dv, p, n) == 0) {
			if (dv.too_many || dv.n < dv.nusers || dv.n > NC_DELIVERIES_MAX)
				abort();
			rc = nc_deliveries_enc(&b, &dv);
		}
		break;
	case 21: if (nc_stale_dec(&sl, p, n) == 0) rc = nc_stale_enc(&b, &sl); break;
	default: {
		char u[NC_NAME_MAX + 1], d[NC_DOMAIN_MAX + 1], s[512];
		size_t k = n < sizeof s - 1 ? n : sizeof s - 1;
		memcpy(s, p, k);
		s[k] = '\0';
		(void)nc_name_valid(s);
		(void)!nc_addr_split(s, u, d);
		break;
	}
	}
	if (rc == 0)
		same(&b, p, n);
	else if (rc > 0)
		abort();   /* accepted but cannot encode */
	nc_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	one(data[0] % 23, data + 1, size - 1);
	return 0;
}
