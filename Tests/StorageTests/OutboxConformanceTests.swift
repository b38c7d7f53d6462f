import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// The event outbox on every backend: each committed version is listed exactly once, in an order
/// a cursor can follow — also while several writers commit concurrently, and never a version of
/// a transaction that rolled back.
@Suite("Event outbox conformance")
struct OutboxConformanceTests {
    @Test(arguments: Backend.allCases)
    func versionsAreListedOnceAfterTheCursor(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        let start = try await store.read { try $0.latestEventPosition() }
        try await store.write { tx in
            try tx.put(version("Patient", "a", 1, compartments: ["a"]), index: [])
            try tx.put(version("Observation", "o", 1, compartments: ["a"]), index: [])
        }
        try await store.write { tx in try tx.put(version("Patient", "a", 2, at: 1, deleted: true, compartments: ["a"]), index: []) }
        // a transaction that fails leaves no event
        try? await store.write { tx in
            try tx.put(version("Patient", "b", 1, compartments: ["b"]), index: [])
            throw TestFailure()
        }
        // On PostgreSQL a version is listed once every older transaction of the database has
        // finished (the snapshot's xmin), and other tests' transactions — a schema migrating — may
        // hold that back for a while on a busy machine: wait for it (bounded) before looking.
        var events: [OutboxEvent] = []
        for _ in 0..<600 {
            events = try await store.read { try $0.events(after: start, limit: 100) }
            if events.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(events.map(\.reference) == ["Patient/a", "Observation/o", "Patient/a"])
        #expect(events.map(\.interaction) == ["create", "create", "delete"])
        #expect(events.allSatisfy { $0.compartments == ["a"] })
        // paging by the cursor: two, then one, then none
        let first = try await store.read { try $0.events(after: start, limit: 2) }
        #expect(first.count == 2)
        let firstLast = try #require(first.last)
        let rest = try await store.read { try $0.events(after: firstLast.position, limit: 2) }
        #expect(rest.map(\.reference) == ["Patient/a"] && rest.first?.version == 2)
        let restLast = try #require(rest.last)
        #expect(try await store.read { try $0.events(after: restLast.position, limit: 2) }.isEmpty)
        // a position survives its text form (how cursors are stored)
        #expect(OutboxPosition(restLast.position.description) == restLast.position)
    }

    /// Writers race; a reader follows the outbox with a cursor while they write. Every version
    /// committed is seen exactly once — none skipped because a transaction that took an earlier
    /// sequence number committed later.
    @Test(arguments: Backend.allCases)
    func aCursorMissesNothingUnderConcurrentWriters(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        let start = try await store.read { try $0.latestEventPosition() }
        let writers = 4, each = 25
        let follower = Task { () -> [String] in
            var cursor = start
            var seen: [String] = []
            var idle = 0
            // until idle once every version showed up (other tests' transactions may hold the
            // PostgreSQL snapshot's xmin back for a while: the whole suite shares one cluster, and
            // on a loaded 2-core machine one test's transaction held it for over a minute), within
            // two minutes
            let deadline = ContinuousClock.now + .seconds(120)
            while (idle < 40 || seen.count < writers * each * 2) && ContinuousClock.now < deadline {
                let at = cursor
                let batch = try await store.read { try $0.events(after: at, limit: 7) }
                if batch.isEmpty {
                    idle += 1
                    try await Task.sleep(nanoseconds: 20_000_000)
                    continue
                }
                idle = 0
                seen += batch.map { "\($0.reference)/\($0.version)" }
                cursor = batch.last!.position
            }
            return seen
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for i in 0..<each {
                        try await store.write { tx in
                            try tx.put(version("Observation", "w\(w)-\(i)", 1, compartments: ["p\(w)"]), index: [])
                            try tx.put(version("Flag", "w\(w)-\(i)", 1, compartments: ["p\(w)"]), index: [])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seen = try await follower.value
        #expect(seen.count == writers * each * 2, "every version once")
        #expect(Set(seen).count == seen.count, "none twice")
    }
}
