/* test-home.c - NC_HOME resolution and permissions, the config parser,
 * atomic writes and bounded reads. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "home.h"
#include "check.h"

static char tmp[256];

static void
path_rules(void)
{
	char p[512];

	setenv("NC_HOME", "/x/nc", 1);
	setenv("XDG_DATA_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	CHECK_INT(nc_home_path(p, sizeof p), 0);
	CHECK_STR(p, "/x/nc");
	setenv("NC_HOME", "", 1);   /* empty = unset */
	CHECK_INT(nc_home_path(p, sizeof p), 0);
	CHECK_STR(p, "/xdg/newchat");
	unsetenv("NC_HOME");
	setenv("XDG_DATA_HOME", "rel/xdg", 1);   /* relative: ignored */
	CHECK_INT(nc_home_path(p, sizeof p), 0);
	CHECK_STR(p, "/home/u/.local/share/newchat");
	unsetenv("XDG_DATA_HOME");
	CHECK_INT(nc_home_path(p, sizeof p), 0);
	CHECK_STR(p, "/home/u/.local/share/newchat");
	unsetenv("HOME");
	CHECK_INT(nc_home_path(p, sizeof p), NC_ECONFIG);
	setenv("NC_HOME", "/a/very/long/path", 1);
	CHECK_INT(nc_home_path(p, 8), NC_ECONFIG);
	setenv("NC_HOME", "rel/nc", 1);          /* relative: refused */
	CHECK_INT(nc_home_path(p, sizeof p), NC_ECONFIG);
}

static void
home_open(void)
{
	char p[512], want[512];
	struct stat st;

	/* Created with missing parents, 0700. */
	snprintf(want, sizeof want, "%s/a/b/home", tmp);
	setenv("NC_HOME", want, 1);
	CHECK_INT(nc_home_open(p, sizeof p), 0);
	CHECK_STR(p, want);
	CHECK(stat(want, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700);
	snprintf(p, sizeof p, "%s/a", tmp);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK_INT(nc_home_open(p, sizeof p), 0);   /* again: fine */

	/* Open to others: refused, and left alone. */
	chmod(want, 0750);
	CHECK_INT(nc_home_open(p, sizeof p), NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "open to group or others") != NULL);
	CHECK(stat(want, &st) == 0 && (st.st_mode & 0777) == 0750);
	chmod(want, 0701);
	CHECK_INT(nc_home_open(p, sizeof p), NC_ECONFIG);
	chmod(want, 0700);

	/* Someone else's directory (needs root to set up). */
	if (geteuid() == 0) {
		CHECK(chown(want, 65534, 65534) == 0);
		CHECK_INT(nc_home_open(p, sizeof p), NC_ECONFIG);
		CHECK(strstr(nc_errmsg(), "not us") != NULL);
		CHECK(chown(want, 0, 0) == 0);
	}
	/* A file where the directory should be. */
	snprintf(want, sizeof want, "%s/file", tmp);
	CHECK_INT(nc_write_atomic(want, "x", 1, 0600), 0);
	setenv("NC_HOME", want, 1);
	CHECK_INT(nc_home_open(p, sizeof p), NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "not a directory") != NULL);
	/* A parent that cannot be a directory. */
	snprintf(want, sizeof want, "%s/file/sub", tmp);
	setenv("NC_HOME", want, 1);
	CHECK_INT(nc_home_open(p, sizeof p), NC_ECONFIG);
}

