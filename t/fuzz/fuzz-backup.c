/* fuzz-backup.c - a backup from a hostile relay or file (lib/proto/
 * backup.c): a manifest, a record and a wrapped key decode without
 * reading out of bounds and never open without the keys; a recovery code
 * that parses formats back to the same letters. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The relay's slot (protocol.md 1.9): a head decodes strictly and encodes
 * back to the same bytes; a keys part finds only what it holds; a
 * manifest parses (unsigned) as it verifies; a batch of records decodes
 * to records inside it that, added again, give back the same bytes; a
 * fetch's request encodes back the same, its answer holds no more
 * records than asked, each inside it. */
static void
slot(int kind, const uint8_t *p, size_t n)
{
	static nc_backup_head h;
	static nc_backup_span sp[NC_BACKUP_BATCH_RECS];
	nc_backup_manifest m;
	nc_buf out = NC_BUF_INIT;
	const uint8_t *w;
	size_t wn, k;
	char user[401];

	if (kind == 0 && nc_backup_head_decode(&h, p, n) == 0) {
		if (nc_backup_head_encode(&out, &h) != 0 || out.len != n ||
		    memcmp(out.p, p, n) != 0)
			abort();
	} else if (kind == 1 && n >= 32 &&
	    nc_backup_keys_find(p + 32, n - 32, p, &w, &wn) == 0) {
		if (w < p + 32 || w + wn > p + n || wn == 0 || wn > NC_BACKUP_WRAPPED_MAX ||
		    memcmp(w - 34, p, 32) != 0)
			abort();
	} else if (kind == 2 && nc_backup_manifest_parse(&m, user, p, n) == 0)
		nc_backup_manifest_free(&m);
	else if (kind == 3 && nc_backup_batch_decode(sp, &k, p, n) == 0) {
		if (k == 0 || k > NC_BACKUP_BATCH_RECS)
			abort();
		for (size_t i = 0; i < k; i++)
			if (sp[i].n == 0 || sp[i].p < p || sp[i].p + sp[i].n > p + n ||
			    nc_backup_batch_add(&out, sp[i].p, sp[i].n) != 0)
				abort();
		if (out.len != n || memcmp(out.p, p, n) != 0)
			abort();
	} else if (kind == 4 && nc_backup_fetch_req_decode(&w, &k, p, n) == 0) {
		if (k == 0 || k > NC_BACKUP_BATCH_RECS || w != p + 3 ||
		    nc_backup_fetch_req(&out, w, k) != 0 || out.len != n ||
		    memcmp(out.p, p, n) != 0)
			abort();
	} else if (kind == 5 && n >= 1 &&
	    nc_backup_fetch_decode(sp, &k, p[0] + 1u, p + 1, n - 1) == 0) {
		/* asked p[0] + 1 records: at most that many answered, inside */
		if (k == 0 || k > p[0] + 1u)
			abort();
		for (size_t i = 0; i < k; i++)
			if (sp[i].p < p + 1 || sp[i].p + sp[i].n > p + n)
				abort();
	}
	nc_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[64], root[32] = { 1 }, hid[32];
	static int ready;
	nc_backup_manifest m;
	nc_buf out = NC_BUF_INIT;
	char id[NC_BACKUP_ID_MAX + 1], s[128], f[NC_BACKUP_CODE_LEN + 1];
	uint8_t code[NC_BACKUP_CODE_BYTES], key[32];

	if (!ready++) {
		uint8_t seed[32] = { 2 };
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk, seed);
		nc_backup_hid(hid, root, "history/0001");
	}
	if (size < 1)
		return 0;
	if (data[0] >= 0xf0 && data[0] <= 0xf5) {
		slot(data[0] - 0xf0, data + 1, size - 1);
		return 0;
	}
	switch (data[0] % 4) {
	case 0:
		if (nc_backup_manifest_verify(&m, data + 1, size - 1, "alice@a.test", pk, 0) == 0)
			abort();   /* signed without the identity key */
		break;
	case 1:
		if (nc_backup_record_open(id, &out, root, hid, data + 1, size - 1) == 0)
			abort();   /* sealed without the root key */
		break;
	case 2:
		if (nc_backup_unwrap(key, data + 1, size - 1, root, 32, "alice@a.test") == 0)
			abort();
		break;
	default:
		if (size - 1 >= sizeof s)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		if (nc_backup_code_parse(code, s) == 0) {
			size_t i, j = 0;
			nc_backup_code_format(f, code);
			for (i = 0; s[i]; i++)   /* the same letters, dashes aside */
				if (s[i] != '-' && s[i] != ' ') {
					while (f[j] == '-')
						j++;
					if (toupper((unsigned char)s[i]) != f[j++])
						abort();
				}
		}
	}
	nc_buf_free(&out);
	return 0;
}
