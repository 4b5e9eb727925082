/* api_account.c - registration, login challenges, adding a device and
 * deleting an account (protocol.md 1.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "idbackup.h"
#include "ratelimit.h"

#define NONCE_TTL 120

/* Argon2id parameters a client may ask others to spend: libsodium's range,
 * memory capped at 4 GiB so a login cannot be turned into a bomb. */
static int
kdf_ok(uint64_t ops, uint64_t mem)
{
	return ops >= crypto_pwhash_OPSLIMIT_MIN && ops <= 64 &&
	    mem >= crypto_pwhash_MEMLIMIT_MIN && mem <= ((uint64_t)4 << 30);
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

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if (nc_adddev_dec(&ar, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (login(c, user, NC_AUTH_ADD_DEVICE, &ar))
		return;
	rc = store_device_add(c->r->store, user, ar.device_sign_pk);
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

	if (bad_user(c, user) || limited(c, RL_LOGIN))
		return;
	if (nc_delete_dec(&ar, c->q->body, c->q->body_len) != 0) {
		fail(c->a, 400, nc_errmsg());
		return;
	}
	if (login(c, user, NC_AUTH_DELETE, &ar))
		return;
	if ((rc = store_user_delete(c->r->store, user)) != ST_OK)
		fail_store(c->a, rc, "user");
	else
		reply(c->a, 204);
}
