import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// A write's audit entry commits with the write, also when the database rolls the first attempt
/// back and the store runs the transaction again (PostgreSQL's retry after a serialization
/// failure): the retried transaction appends the entry again rather than trusting the index the
/// rolled-back attempt left on the request's audit context.
@Suite("Audit entry of a retried write")
struct AuditRetryTests {
    /// A store that rolls back the first attempt of every write (after its body ran) and runs it
    /// again, as the PostgreSQL store does on a serialization failure.
    final class RetryingStore: ResourceStore, @unchecked Sendable {
        let inner: any ResourceStore
        init(_ inner: any ResourceStore) { self.inner = inner }
        struct RolledBack: Error {}
        func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T { try await inner.read(body) }
        func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
            do {
                _ = try await inner.write { tx -> T in
                    _ = try body(tx)
                    throw RolledBack()
                }
            } catch is RolledBack {}
            return try await inner.write(body)
        }
        func close() { inner.close() }
    }

    @Test func aRetriedWriteCommitsItsAuditEntry() async throws {
        let dir = NSTemporaryDirectory() + "enlace-audit-retry-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = RetryingStore(try SQLiteStore())
        let door = Door(store: store, key: try SigningKey.loadOrCreate(in: dir))
        let principal = Principal(subject: "test-operator", scopes: ScopeSet("system/*.cruds"), tokenID: "t")
        let audit = AuditContext(requestID: "retry-1", method: "POST", path: "/fhir/Observation", query: nil, remoteAddress: nil)
        audit.principal = principal
        audit.interaction = "create"
        let guarded = try await door.open(principal, audit: audit)
        let observation = try JSONParser.parse("""
            {"resourceType":"Observation","status":"final","code":{"text":"glucosa"},"subject":{"reference":"Patient/p1"}}
            """)
        let created = try await guarded.create("Observation", observation, ifNoneExist: nil).resource
        let entries = try await store.read { tx in try tx.auditEntries(start: 0, end: try tx.auditSize()) }
        #expect(entries.count == 1, "the committed write has exactly one audit entry")
        let index = try #require(audit.recordedIndex)
        #expect(entries.first?.index == index)
        let entry = String(decoding: entries.first?.bytes ?? [], as: UTF8.self)
        #expect(entry.contains("Observation/\(created.id)"))
    }
}
