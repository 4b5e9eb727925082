/* directory.c - fetching, verifying and pinning device lists. */
#include <string.h>
#include <time.h>

#include "devinfo.h"
#include "directory.h"
#include "err.h"
#include "event.h"
#include "groupapp.h"
#include "hex.h"
#include "home.h"
#include "keylog.h"
#include "keys.h"
#include "relayc.h"

static int
domain_of(const char *addr, char *name, size_t nmax, const char **domain)
{
	const char *at = strchr(addr, '@');

	if (!nc_addr_valid(addr) || at == NULL || (size_t)(at - addr) >= nmax)
		return nc_fail(NC_EUSAGE, "%s: not a valid user@domain", addr);
	memcpy(name, addr, (size_t)(at - addr));
	name[at - addr] = '\0';
	*domain = at + 1;
	return 0;
}

/* The pinned row: 1 found, 0 none, <0 error. */
static int
load(nc_state *s, const char *addr, nc_devlist *l, int *changed,
    nc_devlist *l2, int *verified)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_stmt(s, &st, "SELECT devlist, changed, new_devlist,"
	    " verified FROM contact WHERE user = ?")) != 0)
		return -rc;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		nc_state_release(s, st);
		return 0;
	}
	rc = nc_devlist_decode(l, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0));
	if (changed)
		*changed = sqlite3_column_int(st, 1);
	if (verified)
		*verified = sqlite3_column_int(st, 3);
	if (rc == 0 && l2 && sqlite3_column_type(st, 2) == SQLITE_BLOB)
		rc = nc_devlist_decode(l2, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2));
	nc_state_release(s, st);
	return rc ? -NC_ESOFTWARE : 1;
}

static int
store(nc_state *s, const nc_devlist *l, const uint8_t *enc, size_t n, int insert)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = nc_state_prep(s, &st, insert ?
	    "INSERT INTO contact(devlist, version, identity, first_seen, user)"
	    " VALUES (?, ?, ?, ?, ?)" :
	    "UPDATE contact SET devlist = ?, version = ?, identity = ?,"
	    " first_seen = first_seen + 0 * ? WHERE user = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, enc, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)l->version);
	sqlite3_bind_blob(st, 3, l->identity, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 5, l->user, -1, SQLITE_STATIC);
	return nc_state_done(s, st);
}

int
nc_dir_pin(nc_state *s, const nc_devlist *l)
{
	nc_buf enc = NC_BUF_INIT;
	int rc;

	if ((rc = nc_devlist_encode(l, &enc)) == 0)
		rc = store(s, l, enc.p, enc.len, 1);
	nc_buf_free(&enc);
	return rc;
}

/* An identity key that differs from the pin: hold everything. The first
 * change is an alarm; the same new key again (a later version of its list)
 * quietly replaces the pending list; yet another key while one is pending
 * is a louder alarm, counted in changed, that voids any confirmation
 * (verified, which stands for the pending key while changed > 0). */
static int
changed_key(nc_state *s, int changed, const nc_devlist *pend,
    const nc_devlist *l, const uint8_t *enc, size_t n)
{
	sqlite3_stmt *st;
	int rc, again = changed > 0;

	if (changed > 0 && memcmp(pend->identity, l->identity, 32) == 0) {
		if (l->version <= pend->version)
			goto held;
		if ((rc = nc_state_prep(s, &st, "UPDATE contact SET new_devlist = ?"
		    " WHERE user = ?")) != 0)
			return rc;
		sqlite3_bind_blob(st, 1, enc, (int)n, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, l->user, -1, SQLITE_STATIC);
		if ((rc = nc_state_done(s, st)) != 0)
			return rc;
		goto held;
	}
	if ((rc = nc_state_prep(s, &st, "UPDATE contact SET changed = changed + 1,"
	    " new_devlist = ?, verified = 0 WHERE user = ?")) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, enc, (int)n, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, l->user, -1, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0)
		return rc;
	if ((rc = nc_event_add(s, "alarm", "", l->user, "", again ?
	    "identity key CHANGED AGAIN before it was trusted: another new key is "
	    "offered, a relay or network may be swapping keys; any check made "
	    "before is void: check the key shown now, then: nc-keys trust USER "
	    "FINGERPRINT" :
	    "identity key changed; check it, then: nc-keys trust USER FINGERPRINT",
	    0)) != 0)
		return rc;
	if (again)
		return nc_fail(NC_ESECURITY, "%s: identity key CHANGED AGAIN before "
		    "it was trusted (a key checked before is void); messages held "
		    "(nc-keys show %s)", l->user, l->user);
held:
	return nc_fail(NC_ESECURITY, "%s: identity key changed; messages held "
	    "(nc-keys show %s, then nc-keys trust %s FINGERPRINT)", l->user,
	    l->user, l->user);
}

