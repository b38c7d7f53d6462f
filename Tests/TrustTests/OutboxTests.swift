import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// The event outbox and its consumers (docs/architecture.md, "The event outbox"): every
/// committed version is listed once, in commit order; a consumer's writes, state and cursor
/// commit together; a failed batch moves nothing; a consumer acts through its own guard.
@Suite("Event outbox")
struct OutboxTests {
    static func door() throws -> Door {
        let dir = NSTemporaryDirectory() + "enlace-outbox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir))
    }

    static let operatorPrincipal = Principal(subject: "test-operator", scopes: ScopeSet("system/*.cruds"), tokenID: "t")

    static func observation(_ patient: String, glucose: Int) -> JSON {
        try! JSONParser.parse("""
            {"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},
             "subject":{"reference":"Patient/\(patient)"},"valueQuantity":{"value":\(glucose),"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}
            """)
    }

    /// Flags every glucose above 300 once: a Flag per Observation, keyed by the Observation's id
    /// in the consumer's state (so a replay of the same events adds nothing).
    struct HighGlucose: EventConsumer {
        var name = "test.high-glucose"
        var principal = Principal(subject: "algorithm:high-glucose", scopes: ScopeSet("system/Observation.rs system/Flag.cruds"), tokenID: "algo",
                                  role: .service, fhirUser: "Device/high-glucose-rule")
        var start = EventConsumerStart.beginning
        var failOn: String? = nil
        /// How long each batch takes (a slow consumer on a loaded machine).
        var pause: Duration? = nil

        func wants(_ event: OutboxEvent) -> Bool { event.type == "Observation" && !event.deleted }

