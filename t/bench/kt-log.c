/* kt-log.c - the relay's key log, measured on its store (not part of make
 * check; t/bench/kt.sh builds and runs it):
 *   1. appends/s: THREADS writers each publishing device-list versions
 *      through store_devlist_put (each append in the transaction that
 *      stores the list, fsync'd group commits, one signed head per batch),
 *      leaves made beforehand; and the VRF label's cost on one core,
 *      which the relay pays per update on its request threads;
 *   2. proof sizes and times in a log of LEAVES leaves (default 100,000),
 *      and the time a client takes to verify one fetch's proof (a genuine
 *      leaf, its VRF proof, commitment, inclusion and the consistency
 *      proof from a head of half the log, nc_kt_verify).
 * The keys are DIR/kt.key's, as nc-relayd reads them (made when missing),
 * so that a relay can serve the log afterwards (t/bench/kt.sh audits it).
 * Usage: kt-log DIR [LEAVES [THREADS]]; prints "name value unit" lines.
 *        kt-log DIR --append N [THREADS]: N more versions of the same
 *        users' lists in the log a first run made. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kt.h"
#include "store.h"
#include "vrf.h"

#define USERS_PER_THREAD 8

static struct store *st;
static long per_thread;
static long done[64];   /* appends each thread made so far: its versions go on */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of this process (one thread runs at that point): what a
 * verification costs, apart from the other work a shared machine does. */
static double
cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "kt-log: %s\n", what);
	exit(1);
}

static void *
writer(void *arg)
{
	long t = (long)(intptr_t)arg;
	uint8_t idk[32], list[600], dev[1][NC_DEVID_LEN], pk[1][NC_PK_LEN];
	struct store_kt_leaf leaf;
	char user[32];

	memset(idk, (int)t, sizeof idk);
	randombytes_buf(list, sizeof list);
	randombytes_buf(dev, sizeof dev);
	randombytes_buf(pk, sizeof pk);
	for (long i = done[t]; i < done[t] + per_thread; i++) {
		snprintf(user, sizeof user, "u%ld-%ld", t, i % USERS_PER_THREAD);
		randombytes_buf(&leaf, sizeof leaf);
		if (store_devlist_put(st, user, (uint64_t)(i / USERS_PER_THREAD + 1), idk, list,
		    sizeof list, (const uint8_t (*)[NC_DEVID_LEN])dev,
		    (const uint8_t (*)[NC_PK_LEN])pk, 1, &leaf) != ST_OK)
			die("append failed");
	}
	done[t] += per_thread;
	return NULL;
}

/* n appends by nt threads; their rate. */
static double
appends(long n, int nt)
{
	pthread_t th[64];
	double t0 = now();

	per_thread = n / nt;
	for (int i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i) != 0)
			die("thread");
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	return (double)(per_thread * nt) / (now() - t0);
}

/* DIR/kt.key (log seed || VRF seed, as nc-relayd's kt_keys): read, or
 * made when missing. */
static void
keys(const char *dir, uint8_t log_pk[32], uint8_t log_sk[64], uint8_t vrf_seed[32],
    uint8_t vrf_pk[32])
{
	char path[4200];
	uint8_t b[64];
	int fd;

	snprintf(path, sizeof path, "%s/kt.key", dir);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		if (read(fd, b, sizeof b) != (ssize_t)sizeof b)
			die("kt.key");
	} else {
		randombytes_buf(b, sizeof b);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
		    write(fd, b, sizeof b) != (ssize_t)sizeof b || fsync(fd) != 0)
			die("kt.key");
	}
	close(fd);
	crypto_sign_seed_keypair(log_pk, log_sk, b);
	memcpy(vrf_seed, b + 32, 32);
	nc_vrf_public(vrf_pk, vrf_seed);
}

/* The newest version of each writer's first user (its greatest): appends
 * go on from there. */
