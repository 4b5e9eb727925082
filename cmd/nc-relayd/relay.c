/* relay.c - one relay's state. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "devlist.h"
#include "hex.h"
#include "kt.h"
#include "push.h"
#include "ratelimit.h"
#include "relay.h"
#include "replay.h"
#include "waiters.h"

void
relay_conf_defaults(struct relay_conf *c)
{
	memset(c, 0, sizeof *c);
	c->domain = "localhost";
	c->rate_register = 10;
	c->rate_login = 60;
	c->rate_anon = 200;
	c->blob_max = (uint64_t)100 << 20;
	c->blob_expiry_max = 90 * 86400;
	c->lim.mail_count = 10000;
	c->lim.mail_bytes = (uint64_t)256 << 20;
	c->lim.otpk_max = 1000;
	c->lim.devices_max = 32;
	c->lim.nonces_max = 16;
	c->lim.backup_records = 100000;
	c->lim.backup_bytes = (uint64_t)1 << 30;
}

static void
on_mail(void *arg, const char *user, const uint8_t dev[NC_DEVID_LEN], int link)
{
	struct relay *r = arg;

	waiters_notify(r->waiters, user, dev);
	/* With PostgreSQL this runs on the store's listening thread, which
	 * starts before the pusher exists: it is published atomically. A
	 * filled link box wakes only its take. */
	if (!link)
		push_mail(__atomic_load_n(&r->push, __ATOMIC_ACQUIRE), user, dev);
}

#define KT_KEYFILE "kt.key"

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Makes DIR/kt.key (two random seeds): written to a temporary file, synced,
 * then linked into place, so a crash leaves the whole file or none. */
static int
kt_keys_create(const char *dir, const char *path)
{
	char tmp[4200];
	uint8_t b[64];
	int fd, ok;

	snprintf(tmp, sizeof tmp, "%s/%s.XXXXXX", dir, KT_KEYFILE);
	if ((fd = mkstemp(tmp)) < 0)   /* 0600 */
		return -1;
	randombytes_buf(b, sizeof b);
	ok = write(fd, b, sizeof b) == (ssize_t)sizeof b && fsync(fd) == 0;
	sodium_memzero(b, sizeof b);
	ok = close(fd) == 0 && ok;
	ok = ok && (link(tmp, path) == 0 || errno == EEXIST);   /* EEXIST: another won */
	unlink(tmp);
	return ok && sync_dir(dir) == 0 ? 0 : -1;
}

/* The key log's keys: read from DIR/kt.key, made at the first start. A
 * missing file is made again only while the log is empty: a new key under
 * an existing log would make every client that pinned the old one raise
 * an alarm, so the relay refuses to start and says so. */
