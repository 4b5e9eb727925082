/* relay.h - one relay's state: configuration, storage, rate limits, the
 * replay cache and the long-poll waiters. */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdatomic.h>
#include <stdint.h>

#include "relaymsg.h"
#include "store.h"

struct relay_conf {
	const char *datadir;         /* sqlite's store, or (with db) the blobs */
	const char *db;              /* PostgreSQL conninfo; NULL: sqlite */
	const char *domain;
	const char *public_url;      /* as announced by /.well-known/newchat */
	int invite_only;
	double rate_register;        /* per address per minute; 0: unlimited */
	double rate_login;           /* challenges + logins per address per minute */
	double rate_anon;            /* anonymous deliveries/claims/uploads per second */
	uint64_t blob_max;           /* bytes */
	int64_t blob_expiry_max;     /* seconds */
	int push_allow_local;        /* push to http:// and non-public addresses */
	struct store_limits lim;
};

/* The key log's keys (issue 19), in DATADIR/kt.key (0600): the log's
 * signing seed then the VRF seed, 32 bytes each, made at the first start
 * and kept for the relay's life - clients pin the public keys. */
struct relay_kt {
	uint8_t log_sk[64], log_pk[32];
	uint8_t vrf_seed[32], vrf_pk[32];
};

struct relay {
	struct relay_conf conf;
	char domain[NC_DOMAIN_MAX + 1];
	char url[1024];
	struct store *store;
	struct ratelimit *rl;
	struct replay *replay;
	struct waiters *waiters;
	struct pusher *push;    /* wake-ups to push endpoints (push.h) */
	struct relay_kt *kt;    /* sodium_malloc'd */
	atomic_int stopping;    /* set by the main thread, read by workers */
};

void relay_conf_defaults(struct relay_conf *c);
/* Opens (creating) the data directory; 0 or -1 with a message on stderr. */
int relay_open(struct relay **r, const struct relay_conf *c);
void relay_close(struct relay *r);
/* The key-log leaf of user's list version (a fresh random opening). 0 or -1. */
int relay_kt_leaf(const struct relay *r, const char *user, uint64_t version,
    const uint8_t identity[32], const uint8_t *list, size_t n, struct store_kt_leaf *out);
/* Print a new single-use invite code to stdout. */
int relay_issue_invite(struct relay *r);

#endif
