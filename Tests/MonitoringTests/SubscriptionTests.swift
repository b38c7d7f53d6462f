import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// A rest-hook endpoint for tests: records every POST, and fails while `failing` is set.
final class FakeEndpoint: NotificationTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var _posts: [(url: String, headers: [(name: String, value: String)], body: JSON)] = []
    private var _failing = false
    var failing: Bool {
        get { lock.lock(); defer { lock.unlock() }; return _failing }
        set { lock.lock(); _failing = newValue; lock.unlock() }
    }
    var posts: [(url: String, headers: [(name: String, value: String)], body: JSON)] { lock.lock(); defer { lock.unlock() }; return _posts }
    private var _resolved: [String: [IPAddress]] = [:]
    /// What a host resolves to (the delivery's endpoint check); a host not set here resolves to a
    /// public address (93.184.216.34), so the tests' `*.example.org` endpoints need no DNS.
    var resolved: [String: [IPAddress]] {
        get { lock.withLock { _resolved } }
        set { lock.withLock { _resolved = newValue } }
    }
    private var _pinned: [IPAddress] = []
    /// The address each POST to a resolved host name was made to connect to.
    var pinned: [IPAddress] { lock.withLock { _pinned } }

    func addresses(of host: String) async throws -> [IPAddress] {
        lock.withLock { _resolved[host] } ?? [IPAddress("93.184.216.34")!]
    }

    private var _unreachable: Set<IPAddress> = []
    /// Addresses that refuse the connection (`NotConnected`, nothing sent).
    var unreachable: Set<IPAddress> {
        get { lock.withLock { _unreachable } }
        set { lock.withLock { _unreachable = newValue } }
    }

    func post(_ url: String, connectingTo address: IPAddress, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int {
        let refused = lock.withLock { _pinned.append(address); return _unreachable.contains(address) }
        if refused { throw NotConnected(address: address.description, reason: "refused (test)") }
        return try await post(url, headers: headers, body: body, timeout: timeout)
    }

    func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int {
        let parsed = try JSONParser.parse(body)
        return lock.withLock {
            if _failing { return 503 }
            _posts.append((url, headers, parsed))
            return 200
        }
    }

    /// The SubscriptionStatus of each notification: (type, event numbers).
    var notifications: [(type: String, numbers: [Int], count: Int)] {
        posts.map { p in
            let params = p.body["entry"]?.arrayValue?.first?["resource"]?["parameter"]?.arrayValue ?? []
            let type = params.first { $0["name"]?.stringValue == "type" }?["valueCode"]?.stringValue ?? ""
            let count = Int(params.first { $0["name"]?.stringValue == "events-since-subscription-start" }?["valueString"]?.stringValue ?? "") ?? -1
            let numbers = params.filter { $0["name"]?.stringValue == "notification-event" }.compactMap { e in
                Int(e["part"]?.arrayValue?.first { $0["name"]?.stringValue == "event-number" }?["valueString"]?.stringValue ?? "")
            }
            return (type, numbers, count)
        }
    }
}

@Suite("Subscriptions (R5 Backport for R4)")
struct SubscriptionTests {
    static let dra = Principal(subject: "user:dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t-dra", role: .practitioner, fhirUser: "Practitioner/dra")
    static let drb = Principal(subject: "user:drb", scopes: ScopeSet("user/*.cruds"), tokenID: "t-drb", role: .practitioner, fhirUser: "Practitioner/drb")

