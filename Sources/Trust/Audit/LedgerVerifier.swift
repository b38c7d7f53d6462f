import Crypto
import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Recomputes the audit ledger from the stored entries and checks it against the hash chain,
/// every signed tree head and (optionally) tree heads copied to a witness file outside the
/// database. Used by `enlace audit verify`; anyone with the database and the public key can
/// run it.
public struct LedgerVerifier: Sendable {
    public struct Report: Sendable {
        public var entries: Int = 0
        public var treeHeads: Int = 0
        public var witnessHeads: Int = 0
        /// Problems found, the first one first; empty means the ledger verifies.
        public var problems: [String] = []
        public var ok: Bool { problems.isEmpty }
    }

    public let publicKey: P256.Signing.PublicKey

    public init(publicKey: P256.Signing.PublicKey) { self.publicKey = publicKey }

    /// `progress` is called with (entries checked, total) every few thousand entries.
    @_spi(Unguarded) public func verify(store: any ResourceStore, witness: [TreeHead] = [], progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Report {
        var report = Report()
        let size = try await store.read { try $0.auditSize() }
        var log = MerkleLog()
        var previous = [UInt8](repeating: 0, count: 32)
        var start: Int64 = 0
        var expected: Int64 = 0
        chunks: while start < size {
            let from = start
            let end = min(start + 5000, size)
            let records = try await store.read { try $0.auditEntries(start: from, end: end) }
            for r in records {
                if r.index != expected {
                    report.problems.append(r.index > expected
                        ? "entry \(expected) is missing (the next stored entry is \(r.index)): an entry was deleted"
                        : "entry \(r.index) appears out of order after entry \(expected - 1)")
                    break chunks
                }
                let link = AuditLedger.chain(previous, r.bytes)
                if link != r.chain {
                    let parses = (try? JSONParser.parse(r.bytes))?["resourceType"]?.stringValue == "AuditEvent"
                    report.problems.append("entry \(r.index) does not match the hash chain: it was changed, moved or inserted"
                                           + (parses ? "" : " (its bytes are not a valid AuditEvent)"))
                    break chunks
                }
                previous = link
                log.append(entry: r.bytes)
                expected += 1
            }
            if records.count < Int(end - from) {
                report.problems.append("entries \(from + Int64(records.count))..<\(end) are missing")
                break
            }
            start = end
            progress?(Int(start), Int(size))
        }
        report.entries = log.size
        let heads = try await store.read { try $0.treeHeads() }
        report.treeHeads = heads.count
        for (source, list) in [("stored", heads), ("witness", witness)] {
            for head in list {
                if source == "witness" { report.witnessHeads += 1 }
                guard AuditLedger.verifySignature(head, publicKey: publicKey) else {
                    report.problems.append("the \(source) tree head of size \(head.treeSize) has an invalid signature")
                    continue
                }
                guard head.treeSize <= Int64(log.size) else {
                    report.problems.append("the \(source) tree head of size \(head.treeSize) covers more entries than the log holds (\(log.size)): the log was truncated")
                    continue
                }
                let root = try log.root(size: Int(head.treeSize))
                if root != head.rootHash {
                    report.problems.append("the \(source) tree head of size \(head.treeSize) does not match the entries: some entry before \(head.treeSize) was rewritten")
                }
            }
        }
        return report
    }

    /// Reads a witness file: one JSON tree head per line (`enlace audit verify --witness` writes it).
    public static func readWitness(_ path: String) throws -> [TreeHead] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let json = try JSONParser.parse(String(line))
            guard case let .number(size)? = json["treeSize"], let n = Int64(size),
                  let root = json["rootHash"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
                  let sig = json["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
                  let ts = json["timestamp"]?.stringValue.flatMap(Timestamp.init(instant:)) else {
                throw LedgerVerifierError.badWitness(String(line.prefix(80)))
            }
            return TreeHead(treeSize: n, rootHash: [UInt8](root), timestamp: ts, signature: [UInt8](sig))
        }
    }

    public static func witnessLine(_ head: TreeHead) -> String {
        TreeHeadJSON.encode(head).compactString
    }
}

public enum LedgerVerifierError: Error, CustomStringConvertible {
    case badWitness(String)
    public var description: String {
        switch self {
        case .badWitness(let l): return "the witness file has a line that is not a tree head: \(l)"
        }
    }
}

/// The JSON form of a tree head served at `/audit/tree-head`.
public enum TreeHeadJSON {
    public static func encode(_ head: TreeHead) -> JSON {
        .object([
            ("treeSize", .number(String(head.treeSize))),
            ("rootHash", .string(Data(head.rootHash).base64EncodedString())),
            ("timestamp", .string(head.timestamp.description)),
            ("signature", .string(Data(head.signature).base64EncodedString())),
        ])
    }
}

extension Door {
    /// `enlace audit verify`: checks the whole ledger — every entry's chain link, the Merkle
    /// roots of every signed tree head and its signature with this door's key, and consistency
    /// with the `witness` heads (docs/audit.md).
    public func verifyLedger(witness: [TreeHead] = [], progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> LedgerVerifier.Report {
        try await LedgerVerifier(publicKey: ledger.key.privateKey.publicKey).verify(store: store, witness: witness, progress: progress)
    }
}
