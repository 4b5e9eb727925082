/* store_sqlite.c - the embedded storage backend: sqlite in WAL mode with
 * synchronous=FULL. One writer thread runs every write; writes that arrive
 * while a commit is in progress are batched into the next transaction (each
 * in its own savepoint), so many requests share one fsync: group commit.
 * Reads use a pool of reader connections and never wait for the writer. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "blobfs.h"
#include "sqldb.h"
#include "store_kt.h"
#include "store_ops.h"

#define BATCH_MAX 512
/* The WAL's bound. Passive checkpoints (the checkpointer's, every 200 ms)
 * copy the log into the database but cannot start it over while a reader
 * still reads it, and under steady load one always does: the log grew to
 * 1 GB for a 48 MB database. So once it holds WAL_RESTART_PAGES, the
 * writer itself (which holds the write lock anyway) runs a RESTART
 * checkpoint between two batches: it waits for the readers of the old log
 * (requests: milliseconds) and makes the next commit write from the log's
 * start; journal_size_limit (sqldb.c) then cuts the file back. A write
 * that came meanwhile waits the checkpoint's length, once in a while. */
#define WAL_RESTART_PAGES 2048   /* 8 MB of 4 KiB pages */
/* A health line on stderr this often while writes come (and whenever
 * writes start or stop failing); NC_RELAY_HEALTH_SECS overrides it (tests).
 * Quiet otherwise: a relay's stderr is for what needs a look. */
#define HEALTH_SECS 600

struct job {
	int (*fn)(struct store *s, struct sqldb *c, void *arg);
	void (*after)(struct store *s, void *arg);   /* once committed */
	void *arg;
	int rc, done;
	pthread_cond_t cv;   /* its own: waking one waiter, not all of them */
	struct job *next;
};

struct store {
	const struct store_ops *ops;   /* first: store.c reads it */
	char path[4096], blobdir[4096];
	struct store_limits lim;
	store_mail_fn on_mail;
	void *mail_arg;
	struct sqldb *w;                 /* the writer's connection */
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t work;
	struct job *head, *tail;
	int stop;
	struct sqldb *pool;              /* idle reader connections */
	pthread_mutex_t pmu;
	struct sqldb *ck;                /* the checkpointer's connection */
	pthread_t ckthr;
	pthread_cond_t ckcv;
	/* health (under mu): what the health line reports */
	int wal_pages;                   /* frames in the WAL after the last commit */
	uint64_t commits, failures, restarts;
	int failing;                     /* the last batch failed to commit */
	char why[160];                   /* sqlite's reason, when failing */
	/* the key log: the head's signing key (the caller's), and whether
	 * the running batch appended (the writer thread's own) */
	const uint8_t *kt_sk;
	const char *kt_domain;
	int kt_grew;
};

static const struct store_ops sq_ops;

/* ---- health: WAL size, commits, failures ---- */

static long long
fsize(const char *path, const char *suffix)
{
	char p[4200];
	struct stat sb;

	snprintf(p, sizeof p, "%s%s", path, suffix);
	return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* One line on stderr: "nc-relayd: health: ok, WAL 1.2 MB (bound 8 MB +
 * one batch), database 48.0 MB, 1234 commits, 3 restarts, 0 failures". */
static void
health_line(struct store *s, const char *state)
{
	uint64_t commits, failures, restarts;
	char why[160];

	pthread_mutex_lock(&s->mu);
	commits = s->commits;
	failures = s->failures;
	restarts = s->restarts;
	snprintf(why, sizeof why, "%s", s->failing ? s->why : "");
	pthread_mutex_unlock(&s->mu);
	fprintf(stderr, "nc-relayd: health: %s%s%s, WAL %.1f MB (checkpointed "
	    "at %d MB), database %.1f MB, %llu commits, %llu WAL restarts, "
	    "%llu failed commits\n", state, why[0] ? ": " : "", why,
	    fsize(s->path, "-wal") / 1048576.0, WAL_RESTART_PAGES * 4 / 1024,
	    fsize(s->path, "") / 1048576.0, (unsigned long long)commits,
	    (unsigned long long)restarts, (unsigned long long)failures);
}

/* After a batch: count it, and say so when writes start or stop failing
 * (a full disk: every write is 503 until space returns; the next batch
 * simply tries again, nothing has to be restarted). why: sqlite's reason,
 * taken where the batch failed (a rollback after it replaces errmsg). */
static void
health_commit(struct store *s, int ok, const char *why)
{
	int was;

	pthread_mutex_lock(&s->mu);
	was = s->failing;
	s->failing = !ok;
	if (ok)
		s->commits++;
	else {
		s->failures++;
		snprintf(s->why, sizeof s->why, "%s", why);
	}
	pthread_mutex_unlock(&s->mu);
	if (was != !ok)
		health_line(s, ok ? "writes work again" : "writes failing");
}

/* The writer's WAL hook: the log's length after each commit. */
static int
on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	(void)db;
	(void)name;
	s->wal_pages = pages;   /* the writer thread's own */
	return SQLITE_OK;
}

/* Between batches, on the writer thread: start the log over once it is
 * long (see WAL_RESTART_PAGES). */
static void
wal_bound(struct store *s)
{
	int log = 0, done = 0;

	if (s->wal_pages < WAL_RESTART_PAGES)
		return;
	if (sqlite3_wal_checkpoint_v2(s->w->db, NULL, SQLITE_CHECKPOINT_RESTART,
	    &log, &done) == SQLITE_OK) {
		s->wal_pages = 0;
		pthread_mutex_lock(&s->mu);
		s->restarts++;
		pthread_mutex_unlock(&s->mu);
	} else {
		/* busy (a reader outlived the busy timeout) or no space: the
		 * next batch tries again */
		s->wal_pages = WAL_RESTART_PAGES - 64;
	}
}

/* ---- the writer: group commit ---- */

/* The batch failed here: keep sqlite's reason (the first one). */
static int
batch_failed(struct store *s, char *why, size_t n)
{
	if (why[0] == '\0')
		snprintf(why, n, "%s", sqlite3_errmsg(s->w->db));
	return 0;
}

static void
run_batch(struct store *s, struct job *batch)
{
	struct job *j;
	char why[160] = "";
	int ok = sqldb_exec(s->w, Q_BEGIN, "") == 0 || batch_failed(s, why, sizeof why);

	for (j = batch; j; j = j->next) {
		if (!ok) {
			j->rc = ST_ERR;
			continue;
		}
		if (sqldb_exec(s->w, Q_SAVE, "") != 0) {
			j->rc = ST_ERR;
			continue;
		}
		j->rc = j->fn(s, s->w, j->arg);
		if (sqlite3_get_autocommit(s->w->db)) {
			/* sqlite rolled the whole transaction back (it may, on
			 * SQLITE_FULL): nothing of the batch is kept, and a
			 * SAVEPOINT now would start a transaction of its own,
			 * committed by its RELEASE. The batch fails. */
			ok = batch_failed(s, why, sizeof why);
			continue;
		}
		if (j->rc != ST_OK)
			(void)sqldb_exec(s->w, Q_ROLLBACK_TO, "");
		(void)sqldb_exec(s->w, Q_RELEASE, "");
	}
	/* One signed head per batch that grew the key log, in its commit. */
	if (ok && s->kt_grew && s->kt_sk &&
	    ktdb_sign(s->w, s->kt_sk, s->kt_domain, (int64_t)time(NULL)) != ST_OK)
		ok = batch_failed(s, why, sizeof why);
	s->kt_grew = 0;
	if (ok && sqldb_exec(s->w, Q_COMMIT, "") != 0)
		ok = batch_failed(s, why, sizeof why);
	/* (a failed COMMIT on a full disk has rolled back already) */
	if (!ok && !sqlite3_get_autocommit(s->w->db))
		(void)sqldb_exec(s->w, Q_ROLLBACK, "");
	health_commit(s, ok, why[0] ? why : "failed");
	for (j = batch; j; j = j->next) {
		if (!ok)
			j->rc = ST_ERR;
		else if (j->rc == ST_OK && j->after)
			j->after(s, j->arg);
	}
}

