/* api_account.c - registration, OPAQUE login, adding a device, changing
 * the password and deleting an account (protocol.md 1.2); the old
 * password scheme's challenge and login, for accounts that have not moved
 * to OPAQUE yet (their next login migrates them). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api_int.h"
#include "hkdf.h"
#include "idbackup.h"
#include "opaque.h"
#include "ratelimit.h"
#include "relay.h"
#include "replay.h"

#define NONCE_TTL 120
#define TOKEN_TTL 120     /* a login's token: KE2 to the operation */
#define CONTEXT "newchat opaque v1"
#define TOKEN_LABEL "newchat login token v1"
#define FAKE_LABEL "newchat opaque fake v1"

/* The relay's OPAQUE secrets, DATADIR/opaque.key (0600), made at the first
 * start: the AKE key pair's seed (32), the OPRF seed (64), the token key
 * (32) and the fake-record key (32). The AKE public key is published in
 * /.well-known/newchat for clients to pin. */
struct opq {
	char dir[4096];
	uint8_t ake_sk[32], ake_pk[32], oprf_seed[64], token_key[32], fake_key[32];
};
#define OPQ_FILE_LEN (32 + 64 + 32 + 32)

static pthread_mutex_t opq_mu = PTHREAD_MUTEX_INITIALIZER;
static struct opq *opq_cur;   /* sodium_malloc'd; one data dir a process */

static int
opq_load(const char *dir, struct opq *k)
{
	uint8_t *b;
	char path[4200], tmp[4300];
	int fd, rc = -1;
	ssize_t n;

	if ((b = sodium_malloc(OPQ_FILE_LEN)) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/opaque.key", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == ENOENT) {
		/* First start: write it whole under another name, then link it
		 * in (a second thread or process racing us loses and reads). */
		randombytes_buf(b, OPQ_FILE_LEN);
		snprintf(tmp, sizeof tmp, "%s/opaque.key.%ld", dir, (long)getpid());
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
			n = write(fd, b, OPQ_FILE_LEN);
			if (n == OPQ_FILE_LEN && fsync(fd) == 0)
				(void)!link(tmp, path);
			close(fd);
			unlink(tmp);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd >= 0) {
		n = read(fd, b, OPQ_FILE_LEN);
		close(fd);
		if (n == OPQ_FILE_LEN &&
		    nc_opaque_server_keypair(k->ake_sk, k->ake_pk, b) == 0) {
			memcpy(k->oprf_seed, b + 32, 64);
			memcpy(k->token_key, b + 96, 32);
			memcpy(k->fake_key, b + 128, 32);
			rc = 0;
		}
	}
	sodium_free(b);
	return rc;
}

/* The secrets of r's data dir, loaded once (NULL: cannot). */
static const struct opq *
opq_get(const struct relay *r)
{
	struct opq *k = NULL;
	const char *dir = r->conf.datadir ? r->conf.datadir : ".";

	pthread_mutex_lock(&opq_mu);
	if (opq_cur && strcmp(opq_cur->dir, dir) == 0)
		k = opq_cur;
	else if ((k = sodium_malloc(sizeof *k)) != NULL) {
		snprintf(k->dir, sizeof k->dir, "%s", dir);
		if (opq_load(dir, k) == 0) {
			if (opq_cur)
				sodium_free(opq_cur);
			opq_cur = k;
		} else {
			sodium_free(k);
			k = NULL;
		}
	}
	pthread_mutex_unlock(&opq_mu);
	return k;
}

int
relay_opaque_pk(const struct relay *r, uint8_t pk[32])
{
	const struct opq *k = opq_get(r);

	if (k == NULL)
		return -1;
	memcpy(pk, k->ake_pk, 32);
	return 0;
}

static void
ids_of(struct nc_opaque_ids *ids, const char *addr, const char *domain)
{
	ids->context = (const uint8_t *)CONTEXT;
	ids->context_len = strlen(CONTEXT);
	ids->client = (const uint8_t *)addr;
	ids->client_len = strlen(addr);
	ids->server = (const uint8_t *)domain;
	ids->server_len = strlen(domain);
}

/* A fake record for a name without one, the same every time (so asking
 * twice tells nothing): a key pair and masking key from HKDF(fake key,
 * label 0x00 || addr), an all-zero envelope. */
