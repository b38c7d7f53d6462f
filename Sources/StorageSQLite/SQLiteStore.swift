import FHIR
import Foundation
import GRDB
@_spi(Unguarded) import Storage

/// The embedded backend: one SQLite database file through GRDB, in WAL mode with
/// `synchronous=FULL`, so a write that returned has been fsynced and survives `kill -9` or a
/// power cut (https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html#pragma_synchronous).
///
/// Layout: `resource_version` keeps every version (the body once), `resource` points at the
/// current version of each resource, `compartment` lists the patients whose compartment holds
/// a resource, `search_token` holds token index rows. Every row carries `patient_key`.
public final class SQLiteStore: ResourceStore {
    /// The GRDB writer: a `DatabasePool` (WAL) for files, a `DatabaseQueue` in memory.
    public let writer: any DatabaseWriter
    public let path: String

    /// A private in-memory database, for tests: same schema, same SQL, not durable.
    public init() throws {
        path = ":memory:"
        var config = Configuration()
        config.prepareDatabase { db in db.add(function: SQLiteStore.bodyFunction) }
        do {
            writer = try DatabaseQueue(configuration: config)
            try SQLiteStore.migrator.migrate(writer)
        } catch {
            throw StoreError.database("cannot create an in-memory SQLite database: \(error)")
        }
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// Throws `StoreError.database` with a readable message if the file cannot be opened.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            db.add(function: SQLiteStore.bodyFunction)
        }
        config.busyMode = .timeout(10)
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            // GRDB sets synchronous=NORMAL on the WAL writer after prepareDatabase runs; NORMAL
            // can lose the last commits on power loss, so the writer is set back to FULL here.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try SQLiteStore.migrator.migrate(pool)
            // refresh the planner's statistics where they are stale (cheap; https://www.sqlite.org/lang_analyze.html)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA optimize") }
            writer = pool
        } catch {
            throw StoreError.database("cannot open the SQLite database at \(path): \(error)")
        }
    }

    /// `enlace_body(body)`: the JSON a stored body holds (BodyCodec), for the SQL that reads
    /// bodies (`_content`, `_text`); NULL when it cannot be read.
    static let bodyFunction = DatabaseFunction("enlace_body", argumentCount: 1, pure: true) { values -> String? in
        guard let data = Data.fromDatabaseValue(values[0]), let plain = try? BodyCodec.decode([UInt8](data)) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-resources") { db in
            try db.execute(sql: """
                CREATE TABLE resource_version (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    type TEXT NOT NULL,
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    last_updated INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    patient_key TEXT NOT NULL,
                    compartments TEXT NOT NULL,
                    body BLOB NOT NULL,
                    UNIQUE (type, id, version)
                );
                CREATE INDEX resource_version_type ON resource_version (type, seq);
                CREATE TABLE resource (
                    type TEXT NOT NULL,
                    id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    last_updated INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    patient_key TEXT NOT NULL,
                    PRIMARY KEY (type, id)
                ) WITHOUT ROWID;
                CREATE TABLE compartment (
                    patient_key TEXT NOT NULL,
                    type TEXT NOT NULL,
                    id TEXT NOT NULL,
                    PRIMARY KEY (patient_key, type, id)
                ) WITHOUT ROWID;
                CREATE INDEX compartment_resource ON compartment (type, id);
                """)
            for kind in ["string", "token", "reference", "date", "number", "quantity", "uri"] {
                try db.execute(sql: """
                    CREATE TABLE search_\(kind) (
                        type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
                        system TEXT NOT NULL, value TEXT NOT NULL, text TEXT NOT NULL,
                        low REAL, high REAL, patient_key TEXT NOT NULL
                    );
                    CREATE INDEX search_\(kind)_resource ON search_\(kind) (type, id);
                    """)
            }
            try db.execute(sql: """
                CREATE INDEX search_string_value ON search_string (type, param, value);
                CREATE INDEX search_string_text ON search_string (type, param, text);
                CREATE INDEX search_token_value ON search_token (type, param, value, system);
                CREATE INDEX search_token_text ON search_token (type, param, text);
                CREATE INDEX search_reference_value ON search_reference (type, param, value, system);
                CREATE INDEX search_reference_target ON search_reference (system, value);
                CREATE INDEX search_reference_text ON search_reference (type, param, text);
                CREATE INDEX search_date_low ON search_date (type, param, low);
                CREATE INDEX search_date_high ON search_date (type, param, high);
                CREATE INDEX search_number_low ON search_number (type, param, low);
                CREATE INDEX search_quantity_value ON search_quantity (type, param, value, low);
                CREATE INDEX search_uri_value ON search_uri (type, param, value);
                CREATE TABLE search_composite (
                    type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
                    c0_system TEXT NOT NULL, c0_value TEXT NOT NULL, c0_text TEXT NOT NULL, c0_low REAL, c0_high REAL,
                    c1_system TEXT NOT NULL, c1_value TEXT NOT NULL, c1_text TEXT NOT NULL, c1_low REAL, c1_high REAL,
                    c2_system TEXT NOT NULL, c2_value TEXT NOT NULL, c2_text TEXT NOT NULL, c2_low REAL, c2_high REAL,
                    patient_key TEXT NOT NULL
                );
                CREATE INDEX search_composite_resource ON search_composite (type, id);
                CREATE INDEX search_composite_value ON search_composite (type, param, c0_value, c1_value);
                """)
        }
        m.registerMigration("v2-audit") { db in
            try db.execute(sql: """
                CREATE TABLE audit_entry (
                    idx INTEGER PRIMARY KEY,
                    recorded INTEGER NOT NULL,
                    patients TEXT NOT NULL,
                    bytes BLOB NOT NULL,
                    chain BLOB NOT NULL
                );
                CREATE TABLE audit_patient (
                    patient_key TEXT NOT NULL,
                    idx INTEGER NOT NULL,
                    PRIMARY KEY (patient_key, idx)
                ) WITHOUT ROWID;
                CREATE TABLE audit_tree_head (
                    tree_size INTEGER PRIMARY KEY,
                    root BLOB NOT NULL,
                    timestamp INTEGER NOT NULL,
                    signature BLOB NOT NULL
                );
                """)
        }
        m.registerMigration("v3-records") { db in
            try db.execute(sql: """
                CREATE TABLE record (
                    kind TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value BLOB NOT NULL,
                    PRIMARY KEY (kind, key)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v4-labels") { db in
            try db.execute(sql: "ALTER TABLE resource_version ADD COLUMN labels TEXT NOT NULL DEFAULT ''")
        }
        m.registerMigration("v5-compact-index") { db in
            for statement in IndexCompaction.statements { try db.execute(sql: statement) }
        }
        return m
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        do {
            return try await writer.read { db in try body(Connection(db: db)) }
        } catch let e as DatabaseError {
            throw SQLiteStore.map(e)
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        do {
            return try await writer.write { db in try body(Connection(db: db)) }
        } catch let e as DatabaseError {
            if e.resultCode == .SQLITE_CONSTRAINT { throw StoreError.database("conflicting concurrent write: \(e.message ?? "")") }
            throw SQLiteStore.map(e)
        }
    }

    /// A GRDB error as the store's error: a full disk is `storageFull`, the rest `database`.
    static func map(_ e: DatabaseError) -> StoreError {
        e.resultCode == .SQLITE_FULL ? .storageFull(describe(e)) : .database(describe(e))
    }

    /// Database errors without SQL arguments (which could hold resource content).
    static func describe(_ e: DatabaseError) -> String {
        "SQLite error \(e.resultCode.rawValue): \(e.message ?? "unknown")"
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() async throws -> String {
        try await writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    struct Connection: StoreTransaction {
        let db: Database

        static let columns = "seq, type, id, version, last_updated, deleted, compartments, body, labels"
        static let versionColumns = "v.seq, v.type, v.id, v.version, v.last_updated, v.deleted, v.compartments, v.body, v.labels"

        func row(_ r: Row) -> HistoryEntry {
            HistoryEntry(sequence: r["seq"], resource: SQLiteStore.Connection.stored(r))
        }

        func current(_ type: String, _ id: String) throws -> StoredResource? {
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT \(Connection.columns) FROM resource_version
                WHERE seq = (SELECT seq FROM resource WHERE type = ? AND id = ?)
                """), arguments: [type, id]).map { row($0).resource }
        }

        func version(_ type: String, _ id: String, _ version: Int) throws -> StoredResource? {
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Connection.columns) FROM resource_version WHERE type = ? AND id = ? AND version = ?"),
                             arguments: [type, id, version]).map { row($0).resource }
        }

        static func stored(_ r: Row) -> StoredResource {
            let compartments: String = r["compartments"]
            let stored: Data = r["body"]
            // a body that cannot be decoded (a damaged file) is passed on as it is: reading it as
            // JSON then fails with the resource named, instead of the whole read failing here
            let body = (try? BodyCodec.decode([UInt8](stored))) ?? [UInt8](stored)
            let labels: String? = r["labels"]
            return StoredResource(type: r["type"], id: r["id"], version: r["version"],
                                  lastUpdated: Timestamp(microseconds: r["last_updated"]), deleted: r["deleted"],
                                  body: body, compartments: compartments.isEmpty ? [] : compartments.split(separator: " ").map(String.init),
                                  labels: (labels ?? "").split(separator: " ").map(String.init))
        }

        func history(_ query: HistoryQuery) throws -> [HistoryEntry] {
            var args: [SQLValue] = []
            let whereSQL = SearchSQL(dialect: .sqlite).historyWhere(query.scope, since: query.since, before: query.beforeSequence,
                                                                    visibility: query.visibility, alias: "v", args: &args)
            return try Row.fetchAll(db, sql: "SELECT \(Connection.versionColumns) FROM resource_version v \(whereSQL) ORDER BY v.seq DESC LIMIT ?",
                                    arguments: StatementArguments(args) + [query.count]).map(row)
        }

        func historyCount(_ scope: HistoryScope, since: Timestamp?, visibility: Visibility?) throws -> Int {
            var args: [SQLValue] = []
            let whereSQL = SearchSQL(dialect: .sqlite).historyWhere(scope, since: since, before: nil, visibility: visibility, alias: "v", args: &args)
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resource_version v \(whereSQL)", arguments: StatementArguments(args)) ?? 0
        }

        /// The outbox is the version log itself: `seq` grows with every committed version and
        /// SQLite has one writer, so the order of `seq` is the order of commits.
        func events(after position: OutboxPosition, limit: Int) throws -> [OutboxEvent] {
            try Row.fetchAll(db, sql: """
                SELECT seq, type, id, version, deleted, last_updated, compartments, labels FROM resource_version
                WHERE seq > ? ORDER BY seq LIMIT ?
                """, arguments: [position.sequence, limit]).map { r in
                let compartments: String = r["compartments"]
                let labels: String? = r["labels"]
                return OutboxEvent(position: OutboxPosition(transaction: 0, sequence: r["seq"]), type: r["type"], id: r["id"], version: r["version"],
                                   deleted: r["deleted"], lastUpdated: Timestamp(microseconds: r["last_updated"]),
                                   compartments: compartments.isEmpty ? [] : compartments.split(separator: " ").map(String.init),
                                   labels: (labels ?? "").split(separator: " ").map(String.init))
            }
        }

        func latestEventPosition() throws -> OutboxPosition {
            OutboxPosition(transaction: 0, sequence: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM resource_version") ?? 0)
        }

        /// One writer: every committed version is listed at once.
        func newestCommittedEventPosition() throws -> OutboxPosition { try latestEventPosition() }

        func find(_ type: String, tokens: [TokenMatch], limit: Int) throws -> [String] {
            var sql = "SELECT r.id FROM resource r WHERE r.type = ? AND r.deleted = 0"
            var args: StatementArguments = [type]
            for t in tokens {
                sql += " AND EXISTS (SELECT 1 FROM search_token s WHERE s.type = r.type AND s.id = r.id AND s.param = ?"
                args += [t.parameter]
                if let code = t.code { sql += " AND s.value = ?"; args += [code] }
                if let system = t.system { sql += " AND s.system = ?"; args += [system] }
                sql += ")"
            }
            sql += " ORDER BY r.id LIMIT ?"
            args += [limit]
            return try String.fetchAll(db, sql: sql, arguments: args)
        }

        func put(_ resource: StoredResource, index: [IndexEntry]) throws {
            do {
                try db.cachedStatement(sql: """
                    INSERT INTO resource_version (type, id, version, last_updated, deleted, patient_key, compartments, body, labels)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [resource.type, resource.id, resource.version, resource.lastUpdated.microseconds,
                                     resource.deleted, resource.patientKey, resource.compartments.joined(separator: " "),
                                     Data(BodyCodec.encode(resource.body)), resource.labels.joined(separator: " ")])
            } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.versionConflict(type: resource.type, id: resource.id, version: resource.version)
            }
            let seq = db.lastInsertedRowID
            try db.cachedStatement(sql: """
                INSERT INTO resource (type, id, seq, version, last_updated, deleted, patient_key) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (type, id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
                    last_updated = excluded.last_updated, deleted = excluded.deleted, patient_key = excluded.patient_key
                """).execute(arguments: [resource.type, resource.id, seq, resource.version, resource.lastUpdated.microseconds,
                                 resource.deleted, resource.patientKey])
            if resource.version > 1 {
                try db.cachedStatement(sql: "DELETE FROM compartment WHERE type = ? AND id = ?").execute(arguments: [resource.type, resource.id])
            }
            if !resource.deleted {
                for p in resource.compartments {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO compartment (patient_key, type, id) VALUES (?, ?, ?)")
                        .execute(arguments: [p, resource.type, resource.id])
                }
            }
            try replaceIndex(resource, index)
        }

        func savepoint<T>(_ body: () throws -> T) throws -> T {
            var result: T?
            try db.inSavepoint {
                result = try body()
                return .commit
            }
            return result!
        }

        static let indexKinds: [IndexEntry.Kind] = [.string, .token, .reference, .date, .number, .quantity, .uri, .composite]

        /// Rows per multi-row INSERT: a batch is cut into statements of these sizes (largest
        /// first), each a cached prepared statement, so a resource's index rows take a few
        /// statements per table instead of one per row.
        static let chunkSizes = [32, 8, 1]

        /// `INSERT INTO table (columns) VALUES (…), (…)` for every index table and chunk size,
        /// built once (the text is the key of GRDB's statement cache).
        static let insertSQL: [String: [Int: String]] = {
            var out: [String: [Int: String]] = [:]
            for kind in Connection.indexKinds {
                let table = SearchSQL.table(kind)
                let (columns, width) = kind == .composite ? (Connection.compositeColumns, 19) : (Connection.indexColumns, 9)
                let one = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
                for size in Connection.chunkSizes {
                    out[table, default: [:]][size] = "INSERT INTO \(table) (\(columns)) VALUES " + Array(repeating: one, count: size).joined(separator: ", ")
                }
            }
            return out
        }()

        /// The cached `INSERT INTO table (columns) VALUES (…), (…)` with `rows` rows.
        func insertStatement(_ table: String, _ columns: String, width: Int, rows: Int) throws -> Statement {
            if let sql = Connection.insertSQL[table]?[rows] { return try db.cachedStatement(sql: sql) }
            let one = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
            return try db.cachedStatement(sql: "INSERT INTO \(table) (\(columns)) VALUES " + Array(repeating: one, count: rows).joined(separator: ", "))
        }

        /// Inserts `rows` (each `width` values) into `table` with as few statements as the chunk sizes allow.
        func insertRows(_ table: String, _ columns: String, width: Int, _ rows: [[(any DatabaseValueConvertible)?]]) throws {
            var start = 0
            while start < rows.count {
                let left = rows.count - start
                let size = Connection.chunkSizes.first { $0 <= left } ?? 1
                var values: [(any DatabaseValueConvertible)?] = []
                values.reserveCapacity(size * width)
                for r in rows[start..<(start + size)] { values.append(contentsOf: r) }
                try insertStatement(table, columns, width: width, rows: size).execute(arguments: StatementArguments(values))
                start += size
            }
        }

        static let indexColumns = "type, id, param, system, value, text, low, high, patient_key"
        static let compositeColumns = """
            type, id, param, c0_system, c0_value, c0_text, c0_low, c0_high, c1_system, c1_value, c1_text, c1_low, c1_high, \
            c2_system, c2_value, c2_text, c2_low, c2_high, patient_key
            """

        func replaceIndex(_ resource: StoredResource, _ index: [IndexEntry]) throws {
            // Version 1 is the first version of (type, id) (UNIQUE (type, id, version) refuses a
            // second one), so there are no older index rows to remove.
            if resource.version > 1 {
                for kind in Connection.indexKinds {
                    try db.cachedStatement(sql: "DELETE FROM \(SearchSQL.table(kind)) WHERE type = ? AND id = ?").execute(arguments: [resource.type, resource.id])
                }
            }
            if resource.deleted { return }
            var byKind: [IndexEntry.Kind: [[(any DatabaseValueConvertible)?]]] = [:]
            for e in index {
                if e.kind == .composite {
                    var row: [(any DatabaseValueConvertible)?] = [resource.type, resource.id, e.parameter]
                    row.reserveCapacity(19)
                    for i in 0..<3 {
                        let c = i < e.components.count ? e.components[i] : IndexEntry(parameter: "", kind: .token)
                        row += [c.system, c.value, c.text, c.low, c.high]
                    }
                    row.append(resource.patientKey)
                    byKind[.composite, default: []].append(row)
                } else {
                    byKind[e.kind, default: []].append([resource.type, resource.id, e.parameter, e.system, e.value, e.text, e.low, e.high, resource.patientKey])
                }
            }
            for kind in Connection.indexKinds {
                guard let rows = byKind[kind] else { continue }
                if kind == .composite {
                    try insertRows("search_composite", Connection.compositeColumns, width: 19, rows)
                } else {
                    try insertRows(SearchSQL.table(kind), Connection.indexColumns, width: 9, rows)
                }
            }
        }
    }
}
