import FHIR
import Foundation
import PostgresNIO
@_spi(Unguarded) import Storage

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

    func history(_ q: HistoryQuery) throws -> [HistoryEntry] {
        var args: [SQLValue] = []
        let whereSQL = SearchSQL(dialect: .postgres).historyWhere(q.scope, since: q.since, before: q.beforeSequence, visibility: q.visibility,
                                                                  alias: "v", args: &args)
        return try query("SELECT \(Transaction.columns) FROM resource_version v \(whereSQL) ORDER BY v.seq DESC LIMIT ?",
                         args.map(PGValue.init) + [.int(Int64(q.count))]).map(entry)
    }

    func historyCount(_ scope: HistoryScope, since: Timestamp?, visibility: Visibility?) throws -> Int {
        var args: [SQLValue] = []
        let whereSQL = SearchSQL(dialect: .postgres).historyWhere(scope, since: since, before: nil, visibility: visibility, alias: "v", args: &args)
        return try query("SELECT COUNT(*) FROM resource_version v \(whereSQL)", args.map(PGValue.init)).first.map { try $0.int(0) } ?? 0
    }

    /// The outbox is the version log: each version carries the id of the transaction that
    /// wrote it (`tx`). Versions are listed in (`tx`, `seq`) order and only when `tx` is below
    /// the outbox barrier (`outboxBarrier`) — every transaction of this database older than that
    /// has finished — so a transaction that took a lower sequence number but commits later is
    /// never skipped by a cursor that already moved on (several nodes write concurrently).
    func events(after position: OutboxPosition, limit: Int) throws -> [OutboxEvent] {
        try query("""
            \(outboxBarrier)
            SELECT tx, seq, type, id, version, deleted, last_updated, compartments, labels FROM resource_version
            WHERE (tx, seq) > (?, ?) AND tx < (SELECT b FROM barrier)
            ORDER BY tx, seq LIMIT ?
            """, [.int(position.transaction), .int(position.sequence), .int(Int64(limit))]).map { row in
            let compartments = try row.string(7)
            let labels = try row.string(8)
            return OutboxEvent(position: OutboxPosition(transaction: try row.int64(0), sequence: try row.int64(1)),
                               type: try row.string(2), id: try row.string(3), version: try row.int(4), deleted: try row.int(5) != 0,
                               lastUpdated: Timestamp(microseconds: try row.int64(6)),
                               compartments: compartments.isEmpty ? [] : compartments.split(separator: " ").map(String.init),
                               labels: labels.split(separator: " ").map(String.init))
        }
    }

    /// Every transaction below the outbox barrier has finished; those at or above it may still
    /// commit, so a consumer starting now starts just below it (it may see a few versions
    /// committed moments before it started, never miss one committed after).
    func latestEventPosition() throws -> OutboxPosition {
        let barrier = try query("\(outboxBarrier) SELECT b FROM barrier").first.map { try $0.int64(0) } ?? 1
        return OutboxPosition(transaction: barrier - 1, sequence: Int64.max)
    }

    func newestCommittedEventPosition() throws -> OutboxPosition {
        try query("SELECT tx, seq FROM resource_version ORDER BY tx DESC, seq DESC LIMIT 1").first.map {
            OutboxPosition(transaction: try $0.int64(0), sequence: try $0.int64(1))
        } ?? .start
    }

    /// A `WITH` clause defining `barrier(b)`: the lowest transaction id that may still commit
    /// versions into the outbox. It is the snapshot's xmin, except that transactions known not
    /// to be Enlace writers are passed over: PostgreSQL's transaction ids are cluster-wide, so
    /// with plain xmin any long transaction that has written anything anywhere on the cluster (a
    /// migration or a report in another database, another application, another schema) would
    /// hold every consumer back for as long as it runs — alerts and notifications included.
    ///
    /// Every Enlace write runs while its session holds the writers' advisory lock
    /// (`writerLockKey`, taken before `BEGIN` and released after `COMMIT`). An in-progress
    /// transaction of the snapshot (`xip`) is passed over only if `pg_locks` — one consistent
    /// copy of the lock table, read after the snapshot was taken — shows it still running (its
    /// own `transactionid` lock) in a session that does not hold that advisory lock in this
    /// database. A writer still running holds both; one that has finished since the snapshot
    /// shows neither and keeps holding the barrier (its versions are not visible to this
    /// snapshot). Lock-table transaction ids are 32-bit, the snapshot's 64-bit with the epoch:
    /// they are compared modulo 2³² (running transactions are always within 2³¹ of each other).
    /// Prepared (two-phase) transactions have no session and always hold the barrier.
    /// docs/scaling.md, "The outbox on PostgreSQL".
    var outboxBarrier: String { Transaction.outboxBarrier(session.endpoint) }

    static func outboxBarrier(_ endpoint: PostgresStore.Endpoint) -> String {
        let legacy = PostgresStore.legacyWriterLockKey
        let writers = """
            (w.classid = \(UInt32(bitPattern: PostgresStore.writerLockClass)) AND w.objid = \(UInt32(bitPattern: endpoint.writerLockObject)) AND w.objsubid = 2)
            OR (w.classid = \(legacy >> 32) AND w.objid = \(legacy & 0xFFFF_FFFF) AND w.objsubid = 1)
            """
        return """
        WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
        locks AS MATERIALIZED (SELECT locktype, mode, transactionid, pid, database, classid, objid, objsubid FROM pg_locks WHERE granted),
        elsewhere AS MATERIALIZED (
            SELECT t.transactionid::text::bigint AS x32 FROM locks t
            WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.pid IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM locks w WHERE w.pid = t.pid AND w.locktype = 'advisory'
                              AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                              AND (\(writers)))),
        barrier AS (
            SELECT LEAST(pg_snapshot_xmax(s)::text::bigint,
                         COALESCE((SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(s) AS x
                                   WHERE (x::text::bigint % 4294967296) NOT IN (SELECT x32 FROM elsewhere)),
                                  9223372036854775807)) AS b
            FROM snap)
        """
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

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        try query("SAVEPOINT enlace_entry")
        do {
            let result = try body()
            try query("RELEASE SAVEPOINT enlace_entry")
            return result
        } catch {
            // A failed statement (`failure`) fails the whole transaction (the store retries it
            // when it is a serialization failure); an error of the body's own is undone here.
            if failure == nil { try query("ROLLBACK TO SAVEPOINT enlace_entry") }
            throw error
        }
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

    func takeRecord(_ kind: String, _ key: String) throws -> [UInt8]? {
        try query("DELETE FROM record WHERE kind = ? AND key = ? RETURNING value", [.text(kind), .text(key)]).first.map { try $0.bytes(0) }
    }
}
