import FHIR
import Foundation
import GRDB
import StorageSQLite
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
@_spi(Unguarded) import Storage
import Testing
@_spi(Unguarded) import Trust

/// `/healthz` and `/readyz` (docs/reliability.md, "Health and readiness").
@Suite("Reliability: health and readiness")
struct ReliabilityHealthTests {
    /// The status of /readyz, asked up to 6 times while it is not 200 (on a very busy machine a
    /// read can pass the 2 s deadline, which is a 503 by design).
    static func ready(_ c: Client, _ method: HTTPRequest.Method = .get) async throws -> Int {
        var status = 0
        for _ in 0..<6 {
            status = try await c.send(method, "/readyz", auth: false).status
            if status == 200 { break }
        }
        return status
    }

    @Test func readyWhenTheDatabaseAnswersAndNotAudited() async throws {
        let server = try TestServer()
        try await server.run { c in
            _ = try await c.send(.put, "/fhir/Patient/p1", json: #"{"resourceType":"Patient","id":"p1"}"#)
            let before = try await server.services.store.read { try $0.auditSize() }
            // a read slower than the 2 s deadline (a very busy machine) is a 503 by design: retry a little
            var r = try await c.send(.get, "/readyz", auth: false)
            for _ in 0..<5 where r.status != 200 { r = try await c.send(.get, "/readyz", auth: false) }
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json["status"]?.stringValue == "ready")
            #expect(r.json["migrations"]?.stringValue == "applied")
            if case let .number(n)? = r.json["auditEntries"] { #expect(Int64(n) == before) } else { Testing.Issue.record("no auditEntries: \(r.text)") }
            #expect(r.header("Cache-Control") == "no-store")
            #expect(try await ReliabilityHealthTests.ready(c, .head) == 200)
            // a probe every few seconds does not fill the ledger
            #expect(try await server.services.store.read { try $0.auditSize() } == before)
            #expect(try await c.send(.get, "/healthz", auth: false).status == 200)
        }
    }

    @Test func notReadyWhenTheSchemaIsNotMigrated() async throws {
        let server = try TestServer()
        try await server.run { c in
            #expect(try await ReliabilityHealthTests.ready(c) == 200)
            let db = try DatabaseQueue(path: server.services.configuration.databasePath)
            try await db.write { try $0.execute(sql: "ALTER TABLE audit_tree_head RENAME TO audit_tree_head_old") }
            let r = try await c.send(.get, "/readyz", auth: false)
            #expect(r.status == 503, "\(r.text)")
            #expect(r.json["reason"]?.stringValue == "schema-not-migrated", "\(r.text)")
            #expect(r.header("Retry-After") != nil)
            #expect(!r.text.contains(server.directory), "the answer names no path")
            try await db.write { try $0.execute(sql: "ALTER TABLE audit_tree_head_old RENAME TO audit_tree_head") }
            #expect(try await ReliabilityHealthTests.ready(c) == 200, "ready again once the schema is back")
        }
    }

    /// A store whose reads hang (like a PostgreSQL that was sent SIGSTOP) while `hang` is set.
    final class HangingStore: ResourceStore, @unchecked Sendable {
        let inner: SQLiteStore
        private let lock = NSLock()
        private var hanging = false
        init(_ inner: SQLiteStore) { self.inner = inner }
        var hang: Bool {
            get { lock.lock(); defer { lock.unlock() }; return hanging }
            set { lock.lock(); hanging = newValue; lock.unlock() }
        }
        func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
            while hang { try await Task.sleep(nanoseconds: 50_000_000) }
            return try await inner.read(body)
        }
        func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
            while hang { try await Task.sleep(nanoseconds: 50_000_000) }
            return try await inner.write(body)
        }
    }

    @Test func notReadyInTimeWhenTheDatabaseHangs() async throws {
        let directory = NSTemporaryDirectory() + "enlace-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = HangingStore(try SQLiteStore(path: directory + "/enlace.sqlite"))
        let server = try TestServer(store: store)
        try await server.run { c in
            #expect(try await ReliabilityHealthTests.ready(c) == 200)
            store.hang = true
            let started = ContinuousClock.now
            let r = try await c.send(.get, "/readyz", auth: false)
            let elapsed = ContinuousClock.now - started
            #expect(r.status == 503, "\(r.text)")
            #expect(r.json["reason"]?.stringValue == "database-timeout", "\(r.text)")
            // the read never ends while hanging: any answer is the deadline's (2 s; more on a loaded machine)
            #expect(elapsed < .seconds(15), "answered in \(elapsed)")
            store.hang = false
            #expect(try await ReliabilityHealthTests.ready(c) == 200, "ready again once the database answers")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test func withDeadlineAnswersOnTime() async {
        let slow = await Readiness.withDeadline(seconds: 0.1) { () async throws -> Int in
            try await Task.sleep(nanoseconds: 2_000_000_000)
            return 1
        }
        guard case .timedOut = slow else { Testing.Issue.record("expected a timeout"); return }
        let fast = await Readiness.withDeadline(seconds: 5) { 7 }
        guard case .value(7) = fast else { Testing.Issue.record("expected 7"); return }
        let failed = await Readiness.withDeadline(seconds: 5) { () async throws -> Int in throw StoreError.database("no such table: x") }
        guard case .failed(let e) = failed, e.contains("no such table") else { Testing.Issue.record("expected the error"); return }
        #expect(Readiness.reason(String(describing: StoreError.database("no such table: audit_tree_head"))) == "schema-not-migrated")
        #expect(Readiness.reason(String(describing: StoreError.database("connection refused"))) == "database-unreachable")
    }
}
