/* test-merkle.c - lib/proto/merkle.c against the RFC 6962/9162 proof
 * vectors of transparency-dev/merkle (t/vectors/merkle: happy paths and
 * tampered proofs that must fail), then proofs made here for every leaf
 * and every pair of sizes up to 130 leaves (and some larger trees),
 * verified, and refused once any bit of them, the leaf, the index or the
 * sizes changes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "merkle.h"
#include "check.h"

/* ---- the vectors ---- */

static int
b64(uint8_t *out, size_t max, const char *s, size_t *n)
{
	return sodium_base642bin(out, max, s, strlen(s), NULL, n, NULL,
	    sodium_base64_VARIANT_ORIGINAL);
}

/* A vector's hash into 32 bytes. Ours are always 32 (the wire decoders
 * refuse others); a vector's hash of another length ("" is "-") becomes
 * its bytes zero-padded and marked with tweak, a value no real hash has:
 * two equal strings of one kind stay equal, a root and a leaf do not. */
static void
hash32(nc_merkle_hash h, const char *s, uint8_t tweak)
{
	uint8_t b[128];
	size_t n = 0;

	memset(h, 0, 32);
	if (strcmp(s, "-") == 0 || b64(b, sizeof b, s, &n) != 0)
		n = 0;
	memcpy(h, b, n < 32 ? n : 32);
	if (n != 32)
		h[31] ^= tweak;
}

/* "a,b,c" of base64 hashes ("none": no proof). */
static void
hashes(nc_merkle_hash *h, size_t max, char *list, size_t *n)
{
	char *t;

	*n = 0;
	if (strcmp(list, "none") == 0)
		return;
	while ((t = strsep(&list, ",")) != NULL && *n < max)
		hash32(h[(*n)++], t, 0x33);
}

static FILE *
cases(const char *kind, const char *fields)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "cd '%s/merkle/%s' && jq -r 'def h: if . == \"\" "
	    "then \"-\" else . end; [input_filename, %s, ((.proof // []) | map(h) | "
	    "if length == 0 then \"none\" else join(\",\") end), .wantErr] | "
	    "map(tostring) | join(\" \")' */*.json", check_vectors(), kind, fields);
	return popen(cmd, "r");
}

/* fields: f[0] file, then the kind's fields, the proof, wantErr */
static int
split(char *line, char **f, int max)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \n", &save); t && n < max; t = strtok_r(NULL, " \n", &save))
		f[n++] = t;
	return n;
}

/* One kind of vector file: inclusion (leafIdx, treeSize, root, leafHash)
 * or consistency (size1, size2, root1, root2); each case's verdict must
 * be its wantErr's opposite. */
static void
vectors(int inclusion)
{
	FILE *p = inclusion ?
	    cases("inclusion", ".leafIdx, .treeSize, (.root // \"\" | h), (.leafHash // \"\" | h)") :
	    cases("consistency", ".size1, .size2, (.root1 // \"\" | h), (.root2 // \"\" | h)");
	const char *kind = inclusion ? "inclusion" : "consistency";
	char line[8192], *f[8];
	nc_merkle_hash proof[NC_MERKLE_PROOF_MAX], a, b;
	size_t n;
	int total = 0, agree = 0;

	CHECK(p != NULL);
	while (p && fgets(line, sizeof line, p)) {
		int ok, want_err;
		uint64_t x, y;
		if (split(line, f, 8) != 7)
			continue;
		want_err = strcmp(f[6], "true") == 0;
		x = strtoull(f[1], NULL, 10);
		y = strtoull(f[2], NULL, 10);
		hash32(a, f[3], 0xa5);                   /* a root */
		hash32(b, f[4], inclusion ? 0x5a : 0xa5);   /* the leaf, or the other root */
		hashes(proof, NC_MERKLE_PROOF_MAX, f[5], &n);
		ok = (inclusion ? nc_merkle_verify_inclusion(x, y, b, proof, n, a) :
		    nc_merkle_verify_consistency(x, y, a, b, proof, n)) == 0;
		total++;
		if (ok == !want_err)
			agree++;
		else
			fprintf(stderr, "%s %s: %s, wanted %s\n", kind, f[0],
			    ok ? "accepted" : "refused", want_err ? "an error" : "success");
	}
	if (p)
		CHECK_INT(pclose(p), 0);
	CHECK(total >= 85);
	CHECK_INT(agree, total);
	printf("# %s vectors: %d/%d\n", kind, agree, total);
}

/* ---- trees made here ---- */

#define LEAVES 1100
static nc_merkle_hash leaf[LEAVES];
static int gets;

/* The store: a perfect subtree's hash by the definition, from the leaves. */
static int
perfect(void *ctx, unsigned level, uint64_t index, nc_merkle_hash out)
{
	uint64_t lo = index << level, w = (uint64_t)1 << level;
	nc_merkle_hash l, r;

	(void)ctx;
	gets++;
	if (lo + w > LEAVES)
		return NC_ESOFTWARE;
	if (level == 0) {
		memcpy(out, leaf[lo], 32);
		return 0;
	}
	if (perfect(ctx, level - 1, index * 2, l) || perfect(ctx, level - 1, index * 2 + 1, r))
		return NC_ESOFTWARE;
	nc_merkle_node(out, l, r);
	return 0;
}

