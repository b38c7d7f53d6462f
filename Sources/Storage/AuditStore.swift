import FHIR

/// One entry of the audit ledger: an AuditEvent's canonical bytes at its position in the log.
/// The bytes are exactly what is hashed into the Merkle tree (RFC 9162 leaf), as stored.
public struct AuditRecord: Sendable, Equatable {
    /// 0-based position in the log (the Merkle leaf index).
    public var index: Int64
    public var recorded: Timestamp
    /// Patients the entry concerns (for the patient's own access log).
    public var patients: [String]
    public var bytes: [UInt8]
    /// Hash chain: `SHA-256(previous chain ‖ leaf hash)` (32 zero bytes before the first entry),
    /// so `enlace audit verify` names the exact entry that was changed, removed, moved or
    /// inserted; the signed tree heads catch a rewrite that recomputes the chain.
    public var chain: [UInt8]

    public init(index: Int64, recorded: Timestamp, patients: [String], bytes: [UInt8], chain: [UInt8]) {
        self.index = index
        self.recorded = recorded
        self.patients = patients
        self.bytes = bytes
        self.chain = chain
    }
}

/// An audit entry not yet in the log.
public struct PendingAudit: Sendable, Equatable {
    public var recorded: Timestamp
    public var patients: [String]
    public var bytes: [UInt8]

    public init(recorded: Timestamp, patients: [String], bytes: [UInt8]) {
        self.recorded = recorded
        self.patients = patients
        self.bytes = bytes
    }
}

/// A signed tree head (RFC 9162 §4.10 in spirit): the root of the first `treeSize` entries,
/// signed by the server's key.
public struct TreeHead: Sendable, Equatable {
    public var treeSize: Int64
    public var rootHash: [UInt8]
    public var timestamp: Timestamp
    /// ES256 signature (raw r‖s) over `TreeHead.signedBytes`.
    public var signature: [UInt8]

    public init(treeSize: Int64, rootHash: [UInt8], timestamp: Timestamp, signature: [UInt8]) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.timestamp = timestamp
        self.signature = signature
    }

    /// What is signed: `enlace-tree-head-v1\n<treeSize>\n<timestamp µs>\n<rootHash hex>`.
    public static func signedBytes(treeSize: Int64, rootHash: [UInt8], timestamp: Timestamp) -> [UInt8] {
        let hex = rootHash.map { String(format: "%02x", $0) }.joined()
        return Array("enlace-tree-head-v1\n\(treeSize)\n\(timestamp.microseconds)\n\(hex)".utf8)
    }
}

/// The audit ledger's storage, part of every backend (https://hl7.org/fhir/R4/auditevent.html,
/// RFC 9162). Entries are appended in one gapless sequence shared by every server node; an
/// append commits with the transaction that calls it.
public protocol AuditReader {
    /// How many entries the log holds.
    func auditSize() throws -> Int64
    /// Entries with `start <= index < end`, in order.
    func auditEntries(start: Int64, end: Int64) throws -> [AuditRecord]
    /// The entries concerning `patient`, newest first, before index `before` (exclusive), at
    /// most `limit` — one query, not one read per entry.
    func auditEntries(patient: String, before: Int64?, limit: Int) throws -> [AuditRecord]
    /// The newest signed tree head, if any.
    func latestTreeHead() throws -> TreeHead?
    /// Every signed tree head, oldest first.
    func treeHeads() throws -> [TreeHead]
}

public protocol AuditWriter: AuditReader {
    /// Appends `entries` at the end of the log and returns their indexes. `chain(previous,
    /// bytes)` computes each entry's chain value from the previous entry's (the store has no
    /// hash function of its own).
    func appendAudit(_ entries: [PendingAudit], chain: (_ previous: [UInt8], _ bytes: [UInt8]) -> [UInt8]) throws -> [Int64]
    /// Records a signed tree head (ignored if one for that size exists).
    func appendTreeHead(_ head: TreeHead) throws
}