    static func door(clock: any Clock = TestClock()) throws -> Door {
        let dir = NSTemporaryDirectory() + "enlace-subscriptions-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var settings = Door.Settings()
        settings.writeRules = [SubscriptionRule()]
        return Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir), settings: settings, clock: clock)
    }

    static func subscription(topic: String = "new-observation", filter: String? = "Observation?patient=Patient/ana", type: String = "rest-hook",
                             endpoint: String = "https://receiver.example.org/hook", content: String = "id-only", status: String = "requested",
                             extra: String = "") -> JSON {
        let criteria = filter.map { #","_criteria":{"extension":[{"url":"\#(Backport.filterCriteria)","valueString":"\#($0)"}]}"# } ?? ""
        return Fixture.json("""
            {"resourceType":"Subscription","status":"\(status)","reason":"Alertas de mis pacientes","criteria":"\(SubscriptionTopics.base)\(topic)"\(criteria),
             "channel":{"extension":[{"url":"\(Backport.heartbeatPeriod)","valueUnsignedInt":60}\(extra)],
                        "type":"\(type)","endpoint":"\(endpoint)","payload":"application/fhir+json",
                        "_payload":{"extension":[{"url":"\(Backport.payloadContent)","valueCode":"\(content)"}]},
                        "header":["Authorization: Bearer secreto-del-receptor"]}}
            """)
    }

    static func observation(_ patient: String, _ value: Int, label: String? = nil) -> JSON {
        var o = AlertTests.glucose(patient, value, at: "2026-11-24T08:00:00Z")
        if let label {
            o = o.inserting("meta", .object([("security", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ActCode")), ("code", .string(label))])]))]),
                            after: "resourceType")
        }
        return o
    }

    /// Dra. treats Ana (a CareTeam); nobody treats Beto.
    static func seed(_ door: Door) async throws {
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        _ = try await op.update("CareTeam", "equipo-ana", Fixture.json(#"{"resourceType":"CareTeam","id":"equipo-ana","status":"active","subject":{"reference":"Patient/ana"},"participant":[{"member":{"reference":"Practitioner/dra"}}]}"#), ifMatch: nil)
        for p in ["ana", "beto"] {
            _ = try await op.update("Patient", p, Fixture.json(#"{"resourceType":"Patient","id":"\#(p)"}"#), ifMatch: nil)
        }
    }

    func create(_ door: Door, _ who: Principal, _ s: JSON) async throws -> String {
        try await door.open(who, audit: nil).create("Subscription", s, ifNoneExist: nil).resource.id
    }

    func refusal(_ door: Door, _ who: Principal, _ s: JSON) async throws -> FHIRError? {
        do { _ = try await create(door, who, s); return nil } catch let e as FHIRError { return e }
    }

    /// The read rule in Trust (`AccessPolicy+Subscription.swift`) finds owners where this module keeps them.
    @Test func theReadRuleLooksForOwnersWhereTheyAreKept() async throws {
        #expect(AccessPolicy.subscriptionOwnedKind("user:dra") == SubscriptionOwner.ownedKind("user:dra"))
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let id = try await door.open(SubscriptionTests.dra, audit: nil).create("Subscription", SubscriptionTests.subscription(filter: nil), ifNoneExist: nil).resource.id
        #expect(try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).id == id)
        let other = Principal(subject: "user:otro", scopes: ScopeSet("user/*.cruds"), tokenID: "t-otro", role: .practitioner, fhirUser: "Practitioner/otro")
        await #expect(throws: FHIRError.self) { _ = try await door.open(other, audit: nil).read("Subscription", id) }
    }

    /// Owners recorded before the per-owner index existed find their Subscriptions again once
    /// `indexOwners` ran (at the delivery service's start); running it twice adds nothing.
    @Test func ownersRecordedBeforeTheIndexAreIndexed() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let id = try await door.open(SubscriptionTests.dra, audit: nil).create("Subscription", SubscriptionTests.subscription(filter: nil), ifNoneExist: nil).resource.id
        let state = door.state(of: SubscriptionMatcher.consumerName)
        #expect(try await state.value("owned:" + SubscriptionTests.dra.subject, id) != nil)
        try await state.keep([.init(kind: "owned:" + SubscriptionTests.dra.subject, key: id, value: nil)])
        await #expect(throws: FHIRError.self) { _ = try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id) }
        #expect(try await SubscriptionOwner.indexOwners(door: door) == 1)
        #expect(try await SubscriptionOwner.indexOwners(door: door) == 0)
        #expect(try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).id == id)
    }

    @Test func aValidSubscriptionIsAcceptedAndItsOwnerRecorded() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let id = try await create(door, SubscriptionTests.dra, SubscriptionTests.subscription())
        let owner = try #require(try await SubscriptionMatcher.owner(id, door: door))
        #expect(owner.subject == "user:dra")
        #expect(owner.fhirUser == "Practitioner/dra")
        #expect(owner.role == .practitioner)
        // someone else may neither change nor delete it
        let other = try await door.open(SubscriptionTests.drb, audit: nil)
        await #expect(throws: FHIRError.self) { _ = try await other.update("Subscription", id, SubscriptionTests.subscription().setting("id", .string(id)), ifMatch: nil) }
        await #expect(throws: FHIRError.self) { _ = try await other.delete("Subscription", id, ifMatch: nil) }
        // its owner may
        _ = try await door.open(SubscriptionTests.dra, audit: nil).update("Subscription", id, SubscriptionTests.subscription(status: "off").setting("id", .string(id)), ifMatch: nil)
    }

    @Test(arguments: [
        ("unknown topic", subscription(topic: "no-such-topic"), 422, "not-supported", "SubscriptionTopic desconocido"),
        ("sms", subscription(type: "sms"), 422, "not-supported", "tipo de canal"),
        ("email", subscription(type: "email"), 422, "not-supported", "tipo de canal"),
        ("payload content", subscription(content: "everything"), 422, "not-supported", "contenido de payload"),
        ("filter the topic does not allow", subscription(filter: "Observation?performer=Practitioner/x"), 422, "not-supported", "no admite el filtro 'performer'"),
        ("filter on a type outside the topic", subscription(filter: "Encounter?patient=Patient/ana"), 422, "invalid", "trata de Observation"),
        ("ftp endpoint", subscription(endpoint: "ftp://receiver.example.org/hook"), 422, "invalid", "URL http(s)"),
        ("no host", subscription(endpoint: "https:///hook"), 422, "invalid", "URL http(s)"),
        ("status active", subscription(status: "active"), 422, "invalid", "'requested'"),
        ("bad heartbeat", subscription(extra: #",{"url":"\#(Backport.maxCount)","valueUnsignedInt":0}"#), 422, "invalid", "backport-max-count"),
        ("a patient the subscriber may not see", subscription(filter: "Observation?patient=Patient/beto"), 403, "forbidden", "Patient/beto"),
    ])
    func refusedCleanly(_ why: String, _ s: JSON, _ status: Int, _ code: String, _ spanish: String) async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let e = try #require(try await refusal(door, SubscriptionTests.dra, s), "\(why) must be refused")
        #expect(e.status == status, "\(why)")
        #expect(e.issues.first?.code == code, "\(why)")
        #expect(e.issues.first?.spanish.contains(spanish) == true, "\(why): \(e.issues.first?.spanish ?? "")")
        #expect(e.issues.first?.english.isEmpty == false)
        #expect(try await Fixture.all(door, "Subscription").isEmpty, "a refusal leaves nothing behind")
    }

    func write(_ door: Door, _ resources: [JSON]) async throws {
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        for r in resources { _ = try await op.create(r["resourceType"]!.stringValue!, r, ifNoneExist: nil) }
    }

    @Test(arguments: [1, 500])
    func eventsAreNumberedOnceOnlyWhenTheOwnerMaySeeThem(batch: Int) async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        try await write(door, [SubscriptionTests.observation("ana", 100)])   // before the subscription: not its event
        let id = try await create(door, SubscriptionTests.dra, SubscriptionTests.subscription(filter: nil))
        try await write(door, [SubscriptionTests.observation("ana", 110), SubscriptionTests.observation("beto", 120),   // Beto: not treated
                               SubscriptionTests.observation("ana", 130, label: "HIV"),                                 // sensitive, no consent
                               SubscriptionTests.observation("ana", 140), SubscriptionTests.observation("ana", 150)])
        let matcher = SubscriptionMatcher(door: door)
        try await door.catchUp(matcher, limit: batch)
        #expect(try await SubscriptionMatcher.count(id, door: door) == 3)
        let events = try await SubscriptionMatcher.events(id, from: 1, through: 10, door: door)
        #expect(events.map(\.number) == [1, 2, 3])
        let values = try await events.asyncMap { e in try await door.open(Fixture.operatorPrincipal, audit: nil).read(e.type, e.id).json()["valueQuantity"]?["value"] }
        #expect(values == [.number("110"), .number("140"), .number("150")])
        // run again: nothing counted twice
        try await door.catchUp(SubscriptionMatcher(door: door), limit: batch)
        #expect(try await SubscriptionMatcher.count(id, door: door) == 3)
        try await write(door, [SubscriptionTests.observation("ana", 160)])
        try await door.catchUp(SubscriptionMatcher(door: door), limit: batch)
        #expect(try await SubscriptionMatcher.count(id, door: door) == 4)
    }

    @Test func topicsTriggerOnWhatTheySay() throws {
        let encounter = SubscriptionTopics.topic(SubscriptionTopics.base + "encounter-start-finish")!
        let planned = Fixture.json(#"{"resourceType":"Encounter","status":"planned","subject":{"reference":"Patient/ana"}}"#)
        let started = planned.setting("status", .string("in-progress"))
        #expect(!encounter.triggers("Encounter", planned, previous: nil))
        #expect(encounter.triggers("Encounter", started, previous: planned))
        #expect(!encounter.triggers("Encounter", started, previous: started), "still in progress: not a new start")
        #expect(encounter.triggers("Encounter", started.setting("status", .string("finished")), previous: started))

        let spec = try SubscriptionSpec(SubscriptionTests.subscription(topic: "task-assigned", filter: nil))
        let task = Fixture.json(#"{"resourceType":"Task","status":"requested","intent":"order","owner":{"reference":"Practitioner/dra"}}"#)
        #expect(spec.matches("Task", task, previous: nil, owner: SubscriptionTests.dra), "assigned to me")
        #expect(!spec.matches("Task", task, previous: nil, owner: SubscriptionTests.drb), "assigned to someone else")
        #expect(!spec.matches("Task", task.setting("status", .string("in-progress")), previous: task, owner: SubscriptionTests.dra), "same owner: no new assignment")

        let alert = SubscriptionTopics.topic(SubscriptionTopics.base + "new-alert|2026.1")!
        let flag = Fixture.json(#"{"resourceType":"Flag","status":"active","code":{"coding":[{"system":"\#(AlertConsumer.alertSystem)","code":"out-of-range"}]},"subject":{"reference":"Patient/ana"}}"#)
        #expect(alert.triggers("Flag", flag, previous: nil))
        #expect(!alert.triggers("Flag", flag.setting("code", .object([("text", .string("other"))])), previous: nil), "a Flag not written by the alert rules")

        let obs = try SubscriptionSpec(SubscriptionTests.subscription(filter: "Observation?code=http://loinc.org|2339-0&patient=ana"))
        #expect(obs.matches("Observation", SubscriptionTests.observation("ana", 100), previous: nil, owner: SubscriptionTests.dra))
        #expect(!obs.matches("Observation", SubscriptionTests.observation("beto", 100), previous: nil, owner: SubscriptionTests.dra))
        #expect(obs.content == .idOnly && obs.heartbeatSeconds == 60 && obs.headers.first?.name == "Authorization")

        let basic = alert.basic
        #expect(basic["resourceType"]?.stringValue == "Basic")
        #expect(basic["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "SubscriptionTopic")
        #expect(basic.compactString.contains("https://enlace.mx/fhir/SubscriptionTopic/new-alert"))
        #expect(basic.compactString.contains("canFilterBy"))
    }

    @Test func deliveryHandshakesThenSendsInOrderRetriesWithBackoffAndFinallyErrs() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        var delivery = SubscriptionDelivery(door: door, transport: endpoint, base: "https://enlace.example/fhir")
        delivery.giveUpAfter = 3600
        let id = try await create(door, SubscriptionTests.dra, SubscriptionTests.subscription(filter: nil, content: "full-resource",
                                                                                             extra: #",{"url":"\#(Backport.maxCount)","valuePositiveInt":2}"#))
        try await delivery.runOnce()
        #expect(endpoint.notifications.map(\.type) == ["handshake"])
        #expect(try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()["status"]?.stringValue == "active")
        #expect(endpoint.posts[0].headers.contains { $0.name == "Authorization" && $0.value == "Bearer secreto-del-receptor" })

        try await write(door, (1...5).map { SubscriptionTests.observation("ana", 100 + $0) } + [SubscriptionTests.observation("ana", 200, label: "HIV")])
        try await door.catchUp(SubscriptionMatcher(door: door))
        for _ in 0..<5 { try await delivery.runOnce() }
        let events = endpoint.notifications.filter { $0.type == "event-notification" }
        #expect(events.map(\.numbers) == [[1, 2], [3, 4], [5]], "in order, at most maxCount per Bundle")
        let bundle = endpoint.posts[1].body
        #expect(bundle["type"]?.stringValue == "history")
        #expect(bundle["entry"]?.arrayValue?.first?["resource"]?["resourceType"]?.stringValue == "Parameters")
        #expect(bundle["entry"]?.arrayValue?[1]["resource"]?["resourceType"]?.stringValue == "Observation", "full-resource")
        #expect(!endpoint.posts.contains { $0.body.compactString.contains("\"value\":200") }, "the sensitive reading never leaves")

        // the endpoint goes down: retried with growing pauses, persisted
        endpoint.failing = true
        try await write(door, [SubscriptionTests.observation("ana", 300)])
        try await door.catchUp(SubscriptionMatcher(door: door))
        try await delivery.runOnce()
        var p = try await delivery.progress(id)
        #expect(p.failures == 1 && p.delivered == 5)
        let firstPause = p.nextAttempt - Double(clock.now().microseconds) / 1e6
        try await delivery.runOnce()
        #expect(try await delivery.progress(id).failures == 1, "not before the next attempt is due")
        clock.set("2026-11-24T18:00:05Z")
        try await delivery.runOnce()
        p = try await delivery.progress(id)
        #expect(p.failures == 2)
        #expect(p.nextAttempt - Double(clock.now().microseconds) / 1e6 > firstPause, "the pause grows")
        // back up: the missed event arrives, numbered 6
        endpoint.failing = false
        clock.set("2026-11-24T18:01:00Z")
        try await delivery.runOnce()
        #expect(endpoint.notifications.last?.numbers == [6])
        #expect(try await delivery.progress(id).failures == 0)

        // down for longer than giveUpAfter: error, with the reason the owner can read
        endpoint.failing = true
        try await write(door, [SubscriptionTests.observation("ana", 301)])
        try await door.catchUp(SubscriptionMatcher(door: door))
        for minute in stride(from: 2, through: 70, by: 4) {
            clock.set(String(format: "2026-11-24T%02d:%02d:00Z", 18 + minute / 60, minute % 60))
            try await delivery.runOnce()
        }
        let s = try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()
        #expect(s["status"]?.stringValue == "error")
        #expect(s["error"]?.stringValue?.contains("HTTP 503") == true)
        // its owner asks again: handshake, then the event it missed
        endpoint.failing = false
        _ = try await door.open(SubscriptionTests.dra, audit: nil).update("Subscription", id, s.setting("status", .string("requested")).setting("meta", nil).setting("error", nil), ifMatch: nil)
        try await delivery.runOnce()
        try await delivery.runOnce()
        #expect(endpoint.notifications.suffix(2).map(\.type) == ["handshake", "event-notification"])
        #expect(endpoint.notifications.last?.numbers == [7])
        // a heartbeat when nothing happens for the heartbeat period
        clock.set("2026-11-24T20:00:00Z")
        try await delivery.runOnce()
        #expect(endpoint.notifications.last?.type == "heartbeat")
        #expect(endpoint.notifications.last?.count == 7)
    }
}

extension SubscriptionTests {
    @Test func nothingAfterItsEndIsCountedThenItIsTurnedOff() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: "https://enlace.example/fhir")
        let s = SubscriptionTests.subscription(filter: nil).inserting("end", .string("2026-11-24T18:30:00Z"), after: "status")
        let id = try await create(door, SubscriptionTests.dra, s)
        try await delivery.runOnce()
        try await write(door, [SubscriptionTests.observation("ana", 101)])
        clock.set("2026-11-24T18:31:00Z")
        try await write(door, [SubscriptionTests.observation("ana", 102)])
        try await door.catchUp(SubscriptionMatcher(door: door))
        #expect(try await SubscriptionMatcher.count(id, door: door) == 1, "the reading after the end is not its event")
        try await delivery.runOnce()
        try await delivery.runOnce()
        #expect(endpoint.notifications.map(\.type) == ["handshake", "event-notification"])
        #expect(try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()["status"]?.stringValue == "off")
        let bad = try #require(try await refusal(door, SubscriptionTests.dra, SubscriptionTests.subscription().inserting("end", .string("2026-11-24"), after: "status")))
        #expect(bad.status == 422 || bad.status == 400)
    }
}

extension Sequence {
    func asyncMap<T>(_ f: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await f(e)) }
        return out
    }
}
