/* home.c - NC_HOME and the config file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relaymsg.h"   /* nc_domain_valid: the same rule as in names */
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "home.h"

struct relay {
	char *domain, *url;
};

struct nc_config {
	struct relay *relays;
	size_t nrelays;
	char *cafile, *proxy;
	long gap_window;   /* -1: not set */
	int policy;        /* NC_POLICY_*: 0 not set (the key log) */
	int first;         /* NC_FIRST_*: 0 not set */
};

static int
put_path(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s%s", a, b);

	if (n < 0 || (size_t)n >= size)
		return nc_fail(NC_ECONFIG, "NC_HOME: path too long");
	return 0;
}

int
nc_home_path(char *out, size_t size)
{
	const char *s;

	if ((s = getenv("NC_HOME")) != NULL && *s) {
		/* A relative home would follow the working directory: a cron
		 * job and a shell would use two different devices. */
		if (s[0] != '/')
			return nc_fail(NC_ECONFIG, "NC_HOME: not an absolute path");
		return put_path(out, size, s, "");
	}
	/* XDG: a relative XDG_DATA_HOME is invalid and ignored. */
	if ((s = getenv("XDG_DATA_HOME")) != NULL && s[0] == '/')
		return put_path(out, size, s, "/newchat");
	if ((s = getenv("HOME")) != NULL && s[0] == '/')
		return put_path(out, size, s, "/.local/share/newchat");
	return nc_fail(NC_ECONFIG, "NC_HOME: neither NC_HOME nor HOME is set");
}