static void
config_good(void)
{
	const char *text =
	    "# relays for the tests\n"
	    "\n"
	    "relay a.test http://127.0.0.1:8080\n"
	    "  relay\tb.test   https://relay.b.test/base///  \r\n"
	    "   # indented comment\n"
	    "relay xn--bcher-kva.example http://[::1]:9/\n"
	    "cafile /etc/newchat/ca.pem\n"
	    "proxy socks5h://127.0.0.1:9050\n"
	    "relay last.test http://h";   /* no final newline */
	nc_config *cfg;

	CHECK_INT(nc_config_parse(&cfg, text, strlen(text)), 0);
	CHECK_STR(nc_config_relay(cfg, "a.test"), "http://127.0.0.1:8080");
	CHECK_STR(nc_config_relay(cfg, "b.test"), "https://relay.b.test/base");
	CHECK_STR(nc_config_relay(cfg, "xn--bcher-kva.example"),
	    "http://[::1]:9");
	CHECK_STR(nc_config_relay(cfg, "last.test"), "http://h");
	CHECK(nc_config_relay(cfg, "c.test") == NULL);
	CHECK(nc_config_relay(cfg, "A.test") == NULL);
	CHECK_STR(nc_config_cafile(cfg), "/etc/newchat/ca.pem");
	CHECK_STR(nc_config_proxy(cfg), "socks5h://127.0.0.1:9050");
	nc_config_free(cfg);

	CHECK_INT(nc_config_parse(&cfg, "", 0), 0);
	CHECK(nc_config_relay(cfg, "a.test") == NULL);
	CHECK(nc_config_cafile(cfg) == NULL && nc_config_proxy(cfg) == NULL);
	CHECK_INT(nc_config_policy(cfg), NC_POLICY_LOG);   /* the default */
	nc_config_free(cfg);
	CHECK(nc_config_relay(NULL, "a.test") == NULL);

	/* policy log|tofu|verified, once */
	CHECK_INT(nc_config_parse(&cfg, "policy verified\n", 16), 0);
	CHECK_INT(nc_config_policy(cfg), NC_POLICY_VERIFIED);
	nc_config_free(cfg);
	CHECK_INT(nc_config_parse(&cfg, "policy tofu\n", 12), 0);
	CHECK_INT(nc_config_policy(cfg), NC_POLICY_TOFU);
	nc_config_free(cfg);
	CHECK_INT(nc_config_parse(&cfg, "policy log\n", 11), 0);
	CHECK_INT(nc_config_policy(cfg), NC_POLICY_LOG);
	nc_config_free(cfg);
	CHECK_INT(nc_config_parse(&cfg, "policy none\n", 12), NC_ECONFIG);
	CHECK_INT(nc_config_parse(&cfg, "policy tofu\npolicy log\n", 23), NC_ECONFIG);
	CHECK_INT(nc_config_parse(&cfg, "policy\n", 7), NC_ECONFIG);
	CHECK_INT(nc_config_parse(&cfg, "policy log tofu\n", 16), NC_ECONFIG);
	CHECK(strcmp(nc_policy_name(NC_POLICY_VERIFIED), "verified") == 0 &&
	    strcmp(nc_policy_name(NC_POLICY_TOFU), "tofu") == 0 &&
	    strcmp(nc_policy_name(NC_POLICY_LOG), "log") == 0);
}

static const struct {
	const char *text, *why;
} bad[] = {
	{ "relay a.test\n", "config:1: usage: relay" },
	{ "\n\nrelay a.test http://x extra\n", "config:3: usage: relay" },
	{ "relay a.test http://x y z\n", "config:1: too many fields" },
	{ "relay A.test http://x\n", "config:1: bad domain" },
	{ "relay a_b.test http://x\n", "bad domain" },
	{ "relay a..test http://x\n", "bad domain" },
	{ "relay a.test ftp://x\n", "must start with http:// or https://" },
	{ "relay a.test HTTP://x\n", "must start with http" },
	{ "relay a.test http://\n", "URL without a host" },
	{ "relay a.test http:///path\n", "URL without a host" },
	{ "relay a.test http://x/?q=1\n", "query or fragment" },
	{ "relay a.test http://x/\xc3\xa9\n", "not printable ASCII" },
	{ "relay a.test http://x\nrelay a.test http://y\n",
	  "config:2: second relay line for a.test" },
	{ "cafile\n", "usage: cafile" },
	{ "cafile ca.pem\n", "absolute path" },
	{ "cafile /a\ncafile /b\n", "config:2: second cafile" },
	{ "proxy\n", "usage: proxy" },
	{ "proxy ftp://x\n", "proxy URL must start" },
	{ "proxy socks5h://p\nproxy http://q\n", "second proxy" },
	{ "relays a.test http://x\n", "unknown keyword \"relays\"" },
	{ "Relay a.test http://x\n", "unknown keyword" },
	{ "# ok\nrelay a.test http://x # comment\n", "config:2: too many" },
	{ "# ok\nrelay a.test http://x #c\n", "config:2: usage: relay" },
	{ "relay a.test\vhttp://x\n", "control character" },
	{ "relay a.test http://x\x1b[0m\n", "control character" },
	{ "x\x7f\n", "control character" },
	{ "\r\n\rrelay a.test http://x\n", "config:2: control character" },
	{ "junk", "config:1: unknown keyword" },
};

