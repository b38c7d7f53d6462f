import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StoragePostgres
import StorageSQLite
import Testing

/// The storage conformance suite: every backend must give the same answers. Each test runs on
/// every backend in `Backend.allCases`: both SQLite flavours always, PostgreSQL when
/// `ENLACE_TEST_DATABASE_URL` is set (scripts/test starts a throwaway cluster and sets it).
/// Without it, `PostgresBackendIsConfigured` warns loudly and fails when `CI` is set.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteMemory, sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        let url = ProcessInfo.processInfo.environment["ENLACE_TEST_DATABASE_URL"]
        return url?.isEmpty == false ? url : nil
    }

    static var allCases: [Backend] { postgresURL == nil ? [.sqliteMemory, .sqlite] : [.sqliteMemory, .sqlite, .postgres] }

    func make() async throws -> (any ResourceStore, cleanup: @Sendable () -> Void) {
        switch self {
        case .sqliteMemory:
            return (try SQLiteStore(), {})
        case .sqlite:
            let dir = NSTemporaryDirectory() + "enlace-store-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return (try SQLiteStore(path: dir + "/db.sqlite"), { try? FileManager.default.removeItem(atPath: dir) })
        case .postgres:
            let store = try await PostgresTestDatabase.make()
            return (store, { PostgresTestDatabase.drop(store) })
        }
    }
}

/// A fresh schema per test in the database of `ENLACE_TEST_DATABASE_URL`, dropped afterwards.
enum PostgresTestDatabase {
    static func make() async throws -> PostgresStore {
        guard let base = Backend.postgresURL else { throw StoreError.database("ENLACE_TEST_DATABASE_URL is not set") }
        let schema = "enlace_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        // Dozens of schemas migrating at once (each under its own advisory lock, `Migrations.apply`)
        // ran past the statement timeout on a busy 2-core machine, so these tests migrate one
        // schema at a time and wait here, without a timeout.
        await migrating.acquire()
        do {
            let store = try await PostgresStore(url: url, maxConnections: 4)
            await migrating.release()
            return store
        } catch {
            await migrating.release()
            throw error
        }
    }

    static let migrating = OneAtATime()

