import Crypto
import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The tamper-evident audit ledger: an append-only log of AuditEvents hashed into an RFC 9162
/// Merkle tree (https://www.rfc-editor.org/rfc/rfc9162#section-2.1), with signed tree heads.
///
/// Guarantees: `record` returns only after the entry is committed (durable) — entries arriving
/// together share one commit (group commit); the in-memory tree follows the stored log, including
/// entries other server nodes append; every tree head is signed ES256 with the server key.
public actor AuditLedger {
    let store: any ResourceStore
    public let key: SigningKey
    let clock: any Clock
    private var log = MerkleLog()
    private var pending: [(PendingAudit, CheckedContinuation<Int64, any Error>)] = []
    private var flushing = false

    @_spi(Unguarded) public init(store: any ResourceStore, key: SigningKey, clock: any Clock) {
        self.store = store
        self.key = key
        self.clock = clock
    }

    // MARK: - appending

    /// Appends one entry and waits until it is durable. Returns its index.
    public func record(_ entry: PendingAudit) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((entry, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let entries = batch.map(\.0)
            do {
                let indexes = try await store.write { tx in try tx.appendAudit(entries, chain: AuditLedger.chain) }
                for (i, item) in batch.enumerated() { item.1.resume(returning: indexes[i]) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
        flushing = false
    }

    // MARK: - the tree

    /// Brings the in-memory tree up to the stored log (entries from every node).
    @discardableResult
    public func sync() async throws -> Int {
        let size = try await store.read { try $0.auditSize() }
        // An actor is reentrant across `await`: another sync may have appended some of these
        // entries meanwhile, so each round starts from the tree's current size and skips
        // entries it already holds.
        while Int64(log.size) < size {
            let from = Int64(log.size)
            let end = min(from + 5000, size)
            let records = try await store.read { try $0.auditEntries(start: from, end: end) }
            for r in records where r.index >= Int64(log.size) {
                guard r.index == Int64(log.size) else { throw LedgerError.gap(expected: Int64(log.size), found: r.index) }
                log.append(entry: r.bytes)
            }
            if records.isEmpty { throw LedgerError.gap(expected: from, found: end) }
        }
        return log.size
    }

    /// Signs and stores a tree head if the log grew since the last one. Returns the latest head.
    @discardableResult
    public func signTreeHead() async throws -> TreeHead? {
        let size = try await sync()
        let latest = try await store.read { try $0.latestTreeHead() }
        if let latest, latest.treeSize >= Int64(size) { return latest }
        guard size > 0 else { return latest }
        let root = try log.root(size: size)
        let now = clock.now()
        let signature = try key.privateKey.signature(for: Data(TreeHead.signedBytes(treeSize: Int64(size), rootHash: root, timestamp: now)))
        let head = TreeHead(treeSize: Int64(size), rootHash: root, timestamp: now, signature: Array(signature.rawRepresentation))
        try await store.write { tx in try tx.appendTreeHead(head) }
        return head
    }

    public func latestTreeHead() async throws -> TreeHead? {
        try await store.read { try $0.latestTreeHead() }
    }

    public func inclusionProof(index: Int, treeSize: Int) async throws -> [[UInt8]] {
        try await sync()
        return try log.inclusionProof(index: index, treeSize: treeSize)
    }

    /// The inclusion proofs of several entries in one tree, the tree brought up to date once.
    public func inclusionProofs(indexes: [Int], treeSize: Int) async throws -> [[[UInt8]]] {
        try await sync()
        return try indexes.map { try log.inclusionProof(index: $0, treeSize: treeSize) }
    }

    public func consistencyProof(first: Int, second: Int) async throws -> [[UInt8]] {
        try await sync()
        return try log.consistencyProof(first: first, second: second)
    }

    public func root(size: Int) async throws -> [UInt8] {
        try await sync()
        return try log.root(size: size)
    }

    public func size() async throws -> Int { try await sync() }

    func entries(start: Int64, end: Int64) async throws -> [AuditRecord] {
        try await store.read { try $0.auditEntries(start: start, end: end) }
    }

    public enum LedgerError: Error, CustomStringConvertible {
        case gap(expected: Int64, found: Int64)
        public var description: String {
            switch self {
            case .gap(let e, let f): return "the audit log has a gap: expected entry \(e), found \(f)"
            }
        }
    }

    /// The chain link of an entry: `SHA-256(previous ‖ leaf hash)`.
    public static func chain(_ previous: [UInt8], _ bytes: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: previous)
        h.update(data: MerkleTree.leafHash(bytes))
        return Array(h.finalize())
    }

    /// Verifies a tree head's signature with `publicKey`.
    public static func verifySignature(_ head: TreeHead, publicKey: P256.Signing.PublicKey) -> Bool {
        guard let sig = try? P256.Signing.ECDSASignature(rawRepresentation: head.signature) else { return false }
        return publicKey.isValidSignature(sig, for: Data(TreeHead.signedBytes(treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp)))
    }
}
