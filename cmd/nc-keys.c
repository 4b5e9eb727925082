/* nc-keys - show contacts' keys, compare safety numbers, accept a change. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "directory.h"
#include "err.h"
#include "hex.h"
#include "json.h"
#include "home.h"
#include "keylog.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-keys [-hqvV] [--json] show [USER@DOMAIN]\n"
	    "       nc-keys [-hqvV] [--json] history USER@DOMAIN\n"
	    "       nc-keys [-hqvV] [--json] audit [DOMAIN ...]\n"
	    "       nc-keys [-hqvV] [--json] audit --self\n"
	    "       nc-keys [-hqvV] verify USER@DOMAIN [SAFETY-NUMBER ...]\n"
	    "       nc-keys [-hqvV] trust USER@DOMAIN FINGERPRINT|SAFETY-NUMBER\n"
	    "       nc-keys [-hqvV] [--json] policy [log|tofu|verified]\n"
	    "  show: fingerprints, devices and the safety number with USER.\n"
	    "  verify: mark USER verified when SAFETY-NUMBER matches (exit 1 if not);\n"
	    "    without it, print the number. Quoted or not: 05502 52484 ...\n"
	    "  trust: accept USER's changed identity key, the one whose fingerprint\n"
	    "    or safety number you checked (as show prints the new key; refused\n"
	    "    with 1 if the key offered now is another), releasing held messages.\n"
	    "  history: every version of USER's keys in its relay's key log.\n"
	    "  audit: replay each DOMAIN's key log (default: this user's and its\n"
	    "    contacts' domains) from the last audit; exit 1 if inconsistent.\n"
	    "    --self: this user's own entries in its relay's log; exit 1 for a\n"
	    "    version its devices were not shown.\n"
	    "  policy: print, or set in the config, how contacts' keys are trusted:\n"
	    "    log (default: the key log's proof with every fetch), tofu (first\n"
	    "    use, for bots), verified (log, and send only to contacts marked\n"
	    "    verified; messages to others are held).\n",
	    f);
}

/* nc-keys policy [NAME]: the home's trust policy, printed or set. */
static int
policy(nc_state *s, const char *name, int json)
{
	nc_config *cfg = NULL;
	int rc, p;

	if (name != NULL && (rc = nc_config_set_policy(s->home, name)) != 0)
		return rc;
	if ((rc = nc_config_load(&cfg, s->home)) != 0)
		return rc;
	p = nc_config_policy(cfg);
	nc_config_free(cfg);
	if (json)
		printf("{\"policy\":\"%s\"}\n", nc_policy_name(p));
	else
		printf("policy: %s (%s)\n", nc_policy_name(p),
		    p == NC_POLICY_TOFU ? "keys taken on first use, no key-log proofs" :
		    p == NC_POLICY_VERIFIED ? "key-log proofs, and messages only to "
		    "contacts marked verified" : "key-log proofs with every fetch");
	return 0;
}

static int
show(nc_state *s, nc_self *self, const char *addr, int json)
{
	nc_devlist l, l2;
	nc_buf o = NC_BUF_INIT;
	char fpr[NC_FPR_LEN], fpr2[NC_FPR_LEN], sn[NC_SAFETY_LEN], sn2[NC_SAFETY_LEN];
	char h[33], root[65];
	nc_kt_head kh;
	uint64_t kidx = 0, kver = 0;
	int changed = 0, verified = 0, rc, i, inlog, nolog;

	rc = nc_dir_show(s, addr, &l, &changed, &l2, &verified);
	if (rc == NC_ENOUSER && (rc = nc_dir_get(s, addr, 1, &l)) == 0)
		rc = nc_dir_show(s, addr, &l, &changed, &l2, &verified);
	if (rc != 0)
		return rc;
	inlog = nc_keylog_position(s, addr, &kidx, &kver, &kh, &nolog);
	if (inlog)
		nc_hex_encode(root, kh.root, 32);
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
		if (rc == 0 && inlog)
			rc = nc_buf_printf(&o, "],\"key_log\":{\"leaf\":%llu,"
			    "\"version\":%llu,\"tree_size\":%llu,\"root\":\"%s\"}}\n",
			    (unsigned long long)kidx, (unsigned long long)kver,
			    (unsigned long long)kh.size, root);
		else if (rc == 0)
			rc = nc_buf_printf(&o, "],\"key_log\":%s}\n", nolog ?
			    "\"none\"" : "null");
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
		/* The proof of the keys fetched last (the pending ones while a
		 * change is held). */
		if (rc == 0 && inlog)
			rc = nc_buf_printf(&o, "  key log:       version %llu, leaf %llu "
			    "of a tree of %llu\n  log root:      %s\n",
			    (unsigned long long)kver, (unsigned long long)kidx,
			    (unsigned long long)kh.size, root);
		else if (rc == 0)
			rc = nc_buf_printf(&o, "  key log:       %s\n", nolog ?
			    "none: its relay publishes no key log (an older relay), "
			    "keys not checked against one" : "not checked yet");
	}
	if (rc == 0 && fwrite(o.p, 1, o.len, stdout) != o.len)
		rc = nc_fail(NC_EIO, "standard output: write error");
	nc_buf_free(&o);
	return rc;
}

