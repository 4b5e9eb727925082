/* inbox.c - fetch, decrypt, commit, acknowledge. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "armor.h"
#include "err.h"
#include "event.h"
#include "fsutil.h"
#include "gap.h"
#include "held.h"
#include "heal.h"
#include "home.h"
#include "groupapp.h"
#include "inbox.h"
#include "outbox.h"
#include "relayc.h"

#define ARMORED_MAX ((size_t)64 << 20)
#define ENVELOPE_MAX ((size_t)256 << 10)   /* the relay's limit */

int
nc_inbox_fetch(nc_state *s, nc_self *self, int wait, uint64_t *cursor,
    int *more, nc_rx *rx)
{
	static nc_relay_mail m[NC_RELAY_LIST_MAX];
	uint8_t ack[NC_RELAY_LIST_MAX][16];
	char why[600] = "";
	nc_relay *r = NULL;
	nc_buf resp = NC_BUF_INIT;
	size_t n = 0, nack = 0, i;
	int rc, rc1, fail = 0;

	*more = 0;
	/* What was held from a sender who is a contact now (the user wrote
	 * to it, or looked it up) comes first; the rest stays held. */
	(void)!nc_held_release(s, self, NULL, rx, NULL);
	if ((rc = nc_relay_open(&r, s->home, self->domain)) != 0)
		return rc;
	if (wait > 0)
		nc_relay_timeout(r, wait + 30);
	(void)!nc_heal_prepare(s);
	if ((rc = nc_relay_fetch(r, self->name, self->dev, *cursor, wait, &resp,
	    m, &n)) != 0) {
		if (rc == NC_ESECURITY) {
			snprintf(why, sizeof why, "%s", nc_errmsg());
			(void)!nc_event_add(s, "alarm", "", self->domain, "", why, 0);
			rx->security++;
			nc_fail(NC_ESECURITY, "%s", why);
		}
		goto done;
	}
	/* Receipts will be sealed with sessions: the counter check they wait
	 * for (heal.h) travels while these decrypt. */
	if (n > 0)
		(void)!nc_heal_check_start(s, self);
	for (i = 0; i < n; i++) {
		uint8_t envid[16];

		rx->received = (int64_t)m[i].received;
		rc1 = nc_session_receive(s, self, m[i].env, m[i].len, envid, rx);
		/* Stored or refused for good: acknowledge. Otherwise (relay of
		 * the sender unreachable, database busy or full) it stays for
		 * later, and the cursor stays before it, so that a follower
		 * lists it again. */
		if (rc1 == 0 || rc1 == NC_ESECURITY)
			memcpy(ack[nack++], m[i].envid, 16);
		else if (!fail) {
			fail = rc1;
			snprintf(why, sizeof why, "%s", nc_errmsg());
		}
		if (!fail && m[i].cursor > *cursor)
			*cursor = m[i].cursor;
	}
	if (nack > 0) {
		/* What was stored must be on disk before the relay may delete
		 * it: one sync for the batch. The receipts for it are sealed
		 * first, so that the same sync covers their ratchet steps; they
		 * go out while the relay deletes (with the network helper, at
		 * the same time: two round trips in the time of one). What
		 * was held from someone this batch made a contact (a sent copy
		 * from another of this user's devices) is read now too. */
		(void)!nc_held_release(s, self, NULL, rx, NULL);
		(void)!nc_heal_owed(s, self);
		(void)!nc_session_receipts(s, self);
		/* Nor may it when what was stored went into a state.db that
		 * has been deleted meanwhile (a long-running --follow). */
		if ((rc = nc_state_check(s)) == 0 &&
		    (rc = nc_state_sync(s)) == 0) {
			nc_relay_pending p;
			nc_flush f;

			nc_relay_ack_start(r, self->name, self->dev,
			    (const uint8_t (*)[16])ack, nack, &p);
			(void)!nc_outbox_flush(s, self, NULL, 0, &f);
			rc = nc_relay_ack_wait(&p);
			/* A follower runs for hours: the session states it
			 * replaced leave the WAL now, not at its exit. */
			if (wait > 0)
				nc_state_scrub(s);
		}
	}
	*more = n == NC_RELAY_LIST_MAX && !fail;
	/* What could not be stored is said, not hidden behind an exit 0 (a
	 * sender's relay that cannot be reached is only waited for). */
	if (rc == 0 && fail && fail != NC_EUNAVAIL && fail != NC_ENOHOST)
		rc = nc_fail(fail, "%s; the message stays on the relay for the"
		    " next run", why);
done:
	(void)!nc_heal_check(s, self, NULL);   /* one that nothing waited for */
	nc_buf_free(&resp);
	nc_relay_close(r);
	return rc;
}

int
nc_inbox_armored(nc_state *s, nc_self *self, int fd, nc_rx *rx)
{
	nc_buf in = NC_BUF_INIT, env = NC_BUF_INIT;
	uint8_t envid[16];
	size_t pos = 0;
	int rc, rc1, bad = 0;

	rx->received = 0;
	if ((rc = nc_buf_readfd(&in, fd, ARMORED_MAX)) != 0)
		goto done;
	for (;;) {
		nc_buf_reset(&env);
		rc = nc_armor_next((const char *)in.p, in.len, &pos, &env,
		    ENVELOPE_MAX);
		if (rc == 1) {
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
		rc1 = nc_session_receive(s, self, env.p, env.len, envid, rx);
		if (rc1 != 0 && rc1 != NC_ESECURITY && !bad)
			bad = rc1;
	}
	if (rc == 0)
		rc = bad;
done:
	nc_buf_free(&in);
	nc_buf_free(&env);
	return rc;
}

int
nc_inbox_gaps(nc_state *s)
{
	nc_config *cfg;
	long w;
	int rc;

	if ((rc = nc_config_load(&cfg, s->home)) != 0)
		return rc;
	w = nc_config_gap_window(cfg);
	nc_config_free(cfg);
	return nc_gap_report(s, (int64_t)time(NULL), w < 0 ? NC_GAP_WINDOW : w,
	    NULL);
}

void
nc_inbox_after(nc_state *s, nc_self *self, const nc_rx *rx)
{
	nc_flush f;

	(void)!nc_heal_owed(s, self);
	nc_group_retry(s, self);   /* group payloads waiting for a member */
	if (nc_session_receipts(s, self) == 0)
		(void)!nc_outbox_flush(s, self, NULL, 0, &f);
	(void)!nc_prekeys_maintain(s, self, rx->prekey > 0);
	(void)!nc_session_prekeys_prune(s, (int64_t)time(NULL));
	/* A device added elsewhere shows up within the hour even if it
	 * never writes to us (errors: an alarm recorded, or later). */
	(void)!nc_self_check(s, self, 0);
}
