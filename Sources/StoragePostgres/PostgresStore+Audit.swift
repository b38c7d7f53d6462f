import FHIR
import Foundation
import PostgresNIO
@_spi(Unguarded) import Storage

/// The audit ledger tables: `audit_counter` holds the next index of the one gapless sequence
/// every node shares (taken with `UPDATE … RETURNING` in the writing transaction, so two nodes
/// appending at once serialize on that row and a rolled-back write leaves no gap),
/// `audit_entry` the entries, `audit_patient` a patient's own log (distributed by patient),
/// `audit_tree_head` the signed tree heads.
extension Transaction {
    func auditSize() throws -> Int64 {
        try query("SELECT next FROM audit_counter WHERE id = 1").first.map { try $0.int64(0) } ?? 0
    }

    func auditEntries(start: Int64, end: Int64) throws -> [AuditRecord] {
        try query("SELECT idx, recorded, patients, bytes, chain FROM audit_entry WHERE idx >= ? AND idx < ? ORDER BY idx",
                  [.int(start), .int(end)]).map(auditRecord)
    }

    func auditEntries(patient: String, before: Int64?, limit: Int) throws -> [AuditRecord] {
        // two steps, so the first stays on one shard of audit_patient (distributed by patient)
        let indexes = try query("SELECT idx FROM audit_patient WHERE patient_key = ? AND idx < ? ORDER BY idx DESC LIMIT ?",
                                [.text(patient), .int(before ?? Int64.max), .int(Int64(limit))]).map { try $0.int64(0) }
        guard !indexes.isEmpty else { return [] }
        return try query("SELECT idx, recorded, patients, bytes, chain FROM audit_entry WHERE idx = ANY(?::bigint[]) ORDER BY idx DESC",
                         [.ints(indexes)]).map(auditRecord)
    }

    func auditRecord(_ row: PostgresRow) throws -> AuditRecord {
        let patients = try row.string(2)
        return AuditRecord(index: try row.int64(0), recorded: Timestamp(microseconds: try row.int64(1)),
                           patients: patients.isEmpty ? [] : patients.split(separator: " ").map(String.init), bytes: try row.bytes(3),
                           chain: try row.bytes(4))
    }

    func latestTreeHead() throws -> TreeHead? {
        try query("SELECT tree_size, root, timestamp, signature FROM audit_tree_head ORDER BY tree_size DESC LIMIT 1").first.map(treeHead)
    }

    func treeHeads() throws -> [TreeHead] {
        try query("SELECT tree_size, root, timestamp, signature FROM audit_tree_head ORDER BY tree_size").map(treeHead)
    }

    func treeHead(_ row: PostgresRow) throws -> TreeHead {
        TreeHead(treeSize: try row.int64(0), rootHash: try row.bytes(1), timestamp: Timestamp(microseconds: try row.int64(2)),
                 signature: try row.bytes(3))
    }

    func appendAudit(_ entries: [PendingAudit], chain: ([UInt8], [UInt8]) -> [UInt8]) throws -> [Int64] {
        guard !entries.isEmpty else { return [] }
        let n = Int64(entries.count)
        guard let start = try query("UPDATE audit_counter SET next = next + ? WHERE id = 1 RETURNING next - ?", [.int(n), .int(n)])
            .first.map({ try $0.int64(0) }) else {
            throw PGFailure(sqlState: nil, message: "the audit counter row is missing (run enlace migrate)")
        }
        var out: [Int64] = []
        // the counter row lock serializes appenders, so the previous entry is final here
        var previous = start == 0 ? [UInt8](repeating: 0, count: 32)
            : (try query("SELECT chain FROM audit_entry WHERE idx = ?", [.int(start - 1)]).first.map { try $0.bytes(0) } ?? [])
        for (i, e) in entries.enumerated() {
            let idx = start + Int64(i)
            let link = chain(previous, e.bytes)
            previous = link
            try query("INSERT INTO audit_entry (idx, recorded, patients, bytes, chain) VALUES (?, ?, ?, ?, ?)",
                      [.int(idx), .int(e.recorded.microseconds), .text(e.patients.joined(separator: " ")), .bytes(e.bytes), .bytes(link)])
            let patients = Array(Set(e.patients)).sorted()
            if !patients.isEmpty {
                try query("INSERT INTO audit_patient (patient_key, idx) SELECT unnest(?::text[]), ?", [.texts(patients), .int(idx)])
            }
            out.append(idx)
        }
        return out
    }

    func appendTreeHead(_ head: TreeHead) throws {
        try query("INSERT INTO audit_tree_head (tree_size, root, timestamp, signature) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                  [.int(head.treeSize), .bytes(head.rootHash), .int(head.timestamp.microseconds), .bytes(head.signature)])
    }
}