static int
history(nc_state *s, const char *addr, int json)
{
	static nc_keylog_version v[NC_KEYLOG_HISTORY_MAX];
	nc_kt_head head;
	char label[65], com[65], root[65];
	size_t n = 0;
	int rc;

	if ((rc = nc_keylog_history(s, addr, v, NC_KEYLOG_HISTORY_MAX, &n,
	    &head)) != 0)
		return rc;
	nc_hex_encode(root, head.root, 32);
	if (!json)
		printf("%s: %zu version%s in the key log (tree of %llu, root %s)\n",
		    addr, n, n == 1 ? "" : "s", (unsigned long long)head.size, root);
	for (size_t i = 0; i < n; i++) {
		nc_hex_encode(label, v[i].label, 32);
		nc_hex_encode(com, v[i].commitment, 32);
		if (json)
			printf("{\"type\":\"keylog\",\"user\":\"%s\",\"version\":%llu,"
			    "\"leaf\":%llu,\"label\":\"%s\",\"commitment\":\"%s\","
			    "\"tree_size\":%llu,\"root\":\"%s\"}\n", addr,
			    (unsigned long long)v[i].version,
			    (unsigned long long)v[i].index, label, com,
			    (unsigned long long)head.size, root);
		else
			printf("  version %llu: leaf %llu, label %.16s..., commitment "
			    "%.16s...\n", (unsigned long long)v[i].version,
			    (unsigned long long)v[i].index, label, com);
	}
	return ferror(stdout) ? nc_fail(NC_EIO, "standard output: write error") : 0;
}

/* The domains to audit by default: this user's, then its contacts'. */
static int
domains(nc_state *s, const char *self, char (*out)[NC_DOMAIN_MAX + 1], int max,
    int *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	snprintf(out[(*n)++], NC_DOMAIN_MAX + 1, "%s", strchr(self, '@') + 1);
	if ((rc = nc_state_prep(s, &st, "SELECT DISTINCT substr(user, "
	    "instr(user, '@') + 1) FROM contact ORDER BY 1")) != 0)
		return rc;
	while (*n < max && sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);

		if (d && strcmp(d, out[0]) != 0 && strlen(d) <= NC_DOMAIN_MAX)
			snprintf(out[(*n)++], NC_DOMAIN_MAX + 1, "%s", d);
	}
	sqlite3_finalize(st);
	return 0;
}