        func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
            var entries: [JSON] = []
            var changes: [ConsumerState.Change] = []
            if let pause { try await Task.sleep(for: pause) }
            for e in events {
                if try await state.value("flagged", e.id) != nil { continue }
                let obs = try await guarded.read("Observation", e.id).json()
                if let failOn, obs["subject"]?["reference"]?.stringValue == "Patient/\(failOn)" {
                    throw FHIRError.badRequest("refusing \(failOn)", "rechazo \(failOn)")
                }
                guard case .number(let v)? = obs["valueQuantity"]?["value"], let value = Double(v), value > 300 else { continue }
                let flag: JSON = .object([("resourceType", .string("Flag")), ("status", .string("active")),
                                          ("code", .object([("text", .string("glucosa alta"))])),
                                          ("subject", obs["subject"] ?? .null)])
                entries.append(.object([("resource", flag), ("request", .object([("method", .string("POST")), ("url", .string("Flag"))]))]))
                changes.append(.init(kind: "flagged", key: e.id, value: Array("1".utf8)))
            }
            let bundle: JSON? = entries.isEmpty ? nil : .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
            let provenance: JSON = .object([("resourceType", .string("Provenance")),
                                            ("agent", .array([.object([("who", .object([("reference", .string("Device/high-glucose-rule"))]))])]))])
            return ConsumerOutput(transaction: bundle, provenance: provenance, state: changes)
        }
    }

    static func flags(_ door: Door) async throws -> [StoredResource] {
        let (q, _) = try SearchParser().parse(types: ["Flag"], parameters: [("_count", "100")])
        return try await door.store.read { try $0.search(q).matches }
    }

    @Test func everyVersionIsListedOnceInOrder() async throws {
        let door = try OutboxTests.door()
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        let a = try await g.create("Observation", OutboxTests.observation("p1", glucose: 100), ifNoneExist: nil).resource
        _ = try await g.update("Observation", a.id, OutboxTests.observation("p1", glucose: 120).setting("id", .string(a.id)), ifMatch: nil)
        _ = try await g.delete("Observation", a.id, ifMatch: nil)
        let events = try await door.store.read { try $0.events(after: .start, limit: 100) }.filter { $0.type == "Observation" }
        #expect(events.map(\.interaction) == ["create", "update", "delete"])
        #expect(events.map(\.version) == [1, 2, 3])
        #expect(events.allSatisfy { $0.compartments == ["p1"] })
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.position < $1.position })
        // after the last one there is nothing
        let after = try await door.store.read { try $0.events(after: events.last!.position, limit: 100) }.filter { $0.type == "Observation" }
        #expect(after.isEmpty)
    }

    @Test func consumerWritesOncePerEventWithItsProvenanceAndCursor() async throws {
        let door = try OutboxTests.door()
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        for v in [120, 342, 95, 400] { _ = try await g.create("Observation", OutboxTests.observation("p1", glucose: v), ifNoneExist: nil) }
        let consumer = HighGlucose()
        let moved = try await door.catchUp(consumer, limit: 2)
        #expect(moved > 0)
        #expect(try await OutboxTests.flags(door).count == 2)
        // caught up: another round moves past nothing (its own Flags and Provenances are events it does not want)
        try await door.catchUp(consumer)
        #expect(try await door.consume(consumer) == 0)
        #expect(try await OutboxTests.flags(door).count == 2)
        // the Flags were written by the algorithm, with its Provenance naming the Device
        let (pq, _) = try SearchParser().parse(types: ["Provenance"], parameters: [("target", "Flag/" + (try await OutboxTests.flags(door)).first!.id)])
        let provenance = try #require(try await door.store.read { try $0.search(pq).matches }.first).json()
        #expect(provenance.compactString.contains("Device/high-glucose-rule"))
        // a new reading after that is judged once
        _ = try await g.create("Observation", OutboxTests.observation("p2", glucose: 350), ifNoneExist: nil)
        try await door.catchUp(consumer)
        #expect(try await OutboxTests.flags(door).count == 3)
        // a second consumer with the same name sees the same cursor: nothing again
        try await door.catchUp(HighGlucose())
        #expect(try await OutboxTests.flags(door).count == 3)
    }

    @Test func aFailedBatchMovesNothingAndIsTriedAgain() async throws {
        let door = try OutboxTests.door()
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        _ = try await g.create("Observation", OutboxTests.observation("p1", glucose: 350), ifNoneExist: nil)
        _ = try await g.create("Observation", OutboxTests.observation("bad", glucose: 500), ifNoneExist: nil)
        var failing = HighGlucose()
        failing.failOn = "bad"
        await #expect(throws: FHIRError.self) { try await door.catchUp(failing) }
        #expect(try await OutboxTests.flags(door).isEmpty, "nothing of the failed batch was kept")
        #expect(try await door.state(of: failing.name).value("flagged", "x") == nil)
        // fixed, the same events are judged again, once
        try await door.catchUp(HighGlucose())
        #expect(try await OutboxTests.flags(door).count == 2)
    }

    /// Two runners of one consumer (two nodes): each round one rolls the other's batch back.
    /// A backlog that takes longer than `patience` in all is progress, not a stall — catchUp
    /// gives up only when the cursor stops moving (CI once saw a 503 here on a busy machine).
    @Test func twoRunnersThroughALongBacklogBothCatchUp() async throws {
        let door = try OutboxTests.door()
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        for i in 0..<8 { _ = try await g.create("Observation", OutboxTests.observation("p\(i)", glucose: 350 + i), ifNoneExist: nil) }
        var slow = HighGlucose()
        slow.pause = .milliseconds(100)
        let runner = slow
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 { group.addTask { try await door.catchUp(runner, limit: 1, patience: .milliseconds(250)) } }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - started > .milliseconds(250), "the backlog outlasted the patience")
        #expect(try await OutboxTests.flags(door).count == 8, "every reading flagged once")
    }

    @Test func aConsumerStartingNowSkipsThePast() async throws {
        let door = try OutboxTests.door()
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        _ = try await g.create("Observation", OutboxTests.observation("p1", glucose: 350), ifNoneExist: nil)
        var fromNow = HighGlucose()
        fromNow.start = .now
        #expect(try await door.consume(fromNow) == 0, "the first run only records where it starts")
        #expect(try await OutboxTests.flags(door).isEmpty)
        _ = try await g.create("Observation", OutboxTests.observation("p1", glucose: 360), ifNoneExist: nil)
        try await door.catchUp(fromNow)
        #expect(try await OutboxTests.flags(door).count == 1)
    }

    @Test func aConsumerReadsOnlyThroughItsOwnGuard() async throws {
        let door = try OutboxTests.door()
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        _ = try await g.create("Observation", OutboxTests.observation("p1", glucose: 350), ifNoneExist: nil)
        var blind = HighGlucose()
        blind.principal = Principal(subject: "algorithm:blind", scopes: ScopeSet("system/Flag.cruds"), tokenID: "algo", role: .service)
        await #expect(throws: FHIRError.self) { try await door.catchUp(blind) }
        #expect(try await OutboxTests.flags(door).isEmpty)
    }

    @Test func writesWakeTheWaiters() async throws {
        let door = try OutboxTests.door()
        async let woken: Bool = door.writes.wait(timeout: 300)
        try await Task.sleep(nanoseconds: 50_000_000)
        let g = try await door.open(OutboxTests.operatorPrincipal, audit: nil)
        _ = try await g.create("Observation", OutboxTests.observation("p1", glucose: 90), ifNoneExist: nil)
        #expect(await woken, "woken by the write, not by the timeout")
        // without a write, the wait ends at its timeout
        let t0 = Date()
        #expect(await door.writes.wait(timeout: 0.2) == false)
        #expect(Date().timeIntervalSince(t0) >= 0.2)
    }
}
