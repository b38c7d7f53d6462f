import FHIR
import Foundation
import GRDB
@_spi(Unguarded) import Storage

/// The audit ledger tables: `audit_entry` (idx is the gapless Merkle leaf index; SQLite has one
/// writer, so `MAX(idx) + 1` inside the write transaction is race-free), `audit_patient` for a
/// patient's own log, `audit_tree_head` for signed tree heads.
extension SQLiteStore.Connection {
    func auditSize() throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entry")) ?? 0
    }

    func auditEntries(start: Int64, end: Int64) throws -> [AuditRecord] {
        try Row.fetchAll(db, sql: "SELECT idx, recorded, patients, bytes, chain FROM audit_entry WHERE idx >= ? AND idx < ? ORDER BY idx",
                         arguments: [start, end]).map(auditRecord)
    }

    func auditEntries(patient: String, before: Int64?, limit: Int) throws -> [AuditRecord] {
        try Row.fetchAll(db, sql: """
            SELECT e.idx, e.recorded, e.patients, e.bytes, e.chain FROM audit_patient p JOIN audit_entry e ON e.idx = p.idx
            WHERE p.patient_key = ? AND p.idx < ? ORDER BY p.idx DESC LIMIT ?
            """, arguments: [patient, before ?? Int64.max, limit]).map(auditRecord)
    }

    func auditRecord(_ row: Row) -> AuditRecord {
        let patients: String = row["patients"]
        let bytes: Data = row["bytes"]
        let chain: Data = row["chain"]
        return AuditRecord(index: row["idx"], recorded: Timestamp(microseconds: row["recorded"]),
                           patients: patients.isEmpty ? [] : patients.split(separator: " ").map(String.init), bytes: [UInt8](bytes),
                           chain: [UInt8](chain))
    }

    func latestTreeHead() throws -> TreeHead? {
        try Row.fetchOne(db, sql: "SELECT tree_size, root, timestamp, signature FROM audit_tree_head ORDER BY tree_size DESC LIMIT 1").map(treeHead)
    }

    func treeHeads() throws -> [TreeHead] {
        try Row.fetchAll(db, sql: "SELECT tree_size, root, timestamp, signature FROM audit_tree_head ORDER BY tree_size").map(treeHead)
    }

    func treeHead(_ row: Row) -> TreeHead {
        let root: Data = row["root"]
        let sig: Data = row["signature"]
        return TreeHead(treeSize: row["tree_size"], rootHash: [UInt8](root), timestamp: Timestamp(microseconds: row["timestamp"]), signature: [UInt8](sig))
    }

    func appendAudit(_ entries: [PendingAudit], chain: ([UInt8], [UInt8]) -> [UInt8]) throws -> [Int64] {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT idx, chain FROM audit_entry ORDER BY idx DESC LIMIT 1"))
        var next: Int64 = last.map { ($0["idx"] as Int64) + 1 } ?? 0
        var previous: [UInt8] = last.map { [UInt8]($0["chain"] as Data) } ?? [UInt8](repeating: 0, count: 32)
        var out: [Int64] = []
        for e in entries {
            let link = chain(previous, e.bytes)
            try db.cachedStatement(sql: "INSERT INTO audit_entry (idx, recorded, patients, bytes, chain) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [next, e.recorded.microseconds, e.patients.joined(separator: " "), Data(e.bytes), Data(link)])
            previous = link
            for p in Set(e.patients) {
                try db.cachedStatement(sql: "INSERT INTO audit_patient (patient_key, idx) VALUES (?, ?)").execute(arguments: [p, next])
            }
            out.append(next)
            next += 1
        }
        return out
    }

    func appendTreeHead(_ head: TreeHead) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO audit_tree_head (tree_size, root, timestamp, signature) VALUES (?, ?, ?, ?)",
                       arguments: [head.treeSize, Data(head.rootHash), head.timestamp.microseconds, Data(head.signature)])
    }
}