static int
audit(nc_state *s, const char *self, char **given, int ngiven, int json)
{
	static char dom[256][NC_DOMAIN_MAX + 1];
	nc_kt_head head;
	uint64_t read, from;
	char root[65];
	int n = 0, rc, worst = 0;

	if (ngiven > 0) {
		for (int i = 0; i < ngiven && i < 256; i++) {
			if (strlen(given[i]) > NC_DOMAIN_MAX || strchr(given[i], '@') ||
			    strchr(given[i], '/'))
				return nc_fail(NC_EUSAGE, "%s: not a domain", given[i]);
			snprintf(dom[n++], sizeof dom[0], "%s", given[i]);
		}
	} else if ((rc = domains(s, self, dom, 256, &n)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		from = 0;
		if ((rc = nc_keylog_audit(s, dom[i], &read, &from, &head)) != 0) {
			if (n == 1)
				return rc;
			/* One line per domain; a security failure wins. */
			nc_cli_error(rc);
			if (rc == NC_ESECURITY || worst == 0)
				worst = rc;
			continue;
		}
		nc_hex_encode(root, head.root, 32);
		if (json)
			printf("{\"type\":\"audit\",\"domain\":\"%s\",\"tree_size\":%llu,"
			    "\"from\":%llu,\"read\":%llu,\"root\":\"%s\",\"status\":"
			    "\"consistent\"}\n", dom[i], (unsigned long long)head.size,
			    (unsigned long long)from, (unsigned long long)read, root);
		else
			printf("%s: consistent, %llu leaves (%llu new read from leaf %llu), "
			    "root %s\n", dom[i], (unsigned long long)head.size,
			    (unsigned long long)read, (unsigned long long)from, root);
	}
	if (worst != 0)
		return nc_fail(worst, "audit: not every domain could be audited "
		    "(above)");
	return ferror(stdout) ? nc_fail(NC_EIO, "standard output: write error") : 0;
}

/* Our own keys in our relay's log, now (not waiting for the hourly check
 * nc-recv makes). */
static int
audit_self(nc_state *s, nc_self *self, int json)
{
	uint64_t index, version;
	nc_kt_head h;
	int nolog = 0, rc;

	if ((rc = nc_self_check(s, self, 1)) != 0 && rc != NC_ESECURITY)
		return rc;
	if ((rc = nc_self_alarm(s, self)) != 0)
		return rc;
	if (nc_keylog_position(s, self->addr, &index, &version, &h, &nolog) != 1)
		return nc_fail(NC_EUNAVAIL, "%s: the relay of %s publishes no key "
		    "log: nothing to audit", self->addr, self->domain);
	if (json)
		printf("{\"type\":\"audit\",\"user\":\"%s\",\"version\":%llu,"
		    "\"leaf\":%llu,\"tree_size\":%llu,\"status\":\"consistent\"}\n",
		    self->addr, (unsigned long long)version,
		    (unsigned long long)index, (unsigned long long)h.size);
	else
		printf("%s: consistent: version %llu (leaf %llu of %llu) is the "
		    "newest the log holds\n", self->addr, (unsigned long long)version,
		    (unsigned long long)index, (unsigned long long)h.size);
	return ferror(stdout) ? nc_fail(NC_EIO, "standard output: write error") : 0;
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
		{ "self", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	nc_state *s;
	nc_self self;
	const char *cmd, *addr;
	int c, json = 0, rc, n, own = 0;

	if (nc_cli_init("nc-keys") != 0)
		return NC_ESOFTWARE;
	while ((c = getopt_long(argc, argv, "hjqvV", opts, NULL)) != -1)
		if (c == 'S')
			own = 1;
		else if ((rc = nc_cli_flag(c, usage, &json)) >= 0)
			return rc;
	n = argc - optind;
	cmd = n > 0 ? argv[optind] : "";
	addr = n > 1 ? argv[optind + 1] : NULL;
	if (strcmp(cmd, "audit") == 0 || strcmp(cmd, "policy") == 0)
		addr = NULL;   /* domains, not addresses */
	if (!((strcmp(cmd, "show") == 0 && n <= 2) ||
	    (strcmp(cmd, "history") == 0 && n == 2) ||
	    (strcmp(cmd, "audit") == 0 && n <= 257) ||
	    (strcmp(cmd, "trust") == 0 && n >= 2 && n <= 14) ||
	    (strcmp(cmd, "verify") == 0 && n >= 2 && n <= 14) ||
	    (strcmp(cmd, "policy") == 0 && (n == 1 || (n == 2 &&
	    (strcmp(argv[optind + 1], "log") == 0 || strcmp(argv[optind + 1], "tofu") == 0 ||
	    strcmp(argv[optind + 1], "verified") == 0))))) ||
	    (addr && !nc_addr_valid(addr)) ||
	    (own && (strcmp(cmd, "audit") != 0 || n != 1))) {
		usage(stderr);
		return NC_EUSAGE;
	}
	if ((rc = nc_cli_open(&s, &self)) != 0)
		goto out;
	if (strcmp(cmd, "show") == 0)
		rc = show(s, &self, addr ? addr : self.addr, json);
	else if (strcmp(cmd, "history") == 0)
		rc = history(s, addr, json);
	else if (own)
		rc = audit_self(s, &self, json);
	else if (strcmp(cmd, "audit") == 0)
		rc = audit(s, self.addr, argv + optind + 1, n - 1, json);
	else if (strcmp(cmd, "trust") == 0)
		rc = trust(s, &self, addr, argv + optind + 2, n - 2);
	else if (strcmp(cmd, "policy") == 0)
		rc = policy(s, n == 2 ? argv[optind + 1] : NULL, json);
	else
		rc = verify(s, &self, addr, argv + optind + 2, n - 2);
	nc_self_free(&self);
	nc_state_close(s);
out:
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
