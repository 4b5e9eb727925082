/* nc-droplist - test helper: the device of NC_HOME (which holds the
 * identity key) publishes its user's device list, one version up, without
 * the device DEVHEX - a user dropping a stolen laptop, before there is a
 * command for it.
 *   NC_HOME=... nc-droplist DEVHEX
 * Exit 0 when the relay took the new list; the library's code otherwise. */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "buf.h"
#include "cli.h"
#include "devlist.h"
#include "err.h"
#include "hex.h"
#include "relayc.h"
#include "state.h"

int
main(int argc, char **argv)
{
	uint8_t id[NC_DEVID_LEN];
	nc_state *s = NULL;
	nc_self self;
	nc_relay *r = NULL;
	nc_buf enc = NC_BUF_INIT;
	int rc, i;

	if (nc_cli_init("nc-droplist") != 0)
		return 70;
	if (argc != 2 || nc_hex_decode(id, sizeof id, argv[1],
	    strlen(argv[1])) != 0) {
		fprintf(stderr, "usage: nc-droplist DEVHEX\n");
		return 64;
	}
	if ((rc = nc_cli_open(&s, &self)) != 0)
		goto done;
	if (self.id == NULL || (i = nc_devlist_find(&self.list, id)) < 0) {
		rc = nc_fail(NC_EUSAGE, "no identity key here, or no such device");
		goto done;
	}
	self.list.dev[i] = self.list.dev[--self.list.n];
	self.list.version++;
	if ((rc = nc_devlist_sign(&self.list, self.id->sk)) == 0 &&
	    (rc = nc_devlist_encode(&self.list, &enc)) == 0 &&
	    (rc = nc_relay_open(&r, s->home, self.domain)) == 0)
		rc = nc_relay_put_devlist(r, self.name, self.dev, enc.p, enc.len);
done:
	if (rc != 0)
		fprintf(stderr, "nc-droplist: %s\n", nc_errmsg());
	nc_relay_close(r);
	nc_buf_free(&enc);
	if (s != NULL)
		nc_state_close(s);
	return rc;
}