static void *
writer(void *arg)
{
	struct store *s = arg;
	struct job *batch, *j, *next;
	int n;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->head == NULL && !s->stop)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->head == NULL)
			break;
		batch = s->head;
		for (j = batch, n = 1; j->next && n < BATCH_MAX; j = j->next, n++)
			;
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&s->mu);
		run_batch(s, batch);
		pthread_mutex_lock(&s->mu);
		for (j = batch; j; j = next) {
			next = j->next;   /* j may be gone once done is seen */
			j->done = 1;
			pthread_cond_signal(&j->cv);
		}
		/* Answered: now the log may be started over, before the
		 * next batch. */
		pthread_mutex_unlock(&s->mu);
		wal_bound(s);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Run fn in the next transaction; returns once it is committed. */
static int
submit(struct store *s, int (*fn)(struct store *, struct sqldb *, void *),
    void (*after)(struct store *, void *), void *arg)
{
	struct job j = { .fn = fn, .after = after, .arg = arg, .rc = ST_ERR };

	pthread_cond_init(&j.cv, NULL);
	pthread_mutex_lock(&s->mu);
	if (s->stop) {
		pthread_mutex_unlock(&s->mu);
		pthread_cond_destroy(&j.cv);
		return ST_ERR;
	}
	if (s->tail)
		s->tail->next = &j;
	else
		s->head = &j;
	s->tail = &j;
	pthread_cond_signal(&s->work);
	while (!j.done)
		pthread_cond_wait(&j.cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	pthread_cond_destroy(&j.cv);
	return j.rc;
}

/* Checkpoints run here, beside the writer (WAL allows it), so no commit
 * pays for copying the log into the database and syncing it. */
static void *
checkpointer(void *arg)
{
	struct store *s = arg;
	struct timespec ts;
	time_t last = time(NULL);
	uint64_t seen = 0;
	const char *e = getenv("NC_RELAY_HEALTH_SECS");
	long every = e && atol(e) > 0 ? atol(e) : HEALTH_SECS;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (time(NULL) - last >= every && s->commits != seen) {
			seen = s->commits;
			last = time(NULL);
			pthread_mutex_unlock(&s->mu);
			health_line(s, s->failing ? "writes failing" : "ok");
			pthread_mutex_lock(&s->mu);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->ckcv, &s->mu, &ts);
		pthread_mutex_unlock(&s->mu);
		sqlite3_wal_checkpoint_v2(s->ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- readers ---- */

static struct sqldb *
rget(struct store *s)
{
	struct sqldb *c;

	pthread_mutex_lock(&s->pmu);
	if ((c = s->pool) != NULL)
		s->pool = c->next;
	pthread_mutex_unlock(&s->pmu);
	return c ? c : sqldb_open(s->path, 0);
}

static void
rput(struct store *s, struct sqldb *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&s->pmu);
	c->next = s->pool;
	s->pool = c;
	pthread_mutex_unlock(&s->pmu);
}

/* ---- open / close ---- */

/* SQLite creates relay.db-wal and -shm with the database's mode: the
 * database is made 0600 before SQLite first opens it, and the files an
 * older relay left readable are narrowed. */
static int
private_files(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[4200];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	close(fd);
	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		if (chmod(p, 0600) != 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

int
sq_open(struct store **sp, const char *dir, const struct store_limits *l,
    store_mail_fn on_mail, void *arg)
{
	struct store *s = calloc(1, sizeof *s);

	if (s == NULL)
		return ST_ERR;
	s->ops = &sq_ops;
	snprintf(s->path, sizeof s->path, "%s/relay.db", dir);
	snprintf(s->blobdir, sizeof s->blobdir, "%s/blobs", dir);
	if (mkdir(s->blobdir, 0700) != 0 && errno != EEXIST) {
		free(s);
		return ST_ERR;
	}
	s->lim = *l;
	s->on_mail = on_mail;
	s->mail_arg = arg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->pmu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->ckcv, NULL);
	if (private_files(s->path) != 0 ||
	    (s->w = sqldb_open(s->path, 1)) == NULL ||
	    (s->ck = sqldb_open(s->path, 0)) == NULL ||
	    sqlite3_wal_autocheckpoint(s->w->db, 0) != SQLITE_OK)
		goto fail;
	/* (replaces the autocheckpoint hook, off already: it only counts) */
	sqlite3_wal_hook(s->w->db, on_wal, s);
	if (pthread_create(&s->ckthr, NULL, checkpointer, s) != 0)
		goto fail;
	if (pthread_create(&s->thr, NULL, writer, s) != 0) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_signal(&s->ckcv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->ckthr, NULL);
		goto fail;
	}
	*sp = s;
	return ST_OK;
fail:
	sqldb_close(s->ck);
	sqldb_close(s->w);
	free(s);
	return ST_ERR;
}

static void
sq_close(struct store *s)
{
	struct sqldb *c;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->work);
	pthread_cond_signal(&s->ckcv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thr, NULL);
	pthread_join(s->ckthr, NULL);
	if (s->failing)
		health_line(s, "closing");
	sqldb_close(s->ck);
	while ((c = s->pool) != NULL) {
		s->pool = c->next;
		sqldb_close(c);
	}
	sqldb_close(s->w);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->pmu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->ckcv);
	free(s);
}

/* ---- helpers run inside a job ---- */

static int64_t
count(struct sqldb *c, int q, const char *user, const void *dev)
{
	sqlite3_stmt *st = dev ? sqldb_q(c, q, "tb", user, dev, (size_t)NC_DEVID_LEN) :
	    sqldb_q(c, q, "t", user);
	int64_t n = -1;

	if (sqldb_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return n;
}

/* The state of (user, dev): ST_NOTFOUND (no user or device), ST_GONE
 * (registered but not in the current list), ST_OK with the row fields. */
struct devstate {
	int64_t mail_n, mail_bytes, spk_id;
	uint64_t dl_version;
	uint8_t spk_pk[NC_PK_LEN], spk_sig[NC_SIG_LEN];
	int has_spk;
};

static int
devstate(struct sqldb *c, const char *user, const uint8_t *dev, struct devstate *d)
{
	sqlite3_stmt *st = sqldb_q(c, Q_DEV_CURRENT, "bt", dev, (size_t)NC_DEVID_LEN, user);
	int rc = ST_NOTFOUND;

	if (st == NULL)
		return ST_ERR;
	if (sqldb_step(st) == SQLITE_ROW) {
		d->dl_version = (uint64_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			rc = ST_NOTFOUND;
		else if (d->dl_version > 0 && sqlite3_column_int(st, 0) != 1)
			rc = ST_GONE;
		else
			rc = ST_OK;
		d->mail_n = sqlite3_column_int64(st, 2);
		d->mail_bytes = sqlite3_column_int64(st, 3);
		d->spk_id = sqlite3_column_int64(st, 4);
		d->has_spk = sqlite3_column_type(st, 4) != SQLITE_NULL &&
		    sqldb_blob(st, 5, d->spk_pk, NC_PK_LEN) == 0 &&
		    sqldb_blob(st, 6, d->spk_sig, NC_SIG_LEN) == 0;
	}
	sqlite3_reset(st);
	return rc;
}

static int
user_exists(struct sqldb *c, const char *user)
{
	sqlite3_stmt *st = sqldb_q(c, Q_USER_GET, "t", user);
	int rc = sqldb_step(st);

	if (st)
		sqlite3_reset(st);
	return rc == SQLITE_ROW ? ST_OK : rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
}

#define OK(x) do { if ((x) != 0) return ST_ERR; } while (0)

/* ---- invites and accounts ---- */

static int
j_invite(struct store *s, struct sqldb *c, void *arg)
{
	(void)s;
	OK(sqldb_exec(c, Q_INV_INS, "t", (const char *)arg));
	return ST_OK;
}

static int
sq_invite_add(struct store *s, const char *code)
{
	return submit(s, j_invite, NULL, (void *)code);
}

struct ucreate {
	const char *user, *invite;
	const struct store_account *a;
	const uint8_t *pk;
	int64_t now;
};

static int
j_user_create(struct store *s, struct sqldb *c, void *arg)
{
	struct ucreate *u = arg;
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	(void)s;
	if ((rc = user_exists(c, u->user)) != ST_NOTFOUND)
		return rc == ST_OK ? ST_EXISTS : rc;
	if (u->invite) {
		OK(sqldb_exec(c, Q_INV_DEL, "t", u->invite));
		if (sqlite3_changes(c->db) != 1)
			return ST_FORBIDDEN;
	}
	if (u->a->cost) {   /* OPAQUE: no auth key, the record instead */
		OK(sqldb_exec(c, Q_USER_INS, "tbbiii", u->user, NULL, (size_t)0,
		    NULL, (size_t)0, (int64_t)0, (int64_t)0, u->now));
		OK(sqldb_exec(c, Q_OPQ_SET, "tbi", u->user, u->a->record,
		    sizeof u->a->record, (int64_t)u->a->cost));
	} else
		OK(sqldb_exec(c, Q_USER_INS, "tbbiii", u->user, u->a->auth_pk,
		    (size_t)NC_PK_LEN, u->a->salt, (size_t)NC_SALT_LEN,
		    (int64_t)u->a->opslimit, (int64_t)u->a->memlimit, u->now));
	nc_device_id(dev, u->pk);
	OK(sqldb_exec(c, Q_DEV_INS, "tbbi", u->user, dev, (size_t)NC_DEVID_LEN,
	    u->pk, (size_t)NC_PK_LEN, (int64_t)0));
	return ST_OK;
}

static int
sq_user_create(struct store *s, const char *user, const struct store_account *a,
    const uint8_t pk[NC_PK_LEN], const char *invite, int64_t now)
{
	struct ucreate u = { user, invite, a, pk, now };

	return submit(s, j_user_create, NULL, &u);
}

static int
sq_user_get(struct store *s, const char *user, struct store_account *a)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_USER_OLDAUTH, "t", user)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = sqldb_blob(st, 0, a->auth_pk, NC_PK_LEN) == 0 &&
		    sqldb_blob(st, 1, a->salt, NC_SALT_LEN) == 0 ? ST_OK : ST_ERR;
		a->opslimit = (uint64_t)sqlite3_column_int64(st, 2);
		a->memlimit = (uint64_t)sqlite3_column_int64(st, 3);
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

static int
j_user_delete(struct store *s, struct sqldb *c, void *arg)
{
	const char *user = arg;
	int rc;

	(void)s;
	if ((rc = user_exists(c, user)) != ST_OK)
		return rc;
	OK(sqldb_exec(c, Q_USER_DEL, "t", user));
	OK(sqldb_exec(c, Q_DEV_DEL, "t", user));
	OK(sqldb_exec(c, Q_NON_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_OTPK_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_MAIL_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_IDB_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_BK_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_BKR_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_OPQ_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_CTR_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_LINK_DELUSER, "t", user));
	OK(sqldb_exec(c, Q_PUSH_DELUSER, "t", user));
	if (ktdb_forget(c, user) != ST_OK)
		return ST_ERR;
	return ST_OK;
}

static int
sq_user_delete(struct store *s, const char *user)
{
	return submit(s, j_user_delete, NULL, (void *)user);
}

/* ---- OPAQUE records ---- */

static int
sq_opaque_get(struct store *s, const char *user, uint8_t record[192], int *cost)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_OPQ_GET, "t", user)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = sqldb_blob(st, 0, record, 192) == 0 ? ST_OK : ST_ERR;
		*cost = sqlite3_column_int(st, 1);
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

