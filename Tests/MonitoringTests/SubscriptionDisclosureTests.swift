import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import Testing
@_spi(Unguarded) @testable import Trust

/// docs/subscriptions.md "Audit", "When the owner's access ends" and "Missed events", on SQLite
/// and (with `ENLACE_TEST_DATABASE_URL`) PostgreSQL.
@Suite("Subscriptions: disclosures audited, revoked owners, $events ranges")
struct SubscriptionDisclosureTests {
    typealias Backend = SubscriptionRaceTests.Backend
    static let base = "https://enlace.example/fhir"

    func write(_ door: Door, _ resources: [JSON]) async throws {
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        for r in resources { _ = try await op.create(r["resourceType"]!.stringValue!, r, ifNoneExist: nil) }
        try await door.catchUp(SubscriptionMatcher(door: door))
    }

    /// Runs the matcher until `id` counts `expected` events (on PostgreSQL another test's open
    /// transaction may hold the outbox barrier back for a moment).
    func matched(_ door: Door, _ id: String, _ expected: Int) async throws {
        for _ in 0..<200 {
            try await door.catchUp(SubscriptionMatcher(door: door))
            if try await SubscriptionMatcher.count(id, door: door) >= expected { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// The AuditEvents of `patient`'s access log that record a notification (DICOM Export).
    func notifications(_ door: Door, patient: String) async throws -> [JSON] {
        let log = try door.auditLog(for: Fixture.operatorPrincipal, audit: nil)
        return try await log.entries(patient: patient, before: nil, limit: 500).records.map { try JSONParser.parse($0.bytes) }
            .filter { $0["type"]?["code"]?.stringValue == AuditEventBuilder.exportCode }
    }

    func status(_ door: Door, _ id: String) async throws -> JSON {
        try await door.open(Fixture.operatorPrincipal, audit: nil).read("Subscription", id).json()
    }

    @Test(arguments: Backend.available)
    func aDeliveredNotificationIsInThePatientsAccessLogAWithheldOneIsNot(backend: Backend) async throws {
        let (door, cleanup) = try await backend.door()
        defer { cleanup() }
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: SubscriptionDisclosureTests.base)
        let id = try await door.open(SubscriptionTests.dra, audit: nil)
            .create("Subscription", SubscriptionTests.subscription(filter: nil, endpoint: "https://receiver.example.org/hook?secret=x"), ifNoneExist: nil).resource.id
        try await delivery.runOnce()   // handshake: no patient data, no entry
        #expect(try await notifications(door, patient: "ana").isEmpty)

        try await write(door, [SubscriptionTests.observation("ana", 110), SubscriptionTests.observation("ana", 111)])
        try await matched(door, id, 2)
        try await delivery.runOnce()
        #expect(endpoint.notifications.map(\.type) == ["handshake", "event-notification"])
        let entries = try await notifications(door, patient: "ana")
        #expect(entries.count == 1, "one entry per Bundle, not per event")
        let e = try #require(entries.first)
        let agents = e["agent"]?.arrayValue ?? []
        #expect(agents.first?["who"]?["reference"]?.stringValue == "Practitioner/dra", "the owner is named")
        #expect(agents.dropFirst().first?["network"]?["address"]?.stringValue == "receiver.example.org", "the endpoint's host, not its query")
        #expect(agents.dropFirst().first?["who"]?["display"]?.stringValue == "rest-hook receiver.example.org")
        #expect(!e.compactString.contains("secret=x"))
        #expect(e["outcome"]?.stringValue == "0")
        let refs = (e["entity"]?.arrayValue ?? []).compactMap { $0["what"]?["reference"]?.stringValue }
        #expect(refs.contains("Subscription/\(id)"))
        #expect(refs.filter { $0.hasPrefix("Observation/") && $0.hasSuffix("/_history/1") }.count == 2, "\(refs)")
        #expect(refs.contains("Patient/ana"))
        #expect(try await notifications(door, patient: "beto").isEmpty)

        // Dra. stops treating Ana; a reading numbered while she did is withheld at delivery time
        try await write(door, [SubscriptionTests.observation("ana", 120)])
        try await matched(door, id, 3)
        #expect(try await SubscriptionMatcher.count(id, door: door) == 3)
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        _ = try await op.update("CareTeam", "equipo-ana", Fixture.json(#"{"resourceType":"CareTeam","id":"equipo-ana","status":"inactive","subject":{"reference":"Patient/ana"},"participant":[{"member":{"reference":"Practitioner/otra"}}]}"#), ifMatch: nil)
        try await delivery.runOnce()
        try await delivery.runOnce()
        #expect(endpoint.notifications.filter { $0.type == "event-notification" }.count == 1, "nothing sent about the withheld reading")
        #expect(try await notifications(door, patient: "ana").count == 1, "and nothing recorded as disclosed")
    }

    @Test(arguments: Backend.available)
    func aFailedAttemptIsRecordedWithItsOutcome(backend: Backend) async throws {
        let (door, cleanup) = try await backend.door()
        defer { cleanup() }
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: SubscriptionDisclosureTests.base)
        let id = try await door.open(SubscriptionTests.dra, audit: nil).create("Subscription", SubscriptionTests.subscription(filter: nil), ifNoneExist: nil).resource.id
        try await delivery.runOnce()
        endpoint.failing = true
        try await write(door, [SubscriptionTests.observation("ana", 110)])
        try await matched(door, id, 1)
        try await delivery.runOnce()
        let entries = try await notifications(door, patient: "ana")
        #expect(entries.map { $0["outcome"]?.stringValue } == ["8"], "the receiver answered 503")
        #expect(entries.first?["outcomeDesc"]?.stringValue?.hasPrefix("HTTP 503 rest-hook notification") == true)
    }

    /// The websocket channel records what each frame disclosed, with the client's address.
    @Test func aWebSocketNotificationIsRecordedToo() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let s = SubscriptionTests.subscription(filter: nil, type: "websocket")
        let id = try await door.open(SubscriptionTests.dra, audit: nil).create("Subscription", s, ifNoneExist: nil).resource.id
        let channel = SubscriptionWebSocket(door: door, base: SubscriptionDisclosureTests.base)
        let (token, _) = try await channel.issue([id], for: SubscriptionTests.dra)
        let frames = Frames()
        let session = SubscriptionSocketSession(channel: channel, peer: "192.0.2.7") { frames.add($0) }
        #expect(try await session.receive("bind-with-token \(token)") == nil)
        try await write(door, [SubscriptionTests.observation("ana", 110)])
        _ = try await session.pass()
        #expect(frames.all.count == 2)
        let entries = try await notifications(door, patient: "ana")
        #expect(entries.count == 1)
        #expect(entries.first?["agent"]?.arrayValue?.dropFirst().first?["network"]?["address"]?.stringValue == "192.0.2.7")
        #expect(entries.first?["outcomeDesc"]?.stringValue?.contains("websocket") == true)

        // the owner's token is revoked: the connection lets the Subscription go, nothing more is sent
        try await door.identity.revoke(tokenID: SubscriptionTests.dra.tokenID, expires: 4_102_444_800)
        try await write(door, [SubscriptionTests.observation("ana", 111)])
        let close = try await session.pass()
        #expect(close?.code == 1000)
        #expect(frames.all.count == 3)
        #expect(frames.all.last?.contains("revoc") == true, "an informational frame says why")
        #expect(try await notifications(door, patient: "ana").count == 1)
    }

    @Test(arguments: Backend.available)
    func aRevokedTokenOrADisabledUserOrClientStopsTheSubscription(backend: Backend) async throws {
        let (door, cleanup) = try await backend.door()
        defer { cleanup() }
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: SubscriptionDisclosureTests.base)
        let byToken = Principal(subject: "user:dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t-dra-1", role: .practitioner, fhirUser: "Practitioner/dra")
        let byRotated = Principal(subject: "user:dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t-dra-2", role: .practitioner, fhirUser: "Practitioner/dra")
        let byUser = Principal(subject: "user:drc", scopes: ScopeSet("user/*.cruds"), tokenID: "t-drc", role: .practitioner, fhirUser: "Practitioner/dra")
        let byClient = Principal(subject: "user:dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t-dra-3", role: .practitioner, fhirUser: "Practitioner/dra",
                                 clientID: "app-apagada")
        var ids: [String: String] = [:]
        for (name, who) in [("token", byToken), ("rotated", byRotated), ("user", byUser), ("client", byClient)] {
            let endpoint = "https://\(name).example.org/hook"
            ids[name] = try await door.open(who, audit: nil).create("Subscription", SubscriptionTests.subscription(filter: nil, endpoint: endpoint), ifNoneExist: nil).resource.id
        }
        _ = try await door.identity.addUser(username: "drc", role: .practitioner, password: "contraseña-larga", fhirUser: "Practitioner/dra")
        try await door.identity.addClient(OAuthClient(clientID: "app-apagada", name: "App", redirectURIs: ["https://app.example.org/cb"], scope: "user/*.cruds",
                                                      disabled: true))
        try await delivery.runOnce()
        #expect(try await status(door, ids["client"]!)["status"]?.stringValue == "off", "its client is disabled: not even a handshake")
        #expect(try await status(door, ids["client"]!)["error"]?.stringValue?.contains("app-apagada") == true)
        #expect(!endpoint.posts.contains { $0.url.contains("client.example.org") })
        for name in ["token", "rotated", "user"] { #expect(try await status(door, ids[name]!)["status"]?.stringValue == "active", "\(name)") }

        // the token is revoked (/oauth/revoke), the user disabled; another token of the same
        // grant rotated by a refresh is not a revocation
        try await door.identity.revoke(tokenID: "t-dra-1", expires: 4_102_444_800)
        try await door.identity.setDisabled("drc", true)
        let refresh = try await door.identity.storeRefresh(RefreshGrant(clientID: "app", username: "dra", scope: "user/*.cruds", patient: nil,
                                                                        expires: 4_102_444_800, accessTokenID: "t-dra-2"))
        #expect(try await door.identity.useRefresh(refresh, clientID: "app") != nil)
        #expect(try await door.identity.isActive(tokenID: "t-dra-2", subject: "user:dra") == false, "the rotated token itself is no longer usable")
        let before = endpoint.posts.count
        try await write(door, [SubscriptionTests.observation("ana", 110)])
        for name in ["token", "rotated", "user"] { try await matched(door, ids[name]!, 1) }
        try await delivery.runOnce()
        try await delivery.runOnce()
        let token = try await status(door, ids["token"]!), user = try await status(door, ids["user"]!)
        #expect(token["status"]?.stringValue == "off")
        #expect(token["error"]?.stringValue?.contains("was revoked") == true && token["error"]?.stringValue?.contains("se revocó") == true)
        #expect(user["status"]?.stringValue == "off")
        #expect(user["error"]?.stringValue?.contains("se desactivó la cuenta") == true)
        let sent = endpoint.posts.dropFirst(before).map(\.url)
        #expect(sent == ["https://rotated.example.org/hook"], "only the Subscription whose owner still has access is told: \(sent)")
        #expect(try await status(door, ids["rotated"]!)["status"]?.stringValue == "active")
        // and it stays that way
        try await write(door, [SubscriptionTests.observation("ana", 111)])
        try await matched(door, ids["rotated"]!, 2)
        try await delivery.runOnce()
        #expect(endpoint.posts.dropFirst(before).map(\.url) == ["https://rotated.example.org/hook", "https://rotated.example.org/hook"])
    }

    func range(_ since: Int, _ until: Int?, _ count: Int) throws -> [Int] {
        let r = try SubscriptionEventRange.check(since: since, until: until, count: count)
        return [r.since, r.until]
    }

    @Test func theEventRangeOfEventsIsCheckedPrecisely() throws {
        #expect(try range(1, nil, 5) == [1, 5])
        #expect(try range(6, nil, 5) == [6, 5], "nothing missed: an empty answer")
        #expect(try range(2, 99, 5) == [2, 5], "until stops at the count")
        #expect(try range(1, nil, 5000) == [1, 1000], "at most 1000")
        for (since, until, count, english) in [(8, nil as Int?, 5, "past the last event (5); events 1–5 exist"), (3, 2, 5, "below eventsSinceNumber 3"),
                                               (2, nil, 0, "no event has been numbered yet")] {
            #expect {
                _ = try SubscriptionEventRange.check(since: since, until: until, count: count)
            } throws: { e in
                guard let e = e as? FHIRError else { return false }
                return e.status == 400 && e.issues.first?.code == "invalid" && e.issues.first?.english.contains(english) == true
                    && e.issues.first?.spanish.isEmpty == false
            }
        }
    }
}

final class Frames: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [String] = []
    var all: [String] { lock.withLock { frames } }
    func add(_ f: String) { lock.withLock { frames.append(f) } }
}

