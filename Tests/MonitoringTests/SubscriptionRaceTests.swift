import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import StoragePostgres
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// Concurrent writers and two matchers (as on two nodes) on a SQLite file and, when
/// `ENLACE_TEST_DATABASE_URL` is set, on PostgreSQL: every reading is numbered exactly once,
/// the numbers are 1…N with no gap, and delivery sends them all in order.
@Suite("Subscriptions under concurrency")
struct SubscriptionRaceTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case sqliteFile, postgres
        var testDescription: String { rawValue }
        static var postgresURL: String? {
            let url = ProcessInfo.processInfo.environment["ENLACE_TEST_DATABASE_URL"]
            return url?.isEmpty == false ? url : nil
        }
        static var available: [Backend] { postgresURL == nil ? [.sqliteFile] : [.sqliteFile, .postgres] }

        /// Two doors on one database, as two nodes (SQLite: two stores on one file).
        func twoNodes() async throws -> (Door, Door, @Sendable () -> Void) {
            let dir = NSTemporaryDirectory() + "enlace-subs-race-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var settings = Door.Settings()
            settings.writeRules = [SubscriptionRule()]
            let key = try SigningKey.loadOrCreate(in: dir)
            switch self {
            case .sqliteFile:
                let a = try SQLiteStore(path: dir + "/enlace.sqlite")
                let b = try SQLiteStore(path: dir + "/enlace.sqlite")
                return (Door(store: a, key: key, settings: settings), Door(store: b, key: key, settings: settings),
                        { try? FileManager.default.removeItem(atPath: dir) })
            case .postgres:
                let base = Backend.postgresURL!
                let schema = "enlace_subs_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
                let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
                let a = try await PostgresStore(url: url, maxConnections: 6)
                let b = try await PostgresStore(url: url, maxConnections: 6)
                return (Door(store: a, key: key, settings: settings), Door(store: b, key: key, settings: settings), {
                    b.close()
                    try? a.executeBlocking(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")
                    a.close()
                    try? FileManager.default.removeItem(atPath: dir)
                })
            }
        }

        func door() async throws -> (Door, @Sendable () -> Void) {
            let dir = NSTemporaryDirectory() + "enlace-subs-race-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var settings = Door.Settings()
            settings.writeRules = [SubscriptionRule()]
            switch self {
            case .sqliteFile:
                let store = try SQLiteStore(path: dir + "/enlace.sqlite")
                return (Door(store: store, key: try SigningKey.loadOrCreate(in: dir), settings: settings),
                        { try? FileManager.default.removeItem(atPath: dir) })
            case .postgres:
                let base = Backend.postgresURL!
                let schema = "enlace_subs_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
                let store = try await PostgresStore(url: base + (base.contains("?") ? "&" : "?") + "schema=" + schema, maxConnections: 6)
                return (Door(store: store, key: try SigningKey.loadOrCreate(in: dir), settings: settings), {
                    try? store.executeBlocking(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")
                    store.close()
                    try? FileManager.default.removeItem(atPath: dir)
                })
            }
        }
    }

    @Test(arguments: Backend.available)
    func concurrentWritersAndTwoMatchersNumberEveryReadingOnce(backend: Backend) async throws {
        let (door, cleanup) = try await backend.door()
        defer { cleanup() }
        try await SubscriptionTests.seed(door)
        let id = try await door.open(SubscriptionTests.dra, audit: nil).create("Subscription", SubscriptionTests.subscription(filter: nil), ifNoneExist: nil).resource.id
        let writers = 4, each = 15
        let done = ManagedFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    let g = try await door.open(Fixture.operatorPrincipal, audit: nil)
                    for i in 0..<each { _ = try await g.create("Observation", SubscriptionTests.observation("ana", 100 + w * 100 + i), ifNoneExist: nil) }
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    let matcher = SubscriptionMatcher(door: door)
                    while !done.value { try await door.consume(matcher, limit: 7) }
                    try await door.catchUp(matcher)
                }
            }
            // the writers finish first (the matchers loop until told)
            var finished = 0
            while finished < writers {
                try await group.next()
                finished += 1
            }
            done.set()
            try await group.waitForAll()
        }
        try await door.catchUp(SubscriptionMatcher(door: door))
        let total = writers * each
        #expect(try await SubscriptionMatcher.count(id, door: door) == total)
        let events = try await SubscriptionMatcher.events(id, from: 1, through: total + 5, door: door)
        #expect(events.map(\.number) == Array(1...total), "no gap, nothing past the count")
        #expect(Set(events.map(\.id)).count == total, "each reading once")

        let endpoint = FakeEndpoint()
        var delivery = SubscriptionDelivery(door: door, transport: endpoint, base: "https://enlace.example/fhir")
        delivery.parallel = 2
        for _ in 0..<(total / SubscriptionSpec.defaultMaxCount + 3) { try await delivery.runOnce() }
        #expect(endpoint.notifications.first?.type == "handshake")
        #expect(endpoint.notifications.flatMap(\.numbers) == Array(1...total))
    }
}

extension SubscriptionRaceTests {
    /// docs/subscriptions.md "The websocket channel": a binding token is used once, even by
    /// connections racing with it on two nodes in the same instant — exactly one binds.
    @Test(arguments: Backend.available)
    func connectionsRacingWithOneTokenOnTwoNodesBindExactlyOnce(backend: Backend) async throws {
        let (one, two, cleanup) = try await backend.twoNodes()
        defer { cleanup() }
        let base = "https://enlace.example/fhir"
        for round in 0..<5 {
            // a long lifetime: on a loaded machine the racers must not find the token expired
            var issuer = SubscriptionWebSocket(door: one, base: base)
            issuer.tokenLifetime = 3600
            let (token, issued) = try await issuer.issue(["s\(round)"], for: SubscriptionTests.dra)
            let racers = 12
            let outcomes = try await withThrowingTaskGroup(of: Result<SubscriptionWebSocket.Binding, FHIRError>.self) { group in
                for i in 0..<racers {
                    let channel = SubscriptionWebSocket(door: i % 2 == 0 ? one : two, base: base)
                    group.addTask {
                        do { return .success(try await channel.redeem(token)) } catch let e as FHIRError { return .failure(e) }
                    }
                }
                var all: [Result<SubscriptionWebSocket.Binding, FHIRError>] = []
                for try await r in group { all.append(r) }
                return all
            }
            let bound = outcomes.compactMap { try? $0.get() }
            #expect(bound == [issued], "round \(round): exactly one connection binds")
            let refused = outcomes.compactMap { r -> FHIRError? in if case .failure(let e) = r { return e } else { return nil } }
            let seen = refused.map { "\($0.status) \($0.issues.first?.code ?? "") \($0.issues.first?.english ?? "")" }
            #expect(refused.count == racers - 1, "\(seen)")
            #expect(refused.allSatisfy { $0.status == 401 && $0.issues.first?.code == "security" && $0.issues.first?.spanish.contains("ya usado") == true }, "\(seen)")
        }
        #expect(try await one.state(of: SubscriptionWebSocket.stateName).values("token").isEmpty, "every token was used")
    }
}

final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}