static int
sq_opaque_common_cost(struct store *s, int *cost)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_OPQ_COMMON, "")) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		*cost = sqlite3_column_int(st, 0);
		rc = ST_OK;
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

struct opqset {
	const char *user;
	const uint8_t *record, *backup;
	int cost;
	size_t n;
};

static int
j_opaque_set(struct store *s, struct sqldb *c, void *arg)
{
	struct opqset *o = arg;
	int rc;

	(void)s;
	if ((rc = user_exists(c, o->user)) != ST_OK)
		return rc;
	OK(sqldb_exec(c, Q_OPQ_SET, "tbi", o->user, o->record, (size_t)192,
	    (int64_t)o->cost));
	OK(sqldb_exec(c, Q_USER_OLDAUTH_DEL, "t", o->user));
	OK(sqldb_exec(c, Q_NON_DELUSER, "t", o->user));
	if (o->n > 0)
		OK(sqldb_exec(c, Q_IDB_PUT, "tb", o->user, o->backup, o->n));
	return ST_OK;
}

static int
sq_opaque_set(struct store *s, const char *user, const uint8_t record[192],
    int cost, const uint8_t *backup, size_t n)
{
	struct opqset o = { user, record, backup, cost, n };

	return submit(s, j_opaque_set, NULL, &o);
}

/* ---- login challenges ---- */

struct nonce {
	const char *user;
	const uint8_t *n;
	int64_t expires, now;
	int found;   /* take: ST_OK or ST_NOTFOUND */
};

static int
j_nonce_put(struct store *s, struct sqldb *c, void *arg)
{
	struct nonce *n = arg;
	sqlite3_stmt *st;
	int64_t k = -1;
	int rc;

	if ((rc = user_exists(c, n->user)) != ST_OK)
		return rc;
	if ((st = sqldb_q(c, Q_NON_COUNT, "ti", n->user, n->now)) != NULL &&
	    sqldb_step(st) == SQLITE_ROW)
		k = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (k < 0)
		return ST_ERR;
	if (k >= s->lim.nonces_max)
		return ST_FULL;
	OK(sqldb_exec(c, Q_NON_INS, "tbi", n->user, n->n, (size_t)NC_NONCE_LEN,
	    n->expires));
	return ST_OK;
}

static int
sq_nonce_put(struct store *s, const char *user, const uint8_t nonce[NC_NONCE_LEN],
    int64_t expires, int64_t now)
{
	struct nonce n = { user, nonce, expires, now, ST_OK };

	return submit(s, j_nonce_put, NULL, &n);
}

static int
j_nonce_take(struct store *s, struct sqldb *c, void *arg)
{
	struct nonce *n = arg;
	sqlite3_stmt *st = sqldb_q(c, Q_NON_DEL, "tb", n->user, n->n,
	    (size_t)NC_NONCE_LEN);
	int rc = ST_ERR;

	(void)s;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = sqlite3_column_int64(st, 0) >= n->now ? ST_OK : ST_NOTFOUND;
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	if (st)
		sqlite3_reset(st);
	/* Commit even when not found: a consumed nonce stays consumed. */
	n->found = rc;
	return rc == ST_ERR ? ST_ERR : ST_OK;
}

static int
sq_nonce_take(struct store *s, const char *user, const uint8_t nonce[NC_NONCE_LEN],
    int64_t now)
{
	struct nonce n = { user, nonce, 0, now, ST_ERR };
	int rc = submit(s, j_nonce_take, NULL, &n);

	return rc != ST_OK ? rc : n.found;
}

/* ---- devices and device lists ---- */

struct devadd {
	const char *user;
	const uint8_t *pk;
};

static int
j_device_add(struct store *s, struct sqldb *c, void *arg)
{
	struct devadd *d = arg;
	uint8_t dev[NC_DEVID_LEN];
	int rc;

	if ((rc = user_exists(c, d->user)) != ST_OK)
		return rc;
	nc_device_id(dev, d->pk);
	/* Adding a known device again changes nothing (it stays listed). */
	OK(sqldb_exec(c, Q_DEV_ADD, "tbb", d->user, dev, (size_t)NC_DEVID_LEN,
	    d->pk, (size_t)NC_PK_LEN));
	if (count(c, Q_DEV_COUNT, d->user, NULL) > s->lim.devices_max)
		return ST_FULL;
	return ST_OK;
}

static int
sq_device_add(struct store *s, const char *user, const uint8_t pk[NC_PK_LEN])
{
	struct devadd d = { user, pk };

	return submit(s, j_device_add, NULL, &d);
}

static int
sq_device_key(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    uint8_t pk[NC_PK_LEN])
{
	struct sqldb *c = rget(s);
	struct devstate d;
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL)
		return ST_ERR;
	if ((rc = devstate(c, user, dev, &d)) == ST_OK) {
		st = sqldb_q(c, Q_DEV_GET, "tb", user, dev, (size_t)NC_DEVID_LEN);
		rc = sqldb_step(st) == SQLITE_ROW &&
		    sqldb_blob(st, 0, pk, NC_PK_LEN) == 0 ? ST_OK : ST_ERR;
		if (st)
			sqlite3_reset(st);
	}
	rput(s, c);
	return rc;
}