static int
fake_record(uint8_t rec[NC_OPAQUE_RECORD], const struct opq *k, const char *addr)
{
	uint8_t okm[96], sk[32], info[sizeof FAKE_LABEL + NC_ADDR_MAX + 1];
	size_t n = strlen(addr);
	int rc;

	memcpy(info, FAKE_LABEL, sizeof FAKE_LABEL);
	memcpy(info + sizeof FAKE_LABEL, addr, n);
	memset(rec, 0, NC_OPAQUE_RECORD);
	if ((rc = nc_hkdf(okm, sizeof okm, NULL, 0, k->fake_key, 32, info,
	    sizeof FAKE_LABEL + n)) == 0 &&
	    (rc = nc_opaque_server_keypair(sk, rec, okm)) == 0)
		memcpy(rec + 32, okm + 32, 64);
	sodium_memzero(okm, sizeof okm);
	sodium_memzero(sk, sizeof sk);
	return rc;
}

/* The cost a fake KE2 names: the one most accounts have, so that an
 * unknown name costs a client the same Argon2id as a typical one (asked
 * of the store at most once a minute). */
static int
fake_cost(struct call *c)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static int64_t until;
	static int cached = NC_COST_MODERATE;
	int cost, v;

	pthread_mutex_lock(&mu);
	if (c->q->now >= until) {
		if (store_opaque_common_cost(c->r->store, &v) == ST_OK &&
		    v >= NC_COST_INTERACTIVE && v <= NC_COST_SENSITIVE)
			cached = v;
		until = c->q->now + 60;
	}
	cost = cached;
	pthread_mutex_unlock(&mu);
	return cost;
}

/* Token AD: label 0x00 || addr: a token serves only the user it was made for. */
static size_t
token_ad(uint8_t *ad, const char *addr)
{
	size_t n = strlen(addr);

	memcpy(ad, TOKEN_LABEL, sizeof TOKEN_LABEL);
	memcpy(ad + sizeof TOKEN_LABEL, addr, n);
	return sizeof TOKEN_LABEL + n;
}

#define TOKEN_PT (16 + 8 + 64 + 64)

/* token = nonce 24 || XChaCha20-Poly1305(token key; id 16 || expiry u64
 * big-endian || expected KE3 64 || session key 64): the relay keeps no
 * state between KE2 and the operation. */
