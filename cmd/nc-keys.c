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
	    "       nc-keys [-hqvV] trust USER@DOMAIN FINGERPRINT|SAFETY-NUMBER\n"
	    "  show: fingerprints, devices and the safety number with USER.\n"
	    "  verify: mark USER verified when SAFETY-NUMBER matches (exit 1 if not);\n"
	    "    without it, print the number. Quoted or not: 05502 52484 ...\n"
	    "  trust: accept USER's changed identity key, the one whose fingerprint\n"
	    "    or safety number you checked (as show prints the new key; refused\n"
	    "    with 1 if the key offered now is another), releasing held messages.\n",
	    f);
}

static int
show(nc_state *s, nc_self *self, const char *addr, int json)
{
	nc_devlist l, l2;
	nc_buf o = NC_BUF_INIT;
	char fpr[NC_FPR_LEN], fpr2[NC_FPR_LEN], sn[NC_SAFETY_LEN], sn2[NC_SAFETY_LEN];
	char h[33];
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
	    l.identity)) != 0 || (changed && (rc = nc_safety_number(sn2,
	    self->addr, self->list.identity, addr, l2.identity)) != 0))
		return rc;
	if (json) {
		rc = nc_json_kv(&o, "type", "keys") || nc_json_kv(&o, "user", addr) ||
		    nc_json_kv(&o, "fingerprint", fpr) ||
		    nc_json_kv(&o, "status", changed ? "changed" : verified ?
		    "verified" : "trusted") ||
		    (changed && (nc_json_kv(&o, "new_fingerprint", fpr2) ||
		    nc_json_kv(&o, "new_safety_number", sn2) ||
		    nc_buf_printf(&o, ",\"changes\":%d,\"new_confirmed\":%s",
		    changed, verified ? "true" : "false"))) ||
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
		    addr, fpr, changed > 1 ? "IDENTITY KEY CHANGED AGAIN (held; "
		    "another new key came while one was pending: a check made before "
		    "is void)" : changed ? "IDENTITY KEY CHANGED (held; check the new "
		    "key, then nc-keys trust USER FINGERPRINT)" : verified ?
		    "verified" : "trusted on first use");
		if (rc == 0 && changed)
			rc = nc_buf_printf(&o, "  new key:       %s\n", fpr2);
		if (rc == 0 && changed > 1)
			rc = nc_buf_printf(&o, "  keys offered:  %d since the pin\n",
			    changed);
		if (rc == 0 && changed && verified)
			rc = nc_buf_printf(&o, "  new key confirmed by its safety number "
			    "(nc-keys trust %s pins it)\n", addr);
		if (rc == 0 && strcmp(addr, self->addr) != 0)
			rc = nc_buf_printf(&o, "  safety number: %s\n", sn);
		if (rc == 0 && changed)
			rc = nc_buf_printf(&o, "  new safety number: %s\n", sn2);
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

/* While a change is pending, the number that matters is the one with the
 * new key: it is what the contact's own device shows now. */
static int
verify(nc_state *s, nc_self *self, const char *addr, char **given, int ngiven)
{
	nc_devlist l, l2;
	const nc_devlist *k;
	char sn[NC_SAFETY_LEN], a[NC_SAFETY_LEN], b[61];
	int changed = 0, rc;

	if (ngiven > 0 && (rc = given_digits(b, given, ngiven)) != 0)
		return rc;
	rc = nc_dir_show(s, addr, &l, &changed, &l2, NULL);
	if (rc == NC_ENOUSER && (rc = nc_dir_get(s, addr, 1, &l)) == 0)
		rc = nc_dir_show(s, addr, &l, &changed, &l2, NULL);
	k = changed ? &l2 : &l;
	if (rc != 0 || (rc = nc_safety_number(sn, self->addr, self->list.identity,
	    addr, k->identity)) != 0)
		return rc;
	if (ngiven == 0) {
		printf("%s\n", sn);
		if (changed)
			nc_cli_info("%s: that is the safety number with its NEW identity "
			    "key, not trusted yet", addr);
		return 0;
	}
	digits(a, sn);
	if (strcmp(a, b) != 0)
		return nc_fail(NC_ESECURITY, "%s: safety numbers differ%s: %s", addr,
		    changed ? " (the number with its new key)" : "", sn);
	if ((rc = nc_dir_verified(s, addr, k->identity)) == 0 && changed)
		nc_cli_info("%s: the new key's safety number matches; accept it "
		    "with: nc-keys trust %s", addr, addr);
	else if (rc == 0)
		nc_cli_info("%s: verified", addr);
	return rc;
}

/* The key the user checked, as typed: a fingerprint (32 hex digits in
 * groups of 4) or a safety number (60 digits), quoted or as separate
 * words; spaces and dashes ignored. Into out without separators. */
static int
checked_key(char out[61], char **w, int n)
{
	size_t k = 0;
	int hex = 0;

	for (int i = 0; i < n; i++)
		for (const char *p = w[i]; *p; p++) {
			char c = *p >= 'A' && *p <= 'F' ? (char)(*p - 'A' + 'a') : *p;

			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
				if (k == 60)
					goto bad;
				hex |= c >= 'a';
				out[k++] = c;
			} else if (c != ' ' && c != '-' && c != '\t')
				goto bad;
		}
	out[k] = '\0';
	if (k == 32 || (k == 60 && !hex))
		return 0;
bad:
	return nc_fail(NC_EUSAGE, "not a fingerprint or safety number: give the "
	    "new key's fingerprint (32 hex digits) or safety number (60 digits) "
	    "as nc-keys show USER@DOMAIN prints them");
}

static int
trust(nc_state *s, nc_self *self, const char *addr, char **given, int ngiven)
{
	char want[61];
	int rc, pinned;

	if (ngiven > 0 && (rc = checked_key(want, given, ngiven)) != 0)
		return rc;
	if ((rc = nc_dir_trust(s, addr, self->addr, self->list.identity,
	    ngiven ? want : NULL, &pinned)) != 0)
		return rc;
	if (pinned)
		nc_cli_info("%s: identity key trusted; held messages are sent by the "
		    "next nc-send --flush or nc-recv", addr);
	else
		nc_cli_info("%s: no changed key waits to be trusted", addr);
	return 0;
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
	    (strcmp(cmd, "trust") == 0 && n >= 2 && n <= 14) ||
	    (strcmp(cmd, "verify") == 0 && n >= 2 && n <= 14)) ||
	    (addr && !nc_addr_valid(addr))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if ((rc = nc_cli_open(&s, &self)) != 0)
		goto out;
	if (strcmp(cmd, "show") == 0)
		rc = show(s, &self, addr ? addr : self.addr, json);
	else if (strcmp(cmd, "trust") == 0)
		rc = trust(s, &self, addr, argv + optind + 2, n - 2);
	else
		rc = verify(s, &self, addr, argv + optind + 2, n - 2);
	nc_self_free(&self);
	nc_state_close(s);
out:
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