static int
sq_device_joining(struct store *s, const char *user,
    const uint8_t dev[NC_DEVID_LEN], uint8_t pk[NC_PK_LEN])
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_DEV_GET, "tb", user, dev,
	    (size_t)NC_DEVID_LEN)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = sqlite3_column_int(st, 1) != 0 ? ST_GONE :
		    sqldb_blob(st, 0, pk, NC_PK_LEN) == 0 ? ST_OK : ST_ERR;
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

/* ---- identity-key backups ---- */

struct idbput {
	const char *user;
	const uint8_t *p;
	size_t n;
};

static int
j_idbackup_put(struct store *s, struct sqldb *c, void *arg)
{
	struct idbput *b = arg;
	int rc;

	(void)s;
	if ((rc = user_exists(c, b->user)) != ST_OK)
		return rc;
	OK(sqldb_exec(c, Q_IDB_PUT, "tb", b->user, b->p, b->n));
	return ST_OK;
}

static int
sq_idbackup_put(struct store *s, const char *user, const uint8_t *p, size_t n)
{
	struct idbput b = { user, p, n };

	return submit(s, j_idbackup_put, NULL, &b);
}

static int
sq_idbackup_get(struct store *s, const char *user, nc_buf *out)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_IDB_GET, "t", user)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = nc_buf_add(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0)) == 0 ? ST_OK : ST_ERR;
		break;
	case SQLITE_DONE:
		rc = ST_OK;   /* none: empty */
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

struct dlput {
	const char *user;
	uint64_t version;
	const uint8_t *identity, *list;
	size_t len, ndev;
	const uint8_t (*dev)[NC_DEVID_LEN];
	const uint8_t (*pk)[NC_PK_LEN];
	const struct store_kt_leaf *kt;
};

static int
j_devlist_put(struct store *s, struct sqldb *c, void *arg)
{
	struct dlput *p = arg;
	sqlite3_stmt *st = sqldb_q(c, Q_USER_DL, "t", p->user);
	uint8_t id[NC_PK_LEN];
	uint64_t cur;
	int rc, pinned;

	if ((rc = sqldb_step(st)) != SQLITE_ROW) {
		if (st)
			sqlite3_reset(st);
		return rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	}
	cur = (uint64_t)sqlite3_column_int64(st, 0);
	pinned = sqldb_blob(st, 1, id, NC_PK_LEN) == 0;
	sqlite3_reset(st);
	if (p->version <= cur)
		return ST_CONFLICT;
	if (pinned && memcmp(id, p->identity, NC_PK_LEN) != 0)
		return ST_FORBIDDEN;
	OK(sqldb_exec(c, Q_USER_DL_SET, "ibbt", (int64_t)p->version, p->identity,
	    (size_t)NC_PK_LEN, p->list, p->len, p->user));
	OK(sqldb_exec(c, Q_DEV_UNLIST, "t", p->user));
	for (size_t i = 0; i < p->ndev; i++)
		OK(sqldb_exec(c, Q_DEV_INS, "tbbi", p->user, p->dev[i],
		    (size_t)NC_DEVID_LEN, p->pk[i], (size_t)NC_PK_LEN, (int64_t)1));
	/* A device the list no longer names is revoked: its mailbox and
	 * prekeys go with it (protocol.md 1.4). */
	OK(sqldb_exec(c, Q_DEV_PURGE_MAIL, "t", p->user));
	OK(sqldb_exec(c, Q_DEV_PURGE_OTPK, "t", p->user));
	OK(sqldb_exec(c, Q_DEV_PURGE_PUSH, "t", p->user));
	OK(sqldb_exec(c, Q_DEV_PURGE, "t", p->user));
	s->kt_grew = 1;
	return ktdb_append(c, p->user, p->version, p->kt);
}

static int
sq_devlist_put(struct store *s, const char *user, uint64_t version,
    const uint8_t identity[NC_PK_LEN], const uint8_t *list, size_t len,
    const uint8_t (*dev)[NC_DEVID_LEN], const uint8_t (*pk)[NC_PK_LEN], size_t ndev,
    const struct store_kt_leaf *kt)
{
	struct dlput p = { user, version, identity, list, len, ndev, dev, pk, kt };

	if (kt == NULL)
		return ST_ERR;   /* every accepted list is logged */
	if (version > INT64_MAX)
		return ST_CONFLICT;
	return submit(s, j_devlist_put, NULL, &p);
}

static int
sq_devlist_get(struct store *s, const char *user, nc_buf *out, uint64_t *version)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_USER_DL, "t", user)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		*version = (uint64_t)sqlite3_column_int64(st, 0);
		rc = ST_NOTFOUND;
		if (*version > 0)
			rc = nc_buf_add(out, sqlite3_column_blob(st, 2),
			    (size_t)sqlite3_column_bytes(st, 2)) == 0 ? ST_OK : ST_ERR;
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

/* ---- the encrypted backup slot ---- */

struct bkrput {
	const char *user;
	const struct store_backup_rec *v;
	size_t n;
};

static int
j_backup_rec_put(struct store *s, struct sqldb *c, void *arg)
{
	struct bkrput *b = arg;
	sqlite3_stmt *st;
	int64_t n = 0, bytes = 0;
	int rc;

	if ((rc = user_exists(c, b->user)) != ST_OK)
		return rc;
	if ((st = sqldb_q(c, Q_BKR_USAGE, "t", b->user)) == NULL)
		return ST_ERR;
	if (sqldb_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		bytes = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	/* A record held already is no new use of the quota: a retry into a
	 * slot exactly full succeeds (the job's savepoint takes back a
	 * record stored past the limits). */
	for (size_t i = 0; i < b->n; i++) {
		const struct store_backup_rec *r = &b->v[i];
		OK(sqldb_exec(c, Q_BKR_PUT, "tbb", b->user, r->hash, (size_t)32, r->p, r->n));
		if (sqldb_changes(c) == 1) {   /* new, not held already */
			if ((uint64_t)n >= s->lim.backup_records ||
			    (uint64_t)bytes + r->n > s->lim.backup_bytes)
				return ST_FULL;
			n++;
			bytes += (int64_t)r->n;
		}
	}
	return ST_OK;
}

static int
sq_backup_rec_put(struct store *s, const char *user, const struct store_backup_rec *v,
    size_t n)
{
	struct bkrput b = { user, v, n };

	return submit(s, j_backup_rec_put, NULL, &b);
}

static int
sq_backup_rec_get(struct store *s, const char *user, const uint8_t hash[32],
    nc_buf *out)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_BKR_GET, "tb", user, hash,
	    (size_t)32)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = nc_buf_add(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0)) == 0 ? ST_OK : ST_ERR;
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

struct bkhput {
	const char *user;
	const struct store_backup_head *h;
};

static int
j_backup_head_put(struct store *s, struct sqldb *c, void *arg)
{
	struct bkhput *b = arg;
	const struct store_backup_head *h = b->h;
	sqlite3_stmt *st;
	int rc;

	(void)s;
	if ((rc = user_exists(c, b->user)) != ST_OK)
		return rc;
	if ((st = sqldb_q(c, Q_BK_GET, "t", b->user)) == NULL)
		return ST_ERR;
	rc = sqldb_step(st);
	if (rc == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) >= h->counter)
		rc = ST_CONFLICT;
	else
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : ST_ERR;
	sqlite3_reset(st);
	if (rc != ST_OK)
		return rc;
	/* Every record the manifest lists must be here; the rest go. The
	 * list goes into a temporary table of this connection (in memory):
	 * marks in the records' rows rewrote every record twice, 40 MB of
	 * log for 1,500 records of 14 KB at each incremental backup. */
	if (sqlite3_exec(c->db, "CREATE TEMP TABLE IF NOT EXISTS bk_keep(hash BLOB"
	    " PRIMARY KEY) WITHOUT ROWID", NULL, NULL, NULL) != SQLITE_OK)
		return ST_ERR;
	OK(sqldb_exec(c, Q_BKK_CLEAR, ""));
	for (size_t i = 0; i < h->n; i++) {
		st = sqldb_q(c, Q_BKR_HAS, "tb", b->user, h->hashes[i], (size_t)32);
		rc = sqldb_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return ST_STALE;
		if (rc != SQLITE_ROW)
			return ST_ERR;
		OK(sqldb_exec(c, Q_BKK_ADD, "b", h->hashes[i], (size_t)32));
	}
	OK(sqldb_exec(c, Q_BKR_PRUNE, "t", b->user));
	OK(sqldb_exec(c, Q_BKK_CLEAR, ""));
	OK(sqldb_exec(c, Q_BK_SET, "tibbb", b->user, (int64_t)h->counter, h->access,
	    (size_t)32, h->keys, h->keys_len, h->manifest, h->manifest_len));
	return ST_OK;
}

