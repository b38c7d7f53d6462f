import FHIR
import Foundation
import Logging
import PostgresNIO
@_spi(Unguarded) import Storage
@testable import StoragePostgres
import Testing

/// Not a test of speed (nothing here asserts a time): a measurement for BENCHMARKS.md of the
/// store's blocking pool (NIOThreadPool threads waiting on PostgresNIO futures) against
/// PostgresNIO's own async `PostgresClient`, doing the same work at the same concurrency: N
/// point reads, each `BEGIN REPEATABLE READ READ ONLY; SELECT …; COMMIT` as `PostgresStore.read`
/// does, and N bare `SELECT`s. Prints requests/s and this process's CPU time per request
/// (CLOCK_PROCESS_CPUTIME_ID: the client's cost, the PostgreSQL server is another process), which moves far
/// less with the load of a shared machine than wall time does.
///
///     ENLACE_BENCH_PG_POOL=4000 ENLACE_TEST_DATABASE_URL=… swift test --filter PostgresPoolBench
@Suite("PostgreSQL pool: blocking vs PostgresNIO async (bench, opt-in)",
       .enabled(if: Backend.postgresURL != nil && ProcessInfo.processInfo.environment["ENLACE_BENCH_PG_POOL"] != nil))
struct PostgresPoolBench {
    static let n = Int(ProcessInfo.processInfo.environment["ENLACE_BENCH_PG_POOL"] ?? "") ?? 2000
    static let concurrency = 8

    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func measure(_ label: String, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> (perSecond: Double, cpuMicros: Double) {
        let per = n / concurrency
        let cpu0 = cpuSeconds()
        let t0 = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask { for i in 0..<per { try await body(w * per + i) } }
            }
            try await group.waitForAll()
        }
        let wall = Date().timeIntervalSince(t0)
        let cpu = cpuSeconds() - cpu0
        let done = Double(per * concurrency)
        let r = (done / wall, cpu / done * 1e6)
        print("PG-POOL-BENCH \(label): \(Int(done)) requests, concurrency \(concurrency): \(Int(r.0)) req/s, \(Int(r.1)) µs client CPU/request")
        return r
    }

    @Test func blockingPoolAgainstAsyncClient() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        // 200 small resources to read by id
        try await store.write { tx in
            for i in 0..<200 {
                try tx.put(StoredResource(type: "Patient", id: "p\(i)", version: 1, lastUpdated: Timestamp(microseconds: Int64(i)), deleted: false,
                                          body: Array("{\"resourceType\":\"Patient\",\"id\":\"p\(i)\"}".utf8), compartments: ["p\(i)"], labels: []),
                           index: [])
            }
        }
        // the blocking pool, through the store's own read path
        let blockingRead = try await Self.measure("blocking pool, read transaction (BEGIN; SELECT; COMMIT)") { i in
            let found = try await store.read { try $0.current("Patient", "p\(i % 200)") }
            precondition(found != nil)
        }
        let blockingSelect = try await Self.measure("blocking pool, one SELECT") { i in
            let rows = try await store.withSession { s in try s.query("SELECT body FROM resource_version WHERE type = ? AND id = ?", [.text("Patient"), .text("p\(i % 200)")]) }
            precondition(rows.count == 1)
        }

        let e = store.endpoint
        var config = PostgresClient.Configuration(host: e.host, port: e.port, username: e.user, password: e.password, database: e.database, tls: .disable)
        config.options.maximumConnections = 4   // the store above was opened with 4 connections
        config.options.additionalStartupParameters = [("search_path", e.schema!), ("synchronous_commit", "on")]
        let client = PostgresClient(configuration: config, backgroundLogger: Logger(label: "bench"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let asyncRead = try await Self.measure("PostgresClient async, read transaction (BEGIN; SELECT; COMMIT)") { i in
                let id = "p\(i % 200)"
                try await client.withConnection { c in
                    try await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: Logger(label: "bench"))
                    // the same two statements as PostgresStore's `current`: the key, then the version
                    var key: (String, Int)?
                    for try await (patientKey, version) in try await c.query("SELECT patient_key, version FROM resource_key WHERE type = 'Patient' AND id = \(id)",
                                                                             logger: Logger(label: "bench")).decode((String, Int).self) {
                        key = (patientKey, version)
                    }
                    let k = key!
                    let rows = try await c.query("""
                        SELECT v.seq, v.type, v.id, v.version, v.last_updated, v.deleted, v.compartments, v.body, v.labels FROM resource_version v
                        WHERE v.patient_key = \(k.0) AND v.type = 'Patient' AND v.id = \(id) AND v.version = \(k.1)
                        """, logger: Logger(label: "bench"))
                    var count = 0
                    for try await _ in rows { count += 1 }
                    precondition(count == 1)
                    try await c.query("COMMIT", logger: Logger(label: "bench"))
                }
            }
            let asyncSelect = try await Self.measure("PostgresClient async, one SELECT") { i in
                let rows = try await client.query("SELECT body FROM resource_version WHERE type = 'Patient' AND id = \("p\(i % 200)")")
                var count = 0
                for try await _ in rows { count += 1 }
                precondition(count == 1)
            }
            print("PG-POOL-BENCH ratio async/blocking req/s: read \(asyncRead.perSecond / blockingRead.perSecond), select \(asyncSelect.perSecond / blockingSelect.perSecond)")
            group.cancelAll()
        }
    }
}
