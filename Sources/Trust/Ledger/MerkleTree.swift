import Crypto

/// Why a Merkle proof could not be produced.
public enum MerkleTreeError: Error, Equatable, Sendable {
    /// The leaf index is not in `0 ..< treeSize`.
    case indexOutOfRange(index: Int, treeSize: Int)
    /// The tree size is negative or larger than the number of leaves available.
    case treeSizeOutOfRange(treeSize: Int, available: Int)
    /// A consistency proof was asked for with `first` not in `1 ... second`.
    /// (RFC 9162 defines consistency proofs only for `0 < first`; `first == second` gives the empty proof.)
    case firstSizeOutOfRange(first: Int, second: Int)
}

/// The Merkle tree of the audit ledger, exactly as
/// [RFC 9162 (Certificate Transparency 2.0) §2.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1)
/// defines it, with SHA-256 as the hash.
///
/// All functions are pure: no I/O, no state. Hashes are 32-byte `[UInt8]` values. The functions that take
/// leaf hashes recompute everything from them (O(n) hashes); for a growing log use ``MerkleLog``, which
/// answers the same questions in O(log n) hashes.
///
/// Terminology follows the RFC: `D[n]` is the list of the first `n` entries, `MTH` the Merkle Tree Hash,
/// `k` the largest power of two strictly less than `n`.
public enum MerkleTree {
    /// Size in bytes of every hash in the tree (SHA-256).
    public static let hashSize = 32

    /// `MTH({})`: the hash of an empty tree, SHA-256 of the empty string
    /// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
    public static let emptyRoot: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    // MARK: - Hashing (§2.1.1)

    /// Leaf hash `MTH({d(0)}) = SHA-256(0x00 || d(0))`
    /// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
    public static func leafHash(_ entry: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00] as [UInt8])
        hasher.update(data: entry)
        return Array(hasher.finalize())
    }

    /// Interior node hash `SHA-256(0x01 || left || right)`
    /// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)).
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01] as [UInt8])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The largest power of two strictly less than `n` (the RFC's split point `k`). Requires `n > 1`.
    @inlinable
    public static func splitPoint(_ n: Int) -> Int {
        precondition(n > 1, "split point is defined for n > 1")
        return 1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    /// The Merkle Tree Hash `MTH(D[n])` of the given leaf hashes
    /// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)); ``emptyRoot`` for none.
    ///
    /// O(n) hash computations, O(log n) stack. Used to recompute a ledger's root from scratch.
    public static func root(leafHashes: [[UInt8]]) -> [UInt8] {
        root(leafHashes: leafHashes[...])
    }

    /// ``root(leafHashes:)`` over a slice (indices need not start at zero).
    public static func root(leafHashes: ArraySlice<[UInt8]>) -> [UInt8] {
        if leafHashes.isEmpty { return emptyRoot }
        return SliceTree(leaves: leafHashes).subtreeHash(start: 0, count: leafHashes.count)
    }

    // MARK: - Inclusion proofs (§2.1.3)

    /// The Merkle audit path `PATH(m, D[n])` for the leaf at `index` (= m) in the tree of the given `n`
    /// leaf hashes ([RFC 9162 §2.1.3.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.1)),
    /// ordered from the leaf's sibling up to the root's child. O(n) hash computations.
    ///
    /// - Throws: ``MerkleTreeError/indexOutOfRange(index:treeSize:)`` unless `0 <= index < n`.
    public static func inclusionProof(
        index: Int, leafHashes: ArraySlice<[UInt8]>
    ) throws(MerkleTreeError) -> [[UInt8]] {
        let n = leafHashes.count
        guard index >= 0, index < n else { throw .indexOutOfRange(index: index, treeSize: n) }
        return ProofBuilder.path(index, start: 0, count: n, SliceTree(leaves: leafHashes))
    }

    /// Verifies an inclusion proof with the iterative algorithm of
    /// [RFC 9162 §2.1.3.2](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.2), step by step.
    ///
    /// Before the RFC's steps, rejects negative values and hashes that are not 32 bytes (a proof of a
    /// 1-leaf tree has no path, so otherwise two equal malformed values would "verify").
    public static func verifyInclusion(
        leafHash: [UInt8], index: Int, treeSize: Int, proof: [[UInt8]], root: [UInt8]
    ) -> Bool {
        guard index >= 0, treeSize >= 0,
              leafHash.count == hashSize, root.count == hashSize,
              proof.allSatisfy({ $0.count == hashSize })
        else { return false }
        // 1. If leaf_index >= tree_size, then fail.
        guard index < treeSize else { return false }
        // 2. Set fn to leaf_index and sn to tree_size - 1.
        var fn = index
        var sn = treeSize - 1
        // 3. Set r to hash.
        var r = leafHash
        // 4. For each value p in the inclusion_path array:
        for p in proof {
            // a. If sn is 0, then stop the iteration and fail the proof verification.
            if sn == 0 { return false }
            // b. If LSB(fn) is set, or if fn is equal to sn, then:
            if fn & 1 == 1 || fn == sn {
                // i. Set r to HASH(0x01 || p || r).
                r = nodeHash(p, r)
                // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either
                //     LSB(fn) is set or fn is 0.
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                // Otherwise: i. Set r to HASH(0x01 || r || p).
                r = nodeHash(r, p)
            }
            // c. Finally, right-shift both fn and sn one time.
            fn >>= 1
            sn >>= 1
        }
        // 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the
        //    root_hash are equal, then the log has proven the inclusion of hash. Otherwise, fail.
        return sn == 0 && r == root
    }

    // MARK: - Consistency proofs (§2.1.4)

    /// The consistency proof `PROOF(m, D[n])` between the tree of the first `first` (= m) leaf hashes and
    /// the tree of all `n` given ([RFC 9162 §2.1.4.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.1)),
    /// i.e. `SUBPROOF(m, D[n], true)`. For `m == n` this is the empty proof. O(n) hash computations.
    ///
    /// - Throws: ``MerkleTreeError/firstSizeOutOfRange(first:second:)`` unless `1 <= first <= n`.
    public static func consistencyProof(
        first: Int, leafHashes: ArraySlice<[UInt8]>
    ) throws(MerkleTreeError) -> [[UInt8]] {
        let n = leafHashes.count
        guard first >= 1, first <= n else { throw .firstSizeOutOfRange(first: first, second: n) }
        return ProofBuilder.subproof(first, start: 0, count: n, complete: true, SliceTree(leaves: leafHashes))
    }

    /// Verifies a consistency proof with the iterative algorithm of
    /// [RFC 9162 §2.1.4.2](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.2), step by step.
    ///
    /// The RFC algorithm covers `0 < first < second`. Beyond it: `first == second` verifies exactly when
    /// the proof is empty and the roots are equal (`PROOF(m, D[m])` is empty); `first < 1`,
    /// `first > second`, and hashes that are not 32 bytes are rejected.
    public static func verifyConsistency(
        first: Int, second: Int, firstRoot: [UInt8], secondRoot: [UInt8], proof: [[UInt8]]
    ) -> Bool {
        guard first >= 1, first <= second,
              firstRoot.count == hashSize, secondRoot.count == hashSize,
              proof.allSatisfy({ $0.count == hashSize })
        else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }

        var path = proof
        // 1. If consistency_path is an empty array, stop and fail the proof verification.
        if path.isEmpty { return false }
        // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        // 3. Set fn to first - 1 and sn to second - 1.
        var fn = first - 1
        var sn = second - 1
        // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        // 5. Set both fr and sr to the first value in the consistency_path array.
        var fr = path[0]
        var sr = path[0]
        // 6. For each subsequent value c in the consistency_path array:
        for c in path.dropFirst() {
            // a. If sn is 0, then stop the iteration and fail the proof verification.
            if sn == 0 { return false }
            // b. If LSB(fn) is set, or if fn is equal to sn, then:
            if fn & 1 == 1 || fn == sn {
                // i. Set fr to HASH(0x01 || c || fr).
                fr = nodeHash(c, fr)
                // ii. Set sr to HASH(0x01 || c || sr).
                sr = nodeHash(c, sr)
                // iii. If LSB(fn) is not set, then right-shift both fn and sn equally until either
                //      LSB(fn) is set or fn is 0.
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                // Otherwise: i. Set sr to HASH(0x01 || sr || c).
                sr = nodeHash(sr, c)
            }
            // c. Finally, right-shift both fn and sn one time.
            fn >>= 1
            sn >>= 1
        }
        // 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
        return fr == firstRoot && sr == secondRoot && sn == 0
    }
}