static int
sq_backup_head_put(struct store *s, const char *user,
    const struct store_backup_head *h)
{
	struct bkhput b = { user, h };

	if (h->counter > INT64_MAX)
		return ST_CONFLICT;
	return submit(s, j_backup_head_put, NULL, &b);
}

static int
sq_backup_head_get(struct store *s, const char *user, uint8_t access[32],
    nc_buf *keys, nc_buf *manifest)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_BK_GET, "t", user)) == NULL)
		goto out;
	switch (sqldb_step(st)) {
	case SQLITE_ROW:
		rc = sqldb_blob(st, 1, access, 32) == 0 &&
		    (keys == NULL || nc_buf_add(keys, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) == 0) &&
		    (manifest == NULL || nc_buf_add(manifest, sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3)) == 0) ? ST_OK : ST_ERR;
		break;
	case SQLITE_DONE:
		rc = ST_NOTFOUND;
		break;
	}
	sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

/* ---- the key log (store_kt.c) ---- */

static void
sq_kt_keys(struct store *s, const uint8_t *log_sk, const char *domain)
{
	pthread_mutex_lock(&s->mu);   /* the writer reads them under it... */
	s->kt_sk = log_sk;
	s->kt_domain = domain;
	pthread_mutex_unlock(&s->mu); /* ...taking a batch: set before it */
}

static int64_t
sq_kt_size(struct store *s)
{
	struct sqldb *c = rget(s);
	int64_t n = c ? ktdb_size(c) : -1;

	rput(s, c);
	return n;
}

static int
sq_kt_prove(struct store *s, const char *user, uint64_t version, uint64_t since,
    nc_kt_proof *p)
{
	struct sqldb *c = rget(s);
	int rc = c ? ktdb_prove(c, user, version, since, p) : ST_ERR;

	rput(s, c);
	return rc;
}

static int
sq_kt_head(struct store *s, nc_kt_head *h)
{
	struct sqldb *c = rget(s);
	int rc = c ? ktdb_head(c, h) : ST_ERR;

	rput(s, c);
	return rc;
}

static int
sq_kt_consistency(struct store *s, uint64_t from, uint64_t to, nc_kt_cons *out)
{
	struct sqldb *c = rget(s);
	int rc = c ? ktdb_consistency(c, from, to, out) : ST_ERR;

	rput(s, c);
	return rc;
}

static int
sq_kt_entries(struct store *s, uint64_t start, size_t count, nc_kt_entries *e)
{
	struct sqldb *c = rget(s);
	int rc = c ? ktdb_entries(c, start, count, e) : ST_ERR;

	rput(s, c);
	return rc;
}

static int
sq_kt_label(struct store *s, const char *user, uint64_t version,
    nc_kt_labelproof *l)
{
	struct sqldb *c = rget(s);
	int rc = c ? ktdb_label(c, user, version, l) : ST_ERR;

	rput(s, c);
	return rc;
}

struct ktfill {
	char user[NC_NAME_MAX + 1];
	uint64_t version;
	struct store_kt_leaf leaf;
};

/* Appends f's leaf if its version is still the user's and unlogged. */
static int
j_kt_fill(struct store *s, struct sqldb *c, void *arg)
{
	struct ktfill *f = arg;
	sqlite3_stmt *st = sqldb_q(c, Q_USER_DL, "t", f->user);
	nc_kt_labelproof l;
	int rc = sqldb_step(st);
	uint64_t cur = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;

	if (st)
		sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ST_ERR;
	if (cur != f->version || (rc = ktdb_label(c, f->user, f->version, &l)) == ST_OK)
		return ST_OK;
	if (rc != ST_NOTFOUND)
		return rc;
	s->kt_grew = 1;
	return ktdb_append(c, f->user, f->version, &f->leaf);
}

static int
sq_kt_backfill(struct store *s, store_kt_fill_fn fn, void *arg)
{
	static const char q[] = "SELECT name, dl_version, identity, dl FROM users u"
	    " WHERE dl_version > 0 AND NOT EXISTS (SELECT 1 FROM kt_leaves k"
	    " WHERE k.user = u.name AND k.version = u.dl_version) ORDER BY name";
	struct sqldb *c = rget(s);
	sqlite3_stmt *st = NULL;
	struct ktfill f;
	uint8_t id[NC_PK_LEN];
	const char *name;
	int rc = ST_ERR;

	if (c == NULL || sqlite3_prepare_v2(c->db, q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqldb_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if (name == NULL || strlen(name) > NC_NAME_MAX ||
		    sqldb_blob(st, 2, id, NC_PK_LEN) != 0)
			continue;   /* nothing a list was accepted for */
		snprintf(f.user, sizeof f.user, "%s", name);
		f.version = (uint64_t)sqlite3_column_int64(st, 1);
		if (fn(arg, f.user, f.version, id, sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3), &f.leaf) != 0 ||
		    submit(s, j_kt_fill, NULL, &f) != ST_OK)
			break;
	}
	rc = rc == SQLITE_DONE ? ST_OK : ST_ERR;
out:
	sqlite3_finalize(st);
	rput(s, c);
	return rc;
}

/* ---- prekeys ---- */

struct pkput {
	const char *user;
	const uint8_t *dev;
	const struct nc_prekeys *k;
};

static int
j_prekeys_put(struct store *s, struct sqldb *c, void *arg)
{
	struct pkput *p = arg;
	struct devstate d;
	int rc;

	if ((rc = devstate(c, p->user, p->dev, &d)) != ST_OK)
		return rc;
	if (p->k->has_spk)
		OK(sqldb_exec(c, Q_DEV_SPK, "ibbtb", (int64_t)p->k->spk_id,
		    p->k->spk_pk, (size_t)NC_PK_LEN, p->k->spk_sig,
		    (size_t)NC_SIG_LEN, p->user, p->dev, (size_t)NC_DEVID_LEN));
	for (size_t i = 0; i < p->k->n; i++)
		OK(sqldb_exec(c, Q_OTPK_INS, "tbib", p->user, p->dev,
		    (size_t)NC_DEVID_LEN, (int64_t)p->k->otpk[i].id,
		    p->k->otpk[i].pk, (size_t)NC_PK_LEN));
	if (count(c, Q_OTPK_COUNT, p->user, p->dev) > s->lim.otpk_max)
		return ST_FULL;
	return ST_OK;
}

static int
sq_prekeys_put(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_prekeys *k)
{
	struct pkput p = { user, dev, k };

	return submit(s, j_prekeys_put, NULL, &p);
}

static int
sq_prekeys_count(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    struct nc_prekey_count *pc)
{
	struct sqldb *c = rget(s);
	struct devstate d;
	int64_t n;
	int rc;

	if (c == NULL)
		return ST_ERR;
	if ((rc = devstate(c, user, dev, &d)) == ST_OK) {
		pc->spk_id = d.has_spk ? (uint32_t)d.spk_id : 0;
		n = count(c, Q_OTPK_COUNT, user, dev);
		pc->otpk_count = (uint32_t)n;
		rc = n < 0 ? ST_ERR : ST_OK;
	}
	rput(s, c);
	return rc;
}

struct ctr {
	const char *user;
	const uint8_t *dev;
	const struct nc_counter_req *q;
	struct nc_counter *out;
};

/* Compare and set: (n, tag) becomes (n + 1, next); the same request again
 * (its answer lost) finds (n + 1, next) and succeeds again. Otherwise
 * ST_CONFLICT and out is what the relay holds. */
