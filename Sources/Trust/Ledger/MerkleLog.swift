import Crypto

/// An append-only Merkle log: the RFC 9162 tree of ``MerkleTree`` kept incrementally, for a ledger
/// with millions of entries.
///
/// It stores every leaf hash and the hash of every *complete* aligned subtree (the nodes at level `h`
/// cover leaves `i·2^h ..< (i+1)·2^h`), each level as one flat byte buffer. From those, any subtree hash
/// the RFC's recursions ask for is either stored or a chain of at most ⌈log₂ n⌉ stored nodes.
///
/// Complexity (n = number of leaves):
/// - storage: < 2n hashes (n leaves + < n interior nodes), 32 bytes each, no per-hash allocation;
/// - ``append(leafHash:)``: amortized 1 hash computation (at most ⌈log₂ n⌉);
/// - ``root(size:)``: at most ⌈log₂ size⌉ hash computations;
/// - ``inclusionProof(index:treeSize:)`` and ``consistencyProof(first:second:)``: O(log n) hash
///   computations (the RFC recursion descends log n levels; every sibling is a stored node except at most
///   one incomplete right subtree, which costs ≤ log n hashes).
///
/// Proofs and roots are identical to those of ``MerkleTree``'s from-scratch functions over the same leaf
/// hashes (RFC 9162 §2.1), for every tree size up to ``size``, so old tree heads stay provable.
///
/// Thread safety: a value type (`Sendable`); copies are independent (copy-on-write, so the first append
/// to a shared copy copies the buffers). Share it across tasks as an immutable value or behind an actor;
/// Swift's exclusivity rules forbid unsynchronized concurrent mutation.
public struct MerkleLog: Sendable, Equatable {
    /// `levels[h]` holds the hashes of the complete subtrees of height `h`, 32 bytes each, left to right.
    /// `levels[0]` are the leaf hashes.
    private var levels: [[UInt8]] = []

    /// Number of leaves appended.
    public private(set) var size: Int = 0

    /// An empty log.
    public init() {}

    /// A log of the given leaf hashes, appended in order.
    public init(leafHashes: some Sequence<[UInt8]>) {
        for leafHash in leafHashes { append(leafHash: leafHash) }
    }

    /// Appends the hash of the next leaf (as given by ``MerkleTree/leafHash(_:)``).
    /// - Precondition: `leafHash` is 32 bytes.
    public mutating func append(leafHash: [UInt8]) {
        precondition(leafHash.count == MerkleTree.hashSize, "a leaf hash is 32 bytes")
        if levels.isEmpty { levels.append([]) }
        levels[0].append(contentsOf: leafHash)
        // Each time the new node is a right child, its now complete parent is stored one level up.
        var index = size
        var height = 0
        while index & 1 == 1 {
            let pair = (index - 1) * MerkleTree.hashSize ..< (index + 1) * MerkleTree.hashSize
            // left || right are adjacent in the level's buffer.
            let parent: [UInt8] = levels[height].withUnsafeBytes { buffer in
                var hasher = SHA256()
                hasher.update(data: [0x01] as [UInt8])
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[pair]))
                return Array(hasher.finalize())
            }
            if levels.count == height + 1 { levels.append([]) }
            levels[height + 1].append(contentsOf: parent)
            index >>= 1
            height += 1
        }
        size += 1
    }

    /// Hashes `entry` as a leaf (``MerkleTree/leafHash(_:)``) and appends it.
    public mutating func append(entry: [UInt8]) {
        append(leafHash: MerkleTree.leafHash(entry))
    }

    /// The hash of the leaf at `index`, or `nil` if `index` is not in `0 ..< size`.
    public func leafHash(at index: Int) -> [UInt8]? {
        guard index >= 0, index < size else { return nil }
        return node(height: 0, index: index)
    }

    /// The Merkle Tree Hash of all leaves, `MTH(D[size])`.
    public var root: [UInt8] {
        subtreeHash(start: 0, count: size)
    }

    /// The Merkle Tree Hash `MTH(D[treeSize])` of the first `treeSize` leaves
    /// ([RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1));
    /// ``MerkleTree/emptyRoot`` for 0. At most ⌈log₂ treeSize⌉ hash computations.
    /// - Throws: ``MerkleTreeError/treeSizeOutOfRange(treeSize:available:)`` unless `0 <= treeSize <= size`.
    public func root(size treeSize: Int) throws(MerkleTreeError) -> [UInt8] {
        guard treeSize >= 0, treeSize <= size else {
            throw .treeSizeOutOfRange(treeSize: treeSize, available: size)
        }
        return subtreeHash(start: 0, count: treeSize)
    }

    /// The inclusion proof `PATH(index, D[treeSize])`
    /// ([RFC 9162 §2.1.3.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.3.1)),
    /// verifiable with ``MerkleTree/verifyInclusion(leafHash:index:treeSize:proof:root:)``. O(log n) hashes.
    /// - Throws: unless `0 <= treeSize <= size` and `0 <= index < treeSize`.
    public func inclusionProof(index: Int, treeSize: Int) throws(MerkleTreeError) -> [[UInt8]] {
        guard treeSize >= 0, treeSize <= size else {
            throw .treeSizeOutOfRange(treeSize: treeSize, available: size)
        }
        guard index >= 0, index < treeSize else { throw .indexOutOfRange(index: index, treeSize: treeSize) }
        return ProofBuilder.path(index, start: 0, count: treeSize, self)
    }

    /// The consistency proof `PROOF(first, D[second])`
    /// ([RFC 9162 §2.1.4.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.4.1));
    /// empty when `first == second`. Verifiable with
    /// ``MerkleTree/verifyConsistency(first:second:firstRoot:secondRoot:proof:)``. O(log n) hashes.
    /// - Throws: unless `0 <= second <= size` and `1 <= first <= second`.
    public func consistencyProof(first: Int, second: Int) throws(MerkleTreeError) -> [[UInt8]] {
        guard second >= 0, second <= size else {
            throw .treeSizeOutOfRange(treeSize: second, available: size)
        }
        guard first >= 1, first <= second else { throw .firstSizeOutOfRange(first: first, second: second) }
        return ProofBuilder.subproof(first, start: 0, count: second, complete: true, self)
    }

    // MARK: - Stored nodes

    /// The stored hash of complete subtree `index` at `height`.
    private func node(height: Int, index: Int) -> [UInt8] {
        let offset = index * MerkleTree.hashSize
        return Array(levels[height][offset ..< offset + MerkleTree.hashSize])
    }
}

extension MerkleLog: SubtreeHashing {
    /// `MTH(D[start ..< start+count])` for the aligned subtrees the RFC recursions visit: a stored node when
    /// `count` is a power of two, otherwise `HASH(0x01 || MTH(left) || MTH(right))` split at the largest power
    /// of two below `count`, whose left part is stored. At most ⌈log₂ count⌉ hash computations.
    func subtreeHash(start: Int, count: Int) -> [UInt8] {
        if count == 0 { return MerkleTree.emptyRoot }
        if count & (count - 1) == 0 {
            let height = count.trailingZeroBitCount
            precondition(start & (count - 1) == 0 && start + count <= size, "unaligned or absent subtree")
            return node(height: height, index: start >> height)
        }
        let k = MerkleTree.splitPoint(count)
        return MerkleTree.nodeHash(subtreeHash(start: start, count: k), subtreeHash(start: start + k, count: count - k))
    }
}
