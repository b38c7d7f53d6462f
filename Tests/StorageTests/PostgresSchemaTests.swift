import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StoragePostgres
import Testing

/// What can be checked of the Citus design without Citus (docs/scaling.md): the live catalog
/// of a migrated database has `patient_key` in the primary key and in every unique index of
/// every patient-compartment table, and every table is either distributed by patient or in the
/// short list of shared tables.
@Suite("PostgreSQL specifics", .enabled(if: Backend.postgresURL != nil, "needs ENLACE_TEST_DATABASE_URL"))
struct PostgresSchemaTests {
    /// Tables that are not keyed by patient, and why (docs/scaling.md).
    static let sharedTables: Set<String> = [
        "resource_key",      // (type, id) → patient_key: distributed by id (or a reference table)
        "audit_entry",       // the global ledger: one sequence for the whole deployment
        "record",            // credentials, SMART clients, codes: small, shared by every node (a reference table)
        "audit_counter",     // its one-row counter
        "audit_tree_head",   // signed tree heads of that ledger
        "schema_migrations",
    ]

    @Test func everyPatientTableIsKeyedByPatient() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let schema = store.endpoint.schema!
        let tables = Set(try await store.rows(unsafeSQL: """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '\(schema)' AND c.relkind = 'r'
            """).compactMap { $0[0] })
        let patientTables = Set(PostgresStore.patientCompartmentTables)
        #expect(patientTables.isSubset(of: tables))
        #expect(tables == patientTables.union(Self.sharedTables), "every table is either distributed by patient or listed as shared")
        #expect(patientTables.isDisjoint(with: Self.sharedTables))
        for table in patientTables.sorted() {
            let indexes = try await store.rows(unsafeSQL: """
                SELECT ix.indexrelid::regclass::text, ix.indisprimary::text,
                       (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum)
                FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = '\(schema)' AND t.relname = '\(table)' AND ix.indisunique
                """)
            #expect(indexes.filter { $0[1] == "true" }.count == 1, "\(table) has a primary key")
            for row in indexes {
                let columns = (row[2] ?? "").split(separator: ",").map(String.init)
                #expect(columns.contains("patient_key"), "\(table): unique index \(row[0] ?? "?") (\(columns)) lacks patient_key")
            }
            let hasColumn = try await store.rows(unsafeSQL: """
                SELECT 1 FROM information_schema.columns WHERE table_schema = '\(schema)' AND table_name = '\(table)' AND column_name = 'patient_key'
                """)
            #expect(hasColumn.count == 1, "\(table) has patient_key")
        }
    }

    @Test func migrationsAreVersionedAndIdempotent() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        #expect(try await store.appliedMigrations() == [1, 2, 3, 4, 5, 6])
        try await store.migrate()
        #expect(try await store.appliedMigrations() == [1, 2, 3, 4, 5, 6])
        let sync = try await store.rows(unsafeSQL: "SHOW synchronous_commit")
        #expect(sync.first?[0] == "on")
        let collation = try await store.rows(unsafeSQL: """
            SELECT collation_name FROM information_schema.columns
            WHERE table_schema = '\(store.endpoint.schema!)' AND table_name = 'search_string' AND column_name = 'value'
            """)
        #expect(collation.first?[0] == "C")
    }

    @Test func badCredentialsAndDeadServersFailFastAndClearly() async throws {
        let url = try StoragePostgres.PostgresStore.Endpoint(url: Backend.postgresURL!)
        let start = Date()
        let wrong = "postgres://\(url.user):not-the-password-42@\(url.host):\(url.port)/\(url.database)"
        do {
            _ = try await PostgresStore(url: wrong)
            Issue.record("a wrong password connected")
        } catch let StoreError.database(message) {
            #expect(message.contains("\(url.host):\(url.port)/\(url.database)"))
            #expect(message.contains("password"))
            #expect(!message.contains("not-the-password-42"))
        }
        // This guards against a hang, not speed: a debug build computes SCRAM-SHA-256 (4,096
        // PBKDF2 rounds) slowly, and took 24 s once while other builds shared the 2 cores. The
        // release binary answers within a second (tests/e2e/test_postgres.py checks the CLI). It
        // took 100 s once with four debug builds and a test run sharing the machine: the bound is
        // only there to turn a hang into a failure.
        #expect(Date().timeIntervalSince(start) < 300)
        let dead = Date()
        do {
            _ = try await PostgresStore(url: "postgres://enlace:secret-pw@127.0.0.1:1/x")
            Issue.record("a dead server connected")
        } catch let StoreError.database(message) {
            #expect(message.contains("127.0.0.1:1/x"))
            #expect(!message.contains("secret-pw"))
        }
        #expect(Date().timeIntervalSince(dead) < 10)
    }

    /// Many concurrent writers on one database: a read-then-write (as conditional create and
    /// If-Match do) never loses an update: writers queue on the schema's lock, and retry on a conflict.
    @Test func concurrentReadModifyWriteLosesNothing() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let other = try await PostgresStore(url: "\(Backend.postgresURL!)\(Backend.postgresURL!.contains("?") ? "&" : "?")schema=\(store.endpoint.schema!)",
                                            maxConnections: 4)
        defer { other.close() }
        let stores: [PostgresStore] = [store, other]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<8 {
                group.addTask {
                    for _ in 0..<10 {
                        _ = try await stores[w % 2].write { tx -> Int in
                            let next = (try tx.current("Patient", "shared")?.version ?? 0) + 1
                            try tx.put(version("Patient", "shared", next, at: Int64(next), compartments: ["shared"]),
                                       index: [IndexEntry(parameter: "identifier", kind: .token, system: "s", value: "v\(next)")])
                            _ = try tx.appendAudit([PendingAudit(recorded: Timestamp(microseconds: 0), patients: ["shared"], bytes: [UInt8(next % 256)])], chain: { prev, bytes in Array((prev + bytes).suffix(32)) })
                            return next
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.read { try $0.current("Patient", "shared") }?.version == 80)
        #expect(try await store.read { try $0.historyCount(.instance("Patient", "shared"), since: nil, visibility: nil) } == 80)
        #expect(try await store.read { try $0.auditSize() } == 80)
        let indexes = try await store.read { try $0.auditEntries(start: 0, end: 100).map(\.index) }
        #expect(indexes == Array(0..<80))
        #expect(try await store.read { try $0.find("Patient", tokens: [TokenMatch(parameter: "identifier", system: nil, code: nil)], limit: 10) } == ["shared"])
    }
}