static void
token_seal(uint8_t tok[NC_LOGIN_TOKEN_LEN], const struct opq *k, const char *addr,
    const struct nc_opaque_server *srv, int64_t expires)
{
	uint8_t pt[TOKEN_PT], ad[sizeof TOKEN_LABEL + NC_ADDR_MAX + 1];
	size_t adlen = token_ad(ad, addr);
	int i;

	randombytes_buf(pt, 16);
	for (i = 0; i < 8; i++)
		pt[16 + i] = (uint8_t)((uint64_t)expires >> (56 - 8 * i));
	memcpy(pt + 24, srv->expected_ke3, 64);
	memcpy(pt + 88, srv->session_key, 64);
	randombytes_buf(tok, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(tok + 24, NULL, pt, sizeof pt,
	    ad, adlen, NULL, tok, k->token_key);
	sodium_memzero(pt, sizeof pt);
}

void
h_opaque_reg(struct call *c)
{
	const char *user = c->seg[2];
	const struct opq *k;
	struct store_account acct;
	uint8_t req[32], resp[NC_OPAQUE_RESPONSE], rec[NC_OPAQUE_RECORD];
	char addr[NC_ADDR_MAX + 1];
	int rc, cost, taken;

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if (nc_regreq_dec(req, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if ((k = opq_get(c->r)) == NULL) {
		fail(c->a, 503, "relay keys unavailable");
		return;
	}
	/* Registration reveals that a name is taken (threat-model.md). */
	rc = store_opaque_get(c->r->store, user, rec, &cost);
	if (rc == ST_NOTFOUND)
		rc = store_user_get(c->r->store, user, &acct);
	if (rc != ST_OK && rc != ST_NOTFOUND) {
		fail_store(c->a, rc, "user");
		return;
	}
	taken = rc == ST_OK;
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	if (nc_opaque_reg_respond(resp, req, k->ake_pk, (const uint8_t *)addr,
	    strlen(addr), k->oprf_seed) != 0)
		fail(c->a, 400, "registration request: not a group element");
	else if (nc_regresp_enc(&c->a->body, taken, resp) != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, 200);
}

/* Guessing is limited per address and per (account, address): an
 * attacker elsewhere cannot use up the user's own allowance. */
static int
limited_login(struct call *c, const char *user)
{
	const struct relay_conf *k = &c->r->conf;
	char key[NC_NAME_MAX + 200];
	unsigned wait;

	if (limited(c, RL_LOGIN))
		return 1;
	snprintf(key, sizeof key, "%s\n%s", user, c->q->addr ? c->q->addr : "");
	wait = rl_take(c->r->rl, RL_LOGIN, key, k->rate_login / 60 / 2,
	    k->rate_login / 2 < 1 ? 1 : k->rate_login / 2, (double)c->q->now);
	if (wait == 0)
		return 0;
	fail(c->a, 429, "rate limited, retry later");
	c->a->retry_after = wait;
	return 1;
}

void
h_login(struct call *c)
{
	const char *user = c->seg[2];
	const struct opq *k;
	struct nc_opaque_server srv;
	struct nc_opaque_ids ids;
	uint8_t ke1[NC_OPAQUE_KE1], ke2[NC_OPAQUE_KE2], rec[NC_OPAQUE_RECORD];
	uint8_t tok[NC_LOGIN_TOKEN_LEN];
	char addr[NC_ADDR_MAX + 1];
	int rc, cost = NC_COST_MODERATE;

	if (bad_user(c, user) || limited_login(c, user))
		return;
	if (nc_ke1_dec(ke1, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if ((k = opq_get(c->r)) == NULL) {
		fail(c->a, 503, "relay keys unavailable");
		return;
	}
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	rc = store_opaque_get(c->r->store, user, rec, &cost);
	/* No such user (or one not moved to OPAQUE yet): a fake KE2 that
	 * looks like a real one, always the same record for the name. */
	if (rc == ST_NOTFOUND) {
		cost = fake_cost(c);
		rc = fake_record(rec, k, addr) == 0 ? ST_OK : ST_ERR;
	}
	if (rc != ST_OK) {
		fail_store(c->a, rc, "user");
		return;
	}
	ids_of(&ids, addr, c->r->domain);
	if (nc_opaque_ke2(&srv, ke2, &ids, k->ake_sk, k->ake_pk, rec,
	    (const uint8_t *)addr, strlen(addr), k->oprf_seed, ke1) != 0)
		fail(c->a, 400, "KE1: not a group element");
	else {
		token_seal(tok, k, addr, &srv, c->q->now + TOKEN_TTL);
		if (nc_ke2_enc(&c->a->body, cost, ke2, tok) != 0)
			fail(c->a, 503, "out of memory");
		else
			reply(c->a, 200);
	}
	sodium_memzero(&srv, sizeof srv);
}

/* An operation under a login: the token opens for this user and is
 * unexpired and unused, KE3 is the one expected, the MAC is the session
 * key's. 0, or 1 answered - every failure the same 401, unknown user or
 * wrong password alike. */
static int
op_login(struct call *c, const char *user, int op, struct nc_opreq *o)
{
	const struct opq *k;
	uint8_t pt[TOKEN_PT], ad[sizeof TOKEN_LABEL + NC_ADDR_MAX + 1], who[16];
	char addr[NC_ADDR_MAX + 1];
	uint64_t exp = 0;
	int i, ok, seen;

	if (nc_opreq_dec(o, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return 1;
	}
	if (o->op != op) {
		fail(c->a, 400, "operation does not match the route");
		return 1;
	}
	if ((k = opq_get(c->r)) == NULL) {
		fail(c->a, 503, "relay keys unavailable");
		return 1;
	}
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	ok = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL,
	    o->token + 24, NC_LOGIN_TOKEN_LEN - 24, ad, token_ad(ad, addr),
	    o->token, k->token_key) == 0;
	for (i = 0; ok && i < 8; i++)
		exp = exp << 8 | pt[16 + i];
	ok = ok && (int64_t)exp >= c->q->now &&
	    sodium_memcmp(pt + 24, o->ke3, 64) == 0 &&
	    nc_opreq_verify(o, c->q->body, pt + 88, addr) == 0;
	if (ok) {
		/* Once: the replay memory keeps token ids past their expiry. */
		crypto_generichash(who, sizeof who, (const uint8_t *)addr,
		    strlen(addr), (const uint8_t *)TOKEN_LABEL, 16);
		seen = replay_check(c->r->replay, who, pt, c->q->now);
		sodium_memzero(pt, sizeof pt);
		if (seen != 0) {
			fail(c->a, seen < 0 ? 503 : 401, seen < 0 ?
			    "busy, retry later" : "login token used already");
			return 1;
		}
		return 0;
	}
	sodium_memzero(pt, sizeof pt);
	fail(c->a, 401, "wrong user or password");
	return 1;
}

/* Argon2id parameters a client may ask others to spend: libsodium's range,
 * memory capped at 4 GiB so a login cannot be turned into a bomb. */
static int
kdf_ok(uint64_t ops, uint64_t mem)
{
	return ops >= crypto_pwhash_OPSLIMIT_MIN && ops <= 64 &&
	    mem >= crypto_pwhash_MEMLIMIT_MIN && mem <= ((uint64_t)4 << 30);
}

static void
register_opaque(struct call *c, const char *user)
{
	struct nc_register2 g;
	struct store_account acct;
	const char *invite = NULL;
	int rc;

	if (nc_register2_dec(&g, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (c->r->conf.invite_only) {
		if (g.invite[0] == '\0') {
			fail(c->a, 403, "this relay needs an invite code");
			return;
		}
		invite = g.invite;
	}
	memset(&acct, 0, sizeof acct);
	memcpy(acct.record, g.record, sizeof acct.record);
	acct.cost = g.cost;
	rc = store_user_create(c->r->store, user, &acct, g.device_sign_pk, invite,
	    c->q->now);
	if (rc == ST_FORBIDDEN)
		fail(c->a, 403, "invalid or used invite code");
	else if (rc == ST_EXISTS)
		fail(c->a, 409, "name taken");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "register");
	else
		reply(c->a, 201);
}

void
h_register(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_register g;
	struct store_account acct;
	const char *invite = NULL;
	int rc;

	if (bad_user(c, user) || limited(c, RL_REGISTER))
		return;
	memset(&acct, 0, sizeof acct);
	if (c->q->body_len > 0 && ((const uint8_t *)c->q->body)[0] == V2_OPAQUE) {
		register_opaque(c, user);
		return;
	}
	/* The old scheme's registration (an auth key), still taken: such an
	 * account moves to OPAQUE at its first login by a current client. */
	if (nc_register_dec(&g, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (!kdf_ok(g.opslimit, g.memlimit)) {
		fail(c->a, 400, "password KDF parameters out of range");
		return;
	}
	if (c->r->conf.invite_only) {
		if (g.invite[0] == '\0') {
			fail(c->a, 403, "this relay needs an invite code");
			return;
		}
		invite = g.invite;
	}
	memcpy(acct.auth_pk, g.auth_pk, NC_PK_LEN);
	memcpy(acct.salt, g.salt, NC_SALT_LEN);
	acct.opslimit = g.opslimit;
	acct.memlimit = g.memlimit;
	rc = store_user_create(c->r->store, user, &acct, g.device_sign_pk, invite,
	    c->q->now);
	if (rc == ST_FORBIDDEN)
		fail(c->a, 403, "invalid or used invite code");
	else if (rc == ST_EXISTS)
		fail(c->a, 409, "name taken");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "register");
	else
		reply(c->a, 201);
}

void
h_challenge(struct call *c)
{
	const char *user = c->seg[2];
	struct store_account acct;
	struct nc_challenge ch;
	int rc;

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if ((rc = store_user_get(c->r->store, user, &acct)) != ST_OK) {
		fail_store(c->a, rc, "user");
		return;
	}
	memcpy(ch.salt, acct.salt, NC_SALT_LEN);
	ch.opslimit = acct.opslimit;
	ch.memlimit = acct.memlimit;
	randombytes_buf(ch.nonce, NC_NONCE_LEN);
	rc = store_nonce_put(c->r->store, user, ch.nonce, c->q->now + NONCE_TTL,
	    c->q->now);
	if (rc == ST_FULL) {
		fail(c->a, 429, "too many open challenges, retry later");
		c->a->retry_after = NONCE_TTL;
	} else if (rc != ST_OK)
		fail_store(c->a, rc, "user");
	else if (nc_challenge_enc(&c->a->body, &ch) != 0)
		fail(c->a, 503, "out of memory");
	else
		reply(c->a, 200);
}

/* Consume the nonce, then check the auth key's signature: 0 or answered. */
static int
login(struct call *c, const char *user, int op, const struct nc_authreq *ar)
{
	struct store_account acct;
	char addr[NC_ADDR_MAX + 1];
	int rc;

	rc = store_nonce_take(c->r->store, user, ar->nonce, c->q->now);
	if (rc == ST_NOTFOUND) {
		fail(c->a, 401, "unknown, used or expired challenge");
		return 1;
	}
	if (rc == ST_OK)
		rc = store_user_get(c->r->store, user, &acct);
	if (rc != ST_OK) {
		fail_store(c->a, rc, "user");
		return 1;
	}
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	if (nc_auth_verify(ar, op, addr, acct.auth_pk) != 0) {
		fail(c->a, 401, "wrong password");
		return 1;
	}
	return 0;
}

void
h_add_device(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_authreq ar;
	int rc;

	struct nc_opreq o;
	const uint8_t *pk = ar.device_sign_pk;

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if (c->q->body_len > 0 && ((const uint8_t *)c->q->body)[0] == V2_OPAQUE) {
		if (op_login(c, user, NC_OP_ADD_DEVICE, &o))
			return;
		pk = o.device_sign_pk;
	} else if (nc_adddev_dec(&ar, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	} else if (login(c, user, NC_AUTH_ADD_DEVICE, &ar))
		return;
	rc = store_device_add(c->r->store, user, pk);
	/* The password login is what lets the new device have the backup. */
	if (rc == ST_OK)
		rc = store_idbackup_get(c->r->store, user, &c->a->body);
	if (rc == ST_FULL)
		fail(c->a, 409, "too many devices");
	else if (rc != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 201);
}

void
h_idbackup_put(struct call *c)
{
	const char *user = c->seg[2];
	nc_idbackup b;
	nc_buf dl = NC_BUF_INIT;
	nc_devlist *l = NULL;
	uint64_t v;
	int rc;

	if (bad_user(c, user) || unsigned_req(c, user, NULL))
		return;
	if (nc_idbackup_decode(&b, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	/* It must name the identity key the device list is signed with. */
	rc = store_devlist_get(c->r->store, user, &dl, &v);
	if (rc == ST_OK && ((l = malloc(sizeof *l)) == NULL ||
	    nc_devlist_decode(l, dl.p, dl.len) != 0))
		rc = ST_ERR;
	if (rc == ST_OK && memcmp(l->identity, b.identity, 32) != 0)
		fail(c->a, 403, "backup names another identity key than the device list");
	else if (rc != ST_OK && rc != ST_NOTFOUND)
		fail_store(c->a, rc, "user");
	else if ((rc = store_idbackup_put(c->r->store, user, c->q->body,
	    c->q->body_len)) != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 201);
	free(l);
	nc_buf_free(&dl);
}

void
h_delete_user(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_authreq ar;
	int rc;

	struct nc_opreq o;

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if (c->q->body_len > 0 && ((const uint8_t *)c->q->body)[0] == V2_OPAQUE) {
		if (op_login(c, user, NC_OP_DELETE, &o))
			return;
	} else if (nc_delete_dec(&ar, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	} else if (login(c, user, NC_AUTH_DELETE, &ar))
		return;
	if ((rc = store_user_delete(c->r->store, user)) != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 204);
}

/* A new record and backup must be a version-2 backup (export key). */
static int
backup_ok(struct call *c, const uint8_t *p, size_t n)
{
	nc_idbackup b;

	if (n > 0 && (nc_idbackup_decode(&b, p, n) != 0 || b.version != 2)) {
		fail(c->a, 400, "identity-key backup: not a version-2 backup");
		return 0;
	}
	return 1;
}

void
h_passwd(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_opreq o;
	int rc;

	if (bad_user(c, user) || limited(c, RL_LOGIN) ||
	    op_login(c, user, NC_OP_PASSWD, &o) || !backup_ok(c, o.backup,
	    o.backup_len))
		return;
	if ((rc = store_opaque_set(c->r->store, user, o.record, o.cost, o.backup,
	    o.backup_len)) != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 204);
}

void
h_migrate(struct call *c)
{
	const char *user = c->seg[2];
	struct nc_migrate m;
	struct store_account acct;
	char addr[NC_ADDR_MAX + 1];
	int rc;

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if (nc_migrate_dec(&m, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (!backup_ok(c, m.backup, m.backup_len))
		return;
	rc = store_nonce_take(c->r->store, user, m.nonce, c->q->now);
	if (rc == ST_OK)
		rc = store_user_get(c->r->store, user, &acct);
	if (rc == ST_NOTFOUND) {
		fail(c->a, 401, "unknown, used or expired challenge");
		return;
	}
	if (rc != ST_OK) {
		fail_store(c->a, rc, "user");
		return;
	}
	snprintf(addr, sizeof addr, "%s@%s", user, c->r->domain);
	if (nc_migrate_verify(&m, c->q->body, acct.auth_pk, addr) != 0)
		fail(c->a, 401, "wrong user or password");
	else if ((rc = store_opaque_set(c->r->store, user, m.record, m.cost,
	    m.backup, m.backup_len)) != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 204);
}
