import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// A websocket client for tests: the text frames the session sent.
final class FakeSocket: @unchecked Sendable {
    private let lock = NSLock()
    private var _frames: [JSON] = []
    var frames: [JSON] { lock.withLock { _frames } }

    func send(_ text: String) throws {
        let j = try JSONParser.parse(Array(text.utf8))
        lock.withLock { _frames.append(j) }
    }

    /// The notification Bundles: (type, event numbers, events-since-subscription-start, subscription id).
    var notifications: [(type: String, numbers: [Int], count: Int, subscription: String)] {
        frames.filter { $0["resourceType"]?.stringValue == "Bundle" }.map { b in
            let params = b["entry"]?.arrayValue?.first?["resource"]?["parameter"]?.arrayValue ?? []
            func value(_ name: String, _ key: String) -> String { params.first { $0["name"]?.stringValue == name }?[key]?.stringValue ?? "" }
            let numbers = params.filter { $0["name"]?.stringValue == "notification-event" }.compactMap { e in
                Int(e["part"]?.arrayValue?.first { $0["name"]?.stringValue == "event-number" }?["valueString"]?.stringValue ?? "")
            }
            let subscription = params.first { $0["name"]?.stringValue == "subscription" }?["valueReference"]?["reference"]?.stringValue ?? ""
            return (value("type", "valueCode"), numbers, Int(value("events-since-subscription-start", "valueString")) ?? -1,
                    String(subscription.split(separator: "/").last ?? ""))
        }
    }

    var outcomes: [JSON] { frames.filter { $0["resourceType"]?.stringValue == "OperationOutcome" } }
}

@Suite("Subscriptions: the websocket channel")
struct SubscriptionWebSocketTests {
    static let base = "https://enlace.example/fhir"

    static func websocket(filter: String? = nil, content: String = "id-only", extra: String = "") -> JSON {
        let criteria = filter.map { #","_criteria":{"extension":[{"url":"\#(Backport.filterCriteria)","valueString":"\#($0)"}]}"# } ?? ""
        return Fixture.json("""
            {"resourceType":"Subscription","status":"requested","reason":"Lecturas en vivo","criteria":"\(SubscriptionTopics.base)new-observation"\(criteria),
             "channel":{"extension":[{"url":"\(Backport.heartbeatPeriod)","valueUnsignedInt":60}\(extra)],
                        "type":"websocket","payload":"application/fhir+json",
                        "_payload":{"extension":[{"url":"\(Backport.payloadContent)","valueCode":"\(content)"}]}}}
            """)
    }

    func create(_ door: Door, _ who: Principal, _ s: JSON) async throws -> String {
        try await door.open(who, audit: nil).create("Subscription", s, ifNoneExist: nil).resource.id
    }

    func write(_ door: Door, _ resources: [JSON]) async throws {
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        for r in resources { _ = try await op.create(r["resourceType"]!.stringValue!, r, ifNoneExist: nil) }
    }

    @Test func aWebsocketSubscriptionIsAcceptedWithoutAnEndpointAndActivatedWithoutAPost() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let spec = try SubscriptionSpec(SubscriptionWebSocketTests.websocket())
        #expect(spec.channel == .websocket && spec.endpoint.isEmpty && spec.heartbeatSeconds == 60)
        let id = try await create(door, SubscriptionTests.dra, SubscriptionWebSocketTests.websocket())
        let endpoint = FakeEndpoint()
        try await SubscriptionDelivery(door: door, transport: endpoint, base: SubscriptionWebSocketTests.base).runOnce()
        #expect(endpoint.posts.isEmpty, "nothing is POSTed for a websocket Subscription")
        #expect(try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()["status"]?.stringValue == "active")
        // other channels stay refused
        let email = SubscriptionWebSocketTests.websocket().setting("channel", .object([("type", .string("email")), ("endpoint", .string("mailto:a@b.mx"))]))
        #expect(throws: FHIRError.self) { _ = try SubscriptionSpec(email) }
    }