/* MTH by RFC 9162's definition, independent of nc_merkle_range */
static void
mth(nc_merkle_hash out, uint64_t lo, uint64_t hi)
{
	uint64_t k = 1;
	nc_merkle_hash l, r;

	if (hi - lo == 1) {
		memcpy(out, leaf[lo], 32);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	mth(l, lo, lo + k);
	mth(r, lo + k, hi);
	nc_merkle_node(out, l, r);
}

static void
made(void)
{
	nc_merkle_hash proof[NC_MERKLE_PROOF_MAX], root, root1, other;
	uint64_t size, i, s1;
	size_t n, j;
	int ok = 0, refused = 0, tried = 0, roots = 0;
	uint8_t b[8];

	for (i = 0; i < LEAVES; i++) {
		memcpy(b, &i, 8);
		nc_merkle_leaf(leaf[i], b, sizeof b);
	}
	/* NC_QUICK (the valgrind pass): the small trees only */
	uint64_t most = getenv("NC_QUICK") ? 40 : 130;

	for (size = 1; size <= most; size++) {
		CHECK_INT(nc_merkle_range(root, perfect, NULL, 0, size), 0);
		mth(other, 0, size);
		roots += memcmp(root, other, 32) == 0;
		for (i = 0; i < size; i++) {
			CHECK_INT(nc_merkle_inclusion_proof(proof, &n, perfect, NULL, i, size), 0);
			ok += nc_merkle_verify_inclusion(i, size, leaf[i], proof, n, root) == 0;
			tried++;
			/* another leaf, another index, one bit of the proof */
			refused += nc_merkle_verify_inclusion(i, size, leaf[(i + 1) % LEAVES],
			    proof, n, root) == NC_ESECURITY;
			if (size > 1)
				refused += nc_merkle_verify_inclusion((i + 1) % size, size,
				    leaf[i], proof, n, root) == NC_ESECURITY;
			else
				refused++;
			for (j = 0; j < n; j++) {
				proof[j][j % 32] ^= 0x10;
				refused += nc_merkle_verify_inclusion(i, size, leaf[i], proof, n,
				    root) == NC_ESECURITY;
				proof[j][j % 32] ^= 0x10;
				tried++;
			}
			tried += 2;
		}
		for (s1 = 1; s1 <= size; s1++) {
			CHECK_INT(nc_merkle_range(root1, perfect, NULL, 0, s1), 0);
			CHECK_INT(nc_merkle_consistency_proof(proof, &n, perfect, NULL, s1, size), 0);
			ok += nc_merkle_verify_consistency(s1, size, root1, root, proof, n) == 0;
			tried++;
			if (s1 == size)
				continue;
			refused += nc_merkle_verify_consistency(s1 + 1, size, root1, root, proof,
			    n) == NC_ESECURITY;
			refused += nc_merkle_verify_consistency(s1, size, root, root1, proof,
			    n) == NC_ESECURITY;
			for (j = 0; j < n; j++) {
				proof[j][31 - j % 32] ^= 0x01;
				refused += nc_merkle_verify_consistency(s1, size, root1, root, proof,
				    n) == NC_ESECURITY;
				proof[j][31 - j % 32] ^= 0x01;
				tried++;
			}
			tried += 2;
		}
	}
	CHECK_INT(roots, most);
	CHECK_INT(ok + refused, tried);
	printf("# trees of 1..%d leaves: %d proofs verified, %d tampered ones refused\n",
	    (int)most, ok, refused);

	/* larger trees: the proof sizes the log promises (<= 2 log2 n hashes) */
	for (size = 1000; size <= LEAVES; size += 33) {
		CHECK_INT(nc_merkle_range(root, perfect, NULL, 0, size), 0);
		CHECK_INT(nc_merkle_inclusion_proof(proof, &n, perfect, NULL, size / 3, size), 0);
		CHECK(n <= 11);
		CHECK_INT(nc_merkle_verify_inclusion(size / 3, size, leaf[size / 3], proof, n, root), 0);
		CHECK_INT(nc_merkle_range(root1, perfect, NULL, 0, size - 77), 0);
		CHECK_INT(nc_merkle_consistency_proof(proof, &n, perfect, NULL, size - 77, size), 0);
		CHECK(n <= 22);
		CHECK_INT(nc_merkle_verify_consistency(size - 77, size, root1, root, proof, n), 0);
	}

	/* edges: empty trees, out of range, a store that fails */
	CHECK_INT(nc_merkle_inclusion_proof(proof, &n, perfect, NULL, 5, 5), NC_EDATA);
	CHECK_INT(nc_merkle_consistency_proof(proof, &n, perfect, NULL, 6, 5), NC_EDATA);
	CHECK_INT(nc_merkle_consistency_proof(proof, &n, perfect, NULL, 0, 5), 0);
	CHECK_INT(n, 0);
	CHECK_INT(nc_merkle_verify_consistency(0, 5, root, root1, proof, 0), NC_ESECURITY);
	CHECK_INT(nc_merkle_verify_consistency(0, 0, root, root, proof, 0), NC_ESECURITY);
	CHECK_INT(nc_merkle_verify_consistency(5, 5, root, root, proof, 0), 0);
	CHECK_INT(nc_merkle_verify_consistency(5, 5, root, root1, proof, 0), NC_ESECURITY);
	CHECK_INT(nc_merkle_verify_consistency(6, 5, root, root1, proof, 0), NC_ESECURITY);
	CHECK_INT(nc_merkle_verify_inclusion(0, 0, leaf[0], proof, 0, root), NC_ESECURITY);
	CHECK_INT(nc_merkle_range(root, perfect, NULL, 0, LEAVES + 1), NC_ESOFTWARE);
	CHECK_INT(nc_merkle_range(root, perfect, NULL, 0, 0), 0);
	{
		/* the empty tree's root and the empty leaf: known answers */
		uint8_t want[32];
		size_t l;
		CHECK(b64(want, 32, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", &l) == 0);
		CHECK_MEM(root, want, 32);
		nc_merkle_leaf(root, NULL, 0);
		CHECK(b64(want, 32, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", &l) == 0);
		CHECK_MEM(root, want, 32);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	vectors(1);
	vectors(0);
	made();
	return check_done("merkle");
}