    /// An asynchronous mutex: `acquire` waits its turn.
    actor OneAtATime {
        private var busy = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func acquire() async {
            if busy { await withCheckedContinuation { waiting.append($0) } } else { busy = true }
        }

        func release() {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
    }

    static func drop(_ store: PostgresStore) {
        if let schema = store.endpoint.schema {
            try? store.executeBlocking(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")
        }
        store.close()
    }
}

@Suite("PostgreSQL backend configured")
struct PostgresBackendIsConfigured {
    @Test func postgresSuiteRuns() {
        guard Backend.postgresURL == nil else { return }
        let message = """
            ********************************************************************************
            WARNING: ENLACE_TEST_DATABASE_URL is not set: the PostgreSQL conformance and search
            tests did NOT run. Use scripts/test (it starts a throwaway PostgreSQL cluster).
            ********************************************************************************
            """
        print(message)
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("CI is set but ENLACE_TEST_DATABASE_URL is not: the PostgreSQL backend was not tested")
        } else {
            withKnownIssue("the PostgreSQL backend was not tested (ENLACE_TEST_DATABASE_URL unset)") {
                Issue.record("ENLACE_TEST_DATABASE_URL unset")
            }
        }
    }
}

func version(_ type: String, _ id: String, _ v: Int, at t: Int64 = 0, deleted: Bool = false, compartments: [String] = []) -> StoredResource {
    StoredResource(type: type, id: id, version: v, lastUpdated: Timestamp(microseconds: 1_700_000_000_000_000 + t), deleted: deleted,
                   body: deleted ? [] : Array(#"{"resourceType":"\#(type)","id":"\#(id)","v":\#(v)}"#.utf8), compartments: compartments)
}

struct TestFailure: Error {}

@Suite("Storage conformance")
struct ConformanceSuite {
    @Test(arguments: Backend.allCases)
    func putThenReadCurrentAndVersions(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        try await store.write { tx in
            try tx.put(version("Patient", "a", 1, compartments: ["a"]), index: [])
            try tx.put(version("Patient", "a", 2, at: 1, compartments: ["a"]), index: [])
        }
        let current = try await store.read { try $0.current("Patient", "a") }
        #expect(current?.version == 2)
        #expect(current?.compartments == ["a"])
        #expect(current?.patientKey == "a")
        #expect(current?.lastUpdated == Timestamp(microseconds: 1_700_000_000_000_001))
        #expect(try await store.read { try $0.version("Patient", "a", 1) }?.body == version("Patient", "a", 1).body)
        #expect(try await store.read { try $0.version("Patient", "a", 3) } == nil)
        #expect(try await store.read { try $0.current("Patient", "b") } == nil)
        #expect(try await store.read { try $0.current("Observation", "a") } == nil)
    }

    @Test(arguments: Backend.allCases)
    func duplicateVersionIsAConflict(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        try await store.write { try $0.put(version("Patient", "a", 1), index: []) }
        await #expect(throws: StoreError.versionConflict(type: "Patient", id: "a", version: 1)) {
            try await store.write { try $0.put(version("Patient", "a", 1), index: []) }
        }
    }

    @Test(arguments: Backend.allCases)
    func aFailedTransactionLeavesNothingBehind(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        try await store.write { try $0.put(version("Patient", "keep", 1), index: []) }
        await #expect(throws: TestFailure.self) {
            try await store.write { tx in
                try tx.put(version("Patient", "x", 1), index: [IndexEntry(parameter: "identifier", kind: .token, system: "s", value: "v")])
                try tx.put(version("Patient", "keep", 2), index: [])
                throw TestFailure()
            }
        }
        #expect(try await store.read { try $0.current("Patient", "x") } == nil)
        #expect(try await store.read { try $0.current("Patient", "keep") }?.version == 1)
        #expect(try await store.read { try $0.historyCount(.system, since: nil, visibility: nil) } == 1)
        #expect(try await store.read { try $0.find("Patient", tokens: [TokenMatch(parameter: "identifier", system: nil, code: "v")], limit: 10) } == [])
    }

    @Test(arguments: Backend.allCases)
    func historyIsNewestFirstAndKeysetPaged(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        try await store.write { tx in
            try tx.put(version("Patient", "a", 1, at: 0), index: [])
            try tx.put(version("Observation", "o", 1, at: 1), index: [])
            try tx.put(version("Patient", "a", 2, at: 2), index: [])
            try tx.put(version("Patient", "b", 1, at: 3), index: [])
            try tx.put(version("Patient", "a", 3, at: 4, deleted: true), index: [])
        }
        let all = try await store.read { try $0.history(HistoryQuery(scope: .system, count: 10)) }
        #expect(all.map { "\($0.resource.type)/\($0.resource.id)/\($0.resource.version)" } == ["Patient/a/3", "Patient/b/1", "Patient/a/2", "Observation/o/1", "Patient/a/1"])
        #expect(all[0].resource.deleted)
        let page1 = try await store.read { try $0.history(HistoryQuery(scope: .type("Patient"), count: 2)) }
        #expect(page1.map(\.resource.version) == [3, 1])
        let page2 = try await store.read { try $0.history(HistoryQuery(scope: .type("Patient"), beforeSequence: page1.last!.sequence, count: 2)) }
        #expect(page2.map { "\($0.resource.id)/\($0.resource.version)" } == ["a/2", "a/1"])
        let instance = try await store.read { try $0.history(HistoryQuery(scope: .instance("Patient", "a"), count: 10)) }
        #expect(instance.map(\.resource.version) == [3, 2, 1])
        #expect(try await store.read { try $0.historyCount(.type("Patient"), since: nil, visibility: nil) } == 4)
        #expect(try await store.read { try $0.historyCount(.system, since: Timestamp(microseconds: 1_700_000_000_000_002), visibility: nil) } == 3)
        let since = try await store.read { try $0.history(HistoryQuery(scope: .system, since: Timestamp(microseconds: 1_700_000_000_000_003), count: 10)) }
        #expect(since.count == 2)
    }

    @Test(arguments: Backend.allCases)
    func tokenFindMatchesCurrentVersionsOnly(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        let curp = IndexEntry(parameter: "identifier", kind: .token, system: "http://www.renapo.gob.mx/curp", value: "GOMC800101HDFRRR00")
        try await store.write { tx in
            try tx.put(version("Patient", "a", 1), index: [curp])
            try tx.put(version("Patient", "b", 1), index: [IndexEntry(parameter: "identifier", kind: .token, system: "other", value: "GOMC800101HDFRRR00")])
            try tx.put(version("Patient", "c", 1), index: [curp])
            try tx.put(version("Patient", "c", 2, deleted: true), index: [])
        }
        func find(_ system: String?, _ code: String?) async throws -> [String] {
            try await store.read { try $0.find("Patient", tokens: [TokenMatch(parameter: "identifier", system: system, code: code)], limit: 10) }
        }
        #expect(try await find("http://www.renapo.gob.mx/curp", "GOMC800101HDFRRR00") == ["a"])
        #expect(try await find(nil, "GOMC800101HDFRRR00") == ["a", "b"])
        #expect(try await find("other", nil) == ["b"])
        #expect(try await find("", "GOMC800101HDFRRR00") == [])
        #expect(try await store.read { try $0.find("Observation", tokens: [TokenMatch(parameter: "identifier", system: nil, code: "GOMC800101HDFRRR00")], limit: 10) } == [])
        // an update replaces the index rows
        try await store.write { try $0.put(version("Patient", "a", 2), index: []) }
        #expect(try await find(nil, "GOMC800101HDFRRR00") == ["b"])
    }
}

extension ConformanceSuite {
    /// A resource whose patient changes (an Observation re-filed to another patient) keeps its
    /// whole history, and its current rows follow it (on PostgreSQL they move to the new
    /// patient key, i.e. to another shard in a distributed deployment).
    @Test(arguments: Backend.allCases)
    func aResourceMovingToAnotherPatientKeepsItsHistory(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        let code = IndexEntry(parameter: "code", kind: .token, system: "http://loinc.org", value: "2339-0")
        try await store.write { try $0.put(version("Observation", "o", 1, compartments: ["a"]), index: [code]) }
        try await store.write { try $0.put(version("Observation", "o", 2, at: 1, compartments: ["b", "a"]), index: [code]) }
        let current = try await store.read { try $0.current("Observation", "o") }
        #expect(current?.version == 2)
        #expect(current?.patientKey == "b")
        #expect(try await store.read { try $0.version("Observation", "o", 1) }?.compartments == ["a"])
        #expect(try await store.read { try $0.history(HistoryQuery(scope: .instance("Observation", "o"), count: 10)) }.map(\.resource.version) == [2, 1])
        #expect(try await store.read { try $0.find("Observation", tokens: [TokenMatch(parameter: "code", system: nil, code: "2339-0")], limit: 10) } == ["o"])
        func inCompartment(_ patient: String) async throws -> SearchResult {
            var query = SearchQuery(types: ["Observation"], count: 10)
            query.compartment = patient
            let q = query
            return try await store.read { try $0.search(q) }
        }
        #expect(try await inCompartment("a").matches.map(\.version) == [2])
        #expect(try await inCompartment("b").total == 1)
        try await store.write { try $0.put(version("Observation", "o", 3, at: 2, compartments: ["c"]), index: []) }
        #expect(try await inCompartment("a").total == 0)
        #expect(try await inCompartment("c").total == 1)
        #expect(try await store.read { try $0.find("Observation", tokens: [TokenMatch(parameter: "code", system: nil, code: "2339-0")], limit: 10) } == [])
        // a stale writer of an existing version conflicts, whatever patient it names
        await #expect(throws: StoreError.versionConflict(type: "Observation", id: "o", version: 2)) {
            try await store.write { try $0.put(version("Observation", "o", 2, compartments: ["z"]), index: []) }
        }
    }
}

@Suite("SQLite specifics")
struct SQLiteTests {
    @Test func walAndFullSynchronousAndIntegrity() async throws {
        let dir = NSTemporaryDirectory() + "enlace-sqlite-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/db.sqlite")
        let mode = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let sync = try await store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(sync == 2)  // FULL
        #expect(try await store.integrityCheck() == "ok")
        // reopening keeps data and migrations are idempotent
        try await store.write { try $0.put(version("Patient", "a", 1), index: []) }
        let again = try SQLiteStore(path: dir + "/db.sqlite")
        #expect(try await again.read { try $0.current("Patient", "a") }?.version == 1)
    }

    @Test func unopenableDatabaseIsAClearError() throws {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/enlace/cannot/db.sqlite") }
    }
}

import GRDB
