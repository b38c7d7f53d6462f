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

    /// Writers of another schema of the same database take that schema's writers' lock, not
    /// this one's (`Endpoint.writerLockObject`): an Enlace write in progress there neither makes
    /// this schema's writers wait nor holds its consumers back.
    @Test func anotherSchemasWriterNeitherBlocksNorHoldsBack() async throws {
        let store = try await PostgresTestDatabase.make()
        let other = try await PostgresTestDatabase.make()
        defer {
            PostgresTestDatabase.drop(store)
            PostgresTestDatabase.drop(other)
        }
        #expect(store.endpoint.writerLockObject != other.endpoint.writerLockObject)
        let start = try await store.read { try $0.latestEventPosition() }
        let open = OpenFlag()
        let holder = Task {
            try await other.withSession { session in
                try session.lockWriters()
                try session.execute("BEGIN")
                _ = try session.query("SELECT pg_current_xact_id()")
                open.set(true)
                Thread.sleep(forTimeInterval: 6)
                open.set(false)
                session.rollback()
                session.unlockWriters()
            }
        }
        while !open.value { try await Task.sleep(nanoseconds: 20_000_000) }
        try await store.write { tx in try tx.put(version("Observation", "beside-the-other-writer", 1, compartments: ["p"]), index: []) }
        #expect(open.value, "the write waited for another schema's writer")
        var seen: [OutboxEvent] = []
        while seen.isEmpty, open.value {
            seen = try await store.read { try $0.events(after: start, limit: 10) }
            if seen.isEmpty { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        let listedWhileOpen = open.value
        try await holder.value
        #expect(seen.map(\.id) == ["beside-the-other-writer"])
        #expect(listedWhileOpen, "the event was listed only after the other schema's writer ended")
    }
}

extension PostgresOutboxBarrierTests {
    /// A version can be committed and still wait below the barrier: an older transaction became
    /// an Enlace writer after it (took the writers' lock while it already had its id). The
    /// outbox does not list the version yet, but `newestCommittedEventPosition` names it, which
    /// is what lets `Door.catchUp` wait for it instead of stopping at an empty batch (the cause
    /// of a CI failure: a recommendation read before its consumer had seen the new dose).
    @Test func aCommittedVersionHeldBelowTheBarrierIsNamedAsNewest() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let start = try await store.read { try $0.latestEventPosition() }
        let began = OpenFlag(), locked = OpenFlag(), release = OpenFlag()
        let holder = Task {
            try await store.withSession { session in
                try session.execute("BEGIN")
                _ = try session.query("SELECT pg_current_xact_id()")
                began.set(true)
                while !release.value { Thread.sleep(forTimeInterval: 0.02) }
                try session.lockWriters()
                locked.set(true)
                Thread.sleep(forTimeInterval: 2)
                session.rollback()
                session.unlockWriters()
            }
        }
        while !began.value { try await Task.sleep(nanoseconds: 20_000_000) }
        try await store.write { tx in try tx.put(version("Observation", "held-below", 1, compartments: ["p"]), index: []) }
        release.set(true)
        while !locked.value { try await Task.sleep(nanoseconds: 20_000_000) }
        let listed = try await store.read { try $0.events(after: start, limit: 10) }
        let newest = try await store.read { try $0.newestCommittedEventPosition() }
        #expect(listed.isEmpty, "listed while an older writer was still running")
        #expect(newest > start)
        try await holder.value
        let after = try await store.read { try $0.events(after: start, limit: 10) }
        #expect(after.map(\.id) == ["held-below"])
        #expect(after.last?.position == newest)
    }
}

final class OpenFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set(_ v: Bool) { lock.withLock { flag = v } }
    var value: Bool { lock.withLock { flag } }
}
