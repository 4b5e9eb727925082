/* nc-equivocate - test helper: a dishonest group member (T13). The device
 * of NC_HOME seals two different messages under ONE index of its sender
 * key - both properly signed, which only the key's holder can do - and
 * queues the first for one member, the second for another, then delivers
 * them over the pairwise sessions as nc-send -g does (protocol.md 3.5).
 * Each member alone sees a valid message; the transcript each one's next
 * message carries is what gives the split away.
 *   NC_HOME=... nc-equivocate GROUP USER1 TEXT1 USER2 TEXT2
 * The sender key must have reached both (send one message first). Exit 0
 * when both relays took their copy; the library's code otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "err.h"
#include "groupapp.h"
#include "groupdb.h"
#include "groupmsg.h"
#include "hex.h"
#include "outbox.h"

/* A group message carrying text under k's next index (k moves on). */
static int
seal(nc_buf *body, nc_skey *k, const nc_group_state *g,
    const uint8_t id[16], const char *text)
{
	nc_gm_inner in;
	nc_gm m;
	nc_buf inner = NC_SECBUF_INIT, blob = NC_BUF_INIT;
	int rc;

	memset(&in, 0, sizeof in);   /* an empty transcript: nothing to hide */
	memcpy(in.id, id, 16);
	in.time = (uint64_t)time(NULL);
	in.text = (const uint8_t *)text;
	in.textlen = strlen(text);
	memset(&m, 0, sizeof m);
	m.kind = NC_GM_MSG;
	m.epoch = g->epoch;
	if ((rc = nc_gm_inner_encode(&inner, &in)) == 0 &&
	    (rc = nc_group_hash(m.state, g)) == 0 &&
	    (rc = nc_group_seal_at(&blob, &m.ref, k, g, m.state, inner.p,
	    inner.len)) == 0) {
		m.blob = blob.p;
		m.bloblen = blob.len;
		rc = nc_gm_encode(body, &m);
	}
	nc_buf_free(&inner);
	nc_buf_free(&blob);
	return rc;
}

int
main(int argc, char **argv)
{
	nc_state *s = NULL;
	nc_self self;
	nc_group_state g;
	nc_skey k, k2;
	nc_flush f;
	nc_buf b1 = NC_BUF_INIT, b2 = NC_BUF_INIT;
	uint8_t gid[NC_GROUP_ID], id[16];
	char op[33];
	int64_t created;
	int rc, member = 0;

	if (nc_cli_init("nc-equivocate") != 0)
		return 70;
	if (argc != 6) {
		fprintf(stderr, "usage: nc-equivocate GROUP USER1 TEXT1 USER2 TEXT2\n");
		return 64;
	}
	memset(&self, 0, sizeof self);
	memset(&g, 0, sizeof g);
	if ((rc = nc_cli_open(&s, &self)) != 0 || (rc = nc_gdb_init(s)) != 0 ||
	    (rc = nc_gdb_find(s, argv[1], gid)) != 0 ||
	    (rc = nc_gdb_load(s, gid, &g, &member, NULL)) != 0 ||
	    (rc = nc_state_begin(s)) != 0)
		goto done;
	if ((rc = nc_gdb_own_key(s, &g, &k, &created)) != 0 ||
	    !nc_gdb_sent(s, k.id, argv[2]) || !nc_gdb_sent(s, k.id, argv[4])) {
		nc_state_rollback(s);
		rc = nc_fail(NC_EUSAGE, "no sender key here that both members "
		    "hold: send the group one message first");
		goto done;
	}
	k2 = k;   /* the same chain, so the same index */
	randombytes_buf(id, sizeof id);
	nc_hex_encode(op, id, sizeof id);
	if ((rc = seal(&b1, &k, &g, id, argv[3])) != 0 ||
	    (rc = seal(&b2, &k2, &g, id, argv[5])) != 0 ||
	    (rc = nc_gdb_key_update(s, &k)) != 0 ||
	    (rc = nc_gdb_out_add(s, op, 1, argv[2], b1.p, b1.len)) != 0 ||
	    (rc = nc_gdb_out_add(s, op, 1, argv[4], b2.p, b2.len)) != 0) {
		nc_state_rollback(s);
		goto done;
	}
	if ((rc = nc_state_commit(s)) != 0)
		goto done;
	nc_group_retry(s, &self);   /* over the pairwise sessions */
	if ((rc = nc_outbox_flush(s, &self, NULL, 1, &f)) == 0 && f.queued > 0)
		rc = nc_fail(NC_ETEMP, "a relay did not take its copy");
done:
	sodium_memzero(&k, sizeof k);
	sodium_memzero(&k2, sizeof k2);
	nc_buf_free(&b1);
	nc_buf_free(&b2);
	nc_group_free(&g);
	nc_self_free(&self);
	if (s)
		nc_state_close(s);
	if (rc != 0)
		nc_cli_error(rc);
	return nc_cli_exit(rc);
}
