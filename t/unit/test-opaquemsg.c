/* test-opaquemsg.c - the OPAQUE account messages (protocol.md 1.2) and the
 * version-2 identity-key backup (2.10): round trips, every truncation and
 * extension refused, the operation's MAC and the migration's signature
 * bound to every byte, the user and the key, and a backup of one version
 * never opened as the other. */
#include <sodium.h>

#include "check.h"
#include "err.h"
#include "idbackup.h"
#include "relaymsg.h"

/* every prefix and a byte more are refused */
static void
strict_op(const nc_buf *b)
{
	struct nc_opreq o;
	uint8_t more[1024];
	size_t i;
	int bad = 0;

	for (i = 0; i < b->len; i++)
		bad += nc_opreq_dec(&o, b->p, i) == 0;
	memcpy(more, b->p, b->len);
	more[b->len] = 0;
	bad += nc_opreq_dec(&o, more, b->len + 1) == 0;
	CHECK_INT(bad, 0);
}

int
main(void)
{
	uint8_t key[64], key2[64], rec[192], ke1[96], ke2[320], tok[NC_LOGIN_TOKEN_LEN];
	uint8_t x[96], y[320], t2[NC_LOGIN_TOKEN_LEN], ex[64], ex2[64];
	uint8_t pk[32], sk[64];
	struct nc_register2 r, r2;
	struct nc_opreq o, od;
	struct nc_migrate m, md;
	nc_buf b = NC_BUF_INIT;
	nc_idkey *id, *got = NULL;
	nc_idbackup d;
	size_t i;
	int cost, taken, bad;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof key);
	memcpy(key2, key, sizeof key2);
	key2[0] ^= 1;
	randombytes_buf(rec, sizeof rec);
	randombytes_buf(ke1, sizeof ke1);
	randombytes_buf(ke2, sizeof ke2);
	randombytes_buf(tok, sizeof tok);

	/* registration request and response */
	CHECK_INT(nc_regreq_enc(&b, ke1), 0);
	CHECK_INT(b.len, 33);
	CHECK_INT(b.p[0], 2);
	CHECK_INT(nc_regreq_dec(x, b.p, b.len), 0);
	CHECK_MEM(x, ke1, 32);
	CHECK(nc_regreq_dec(x, b.p, b.len - 1) != 0);
	b.p[0] = 1;
	CHECK(nc_regreq_dec(x, b.p, b.len) != 0);   /* version 1 is the old scheme's */
	nc_buf_reset(&b);
	CHECK_INT(nc_regresp_enc(&b, 1, ke2), 0);
	CHECK_INT(nc_regresp_dec(&taken, y, b.p, b.len), 0);
	CHECK(taken == 1 && memcmp(y, ke2, 64) == 0);
	b.p[1] = 2;
	CHECK(nc_regresp_dec(&taken, y, b.p, b.len) != 0);   /* taken is 0 or 1 */

	/* registration */
	memset(&r, 0, sizeof r);
	memcpy(r.record, rec, sizeof rec);
	r.cost = NC_COST_MODERATE;
	memcpy(r.device_sign_pk, ke1, 32);
	strcpy(r.invite, "inv-1");
	nc_buf_reset(&b);
	CHECK_INT(nc_register2_enc(&b, &r), 0);
	CHECK_INT(nc_register2_dec(&r2, b.p, b.len), 0);
	CHECK(memcmp(r.record, r2.record, 192) == 0 && r2.cost == r.cost &&
	    memcmp(r.device_sign_pk, r2.device_sign_pk, 32) == 0);
	CHECK_STR(r2.invite, "inv-1");
	b.p[1 + 192] = 4;   /* no such cost name */
	CHECK(nc_register2_dec(&r2, b.p, b.len) != 0);
	b.p[1 + 192] = 0;
	CHECK(nc_register2_dec(&r2, b.p, b.len) != 0);
	r.cost = 0;
	nc_buf_reset(&b);
	CHECK(nc_register2_enc(&b, &r) != 0);

	/* KE1, KE2 */
	nc_buf_reset(&b);
	CHECK_INT(nc_ke1_enc(&b, ke1), 0);
	CHECK_INT(nc_ke1_dec(x, b.p, b.len), 0);
	CHECK_MEM(x, ke1, 96);
	nc_buf_reset(&b);
	CHECK_INT(nc_ke2_enc(&b, NC_COST_SENSITIVE, ke2, tok), 0);
	CHECK_INT(b.len, 2 + 320 + NC_LOGIN_TOKEN_LEN);
	CHECK_INT(nc_ke2_dec(&cost, y, t2, b.p, b.len), 0);
	CHECK(cost == NC_COST_SENSITIVE && memcmp(y, ke2, 320) == 0 &&
	    memcmp(t2, tok, sizeof tok) == 0);
	CHECK(nc_ke2_dec(&cost, y, t2, b.p, b.len - 1) != 0);

	/* an operation: its MAC covers every byte, the user and the key */
	for (int op = NC_OP_ADD_DEVICE; op <= NC_OP_PASSWD; op++) {
		memset(&o, 0, sizeof o);
		memcpy(o.token, tok, sizeof tok);
		memcpy(o.ke3, ke2, 64);
		o.op = op;
		memcpy(o.device_sign_pk, ke1, 32);
		memcpy(o.record, rec, sizeof rec);
		o.cost = NC_COST_INTERACTIVE;
		o.backup_len = NC_IDBACKUP_LEN;
		randombytes_buf(o.backup, o.backup_len);
		nc_buf_reset(&b);
		CHECK_INT(nc_opreq_enc(&b, &o, key, "alice@a.test"), 0);
		CHECK_INT(nc_opreq_dec(&od, b.p, b.len), 0);
		CHECK_INT(od.op, op);
		CHECK_INT(od.maclen + NC_OP_MAC_LEN, b.len);
		CHECK_MEM(od.token, tok, sizeof tok);
		if (op == NC_OP_PASSWD)
			CHECK(od.backup_len == o.backup_len &&
			    memcmp(od.backup, o.backup, o.backup_len) == 0 &&
			    memcmp(od.record, rec, 192) == 0);
		CHECK_INT(nc_opreq_verify(&od, b.p, key, "alice@a.test"), 0);
		CHECK_INT(nc_opreq_verify(&od, b.p, key2, "alice@a.test"), NC_EPERM);
		CHECK_INT(nc_opreq_verify(&od, b.p, key, "bob@a.test"), NC_EPERM);
		for (i = 0, bad = 0; i < b.len; i++) {
			b.p[i] ^= 0x10;
			bad += nc_opreq_dec(&od, b.p, b.len) == 0 &&
			    nc_opreq_verify(&od, b.p, key, "alice@a.test") == 0;
			b.p[i] ^= 0x10;
		}
		CHECK_INT(bad, 0);
		strict_op(&b);
	}
	o.op = 9;
	nc_buf_reset(&b);
	CHECK(nc_opreq_enc(&b, &o, key, "alice@a.test") != 0);

	/* the migration, signed by the old auth key */
	crypto_sign_keypair(pk, sk);
	memset(&m, 0, sizeof m);
	randombytes_buf(m.nonce, sizeof m.nonce);
	memcpy(m.record, rec, sizeof rec);
	m.cost = NC_COST_MODERATE;
	nc_buf_reset(&b);
	CHECK_INT(nc_migrate_enc(&b, &m, sk, "alice@a.test"), 0);
	CHECK_INT(nc_migrate_dec(&md, b.p, b.len), 0);
	CHECK_INT(md.backup_len, 0);
	CHECK_INT(nc_migrate_verify(&md, b.p, pk, "alice@a.test"), 0);
	CHECK_INT(nc_migrate_verify(&md, b.p, pk, "alice@b.test"), NC_EPERM);
	for (i = 0, bad = 0; i < b.len; i++) {
		b.p[i] ^= 1;
		bad += nc_migrate_dec(&md, b.p, b.len) == 0 &&
		    nc_migrate_verify(&md, b.p, pk, "alice@a.test") == 0;
		b.p[i] ^= 1;
	}
	CHECK_INT(bad, 0);

	/* the version-2 backup: under the export key, never taken for v1 */
	randombytes_buf(ex, sizeof ex);
	memcpy(ex2, ex, sizeof ex2);
	ex2[63] ^= 1;
	id = nc_idkey_gen();
	CHECK(id != NULL);
	nc_buf_reset(&b);
	CHECK_INT(nc_idbackup_seal_export(&b, ex, "alice@a.test", id), 0);
	CHECK_INT(b.len, NC_IDBACKUP_LEN);
	CHECK_INT(b.p[0], 2);
	CHECK_INT(nc_idbackup_decode(&d, b.p, b.len), 0);
	CHECK_INT(d.version, 2);
	CHECK_INT(nc_idbackup_open_export(&got, ex, "alice@a.test", b.p, b.len), 0);
	CHECK(got != NULL && memcmp(got->sk, id->sk, 64) == 0);
	nc_idkey_free(got);
	got = NULL;
	/* the last byte of the export key matters: all 64 are the key's */
	CHECK_INT(nc_idbackup_open_export(&got, ex2, "alice@a.test", b.p, b.len), NC_ESECURITY);
	CHECK_INT(nc_idbackup_open_export(&got, ex, "bob@a.test", b.p, b.len), NC_ESECURITY);
	CHECK_INT(nc_idbackup_open(&got, ex, "alice@a.test", b.p, b.len), NC_ESECURITY);
	nc_buf_reset(&b);
	CHECK_INT(nc_idbackup_seal(&b, ex, "alice@a.test", id), 0);
	CHECK_INT(nc_idbackup_open_export(&got, ex, "alice@a.test", b.p, b.len), NC_ESECURITY);
	b.p[0] = 3;
	CHECK_INT(nc_idbackup_decode(&d, b.p, b.len), NC_EDATA);
	CHECK(got == NULL);

	nc_idkey_free(id);
	nc_buf_free(&b);
	return check_done("opaquemsg");
}
