/* merkle.c - RFC 9162 Merkle trees over libsodium's SHA-256. Proofs are
 * made by RFC 9162's PATH and SUBPROOF recursions (2.1.3.1, 2.1.4.1) and
 * verified by walking the proof from the leaf, where an index's bits say
 * on which side each sibling sits: `inner` hashes below the level where
 * the leaf's path leaves the tree's right edge, `border` hashes above it,
 * all of them left siblings. */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "merkle.h"

void
nc_merkle_leaf(nc_merkle_hash out, const uint8_t *data, size_t n)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)"\0", 1);
	crypto_hash_sha256_update(&st, data, n);
	crypto_hash_sha256_final(&st, out);
}

void
nc_merkle_node(nc_merkle_hash out, const nc_merkle_hash left,
    const nc_merkle_hash right)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)"\1", 1);
	crypto_hash_sha256_update(&st, left, NC_MERKLE_HASH);
	crypto_hash_sha256_update(&st, right, NC_MERKLE_HASH);
	crypto_hash_sha256_final(&st, out);
}

/* The largest power of two below n (n >= 2). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static int
is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static unsigned
log2u(uint64_t n)
{
	unsigned l = 0;

	while (n >>= 1)
		l++;
	return l;
}

int
nc_merkle_range(nc_merkle_hash out, nc_merkle_perfect get, void *ctx,
    uint64_t lo, uint64_t hi)
{
	nc_merkle_hash l, r;
	uint64_t n = hi - lo, k;
	int rc;

	if (hi < lo)
		return nc_fail(NC_ESOFTWARE, "merkle: range %llu..%llu",
		    (unsigned long long)lo, (unsigned long long)hi);
	if (n == 0) {
		crypto_hash_sha256(out, NULL, 0);
		return 0;
	}
	if (is_pow2(n) && lo % n == 0)
		return get(ctx, log2u(n), lo / n, out);
	k = is_pow2(n) ? n / 2 : split(n);
	if ((rc = nc_merkle_range(l, get, ctx, lo, lo + k)) != 0 ||
	    (rc = nc_merkle_range(r, get, ctx, lo + k, hi)) != 0)
		return rc;
	nc_merkle_node(out, l, r);
	return 0;
}

struct proof {
	nc_merkle_hash *h;
	size_t n;
	nc_merkle_perfect get;
	void *ctx;
};

static int
append(struct proof *p, uint64_t lo, uint64_t hi)
{
	if (p->n >= NC_MERKLE_PROOF_MAX)
		return nc_fail(NC_ESOFTWARE, "merkle: proof too long");
	return nc_merkle_range(p->h[p->n++], p->get, p->ctx, lo, hi);
}

/* PATH(m, D[lo:hi]) */
static int
path(struct proof *p, uint64_t m, uint64_t lo, uint64_t hi)
{
	uint64_t k;
	int rc;

	if (hi - lo <= 1)
		return 0;
	k = split(hi - lo);
	if (m < k)
		return (rc = path(p, m, lo, lo + k)) ? rc : append(p, lo + k, hi);
	return (rc = path(p, m - k, lo + k, hi)) ? rc : append(p, lo, lo + k);
}

/* SUBPROOF(m, D[lo:hi], b) */
static int
subproof(struct proof *p, uint64_t m, uint64_t lo, uint64_t hi, int b)
{
	uint64_t k;
	int rc;

	if (m == hi - lo)
		return b ? 0 : append(p, lo, hi);
	k = split(hi - lo);
	if (m <= k)
		return (rc = subproof(p, m, lo, lo + k, b)) ? rc : append(p, lo + k, hi);
	return (rc = subproof(p, m - k, lo + k, hi, 0)) ? rc : append(p, lo, lo + k);
}

int
nc_merkle_inclusion_proof(nc_merkle_hash *proof, size_t *n,
    nc_merkle_perfect get, void *ctx, uint64_t index, uint64_t size)
{
	struct proof p = { proof, 0, get, ctx };
	int rc;

	*n = 0;
	if (index >= size)
		return nc_fail(NC_EDATA, "merkle: leaf %llu is not in a tree of %llu",
		    (unsigned long long)index, (unsigned long long)size);
	rc = path(&p, index, 0, size);
	*n = p.n;
	return rc;
}

