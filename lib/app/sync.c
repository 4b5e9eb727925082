/* sync.c - nc-sync devices, link and revoke (sync.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "devinfo.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "hex.h"
#include "json.h"
#include "sync.h"

/* The sub-command's usage, for nc_cli_flag. */
static const char *use;

static void
usage(FILE *f)
{
	fputs(use, f);
}

/* Parse a sub-command's options: the common ones and longs (ending with
 * a NULL entry, short letters >= 256 not used); each other option's
 * letter and argument go to opt(). -1 to go on, else the exit code. */
static int
parse(int argc, char **argv, const char *u, const struct option *longs,
    int *json, int (*opt)(int, const char *, void *), void *ctx)
{
	struct option o[16] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
	};
	int c, n = 3, rc;

	use = u;
	for (; longs && longs->name && n < 15; longs++)
		o[n++] = *longs;
	memset(&o[n], 0, sizeof o[n]);
	optind = 0;   /* glibc: start afresh on this argv */
	while ((c = getopt_long(argc, argv, "+hjqvV", o, NULL)) != -1) {
		if (opt && strchr("hjqvV?", c) == NULL) {
			if ((rc = opt(c, optarg, ctx)) >= 0)
				return rc;
			continue;
		}
		if ((rc = nc_cli_flag(c, usage, json)) >= 0)
			return rc;
	}
	return -1;
}

/* Our own list: fetched from the relay (the directory records what
 * changed); the pinned copy when the relay cannot be reached. */
static int
own_list(nc_state *s, nc_self *self, nc_devlist *l)
{
	int rc = nc_self_check(s, self, 1);

	if (rc == NC_EUNAVAIL || rc == NC_ETEMP || rc == NC_ENOHOST) {
		nc_cli_info("relay %s not reachable: devices as last seen",
		    self->domain);
		rc = 0;
	}
	if (rc == 0)
		rc = nc_dir_show(s, self->addr, l, NULL, NULL, NULL);
	return rc;
}

static int
device_line(nc_state *s, const nc_self *self, const nc_devlist_dev *d,
    int json, nc_buf *o)
{
	char hex[33], name[NC_DEVNAME_MAX + 1], added[32], seen[32];
	int64_t ta, ts;
	int me = memcmp(d->id, self->dev->id, NC_DEVID_LEN) == 0;

	nc_hex_encode(hex, d->id, NC_DEVID_LEN);
	nc_devinfo_name(s, hex, name);
	ta = nc_devinfo_added(s, hex);
	ts = me ? (int64_t)time(NULL) : nc_devinfo_seen(s, hex);
	if (json) {
		if (ta)
			nc_time_iso(added, ta);
		if (ts)
			nc_time_iso(seen, ts);
		if (nc_json_kv(o, "type", "device") ||
		    nc_json_kv(o, "device", hex) || nc_json_kv(o, "name", name) ||
		    nc_json_kv(o, "added", ta ? added : "") ||
		    nc_json_kv(o, "last_seen", ts ? seen : "") ||
		    nc_buf_printf(o, ",\"this\":%s}\n", me ? "true" : "false"))
			return NC_EOSERR;
		return 0;
	}
	if (ta)
		nc_time_local(added, ta);
	if (ts)
		nc_time_local(seen, ts);
	return nc_buf_printf(o, "%s %s %-16s added %-16s last seen %s\n",
	    me ? "*" : " ", hex, *name ? name : "-", ta ? added : "?",
	    me ? "now (this device)" : ts ? seen : "never");
}

int
nc_sync_devices(int argc, char **argv)
{
	nc_state *s = NULL;
	nc_self self;
	nc_devlist l;
	nc_buf o = NC_BUF_INIT;
	int rc, json = 0, i;

	if ((rc = parse(argc, argv, "usage: nc-sync devices [-hqv] [--json]\n"
	    "  This user's devices as its signed device list names them: id,\n"
	    "  name, when added, when a message from it last came; * marks\n"
	    "  this one.\n", NULL, &json, NULL, NULL)) >= 0)
		return rc;
	if (optind != argc) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	if ((rc = own_list(s, &self, &l)) != 0)
		goto done;
	for (i = 0; i < l.n && rc == 0; i++)
		rc = device_line(s, &self, &l.dev[i], json, &o);
	if (rc == 0 && o.len)
		fwrite(o.p, 1, o.len, stdout);
	if (rc == 0 && nc_devlist_find(&l, self.dev->id) < 0)
		rc = nc_fail(NC_EPERM, "%s: this device is no longer in the device "
		    "list (revoked)", self.addr);
done:
	nc_buf_free(&o);
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}
