/* kt-log.c - the relay's key log, measured on its store (not part of make
 * check; t/bench/kt.sh builds and runs it):
 *   1. appends/s: THREADS writers each publishing device-list versions
 *      through store_devlist_put (each append in the transaction that
 *      stores the list, fsync'd group commits, one signed head per batch),
 *      leaves made beforehand; and the VRF label's cost on one core,
 *      which the relay pays per update on its request threads;
 *   2. proof sizes and times in a log of LEAVES leaves (default 100,000).
 * Usage: kt-log DIR [LEAVES [THREADS]]; prints "name value unit" lines. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kt.h"
#include "store.h"

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

int
main(int argc, char **argv)
{
	struct store_limits lim = { 10000, 1 << 20, 1000, 32, 16 };
	struct store_account a;
	static nc_kt_proof p;
	static nc_kt_cons k;
	static nc_kt_entries e;
	uint8_t pk[32], sk[64], seed[32] = { 7 }, label[32], vrf[80];
	long leaves = argc > 2 ? atol(argv[2]) : 100000;
	int nt = argc > 3 ? atoi(argv[3]) : 32;
	nc_buf b = NC_BUF_INIT;
	char user[32];
	double t0, r;
	int64_t size;
	int i, n;

	if (argc < 2 || sodium_init() < 0 || nt < 1 || nt > 64 || leaves < 1000)
		die("usage: kt-log DIR [LEAVES >= 1000 [THREADS 1-64]]");
	if (store_open(&st, argv[1], &lim, NULL, NULL) != ST_OK)
		die("store_open");
	crypto_sign_keypair(pk, sk);
	store_kt_keys(st, sk, "a.test");
	memset(&a, 0, sizeof a);
	for (int t = 0; t < nt; t++)
		for (int u = 0; u < USERS_PER_THREAD; u++) {
			snprintf(user, sizeof user, "u%d-%d", t, u);
			if (store_user_create(st, user, &a, pk, NULL, 0) != ST_OK)
				die("user");
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

	/* 2. proofs in a log of `leaves` */
	if ((size = store_kt_size(st)) < leaves)
		appends(leaves - size, nt);
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
	if (store_kt_prove(st, "u3-5", 1, (uint64_t)(size / 2 + 1), &p) != ST_OK ||
	    nc_kt_proof_encode(&b, &p) != 0)
		die("proof");
	printf("fetch_proof_with_since %zu bytes (%zu + %zu hashes, header %zu base64 chars)\n",
	    b.len, p.nincl, p.ncons,
	    sodium_base64_ENCODED_LEN(b.len, sodium_base64_VARIANT_ORIGINAL) - 1);
	nc_buf_reset(&b);
	if (nc_kt_verify(&p, pk, pk, "a.test", "x@a.test", pk, NULL, 0, NULL) == 0)
		die("a proof for nothing verified");
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
	return 0;
}