static void
config_bad(void)
{
	nc_config *cfg;
	size_t n = sizeof bad / sizeof bad[0];
	static char big[NC_CONFIG_MAXSIZE + 2];

	for (size_t i = 0; i < n; i++) {
		cfg = (nc_config *)1;
		CHECK_INT(nc_config_parse(&cfg, bad[i].text,
		    strlen(bad[i].text)), NC_ECONFIG);
		CHECK(cfg == NULL);
		if (!CHECK(strstr(nc_errmsg(), bad[i].why) != NULL))
			fprintf(stderr, "    case %zu: \"%s\" lacks \"%s\"\n", i,
			    nc_errmsg(), bad[i].why);
	}
	CHECK(n >= 15);

	/* NUL inside a line. */
	CHECK_INT(nc_config_parse(&cfg, "# a\nrelay\0 a.test http://x\n", 27),
	    NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "config:2: NUL") != NULL);
	/* Bounds: a long line, too many lines, too large. */
	memset(big, ' ', sizeof big);
	big[NC_CONFIG_MAXLINE] = '\n';
	CHECK_INT(nc_config_parse(&cfg, big, NC_CONFIG_MAXLINE + 1), 0);
	nc_config_free(cfg);
	big[NC_CONFIG_MAXLINE] = ' ';
	big[NC_CONFIG_MAXLINE + 1] = '\n';
	CHECK_INT(nc_config_parse(&cfg, big, NC_CONFIG_MAXLINE + 2),
	    NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "config:1: line longer") != NULL);
	memset(big, '\n', sizeof big);
	CHECK_INT(nc_config_parse(&cfg, big, NC_CONFIG_MAXLINES), 0);
	nc_config_free(cfg);
	CHECK_INT(nc_config_parse(&cfg, big, NC_CONFIG_MAXLINES + 1),
	    NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "config:1001: more than 1000 lines") != NULL);
	memset(big, ' ', sizeof big);
	CHECK_INT(nc_config_parse(&cfg, big, NC_CONFIG_MAXSIZE + 1),
	    NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "larger than") != NULL);
}

