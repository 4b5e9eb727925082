/* sync.c - nc-sync devices, link and revoke (sync.h). */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "devinfo.h"
#include "devlink.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "hex.h"
#include "inbox.h"
#include "json.h"
#include "link.h"
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
		/* an object of its own: nc_json_kv opens one in an empty buffer */
		nc_buf j = NC_BUF_INIT;
		int rc = 0;

		if (ta)
			nc_time_iso(added, ta);
		if (ts)
			nc_time_iso(seen, ts);
		if (nc_json_kv(&j, "type", "device") ||
		    nc_json_kv(&j, "device", hex) || nc_json_kv(&j, "name", name) ||
		    nc_json_kv(&j, "added", ta ? added : "") ||
		    nc_json_kv(&j, "last_seen", ts ? seen : "") ||
		    nc_buf_printf(&j, ",\"this\":%s}\n", me ? "true" : "false") ||
		    nc_buf_add(o, j.p, j.len))
			rc = NC_EOSERR;
		nc_buf_free(&j);
		return rc;
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

struct link_opts {
	unsigned long hist;
};

static int
link_opt(int c, const char *arg, void *ctx)
{
	struct link_opts *o = ctx;
	char *end;

	if (c != 'H')
		return NC_EUSAGE;
	o->hist = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || o->hist > NC_LINK_MSGS_MAX) {
		fprintf(stderr, "nc-sync: --history: 0 to %u messages\n",
		    NC_LINK_MSGS_MAX);
		return NC_EUSAGE;
	}
	return -1;
}

int
nc_sync_link(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "history", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct link_opts o = { 10000 };
	char code[NC_LINK_CODE_MAX + 1] = "";
	nc_state *s = NULL;
	nc_self self;
	unsigned nc = 0, nh = 0;
	int rc, json = 0, i;

	if ((rc = parse(argc, argv, "usage: nc-sync link [-hqv] [--history N] CODE\n"
	    "  On a device of this user: send the identity key, the contacts with\n"
	    "  their trust state and the newest N messages (default 10000, as\n"
	    "  many as fit in 8 MB) to the new device that shows CODE\n"
	    "  (nc-keygen --link). CODE may be typed in several words.\n",
	    longs, &json, link_opt, &o)) >= 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return NC_EUSAGE;
	}
	for (i = optind; i < argc; i++)
		if (strlen(code) + strlen(argv[i]) >= sizeof code)
			return nc_fail(NC_EDATA, "link code: too long");
		else
			strcat(code, argv[i]);
	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	if ((rc = nc_devlink_send(s, &self, code, (unsigned)o.hist, &nc, &nh)) == 0)
		nc_cli_info("%s: sent the identity key, %u contact%s and %u message%s "
		    "to the new device; it lists itself and says hello", self.addr,
		    nc, nc == 1 ? "" : "s", nh, nh == 1 ? "" : "s");
	sodium_memzero(code, sizeof code);
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}

/* DEVICE: a whole id, a unique prefix of at least 4 hex digits, or a
 * unique name. */
static int
find_device(nc_state *s, const nc_devlist *l, const char *want,
    uint8_t id[NC_DEVID_LEN])
{
	char hex[33], name[NC_DEVNAME_MAX + 1];
	size_t n = strlen(want);
	int i, found = -1, many = 0;

	for (i = 0; i < l->n; i++) {
		nc_hex_encode(hex, l->dev[i].id, NC_DEVID_LEN);
		nc_devinfo_name(s, hex, name);
		if ((n >= 4 && n <= 32 && strncmp(hex, want, n) == 0) ||
		    (*name && strcmp(name, want) == 0)) {
			many += found >= 0;
			found = i;
		}
	}
	if (found < 0)
		return nc_fail(NC_EUSAGE, "%s: no such device (nc-sync devices "
		    "lists them)", want);
	if (many)
		return nc_fail(NC_EUSAGE, "%s: names more than one device; give "
		    "more of its id", want);
	memcpy(id, l->dev[found].id, NC_DEVID_LEN);
	return 0;
}

/* What waits in our mailbox is read (stored for the next nc-recv) before a
 * device is dropped: what it sent while it was listed (a sent copy, its
 * group sender key) would otherwise be refused, with an alarm, as from a
 * device not in the list. Errors: left for nc-recv. */
static void
read_waiting(nc_state *s, nc_self *self)
{
	nc_rx rx;
	uint64_t cursor = 0;
	int more = 1;

	memset(&rx, 0, sizeof rx);
	while (more && nc_inbox_fetch(s, self, 0, &cursor, &more, &rx) == 0)
		;
}

int
nc_sync_revoke(int argc, char **argv)
{
	nc_state *s = NULL;
	nc_self self;
	nc_devlist l;
	uint8_t id[NC_DEVID_LEN];
	char hex[33];
	int rc, json = 0;

	if ((rc = parse(argc, argv, "usage: nc-sync revoke [-hqv] DEVICE\n"
	    "  Drop DEVICE (its id, a unique prefix of 4+ hex digits, or its\n"
	    "  name) from this user's signed device list: the relay deletes its\n"
	    "  mailbox and prekeys and refuses it; contacts stop encrypting to\n"
	    "  it; the other devices report it.\n", NULL, &json, NULL, NULL)) >= 0)
		return rc;
	if (optind != argc - 1) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	if ((rc = own_list(s, &self, &l)) != 0 ||
	    (rc = find_device(s, &l, argv[optind], id)) != 0)
		goto done;
	if (memcmp(id, self.dev->id, NC_DEVID_LEN) == 0) {
		rc = nc_fail(NC_EUSAGE, "that is this device: revoke it from "
		    "another one");
		goto done;
	}
	nc_hex_encode(hex, id, NC_DEVID_LEN);
	read_waiting(s, &self);
	if ((rc = nc_account_revoke(s, &self, id)) == 0) {
		printf("%s\n", hex);
		nc_cli_info("device %s revoked: removed from the device list, its "
		    "mailbox and keys deleted at the relay", hex);
	}
done:
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}