    @Test func tokensAreBoundToTheirHolderUsedOnceAndExpire() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        let channel = SubscriptionWebSocket(door: door, base: SubscriptionWebSocketTests.base)
        let (token, issued) = try await channel.issue(["s1", "s2"], for: SubscriptionTests.dra)
        #expect(token.count >= 40)
        // kept under its SHA-256, never as is
        let kept = try await door.state(of: SubscriptionWebSocket.stateName).values("token")
        #expect(kept.map(\.key) == [secretDigest(token)])
        #expect(!kept.contains { $0.key == token || String(decoding: $0.value, as: UTF8.self).contains(token) })
        #expect(issued.expires.description == "2026-11-24T18:01:00.000000Z")
        let binding = try await channel.redeem(token)
        #expect(binding == issued)
        #expect(binding.subject == "user:dra" && binding.subscriptions == ["s1", "s2"])
        do {
            _ = try await channel.redeem(token)
            Testing.Issue.record("a token is used once")
        } catch let e as FHIRError {
            #expect(e.status == 401 && e.issues.first?.code == "security")
            #expect(e.issues.first?.spanish.contains("ya usado") == true)
        }
        let (late, _) = try await channel.issue(["s1"], for: SubscriptionTests.dra)
        clock.set("2026-11-24T18:01:01Z")
        do {
            _ = try await channel.redeem(late)
            Testing.Issue.record("an expired token is refused")
        } catch let e as FHIRError {
            #expect(e.issues.first?.code == "expired")
        }
        // expired tokens left unused are dropped when the next one is issued
        let (unused, _) = try await channel.issue(["s1"], for: SubscriptionTests.dra)
        clock.set("2026-11-24T18:05:00Z")
        _ = try await channel.issue(["s1"], for: SubscriptionTests.dra)
        #expect(try await door.state(of: SubscriptionWebSocket.stateName).value("token", secretDigest(unused)) == nil)
        #expect(try await door.state(of: SubscriptionWebSocket.stateName).values("token").count == 1)
    }

    @Test(arguments: [
        ("bind-with-token abc_DEF-123", "abc_DEF-123"),
        ("  bind-with-token   abc \r\n", "abc"),
    ])
    func theCommandIsParsed(_ text: String, _ token: String) throws {
        #expect(try SubscriptionWebSocket.parse(text).get() == token)
    }

    @Test(arguments: [
        ("hello", "not-supported", "comando desconocido"),
        ("", "not-supported", "comando desconocido"),
        ("bind-with-token", "invalid", "exactamente un token"),
        ("bind-with-token a b", "invalid", "exactamente un token"),
        ("bind-with-token <script>", "invalid", "no es un token"),
        ("bind-with-token " + String(repeating: "a", count: 300), "invalid", "no es un token"),
    ])
    func aMalformedCommandIsRefusedPrecisely(_ text: String, _ code: String, _ spanish: String) {
        guard case .failure(let e) = SubscriptionWebSocket.parse(text) else {
            Testing.Issue.record("'\(text.prefix(30))' must be refused")
            return
        }
        #expect(e.issues.first?.code == code)
        #expect(e.issues.first?.spanish.contains(spanish) == true, "\(e.issues.first?.spanish ?? "")")
        #expect(e.issues.first?.english.isEmpty == false)
    }

    @Test func aBoundClientGetsTheHandshakeThenTheSameEventsInOrderHeartbeatsAndNothingHidden() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        try await SubscriptionTests.seed(door)
        let id = try await create(door, SubscriptionTests.dra, SubscriptionWebSocketTests.websocket(
            content: "full-resource", extra: #",{"url":"\#(Backport.maxCount)","valuePositiveInt":2}"#))
        try await write(door, [SubscriptionTests.observation("ana", 100)])
        try await door.catchUp(SubscriptionMatcher(door: door))
        #expect(try await SubscriptionMatcher.count(id, door: door) == 1)

        let channel = SubscriptionWebSocket(door: door, base: SubscriptionWebSocketTests.base)
        let socket = FakeSocket()
        let session = SubscriptionSocketSession(channel: channel) { try socket.send($0) }
        #expect(try await session.pass() == nil, "waiting for bind-with-token")
        let (token, _) = try await channel.issue([id], for: SubscriptionTests.dra)
        #expect(try await session.receive("bind-with-token \(token)") == nil)
        #expect(await session.subscriptions == [id])
        #expect(socket.notifications.map(\.type) == ["handshake"])
        #expect(socket.notifications.first?.count == 1, "events-since-subscription-start at the bind")
        #expect(socket.notifications.first?.subscription == id)
        #expect(try await session.pass() == nil)
        #expect(socket.notifications.count == 1, "what was numbered before the bind is for $events")

        try await write(door, (1...3).map { SubscriptionTests.observation("ana", 100 + $0) }
            + [SubscriptionTests.observation("ana", 777, label: "HIV"), SubscriptionTests.observation("beto", 888), SubscriptionTests.observation("ana", 104)])
        try await door.catchUp(SubscriptionMatcher(door: door))
        for _ in 0..<3 { _ = try await session.pass() }
        let events = socket.notifications.filter { $0.type == "event-notification" }
        #expect(events.map(\.numbers) == [[2, 3], [4, 5]], "in order, at most max-count per Bundle, numbered as for rest-hook")
        #expect(events.last?.count == 5)
        let bundle = try #require(socket.frames.last)
        #expect(bundle["type"]?.stringValue == "history")
        #expect(bundle["entry"]?.arrayValue?[1]["resource"]?["resourceType"]?.stringValue == "Observation", "full-resource")
        let everything = socket.frames.map(\.compactString).joined()
        #expect(!everything.contains("\"value\":777") && !everything.contains("\"value\":888"), "no sensitive reading, no unrelated patient")

        // nothing for the heartbeat period: a heartbeat
        clock.set("2026-11-24T18:01:01Z")
        _ = try await session.pass()
        #expect(socket.notifications.last?.type == "heartbeat")
        #expect(socket.notifications.last?.count == 5)

        // the token was used: another connection cannot bind with it
        let second = FakeSocket()
        let other = SubscriptionSocketSession(channel: channel) { try second.send($0) }
        let refused = try #require(try await other.receive("bind-with-token \(token)"))
        #expect(refused.code == 1008)
        #expect(second.outcomes.first?.compactString.contains("ya usado") == true)
        #expect(second.notifications.isEmpty)

        // its owner turns it off: the client is told and the connection closes
        let current = try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()
        _ = try await door.open(SubscriptionTests.dra, audit: nil).update("Subscription", id, current.setting("status", .string("off")).setting("meta", nil), ifMatch: nil)
        let close = try #require(try await session.pass())
        #expect(close.code == 1000)
        #expect(socket.outcomes.last?.compactString.contains("off") == true)
    }

    @Test func aHiddenEventIsNotSentAtDeliveryTime() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let id = try await create(door, SubscriptionTests.dra, SubscriptionWebSocketTests.websocket())
        let channel = SubscriptionWebSocket(door: door, base: SubscriptionWebSocketTests.base)
        let socket = FakeSocket()
        let session = SubscriptionSocketSession(channel: channel) { try socket.send($0) }
        let (token, _) = try await channel.issue([id], for: SubscriptionTests.dra)
        #expect(try await session.receive("bind-with-token \(token)") == nil)
        try await write(door, [SubscriptionTests.observation("ana", 120)])
        try await door.catchUp(SubscriptionMatcher(door: door))
        #expect(try await SubscriptionMatcher.count(id, door: door) == 1)
        // Dra. no longer treats Ana before it is delivered: not told
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        _ = try await op.delete("CareTeam", "equipo-ana", ifMatch: nil)
        _ = try await session.pass()
        #expect(socket.notifications.map(\.type) == ["handshake"], "\(socket.notifications.map(\.type))")
        #expect(!socket.frames.map(\.compactString).joined().contains("Observation/"))
    }

    @Test func bindingIsRefusedForAnotherChannelAnotherHolderOrNoBindAtAll() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        try await SubscriptionTests.seed(door)
        let restHook = try await create(door, SubscriptionTests.dra, SubscriptionTests.subscription(filter: nil))
        let mine = try await create(door, SubscriptionTests.dra, SubscriptionWebSocketTests.websocket())
        let channel = SubscriptionWebSocket(door: door, base: SubscriptionWebSocketTests.base)
        for (ids, who, spanish) in [([restHook], SubscriptionTests.dra, "no es una Subscription websocket"),
                                    ([mine], SubscriptionTests.drb, "no es una Subscription websocket"),
                                    (["no-existe"], SubscriptionTests.dra, "no es una Subscription websocket")] {
            let socket = FakeSocket()
            let session = SubscriptionSocketSession(channel: channel) { try socket.send($0) }
            let (token, _) = try await channel.issue(ids, for: who)
            let close = try #require(try await session.receive("bind-with-token \(token)"))
            #expect(close.code == 1008)
            #expect(socket.outcomes.count == 1 && socket.outcomes[0].compactString.contains(spanish), "\(socket.frames)")
            #expect(socket.notifications.isEmpty)
        }
        let socket = FakeSocket()
        let session = SubscriptionSocketSession(channel: channel) { try socket.send($0) }
        #expect(try await session.receiveBinary().code == 1008)
        let idle = SubscriptionSocketSession(channel: channel) { try socket.send($0) }
        clock.set("2026-11-24T18:00:31Z")
        let timeout = try #require(try await idle.pass())
        #expect(timeout.code == 1008)
        #expect(socket.outcomes.last?.compactString.contains("timeout") == true)
    }
}
