/* merkle.h - the Merkle tree of RFC 9162 (Certificate Transparency 2.0,
 * hashing as RFC 6962) with SHA-256: leaf and node hashes, inclusion and
 * consistency proofs - made from any store of subtree hashes, and
 * verified. The key-transparency log (issue 19) is built on it.
 *
 * A store gives the hash of a whole subtree: `perfect(ctx, level, index)`
 * for the 2^level leaves from index * 2^level. Everything else (roots of
 * any size, the subtrees at a tree's right edge) is composed from those. */
#ifndef NC_MERKLE_H
#define NC_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define NC_MERKLE_HASH 32
#define NC_MERKLE_PROOF_MAX 64     /* hashes in any proof of a 2^63 tree */

typedef uint8_t nc_merkle_hash[NC_MERKLE_HASH];

/* SHA-256(0x00 || data) and SHA-256(0x01 || left || right). */
void nc_merkle_leaf(nc_merkle_hash out, const uint8_t *data, size_t n);
void nc_merkle_node(nc_merkle_hash out, const nc_merkle_hash left,
    const nc_merkle_hash right);

/* A store of perfect subtree hashes: 0, or an error code (passed on). */
typedef int (*nc_merkle_perfect)(void *ctx, unsigned level, uint64_t index,
    nc_merkle_hash out);

/* MTH(D[lo:hi]) for 0 <= lo < hi (the empty tree's root, SHA-256(""),
 * when lo == hi). */
int nc_merkle_range(nc_merkle_hash out, nc_merkle_perfect get, void *ctx,
    uint64_t lo, uint64_t hi) __attribute__((warn_unused_result));

/* PATH(index, D[0:size]) and PROOF(size1, D[0:size2]): the hashes, leaf
 * side first, into proof (room for NC_MERKLE_PROOF_MAX); *n their count.
 * NC_EDATA for index >= size or size1 > size2. */
int nc_merkle_inclusion_proof(nc_merkle_hash *proof, size_t *n,
    nc_merkle_perfect get, void *ctx, uint64_t index, uint64_t size)
	__attribute__((warn_unused_result));
int nc_merkle_consistency_proof(nc_merkle_hash *proof, size_t *n,
    nc_merkle_perfect get, void *ctx, uint64_t size1, uint64_t size2)
	__attribute__((warn_unused_result));

/* 0 if the proof shows leaf at index in the tree of size with root;
 * NC_ESECURITY (nc_fail set) if not, whatever is wrong. */
int nc_merkle_verify_inclusion(uint64_t index, uint64_t size,
    const nc_merkle_hash leaf, const nc_merkle_hash *proof, size_t n,
    const nc_merkle_hash root) __attribute__((warn_unused_result));
/* 0 if the tree of size2 with root2 extends the tree of size1 with root1;
 * NC_ESECURITY otherwise. Equal sizes need equal roots and no proof; an
 * empty first tree is refused (there is nothing to check: a client with
 * no earlier head has no proof to ask for). */
int nc_merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const nc_merkle_hash root1, const nc_merkle_hash root2,
    const nc_merkle_hash *proof, size_t n) __attribute__((warn_unused_result));

#endif