static int
j_counter(struct store *s, struct sqldb *c, void *arg)
{
	struct ctr *k = arg;
	struct devstate d;
	sqlite3_stmt *st;
	int rc, write;

	(void)s;
	if ((rc = devstate(c, k->user, k->dev, &d)) != ST_OK)
		return rc;
	memset(k->out, 0, sizeof *k->out);
	if ((st = sqldb_q(c, Q_CTR_GET, "tb", k->user, k->dev,
	    (size_t)NC_DEVID_LEN)) == NULL)
		return ST_ERR;
	if ((rc = sqldb_step(st)) == SQLITE_ROW) {
		k->out->n = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqldb_blob(st, 1, k->out->tag, 16) != 0)
			rc = SQLITE_ERROR;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ST_ERR;
	if ((rc = store_counter_next(k->out, k->q, &write)) != ST_OK || !write)
		return rc;
	OK(sqldb_exec(c, Q_CTR_SET, "tbib", k->user, k->dev, (size_t)NC_DEVID_LEN,
	    (int64_t)k->out->n, k->out->tag, (size_t)16));
	if (k->q->flags & NC_COUNTER_DROP_OTPK)
		OK(sqldb_exec(c, Q_OTPK_DELDEV, "tb", k->user, k->dev,
		    (size_t)NC_DEVID_LEN));
	return ST_OK;
}

static int
sq_counter(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_counter_req *q, struct nc_counter *out)
{
	struct ctr k = { user, dev, q, out };

	return submit(s, j_counter, NULL, &k);
}

/* ---- push endpoints (protocol.md 1.12) ---- */

struct pushset {
	const char *user;
	const uint8_t *dev;
	const char *url;
	int drop;   /* only while it is still url */
};

static int
j_push(struct store *s, struct sqldb *c, void *arg)
{
	struct pushset *k = arg;
	struct devstate d;
	int rc;

	(void)s;
	if (k->drop)
		OK(sqldb_exec(c, Q_PUSH_DROP, "tbt", k->user, k->dev, (size_t)NC_DEVID_LEN,
		    k->url));
	else if ((rc = devstate(c, k->user, k->dev, &d)) != ST_OK)
		return rc;
	else if (k->url == NULL)
		OK(sqldb_exec(c, Q_PUSH_DEL, "tb", k->user, k->dev, (size_t)NC_DEVID_LEN));
	else
		OK(sqldb_exec(c, Q_PUSH_SET, "tbt", k->user, k->dev, (size_t)NC_DEVID_LEN,
		    k->url));
	return ST_OK;
}

static int
sq_push_set(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const char *url)
{
	struct pushset k = { user, dev, url, 0 };

	return submit(s, j_push, NULL, &k);
}

static int
sq_push_drop(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const char *url)
{
	struct pushset k = { user, dev, url, 1 };

	return submit(s, j_push, NULL, &k);
}

static int
sq_push_get(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    char *out, size_t n)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	const unsigned char *u;
	int rc = ST_ERR;

	if (c == NULL)
		return ST_ERR;
	if ((st = sqldb_q(c, Q_PUSH_GET, "tb", user, dev, (size_t)NC_DEVID_LEN)) != NULL) {
		switch (sqldb_step(st)) {
		case SQLITE_ROW:
			u = sqlite3_column_text(st, 0);
			if (u != NULL && (size_t)sqlite3_column_bytes(st, 0) < n) {
				memcpy(out, u, (size_t)sqlite3_column_bytes(st, 0) + 1);
				rc = ST_OK;
			}
			break;
		case SQLITE_DONE:
			rc = ST_NOTFOUND;
			break;
		}
		sqlite3_reset(st);
	}
	rput(s, c);
	return rc;
}

struct claim {
	const char *user;
	const struct nc_claim_req *q;
	struct nc_claim_resp *r;
};

static int
claim_one(struct sqldb *c, const char *user, const uint8_t *dev, struct nc_claim_resp *r)
{
	struct devstate d;
	struct nc_bundle *b;
	sqlite3_stmt *st;
	int rc;

	if ((rc = devstate(c, user, dev, &d)) != ST_OK)
		return rc;
	if (!d.has_spk || r->n >= NC_CLAIM_MAX)
		return ST_OK;
	b = &r->b[r->n++];
	memset(b, 0, sizeof *b);
	memcpy(b->dev, dev, NC_DEVID_LEN);
	b->spk_id = (uint32_t)d.spk_id;
	memcpy(b->spk_pk, d.spk_pk, NC_PK_LEN);
	memcpy(b->spk_sig, d.spk_sig, NC_SIG_LEN);
	st = sqldb_q(c, Q_OTPK_TAKE, "tb", user, dev, (size_t)NC_DEVID_LEN);
	rc = sqldb_step(st);
	if (rc == SQLITE_ROW && sqldb_blob(st, 1, b->otpk_pk, NC_PK_LEN) == 0) {
		b->has_otpk = 1;
		b->otpk_id = (uint32_t)sqlite3_column_int64(st, 0);
	}
	if (st)
		sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : ST_ERR;
}

static int
j_claim(struct store *s, struct sqldb *c, void *arg)
{
	struct claim *k = arg;
	uint8_t devs[NC_CLAIM_MAX][NC_DEVID_LEN];
	size_t n = 0;
	sqlite3_stmt *st;
	int rc;

	(void)s;
	k->r->n = 0;
	if ((rc = user_exists(c, k->user)) != ST_OK)
		return rc;
	if (k->q->n > 0) {
		for (size_t i = 0; i < k->q->n; i++)
			if ((rc = claim_one(c, k->user, k->q->dev[i], k->r)) != ST_OK)
				return rc;
		return ST_OK;
	}
	/* Every current device: listed ones once a list exists. */
	st = sqldb_q(c, Q_DEV_LIST, "ti", k->user, (int64_t)0);
	while (sqldb_step(st) == SQLITE_ROW && n < NC_CLAIM_MAX)
		if (sqldb_blob(st, 0, devs[n], NC_DEVID_LEN) == 0)
			n++;
	if (st)
		sqlite3_reset(st);
	if (n == 0) {   /* no list yet: the registered devices */
		st = sqldb_q(c, Q_DEV_LIST, "ti", k->user, (int64_t)1);
		while (sqldb_step(st) == SQLITE_ROW && n < NC_CLAIM_MAX)
			if (sqldb_blob(st, 0, devs[n], NC_DEVID_LEN) == 0)
				n++;
		if (st)
			sqlite3_reset(st);
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = claim_one(c, k->user, devs[i], k->r)) != ST_OK)
			return rc;
	return ST_OK;
}

static int
sq_claim(struct store *s, const char *user, const struct nc_claim_req *q,
    struct nc_claim_resp *r)
{
	struct claim k = { user, q, r };

	return submit(s, j_claim, NULL, &k);
}

/* ---- mailboxes ---- */

struct deliver {
	const char *user;
	const struct store_env *e;
	size_t n;
	const uint64_t *version;
	uint64_t cur;
	int64_t now;
};

static int store_one(struct store *s, struct sqldb *c, struct deliver *d,
    const char *user, const struct store_env *e, const struct devstate *ds,
    const uint8_t *env, size_t len);

static int
deliver_one(struct store *s, struct sqldb *c, struct deliver *d,
    const struct store_env *e)
{
	struct devstate ds;
	const char *user = e->user ? e->user : d->user;
	const uint64_t *version = e->user ? e->version : d->version;
	const uint8_t *env;
	size_t len;
	uint8_t *joined;
	int rc;

	if ((rc = devstate(c, user, e->dev, &ds)) != ST_OK)
		return rc;
	d->cur = ds.dl_version;
	if (version != NULL && *version != ds.dl_version)
		return ST_STALE;
	if ((env = store_env_bytes(e, &len, &joined)) == NULL)
		return ST_ERR;
	rc = store_one(s, c, d, user, e, &ds, env, len);
	free(joined);
	return rc;
}

static int
store_one(struct store *s, struct sqldb *c, struct deliver *d, const char *user,
    const struct store_env *e, const struct devstate *ds, const uint8_t *env,
    size_t len)
{
	uint8_t h[32], old[32];
	sqlite3_stmt *st;
	int rc;

	crypto_generichash(h, sizeof h, env, len, NULL, 0);
	st = sqldb_q(c, Q_MAIL_HASH, "tbb", user, e->dev, (size_t)NC_DEVID_LEN,
	    e->envid, (size_t)NC_ENVID_LEN);
	rc = sqldb_step(st);
	if (rc == SQLITE_ROW)
		rc = sqldb_blob(st, 0, old, sizeof old) == 0 &&
		    memcmp(old, h, sizeof h) == 0 ? ST_OK : ST_CONFLICT;
	else
		rc = rc == SQLITE_DONE ? -1 : ST_ERR;
	if (st)
		sqlite3_reset(st);
	if (rc != -1)
		return rc;   /* stored before (idempotent), conflict or error */
	if (ds->mail_n + 1 > s->lim.mail_count ||
	    (uint64_t)ds->mail_bytes + len > s->lim.mail_bytes)
		return ST_FULL;
	OK(sqldb_exec(c, Q_MAIL_INS, "tbbbib", user, e->dev, (size_t)NC_DEVID_LEN,
	    e->envid, (size_t)NC_ENVID_LEN, h, sizeof h, d->now, env, len));
	OK(sqldb_exec(c, Q_DEV_MAILQ, "iitb", (int64_t)1, (int64_t)len, user,
	    e->dev, (size_t)NC_DEVID_LEN));
	return ST_OK;
}

