/* nc-media - share files and directories by encrypted link: put, get, rm, ls. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "err.h"
#include "home.h"
#include "json.h"
#include "mediaio.h"
#include "relayc.h"

static void
usage(FILE *f)
{
	fputs("usage: nc-media [-hqvV] put FILE|DIR|- [--ttl DURATION] [--json]\n"
	    "       nc-media [-hqvV] get LINK [-o PATH|-]\n"
	    "       nc-media [-hqvV] rm LINK\n"
	    "       nc-media [-hqvV] ls [--json]\n"
	    "  put: encrypt, upload to your relay, print a link (DURATION: N, Ns,\n"
	    "    Nm, Nh or Nd; the relay's default 30 days, at most its cap).\n"
	    "  get: fetch, verify, decrypt; a directory is extracted under PATH.\n"
	    "  rm: delete an upload of this home. ls: what this home uploaded.\n",
	    f);
}

/* "90", "90s", "15m", "12h", "30d" -> seconds; -1 if not one. */
static int64_t
duration(const char *s)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (strcmp(end, "d") == 0)
		mul = 86400;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	if (v < 1 || v > 100LL * 365 * 86400 / mul)
		return -1;
	return (int64_t)v * mul;
}

static void
iso(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
print_rec(const nc_media_rec *r, int json)
{
	nc_buf o = NC_BUF_INIT;
	char exp[32], size[24];
	int rc;

	iso(exp, sizeof exp, r->expires);
	snprintf(size, sizeof size, "%llu", (unsigned long long)r->size);
	if (json)
		rc = nc_json_kv(&o, "link", r->link) || nc_json_kv(&o, "name", r->name) ||
		    nc_json_kv(&o, "type", r->type) ||
		    nc_json_kv(&o, "kind", r->kind ? "directory" : "file") ||
		    nc_buf_printf(&o, ",\"size\":%s", size) ||
		    nc_json_kv(&o, "expires", exp) || nc_buf_addstr(&o, "}\n") ?
		    NC_EOSERR : 0;
	else
		rc = nc_buf_printf(&o, "%s\t%s%s\t%s\t%s\n", r->link, r->name,
		    r->kind ? "/" : "", size, exp);
	if (rc == 0 && fwrite(o.p, 1, o.len, stdout) != o.len)
		rc = nc_fail(NC_EIO, "standard output: write error");
	nc_buf_free(&o);
	return rc;
}

static int
put(const char *path, const nc_media_opts *o, int json)
{
	nc_state *s;
	nc_self self;
	nc_relay *r = NULL;
	nc_media_rec rec;
	int rc;

	if ((rc = nc_cli_open(&s, &self)) != 0)
		return rc;
	if ((rc = nc_relay_open(&r, s->home, self.domain)) == 0 &&
	    (rc = nc_media_put(s, nc_relay_url(r), path, o, &rec)) == 0) {
		if (json)
			rc = print_rec(&rec, json);
		else if (printf("%s\n", rec.link) < 0)   /* the link alone */
			rc = nc_fail(NC_EIO, "standard output: write error");
	}
	sodium_memzero(&rec, sizeof rec);
	nc_relay_close(r);
	nc_self_free(&self);
	nc_state_close(s);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "ttl", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	nc_media_opts o = { 0, 0, -1, 0, NULL, 0 };
	nc_media_meta m;
	nc_media_rec *v;
	nc_state *s;
	nc_config *cfg;
	const char *cmd, *arg, *out = NULL, *ttl = NULL;
	size_t nv;
	int c, json = 0, rc, n;

	if (nc_cli_init("nc-media") != 0)
		return NC_ESOFTWARE;
	/* Archive entry names are UTF-8 (pax); libarchive converts through
	 * the locale's character set. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		(void)setlocale(LC_CTYPE, "");
	while ((c = getopt_long(argc, argv, "hjqvVo:", opts, NULL)) != -1) {
		if (c == 't')
			ttl = optarg;
		else if (c == 'o')
			out = optarg;
		else if ((rc = nc_cli_flag(c, usage, &json)) >= 0)
			return rc;
	}
	n = argc - optind;
	cmd = n > 0 ? argv[optind] : "";
	arg = n > 1 ? argv[optind + 1] : NULL;
	if (!((strcmp(cmd, "put") == 0 && n == 2 && out == NULL) ||
	    (strcmp(cmd, "get") == 0 && n == 2 && ttl == NULL && !json) ||
	    (strcmp(cmd, "rm") == 0 && n == 2 && !ttl && !out && !json) ||
	    (strcmp(cmd, "ls") == 0 && n == 1 && !ttl && !out)) ||
	    (ttl && (o.ttl = duration(ttl)) < 0)) {
		usage(stderr);
		return NC_EUSAGE;
	}
	o.progress = isatty(2) && nc_verbose >= 0;
	if (getenv("NC_MEDIA_AS_ARCHIVE"))   /* tests: a tar given as a directory */
		o.kind = 1;
	cfg = nc_media_config();
	if (strcmp(cmd, "put") == 0)
		rc = put(arg, &o, json);
	else if (strcmp(cmd, "get") == 0) {
		if ((rc = nc_media_get(arg, out, &o, &m)) == 0)
			nc_cli_info("%s%s (%llu bytes, %s)", m.name, m.kind ? "/" : "",
			    (unsigned long long)m.size, m.type);
	} else if ((rc = nc_cli_open(&s, NULL)) == 0) {
		if (strcmp(cmd, "rm") == 0)
			rc = nc_media_rm(s, arg);
		else if ((rc = nc_media_list(s, &v, &nv)) == 0) {
			for (size_t i = 0; rc == 0 && i < nv; i++)
				rc = print_rec(&v[i], json);
			free(v);
		}
		nc_state_close(s);
	}
	nc_config_free(cfg);
	nc_cli_error(rc);
	return nc_cli_exit(rc);
}
