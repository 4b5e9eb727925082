/* account.c - password, Argon2id, registration, this device's keys and its
 * prekeys at the relay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "account.h"
#include "cli.h"
#include "devinfo.h"
#include "directory.h"
#include "hex.h"
#include "err.h"
#include "event.h"
#include "fsutil.h"
#include "idbackup.h"
#include "keylog.h"
#include "opaque.h"
#include "outbox.h"
#include "relaymsg.h"
#include "relayc.h"
#include "session.h"
#include "syncbackup.h"

#define PW_MAX 1024

#define PW_SHORT 8    /* fewer characters than this: warn at sign-up */

static int
chomp(nc_buf *pw)
{
	while (pw->len > 0 && (pw->p[pw->len - 1] == '\n' || pw->p[pw->len - 1] == '\r'))
		pw->len--;
	if (pw->len == 0)
		return nc_fail(NC_EUSAGE, "empty password: give one (the "
		    "terminal, NC_PASSWORD or NC_PASSWORD_FILE)");
	if (memchr(pw->p, 0, pw->len) != NULL)
		return nc_fail(NC_EDATA, "password contains a NUL byte");
	return nc_buf_nul(pw);
}

static int
pw_file(nc_buf *pw, const char *file)
{
	int fd, rc;
	char *nl;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return nc_fail(NC_ECONFIG, "NC_PASSWORD_FILE %s: %s", file,
		    strerror(errno));
	rc = nc_buf_readfd(pw, fd, PW_MAX);
	close(fd);
	if (rc != 0)
		return rc;
	/* The first line is the password. */
	if ((rc = nc_buf_nul(pw)) != 0)
		return rc;
	if ((nl = memchr(pw->p, '\n', pw->len)) != NULL)
		pw->len = (size_t)(nl - (char *)pw->p);
	return chomp(pw);
}

/* Ask on the controlling terminal (not stdin, which may carry a
 * message), echo off. */