/// A rest-hook endpoint that takes a while to answer (widens the window in which two nodes could
/// both send the same Bundle).
struct SlowEndpoint: NotificationTransport {
    let inner: FakeEndpoint
    func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int {
        try await Task.sleep(nanoseconds: 20_000_000)
        return try await inner.post(url, headers: headers, body: body, timeout: timeout)
    }
    func addresses(of host: String) async throws -> [IPAddress] { try await inner.addresses(of: host) }
}

extension SubscriptionDisclosureTests {
    /// docs/subscriptions.md "Several nodes": two nodes delivering on one database send every
    /// event once — a per-Subscription lease, then the progress read again, before each POST.
    @Test(arguments: Backend.available)
    func twoNodesDeliveringSendEveryEventOnce(backend: Backend) async throws {
        let (one, two, cleanup) = try await backend.twoNodes()
        defer { cleanup() }
        try await SubscriptionTests.seed(one)
        let endpoint = FakeEndpoint()
        let s = SubscriptionTests.subscription(filter: nil, extra: #",{"url":"\#(Backport.maxCount)","valuePositiveInt":3}"#)
        let id = try await one.open(SubscriptionTests.dra, audit: nil).create("Subscription", s, ifNoneExist: nil).resource.id
        let total = 24
        try await write(one, (1...total).map { SubscriptionTests.observation("ana", 100 + $0) })
        try await matched(one, id, total)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for door in [one, two] {
                group.addTask {
                    let delivery = SubscriptionDelivery(door: door, transport: SlowEndpoint(inner: endpoint), base: SubscriptionDisclosureTests.base)
                    for _ in 0..<(total / 3 + 12) { try await delivery.runOnce() }
                }
            }
            try await group.waitForAll()
        }
        let events = endpoint.notifications.filter { $0.type == "event-notification" }.flatMap(\.numbers)
        #expect(events == Array(1...total), "each event once, in order: \(events)")
        #expect(endpoint.notifications.filter { $0.type == "handshake" }.count == 1)
        #expect(try await notifications(one, patient: "ana").count == total / 3, "one audit entry per Bundle sent")
    }
}