/* Our own list moved on: each device that came or went is an event (a
 * device the user did not add is how a stolen password shows), and the
 * copy we sign our certificates with follows. */
static int
own_changes(nc_state *s, const nc_devlist *old, const nc_devlist *l,
    const uint8_t *enc, size_t n)
{
	char self[NC_ADDR_MAX + 1], hex[33];
	int i, rc, added;

	if (nc_state_get_str(s, "addr", self, sizeof self) != 0 ||
	    strcmp(self, l->user) != 0)
		return 0;
	for (i = 0, added = 0; i < l->n; i++)
		if (nc_devlist_find(old, l->dev[i].id) < 0) {
			nc_hex_encode(hex, l->dev[i].id, NC_DEVID_LEN);
			if ((rc = nc_event_add(s, "device", hex, l->user, hex,
			    "added", 0)) != 0 ||
			    (rc = nc_devinfo_set_added(s, hex, (int64_t)time(NULL))) != 0)
				return rc;
			added++;
		}
	/* a new device of ours joins our groups through this one */
	if (added && (rc = nc_group_sync_own(s, self)) != 0)
		return rc;
	for (i = 0; i < old->n; i++)
		if (nc_devlist_find(l, old->dev[i].id) < 0) {
			nc_hex_encode(hex, old->dev[i].id, NC_DEVID_LEN);
			if ((rc = nc_event_add(s, "device", hex, l->user, hex,
			    "revoked", 0)) != 0)
				return rc;
		}
	return nc_state_put(s, "devlist", enc, n);
}

/* A device the user dropped (revoked): our sessions with it go. */
static int
retire(nc_state *s, const nc_devlist *old, const nc_devlist *l)
{
	sqlite3_stmt *st;
	int i, rc;

	for (i = 0; i < old->n; i++) {
		if (nc_devlist_find(l, old->dev[i].id) >= 0)
			continue;
		if ((rc = nc_state_prep(s, &st, "DELETE FROM session WHERE"
		    " user = ? AND dev = ?")) != 0)
			return rc;
		sqlite3_bind_text(st, 1, l->user, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, old->dev[i].id, NC_DEVID_LEN, SQLITE_STATIC);
		if ((rc = nc_state_done(s, st)) != 0)
			return rc;
	}
	return 0;
}

static int
update(nc_state *s, const char *addr, const nc_devlist *l, const uint8_t *enc,
    size_t n)
{
	nc_devlist old, pend;
	int found, changed = 0, rc;

	if ((found = load(s, addr, &old, &changed, &pend, NULL)) < 0)
		return -found;
	if (!found)
		return store(s, l, enc, n, 1);   /* trust on first use */
	if (memcmp(old.identity, l->identity, 32) != 0)
		return changed_key(s, changed, &pend, l, enc, n);
	if (changed) {
		/* Back to the pinned key: nothing to accept any more (and a
		 * confirmation of the other key means nothing now). */
		sqlite3_stmt *st;
		if ((rc = nc_state_prep(s, &st, "UPDATE contact SET changed = 0,"
		    " new_devlist = NULL, verified = 0 WHERE user = ?")) != 0)
			return rc;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		if ((rc = nc_state_done(s, st)) != 0)
			return rc;
	}
	if (l->version < old.version) {
		rc = nc_event_add(s, "alarm", "", addr, "",
		    "relay served an older device list", 0);
		return rc ? rc : nc_fail(NC_ESECURITY,
		    "%s: relay served an older device list", addr);
	}
	if (l->version == old.version) {
		nc_buf e2 = NC_BUF_INIT;
		int same;

		if ((rc = nc_devlist_encode(&old, &e2)) != 0)
			return rc;
		same = e2.len == n && memcmp(e2.p, enc, n) == 0;
		nc_buf_free(&e2);
		if (!same) {
			rc = nc_event_add(s, "alarm", "", addr, "",
			    "two different device lists of one version", 0);
			return rc ? rc : nc_fail(NC_ESECURITY,
			    "%s: two different device lists of one version", addr);
		}
		return 0;
	}
	if ((rc = own_changes(s, &old, l, enc, n)) != 0 ||
	    (rc = retire(s, &old, l)) != 0)
		return rc;
	return store(s, l, enc, n, 0);
}

/* Every fetch carries the key log's proof (keylog.h): checked in the
 * transaction that would pin the list, so an alarm is recorded and the
 * list is not taken. */