static int
pw_tty(nc_buf *pw, const char *prompt)
{
	struct termios old, raw;
	char line[PW_MAX + 2];
	FILE *tty;
	int ok, rc;

	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return nc_fail(NC_ECONFIG,
		    "no password: set NC_PASSWORD or NC_PASSWORD_FILE");
	if (tcgetattr(fileno(tty), &old) != 0) {
		fclose(tty);
		return nc_fail(NC_ECONFIG, "no password: no terminal");
	}
	raw = old;
	raw.c_lflag &= ~(tcflag_t)ECHO;
	raw.c_lflag |= ECHONL;
	fputs(prompt, tty);
	fflush(tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &raw);
	ok = fgets(line, sizeof line, tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fclose(tty);
	if (!ok) {
		sodium_memzero(line, sizeof line);
		line[0] = '\0';   /* end of input: an empty password */
	}
	rc = nc_buf_addstr(pw, line);
	sodium_memzero(line, sizeof line);
	return rc ? rc : chomp(pw);
}

int
nc_password_for(nc_buf *pw, const char *addr, const char *why, int create,
    int *asked)
{
	const char *v;
	nc_buf again = NC_SECBUF_INIT;
	char prompt[400];
	size_t n;
	int rc;

	nc_buf_reset(pw);
	if (asked)
		*asked = 0;
	if ((v = getenv("NC_PASSWORD")) != NULL && *v) {
		if ((rc = nc_buf_addstr(pw, v)) == 0)
			rc = chomp(pw);
	} else if ((v = getenv("NC_PASSWORD_FILE")) != NULL && *v)
		rc = pw_file(pw, v);
	else {
		if (asked)
			*asked = 1;
		snprintf(prompt, sizeof prompt, "Password for %s%s%s%s: ",
		    addr ? addr : "your account", why ? " (" : "", why ? why : "",
		    why ? ")" : "");
		rc = pw_tty(pw, prompt);
		if (rc == 0 && create) {
			snprintf(prompt, sizeof prompt, "Password for %s again, "
			    "to confirm: ", addr ? addr : "the new account");
			if ((rc = pw_tty(&again, prompt)) == 0 &&
			    (again.len != pw->len ||
			    sodium_memcmp(again.p, pw->p, pw->len) != 0))
				rc = nc_fail(NC_EUSAGE, "passwords do not match; "
				    "nothing was registered");
			nc_buf_free(&again);
		}
	}
	if (rc != 0 || !create)
		return rc;
	/* Characters, not bytes: UTF-8 continuation bytes do not count. */
	for (n = 0, v = (const char *)pw->p; *v; v++)
		n += ((unsigned char)*v & 0xc0) != 0x80;
	if (n < PW_SHORT)
		fprintf(stderr, "%s: warning: the password for %s is short (%zu "
		    "characters); whoever obtains the relay's data can guess "
		    "short ones offline: use %d or more\n", nc_prog, addr ? addr :
		    "the new account", n, PW_SHORT + 4);
	return 0;
}

int
nc_new_password(nc_buf *pw, const char *addr)
{
	const char *v;
	nc_buf again = NC_SECBUF_INIT;
	char prompt[400];
	int rc;

	nc_buf_reset(pw);
	if ((v = getenv("NC_NEW_PASSWORD")) != NULL && *v) {
		if ((rc = nc_buf_addstr(pw, v)) == 0)
			rc = chomp(pw);
		return rc;
	}
	if ((v = getenv("NC_NEW_PASSWORD_FILE")) != NULL && *v)
		return pw_file(pw, v);
	snprintf(prompt, sizeof prompt, "New password for %s: ", addr);
	if ((rc = pw_tty(pw, prompt)) != 0)
		return rc;
	snprintf(prompt, sizeof prompt, "New password for %s again, to confirm: ",
	    addr);
	if ((rc = pw_tty(&again, prompt)) == 0 && (again.len != pw->len ||
	    sodium_memcmp(again.p, pw->p, pw->len) != 0))
		rc = nc_fail(NC_EUSAGE, "passwords do not match; the password "
		    "was not changed");
	nc_buf_free(&again);
	return rc;
}

int
nc_password(nc_buf *pw, int confirm)
{
	return nc_password_for(pw, NULL, NULL, confirm, NULL);
}

int
nc_pwhash_cost(uint64_t *ops, uint64_t *mem)
{
	const char *c = getenv("NC_PWHASH_COST");

	if (c == NULL || *c == '\0' || strcmp(c, "moderate") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
	} else if (strcmp(c, "interactive") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(c, "sensitive") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
	} else
		return nc_fail(NC_ECONFIG, "NC_PWHASH_COST: %s: not interactive, "
		    "moderate or sensitive", c);
	return 0;
}

int
nc_account_derive(const nc_buf *pw, const uint8_t salt[16], uint64_t ops,
    uint64_t mem, uint8_t auth_seed[32], uint8_t backup[32])
{
	uint8_t *out;

	/* Parameters come from the relay on login: refuse a downgrade below
	 * interactive and anything that would exhaust memory. */
	if (ops < crypto_pwhash_OPSLIMIT_INTERACTIVE ||
	    mem < crypto_pwhash_MEMLIMIT_INTERACTIVE ||
	    ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return nc_fail(NC_EPERM, "relay asks for unacceptable Argon2id cost");
	if ((out = sodium_malloc(64)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if (crypto_pwhash(out, 64, (const char *)pw->p, pw->len, salt, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_free(out);
		return nc_fail(NC_EOSERR, "Argon2id: out of memory");
	}
	memcpy(auth_seed, out, 32);
	memcpy(backup, out + 32, 32);
	sodium_free(out);
	return 0;
}

static int
split(const char *addr, char *name, char *domain)
{
	const char *at;

	if (!nc_addr_valid(addr))
		return nc_fail(NC_EUSAGE, "%s: not a valid user@domain", addr);
	at = strchr(addr, '@');
	memcpy(name, addr, (size_t)(at - addr));
	name[at - addr] = '\0';
	strcpy(domain, at + 1);
	return 0;
}

/* Seal an encoded prekey secret (kind 1 signed, 2 one-time) and store it;
 * the row label binds the sealed value to its kind and id. */
static int
store_prekey(nc_state *s, int kind, uint32_t id, int64_t created,
    const nc_buf *enc)
{
	nc_buf ct = NC_BUF_INIT;
	sqlite3_stmt *st;
	char row[32];
	int rc;

	snprintf(row, sizeof row, "%d/%u", kind, id);
	if ((rc = nc_state_seal(s, "prekey", row, enc->p, enc->len, &ct)) != 0 ||
	    (rc = nc_state_prep(s, &st, "INSERT INTO prekey(kind, id, created, v)"
	    " VALUES (?, ?, ?, ?)")) != 0)
		goto done;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, created);
	sqlite3_bind_blob(st, 4, ct.p, (int)ct.len, SQLITE_STATIC);
	rc = nc_state_done(s, st);
done:
	nc_buf_free(&ct);
	return rc;
}

/* Store a signed prekey and a batch of one-time prekeys, sealed. */
static int
store_spk(nc_state *s, const nc_spk *k)
{
	nc_buf enc = NC_SECBUF_INIT;
	int rc;

	if ((rc = nc_spk_encode(k, &enc)) == 0)
		rc = store_prekey(s, 1, k->id, (int64_t)k->created, &enc);
	nc_buf_free(&enc);
	return rc;
}

static int
store_otpk(nc_state *s, const nc_otpk *k, int64_t now)
{
	nc_buf enc = NC_SECBUF_INIT;
	int rc;

	if ((rc = nc_otpk_encode(k, &enc)) == 0)
		rc = store_prekey(s, 2, k->id, now, &enc);
	nc_buf_free(&enc);
	return rc;
}

/* Make n new one-time prekeys (and a signed prekey if spk != NULL), store
 * them and upload them, all before the transaction commits: a crash leaves
 * the relay holding public keys whose secrets we never stored, which only
 * costs a failed first message, never a reused key. */
static int
publish(nc_state *s, nc_self *self, nc_relay *r, nc_spk *spk, size_t n)
{
	nc_otpk *k = NULL;
	int64_t now = (int64_t)time(NULL), next;
	size_t i;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if (n > 0 && (k = sodium_malloc(n * sizeof *k)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	next = nc_state_get_int(s, "otpk_next", 1);
	for (i = 0; i < n; i++)
		if ((rc = nc_otpk_gen(&k[i], (uint32_t)(next + (int64_t)i))) != 0 ||
		    (rc = store_otpk(s, &k[i], now)) != 0)
			goto done;
	if ((rc = nc_state_put_int(s, "otpk_next", next + (int64_t)n)) != 0)
		goto done;
	if (spk && (rc = store_spk(s, spk)) != 0)
		goto done;
	/* The relay takes at most 200 a request; we never make more. */
	rc = nc_relay_put_prekeys(r, self->name, self->dev, spk, k, n);
done:
	if (k) {
		for (i = 0; i < n; i++)
			nc_otpk_wipe(&k[i]);
		sodium_free(k);
	}
	if (rc == 0)
		return nc_state_commit(s);
	nc_state_rollback(s);
	return rc;
}

static int
rotate_due(nc_state *s, uint32_t *id, int64_t now)
{
	sqlite3_stmt *st;
	int rc, due = 1;

	*id = 1;
	if ((rc = nc_state_prep(s, &st, "SELECT id, created FROM prekey"
	    " WHERE kind = 1 ORDER BY id DESC LIMIT 1")) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = (uint32_t)sqlite3_column_int64(st, 0) + 1;
		due = nc_spk_due((uint64_t)sqlite3_column_int64(st, 1), (uint64_t)now);
	}
	sqlite3_finalize(st);
	return due;
}

int
nc_prekeys_renew(nc_state *s, nc_self *self, nc_relay *r)
{
	nc_spk spk;
	uint32_t id;
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (rotate_due(s, &id, now) < 0)
		return NC_ESOFTWARE;
	if ((rc = nc_state_put_int(s, "otpk_next", nc_state_get_int(s,
	    "otpk_next", 1) + NC_PREKEY_ID_JUMP)) != 0 ||
	    (rc = nc_spk_gen(&spk, self->dev, id + NC_PREKEY_ID_JUMP,
	    (uint64_t)now)) != 0)
		return rc;
	rc = publish(s, self, r, &spk, NC_OTPK_TARGET);
	nc_spk_wipe(&spk);
	return rc;
}

int
nc_prekeys_maintain(nc_state *s, nc_self *self, int force)
{
	nc_relay *r = NULL;
	nc_spk spk;
	uint32_t id, spk_id, count;
	int64_t now = (int64_t)time(NULL);
	int due, rc;

	due = rotate_due(s, &id, now);
	if (due < 0)
		return NC_ESOFTWARE;
	if (!due && !force && nc_state_get_int(s, "prekey_check", 0) > now)
		return 0;
	if ((rc = nc_relay_open(&r, s->home, self->domain)) != 0)
		return rc;
	if ((rc = nc_relay_prekey_count(r, self->name, self->dev, &spk_id,
	    &count)) != 0)
		goto done;
	if (due && (rc = nc_spk_gen(&spk, self->dev, id, (uint64_t)now)) != 0)
		goto done;
	if (due || count < NC_OTPK_REFILL)
		rc = publish(s, self, r, due ? &spk : NULL,
		    count < NC_OTPK_TARGET ? NC_OTPK_TARGET - count : 0);
	if (due)
		nc_spk_wipe(&spk);
	if (rc == 0 && due) {
		/* Weekly: old signed prekeys past their grace period go, then
		 * the seen marks and replay tags nothing needs any more. */
		sqlite3_stmt *st;
		if ((rc = nc_state_prep(s, &st, "DELETE FROM prekey WHERE kind = 1"
		    " AND id < ? AND created < ? AND id NOT IN (SELECT spk FROM"
		    " held WHERE spk IS NOT NULL)")) == 0) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, now - NC_SPK_GRACE_SECS);
			rc = nc_state_done(s, st);
		}
		if (rc == 0)
			rc = nc_session_prune(s, now);
	}
	if (rc == 0)
		rc = nc_state_put_int(s, "prekey_check", now + 3600);
done:
	nc_relay_close(r);
	return rc;
}

/* Sign-up (nc-keygen) is resumable: the keys are stored, with the state
 * key "signup" = 1, before the first request that may change the relay,
 * and every step asks the relay what it holds already, so a retry after
 * an interruption at any point (relay killed, network cut, clock refused)
 * finishes the same identity. Only a sign-up that certainly changed
 * nothing at the relay is discarded. */
#define SIGNUP_KEY "signup"

/* OPAQUE (protocol.md 1.2): the relay never sees the password or
 * anything a guess can be checked against offline; the export key
 * (through HKDF, label "newchat idkey backup v2") wraps the identity-key
 * backup. Accounts of the old scheme (Argon2id auth key) move to OPAQUE
 * at their first login here. */
#define CONTEXT "newchat opaque v1"
#define PIN_KEY "opaque-pk"       /* state kv: the relay's AKE key, pinned */
#define COST_KEY "opaque-cost"    /* state kv: the cost name registered */

/* Whether the name has an account: registration says so (threat model). */
typedef struct {
	int exists;
} challenge;

static int
probe(nc_relay *r, const char *name, challenge *c)
{
	uint8_t req[32], resp[64];

	/* any group element will do: only the "taken" flag is wanted */
	crypto_core_ristretto255_random(req);
	return nc_relay_reg_init(r, name, req, &c->exists, resp);
}

/* What logging in or registering leaves for the rest of nc-keygen. */
typedef struct {
	int exists;     /* the user existed: logged in, not registered */
	int touched;    /* a request that may have changed the relay left */
	uint8_t *bk;    /* the OPAQUE export key, 64 bytes (sodium_malloc) */
	nc_buf idb;     /* exists: the identity-key backup the relay holds */
	uint64_t seen;  /* the newest device-list version seen before the login */
} enrolled;

static int
cost_name(uint64_t ops)
{
	return ops >= crypto_pwhash_OPSLIMIT_SENSITIVE ? NC_COST_SENSITIVE :
	    ops >= crypto_pwhash_OPSLIMIT_MODERATE ? NC_COST_MODERATE :
	    NC_COST_INTERACTIVE;
}

static void
ksf_of(struct nc_opaque_ksf *k, int cost)
{
	k->ops = cost == NC_COST_SENSITIVE ? crypto_pwhash_OPSLIMIT_SENSITIVE :
	    cost == NC_COST_MODERATE ? crypto_pwhash_OPSLIMIT_MODERATE :
	    crypto_pwhash_OPSLIMIT_INTERACTIVE;
	k->mem = cost == NC_COST_SENSITIVE ? crypto_pwhash_MEMLIMIT_SENSITIVE :
	    cost == NC_COST_MODERATE ? crypto_pwhash_MEMLIMIT_MODERATE :
	    crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

static void
ids_of(struct nc_opaque_ids *ids, const nc_self *self)
{
	ids->context = (const uint8_t *)CONTEXT;
	ids->context_len = strlen(CONTEXT);
	ids->client = (const uint8_t *)self->addr;
	ids->client_len = strlen(self->addr);
	ids->server = (const uint8_t *)self->domain;
	ids->server_len = strlen(self->domain);
}

/* The relay's AKE key from its well-known answer, checked against the one
 * pinned in s (pinned now if none): a changed key is an alarm. */
static int
relay_pk(nc_relay *r, nc_state *s, const nc_self *self, uint8_t pk[32])
{
	nc_buf pin = NC_BUF_INIT;
	int rc;

	if ((rc = nc_relay_opaque_pk(r, pk)) != 0 || s == NULL)
		return rc;
	rc = nc_state_get(s, PIN_KEY, &pin);
	if (rc == NC_ENOUSER)
		rc = nc_state_put(s, PIN_KEY, pk, 32);
	else if (rc == 0 && (pin.len != 32 || sodium_memcmp(pin.p, pk, 32) != 0))
		rc = nc_fail(NC_ESECURITY, "%s: the relay's OPAQUE key changed since "
		    "this device first saw it: someone may be impersonating the "
		    "relay; not logging in (ask the provider)", self->addr);
	nc_buf_free(&pin);
	return rc;
}

/* A login's results: what the operation that follows needs. Secret. */
typedef struct {
	uint8_t token[NC_LOGIN_TOKEN_LEN], ke3[64], session[64], export_key[64];
} login_keys;

/* OPAQUE login with pw: NC_EPERM "wrong user or password" for either. */
static int
opaque_login(nc_relay *r, nc_state *s, const nc_self *self, const nc_buf *pw,
    login_keys *lk)
{
	struct nc_opaque_client *c;
	struct nc_opaque_ids ids;
	struct nc_opaque_ksf ksf;
	uint8_t ke1[NC_OPAQUE_KE1], ke2[NC_OPAQUE_KE2], pk[32];
	int rc, cost;
	int64_t floor = s ? nc_state_get_int(s, COST_KEY, NC_COST_INTERACTIVE) :
	    NC_COST_INTERACTIVE;

	if ((rc = relay_pk(r, s, self, pk)) != 0)
		return rc;
	if ((c = sodium_malloc(sizeof *c)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	ids_of(&ids, self);
	if ((rc = nc_opaque_ke1(c, ke1, pw->p, pw->len)) != 0 ||
	    (rc = nc_relay_login(r, self->name, ke1, &cost, ke2, lk->token)) != 0)
		goto done;
	/* Never a cheaper Argon2id than registered (nor below interactive):
	 * a relay lowering it would make guesses cheaper. */
	if (cost < floor) {
		rc = nc_fail(NC_ESECURITY, "%s: the relay asks for a lower password "
		    "hashing cost than this account registered with; refusing",
		    self->addr);
		goto done;
	}
	ksf_of(&ksf, cost);
	rc = nc_opaque_ke3(c, lk->ke3, lk->session, lk->export_key, pw->p, pw->len,
	    ke2, &ids, &ksf);
	if (rc == NC_EPERM)
		rc = nc_fail(NC_EPERM, "%s: wrong user or password", self->addr);
	else if (rc == 0 && sodium_memcmp(c->server_pk, pk, 32) != 0)
		rc = nc_fail(NC_ESECURITY, "%s: the relay's key is not the one the "
		    "account registered with; not logging in", self->addr);
done:
	sodium_memzero(c, sizeof *c);
	sodium_free(c);
	return rc;
}

/* A new OPAQUE record for pw at cost: *taken from the relay; record and
 * export key out. The response must carry the relay's pinned key. */
static int
new_record(nc_relay *r, nc_state *s, const nc_self *self, const nc_buf *pw,
    int cost, int *taken, uint8_t record[192], uint8_t export_key[64])
{
	struct nc_opaque_client *c;
	struct nc_opaque_ids ids;
	struct nc_opaque_ksf ksf;
	uint8_t req[32], resp[64], pk[32];
	int rc;

	if ((rc = relay_pk(r, s, self, pk)) != 0)
		return rc;
	if ((c = sodium_malloc(sizeof *c)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	ids_of(&ids, self);
	ksf_of(&ksf, cost);
	if ((rc = nc_opaque_reg_start(c, req, pw->p, pw->len)) != 0 ||
	    (rc = nc_relay_reg_init(r, self->name, req, taken, resp)) != 0)
		goto done;
	if (sodium_memcmp(resp + 32, pk, 32) != 0)
		rc = nc_fail(NC_ESECURITY, "%s: the relay registers under another "
		    "key than it publishes; refusing", self->addr);
	else
		rc = nc_opaque_reg_finish(c, record, export_key, pw->p, pw->len,
		    resp, &ids, &ksf);
done:
	sodium_memzero(c, sizeof *c);
	sodium_free(c);
	return rc;
}

/* The cost to register with: NC_PWHASH_COST, never below the one this
 * device remembers. */
static int
reg_cost(nc_state *s, int *cost)
{
	uint64_t ops, mem;
	int64_t was = s ? nc_state_get_int(s, COST_KEY, 0) : 0;
	int rc;

	if ((rc = nc_pwhash_cost(&ops, &mem)) != 0)
		return rc;
	*cost = cost_name(ops);
	if (was > *cost)
		*cost = (int)was;
	return 0;
}

/* An old-scheme account (Argon2id auth key) moves to OPAQUE: log in the
 * old way - as device dev if given, which takes the old backup, whose
 * identity key (*id, if NULL) is re-wrapped under the export key - then
 * register a record authorised by the old auth key's signature. The old
 * auth key is gone at the relay after it. NC_EPERM "wrong user or
 * password" if the account is not of that scheme either. */
static int
migrate(nc_relay *r, nc_state *s, const nc_self *self, const nc_buf *pw,
    const nc_device *dev, nc_idkey **id)
{
	uint8_t salt[16], nonce[32], seed[32], pk[32], record[192];
	uint8_t *sk = NULL, *bk = NULL, *ex = NULL;
	uint64_t ops, mem;
	nc_buf idb = NC_BUF_INIT;
	nc_idkey *k = NULL;
	struct nc_migrate m;
	int rc, cost, taken;

	rc = nc_relay_challenge(r, self->name, salt, &ops, &mem, nonce);
	if (rc == NC_ENOUSER)
		return nc_fail(NC_EPERM, "%s: wrong user or password", self->addr);
	if (rc != 0)
		return rc;
	if ((sk = sodium_malloc(64)) == NULL || (bk = sodium_malloc(32)) == NULL ||
	    (ex = sodium_malloc(64)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	if ((rc = nc_account_derive(pw, salt, ops, mem, seed, bk)) != 0)
		goto done;
	crypto_sign_seed_keypair(pk, sk, seed);
	if (dev) {
		rc = nc_relay_add_device(r, self->name, self->addr, nonce,
		    dev->sign_pk, sk, &idb);
		if (rc == NC_EPERM)
			rc = nc_fail(NC_EPERM, "%s: wrong user or password", self->addr);
		if (rc != 0)
			goto done;
		if (idb.len > 0 && (rc = nc_idbackup_open(&k, bk, self->addr, idb.p,
		    idb.len)) != 0)
			goto done;
		if (*id == NULL)
			*id = k, k = NULL;
		if ((rc = nc_relay_challenge(r, self->name, salt, &ops, &mem,
		    nonce)) != 0)
			goto done;
	}
	if ((rc = reg_cost(s, &cost)) != 0)
		goto done;
	if (cost < cost_name(ops))
		cost = cost_name(ops);
	if ((rc = new_record(r, s, self, pw, cost, &taken, record, ex)) != 0)
		goto done;
	memset(&m, 0, sizeof m);
	memcpy(m.nonce, nonce, 32);
	memcpy(m.record, record, 192);
	m.cost = cost;
	nc_buf_reset(&idb);
	if (*id && (rc = nc_idbackup_seal_export(&idb, ex, self->addr, *id)) != 0)
		goto done;
	if (idb.len > sizeof m.backup) {
		rc = nc_fail(NC_ESOFTWARE, "identity-key backup too long");
		goto done;
	}
	memcpy(m.backup, idb.p, idb.len);
	m.backup_len = idb.len;
	if ((rc = nc_relay_migrate(r, self->name, self->addr, &m, sk)) == 0 && s)
		rc = nc_state_put_int(s, COST_KEY, cost);
done:
	sodium_memzero(seed, sizeof seed);
	if (k)
		nc_idkey_free(k);
	if (sk)
		sodium_free(sk);
	if (bk)
		sodium_free(bk);
	if (ex)
		sodium_free(ex);
	nc_buf_free(&idb);
	return rc;
}

/* Log in (migrating an old-scheme account first: *id may receive the
 * identity key from its old backup, through dev's old login). */
static int
login(nc_relay *r, nc_state *s, const nc_self *self, const nc_buf *pw,
    const nc_device *dev, nc_idkey **id, login_keys *lk)
{
	int rc = opaque_login(r, s, self, pw, lk);

	if (rc == NC_EPERM) {
		char why[300];

		snprintf(why, sizeof why, "%s", nc_errmsg());
		if ((rc = migrate(r, s, self, pw, dev, id)) == 0)
			rc = opaque_login(r, s, self, pw, lk);
		else if (rc == NC_EPERM)
			rc = nc_fail(NC_EPERM, "%s", why);
	}
	return rc;
}

/* Log in with the password as device dev (the relay adds it; a known
 * device again is no error) and take the backup; or, when the name is
 * free, register it with dev as its first device. */
static int
enroll(nc_relay *r, nc_state *s, nc_self *self, const nc_device *dev,
    challenge *c, const char *why, enrolled *en)
{
	nc_buf pw = NC_SECBUF_INIT;
	login_keys *lk = NULL;
	struct nc_opreq *o = NULL;
	nc_idkey *mid;
	uint8_t record[192];
	int rc, cost, taken;

	en->exists = c->exists;
	en->touched = 0;
	if ((lk = sodium_malloc(sizeof *lk)) == NULL ||
	    (o = malloc(sizeof *o)) == NULL ||
	    (en->bk = sodium_malloc(64)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	if ((rc = nc_password_for(&pw, self->addr, c->exists ? why :
	    "new account", !c->exists, NULL)) != 0)
		goto done;
	if (!c->exists) {
		if ((rc = reg_cost(s, &cost)) != 0 ||
		    (rc = new_record(r, s, self, &pw, cost, &taken, record,
		    en->bk)) != 0)
			goto done;
		if (taken) {
			rc = nc_fail(NC_ECANTCREAT, "%s: name taken", self->addr);
			goto done;
		}
		en->touched = 1;
		if ((rc = nc_relay_register2(r, self->name, record, cost,
		    dev->sign_pk)) == 0 && s)
			rc = nc_state_put_int(s, COST_KEY, cost);
		goto done;
	}
	/* A migration re-wraps the old backup (its identity key through mid)
	 * under the export key; the add-device answer below carries it. */
	mid = self->id;
	rc = login(r, s, self, &pw, dev, &mid, lk);
	if (mid != self->id)
		nc_idkey_free(mid);
	if (rc != 0)
		goto done;
	memcpy(en->bk, lk->export_key, 64);
	en->touched = 1;
	memset(o, 0, sizeof *o);
	memcpy(o->token, lk->token, sizeof o->token);
	memcpy(o->ke3, lk->ke3, sizeof o->ke3);
	o->op = NC_OP_ADD_DEVICE;
	memcpy(o->device_sign_pk, dev->sign_pk, 32);
	rc = nc_relay_op(r, self->name, self->addr, o, lk->session, &en->idb);
done:
	/* 4xx: refused (wrong password, name taken meanwhile, invite, bad
	 * name): nothing changed at the relay. */
	if (rc == NC_EPERM || rc == NC_EDATA || rc == NC_ECANTCREAT)
		en->touched = 0;
	if (lk)
		sodium_free(lk);
	free(o);
	nc_buf_free(&pw);
	return rc;
}

/* The user's device list at the relay, verified and naming the user:
 * *have 0 when there is none yet. */
static int
get_list(nc_relay *r, const nc_self *self, nc_devlist *l, int *have)
{
	nc_buf enc = NC_BUF_INIT;
	int rc;

	*have = 0;
	rc = nc_relay_get_devlist(r, self->name, &enc);
	if (rc == NC_ENOUSER)
		rc = 0;
	else if (rc == 0) {
		if (nc_devlist_parse(l, enc.p, enc.len) != 0 ||
		    strcmp(l->user, self->addr) != 0)
			rc = nc_fail(NC_ESECURITY, "%s: relay served a bad device "
			    "list", self->addr);
		*have = rc == 0;
	}
	nc_buf_free(&enc);
	return rc;
}

/* Sign list l (with dev added unless it is there) and put it. */
static int
put_list(nc_relay *r, nc_self *self)
{
	nc_buf enc = NC_BUF_INIT;
	int rc;

	if ((rc = nc_devlist_sign(&self->list, self->id->sk)) == 0 &&
	    (rc = nc_devlist_encode(&self->list, &enc)) == 0)
		rc = nc_relay_put_devlist(r, self->name, self->dev, enc.p, enc.len);
	nc_buf_free(&enc);
	return rc;
}

/* A new device of an existing user: take the identity key from its backup,
 * check it is the key that signs the user's current list, and publish
 * that list with this device added (signed by this device, which the
 * relay lets list itself once: protocol.md 1.3) - unless an earlier try
 * did so already. */
static int
join(nc_relay *r, nc_self *self, const enrolled *en, int *sent)
{
	nc_devlist cur;
	int rc, have;

	rc = nc_idbackup_open_export(&self->id, en->bk, self->addr, en->idb.p,
	    en->idb.len);
	if (rc == NC_EDATA)
		return nc_fail(NC_EDATA, "relay %s: malformed identity-key backup",
		    self->domain);
	if (rc != 0) {
		char why[256];
		snprintf(why, sizeof why, "%s", nc_errmsg());
		return nc_fail(rc, "%s: %s", self->addr, why);
	}
	if ((rc = get_list(r, self, &cur, &have)) != 0)
		return rc;
	if (!have)
		return nc_fail(NC_ESECURITY, "%s: the relay holds an identity-key "
		    "backup but no device list", self->addr);
	if (sodium_memcmp(cur.identity, self->id->pk, 32) != 0)
		return nc_fail(NC_ESECURITY, "%s: the identity key in the backup "
		    "does not sign the device list; refusing it", self->addr);
	/* The newest list (security review item 7): never one older than the
	 * relay served before the login - listing ourselves in an old list
	 * would bring back devices the user dropped. */
	if (cur.version < en->seen)
		return nc_fail(NC_ESECURITY, "%s: the relay serves device list "
		    "version %llu after serving version %llu: an older list, "
		    "refusing it", self->addr, (unsigned long long)cur.version,
		    (unsigned long long)en->seen);
	self->list = cur;
	if (nc_devlist_find(&cur, self->dev->id) >= 0)
		return 0;   /* listed by an earlier try */
	if (cur.n >= NC_DEVLIST_MAX)
		return nc_fail(NC_ECANTCREAT, "%s: %d devices listed already",
		    self->addr, NC_DEVLIST_MAX);
	self->list.version = cur.version + 1;
	self->list.created = (uint64_t)time(NULL);
	nc_device_entry(self->dev, &self->list.dev[self->list.n++]);
	*sent = 1;
	return put_list(r, self);
}

/* The first device: list it alone, and leave the identity key's backup
 * with the relay for the devices to come - each step unless the relay
 * has it already. */
static int
first_list(nc_relay *r, nc_self *self, const enrolled *en)
{
	nc_devlist cur;
	nc_idkey *k = NULL;
	nc_buf enc = NC_BUF_INIT;
	int rc, have;

	if ((rc = get_list(r, self, &cur, &have)) != 0)
		return rc;
	if (have) {
		if (sodium_memcmp(cur.identity, self->id->pk, 32) != 0 ||
		    nc_devlist_find(&cur, self->dev->id) < 0)
			return nc_fail(NC_ESECURITY, "%s: the relay lists the name "
			    "under another identity key or without this device; "
			    "this sign-up cannot finish", self->addr);
		self->list = cur;
	} else {
		memset(&self->list, 0, sizeof self->list);
		strcpy(self->list.user, self->addr);
		self->list.version = 1;
		self->list.created = (uint64_t)time(NULL);
		self->list.n = 1;
		nc_device_entry(self->dev, &self->list.dev[0]);
		if ((rc = put_list(r, self)) != 0)
			return rc;
	}
	if (en->idb.len > 0 && nc_idbackup_open_export(&k, en->bk, self->addr,
	    en->idb.p, en->idb.len) == 0 && sodium_memcmp(k->pk, self->id->pk,
	    32) == 0)
		rc = 0;   /* a good one is there */
	else if ((rc = nc_idbackup_seal_export(&enc, en->bk, self->addr,
	    self->id)) == 0)
		rc = nc_relay_put_idbackup(r, self->name, self->dev, enc.p, enc.len);
	if (k)
		nc_idkey_free(k);
	nc_buf_free(&enc);
	return rc;
}

/* Tell the user's other devices that this one exists: a sealed control
 * message makes each refetch our list (its certificate names a newer
 * version) and report the new device. Best effort: they also look
 * hourly. */
static const char *devname_given;   /* nc-keygen --name */

void
nc_account_set_name(const char *name)
{
	devname_given = name;
}

static int name_self(nc_state *s, const nc_self *self, const char *devname);

static void
hello_kind(nc_state *s, nc_self *self, int kind)
{
	uint8_t body[3 + NC_DEVNAME_MAX];
	char hex[33], name[NC_DEVNAME_MAX + 1];
	size_t n;
	nc_payload pl;
	nc_flush f;

	/* u8 1, u8 kind, and (added) the name this device gave itself */
	nc_hex_encode(hex, self->dev->id, NC_DEVID_LEN);
	nc_devinfo_name(s, hex, name);
	n = kind == NC_CTL_DEVICE_ADDED ? strlen(name) : 0;
	body[0] = 1;
	body[1] = (uint8_t)kind;
	body[2] = (uint8_t)n;
	memcpy(body + 3, name, n);
	memset(&pl, 0, sizeof pl);
	pl.type = NC_PL_CONTROL;
	randombytes_buf(pl.id, sizeof pl.id);
	pl.time = (uint64_t)time(NULL);
	pl.body = body;
	pl.bodylen = 3 + n;
	if (nc_session_encrypt(s, self, &self->list, "", &pl, 0, NULL) == 0)
		(void)!nc_outbox_flush(s, self, NULL, 1, &f);
}

static void
hello(nc_state *s, nc_self *self)
{
	hello_kind(s, self, NC_CTL_DEVICE_ADDED);
}

/* Store this device's keys and list, and where sign-up stands, in one
 * transaction that is on disk before the relay is asked to depend on it. */
static int
save_self(nc_state *s, nc_self *self, int signup)
{
	nc_buf b = NC_SECBUF_INIT;
	nc_devlist pinned;
	int rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((rc = nc_state_put(s, "addr", self->addr, strlen(self->addr))) != 0 ||
	    (rc = nc_device_encode(self->dev, &b)) != 0 ||
	    (rc = nc_state_put_secret(s, "device", b.p, b.len)) != 0 ||
	    (rc = nc_state_put_int(s, SIGNUP_KEY, signup)) != 0)
		goto done;
	nc_buf_reset(&b);
	if (self->id && ((rc = nc_idkey_encode(self->id, &b)) != 0 ||
	    (rc = nc_state_put_secret(s, "idkey", b.p, b.len)) != 0))
		goto done;
	nc_buf_reset(&b);
	if (self->list.n > 0 && ((rc = nc_devlist_encode(&self->list, &b)) != 0 ||
	    (rc = nc_state_put(s, "devlist", b.p, b.len)) != 0))
		goto done;
	/* Our own list is pinned like a contact's (once: a retry finds it). */
	if (self->list.n > 0 && nc_dir_show(s, self->addr, &pinned, NULL, NULL,
	    NULL) == NC_ENOUSER)
		rc = nc_dir_pin(s, &self->list);
done:
	nc_buf_free(&b);
	if (rc != 0) {
		nc_state_rollback(s);
		return rc;
	}
	nc_state_durable(s);
	return nc_state_commit(s);
}

static void
discard(const char *home)
{
	static const char *f[] = { "state.db", "state.db-wal", "state.db-shm",
	    "storage.key" };
	char p[4200];
	size_t i;

	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", home, f[i]);
		unlink(p);
	}
}

static int
exists_in(const char *home, const char *file)
{
	char p[4200];

	snprintf(p, sizeof p, "%s/%s", home, file);
	return access(p, F_OK) == 0;
}

static int self_read(nc_state *s, nc_self *self);

/* An NC_HOME with an identity: resume its sign-up if that is not finished,
 * else refuse, saying what to do. */
static int
resume_open(nc_state **s, const char *home, const char *addr, nc_self *self)
{
	int rc;

	if (!exists_in(home, "state.db"))
		return nc_fail(NC_ECANTCREAT, "%s holds storage.key but no "
		    "state.db (the state is lost): to start over, move storage.key "
		    "away (keep it only to restore state.db from a backup) and run "
		    "nc-keygen %s again; the password adds this as a new device",
		    home, addr);
	if ((rc = nc_state_open(s, home)) != 0)
		return rc;
	if ((rc = self_read(*s, self)) == NC_ECONFIG) {
		/* Made, but killed before its keys were stored: start afresh. */
		nc_state_close(*s);
		*s = NULL;
		discard(home);
		return -1;
	}
	if (rc != 0)
		return rc;
	if (strcmp(self->addr, addr) != 0)
		return nc_fail(NC_ECANTCREAT, "%s already holds the identity of %s;"
		    " another user needs another NC_HOME", home, self->addr);
	if (nc_state_get_int(*s, SIGNUP_KEY, 0) == 0)
		return nc_fail(NC_ECANTCREAT, "%s already holds the identity of %s "
		    "(nothing to do; another device needs another NC_HOME)", home,
		    addr);
	return 0;
}

int
nc_account_create(const char *home, const char *addr, int *added_out)
{
	nc_state *s = NULL;
	nc_relay *r = NULL;
	nc_self self;
	enrolled en = { 0, 0, NULL, NC_BUF_INIT, 0 };
	challenge ch;
	int rc, added = 0, have, resume = 0, fresh = 0, own_id = 0, sent = 0;
	nc_devlist cur;

	memset(&self, 0, sizeof self);
	if ((rc = split(addr, self.name, self.domain)) != 0)
		return rc;
	strcpy(self.addr, addr);
	if (exists_in(home, "storage.key")) {
		if ((rc = resume_open(&s, home, addr, &self)) > 0)
			goto out;
		resume = rc == 0;
		strcpy(self.addr, addr);
	}
	if ((rc = nc_relay_open(&r, home, self.domain)) != 0)
		goto out;
	if (!resume) {
		if ((rc = nc_state_create(&s, home)) != 0)
			goto out;
		fresh = 1;
		/* Keys before the first request: whatever the relay makes of
		 * them, a retry has them. The identity key waits until the
		 * relay says the name is free. */
		if ((self.dev = nc_device_gen()) == NULL) {
			rc = nc_fail(NC_EOSERR, "cannot make keys: %s", nc_errmsg());
			goto out;
		}
	}
	if ((rc = probe(r, self.name, &ch)) != 0)
		goto out;
	/* the list as it is before the login, for join's check */
	if (ch.exists && self.id == NULL) {
		if ((rc = get_list(r, &self, &cur, &have)) != 0)
			goto out;
		en.seen = have ? cur.version : 0;
	}
	if (!ch.exists && self.id == NULL) {
		if (resume) {
			rc = nc_fail(NC_ENOUSER, "%s: no such user any more "
			    "(deleted?); to start over, remove state.db and "
			    "storage.key from %s", addr, home);
			goto out;
		}
		if ((self.id = nc_idkey_gen()) == NULL) {
			rc = nc_fail(NC_EOSERR, "cannot make keys: %s", nc_errmsg());
			goto out;
		}
		own_id = 1;
	}
	if ((rc = save_self(s, &self, 1)) != 0 ||
	    (rc = enroll(r, s, &self, self.dev, &ch, resume ? "finishing its "
	    "sign-up" : "logging in to add this device", &en)) != 0)
		goto out;
	if (en.exists && self.id == NULL && en.idb.len == 0) {
		/* No backup: an account older than backups (a device holding the
		 * identity key can list us), or one whose sign-up was cut off
		 * before it had a list - nobody's key signs it, so this device
		 * finishes it with a new identity. */
		if ((rc = get_list(r, &self, &cur, &have)) != 0)
			goto out;
		if (have) {
			added = NC_ADDED_UNLISTED;
			rc = save_self(s, &self, 0);
			goto out;
		}
		if ((self.id = nc_idkey_gen()) == NULL) {
			rc = nc_fail(NC_EOSERR, "cannot make keys: %s", nc_errmsg());
			goto out;
		}
		own_id = 1;
		if ((rc = save_self(s, &self, 1)) != 0)
			goto out;
	}
	/* A device that took the identity key from the backup (now or in an
	 * earlier try) is an added one: say so, and tell the others. */
	if (self.id == NULL && (rc = nc_state_put_int(s, "joined", 1)) != 0)
		goto out;
	if (nc_state_get_int(s, "joined", 0))
		added = NC_ADDED_LISTED;
	if ((rc = self.id == NULL ? join(r, &self, &en, &sent) :
	    first_list(r, &self, &en)) != 0)
		goto out;
	/* Listed: from here this device works (nc-recv publishes prekeys if
	 * the next step fails), and a retry of nc-keygen finishes too. */
	if ((rc = save_self(s, &self, 1)) != 0 ||
	    (rc = nc_prekeys_maintain(s, &self, 1)) != 0 ||
	    (rc = nc_state_put_int(s, "devlist_check", (int64_t)time(NULL) +
	    3600)) != 0 || (rc = nc_state_put_int(s, SIGNUP_KEY, 0)) != 0)
		goto out;
	if ((rc = name_self(s, &self, devname_given)) != 0)
		goto out;
	/* The account's first device: its backup key now, wrapped under the
	 * export key in hand, so that no backup needs the password (cron
	 * runs the first one too). Best effort: without it, the first
	 * backup asks for the password, as for an older account. */
	if (added == 0 && en.bk)
		(void)!nc_sync_key_wrap(s, &self, en.bk, 1);
	if (added == NC_ADDED_LISTED)
		hello(s, &self);
out:
	if (rc != 0 && s != NULL && fresh && (own_id ? !en.touched : !sent)) {
		/* Nothing that matters reached the relay: a new user's name
		 * was not registered, or a new device (added, at most, which
		 * lists nothing) did not try to list itself. */
		nc_state_close(s);
		s = NULL;
		discard(home);
	} else if (rc != 0 && s != NULL && (fresh || resume)) {
		char why[512];

		snprintf(why, sizeof why, "%s", nc_errmsg());
		if (self.id && !added)
			rc = nc_fail(rc, "%s; sign-up not finished: run nc-keygen "
			    "%s again to finish it (or nc-keygen --delete %s to "
			    "give the name up)", why, addr, addr);
		else
			rc = nc_fail(rc, "%s; adding this device is not finished: "
			    "run nc-keygen %s again to finish it", why, addr);
	}
	if (en.bk)
		sodium_free(en.bk);
	nc_buf_free(&en.idb);
	nc_relay_close(r);
	nc_state_close(s);
	nc_self_free(&self);
	*added_out = added;
	return rc;
}

int
nc_account_backup(nc_state *s, nc_self *self, int *stored)
{
	nc_relay *r = NULL;
	enrolled en = { 0, 0, NULL, NC_BUF_INIT, 0 };
	challenge ch;
	nc_idkey *k = NULL;
	nc_buf enc = NC_BUF_INIT;
	int rc;

	*stored = 0;
	if (self->id == NULL)
		return nc_fail(NC_EPERM, "%s: this device does not hold the identity "
		    "key; run this on one that does", self->addr);
	if ((rc = nc_relay_open(&r, s->home, self->domain)) != 0)
		return rc;
	if ((rc = probe(r, self->name, &ch)) != 0)
		goto done;
	if (!ch.exists) {
		rc = nc_fail(NC_ENOUSER, "%s: no such user", self->addr);
		goto done;
	}
	/* A password login as this very device answers what is stored. */
	if ((rc = enroll(r, s, self, self->dev, &ch, "to check its backup",
	    &en)) != 0)
		goto done;
	if (en.idb.len > 0 && nc_idbackup_open_export(&k, en.bk, self->addr,
	    en.idb.p, en.idb.len) == 0 && sodium_memcmp(k->pk, self->id->pk, 32) == 0)
		goto done;   /* a good one is there */
	if ((rc = nc_idbackup_seal_export(&enc, en.bk, self->addr, self->id)) == 0 &&
	    (rc = nc_relay_put_idbackup(r, self->name, self->dev, enc.p,
	    enc.len)) == 0)
		*stored = 1;
done:
	if (k)
		nc_idkey_free(k);
	if (en.bk)
		sodium_free(en.bk);
	nc_buf_free(&en.idb);
	nc_buf_free(&enc);
	nc_relay_close(r);
	return rc;
}

int
nc_account_passwd(nc_state *s, nc_self *self)
{
	nc_relay *r = NULL;
	nc_buf pw = NC_SECBUF_INIT, npw = NC_SECBUF_INIT, idb = NC_BUF_INIT;
	nc_buf resp = NC_BUF_INIT;
	login_keys *lk = NULL;
	struct nc_opreq *o = NULL;
	uint8_t *ex = NULL;
	nc_idkey *mid;
	int rc, cost, taken;

	/* The backup is re-wrapped under the new export key: only a device
	 * holding the identity key can do that. */
	if (self->id == NULL)
		return nc_fail(NC_EPERM, "%s: this device does not hold the identity "
		    "key; change the password on one that does", self->addr);
	if ((rc = nc_relay_open(&r, s->home, self->domain)) != 0)
		return rc;
	if ((lk = sodium_malloc(sizeof *lk)) == NULL || (o = malloc(sizeof *o)) == NULL ||
	    (ex = sodium_malloc(64)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	mid = self->id;
	if ((rc = nc_password_for(&pw, self->addr, "current password", 0,
	    NULL)) != 0 || (rc = nc_new_password(&npw, self->addr)) != 0 ||
	    (rc = login(r, s, self, &pw, self->dev, &mid, lk)) != 0 ||
	    (rc = reg_cost(s, &cost)) != 0 ||
	    (rc = new_record(r, s, self, &npw, cost, &taken, o->record, ex)) != 0 ||
	    (rc = nc_idbackup_seal_export(&idb, ex, self->addr, self->id)) != 0)
		goto done;
	if (idb.len > sizeof o->backup) {
		rc = nc_fail(NC_ESOFTWARE, "identity-key backup too long");
		goto done;
	}
	memcpy(o->token, lk->token, sizeof o->token);
	memcpy(o->ke3, lk->ke3, sizeof o->ke3);
	o->op = NC_OP_PASSWD;
	o->cost = cost;
	memcpy(o->backup, idb.p, idb.len);
	o->backup_len = idb.len;
	if ((rc = nc_relay_op(r, self->name, self->addr, o, lk->session, &resp)) == 0)
		rc = nc_state_put_int(s, COST_KEY, cost);
	/* The backup key's password slot follows the password (the next
	 * backup stores it: nc-keygen --passwd runs one). */
	if (rc == 0 && (rc = nc_sync_key_wrap(s, self, ex, 0)) != 0)
		rc = nc_fail(rc, "%s: password changed, but the backup key could "
		    "not be wrapped under it (%s): run nc-sync backup --password",
		    self->addr, nc_errmsg());
done:
	if (lk)
		sodium_free(lk);
	if (ex)
		sodium_free(ex);
	free(o);
	nc_buf_free(&pw);
	nc_buf_free(&npw);
	nc_buf_free(&idb);
	nc_buf_free(&resp);
	nc_relay_close(r);
	return rc;
}

/* 1 if home holds the state of addr. */
static int
holds(const char *home, const char *addr)
{
	nc_state *s;
	char held[NC_ADDR_MAX + 1];
	int yes;

	if (!exists_in(home, "storage.key") || !exists_in(home, "state.db") ||
	    nc_state_open(&s, home) != 0)
		return 0;
	yes = nc_state_get_str(s, "addr", held, sizeof held) == 0 &&
	    strcmp(held, addr) == 0;
	nc_state_close(s);
	return yes;
}

int
nc_account_delete(const char *home, const char *addr, int *local)
{
	nc_relay *r = NULL;
	nc_self self;
	nc_buf pw = NC_SECBUF_INIT, resp = NC_BUF_INIT;
	login_keys *lk = NULL;
	struct nc_opreq *o = NULL;
	nc_idkey *id = NULL;
	int rc;

	*local = 0;
	memset(&self, 0, sizeof self);
	if ((rc = split(addr, self.name, self.domain)) != 0)
		return rc;
	strcpy(self.addr, addr);
	if ((rc = nc_relay_open(&r, home, self.domain)) != 0)
		return rc;
	if ((lk = sodium_malloc(sizeof *lk)) == NULL || (o = malloc(sizeof *o)) == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	/* No existence probe: an unknown user gets the same "wrong user or
	 * password" as a wrong password. */
	if ((rc = nc_password_for(&pw, addr, "to DELETE the account and "
	    "everything the relay holds for it", 0, NULL)) != 0 ||
	    (rc = login(r, NULL, &self, &pw, NULL, &id, lk)) != 0)
		goto done;
	memset(o, 0, sizeof *o);
	memcpy(o->token, lk->token, sizeof o->token);
	memcpy(o->ke3, lk->ke3, sizeof o->ke3);
	o->op = NC_OP_DELETE;
	if ((rc = nc_relay_op(r, self.name, addr, o, lk->session, &resp)) != 0)
		goto done;
	/* This NC_HOME's identity of that user is of no use any more. */
	if (holds(home, addr)) {
		discard(home);
		*local = 1;
	}
done:
	if (id)
		nc_idkey_free(id);
	if (lk)
		sodium_free(lk);
	free(o);
	nc_buf_free(&pw);
	nc_buf_free(&resp);
	nc_relay_close(r);
	return rc;
}

/* Our own entries in the key log (issue 19, 3): a version after the list
 * the relay serves us - asked once more, in case another of our devices
 * made it just now - is a list shown to others and hidden from us: the
 * relay, or someone with the password, made it. An alarm, on every device
 * of the user at its next check. */
static int
self_monitor(nc_state *s, nc_self *self, nc_devlist *l)
{
	int newer, rc;

	if ((rc = nc_keylog_monitor(s, self->addr, l->version, &newer)) != 0 ||
	    !newer)
		return rc;
	if ((rc = nc_dir_get(s, self->addr, 1, l)) != 0 ||
	    (rc = nc_keylog_monitor(s, self->addr, l->version, &newer)) != 0 ||
	    !newer)
		return rc;
	nc_fail(NC_ESECURITY, "key log: the log of %s holds version %llu of %s's"
	    " device list, but its relay serves this device version %llu: a list"
	    " this user's devices were not shown (made by the relay, or by "
	    "someone with the password)", self->domain,
	    (unsigned long long)l->version + 1, self->addr,
	    (unsigned long long)l->version);
	if ((rc = nc_event_add(s, "alarm", "", self->addr, "", nc_errmsg(), 0)) != 0)
		return rc;
	return NC_ESECURITY;
}

int
nc_self_check(nc_state *s, nc_self *self, int force)
{
	nc_devlist l;
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (!force && nc_state_get_int(s, "devlist_check", 0) > now)
		return 0;
	/* The directory records what changed ("device" events) or raises
	 * the alarm when another identity key signs our list, or the key log
	 * does not prove it; the latter is kept for nc_self_alarm, since the
	 * list it refused is not recorded as changed. */
	if ((rc = nc_dir_get(s, self->addr, 1, &l)) == 0)
		rc = self_monitor(s, self, &l);
	if (rc != 0) {
		if (rc == NC_ESECURITY)
			(void)!nc_state_put(s, "self_alarm", nc_errmsg(), strlen(nc_errmsg()));
		return rc;
	}
	return nc_state_put_int(s, "devlist_check", now + 3600);
}

int
nc_self_alarm(nc_state *s, const nc_self *self)
{
	nc_devlist l;
	char why[512];
	int changed = 0;

	if (nc_dir_show(s, self->addr, &l, &changed, NULL, NULL) == 0 && changed)
		return nc_fail(NC_ESECURITY, "%s: our own device list is signed by "
		    "another identity key: the password or a device may be "
		    "compromised", self->addr);
	if (nc_state_get_str(s, "self_alarm", why, sizeof why) == 0 && why[0]) {
		(void)!nc_state_put(s, "self_alarm", "", 0);
		return nc_fail(NC_ESECURITY, "%s: our own device list: %s", self->addr,
		    why);
	}
	return 0;
}

static int
self_read(nc_state *s, nc_self *self)
{
	nc_buf b = NC_SECBUF_INIT;
	int rc;

	memset(self, 0, sizeof *self);
	if ((rc = nc_state_get_str(s, "addr", self->addr, sizeof self->addr)) != 0)
		return rc == NC_ENOUSER ? nc_fail(NC_ECONFIG,
		    "no identity in %s (run nc-keygen)", s->home) : rc;
	if ((rc = split(self->addr, self->name, self->domain)) != 0)
		return rc;
	if ((rc = nc_state_get_secret(s, "device", &b)) != 0)
		goto done;
	if ((self->dev = nc_device_decode(b.p, b.len)) == NULL) {
		rc = nc_fail(NC_ESOFTWARE, "state: device key: %s", nc_errmsg());
		goto done;
	}
	nc_buf_reset(&b);
	rc = nc_state_get_secret(s, "idkey", &b);
	if (rc == 0 && (self->id = nc_idkey_decode(b.p, b.len)) == NULL)
		rc = nc_fail(NC_ESOFTWARE, "state: identity key: %s", nc_errmsg());
	else if (rc == NC_ENOUSER)
		rc = 0;
	if (rc != 0)
		goto done;
	nc_buf_reset(&b);
	rc = nc_state_get(s, "devlist", &b);
	if (rc == 0)
		rc = nc_devlist_decode(&self->list, b.p, b.len);
	else if (rc == NC_ENOUSER)
		rc = 0;
done:
	nc_buf_free(&b);
	if (rc != 0)
		nc_self_free(self);
	return rc;
}

int
nc_self_load(nc_state *s, nc_self *self)
{
	int rc;

	if ((rc = self_read(s, self)) != 0)
		return rc;
	/* Keys, but no list yet: nothing works until nc-keygen finishes. */
	if (self->list.n == 0 && nc_state_get_int(s, SIGNUP_KEY, 0) != 0) {
		nc_self_free(self);
		return nc_fail(NC_ECONFIG, "sign-up of %s not finished: run "
		    "nc-keygen %s to finish it", self->addr, self->addr);
	}
	return 0;
}

void
nc_self_free(nc_self *self)
{
	if (self->id)
		nc_idkey_free(self->id);
	if (self->dev)
		nc_device_free(self->dev);
	self->id = NULL;
	self->dev = NULL;
}

int
nc_account_export_key(nc_relay *r, nc_state *s, const char *addr, const char *why,
    uint8_t export_key[64])
{
	nc_buf pw = NC_SECBUF_INIT;
	login_keys *lk;
	nc_self self;
	int rc;

	memset(&self, 0, sizeof self);
	if ((rc = split(addr, self.name, self.domain)) != 0)
		return rc;
	snprintf(self.addr, sizeof self.addr, "%s", addr);
	if ((lk = sodium_malloc(sizeof *lk)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	if ((rc = nc_password_for(&pw, addr, why, 0, NULL)) == 0 &&
	    (rc = opaque_login(r, s, &self, &pw, lk)) == 0)
		memcpy(export_key, lk->export_key, 64);
	sodium_memzero(lk, sizeof *lk);
	sodium_free(lk);
	nc_buf_free(&pw);
	return rc;
}

int
nc_account_join_id(const char *home, const char *addr, const nc_idkey *id,
    nc_state **out)
{
	nc_state *s = NULL;
	nc_relay *r = NULL;
	nc_self self;
	nc_devlist cur;
	nc_buf b = NC_SECBUF_INIT;
	int rc, have, sent = 0;

	*out = NULL;
	memset(&self, 0, sizeof self);
	if ((rc = split(addr, self.name, self.domain)) != 0)
		return rc;
	snprintf(self.addr, sizeof self.addr, "%s", addr);
	if (exists_in(home, "storage.key") || exists_in(home, "state.db"))
		return nc_fail(NC_ECANTCREAT, "%s holds an identity already; restore "
		    "into an empty NC_HOME", home);
	if ((rc = nc_relay_open(&r, home, self.domain)) != 0)
		return rc;
	if ((rc = get_list(r, &self, &cur, &have)) != 0)
		goto out;
	if (!have) {
		rc = nc_fail(NC_ENOUSER, "%s: the relay has no device list for it",
		    addr);
		goto out;
	}
	if (sodium_memcmp(cur.identity, id->pk, 32) != 0) {
		rc = nc_fail(NC_ESECURITY, "%s: the relay's device list is signed by "
		    "another identity key than the one restored; refusing it", addr);
		goto out;
	}
	if (cur.n >= NC_DEVLIST_MAX) {
		rc = nc_fail(NC_ECANTCREAT, "%s: %d devices listed already (remove "
		    "one first)", addr, NC_DEVLIST_MAX);
		goto out;
	}
	if ((rc = nc_state_create(&s, home)) != 0)
		goto out;
	if ((self.dev = nc_device_gen()) == NULL ||
	    (rc = nc_idkey_encode(id, &b)) != 0 ||
	    (self.id = nc_idkey_decode(b.p, b.len)) == NULL) {
		rc = nc_fail(NC_EOSERR, "cannot make keys: %s", nc_errmsg());
		goto out;
	}
	if ((rc = save_self(s, &self, 1)) != 0 ||
	    (rc = nc_state_put_int(s, "joined", 1)) != 0)
		goto out;
	self.list = cur;
	self.list.version = cur.version + 1;
	self.list.created = (uint64_t)time(NULL);
	nc_device_entry(self.dev, &self.list.dev[self.list.n++]);
	sent = 1;
	if ((rc = put_list(r, &self)) != 0 ||
	    (rc = save_self(s, &self, 1)) != 0 ||
	    (rc = nc_prekeys_maintain(s, &self, 1)) != 0 ||
	    (rc = nc_state_put_int(s, "devlist_check", (int64_t)time(NULL) +
	    3600)) != 0 || (rc = nc_state_put_int(s, SIGNUP_KEY, 0)) != 0)
		goto out;
	hello(s, &self);
out:
	if (rc != 0 && s != NULL && !sent) {
		nc_state_close(s);
		s = NULL;
		discard(home);
	} else if (rc != 0 && s != NULL) {
		char why[512];

		snprintf(why, sizeof why, "%s", nc_errmsg());
		rc = nc_fail(rc, "%s; this device is not fully listed: remove %s and "
		    "restore again", why, home);
		nc_state_close(s);
		s = NULL;
	}
	nc_buf_free(&b);
	nc_relay_close(r);
	nc_self_free(&self);
	*out = s;
	return rc;
}

/* This device's name and when it joined, for nc-sync devices. */
static int
name_self(nc_state *s, const nc_self *self, const char *devname)
{
	char hex[33];
	int rc;

	nc_hex_encode(hex, self->dev->id, NC_DEVID_LEN);
	if ((rc = nc_devinfo_set_added(s, hex, (int64_t)time(NULL))) == 0 &&
	    devname && *devname)
		rc = nc_devinfo_set_name(s, hex, devname);
	return rc;
}

int
nc_account_name(nc_state *s, const nc_self *self, const char *devname)
{
	return name_self(s, self, devname);
}

int
nc_account_link(const char *home, const char *addr, nc_idkey **id,
    const char *devname, int (*import)(nc_state *, void *), void *ctx)
{
	nc_state *s = NULL;
	nc_relay *r = NULL;
	nc_self self;
	nc_devlist cur;
	int rc, have, listed = 0;

	memset(&self, 0, sizeof self);
	if ((rc = split(addr, self.name, self.domain)) != 0)
		return rc;
	strcpy(self.addr, addr);
	if (exists_in(home, "storage.key"))
		return nc_fail(NC_ECANTCREAT, "%s already holds an identity; a new "
		    "device needs an empty NC_HOME", home);
	if ((rc = nc_relay_open(&r, home, self.domain)) != 0 ||
	    (rc = get_list(r, &self, &cur, &have)) != 0)
		goto out;
	if (!have || sodium_memcmp(cur.identity, (*id)->pk, 32) != 0) {
		rc = nc_fail(NC_ESECURITY, "%s: the identity key the link message "
		    "carries does not sign the user's device list; refusing it",
		    addr);
		goto out;
	}
	if (cur.n >= NC_DEVLIST_MAX) {
		rc = nc_fail(NC_ECANTCREAT, "%s: %d devices listed already",
		    addr, NC_DEVLIST_MAX);
		goto out;
	}
	if ((rc = nc_state_create(&s, home)) != 0)
		goto out;
	if ((self.dev = nc_device_gen()) == NULL) {
		rc = nc_fail(NC_EOSERR, "cannot make keys: %s", nc_errmsg());
		goto out;
	}
	self.id = *id;
	*id = NULL;
	/* The keys first, then the list that names this device: a retry
	 * (nc-keygen USER@DOMAIN with the password) finishes it. */
	if ((rc = save_self(s, &self, 1)) != 0)
		goto out;
	self.list = cur;
	self.list.version = cur.version + 1;
	self.list.created = (uint64_t)time(NULL);
	nc_device_entry(self.dev, &self.list.dev[self.list.n++]);
	if ((rc = put_list(r, &self)) != 0)
		goto out;
	listed = 1;
	if ((rc = save_self(s, &self, 1)) != 0)
		goto out;
	if ((rc = nc_state_begin(s)) != 0)
		goto out;
	if ((rc = name_self(s, &self, devname)) != 0 ||
	    (rc = import(s, ctx)) != 0) {
		nc_state_rollback(s);
		goto out;
	}
	if ((rc = nc_state_commit(s)) != 0 ||
	    (rc = nc_prekeys_maintain(s, &self, 1)) != 0 ||
	    (rc = nc_state_put_int(s, "devlist_check", (int64_t)time(NULL) +
	    3600)) != 0 || (rc = nc_state_put_int(s, SIGNUP_KEY, 0)) != 0)
		goto out;
	hello(s, &self);
out:
	if (rc != 0 && s != NULL && !listed) {
		nc_state_close(s);
		s = NULL;
		discard(home);
	}
	nc_relay_close(r);
	nc_state_close(s);
	nc_self_free(&self);
	return rc;
}

int
nc_account_revoke(nc_state *s, nc_self *self, const uint8_t dev[NC_DEVID_LEN])
{
	nc_relay *r = NULL;
	nc_devlist cur, l;
	sqlite3_stmt *st;
	int rc, have, i, j;

	if (self->id == NULL)
		return nc_fail(NC_EPERM, "%s: this device does not hold the identity "
		    "key; revoke from one that does", self->addr);
	if ((rc = nc_relay_open(&r, s->home, self->domain)) != 0 ||
	    (rc = get_list(r, self, &cur, &have)) != 0)
		goto out;
	if (!have || sodium_memcmp(cur.identity, self->id->pk, 32) != 0) {
		rc = nc_fail(NC_ESECURITY, "%s: the relay's device list is not "
		    "signed by our identity key", self->addr);
		goto out;
	}
	if ((i = nc_devlist_find(&cur, dev)) < 0) {
		rc = nc_fail(NC_EUSAGE, "no such device in the device list");
		goto out;
	}
	l = cur;
	for (j = i; j + 1 < l.n; j++)
		l.dev[j] = l.dev[j + 1];
	l.n--;
	l.version = cur.version + 1;
	l.created = (uint64_t)time(NULL);
	self->list = l;
	if ((rc = put_list(r, self)) != 0 || (rc = save_self(s, self, 0)) != 0)
		goto out;
	/* Our pin follows (a "device revoked" event), the device's sessions
	 * are retired, and the other devices hear of it now. */
	if ((rc = nc_self_check(s, self, 1)) != 0)
		goto out;
	if ((rc = nc_state_prep(s, &st, "DELETE FROM session WHERE user = ?"
	    " AND dev = ?")) != 0)
		goto out;
	sqlite3_bind_text(st, 1, self->addr, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, dev, NC_DEVID_LEN, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0)
		goto out;
	if (self->list.n > 1)
		hello_kind(s, self, NC_CTL_DEVICE_REVOKED);
out:
	nc_relay_close(r);
	return rc;
}

int
nc_self_revoked(nc_state *s, nc_self *self, int online)
{
	nc_devlist l;
	int rc = online ? nc_self_check(s, self, self->list.n > 1) : 0;

	if (rc != 0 && rc != NC_EUNAVAIL && rc != NC_ETEMP && rc != NC_ENOHOST)
		return 0;   /* an alarm: recorded, nc-recv reports it */
	if (nc_dir_show(s, self->addr, &l, NULL, NULL, NULL) == 0 &&
	    nc_devlist_find(&l, self->dev->id) < 0)
		return nc_fail(NC_EPERM, "%s: this device was revoked (it is no "
		    "longer in the device list); link it again with nc-keygen "
		    "--link in an empty NC_HOME", self->addr);
	return 0;
}
