/* nc-group - private groups: make one, change its members, list them
 * (lib/app/groupcmd.c; nc-group(1)). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "groupapp.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-group [-hjqvV] create NAME [USER@DOMAIN...]\n"
	    "       nc-group [-hjqvV] add|remove|admin GROUP USER@DOMAIN...\n"
	    "       nc-group [-hjqvV] leave GROUP\n"
	    "       nc-group [-hjqvV] rename GROUP NAME\n"
	    "       nc-group [-hjqvV] list | show GROUP | log GROUP\n"
	    "  Private groups whose membership only their admins can change,\n"
	    "  each change signed and sent to every member over the pairwise\n"
	    "  sessions. GROUP: its id, a unique prefix of it, or its name.\n"
	    "  create prints the new group's id. -j, --json: JSON objects;\n"
	    "  -q, --quiet: errors only; -v, --verbose: the new epoch;\n"
	    "  -V, --version; -h, --help. Exit 77: not an admin (or not a\n"
	    "  member); 75: queued for a member whose relay is unreachable.\n",
	    f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	nc_group_opts o;
	const char *cmd;
	int c, rc, n;

	if (nc_cli_init("nc-group") != 0)
		return NC_ESOFTWARE;
	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, "+hjqvV", opts, NULL)) != -1)
		if ((rc = nc_cli_flag(c, usage, &o.json)) >= 0)
			return rc;
	if (optind >= argc) {
		usage(stderr);
		return NC_EUSAGE;
	}
	cmd = argv[optind++];
	/* -j, -q, -v after the subcommand too (nc-group list --json); "--"
	 * ends them (a group named -j) */
	for (n = 0, c = optind; c < argc; c++) {
		const char *a = argv[c];

		if (strcmp(a, "--") == 0) {
			while (++c < argc)
				argv[optind + n++] = argv[c];
			break;
		}
		if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0)
			o.json = 1;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			nc_verbose = -1;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			nc_verbose = 1;
		else
			argv[optind + n++] = argv[c];
	}
	argv += optind;
	if (strcmp(cmd, "create") == 0 && n >= 1)
		rc = nc_group_create(&o, argv[0], (const char **)argv + 1, n - 1);
	else if ((strcmp(cmd, "add") == 0 || strcmp(cmd, "remove") == 0 ||
	    strcmp(cmd, "admin") == 0) && n >= 2)
		rc = nc_group_change(&o, cmd, argv[0], (const char **)argv + 1, n - 1);
	else if (strcmp(cmd, "rename") == 0 && n == 2)
		rc = nc_group_change(&o, cmd, argv[0], (const char **)argv + 1, 1);
	else if (strcmp(cmd, "leave") == 0 && n == 1)
		rc = nc_group_change(&o, cmd, argv[0], NULL, 0);
	else if (strcmp(cmd, "list") == 0 && n == 0)
		rc = nc_group_list(&o);
	else if (strcmp(cmd, "show") == 0 && n == 1)
		rc = nc_group_show(&o, argv[0]);
	else if (strcmp(cmd, "log") == 0 && n == 1)
		rc = nc_group_log(&o, argv[0]);
	else {
		usage(stderr);
		return NC_EUSAGE;
	}
	return nc_cli_exit(rc);
}
