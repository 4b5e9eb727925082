/* store_kt.h - the key log in sqlite (issue 19), private to the sqlite
 * store: store_sqlite.c runs these on its writer connection inside a job
 * (appends, heads) or on a reader connection (proofs). */
#ifndef RELAY_STORE_KT_H
#define RELAY_STORE_KT_H

#include <stdint.h>

#include "kt.h"
#include "sqldb.h"
#include "store.h"

/* The number of leaves (-1 on error). */
int64_t ktdb_size(struct sqldb *c);
/* Appends user's version as the next leaf, with the hashes of the perfect
 * subtrees it completes (O(log n) rows). ST_OK or ST_ERR. */
int ktdb_append(struct sqldb *c, const char *user, uint64_t version,
    const struct store_kt_leaf *l);
/* Signs a head for the tree as it is, unless the newest head has its size
 * already: after a batch of appends, before its commit. */
int ktdb_sign(struct sqldb *c, const uint8_t log_sk[64], const char *domain, int64_t now);
/* The newest signed head: ST_OK, ST_NOTFOUND (nothing logged yet). */
int ktdb_head(struct sqldb *c, nc_kt_head *h);
/* An account deleted: its leaves stay, their names and openings go. */
int ktdb_forget(struct sqldb *c, const char *user);

/* Readers. The tree only grows and a written hash never changes, so these
 * need no transaction: every hash below the newest head's size is there. */
int ktdb_prove(struct sqldb *c, const char *user, uint64_t version, uint64_t since,
    nc_kt_proof *p);
int ktdb_consistency(struct sqldb *c, uint64_t from, uint64_t to, nc_kt_cons *out);
int ktdb_entries(struct sqldb *c, uint64_t start, size_t count, nc_kt_entries *e);
int ktdb_label(struct sqldb *c, const char *user, uint64_t version, nc_kt_labelproof *l);

#endif