static void
resume(int nt)
{
	nc_buf b = NC_BUF_INIT;
	uint64_t v;
	char user[32];

	for (int t = 0; t < nt; t++) {
		snprintf(user, sizeof user, "u%d-0", t);
		nc_buf_reset(&b);
		if (store_devlist_get(st, user, &b, &v) != ST_OK)
			die("--append: no log made by kt-log with as many writers here");
		done[t] = (long)v * USERS_PER_THREAD;
	}
	nc_buf_free(&b);
}

int
main(int argc, char **argv)
{
	struct store_limits lim = { 10000, 1 << 20, 1000, 32, 16, 100000, (uint64_t)1 << 30 };
	struct store_account a;
	static nc_kt_proof p;
	static nc_kt_cons k;
	static nc_kt_entries e;
	static uint8_t list[600];
	struct store_kt_leaf g;
	nc_kt_head half;
	uint8_t pk[32], sk[64], seed[32], vrf_pk[32], label[32], vrf[80], idk[32];
	uint8_t dev[1][NC_DEVID_LEN], dpk[1][NC_PK_LEN];
	int append = argc > 2 && strcmp(argv[2], "--append") == 0;
	long leaves = argc > 2 ? atol(argv[append ? 3 : 2]) : 100000;
	int nt = argc > 3 + append ? atoi(argv[3 + append]) : 32;
	nc_buf b = NC_BUF_INIT;
	char user[32];
	double t0, r;
	int64_t size;
	int i, n;

	if (argc < 2 || sodium_init() < 0 || nt < 1 || nt > 64 ||
	    leaves < (append ? 1 : 1000))
		die("usage: kt-log DIR [LEAVES >= 1000 [THREADS 1-64]] | "
		    "DIR --append N [THREADS 1-64]");
	if (store_open(&st, argv[1], &lim, NULL, NULL) != ST_OK)
		die("store_open");
	keys(argv[1], pk, sk, seed, vrf_pk);
	store_kt_keys(st, sk, "a.test");
	if (append) {
		resume(nt);
		r = appends(leaves, nt);
		printf("append_more %ld leaves (%lld in all), %.0f appends/s\n",
		    per_thread * nt, (long long)store_kt_size(st), r);
		store_close(st);
		sodium_memzero(sk, sizeof sk);
		return 0;
	}
	memset(&a, 0, sizeof a);
	for (int t = 0; t < nt; t++)
		for (int u = 0; u < USERS_PER_THREAD; u++) {
			snprintf(user, sizeof user, "u%d-%d", t, u);
			if (store_user_create(st, user, &a, pk, NULL, 0) != ST_OK)
				die("user (an empty DIR, please)");
		}

	/* 1. the append rate: one writer, then nt */
	printf("append_rate_1_writer %.0f appends/s\n", appends(500, 1));
	r = appends(20000 - 500, nt);
	printf("append_rate_%d_writers %.0f appends/s\n", nt, r);
	t0 = now();
	for (n = 0; n < 200; n++)
		if (nc_kt_label(label, vrf, seed, "alice@a.test", (uint64_t)n) != 0)
			die("label");
	printf("vrf_labels_1_core %.0f labels/s\n", n / (now() - t0));

	/* 2. proofs in a log of `leaves`; a client's last head at half */
	if ((size = store_kt_size(st)) < leaves / 2)
		appends(leaves / 2 - size, nt);
	if (store_kt_head(st, &half) != ST_OK)
		die("head");
	if ((size = store_kt_size(st)) < leaves - 1)
		appends(leaves - 1 - size, nt);
	/* the last leaf a genuine one, as the relay makes it (relay_kt_leaf) */
	randombytes_buf(idk, sizeof idk);
	randombytes_buf(list, sizeof list);
	randombytes_buf(dev, sizeof dev);
	randombytes_buf(dpk, sizeof dpk);
	if (store_user_create(st, "v0", &a, pk, NULL, 0) != ST_OK ||
	    nc_kt_label(g.label, g.vrf, seed, "v0@a.test", 1) != 0)
		die("v0");
	randombytes_buf(g.opening, sizeof g.opening);
	nc_kt_commit(g.commitment, g.opening, g.label, idk, list, sizeof list);
	if (store_devlist_put(st, "v0", 1, idk, list, sizeof list,
	    (const uint8_t (*)[NC_DEVID_LEN])dev, (const uint8_t (*)[NC_PK_LEN])dpk, 1,
	    &g) != ST_OK)
		die("v0's list");
	size = store_kt_size(st);
	printf("log_leaves %lld leaves\n", (long long)size);
	t0 = now();
	for (i = 0; i < 200; i++)
		if (store_kt_prove(st, "u3-5", (uint64_t)(1 + i % 50), (uint64_t)(size / 2), &p) !=
		    ST_OK)
			die("prove");
	printf("fetch_proof_time %.0f us\n", (now() - t0) / 200 * 1e6);
	if (store_kt_prove(st, "u3-5", 1, 0, &p) != ST_OK || nc_kt_proof_encode(&b, &p) != 0)
		die("proof");
	printf("fetch_proof_no_since %zu bytes (%zu hashes, header %zu base64 chars)\n", b.len,
	    p.nincl, sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_ORIGINAL) - 1);
	nc_buf_reset(&b);
	if (store_kt_prove(st, "v0", 1, half.size, &p) != ST_OK ||
	    nc_kt_proof_encode(&b, &p) != 0)
		die("proof");
	printf("fetch_proof_with_since %zu bytes (%zu + %zu hashes, header %zu base64 chars)\n",
	    b.len, p.nincl, p.ncons,
	    sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_ORIGINAL) - 1);
	nc_buf_reset(&b);
	/* what a client does with it: 1,000 times */
	t0 = now();
	r = cpu();
	for (i = 0; i < 1000; i++)
		if (nc_kt_verify(&p, pk, vrf_pk, "a.test", "v0@a.test", idk, list, sizeof list,
		    &half) != 0)
			die("the genuine proof did not verify");
	r = cpu() - r;
	printf("client_verify_time %.3f ms\n", (now() - t0) / 1000 * 1e3);
	printf("client_verify_cpu %.3f ms\n", r / 1000 * 1e3);
	t0 = cpu();
	for (i = 0; i < 1000; i++)
		if (nc_vrf_verify(vrf, vrf_pk, p.vrf, (const uint8_t *)"x", 1) == 0)
			die("a VRF proof for another input verified");
	printf("client_vrf_cpu %.3f ms (of it: the VRF proof alone)\n", (cpu() - t0) / 1000 * 1e3);
	/* a fetch of a version whose label was proven before (the client's cache) */
	{
		uint8_t label[NC_KT_LABEL];

		if (nc_kt_verify_label(&p, pk, vrf_pk, "a.test", "v0@a.test", idk, list,
		    sizeof list, &half, label, 0) != 0)
			die("the genuine proof did not verify");
		t0 = cpu();
		for (i = 0; i < 1000; i++)
			if (nc_kt_verify_label(&p, pk, vrf_pk, "a.test", "v0@a.test", idk, list,
			    sizeof list, &half, label, 1) != 0)
				die("the genuine proof did not verify from the cache");
		printf("client_verify_cached_cpu %.3f ms\n", (cpu() - t0) / 1000 * 1e3);
	}
	if (nc_kt_verify(&p, pk, vrf_pk, "a.test", "x@a.test", idk, list, sizeof list,
	    &half) == 0)
		die("a proof for another user verified");
	if (store_kt_consistency(st, 1000, (uint64_t)size, &k) != ST_OK ||
	    nc_kt_cons_encode(&b, &k) != 0)
		die("consistency");
	printf("consistency_proof %zu bytes (%zu hashes)\n", b.len, k.n);
	nc_buf_reset(&b);
	if (store_kt_entries(st, 0, NC_KT_ENTRIES_MAX, &e) != ST_OK ||
	    nc_kt_entries_encode(&b, &e) != 0)
		die("entries");
	printf("entries_page %zu bytes (%zu leaves)\n", b.len, e.n);
	nc_buf_free(&b);
	store_close(st);
	sodium_memzero(sk, sizeof sk);
	return 0;
}
