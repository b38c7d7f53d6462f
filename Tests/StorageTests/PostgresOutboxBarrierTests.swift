import Foundation
@_spi(Unguarded) import Storage
@testable import StoragePostgres
import Testing

/// The outbox barrier on PostgreSQL (`Transaction.outboxBarrier`, docs/scaling.md, "The outbox
/// on PostgreSQL"): a long transaction that is not an Enlace write — here one that has taken a
/// transaction id in another schema of the same cluster, as a report, a migration of another
/// application or another test would — does not hold consumers back, while the concurrent-writer
/// test of the conformance suite shows that Enlace's own writers still do.
@Suite("PostgreSQL outbox barrier", .enabled(if: Backend.postgresURL != nil, "needs ENLACE_TEST_DATABASE_URL"))
struct PostgresOutboxBarrierTests {
    @Test func aLongForeignTransactionDoesNotHoldConsumersBack() async throws {
        let store = try await PostgresTestDatabase.make()
        let other = try await PostgresTestDatabase.make()
        defer {
            PostgresTestDatabase.drop(store)
            PostgresTestDatabase.drop(other)
        }
        let start = try await store.read { try $0.latestEventPosition() }
        let holding = 6.0
        let began = Date()
        // a transaction with an id, open for `holding` seconds, outside Enlace's writers' lock
        let holder = Task {
            try await other.withSession { session in
                try session.execute("BEGIN")
                _ = try session.query("SELECT pg_current_xact_id()")
                Thread.sleep(forTimeInterval: holding)
                session.rollback()
            }
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        try await store.write { tx in try tx.put(version("Observation", "after-the-holder", 1, compartments: ["p"]), index: []) }
        var seen: [OutboxEvent] = []
        while seen.isEmpty, Date().timeIntervalSince(began) < holding + 10 {
            seen = try await store.read { try $0.events(after: start, limit: 10) }
            if seen.isEmpty { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        let waited = Date().timeIntervalSince(began)
        try await holder.value
        #expect(seen.map(\.id) == ["after-the-holder"])
        // seen while the foreign transaction was still open (with the snapshot's xmin as the
        // barrier it would have been seen only after the holder ended)
        #expect(waited < holding - 1, "listed after \(waited) s; the foreign transaction was open for \(holding) s")
    }
}