static int
fetch(nc_state *s, const char *addr, nc_devlist *out)
{
	nc_relay *r = NULL;
	nc_buf enc = NC_BUF_INIT, proof = NC_BUF_INIT;
	nc_keylog_ctx k;
	char name[NC_USER_MAX + 1];
	const char *domain = NULL;
	int rc, rc2, has_proof = 0;

	if ((rc = domain_of(addr, name, sizeof name, &domain)) != 0 ||
	    (rc = nc_relay_open(&r, s->home, domain)) != 0)
		return rc;
	if ((rc = nc_keylog_prepare(s, r, domain, addr, &k)) == 0)
		rc = nc_relay_get_devlist_kt(r, name, k.has ? k.last.size : 0, &enc,
		    &proof, &has_proof);
	nc_relay_close(r);
	if (rc == NC_ENOUSER)
		rc = nc_fail(NC_ENOUSER, "%s: no such user", addr);
	if (rc != 0)
		goto done;
	if ((rc = nc_devlist_parse(out, enc.p, enc.len)) != 0 ||
	    strcmp(out->user, addr) != 0) {
		rc = nc_fail(NC_ESECURITY, "%s: relay served a bad device list%s%s",
		    addr, rc ? ": " : "", rc ? nc_errmsg() : " (another user's)");
		goto done;
	}
	if ((rc = nc_state_begin(s)) != 0)
		goto done;
	if ((rc = nc_keylog_check(s, domain, addr, &k, out, enc.p, enc.len, &proof,
	    has_proof)) == 0)
		rc = update(s, addr, out, enc.p, enc.len);
	/* An alarm is recorded even though the lookup fails. */
	if ((rc2 = nc_state_commit(s)) != 0 && rc == 0)
		rc = rc2;
done:
	nc_buf_free(&enc);
	nc_buf_free(&proof);
	return rc;
}

int
nc_dir_get(nc_state *s, const char *addr, int want_fetch, nc_devlist *out)
{
	int found, changed = 0;

	if (!want_fetch) {
		if ((found = load(s, addr, out, &changed, NULL, NULL)) < 0)
			return -found;
		if (found && changed)
			return nc_fail(NC_ESECURITY, "%s: identity key changed; messages "
			    "held (nc-keys show %s, then nc-keys trust %s FINGERPRINT)",
			    addr, addr, addr);
		if (found)
			return 0;
	}
	if ((found = fetch(s, addr, out)) != 0)
		return found;
	/* Checked with its relay now: a message from it need not ask again
	 * (session.c's sender_list; lost, it asks once more). */
	{
		char k[16 + NC_ADDR_MAX];

		snprintf(k, sizeof k, "devlist_check/%s", addr);
		(void)!nc_state_put_int(s, k, (int64_t)time(NULL));
	}
	/* A contact whose key changed before stays refused until trusted. */
	if (load(s, addr, out, &changed, NULL, NULL) == 1 && changed)
		return nc_fail(NC_ESECURITY, "%s: identity key changed; messages "
		    "held (nc-keys show %s, then nc-keys trust %s FINGERPRINT)",
		    addr, addr, addr);
	return 0;
}

int
nc_dir_show(nc_state *s, const char *addr, nc_devlist *l, int *changed,
    nc_devlist *l2, int *verified)
{
	int found = load(s, addr, l, changed, l2, verified);

	if (found < 0)
		return -found;
	return found ? 0 : nc_fail(NC_ENOUSER, "%s: not a contact yet", addr);
}

/* Does the number the user checked (32 hex digits of a fingerprint or the
 * 60 digits of a safety number, separators removed) name identity? */
static int
names_key(const char *checked, const char *self_addr, const uint8_t self_id[32],
    const char *addr, const uint8_t identity[32])
{
	char want[NC_SAFETY_LEN], *o = want;

	if (strlen(checked) == 32)
		nc_fingerprint(want, identity);
	else if (nc_safety_number(want, self_addr, self_id, addr, identity) != 0)
		return 0;
	for (const char *p = want; *p; p++)
		if (*p != ' ')
			*o++ = *p;
	*o = '\0';
	return strcmp(want, checked) == 0;
}

static int
pin_pending(nc_state *s, const char *addr, const nc_devlist *l2, int verified)
{
	static const char *const q[] = {
		"UPDATE contact SET changed = 0, new_devlist = NULL, verified = ?2 WHERE user = ?1",
		/* Sessions and envelopes made for the old keys are void; queued
		 * messages are encrypted afresh to the keys just accepted. */
		"DELETE FROM session WHERE user = ?1",
		"DELETE FROM outenv WHERE peer = ?1",
		"UPDATE outbox SET next_try = 0 WHERE peer = ?1",
	};
	sqlite3_stmt *st;
	nc_buf enc = NC_BUF_INIT;
	int rc;

	rc = nc_devlist_encode(l2, &enc);
	if (rc == 0)
		rc = store(s, l2, enc.p, enc.len, 0);
	nc_buf_free(&enc);
	for (size_t i = 0; rc == 0 && i < sizeof q / sizeof q[0]; i++) {
		if ((rc = nc_state_prep(s, &st, q[i])) != 0)
			break;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		if (i == 0)
			sqlite3_bind_int(st, 2, verified);
		rc = nc_state_done(s, st);
	}
	return rc;
}