/* mkdir -p, new directories 0700. */
static int
make_dirs(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int e = errno;

			nc_fail(NC_ECONFIG, "NC_HOME: mkdir %s: %s", path,
			    strerror(e));
			*p = c;
			return NC_ECONFIG;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static int
home_get(char *out, size_t size, int create)
{
	struct stat st;
	int rc;

	if ((rc = nc_home_path(out, size)) != 0)
		return rc;
	if (stat(out, &st) != 0) {
		if (errno != ENOENT)
			return nc_fail(NC_ECONFIG, "NC_HOME %s: %s", out,
			    strerror(errno));
		if (!create)
			return nc_fail(NC_ECONFIG, "no identity in %s (run "
			    "nc-keygen USER@DOMAIN)", out);
		if ((rc = make_dirs(out)) != 0)
			return rc;
		if (stat(out, &st) != 0)
			return nc_fail(NC_ECONFIG, "NC_HOME %s: %s", out,
			    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return nc_fail(NC_ECONFIG, "NC_HOME %s: not a directory", out);
	if (st.st_uid != geteuid())
		return nc_fail(NC_ECONFIG, "NC_HOME %s: owned by uid %ld, not us",
		    out, (long)st.st_uid);
	if (st.st_mode & 077)
		return nc_fail(NC_ECONFIG, "NC_HOME %s: open to group or others "
		    "(mode %03o); chmod 700 it", out, (unsigned)st.st_mode & 0777);
	return 0;
}

int
nc_home_open(char *out, size_t size)
{
	return home_get(out, size, 1);
}

int
nc_home_find(char *out, size_t size)
{
	return home_get(out, size, 0);
}

/* URL with one of the schemes, a non-empty host part and printable ASCII
 * only. Relay URLs may not carry a query or fragment: paths are appended. */
static const char *
url_check(const char *u, const char *const *schemes, int relay)
{
	const char *rest = NULL;

	if (strlen(u) > NC_URL_MAX)
		return "URL too long";
	for (const char *const *s = schemes; *s; s++)
		if (strncmp(u, *s, strlen(*s)) == 0)
			rest = u + strlen(*s);
	if (rest == NULL)
		return relay ? "relay URL must start with http:// or https://" :
		    "proxy URL must start with http://, https://, socks4://, "
		    "socks4a://, socks5:// or socks5h://";
	if (*rest == '\0' || *rest == '/' || *rest == ':' || *rest == '@')
		return "URL without a host";
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "URL with a character that is not printable ASCII";
		else if (relay && (*p == '?' || *p == '#'))
			return "relay URL with a query or fragment";
	return NULL;
}

static const char *const relay_schemes[] = { "http://", "https://", NULL };
static const char *const proxy_schemes[] = { "http://", "https://",
	"socks4://", "socks4a://", "socks5://", "socks5h://", NULL };

void
nc_config_free(nc_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nrelays; i++) {
		free(cfg->relays[i].domain);
		free(cfg->relays[i].url);
	}
	free(cfg->relays);
	free(cfg->cafile);
	free(cfg->proxy);
	free(cfg);
}

static int
add_relay(nc_config *cfg, size_t ln, const char *domain, const char *url)
{
	struct relay *r;
	const char *why;
	size_t n;

	if (!nc_domain_valid(domain))
		return nc_fail(NC_ECONFIG, "config:%zu: bad domain \"%.64s\" "
		    "(lowercase DNS name)", ln, domain);
	if ((why = url_check(url, relay_schemes, 1)) != NULL)
		return nc_fail(NC_ECONFIG, "config:%zu: %s", ln, why);
	if (nc_config_relay(cfg, domain) != NULL)
		return nc_fail(NC_ECONFIG, "config:%zu: second relay line for %s",
		    ln, domain);
	r = realloc(cfg->relays, (cfg->nrelays + 1) * sizeof *r);
	if (r == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	cfg->relays = r;
	r += cfg->nrelays;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')   /* callers append "/v1/..." */
		n--;
	r->domain = strdup(domain);
	r->url = strndup(url, n);
	if (r->domain == NULL || r->url == NULL) {
		free(r->domain);
		free(r->url);
		return nc_fail(NC_EOSERR, "out of memory");
	}
	cfg->nrelays++;
	return 0;
}

static int
set_once(char **slot, size_t ln, const char *key, const char *val)
{
	if (*slot != NULL)
		return nc_fail(NC_ECONFIG, "config:%zu: second %s line", ln, key);
	if ((*slot = strdup(val)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	return 0;
}

/* One line, NUL-terminated, without its newline. */
static int
parse_line(nc_config *cfg, size_t ln, char *line)
{
	char *f[4] = { NULL, NULL, NULL, NULL };
	int n = 0;
	const char *why;

	line += strspn(line, " \t");
	if (*line == '\0' || *line == '#')   /* blank or comment */
		return 0;
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return nc_fail(NC_ECONFIG, "config:%zu: control character",
			    ln);
		else if (*p == 0x7f)
			return nc_fail(NC_ECONFIG, "config:%zu: control character",
			    ln);
	for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (n == 4)
			return nc_fail(NC_ECONFIG, "config:%zu: too many fields",
			    ln);
		f[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (strcmp(f[0], "relay") == 0) {
		if (n != 3)
			return nc_fail(NC_ECONFIG, "config:%zu: usage: relay "
			    "DOMAIN URL", ln);
		return add_relay(cfg, ln, f[1], f[2]);
	}
	if (strcmp(f[0], "cafile") == 0) {
		if (n != 2)
			return nc_fail(NC_ECONFIG, "config:%zu: usage: cafile PATH",
			    ln);
		if (f[1][0] != '/')
			return nc_fail(NC_ECONFIG, "config:%zu: cafile must be an "
			    "absolute path", ln);
		return set_once(&cfg->cafile, ln, "cafile", f[1]);
	}
	if (strcmp(f[0], "proxy") == 0) {
		if (n != 2)
			return nc_fail(NC_ECONFIG, "config:%zu: usage: proxy URL",
			    ln);
		if ((why = url_check(f[1], proxy_schemes, 0)) != NULL)
			return nc_fail(NC_ECONFIG, "config:%zu: %s", ln, why);
		return set_once(&cfg->proxy, ln, "proxy", f[1]);
	}
	if (strcmp(f[0], "gap-window") == 0) {
		char *end;
		long v;

		if (n != 2)
			return nc_fail(NC_ECONFIG, "config:%zu: usage: gap-window "
			    "SECONDS", ln);
		if (cfg->gap_window >= 0)
			return nc_fail(NC_ECONFIG, "config:%zu: gap-window given "
			    "twice", ln);
		v = strtol(f[1], &end, 10);
		if (f[1][0] < '0' || f[1][0] > '9' || *end != '\0' || v > 604800 ||
		    (f[1][0] == '0' && f[1][1] != '\0'))
			return nc_fail(NC_ECONFIG, "config:%zu: gap-window: not 0 .. "
			    "604800 seconds", ln);
		cfg->gap_window = v;
		return 0;
	}
	if (strcmp(f[0], "policy") == 0) {
		int p = 0;

		for (int i = NC_POLICY_LOG; n == 2 && i <= NC_POLICY_VERIFIED; i++)
			if (strcmp(f[1], nc_policy_name(i)) == 0)
				p = i;
		if (p == 0)
			return nc_fail(NC_ECONFIG, "config:%zu: usage: policy "
			    "log|tofu|verified", ln);
		if (cfg->policy != 0)
			return nc_fail(NC_ECONFIG, "config:%zu: policy given twice", ln);
		cfg->policy = p;
		return 0;
	}
	if (strcmp(f[0], "first-contact") == 0) {
		if (n != 2 || (strcmp(f[1], "hold") != 0 &&
		    strcmp(f[1], "fetch") != 0))
			return nc_fail(NC_ECONFIG, "config:%zu: usage: first-contact "
			    "hold|fetch", ln);
		if (cfg->first != 0)
			return nc_fail(NC_ECONFIG, "config:%zu: first-contact given "
			    "twice", ln);
		cfg->first = strcmp(f[1], "hold") == 0 ? NC_FIRST_HOLD :
		    NC_FIRST_FETCH;
		return 0;
	}
	return nc_fail(NC_ECONFIG, "config:%zu: unknown keyword \"%.32s\"", ln,
	    f[0]);
}

static int
parse(nc_config *cfg, const char *text, size_t len)
{
	char line[NC_CONFIG_MAXLINE + 1];
	size_t pos = 0, ln = 0;
	int rc;

	if (len > NC_CONFIG_MAXSIZE)
		return nc_fail(NC_ECONFIG, "config: larger than %d bytes",
		    NC_CONFIG_MAXSIZE);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;

		if (++ln > NC_CONFIG_MAXLINES)
			return nc_fail(NC_ECONFIG, "config:%zu: more than %d lines",
			    ln, NC_CONFIG_MAXLINES);
		if (n > 0 && text[end - 1] == '\r')   /* CRLF */
			n--;
		if (n > NC_CONFIG_MAXLINE)
			return nc_fail(NC_ECONFIG, "config:%zu: line longer than "
			    "%d bytes", ln, NC_CONFIG_MAXLINE);
		if (memchr(text + pos, '\0', n) != NULL)
			return nc_fail(NC_ECONFIG, "config:%zu: NUL byte", ln);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if ((rc = parse_line(cfg, ln, line)) != 0)
			return rc;
		pos = nl ? end + 1 : len;
	}
	return 0;
}

int
nc_config_parse(nc_config **cfgp, const char *text, size_t len)
{
	nc_config *cfg = calloc(1, sizeof *cfg);
	int rc;

	*cfgp = NULL;
	if (cfg == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	cfg->gap_window = -1;
	if ((rc = parse(cfg, text, len)) != 0) {
		nc_config_free(cfg);
		return rc;
	}
	*cfgp = cfg;
	return 0;
}

/* home's config file: its path and text (none: empty). */
static int
config_read(const char *home, char path[4096], nc_buf *b)
{
	int rc, n;

	n = snprintf(path, 4096, "%s/config", home);
	if (n < 0 || n >= 4096)
		return nc_fail(NC_ECONFIG, "NC_HOME: path too long");
	rc = nc_read_file(path, b, NC_CONFIG_MAXSIZE);
	if (rc == NC_EIO && errno == ENOENT)
		rc = 0, b->len = 0;
	else if (rc == NC_EDATA)
		rc = NC_ECONFIG;   /* too large, or not a file: keep the reason */
	return rc;
}

int
nc_config_load(nc_config **cfgp, const char *home)
{
	nc_buf b = NC_BUF_INIT;
	char path[4096];
	const char *env, *why;
	int rc;

	*cfgp = NULL;
	if ((rc = config_read(home, path, &b)) == 0)
		rc = nc_config_parse(cfgp, (const char *)b.p, b.len);
	nc_buf_free(&b);
	if (rc != 0)
		return rc;
	if ((env = getenv("NC_PROXY")) != NULL && *env) {
		if ((why = url_check(env, proxy_schemes, 0)) != NULL) {
			nc_config_free(*cfgp);
			*cfgp = NULL;
			return nc_fail(NC_ECONFIG, "NC_PROXY: %s", why);
		}
		free((*cfgp)->proxy);
		if (((*cfgp)->proxy = strdup(env)) == NULL) {
			nc_config_free(*cfgp);
			*cfgp = NULL;
			return nc_fail(NC_EOSERR, "out of memory");
		}
	}
	return 0;
}

const char *
nc_config_relay(const nc_config *cfg, const char *domain)
{
	for (size_t i = 0; cfg && i < cfg->nrelays; i++)
		if (strcmp(cfg->relays[i].domain, domain) == 0)
			return cfg->relays[i].url;
	return NULL;
}

const char *
nc_config_cafile(const nc_config *cfg)
{
	return cfg ? cfg->cafile : NULL;
}

const char *
nc_config_proxy(const nc_config *cfg)
{
	return cfg ? cfg->proxy : NULL;
}

int
nc_config_policy(const nc_config *cfg)
{
	return cfg && cfg->policy ? cfg->policy : NC_POLICY_LOG;
}

const char *
nc_policy_name(int policy)
{
	return policy == NC_POLICY_TOFU ? "tofu" : policy == NC_POLICY_VERIFIED ?
	    "verified" : "log";
}

int
nc_config_set_policy(const char *home, const char *name)
{
	nc_buf in = NC_BUF_INIT, out = NC_BUF_INIT;
	nc_config *cfg = NULL;
	char path[4096];
	size_t i = 0;
	int rc;

	rc = config_read(home, path, &in);
	/* every line but the policy lines, as it was; then the new one */
	while (rc == 0 && i < in.len) {
		const char *l = (const char *)in.p + i, *nl = memchr(l, '\n', in.len - i);
		size_t len = nl ? (size_t)(nl - l) + 1 : in.len - i, k = 0;

		while (k < len && (l[k] == ' ' || l[k] == '\t'))
			k++;
		if (!(len - k >= 7 && memcmp(l + k, "policy", 6) == 0 &&
		    (l[k + 6] == ' ' || l[k + 6] == '\t' || l[k + 6] == '\n')))
			rc = nc_buf_add(&out, l, len);
		if (rc == 0 && nl == NULL && len > 0)
			rc = nc_buf_add(&out, "\n", 1);
		i += len;
	}
	if (rc == 0)
		rc = nc_buf_printf(&out, "policy %s\n", name);
	if (rc == 0 && out.len > NC_CONFIG_MAXSIZE)
		rc = nc_fail(NC_ECONFIG, "%s: too large", path);
	if (rc == 0 && (rc = nc_config_parse(&cfg, (const char *)out.p, out.len)) == 0)
		rc = nc_write_atomic(path, out.p, out.len, 0600);
	nc_config_free(cfg);
	nc_buf_free(&in);
	nc_buf_free(&out);
	return rc;
}

int
nc_config_first_contact(const nc_config *cfg)
{
	if (cfg && cfg->first)
		return cfg->first;
	return cfg && cfg->proxy && *cfg->proxy ? NC_FIRST_FETCH : NC_FIRST_HOLD;
}

long
nc_config_gap_window(const nc_config *cfg)
{
	return cfg ? cfg->gap_window : -1;
}
