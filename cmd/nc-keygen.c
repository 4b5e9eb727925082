/* nc-keygen - create a user (or another device of one), register it with
 * its relay, publish its device list and prekeys, print the fingerprint. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "devinfo.h"
#include "devlink.h"
#include "err.h"
#include "home.h"
#include "json.h"
#include "netproc.h"
#include "syncbackup.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-keygen [-hqvV] [--json] [--name NAME] USER@DOMAIN\n"
	    "       nc-keygen [-hqvV] [--json] --link [--name NAME] USER@DOMAIN\n"
	    "       nc-keygen [-hqvV] --backup\n"
	    "       nc-keygen [-hqvV] --passwd\n"
	    "       nc-keygen [-hqvV] --delete USER@DOMAIN\n"
	    "  Creates NC_HOME with new keys for USER@DOMAIN, registers with the\n"
	    "  relay of DOMAIN (password from NC_PASSWORD, NC_PASSWORD_FILE or\n"
	    "  the terminal) and prints the identity fingerprint. For an existing\n"
	    "  user it adds this device: the identity key comes from its\n"
	    "  password-sealed backup at the relay, and the device lists itself.\n"
	    "  Run again after an interruption, it finishes the same sign-up.\n"
	    "  --link: no password: print a one-time code (valid 10 minutes) and\n"
	    "  wait; on a device of USER run nc-sync link CODE, which sends the\n"
	    "  identity key, contacts and history; this device then lists itself.\n"
	    "  --name: what nc-sync devices calls this device (e.g. laptop).\n"
	    "  --backup: on a device holding the identity key, make sure the relay\n"
	    "  has that backup (accounts made before backups have none).\n"
	    "  --passwd: change the password (current one as above, the new one\n"
	    "  from NC_NEW_PASSWORD, NC_NEW_PASSWORD_FILE or the terminal); other\n"
	    "  devices keep working.\n"
	    "  --delete: delete the account at its relay with the password\n"
	    "  (everything the relay holds; the name becomes free), and this\n"
	    "  NC_HOME's identity if it is that user's.\n", f);
}

static int
show(int json)
{
	nc_state *s;
	nc_self self;
	nc_buf o = NC_BUF_INIT;
	char fpr[NC_FPR_LEN];
	int rc;

	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	nc_fingerprint(fpr, self.list.identity);
	if (json) {
		if (nc_json_kv(&o, "user", self.addr) == 0 &&
		    nc_json_kv(&o, "fingerprint", self.list.n ? fpr : "") == 0 &&
		    nc_buf_addstr(&o, "}\n") == 0 && nc_buf_nul(&o) == 0)
			fputs((char *)o.p, stdout);
	} else if (self.list.n)
		printf("%s %s\n", self.addr, fpr);
	nc_buf_free(&o);
	nc_self_free(&self);
	nc_state_close(s);
	return 0;
}

static int
do_backup(void)
{
	nc_state *s;
	nc_self self;
	int rc, stored = 0;

	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	if ((rc = nc_account_backup(s, &self, &stored)) == 0)
		nc_cli_info("%s: identity-key backup %s", self.addr, stored ?
		    "stored at the relay" : "already at the relay");
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}

static int
do_passwd(void)
{
	nc_state *s;
	nc_self self;
	int rc;

	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	if ((rc = nc_account_passwd(s, &self)) == 0)
		nc_cli_info("%s: password changed; use the new one from now on",
		    self.addr);
	/* The backup at the relay opens with the new password once its head
	 * holds the slot wrapped anew: stored now (the old password no
	 * longer logs in). The password stays changed whatever happens. */
	if (rc == 0 && nc_sync_backed_up(s)) {
		nc_sync_opts o = { 0, 0 };
		nc_sync_stats st;

		memset(&st, 0, sizeof st);
		if (nc_sync_backup(s, &self, &o, &st) == 0)
			nc_cli_info("%s: backup stored, opened by the new password",
			    self.addr);
		else
			fprintf(stderr, "%s: warning: %s: the backup at the relay "
			    "opens with the new password only after the next "
			    "nc-sync backup (%s)\n", nc_prog, self.addr, nc_errmsg());
	}
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}

static int
do_delete(const char *addr)
{
	char home[4096];
	int rc, local = 0;

	/* Nothing is created: a lost device can delete its account too. */
	if ((rc = nc_home_path(home, sizeof home)) == 0 &&
	    (rc = nc_account_delete(home, addr, &local)) == 0)
		nc_cli_info("%s: account deleted at the relay%s", addr, local ?
		    ", and its identity in this NC_HOME" : "");
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "backup", no_argument, NULL, 'b' },
		{ "delete", no_argument, NULL, 'd' },
		{ "passwd", no_argument, NULL, 'p' },
		{ "link", no_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char home[4096];
	int c, json = 0, rc, added = 0, backup = 0, del = 0, passwd = 0, link = 0;
	const char *name = NULL;
	unsigned nc = 0, nh = 0;

	if (nc_cli_init("nc-keygen") != 0)
		return NC_ESOFTWARE;
	while ((c = getopt_long(argc, argv, "hjqvV", opts, NULL)) != -1)
		if (c == 'b')
			backup = 1;
		else if (c == 'd')
			del = 1;
		else if (c == 'p')
			passwd = 1;
		else if (c == 'l')
			link = 1;
		else if (c == 'n')
			name = optarg;
		else if ((rc = nc_cli_flag(c, usage, &json)) >= 0)
			return rc;
	if (optind != argc - (backup || passwd ? 0 : 1) ||
	    backup + del + passwd + link > 1 || (name && (backup || del || passwd))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	/* The relay's answers are parsed in a process that never held the
	 * keys made here, or the password (lib/net/netproc.c). */
	(void)nc_netproc_start();
	if (backup || del || passwd) {
		rc = backup ? do_backup() : passwd ? do_passwd() : do_delete(argv[optind]);
		nc_cli_error(rc);
		return nc_cli_exit(rc);
	}
	if (name && !nc_devname_valid(name, strlen(name))) {
		fprintf(stderr, "nc-keygen: --name: 1 to %d bytes of text, no "
		    "control characters\n", NC_DEVNAME_MAX);
		return NC_EUSAGE;
	}
	nc_account_set_name(name);
	if (link) {
		if ((rc = nc_home_open(home, sizeof home)) == 0) {
			nc_cli_info("on a device of %s, run: nc-sync link CODE (the "
			    "code below, valid 10 minutes); waiting", argv[optind]);
			rc = nc_devlink_new(home, argv[optind], name, stdout, &nc, &nh);
		}
		if (rc == 0) {
			nc_cli_info("linked to %s: %u contact%s and %u message%s of "
			    "history arrived; your other devices will report this one",
			    argv[optind], nc, nc == 1 ? "" : "s", nh, nh == 1 ? "" : "s");
			rc = show(json);
		}
		nc_cli_error(rc);
		return nc_cli_exit(rc);
	}
	if ((rc = nc_home_open(home, sizeof home)) == 0 &&
	    (rc = nc_account_create(home, argv[optind], &added)) == 0) {
		if (added == NC_ADDED_LISTED)
			nc_cli_info("device added to %s and listed; your other "
			    "devices will report it", argv[optind]);
		else if (added == NC_ADDED_UNLISTED)
			nc_cli_info("device added to %s, but the relay holds no "
			    "identity-key backup (an account made before backups): "
			    "it receives messages once a device holding the identity "
			    "key lists it", argv[optind]);
		rc = show(json);
	}
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