static int
kt_keys(struct relay *r, const char *dir)
{
	char path[4200];
	struct stat sb;
	uint8_t b[64];
	int64_t n;
	int fd, ok;

	snprintf(path, sizeof path, "%s/%s", dir, KT_KEYFILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 && errno == ENOENT) {
		if ((n = store_kt_size(r->store)) != 0) {
			fprintf(stderr, "nc-relayd: %s: missing, but the key log holds %lld "
			    "entries signed with it: restore the file from a backup\n", path,
			    (long long)n);
			return -1;
		}
		if (kt_keys_create(dir, path) != 0) {
			fprintf(stderr, "nc-relayd: %s: cannot create: %s\n", path,
			    strerror(errno));
			return -1;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		fprintf(stderr, "nc-relayd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == (off_t)sizeof b &&
	    read(fd, b, sizeof b) == (ssize_t)sizeof b;
	if (ok && (sb.st_mode & 077) != 0)
		(void)fchmod(fd, 0600);   /* a secret, like relay.db */
	close(fd);
	if (!ok) {
		sodium_memzero(b, sizeof b);
		fprintf(stderr, "nc-relayd: %s: not a key-log key file (64 bytes): restore "
		    "it from a backup\n", path);
		return -1;
	}
	crypto_sign_seed_keypair(r->kt->log_pk, r->kt->log_sk, b);
	memcpy(r->kt->vrf_seed, b + 32, 32);
	nc_vrf_public(r->kt->vrf_pk, r->kt->vrf_seed);
	sodium_memzero(b, sizeof b);
	return 0;
}

int
relay_kt_leaf(const struct relay *r, const char *user, uint64_t version,
    const uint8_t identity[32], const uint8_t *list, size_t n, struct store_kt_leaf *out)
{
	char addr[NC_ADDR_MAX + 1];

	if ((size_t)snprintf(addr, sizeof addr, "%s@%s", user, r->domain) >= sizeof addr ||
	    nc_kt_label(out->label, out->vrf, r->kt->vrf_seed, addr, version) != 0)
		return -1;
	randombytes_buf(out->opening, sizeof out->opening);
	nc_kt_commit(out->commitment, out->opening, out->label, identity, list, n);
	return 0;
}

static int
kt_fill(void *arg, const char *user, uint64_t version, const uint8_t identity[NC_PK_LEN],
    const uint8_t *list, size_t len, struct store_kt_leaf *out)
{
	return relay_kt_leaf(arg, user, version, identity, list, len, out);
}

int
relay_open(struct relay **rp, const struct relay_conf *c)
{
	struct relay *r;

	if (!nc_domain_valid(c->domain)) {
		fprintf(stderr, "nc-relayd: bad domain: %s\n", c->domain);
		return -1;
	}
	if (mkdir(c->datadir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "nc-relayd: %s: %s\n", c->datadir, strerror(errno));
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return -1;
	r->conf = *c;
	snprintf(r->domain, sizeof r->domain, "%s", c->domain);
	snprintf(r->url, sizeof r->url, "%s", c->public_url ? c->public_url : "");
	r->rl = rl_new();
	r->replay = replay_new(1 << 20, 2 * 300);
	r->waiters = waiters_new();
	if (r->rl == NULL || r->replay == NULL || r->waiters == NULL ||
	    (c->db ? store_open_pg(&r->store, c->db, c->datadir, &c->lim, on_mail, r) :
	    store_open(&r->store, c->datadir, &c->lim, on_mail, r)) != ST_OK) {
		fprintf(stderr, "nc-relayd: %s: cannot open the store\n",
		    c->db ? "--db" : c->datadir);
		r->store = NULL;
		relay_close(r);
		return -1;
	}
	/* The key log: its keys, then the lists stored before it existed. */
	if ((r->kt = sodium_malloc(sizeof *r->kt)) == NULL || kt_keys(r, c->datadir) != 0) {
		relay_close(r);
		return -1;
	}
	/* Many processes on one database: one set of limits and one memory
	 * of signed requests, or each process would be a fresh allowance.
	 * The buckets' names are keyed by a secret the processes share (the
	 * data directory's VRF seed, hashed with another label). */
	if (store_shared(r->store)) {
		rl_share(r->rl, r->store, r->kt->vrf_seed);
		replay_share(r->replay, r->store);
	}
	store_kt_keys(r->store, r->kt->log_sk, r->domain);
	if (store_kt_backfill(r->store, kt_fill, r) != ST_OK) {
		fprintf(stderr, "nc-relayd: %s: cannot log the stored device lists\n",
		    c->datadir);
		relay_close(r);
		return -1;
	}
	struct pusher *push = push_new(r->store, c->push_allow_local);
	if (push == NULL) {
		relay_close(r);
		return -1;
	}
	__atomic_store_n(&r->push, push, __ATOMIC_RELEASE);
	*rp = r;
	return 0;
}

void
relay_close(struct relay *r)
{
	if (r == NULL)
		return;
	push_stop(r->push);      /* it reads and writes the store */
	store_close(r->store);   /* first: its commits notify waiters, and sign */
	push_free(r->push);
	sodium_free(r->kt);      /* zeroes it */
	waiters_free(r->waiters);
	replay_free(r->replay);
	rl_free(r->rl);
	free(r);
}

int
relay_issue_invite(struct relay *r)
{
	uint8_t b[16];
	char code[33];

	randombytes_buf(b, sizeof b);
	nc_hex_encode(code, b, sizeof b);
	if (store_invite_add(r->store, code) != ST_OK) {
		fprintf(stderr, "nc-relayd: cannot store the invite\n");
		return -1;
	}
	printf("%s\n", code);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}