int
nc_merkle_consistency_proof(nc_merkle_hash *proof, size_t *n,
    nc_merkle_perfect get, void *ctx, uint64_t size1, uint64_t size2)
{
	struct proof p = { proof, 0, get, ctx };
	int rc;

	*n = 0;
	if (size1 > size2)
		return nc_fail(NC_EDATA, "merkle: a tree of %llu cannot extend one of %llu",
		    (unsigned long long)size2, (unsigned long long)size1);
	if (size1 == 0 || size1 == size2)
		return 0;
	rc = subproof(&p, size1, 0, size2, 1);
	*n = p.n;
	return rc;
}

/* ---- verification ---- */

static unsigned
bitlen(uint64_t x)
{
	unsigned n = 0;

	while (x) {
		n++;
		x >>= 1;
	}
	return n;
}

static unsigned
popcount(uint64_t x)
{
	unsigned n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/* The leaf at index of a tree of size: how many proof hashes lie below the
 * level where its path meets the right edge, and how many above. */
static void
decompose(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
	*inner = bitlen(index ^ (size - 1));
	*border = *inner >= 64 ? 0 : popcount(index >> *inner);
}

/* Up the inner levels: the index's bit says whether the sibling is on the
 * right (0) or the left (1). only_left: skip right siblings (the old
 * tree's root, rebuilt from a consistency proof, has none). */
static void
chain_inner(nc_merkle_hash h, const nc_merkle_hash *proof, unsigned n,
    uint64_t index, int only_left)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if ((index >> i) & 1)
			nc_merkle_node(h, proof[i], h);
		else if (!only_left)
			nc_merkle_node(h, h, proof[i]);
	}
}

static void
chain_border(nc_merkle_hash h, const nc_merkle_hash *proof, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		nc_merkle_node(h, proof[i], h);
}

static int
bad(const char *what)
{
	return nc_fail(NC_ESECURITY, "key log: %s", what);
}

int
nc_merkle_verify_inclusion(uint64_t index, uint64_t size,
    const nc_merkle_hash leaf, const nc_merkle_hash *proof, size_t n,
    const nc_merkle_hash root)
{
	nc_merkle_hash h;
	unsigned inner, border;

	if (index >= size)
		return bad("inclusion proof for a leaf outside the tree");
	decompose(index, size, &inner, &border);
	if (n != (size_t)inner + border)
		return bad("inclusion proof of the wrong length");
	memcpy(h, leaf, sizeof h);
	chain_inner(h, proof, inner, index, 0);
	chain_border(h, proof + inner, border);
	if (sodium_memcmp(h, root, sizeof h) != 0)
		return bad("inclusion proof does not lead to the tree head");
	return 0;
}

int
nc_merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const nc_merkle_hash root1, const nc_merkle_hash root2,
    const nc_merkle_hash *proof, size_t n)
{
	nc_merkle_hash h1, h2;
	const nc_merkle_hash *seed;
	unsigned inner, border, shift = 0;
	uint64_t mask;

	if (size1 == 0)   /* nothing to be consistent with: a caller bug */
		return bad("a consistency proof from the empty tree");
	if (size2 < size1)
		return bad("the newer tree is smaller");
	if (size1 == size2) {
		if (n != 0 || sodium_memcmp(root1, root2, NC_MERKLE_HASH) != 0)
			return bad("two heads of one size differ");
		return 0;
	}
	if (n == 0)
		return bad("an empty consistency proof");
	decompose(size1 - 1, size2, &inner, &border);
	while (((size1 >> shift) & 1) == 0)
		shift++;
	inner -= shift;   /* the proof starts at the level of size1's last
	                     whole subtree, 2^shift leaves */
	seed = proof;
	if (size1 == (uint64_t)1 << shift)   /* that subtree is the old root */
		seed = (const nc_merkle_hash *)root1;
	else
		proof++, n--;
	if (n != (size_t)inner + border)
		return bad("consistency proof of the wrong length");
	mask = (size1 - 1) >> shift;
	memcpy(h1, *seed, sizeof h1);
	chain_inner(h1, proof, inner, mask, 1);
	chain_border(h1, proof + inner, border);
	if (sodium_memcmp(h1, root1, sizeof h1) != 0)
		return bad("consistency proof does not lead to the older head");
	memcpy(h2, *seed, sizeof h2);
	chain_inner(h2, proof, inner, mask, 0);
	chain_border(h2, proof + inner, border);
	if (sodium_memcmp(h2, root2, sizeof h2) != 0)
		return bad("consistency proof does not lead to the newer head");
	return 0;
}