int
nc_dir_trust(nc_state *s, const char *addr, const char *self_addr,
    const uint8_t self_id[32], const char *checked, int *pinned)
{
	nc_devlist l, l2;
	char fpr[NC_FPR_LEN];
	int changed = 0, verified = 0, found, rc;

	*pinned = 0;
	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	if ((found = load(s, addr, &l, &changed, &l2, &verified)) <= 0) {
		rc = found < 0 ? -found : nc_fail(NC_ENOUSER, "%s: not a contact yet",
		    addr);
		goto fail;
	}
	if (!changed) {
		/* Nothing pending; a number given must still be this key's. */
		rc = checked && !names_key(checked, self_addr, self_id, addr,
		    l.identity) ? nc_fail(NC_ESECURITY, "%s: that is not its key "
		    "(and no changed key waits to be trusted)", addr) : 0;
		goto fail;
	}
	nc_fingerprint(fpr, l2.identity);
	/* Compared and pinned in one transaction: a key the relay swaps in
	 * after the user's check can never be the one pinned. */
	if (checked && !names_key(checked, self_addr, self_id, addr, l2.identity)) {
		rc = names_key(checked, self_addr, self_id, addr, l.identity) ?
		    nc_fail(NC_ESECURITY, "%s: that is the old key, pinned before "
		    "the change; the new key offered is %s", addr, fpr) :
		    nc_fail(NC_ESECURITY, "%s: the key offered now is not the one "
		    "you checked (it is %s%s); nothing trusted: check again",
		    addr, fpr, changed > 1 ? ", and the key changed more than "
		    "once" : "");
		goto fail;
	}
	if (!checked && !verified) {
		rc = nc_fail(NC_EUSAGE, "%s: say which key you checked: nc-keys trust "
		    "%s FINGERPRINT (or the safety number), as nc-keys show prints "
		    "the new key", addr, addr);
		goto fail;
	}
	/* A safety number compared (here or by verify) is a verification. */
	if ((rc = pin_pending(s, addr, &l2, !checked || strlen(checked) == 60)) != 0)
		goto fail;
	*pinned = 1;
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

int
nc_dir_verified(nc_state *s, const char *addr, const uint8_t identity[32])
{
	nc_devlist l, l2;
	sqlite3_stmt *st;
	int changed = 0, found, rc;

	if ((rc = nc_state_begin(s)) != 0)
		return rc;
	/* Only if the key compared is still the one concerned: the pinned
	 * key, or the pending one while a change waits (then verified
	 * confirms it for nc-keys trust, until another key comes). */
	if ((found = load(s, addr, &l, &changed, &l2, NULL)) <= 0 ||
	    memcmp(changed ? l2.identity : l.identity, identity, 32) != 0) {
		rc = found < 0 ? -found : found == 0 ? nc_fail(NC_ENOUSER,
		    "%s: not a contact yet", addr) : nc_fail(NC_ESECURITY,
		    "%s: its key changed meanwhile; check again", addr);
		goto fail;
	}
	if ((rc = nc_state_prep(s, &st,
	    "UPDATE contact SET verified = 1 WHERE user = ?")) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if ((rc = nc_state_done(s, st)) != 0)
		goto fail;
	return nc_state_commit(s);
fail:
	nc_state_rollback(s);
	return rc;
}

int
nc_dir_sendable(nc_state *s, const char *addr)
{
	nc_devlist l;
	nc_config *cfg = NULL;
	int rc, policy, found, verified = 0;

	if ((rc = nc_config_load(&cfg, s->home)) != 0)
		return rc;
	policy = nc_config_policy(cfg);
	nc_config_free(cfg);
	if (policy != NC_POLICY_VERIFIED)
		return 0;
	if ((found = load(s, addr, &l, NULL, NULL, &verified)) < 0)
		return -found;
	if (found && verified)
		return 0;
	return nc_fail(NC_ESECURITY, "%s: not verified, and this home sends only to "
	    "verified contacts (policy verified); messages held (compare the "
	    "safety number: nc-keys verify %s SAFETY-NUMBER)", addr, addr);
}
