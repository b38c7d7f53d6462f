import FHIR
import Foundation
import PostgresNIO
import Storage

extension PostgresStore {
    /// The tables distributed by `patient_key` in a Citus deployment (docs/scaling.md).
    public static var patientCompartmentTables: [String] { Migrations.patientTables }
}

/// One transaction on one connection, on one thread. Reads by (type, id) first find the patient
/// key in `resource_key`, then read the patient's rows (a single-shard query on Citus).
final class Transaction: StoreTransaction {
    let session: Session
    /// The first database failure in this transaction: PostgreSQL aborts the transaction on any
    /// error, so the store re-raises it (or retries) even if the body swallowed it.
    var failure: PGFailure?

    init(session: Session) { self.session = session }

    @discardableResult
    func query(_ sql: String, _ values: [PGValue] = []) throws -> [PostgresRow] {
        do {
            return try session.query(sql, values)
        } catch let e as PGFailure {
            if failure == nil { failure = e }
            throw e
        }
    }

    static let columns = "v.seq, v.type, v.id, v.version, v.last_updated, v.deleted, v.compartments, v.body, v.labels"

    func entry(_ r: PostgresRow) throws -> HistoryEntry {
        let compartments = try r.string(6)
        return HistoryEntry(sequence: try r.int64(0), resource: StoredResource(
            type: try r.string(1), id: try r.string(2), version: try r.int(3),
            lastUpdated: Timestamp(microseconds: try r.int64(4)), deleted: try r.int(5) != 0,
            body: try r.bytes(7), compartments: compartments.isEmpty ? [] : compartments.split(separator: " ").map(String.init),
            labels: try r.string(8).split(separator: " ").map(String.init)))
    }

    func key(_ type: String, _ id: String) throws -> (patientKey: String, version: Int)? {
        try query("SELECT patient_key, version FROM resource_key WHERE type = ? AND id = ?", [.text(type), .text(id)])
            .first.map { (try $0.string(0), try $0.int(1)) }
    }

    func current(_ type: String, _ id: String) throws -> StoredResource? {
        guard let k = try key(type, id) else { return nil }
        return try version(type, id, k.version, patientKey: k.patientKey)
    }

    func version(_ type: String, _ id: String, _ version: Int) throws -> StoredResource? {
        guard let k = try key(type, id) else { return nil }
        if let found = try self.version(type, id, version, patientKey: k.patientKey) { return found }
        // an older version may belong to another patient key (the resource moved): look everywhere
        return try query("SELECT \(Transaction.columns) FROM resource_version v WHERE v.type = ? AND v.id = ? AND v.version = ?",
                         [.text(type), .text(id), .int(Int64(version))]).first.map { try entry($0).resource }
    }

    func version(_ type: String, _ id: String, _ version: Int, patientKey: String) throws -> StoredResource? {
        try query("SELECT \(Transaction.columns) FROM resource_version v WHERE v.patient_key = ? AND v.type = ? AND v.id = ? AND v.version = ?",
                  [.text(patientKey), .text(type), .text(id), .int(Int64(version))]).first.map { try entry($0).resource }
    }

