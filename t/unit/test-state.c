/* test-state.c - the client state: schema at the current version, and
 * nc_session_prune forgetting seen envelope ids and replay tags by age,
 * exactly at its bounds; request times committed without a sync. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "keys.h"
#include "session.h"
#include "state.h"
#include "check.h"

static void
add(nc_state *s, const char *table, int i, int64_t at)
{
	sqlite3_stmt *st;
	char sql[80];
	uint8_t key[32] = { 0 };
	size_t n = strcmp(table, "seen") == 0 ? 16 : 32;

	key[0] = (uint8_t)i;
	snprintf(sql, sizeof sql, "INSERT INTO %s(%s, at) VALUES (?, ?)", table,
	    n == 16 ? "envid" : "tag");
	if (!CHECK(nc_state_prep(s, &st, sql) == 0))
		return;
	sqlite3_bind_blob(st, 1, key, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at);
	CHECK_INT(nc_state_done(s, st), 0);
}

static int64_t
count(nc_state *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (nc_state_prep(s, &st, sql) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
cmp24(const void *a, const void *b)
{
	return memcmp(a, b, 24);
}

/* nc_state_seal's nonces (drawn many at once): never the same twice,
 * across refills of the pool and between a parent and its forked child,
 * and what is sealed opens. */
static void
seal_nonces(nc_state *s)
{
	enum { N = 1000 };
	static uint8_t v[N + 1][24];
	nc_buf ct = NC_BUF_INIT, pt = NC_BUF_INIT;
	int fd[2], dup = 0, st;
	pid_t pid;

	for (int i = 0; i < N - 1; i++) {
		nc_buf_reset(&ct);
		if (!CHECK(nc_state_seal(s, "message", "row", "hello", 5, &ct) == 0))
			return;
		memcpy(v[i], ct.p + 1, 24);
	}
	CHECK_INT(nc_state_unseal(s, "message", "row", ct.p, ct.len, &pt), 0);
	CHECK(pt.len == 5 && memcmp(pt.p, "hello", 5) == 0);
	/* the child's next nonce is not the parent's next */
	if (!CHECK(pipe(fd) == 0) || !CHECK((pid = fork()) >= 0))
		return;
	if (pid == 0) {
		nc_buf_reset(&ct);
		_exit(nc_state_seal(s, "message", "row", "x", 1, &ct) != 0 ||
		    write(fd[1], ct.p + 1, 24) != 24);
	}
	close(fd[1]);
	CHECK(read(fd[0], v[N - 1], 24) == 24);
	close(fd[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	nc_buf_reset(&ct);
	CHECK_INT(nc_state_seal(s, "message", "row", "x", 1, &ct), 0);
	memcpy(v[N], ct.p + 1, 24);
	qsort(v, N + 1, 24, cmp24);
	for (int i = 0; i < N; i++)
		dup += memcmp(v[i], v[i + 1], 24) == 0;
	CHECK_INT(dup, 0);
	nc_buf_free(&ct);
	nc_buf_free(&pt);
}

/* A message body's at-rest name: nc_state_seal_msg and _unseal_msg
 * agree with the format state.h documents ("newchat at-rest v1" 0x00
 * table 0x00 row, the row "DIR/PEER/ID"), made here by hand, for names
 * short and long (the AD past its stack buffer). */
static void
seal_names(nc_state *s)
{
	static const char label[] = "newchat at-rest v1";
	char peer[301], id[251], row[600];
	uint8_t ad[1024], ct[1 + 24 + 5 + 16];
	nc_buf pt = NC_BUF_INIT, c = NC_BUF_INIT;
	size_t n;

	memset(peer, 'p', sizeof peer - 1);
	peer[sizeof peer - 1] = '\0';
	memset(id, 'i', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	for (int k = 0; k < 2; k++) {
		const char *P = k ? peer : "bob@b.test", *I = k ? id : "0123abcd";

		snprintf(row, sizeof row, "1/%s/%s", P, I);
		n = 0;
		memcpy(ad, label, sizeof label);
		n += sizeof label;
		memcpy(ad + n, "message", 8);
		n += 8;
		memcpy(ad + n, row, strlen(row));
		n += strlen(row);
		ct[0] = 1;
		randombytes_buf(ct + 1, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct + 25, NULL, (const uint8_t *)"hello",
		    5, ad, n, NULL, ct + 1, s->key);
		nc_buf_reset(&pt);
		CHECK_INT(nc_state_unseal_msg(s, 1, P, I, ct, sizeof ct, &pt), 0);
		CHECK(pt.len == 5 && memcmp(pt.p, "hello", 5) == 0);
		CHECK_INT(nc_state_unseal_msg(s, 0, P, I, ct, sizeof ct, &pt), NC_ESECURITY);
		nc_buf_reset(&c);
		nc_buf_reset(&pt);
		CHECK_INT(nc_state_seal_msg(s, 1, P, I, "hi", 2, &c), 0);
		CHECK_INT(nc_state_unseal(s, "message", row, c.p, c.len, &pt), 0);
		CHECK(pt.len == 2 && memcmp(pt.p, "hi", 2) == 0);
	}
	nc_buf_free(&pt);
	nc_buf_free(&c);
}

int
main(void)
{
	char home[64] = "/tmp/test-state.XXXXXX", cmd[128];
	int64_t now = (int64_t)time(NULL);
	nc_state *s = NULL;

	if (sodium_init() < 0 || mkdtemp(home) == NULL)
		return 2;
	if (!CHECK(nc_state_create(&s, home) == 0))
		return check_done("test-state");
	seal_nonces(s);
	seal_names(s);
	/* The indexes the pruning deletes by. */
	CHECK_INT(count(s, "SELECT count(*) FROM sqlite_master WHERE"
	    " name IN ('seen_at', 'replay_at')"), 2);

	add(s, "seen", 1, now - NC_SEEN_KEEP_SECS - 1);   /* goes */
	add(s, "seen", 2, now - NC_SEEN_KEEP_SECS);       /* stays: the bound */
	add(s, "seen", 3, now - 86400);
	add(s, "seen", 4, now);
	add(s, "replay", 1, now - NC_SPK_GRACE_SECS - 86400);   /* goes */
	add(s, "replay", 2, now - NC_SPK_GRACE_SECS - 1);       /* goes */
	add(s, "replay", 3, now - NC_SPK_GRACE_SECS);           /* stays */
	add(s, "replay", 4, now);
	CHECK_INT(nc_session_prune(s, now), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM seen"), 3);
	CHECK_INT(count(s, "SELECT count(*) FROM replay"), 2);
	CHECK_INT(count(s, "SELECT min(at) FROM replay"), now - NC_SPK_GRACE_SECS);
	CHECK_INT(count(s, "SELECT min(at) FROM seen"), now - NC_SEEN_KEEP_SECS);
	/* Again: nothing more goes. A year on, all but today's do. */
	CHECK_INT(nc_session_prune(s, now), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM seen"), 3);
	CHECK_INT(nc_session_prune(s, now + NC_SEEN_KEEP_SECS), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM seen"), 1);
	CHECK_INT(count(s, "SELECT count(*) FROM replay"), 0);
	/* The seen marks outlive any sender's retries. */
	CHECK(NC_SEEN_KEEP_SECS > NC_TTL_MAX);

	/* Request times: the clock's own, however often one request is
	 * signed (a nonce tells equal requests apart); the times an older
	 * version kept, ahead of the clock, are forgotten at the first
	 * request - a device they locked out works again at once - and
	 * that is not worth an fsync of its own. */
	{
		uint8_t h[32] = { 7 };
		char sql[200];
		int i, drift = 0;

		CHECK_INT(nc_state_sync(s), 0);
		CHECK_INT(s->unsynced, 0);
		for (i = 0; i < 400; i++)
			drift += nc_state_reqtime(s, h, now) != now;
		CHECK_INT(drift, 0);
		CHECK_INT(count(s, "SELECT count(*) FROM reqtime"), 0);
		snprintf(sql, sizeof sql, "INSERT INTO reqtime(h, t) VALUES"
		    " (x'07', %lld), (x'08', %lld)", (long long)now + 172800,
		    (long long)now - 5);
		CHECK_INT(nc_state_exec(s, sql), 0);
		CHECK_INT(nc_state_sync(s), 0);
		CHECK_INT(nc_state_reqtime(s, h, now), now);
		/* (sqlite reports a commit to the WAL hook when a statement
		 * runs to its end: a commit left to sqlite3_finalize was
		 * reported at the next one, as if not lazy) */
		{
			sqlite3_stmt *st;

			if (CHECK(nc_state_prep(s, &st, "SELECT 1") == 0))
				CHECK_INT(nc_state_done(s, st), 0);
		}
		CHECK_INT(s->unsynced, 0);
		CHECK_INT(count(s, "SELECT count(*) FROM reqtime"), 0);
		CHECK_INT(nc_state_reqtime(s, h, now + 1), now + 1);
		add(s, "seen", 9, now);   /* any other commit is synced at close */
		CHECK_INT(s->unsynced, 1);
	}

	/* The WAL stays bounded while other processes read: with reads that
	 * overlap there is never a moment without a reader in the log, so
	 * passive checkpoints never start it over (it grew without end);
	 * past 8 x 128 pages the writer restarts it, waiting for the reads
	 * in progress (milliseconds), and journal_size_limit cuts the file
	 * back to 4 MB. */
	{
		char p[200];
		struct stat sb;
		long long max = 0;
		int i, ok = 1, st;
		pid_t kid;

		snprintf(p, sizeof p, "%s/state.db", home);
		CHECK_INT(nc_state_exec(s, "INSERT INTO kv(k, v) VALUES ('pad', 'x')"), 0);
		if ((kid = fork()) == 0) {   /* two readers, overlapping */
			sqlite3 *r[2] = { NULL, NULL };
			struct timespec ms = { 0, 1000000 };

			if (sqlite3_open(p, &r[0]) != SQLITE_OK ||
			    sqlite3_open(p, &r[1]) != SQLITE_OK)
				_exit(1);
			for (i = 0; i < 4000; i++) {
				(void)sqlite3_exec(r[i & 1], "COMMIT", NULL, NULL, NULL);
				(void)sqlite3_exec(r[i & 1], "BEGIN; SELECT count(*)"
				    " FROM kv", NULL, NULL, NULL);
				nanosleep(&ms, NULL);
			}
			_exit(0);
		}
		snprintf(p, sizeof p, "%s/state.db-wal", home);
		for (i = 0; i < 1500 && ok; i++) {
			ok = nc_state_exec(s, "UPDATE kv SET v = randomblob(12000)"
			    " WHERE k = 'pad'") == 0;
			if (stat(p, &sb) == 0 && sb.st_size > max)
				max = sb.st_size;
		}
		kill(kid, SIGKILL);
		waitpid(kid, &st, 0);
		CHECK(ok);
		CHECK(max < (long long)8 << 20);
		if (max >= (long long)8 << 20)
			fprintf(stderr, "test-state: WAL reached %lld bytes\n", max);
	}

	CHECK_INT(nc_state_close(s), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	if (system(cmd) != 0)
		return 2;
	return check_done("test-state");
}