static int
j_deliver(struct store *s, struct sqldb *c, void *arg)
{
	struct deliver *d = arg;
	int rc;

	for (size_t i = 0; i < d->n; i++)
		if ((rc = deliver_one(s, c, d, &d->e[i])) != ST_OK)
			return rc;
	return ST_OK;
}

static void
after_deliver(struct store *s, void *arg)
{
	struct deliver *d = arg;

	if (s->on_mail)
		for (size_t i = 0; i < d->n; i++)
			s->on_mail(s->mail_arg, d->user ? d->user : d->e[i].user,
			    d->e[i].dev, 0);
}

static int
sq_deliver(struct store *s, const char *user, const struct store_env *e,
    size_t n, const uint64_t *version, uint64_t *cur, int64_t now)
{
	struct deliver d = { user, e, n, version, 0, now };
	int rc = submit(s, j_deliver, after_deliver, &d);

	if (cur)
		*cur = d.cur;
	return rc;
}

static int
sq_list(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    uint64_t after, unsigned limit, store_row_fn row, void *arg)
{
	struct sqldb *c = rget(s);
	struct devstate d;
	sqlite3_stmt *st;
	uint8_t envid[NC_ENVID_LEN];
	int rc;

	if (c == NULL)
		return ST_ERR;
	if ((rc = devstate(c, user, dev, &d)) == ST_GONE)
		rc = ST_OK;   /* a device dropped from the list may still drain */
	if (rc != ST_OK || after > INT64_MAX)
		goto out;
	st = sqldb_q(c, Q_MAIL_LIST, "tbii", user, dev, (size_t)NC_DEVID_LEN,
	    (int64_t)after, (int64_t)limit);
	while ((rc = sqldb_step(st)) == SQLITE_ROW) {
		if (sqldb_blob(st, 1, envid, sizeof envid) != 0)
			continue;
		if (row(arg, (uint64_t)sqlite3_column_int64(st, 0), envid,
		    (uint64_t)sqlite3_column_int64(st, 2), sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3)) != 0)
			break;
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : ST_ERR;
	if (st)
		sqlite3_reset(st);
out:
	rput(s, c);
	return rc;
}

struct ack {
	const char *user;
	const uint8_t *dev;
	const struct nc_ack *a;
};

static int
j_ack(struct store *s, struct sqldb *c, void *arg)
{
	struct ack *k = arg;
	struct devstate d;
	sqlite3_stmt *st;
	int64_t n = 0, bytes = 0;
	int rc;

	(void)s;
	if ((rc = devstate(c, k->user, k->dev, &d)) != ST_OK && rc != ST_GONE)
		return rc;
	for (size_t i = 0; i < k->a->n; i++) {
		st = sqldb_q(c, Q_MAIL_ACK, "tbb", k->user, k->dev,
		    (size_t)NC_DEVID_LEN, k->a->envid[i], (size_t)NC_ENVID_LEN);
		if ((rc = sqldb_step(st)) == SQLITE_ROW) {
			n++;
			bytes += sqlite3_column_int64(st, 0);
		}
		if (st)
			sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return ST_ERR;
	}
	OK(sqldb_exec(c, Q_DEV_MAILQ, "iitb", -n, -bytes, k->user, k->dev,
	    (size_t)NC_DEVID_LEN));
	return ST_OK;
}

static int
sq_ack(struct store *s, const char *user, const uint8_t dev[NC_DEVID_LEN],
    const struct nc_ack *a)
{
	struct ack k = { user, dev, a };

	return submit(s, j_ack, NULL, &k);
}

/* ---- blobs (the files: blobfs.c) ---- */

static int
sq_blob_tmp(struct store *s, char *path, size_t n, int *fd)
{
	return blobfs_tmp(s->blobdir, path, n, fd);
}

struct blobput {
	const uint8_t *id, *delhash;
	const char *tmp;
	uint64_t size;
	int64_t expires;
};

static int
j_blob_put(struct store *s, struct sqldb *c, void *arg)
{
	struct blobput *b = arg;
	sqlite3_stmt *st = sqldb_q(c, Q_BLOB_GET, "b", b->id, (size_t)32);
	int rc = sqldb_step(st);

	if (st)
		sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return ST_EXISTS;
	if (rc != SQLITE_DONE)
		return ST_ERR;
	OK(sqldb_exec(c, Q_BLOB_INS, "bbii", b->id, (size_t)32, b->delhash,
	    (size_t)32, (int64_t)b->size, b->expires));
	return blobfs_link(s->blobdir, b->id, b->tmp) == 0 ? ST_OK : ST_ERR;
}

static int
sq_blob_put(struct store *s, const uint8_t id[32], const char *tmp, uint64_t size,
    const uint8_t delhash[32], int64_t expires)
{
	struct blobput b = { id, delhash, tmp, size, expires };

	if (blobfs_sync_file(tmp) != 0 || size > INT64_MAX)
		return ST_ERR;
	return submit(s, j_blob_put, NULL, &b);
}

static int
sq_blob_open(struct store *s, const uint8_t id[32], int64_t now, int *fd,
    uint64_t *size)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c == NULL || (st = sqldb_q(c, Q_BLOB_GET, "b", id, (size_t)32)) == NULL)
		goto out;
	rc = sqldb_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 2) >= now) {
		*size = (uint64_t)sqlite3_column_int64(st, 1);
		rc = ST_OK;
	} else
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	sqlite3_reset(st);
	if (rc == ST_OK)
		rc = blobfs_open(s->blobdir, id, fd);
out:
	rput(s, c);
	return rc;
}

struct blobdel {
	const uint8_t *id, *delhash;
};

static int
j_blob_delete(struct store *s, struct sqldb *c, void *arg)
{
	struct blobdel *b = arg;
	sqlite3_stmt *st = sqldb_q(c, Q_BLOB_GET, "b", b->id, (size_t)32);
	uint8_t h[32];
	int rc = sqldb_step(st);

	(void)s;
	if (rc == SQLITE_ROW)
		rc = sqldb_blob(st, 0, h, sizeof h) == 0 &&
		    sodium_memcmp(h, b->delhash, 32) == 0 ? ST_OK : ST_FORBIDDEN;
	else
		rc = rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	if (st)
		sqlite3_reset(st);
	if (rc != ST_OK)
		return rc;
	OK(sqldb_exec(c, Q_BLOB_DEL, "b", b->id, (size_t)32));
	return ST_OK;
}

static void
after_blob_delete(struct store *s, void *arg)
{
	struct blobdel *b = arg;

	blobfs_unlink(s->blobdir, b->id);
}

static int
sq_blob_delete(struct store *s, const uint8_t id[32], const uint8_t delhash[32])
{
	struct blobdel b = { id, delhash };

	return submit(s, j_blob_delete, after_blob_delete, &b);
}

/* ---- resumable uploads: the row first, then ID.part (blobfs.c) ---- */

struct blobnew {
	const uint8_t *id, *delhash;
	uint64_t length;
	int64_t expires;
};

static int
j_blob_create(struct store *s, struct sqldb *c, void *arg)
{
	struct blobnew *b = arg;
	sqlite3_stmt *st = sqldb_q(c, Q_BLOB_GET, "b", b->id, (size_t)32);
	int rc = sqldb_step(st);

	if (st)
		sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return ST_EXISTS;
	if (rc != SQLITE_DONE)
		return ST_ERR;
	if (blobfs_new_part(s->blobdir, b->id, b->length) != 0)
		return ST_ERR;
	OK(sqldb_exec(c, Q_BLOB_INS, "bbii", b->id, (size_t)32, b->delhash,
	    (size_t)32, (int64_t)b->length, b->expires));
	return ST_OK;
}