    func scopeClause(_ scope: HistoryScope, since: Timestamp?, before: Int64?, visibility: Visibility? = nil) -> (String, [PGValue]) {
        var clauses: [String] = []
        var args: [PGValue] = []
        if let v = visibility {
            var parts: [String] = []
            if !v.sharedTypes.isEmpty { parts.append("v.type = ANY(?::text[])"); args.append(.texts(v.sharedTypes)) }
            if !v.patients.isEmpty { parts.append("v.patient_key = ANY(?::text[])"); args.append(.texts(v.patients)) }
            clauses.append(parts.isEmpty ? "1 = 0" : "(" + parts.joined(separator: " OR ") + ")")
            for l in v.hiddenLabels {
                clauses.append("(' ' || v.labels || ' ') NOT LIKE ?")
                args.append(.text("% \(l) %"))
            }
            for rule in v.perPatientRules {
                var inner = "(' ' || v.compartments || ' ') LIKE ? AND (" + rule.labels.map { _ in "(' ' || v.labels || ' ') LIKE ?" }.joined(separator: " OR ") + ")"
                args.append(.text("% \(rule.patient) %"))
                args += rule.labels.map { .text("% \($0) %") }
                if !v.disclosed.isEmpty {
                    inner += " AND NOT ((v.type || '/' || v.id) = ANY(?::text[]))"
                    args.append(.texts(v.disclosed))
                }
                clauses.append("NOT (" + inner + ")")
            }
            var ruleArgs: [SQLValue] = []
            if let rules = SearchSQL(dialect: .postgres).dataRulesClause(v, alias: "v", types: scope.types, args: &ruleArgs, history: true) {
                clauses.append(rules)
                args += ruleArgs.map(PGValue.init)
            }
        }
        switch scope {
        case .system: break
        case .type(let t): clauses.append("v.type = ?"); args.append(.text(t))
        case .instance(let t, let id): clauses.append("v.type = ? AND v.id = ?"); args += [.text(t), .text(id)]
        }
        if let since { clauses.append("v.last_updated >= ?"); args.append(.int(since.microseconds)) }
        if let before { clauses.append("v.seq < ?"); args.append(.int(before)) }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), args)
    }

    func history(_ q: HistoryQuery) throws -> [HistoryEntry] {
        let (whereSQL, args) = scopeClause(q.scope, since: q.since, before: q.beforeSequence, visibility: q.visibility)
        return try query("SELECT \(Transaction.columns) FROM resource_version v \(whereSQL) ORDER BY v.seq DESC LIMIT ?",
                         args + [.int(Int64(q.count))]).map(entry)
    }

    func historyCount(_ scope: HistoryScope, since: Timestamp?, visibility: Visibility?) throws -> Int {
        let (whereSQL, args) = scopeClause(scope, since: since, before: nil, visibility: visibility)
        return try query("SELECT COUNT(*) FROM resource_version v \(whereSQL)", args).first.map { try $0.int(0) } ?? 0
    }

    func find(_ type: String, tokens: [TokenMatch], limit: Int) throws -> [String] {
        var sql = "SELECT r.id FROM resource r WHERE r.type = ? AND r.deleted = 0"
        var args: [PGValue] = [.text(type)]
        for t in tokens {
            sql += " AND EXISTS (SELECT 1 FROM search_token s WHERE s.patient_key = r.patient_key AND s.type = r.type AND s.id = r.id AND s.param = ?"
            args.append(.text(t.parameter))
            if let code = t.code { sql += " AND s.value = ?"; args.append(.text(code)) }
            if let system = t.system { sql += " AND s.system = ?"; args.append(.text(system)) }
            sql += ")"
        }
        sql += " ORDER BY r.id LIMIT ?"
        args.append(.int(Int64(limit)))
        return try query(sql, args).map { try $0.string(0) }
    }

    static let indexTables: [IndexEntry.Kind] = [.string, .token, .reference, .date, .number, .quantity, .uri, .composite]

    func put(_ resource: StoredResource, index: [IndexEntry]) throws {
        let type = PGValue.text(resource.type), id = PGValue.text(resource.id)
        let newKey = resource.patientKey
        let old = try key(resource.type, resource.id)
        if let old, old.version >= resource.version {
            throw StoreError.versionConflict(type: resource.type, id: resource.id, version: resource.version)
        }
        let seqRows: [PostgresRow]
        do {
            seqRows = try session.query("""
                INSERT INTO resource_version (patient_key, type, id, version, last_updated, deleted, compartments, body, labels)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq
                """, [.text(newKey), type, id, .int(Int64(resource.version)), .int(resource.lastUpdated.microseconds),
                      .int(resource.deleted ? 1 : 0), .text(resource.compartments.joined(separator: " ")), .bytes(resource.body),
                      .text(resource.labels.joined(separator: " "))])
        } catch let e as PGFailure where e.uniqueViolation {
            // The snapshot showed an older current version, so the row that collides was written
            // by a concurrent transaction: a serialization anomaly. The store re-runs the whole
            // body in a fresh transaction, which then sees that version and decides again.
            let retry = PGFailure(sqlState: "40001", message: "a concurrent transaction wrote the same version")
            failure = failure ?? retry
            throw retry
        } catch let e as PGFailure {
            if failure == nil { failure = e }
            throw e
        }
        guard let seq = try seqRows.first?.int64(0) else { throw PGFailure(sqlState: nil, message: "INSERT returned no sequence number") }
        try query("""
            INSERT INTO resource_key (type, id, patient_key, version) VALUES (?, ?, ?, ?)
            ON CONFLICT (type, id) DO UPDATE SET patient_key = EXCLUDED.patient_key, version = EXCLUDED.version
            """, [type, id, .text(newKey), .int(Int64(resource.version))])
        // the previous version's rows: its current pointer, compartments and index rows
        if let old {
            let oldCompartments = try query("SELECT compartments FROM resource_version WHERE patient_key = ? AND type = ? AND id = ? AND version = ?",
                                            [.text(old.patientKey), type, id, .int(Int64(old.version))]).first.map { try $0.string(0) } ?? ""
            let keys = Set(oldCompartments.split(separator: " ").map(String.init))
            if !keys.isEmpty {
                try query("DELETE FROM compartment WHERE patient_key = ANY(?) AND type = ? AND id = ?", [.texts(keys.sorted()), type, id])
            }
            if old.patientKey != newKey {
                try query("DELETE FROM resource WHERE patient_key = ? AND type = ? AND id = ?", [.text(old.patientKey), type, id])
            }
            let deletes = Transaction.indexTables.enumerated().map { i, kind in
                "d\(i) AS (DELETE FROM \(SearchSQL.table(kind)) WHERE patient_key = $1 AND type = $2 AND id = $3)"
            }
            try query("WITH " + deletes.joined(separator: ", ") + " SELECT 1", [.text(old.patientKey), type, id])
        }
        try query("""
            INSERT INTO resource (patient_key, type, id, seq, version, last_updated, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (patient_key, type, id) DO UPDATE SET seq = EXCLUDED.seq, version = EXCLUDED.version,
                last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted
            """, [.text(newKey), type, id, .int(seq), .int(Int64(resource.version)), .int(resource.lastUpdated.microseconds),
                  .int(resource.deleted ? 1 : 0)])
        if resource.deleted { return }
        let compartments = Array(Set(resource.compartments)).sorted()
        if !compartments.isEmpty {
            try query("INSERT INTO compartment (patient_key, type, id) SELECT unnest(?::text[]), ?, ? ON CONFLICT DO NOTHING",
                      [.texts(compartments), type, id])
        }
        try insertIndex(resource, index)
    }

    func insertIndex(_ resource: StoredResource, _ index: [IndexEntry]) throws {
        var byTable: [IndexEntry.Kind: [(Int, IndexEntry)]] = [:]
        for (ord, e) in index.enumerated() { byTable[e.kind, default: []].append((ord, e)) }
        let head: [PGValue] = [.text(resource.patientKey), .text(resource.type), .text(resource.id)]
        for kind in Transaction.indexTables {
            guard let rows = byTable[kind], !rows.isEmpty else { continue }
            let columns: String
            let width: Int
            if kind == .composite {
                columns = "patient_key, type, id, ord, param, c0_system, c0_value, c0_text, c0_low, c0_high, c1_system, c1_value, c1_text, c1_low, c1_high, c2_system, c2_value, c2_text, c2_low, c2_high"
                width = 20
            } else {
                columns = "patient_key, type, id, ord, param, system, value, text, low, high"
                width = 10
            }
            let perStatement = max(1, 30_000 / width)
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let chunk = rows[start..<min(start + perStatement, rows.count)]
                var args: [PGValue] = []
                args.reserveCapacity(chunk.count * width)
                for (ord, e) in chunk {
                    args += head
                    args += [.int(Int64(ord)), .text(e.parameter)]
                    if kind == .composite {
                        for i in 0..<3 {
                            let c = i < e.components.count ? e.components[i] : IndexEntry(parameter: "", kind: .token)
                            args += [.text(c.system), .text(c.value), .text(c.text), .real(c.low), .real(c.high)]
                        }
                    } else {
                        args += [.text(e.system), .text(e.value), .text(e.text), .real(e.low), .real(e.high)]
                    }
                }
                let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
                let values = Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
                try query("INSERT INTO \(SearchSQL.table(kind)) (\(columns)) VALUES \(values)", args)
            }
        }
    }
}

/// Keyed records (credentials, clients, authorization codes …): a small shared table.
extension Transaction {
    func record(_ kind: String, _ key: String) throws -> [UInt8]? {
        try query("SELECT value FROM record WHERE kind = ? AND key = ?", [.text(kind), .text(key)]).first.map { try $0.bytes(0) }
    }

    func records(_ kind: String) throws -> [(key: String, value: [UInt8])] {
        try query("SELECT key, value FROM record WHERE kind = ? ORDER BY key", [.text(kind)]).map { (key: try $0.string(0), value: try $0.bytes(1)) }
    }

    func putRecord(_ kind: String, _ key: String, _ value: [UInt8]?) throws {
        if let value {
            try query("INSERT INTO record (kind, key, value) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                      [.text(kind), .text(key), .bytes(value)])
        } else {
            try query("DELETE FROM record WHERE kind = ? AND key = ?", [.text(kind), .text(key)])
        }
    }
}
