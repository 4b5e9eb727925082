/* fill-history.c - the history fixture of t/bench/backup.sh and t/2750: N messages
 * written straight into an NC_HOME's state (as nc-send and nc-recv store
 * them: the body sealed at rest, one transaction) instead of N sends, and
 * the same messages as plain files for the floor: one file per 64 rows
 * in the byte encoding of a backup's history record (protocol.md 3,
 * hist/N), so `tar | age` of that directory encrypts what a backup does.
 *
 *   fill-history HOME N PEER FLOORDIR|- [BODY]
 *
 * Half the messages are received from PEER, half sent to it, alternating;
 * each body is a line of 60 to 200 bytes, or of BODY bytes (60..65536). Appends after what HOME holds
 * (a second run adds N more; the floor's files then start at the next
 * chunk boundary of this run's rows, which the bench does not use). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "hex.h"
#include "state.h"
#include "wire.h"

#define CHUNK 64

static int
flush(const char *dir, long k, nc_buf *rows, unsigned n)
{
	nc_buf out = NC_BUF_INIT;
	nc_enc e;
	char path[4096];
	FILE *f;
	int ok;

	if (n == 0 || strcmp(dir, "-") == 0)
		return 0;
	nc_enc_init(&e, &out);
	nc_put_u8(&e, 1);
	nc_put_u16(&e, (uint16_t)n);
	if (nc_enc_end(&e) != 0 || nc_buf_add(&out, rows->p, rows->len) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/hist-%ld", dir, k);
	ok = (f = fopen(path, "wb")) != NULL && fwrite(out.p, 1, out.len, f) == out.len;
	ok = f && fclose(f) == 0 && ok;
	nc_buf_free(&out);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	nc_state *s;
	sqlite3_stmt *st;
	nc_buf ct = NC_BUF_INIT, rows = NC_BUF_INIT;
	nc_enc e;
	char id[33], dev[33], row[600], *body;
	uint8_t r[16];
	long n, i, start, fixed = 0;
	unsigned inchunk = 0;
	int64_t now = (int64_t)time(NULL);

	if ((argc != 5 && argc != 6) || (n = strtol(argv[2], NULL, 10)) <= 0 ||
	    (argc == 6 && ((fixed = strtol(argv[5], NULL, 10)) < 60 || fixed > 65536))) {
		fprintf(stderr, "usage: fill-history HOME N PEER FLOORDIR|- [BODY]\n");
		return 64;
	}
	if ((body = malloc(65536)) == NULL)
		return 1;
	if (sodium_init() < 0 || nc_state_open(&s, argv[1]) != 0) {
		fprintf(stderr, "fill-history: %s: cannot open the state\n", argv[1]);
		return 1;
	}
	randombytes_buf(r, 16);
	nc_hex_encode(dev, r, 16);
	if (nc_state_prep(s, &st, "SELECT coalesce(max(seq), 0) FROM message") != 0 ||
	    sqlite3_step(st) != SQLITE_ROW)
		return 1;
	start = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (nc_state_begin(s) != 0 || nc_state_prep(s, &st, "INSERT INTO message(id, dir,"
	    " peer, dev, time, body, status, files) VALUES (?, ?, ?, ?, ?, ?, ?, 0)") != 0)
		return 1;
	for (i = 0; i < n; i++) {
		int dir = (int)(i & 1);
		size_t len = fixed ? (size_t)fixed : 60 + randombytes_uniform(141);
		const char *status = dir ? "delivered" : "received";
		const char *d = dir ? "" : dev;

		randombytes_buf(r, 16);
		nc_hex_encode(id, r, 16);
		memset(body, 'a' + (int)(i % 26), len);
		snprintf(body, len, "message %ld of the bench history ", start + i);
		body[strlen(body)] = ' ';
		body[len - 1] = '\n';
		snprintf(row, sizeof row, "%d/%s/%s", dir, argv[3], id);
		nc_buf_reset(&ct);
		if (nc_state_seal(s, "message", row, body, len, &ct) != 0)
			return 1;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, dir);
		sqlite3_bind_text(st, 3, argv[3], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, d, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now - n + i);
		sqlite3_bind_blob(st, 6, ct.p, (int)ct.len, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "fill-history: insert: %s\n", nc_errmsg());
			return 1;
		}
		/* the floor: the same row as a history record encodes it */
		nc_enc_init(&e, &rows);
		nc_put_str(&e, id);
		nc_put_u8(&e, (uint8_t)dir);
		nc_put_str(&e, argv[3]);
		nc_put_str(&e, d);
		nc_put_u64(&e, (uint64_t)(now - n + i));
		nc_put_bytes(&e, body, len);
		nc_put_str(&e, status);
		if (nc_enc_end(&e) != 0)
			return 1;
		if (++inchunk == CHUNK) {
			if (flush(argv[4], (start + i) / CHUNK, &rows, inchunk) != 0)
				return 1;
			nc_buf_reset(&rows);
			inchunk = 0;
		}
	}
	sqlite3_finalize(st);
	/* The home as a client leaves it (nc-recv's nc_state_scrub): the log
	 * copied into state.db and cut, not 38 MB of it for the next command
	 * to copy, which the incremental backups timed next would pay. */
	s->scrub = 1;
	if (flush(argv[4], (start + n) / CHUNK, &rows, inchunk) != 0 || nc_state_commit(s) != 0 ||
	    nc_state_close(s) != 0) {
		fprintf(stderr, "fill-history: %s\n", nc_errmsg());
		return 1;
	}
	nc_buf_free(&ct);
	nc_buf_free(&rows);
	free(body);
	return 0;
}
