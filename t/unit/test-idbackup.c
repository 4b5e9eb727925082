/* test-idbackup.c - the identity-key backup: round trip, every bit flip
 * refused, other user, other key, other sizes. */
#include <sodium.h>

#include "check.h"
#include "err.h"
#include "idbackup.h"

int
main(void)
{
	uint8_t bk[32], bk2[32];
	nc_buf b = NC_BUF_INIT, b2 = NC_BUF_INIT;
	nc_idkey *id, *got = NULL;
	nc_idbackup d;
	size_t i;
	int bit, bad = 0, rc;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(bk, sizeof bk);
	memcpy(bk2, bk, sizeof bk2);
	bk2[31] ^= 1;
	id = nc_idkey_gen();
	CHECK(id != NULL);
	CHECK_INT(nc_idbackup_seal(&b, bk, "alice@a.test", id), 0);
	CHECK_INT(b.len, NC_IDBACKUP_LEN);
	CHECK_INT(b.p[0], 1);
	CHECK_INT(b.p[1], NC_KT_IDBACKUP);
	CHECK_MEM(b.p + 2, id->pk, 32);

	/* round trip */
	CHECK_INT(nc_idbackup_open(&got, bk, "alice@a.test", b.p, b.len), 0);
	CHECK(got != NULL && memcmp(got->sk, id->sk, 64) == 0 &&
	    memcmp(got->pk, id->pk, 32) == 0);
	nc_idkey_free(got);

	/* two seals of one key differ (fresh nonce) and both open */
	CHECK_INT(nc_idbackup_seal(&b2, bk, "alice@a.test", id), 0);
	CHECK(b2.len == b.len && memcmp(b2.p, b.p, b.len) != 0);

	/* every single bit flipped is refused, nothing released */
	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit++) {
			b.p[i] ^= (uint8_t)(1 << bit);
			got = NULL;
			rc = nc_idbackup_open(&got, bk, "alice@a.test", b.p, b.len);
			if (rc == 0 || got != NULL ||
			    (rc != NC_EDATA && rc != NC_ESECURITY))
				bad++;
			b.p[i] ^= (uint8_t)(1 << bit);
		}
	CHECK_INT(bad, 0);
	/* header flips are malformed; the rest does not authenticate */
	b.p[0] ^= 2;
	CHECK_INT(nc_idbackup_open(&got, bk, "alice@a.test", b.p, b.len), NC_EDATA);
	b.p[0] ^= 2;
	b.p[40] ^= 1;
	CHECK_INT(nc_idbackup_open(&got, bk, "alice@a.test", b.p, b.len), NC_ESECURITY);
	b.p[40] ^= 1;

	/* bound to the user and the backup key */
	CHECK_INT(nc_idbackup_open(&got, bk, "alice@b.test", b.p, b.len), NC_ESECURITY);
	CHECK_INT(nc_idbackup_open(&got, bk, "mallory@a.test", b.p, b.len), NC_ESECURITY);
	CHECK_INT(nc_idbackup_open(&got, bk2, "alice@a.test", b.p, b.len), NC_ESECURITY);
	CHECK(got == NULL);

	/* sizes: short, long, empty */
	CHECK_INT(nc_idbackup_decode(&d, b.p, b.len - 1), NC_EDATA);
	CHECK_INT(nc_buf_add(&b2, "", 0), 0);
	nc_buf_reset(&b2);
	CHECK_INT(nc_buf_add(&b2, b.p, b.len), 0);
	CHECK_INT(nc_buf_add(&b2, "x", 1), 0);
	CHECK_INT(nc_idbackup_decode(&d, b2.p, b2.len), NC_EDATA);
	CHECK_INT(nc_idbackup_decode(&d, b.p, 0), NC_EDATA);
	CHECK_INT(nc_idbackup_decode(&d, b.p, b.len), 0);
	CHECK_MEM(d.identity, id->pk, 32);

	/* a backup naming another identity key than the one sealed in it
	 * (made with the right backup key) is refused too */
	{
		nc_idkey *other = nc_idkey_gen();
		nc_buf ob = NC_BUF_INIT;
		CHECK_INT(nc_idbackup_seal(&ob, bk, "alice@a.test", other), 0);
		memcpy(ob.p + 2, id->pk, 32);   /* AD then differs: refused */
		CHECK_INT(nc_idbackup_open(&got, bk, "alice@a.test", ob.p, ob.len),
		    NC_ESECURITY);
		nc_buf_free(&ob);
		nc_idkey_free(other);
	}
	nc_idkey_free(id);
	nc_buf_free(&b);
	nc_buf_free(&b2);
	return check_done("idbackup");
}
