/* nc-keys - show contacts' keys, compare safety numbers, accept a change. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "hex.h"
#include "json.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-keys [-hqvV] [--json] show [USER@DOMAIN]\n"
	    "       nc-keys [-hqvV] verify USER@DOMAIN [SAFETY-NUMBER ...]\n"
	    "       nc-keys [-hqvV] trust USER@DOMAIN\n"
	    "  show: fingerprints, devices and the safety number with USER.\n"
	    "  verify: mark USER verified when SAFETY-NUMBER matches (exit 1 if not);\n"
	    "    without it, print the number. Quoted or not: 05502 52484 ...\n"
	    "  trust: accept USER's changed identity key, releasing held messages.\n",
	    f);
}

static int
show(nc_state *s, nc_self *self, const char *addr, int json)
{
	nc_devlist l, l2;
	nc_buf o = NC_BUF_INIT;
	char fpr[NC_FPR_LEN], fpr2[NC_FPR_LEN], sn[NC_SAFETY_LEN], h[33];
	int changed = 0, verified = 0, rc, i;

	rc = nc_dir_show(s, addr, &l, &changed, &l2, &verified);
	if (rc == NC_ENOUSER && (rc = nc_dir_get(s, addr, 1, &l)) == 0)
		rc = nc_dir_show(s, addr, &l, &changed, &l2, &verified);
	if (rc != 0)
		return rc;
	nc_fingerprint(fpr, l.identity);
	if (changed)
		nc_fingerprint(fpr2, l2.identity);
	if ((rc = nc_safety_number(sn, self->addr, self->list.identity, addr,
	    l.identity)) != 0)
		return rc;
	if (json) {
		rc = nc_json_kv(&o, "type", "keys") || nc_json_kv(&o, "user", addr) ||
		    nc_json_kv(&o, "fingerprint", fpr) ||
		    nc_json_kv(&o, "status", changed ? "changed" : verified ?
		    "verified" : "trusted") ||
		    (changed && nc_json_kv(&o, "new_fingerprint", fpr2)) ||
		    nc_json_kv(&o, "safety_number", sn) ||
		    nc_buf_addstr(&o, ",\"devices\":[") ? NC_EOSERR : 0;
		for (i = 0; rc == 0 && i < l.n; i++) {
			nc_hex_encode(h, l.dev[i].id, 16);
			rc = nc_buf_printf(&o, "%s\"%s\"", i ? "," : "", h);
		}
		if (rc == 0)
			rc = nc_buf_addstr(&o, "]}\n");
	} else {
		rc = nc_buf_printf(&o, "%s\n  fingerprint:   %s\n  status:        %s\n",
		    addr, fpr, changed ? "IDENTITY KEY CHANGED (held; check, then "
		    "nc-keys trust)" : verified ? "verified" : "trusted on first use");
		if (rc == 0 && changed)
			rc = nc_buf_printf(&o, "  new key:       %s\n", fpr2);
		if (rc == 0 && strcmp(addr, self->addr) != 0)
			rc = nc_buf_printf(&o, "  safety number: %s\n", sn);
		for (i = 0; rc == 0 && i < l.n; i++) {
			nc_hex_encode(h, l.dev[i].id, 16);
			rc = nc_buf_printf(&o, "  device:        %s\n", h);
		}
	}
	if (rc == 0 && fwrite(o.p, 1, o.len, stdout) != o.len)
		rc = nc_fail(NC_EIO, "standard output: write error");
	nc_buf_free(&o);
	return rc;
}

/* The safety number as typed: one quoted word or the twelve groups as
 * separate words ("05502 52484 ..."), spaces and dashes allowed between
 * digits. Its 60 digits into out; NC_EUSAGE for anything else. */
static int
given_digits(char out[61], char **w, int n)
{
	size_t k = 0;

	for (int i = 0; i < n; i++)
		for (const char *p = w[i]; *p; p++)
			if (*p >= '0' && *p <= '9') {
				if (k == 60)
					goto bad;
				out[k++] = *p;
			} else if (*p != ' ' && *p != '-' && *p != '\t')
				goto bad;
	if (k == 60) {
		out[k] = '\0';
		return 0;
	}
bad:
	return nc_fail(NC_EUSAGE, "not a safety number: give its 60 digits, "
	    "as nc-keys verify USER@DOMAIN prints them (12 groups of 5)");
}

static void
digits(char *out, const char *in)
{
	for (; *in; in++)
		if (*in >= '0' && *in <= '9')
			*out++ = *in;
	*out = '\0';
}

static int
verify(nc_state *s, nc_self *self, const char *addr, char **given, int ngiven)
{
	nc_devlist l;
	char sn[NC_SAFETY_LEN], a[NC_SAFETY_LEN], b[61];
	int rc;

	if (ngiven > 0 && (rc = given_digits(b, given, ngiven)) != 0)
		return rc;
	if ((rc = nc_dir_get(s, addr, 0, &l)) != 0 ||
	    (rc = nc_safety_number(sn, self->addr, self->list.identity, addr,
	    l.identity)) != 0)
		return rc;
	if (ngiven == 0) {
		printf("%s\n", sn);
		return 0;
	}
	digits(a, sn);
	if (strcmp(a, b) != 0)
		return nc_fail(NC_ESECURITY, "%s: safety numbers differ: %s", addr, sn);
	if ((rc = nc_dir_verified(s, addr)) == 0)
		nc_cli_info("%s: verified", addr);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	nc_state *s;
	nc_self self;
	const char *cmd, *addr;
	int c, json = 0, rc, n;

	if (nc_cli_init("nc-keys") != 0)
		return NC_ESOFTWARE;
	while ((c = getopt_long(argc, argv, "hjqvV", opts, NULL)) != -1)
		if ((rc = nc_cli_flag(c, usage, &json)) >= 0)
			return rc;
	n = argc - optind;
	cmd = n > 0 ? argv[optind] : "";
	addr = n > 1 ? argv[optind + 1] : NULL;
	if (!((strcmp(cmd, "show") == 0 && n <= 2) ||
	    (strcmp(cmd, "trust") == 0 && n == 2) ||
	    (strcmp(cmd, "verify") == 0 && n >= 2 && n <= 14)) ||
	    (addr && !nc_addr_valid(addr))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if ((rc = nc_cli_open(&s, &self)) != 0)
		goto out;
	if (strcmp(cmd, "show") == 0)
		rc = show(s, &self, addr ? addr : self.addr, json);
	else if (strcmp(cmd, "trust") == 0) {
		if ((rc = nc_dir_trust(s, addr)) == 0)
			nc_cli_info("%s: identity key trusted; held messages are sent "
			    "by the next nc-send --flush or nc-recv", addr);
	} else
		rc = verify(s, &self, addr, argv + optind + 2, n - 2);
	nc_self_free(&self);
	nc_state_close(s);
out:
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
