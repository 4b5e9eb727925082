/* nc-sync - this user's devices: link a new one by its code, list them,
 * revoke one; and (lib/app/syncbackup.c) backups. Each sub-command is a
 * function of lib/app taking its own arguments (argv[0] is its name). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "netproc.h"
#include "sync.h"
#include "syncbackup.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
} cmds[] = {
	{ "link", nc_sync_link },
	{ "devices", nc_sync_devices },
	{ "backup", nc_sync_cmd_backup },
	{ "restore", nc_sync_cmd_restore },
	{ "export", nc_sync_cmd_export },
	{ "import", nc_sync_cmd_import },
	{ "revoke", nc_sync_revoke },
};

static void
usage(FILE *f)
{
	fputs("usage: nc-sync [-hV] COMMAND [-hqv] [--json] [ARG ...]\n"
	    "  devices [--json]    this user's devices: id, name, added, last seen\n"
	    "  backup [--recovery-code] [--password]   encrypted, incremental, to the relay\n"
	    "  restore USER@DOMAIN [--recovery-code] [--min-counter N]   into an empty NC_HOME\n"
	    "  export FILE | import FILE   the same records as one archive file\n"
	    "  link CODE           send the identity key, contacts and history to\n"
	    "                      the new device showing CODE (nc-keygen --link)\n"
	    "  revoke DEVICE       drop DEVICE from the signed device list\n"
	    "  COMMAND -h          that command's usage\n", f);
}

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (nc_cli_init("nc-sync") != 0)
		return NC_ESOFTWARE;
	if (argc < 2) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return nc_cli_exit(0);
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return nc_cli_flag('V', usage, NULL);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			break;
	if (i == sizeof cmds / sizeof cmds[0]) {
		fprintf(stderr, "nc-sync: %s: no such command\n", argv[1]);
		usage(stderr);
		return NC_EUSAGE;
	}
	/* Relay answers are parsed in a process that holds no key
	 * (lib/net/netproc.c). */
	(void)nc_netproc_start();
	rc = cmds[i].run(argc - 1, argv + 1);
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