static int
sq_blob_create(struct store *s, const uint8_t id[32], uint64_t length,
    const uint8_t delhash[32], int64_t expires)
{
	struct blobnew b = { id, delhash, length, expires };

	if (length > INT64_MAX)
		return ST_ERR;
	return submit(s, j_blob_create, NULL, &b);
}

/* The row's length, if it is there and not expired. */
static int
blob_row(struct store *s, const uint8_t id[32], int64_t now, uint64_t *length)
{
	struct sqldb *c = rget(s);
	sqlite3_stmt *st;
	int rc = ST_ERR;

	if (c != NULL && (st = sqldb_q(c, Q_BLOB_GET, "b", id, (size_t)32)) != NULL) {
		rc = sqldb_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_int64(st, 2) >= now) {
			*length = (uint64_t)sqlite3_column_int64(st, 1);
			rc = ST_OK;
		} else
			rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
		sqlite3_reset(st);
	}
	rput(s, c);
	return rc;
}

static int
sq_blob_offset(struct store *s, const uint8_t id[32], int64_t now,
    uint64_t *off, uint64_t *length)
{
	int rc = blob_row(s, id, now, length);

	return rc != ST_OK ? rc : blobfs_offset(s->blobdir, id, *length, off);
}

static int
sq_blob_part(struct store *s, const uint8_t id[32], uint64_t off, uint64_t n,
    struct blob_w *w)
{
	uint64_t cur;

	return blobfs_part_begin(s->blobdir, id, off, n, 0, w, &cur);
}

static int
sq_blob_append(struct store *s, const uint8_t id[32], uint64_t off,
    const char *tmp, struct blob_w *w, uint64_t n, int64_t now, uint64_t *cur)
{
	uint64_t length;
	int rc = blob_row(s, id, now, &length);

	*cur = 0;
	if (rc != ST_OK)
		return rc;
	return blobfs_append(s->blobdir, id, off, tmp, w, n, length, cur);
}

struct sweep {
	int64_t now;
	uint8_t (*ids)[32];
	size_t n, cap;
};

static int
j_sweep(struct store *s, struct sqldb *c, void *arg)
{
	struct sweep *w = arg;
	sqlite3_stmt *st;
	void *p;

	(void)s;
	OK(sqldb_exec(c, Q_NON_SWEEP, "i", w->now));
	OK(sqldb_exec(c, Q_LINK_SWEEP, "i", w->now));
	st = sqldb_q(c, Q_BLOB_EXPIRED, "i", w->now);
	while (sqldb_step(st) == SQLITE_ROW) {
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 64;
			if ((p = realloc(w->ids, w->cap * 32)) == NULL)
				break;
			w->ids = p;
		}
		if (sqldb_blob(st, 0, w->ids[w->n], 32) == 0)
			w->n++;
	}
	if (st)
		sqlite3_reset(st);
	return ST_OK;
}

static void
after_sweep(struct store *s, void *arg)
{
	struct sweep *w = arg;

	for (size_t i = 0; i < w->n; i++)
		blobfs_unlink(s->blobdir, w->ids[i]);
}

static int
sq_sweep(struct store *s, int64_t now)
{
	struct sweep w = { now, NULL, 0, 0 };
	int rc = submit(s, j_sweep, after_sweep, &w);

	free(w.ids);
	return rc;
}

/* ---- provisioning boxes (protocol.md 1.11) ---- */

struct linkjob {
	const char *user;
	const uint8_t *box;
	int64_t expires, now;
	const uint8_t *p;
	size_t n;
	nc_buf *out;
};

#define LINKS_OPEN_MAX 4   /* open boxes per user */

/* The box's row: ST_OK (*has_msg, *used set), ST_NOTFOUND when there is
 * none for this user or it expired. */
static int
link_row(struct sqldb *c, const struct linkjob *j, int *has_msg, int *used,
    nc_buf *out)
{
	sqlite3_stmt *st = sqldb_q(c, Q_LINK_GET, "b", j->box, (size_t)NC_LINK_BOX);
	int rc = sqldb_step(st);

	if (rc == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 0);
		rc = u && strcmp(u, j->user) == 0 &&
		    sqlite3_column_int64(st, 1) >= j->now ? ST_OK : ST_NOTFOUND;
		*has_msg = sqlite3_column_type(st, 2) == SQLITE_BLOB;
		*used = sqlite3_column_int(st, 3);
		if (rc == ST_OK && out && *has_msg && nc_buf_add(out,
		    sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2)) != 0)
			rc = ST_ERR;
	} else
		rc = rc == SQLITE_DONE ? ST_NOTFOUND : ST_ERR;
	if (st)
		sqlite3_reset(st);
	return rc;
}

static int
j_link_open(struct store *s, struct sqldb *c, void *arg)
{
	struct linkjob *j = arg;
	sqlite3_stmt *st;
	int rc, has, used;
	int64_t n;

	(void)s;
	if ((rc = user_exists(c, j->user)) != ST_OK)
		return rc;
	if ((rc = link_row(c, j, &has, &used, NULL)) != ST_NOTFOUND)
		return rc == ST_OK ? ST_EXISTS : rc;
	st = sqldb_q(c, Q_LINK_COUNT, "ti", j->user, j->now);
	if (sqldb_step(st) != SQLITE_ROW) {
		if (st)
			sqlite3_reset(st);
		return ST_ERR;
	}
	n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (n >= LINKS_OPEN_MAX)
		return ST_FULL;
	OK(sqldb_exec(c, Q_LINK_SWEEP, "i", j->now));
	OK(sqldb_exec(c, Q_LINK_INS, "bti", j->box, (size_t)NC_LINK_BOX, j->user,
	    j->expires));
	return ST_OK;
}

static int
sq_link_open(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    int64_t expires, int64_t now)
{
	struct linkjob j = { user, box, expires, now, NULL, 0, NULL };

	return submit(s, j_link_open, NULL, &j);
}

static int
j_link_put(struct store *s, struct sqldb *c, void *arg)
{
	struct linkjob *j = arg;
	int rc, has = 0, used = 0;

	(void)s;
	if ((rc = link_row(c, j, &has, &used, NULL)) != ST_OK)
		return rc;
	if (used)
		return ST_GONE;
	if (has)
		return ST_CONFLICT;
	OK(sqldb_exec(c, Q_LINK_SET, "bb", j->p, j->n, j->box, (size_t)NC_LINK_BOX));
	return ST_OK;
}

static int
sq_link_put(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    const uint8_t *p, size_t n, int64_t now)
{
	struct linkjob j = { user, box, 0, now, p, n, NULL };
	int rc = submit(s, j_link_put, NULL, &j);

	if (rc == ST_OK && s->on_mail)   /* a take waiting for it */
		s->on_mail(s->mail_arg, user, box, 1);
	return rc;
}

static int
j_link_take(struct store *s, struct sqldb *c, void *arg)
{
	struct linkjob *j = arg;
	int rc, has = 0, used = 0;

	(void)s;
	if ((rc = link_row(c, j, &has, &used, j->out)) != ST_OK)
		return rc;
	if (used)
		return ST_GONE;
	if (has)
		OK(sqldb_exec(c, Q_LINK_USED, "b", j->box, (size_t)NC_LINK_BOX));
	return ST_OK;
}

static int
sq_link_take(struct store *s, const char *user, const uint8_t box[NC_LINK_BOX],
    int64_t now, nc_buf *out)
{
	struct linkjob j = { user, box, 0, now, NULL, 0, out };

	return submit(s, j_link_take, NULL, &j);
}

/* One relay process per data directory (main.c locks it): rate limits and
 * the replay memory stay in its memory. */
static int
sq_shared_rate(struct store *s, const uint8_t key[16], double rate, double burst,
    double now, unsigned *wait)
{
	(void)s, (void)key, (void)rate, (void)burst, (void)now, (void)wait;
	return ST_ERR;
}

static int
sq_shared_replay(struct store *s, const uint8_t key[16], int64_t expires, int64_t now)
{
	(void)s, (void)key, (void)expires, (void)now;
	return ST_ERR;
}

#define STORE_PREFIX sq
#define STORE_SHARED 0
static const struct store_ops sq_ops = STORE_TABLE;
