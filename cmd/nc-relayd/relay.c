/* relay.c - one relay's state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "hex.h"
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
}

static void
on_mail(void *arg, const char *user, const uint8_t dev[NC_DEVID_LEN])
{
	struct relay *r = arg;

	waiters_notify(r->waiters, user, dev);
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
	    store_open(&r->store, c->datadir, &c->lim, on_mail, r) != ST_OK) {
		fprintf(stderr, "nc-relayd: %s: cannot open the store\n", c->datadir);
		r->store = NULL;
		relay_close(r);
		return -1;
	}
	*rp = r;
	return 0;
}

void
relay_close(struct relay *r)
{
	if (r == NULL)
		return;
	store_close(r->store);   /* first: its commits notify waiters */
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