// MARK: - Shared proof construction

/// Something that can give `MTH(D[start ..< start+count])` for the subtrees that the RFC's recursion
/// visits (start is always a multiple of the smallest power of two ≥ count).
protocol SubtreeHashing {
    func subtreeHash(start: Int, count: Int) -> [UInt8]
}

/// The recursive definitions of PATH and SUBPROOF (RFC 9162 §2.1.3.1 and §2.1.4.1), over any
/// ``SubtreeHashing`` source. Subtrees are given as `(start, count)` ranges of leaf indices.
enum ProofBuilder {
    /// `PATH(m, D[start ..< start+count])`.
    static func path(_ m: Int, start: Int, count n: Int, _ tree: some SubtreeHashing) -> [[UInt8]] {
        // PATH(0, {d(0)}) = {}
        if n == 1 { return [] }
        let k = MerkleTree.splitPoint(n)
        if m < k {
            // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
            return path(m, start: start, count: k, tree) + [tree.subtreeHash(start: start + k, count: n - k)]
        } else {
            // PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
            return path(m - k, start: start + k, count: n - k, tree) + [tree.subtreeHash(start: start, count: k)]
        }
    }

    /// `SUBPROOF(m, D[start ..< start+count], b)`.
    static func subproof(
        _ m: Int, start: Int, count n: Int, complete b: Bool, _ tree: some SubtreeHashing
    ) -> [[UInt8]] {
        if m == n {
            // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
            return b ? [] : [tree.subtreeHash(start: start, count: n)]
        }
        let k = MerkleTree.splitPoint(n)
        if m <= k {
            // SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            return subproof(m, start: start, count: k, complete: b, tree)
                + [tree.subtreeHash(start: start + k, count: n - k)]
        } else {
            // SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            return subproof(m - k, start: start + k, count: n - k, complete: false, tree)
                + [tree.subtreeHash(start: start, count: k)]
        }
    }
}

/// Leaf hashes in a slice, with subtree hashes computed from scratch by the recursive MTH.
struct SliceTree: SubtreeHashing {
    let leaves: ArraySlice<[UInt8]>

    /// `MTH(D[start ..< start+count])`, with offsets relative to the slice's start. O(count) hashes.
    func subtreeHash(start: Int, count n: Int) -> [UInt8] {
        if n == 0 { return MerkleTree.emptyRoot }
        if n == 1 { return leaves[leaves.startIndex + start] }
        let k = MerkleTree.splitPoint(n)
        // MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
        return MerkleTree.nodeHash(subtreeHash(start: start, count: k), subtreeHash(start: start + k, count: n - k))
    }
}
