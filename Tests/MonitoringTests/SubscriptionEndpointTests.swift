import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// Where notifications may go (docs/subscriptions.md, "Where notifications may go"): the write
/// rule refuses an endpoint the policy refuses, and delivery checks the addresses the host
/// resolves to before every POST (DNS rebinding).
@Suite("Subscription endpoints (SSRF)")
struct SubscriptionEndpointTests {
    func create(_ door: Door, _ s: JSON) async throws -> String {
        try await door.open(SubscriptionTests.dra, audit: nil).create("Subscription", s, ifNoneExist: nil).resource.id
    }

    @Test func anEndpointInsideTheNetworkIsRefusedAtCreateAndUpdate() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        for endpoint in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "http://[::ffff:10.0.0.1]/", "http://localhost/hook"] {
            do {
                _ = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: endpoint))
                Issue.record("\(endpoint) was accepted")
            } catch let e as FHIRError {
                #expect(e.status == 422 && e.issues.first?.code == "business-rule", "\(endpoint): \(e)")
                #expect(e.issues.first?.expression == ["Subscription.channel.endpoint"])
                #expect(e.issues.first?.spanish.contains("channel.endpoint rechazado") == true)
                #expect(e.issues.first?.english.contains("ENLACE_SUBSCRIPTION_ENDPOINTS") == true)
            }
        }
        #expect(try await Fixture.all(door, "Subscription").isEmpty, "a refusal leaves nothing behind")
        // off: nothing is sent, so it may be kept; asking for delivery is checked
        let id = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "http://10.0.0.5/hook", status: "off"))
        let g = try await door.open(SubscriptionTests.dra, audit: nil)
        let off = try await g.read("Subscription", id).json().setting("meta", nil)
        await #expect(throws: FHIRError.self) { _ = try await g.update("Subscription", id, off.setting("status", .string("requested")), ifMatch: nil) }
        // a public host name is accepted without resolving it (delivery resolves it)
        _ = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "https://receiver.example.org/hook"))
    }

    @Test func theOperatorsListDecidesAtCreate() async throws {
        let dir = NSTemporaryDirectory() + "enlace-endpoints-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var settings = Door.Settings()
        settings.writeRules = [SubscriptionRule(endpoints: try EndpointPolicy(setting: "127.0.0.1/32"))]
        let door = Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir), settings: settings, clock: TestClock())
        try await SubscriptionTests.seed(door)
        _ = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "http://127.0.0.1:9000/hook"))
        await #expect(throws: FHIRError.self) { _ = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "http://93.184.216.34/hook")) }
    }

    /// A name that passed at create resolves inside the network at delivery time: nothing is
    /// sent, the Subscription is in `error` with the reason at once (no retries), and once the
    /// name resolves outside again and its owner asks again, the handshake goes to the address
    /// checked.
    @Test func aNameThatResolvesInsideTheNetworkAtDeliveryIsNotSentTo() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        endpoint.resolved = ["rebind.example.org": [IPAddress("93.184.216.34")!, IPAddress("169.254.169.254")!]]
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: "https://enlace.example/fhir")
        let id = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "https://rebind.example.org/hook"))
        try await delivery.runOnce()
        #expect(endpoint.posts.isEmpty, "not even the handshake")
        let s = try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()
        #expect(s["status"]?.stringValue == "error")
        let error = s["error"]?.stringValue ?? ""
        #expect(error.contains("rebind.example.org (169.254.169.254)") && error.contains("link-local") && error.contains("enlace local"), "\(error)")
        let p = try await delivery.progress(id)
        #expect(p.failures == 1 && p.lastError == error)
        clock.set("2026-11-24T19:00:00Z")
        for _ in 0..<3 { try await delivery.runOnce() }
        let after = try await delivery.progress(id)
        #expect(endpoint.posts.isEmpty && after.failures == 1, "not retried")

        endpoint.resolved = ["rebind.example.org": [IPAddress("93.184.216.34")!]]
        let g = try await door.open(SubscriptionTests.dra, audit: nil)
        _ = try await g.update("Subscription", id, s.setting("status", .string("requested")).setting("meta", nil).setting("error", nil), ifMatch: nil)
        try await delivery.runOnce()
        #expect(endpoint.notifications.map(\.type) == ["handshake"])
        #expect(endpoint.pinned == [IPAddress("93.184.216.34")!], "connected to the address checked, not resolved again")
        #expect(try await g.read("Subscription", id).json()["status"]?.stringValue == "active")
    }

    /// A host with several addresses: one that refuses the connection is skipped for the next
    /// (each checked); when none accepts, nothing was sent — no disclosure — and it is retried.
    @Test func theNextCheckedAddressIsTriedWhenOneRefuses() async throws {
        let clock = TestClock("2026-11-24T18:00:00Z")
        let door = try SubscriptionTests.door(clock: clock)
        try await SubscriptionTests.seed(door)
        let endpoint = FakeEndpoint()
        let first = IPAddress("93.184.216.34")!, second = IPAddress("2606:2800:220:1::1")!
        endpoint.resolved = ["two.example.org": [first, second]]
        endpoint.unreachable = [first]
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: "https://enlace.example/fhir")
        let id = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "https://two.example.org/hook"))
        try await delivery.runOnce()
        #expect(endpoint.pinned == [first, second])
        #expect(endpoint.notifications.map(\.type) == ["handshake"])
        let g = try await door.open(SubscriptionTests.dra, audit: nil)
        #expect(try await g.read("Subscription", id).json()["status"]?.stringValue == "active")

        // neither accepts: a failure with the reason, retried later, and no disclosure recorded
        endpoint.unreachable = [first, second]
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        _ = try await op.create("Observation", SubscriptionTests.observation("ana", 150), ifNoneExist: nil)
        try await door.catchUp(SubscriptionMatcher(door: door))
        let before = try await door.ledger.size()
        try await delivery.runOnce()
        let p = try await delivery.progress(id)
        #expect(p.failures == 1 && p.delivered == 0 && p.lastError?.contains("could not be reached") == true
            && p.lastError?.contains("2606:2800:220:1::1") == true, "\(p)")
        #expect(try await door.ledger.size() == before, "nothing sent, nothing disclosed")
        // the second address is back: the event goes there, and is a disclosure
        endpoint.unreachable = [first]
        clock.set("2026-11-24T18:10:00Z")
        try await delivery.runOnce()
        #expect(endpoint.notifications.map(\.type) == ["handshake", "event-notification"])
        #expect(try await delivery.progress(id).failures == 0)
        #expect(try await door.ledger.size() == before + 1)
    }

    /// A name that cannot be resolved is an unreachable endpoint: retried with backoff, not an error at once.
    @Test func aNameThatDoesNotResolveIsRetried() async throws {
        let door = try SubscriptionTests.door()
        try await SubscriptionTests.seed(door)
        let endpoint = UnresolvableEndpoint()
        let delivery = SubscriptionDelivery(door: door, transport: endpoint, base: "https://enlace.example/fhir")
        let id = try await create(door, SubscriptionTests.subscription(filter: nil, endpoint: "https://gone.example.org/hook"))
        try await delivery.runOnce()
        let p = try await delivery.progress(id)
        #expect(p.failures == 1 && p.lastError?.contains("could not be resolved") == true, "\(p)")
        #expect(try await door.open(SubscriptionTests.dra, audit: nil).read("Subscription", id).json()["status"]?.stringValue == "requested")
    }
}

/// An endpoint whose host resolves to nothing.
struct UnresolvableEndpoint: NotificationTransport {
    func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int {
        Issue.record("posted to \(url)")
        return 200
    }
    func addresses(of host: String) async throws -> [IPAddress] { throw HostResolver.Failure(host: host, code: -2) }
}