static void
config_load(void)
{
	char home[512], path[600];
	nc_config *cfg;
	const char *text = "relay a.test http://127.0.0.1:1\nproxy http://p:3128\n";

	snprintf(home, sizeof home, "%s/h2", tmp);
	CHECK(mkdir(home, 0700) == 0);
	unsetenv("NC_PROXY");
	/* Missing file: empty config. */
	CHECK_INT(nc_config_load(&cfg, home), 0);
	CHECK(cfg != NULL && nc_config_relay(cfg, "a.test") == NULL);
	nc_config_free(cfg);

	snprintf(path, sizeof path, "%s/config", home);
	CHECK_INT(nc_write_atomic(path, text, strlen(text), 0600), 0);
	CHECK_INT(nc_config_load(&cfg, home), 0);
	CHECK_STR(nc_config_relay(cfg, "a.test"), "http://127.0.0.1:1");
	CHECK_STR(nc_config_proxy(cfg), "http://p:3128");
	nc_config_free(cfg);

	setenv("NC_PROXY", "socks5h://127.0.0.1:9050", 1);
	CHECK_INT(nc_config_load(&cfg, home), 0);
	CHECK_STR(nc_config_proxy(cfg), "socks5h://127.0.0.1:9050");
	nc_config_free(cfg);
	setenv("NC_PROXY", "gopher://x", 1);
	CHECK_INT(nc_config_load(&cfg, home), NC_ECONFIG);
	CHECK(cfg == NULL && strstr(nc_errmsg(), "NC_PROXY") != NULL);
	unsetenv("NC_PROXY");

	CHECK_INT(nc_write_atomic(path, "relay a.test\n", 13, 0600), 0);
	CHECK_INT(nc_config_load(&cfg, home), NC_ECONFIG);
	CHECK(strstr(nc_errmsg(), "config:1:") != NULL);
	/* A config that is a directory. */
	unlink(path);
	CHECK(mkdir(path, 0700) == 0);
	CHECK_INT(nc_config_load(&cfg, home), NC_ECONFIG);
	rmdir(path);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void
files(void)
{
	char dir[512], path[600], link[600];
	nc_buf b = NC_BUF_INIT;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/files", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(path, sizeof path, "%s/f", dir);
	CHECK_INT(nc_write_atomic(path, "first", 5, 0600), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_INT(nc_read_file(path, &b, 100), 0);
	CHECK(b.len == 5 && memcmp(b.p, "first", 5) == 0);
	CHECK_INT(nc_write_atomic(path, "second!", 7, 0600), 0);
	CHECK_INT(nc_read_file(path, &b, 100), 0);   /* replaces buf */
	CHECK(b.len == 7 && memcmp(b.p, "second!", 7) == 0);
	CHECK_INT(count_entries(dir), 1);   /* no temporary left */
	CHECK_INT(nc_write_atomic(path, "", 0, 0644), 0);
	CHECK_INT(nc_read_file(path, &b, 100), 0);
	CHECK_INT(b.len, 0);

	/* Bounded: exactly max is fine, one more is not. */
	CHECK_INT(nc_write_atomic(path, "0123456789", 10, 0600), 0);
	CHECK_INT(nc_read_file(path, &b, 10), 0);
	CHECK_INT(nc_read_file(path, &b, 9), NC_EDATA);
	/* Missing file: NC_EIO with errno ENOENT. */
	snprintf(link, sizeof link, "%s/missing", dir);
	errno = 0;
	CHECK_INT(nc_read_file(link, &b, 10), NC_EIO);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(nc_read_file(dir, &b, 10), NC_EDATA);   /* a directory */
	/* A missing directory: cannot create. */
	snprintf(link, sizeof link, "%s/nodir/f", dir);
	CHECK_INT(nc_write_atomic(link, "x", 1, 0600), NC_ECANTCREAT);
	/* A symlink at the target is replaced, not followed. */
	snprintf(link, sizeof link, "%s/l", dir);
	CHECK(symlink(path, link) == 0);
	CHECK_INT(nc_write_atomic(link, "new", 3, 0600), 0);
	CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
	CHECK_INT(nc_read_file(path, &b, 100), 0);
	CHECK(b.len == 10);   /* the old target is untouched */
	/* Secret buffers work too. */
	{
		nc_buf s = NC_SECBUF_INIT;

		CHECK_INT(nc_read_file(link, &s, 100), 0);
		CHECK(s.len == 3 && memcmp(s.p, "new", 3) == 0);
		nc_buf_free(&s);
	}
	nc_buf_free(&b);
}

int
main(void)
{
	char cmd[300];
	int rc;

	if (sodium_init() < 0)
		return 2;
	snprintf(tmp, sizeof tmp, "/tmp/test-home.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return 2;
	path_rules();
	home_open();
	config_good();
	config_bad();
	config_load();
	files();
	rc = check_done("test-home");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 2;
	return rc;
}
