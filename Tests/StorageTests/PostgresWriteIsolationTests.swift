import FHIR
import Foundation
@_spi(Unguarded) import Storage
@testable import StoragePostgres
import Testing

/// How PostgreSQL writes are isolated (docs/scaling.md, "Writes"): one writer at a time per
/// schema, on the writers' advisory lock, in a `REPEATABLE READ` transaction — not
/// `SERIALIZABLE`, whose cluster-wide predicate locks aborted serial writers as "pivots" under
/// load — and a writer that overlaps another anyway is aborted on the ledger's counter row and
/// re-run, so the ledger stays gapless. On the test database (ENLACE_TEST_DATABASE_URL).
@Suite("PostgreSQL write isolation", .enabled(if: Backend.postgresURL != nil, "needs ENLACE_TEST_DATABASE_URL"))
struct PostgresWriteIsolationTests {
    static func entry(_ text: String) -> PendingAudit {
        PendingAudit(recorded: Timestamp(microseconds: 1_800_000_000_000_000), patients: [], bytes: Array(text.utf8))
    }

    static func chain(_ previous: [UInt8], _ bytes: [UInt8]) -> [UInt8] { Array((previous + bytes).suffix(32)) }

    @Test func aWriteRunsAtRepeatableReadHoldingItsSchemasLock() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let lock = UInt32(bitPattern: PostgresStore.writerLockClass)
        let object = UInt32(bitPattern: store.endpoint.writerLockObject)
        let (isolation, locks) = try await store.write { tx in
            let session = (tx as! Transaction).session
            let isolation = try session.query("SHOW transaction_isolation").first.map { try $0.string(0) }
            let locks = try session.query("""
                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                  AND classid = \(lock) AND objid = \(object) AND objsubid = 2
                """).first.map { try $0.int64(0) }
            return (isolation, locks)
        }
        #expect(isolation == "repeatable read")
        #expect(locks == 1)
        // and the lock is given back after the commit
        let after = try await store.rows(unsafeSQL: "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND classid = \(lock) AND objid = \(object)")
        #expect(after.first?.first == "0")
    }

    /// A writer that does not queue on the lock (a node still on the database-wide lock of
    /// before 2026-12-03) holds the counter row; the store's writer waits for it, is aborted
    /// when it commits (40001: first updater wins), re-runs, and appends after it.
    @Test func aWriterOverlappingAnotherIsAbortedAndRerunOnTheCounterRow() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let intruder = try store.pool.acquire()
        try intruder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        let first = try Transaction(session: intruder).appendAudit([Self.entry("intruder")], chain: Self.chain)
        let writer = Task { try await store.write { tx in try tx.appendAudit([Self.entry("queued")], chain: Self.chain) } }
        // the writer has its snapshot and waits on the counter row
        var waiting = false
        for _ in 0..<100 where !waiting {
            try await Task.sleep(nanoseconds: 50_000_000)
            let rows = try await store.rows(unsafeSQL: "SELECT count(*)::text FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE audit_counter%'")
            waiting = rows.first?.first.flatMap { $0.flatMap(Int.init) } ?? 0 > 0
        }
        #expect(waiting, "the store's writer should wait for the counter row")
        try intruder.execute("COMMIT")
        store.pool.release(intruder)
        let second = try await writer.value
        #expect(first == [0])
        #expect(second == [1])
        let entries = try await store.read { try $0.auditEntries(start: 0, end: 10) }
        #expect(entries.map(\.index) == [0, 1])
        #expect(entries.map { String(decoding: $0.bytes, as: UTF8.self) } == ["intruder", "queued"])
        #expect(try await store.read { try $0.auditSize() } == 2)
    }
}
