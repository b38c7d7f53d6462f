import FHIR
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Monitoring
@testable import Server
import Testing
@testable import Trust

/// Where notifications may go, over HTTP (docs/subscriptions.md, "Where notifications may go"):
/// the operator's `subscriptionEndpoints` (`ENLACE_SUBSCRIPTION_ENDPOINTS`) decides at create
/// and at each delivery, with the server's own HTTP client (`RestHookTransport`) and the system
/// resolver. The receiver is a real listener on 127.0.0.1.
@Suite("Subscription endpoints over HTTP")
struct SubscriptionEndpointHTTPTests {
    static func subscription(_ endpoint: String) -> String {
        #"{"resourceType":"Subscription","status":"requested","reason":"Lecturas","criteria":"https://enlace.mx/fhir/SubscriptionTopic/new-observation","channel":{"type":"rest-hook","endpoint":"\#(endpoint)","payload":"application/fhir+json"}}"#
    }

    static func practitioner(_ server: TestServer) throws -> [String: String] {
        let token = try server.services.authority.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                              role: .practitioner, fhirUser: "Practitioner/dra", organization: "Organization/umf").token
        return ["Authorization": "Bearer \(token)"]
    }

    /// One delivery pass as the server's delivery service makes it (its HTTP client, its policy).
    static func deliver(_ server: TestServer) async throws {
        let transport = RestHookTransport()
        var delivery = SubscriptionDelivery(door: server.services.door, transport: transport, base: server.services.configuration.fhirBase)
        delivery.endpoints = server.services.configuration.subscriptionEndpointPolicy
        do {
            try await delivery.runOnce()
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }

    /// A rest-hook receiver on 127.0.0.1: the notification types it got.
    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var types: [String] = []
        private var hosts: [String] = []
        var all: [String] { lock.withLock { types } }
        /// The `Host` header of each request.
        var hostHeaders: [String] { lock.withLock { hosts } }
        func add(host: String) { lock.withLock { hosts.append(host) } }
        func add(_ body: JSON) {
            let params = body["entry"]?.arrayValue?.first?["resource"]?["parameter"]?.arrayValue ?? []
            let type = params.first { $0["name"]?.stringValue == "type" }?["valueCode"]?.stringValue ?? "?"
            lock.withLock { types.append(type) }
        }
    }

    static func receiver(_ received: Received) -> some ApplicationProtocol {
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            received.add(host: request.head.authority ?? "")
            let body = try await request.body.collect(upTo: 1 << 20)
            received.add((try? JSONParser.parse(Array(body.readableBytesView))) ?? .null)
            return .ok
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test(arguments: ServerBackend.allCases)
    func theMetadataAddressIsRefusedAtCreate(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let dra = try SubscriptionEndpointHTTPTests.practitioner(server)
        try await server.run { c in
            for endpoint in ["http://169.254.169.254/latest/meta-data/iam/", "http://[::ffff:169.254.169.254]/", "http://127.0.0.1:5432/", "http://2130706433/"] {
                let r = try await c.send(.post, "/fhir/Subscription", body: Array(SubscriptionEndpointHTTPTests.subscription(endpoint).utf8), headers: dra)
                #expect(r.status == 422 && r.json["resourceType"]?.stringValue == "OperationOutcome", "\(endpoint): \(r.text)")
                #expect(r.issueCodes == ["business-rule"] && r.locations == ["Subscription.channel.endpoint"], "\(r.text)")
                let issue = r.json["issue"]?.arrayValue?.first
                #expect(issue?["diagnostics"]?.stringValue?.contains("ENLACE_SUBSCRIPTION_ENDPOINTS") == true, "\(r.text)")
                #expect(issue?["details"]?["text"]?.stringValue?.contains("rechazado") == true, "\(r.text)")
            }
            #expect(try await c.send(.get, "/fhir/Subscription?_summary=count").json["total"] == .number("0"), "nothing stored")
        }
    }

    /// With the allow-list naming the local listener, the handshake and the events arrive.
    @Test func theOperatorAllowsALocalListener() async throws {
        let received = Received()
        try await SubscriptionEndpointHTTPTests.receiver(received).test(.live) { listener in
            let port = try #require(listener.port)
            let (server, cleanup) = try await ServerBackend.sqlite.make { $0.subscriptionEndpoints = ["127.0.0.1/32"] }
            defer { cleanup() }
            let dra = try SubscriptionEndpointHTTPTests.practitioner(server)
            try await server.run { c in
                // the list names 127.0.0.1 only: a public address is now refused
                let other = try await c.send(.post, "/fhir/Subscription", body: Array(SubscriptionEndpointHTTPTests.subscription("http://93.184.216.34/hook").utf8), headers: dra)
                #expect(other.status == 422, "\(other.text)")
                let r = try await c.send(.post, "/fhir/Subscription", body: Array(SubscriptionEndpointHTTPTests.subscription("http://127.0.0.1:\(port)/hook").utf8), headers: dra)
                #expect(r.status == 201, "\(r.text)")
                let id = try #require(r.json["id"]?.stringValue)
                try await SubscriptionEndpointHTTPTests.deliver(server)
                #expect(received.all == ["handshake"])
                #expect(try await c.send(.get, "/fhir/Subscription/\(id)", headers: dra).json["status"]?.stringValue == "active")
                #expect(try await c.send(.put, "/fhir/Patient/ana", json: #"{"resourceType":"Patient","id":"ana"}"#).status == 201)
                #expect(try await c.send(.put, "/fhir/CareTeam/equipo", json: #"{"resourceType":"CareTeam","id":"equipo","status":"active","subject":{"reference":"Patient/ana"},"participant":[{"member":{"reference":"Practitioner/dra"}}]}"#).status == 201)
                #expect(try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"text":"glucosa"},"subject":{"reference":"Patient/ana"}}"#).status == 201)
                try await server.services.door.catchUp(SubscriptionMatcher(door: server.services.door))
                try await SubscriptionEndpointHTTPTests.deliver(server)
                #expect(received.all == ["handshake", "event-notification"])
            }
        }
    }

    /// A POST to a name the policy resolved goes to the address checked, not to a second
    /// resolution: a name that resolves nowhere (`.invalid`) still reaches the listener it was
    /// pinned to, with the URL's host in `Host`.
    @Test func aPinnedPostConnectsToTheAddressChecked() async throws {
        let received = Received()
        try await SubscriptionEndpointHTTPTests.receiver(received).test(.live) { listener in
            let port = try #require(listener.port)
            let transport = RestHookTransport()
            let status: Int
            do {
                status = try await transport.post("http://pinned.invalid:\(port)/hook", connectingTo: IPAddress("127.0.0.1")!,
                                                  headers: [("Content-Type", "application/fhir+json")], body: Array("{}".utf8), timeout: 10)
            } catch {
                await transport.shutdown()
                throw error
            }
            await transport.shutdown()
            #expect(status == 200)
            #expect(received.hostHeaders == ["pinned.invalid:\(port)"], "\(received.hostHeaders)")
        }
    }

    /// An address that refuses the connection is `NotConnected` (nothing was sent), so the
    /// delivery goes on to the host's next checked address.
    @Test func aRefusedConnectionIsNotConnected() async throws {
        // a port nothing listens on: bind one, note it, close it
        let closed = try await SubscriptionEndpointHTTPTests.receiver(Received()).test(.live) { listener in try #require(listener.port) }
        let transport = RestHookTransport()
        var caught: (any Error)?
        do {
            _ = try await transport.post("http://refused.invalid:\(closed)/hook", connectingTo: IPAddress("127.0.0.1")!,
                                         headers: [("Content-Type", "application/fhir+json")], body: Array("{}".utf8), timeout: 2)
        } catch {
            caught = error
        }
        await transport.shutdown()
        #expect(caught is NotConnected, "\(String(describing: caught)) \(caught.map { String(reflecting: type(of: $0)) } ?? "")")
    }

    /// A host name accepted at create (the default policy does not resolve it then) that
    /// resolves to a loopback or private address at delivery time — here the machine's own
    /// name, through the system resolver — is not sent to: the Subscription is in `error` and
    /// `$status` says why.
    @Test func aNameResolvingInsideTheNetworkIsRefusedAtDelivery() async throws {
        // a name that is not `localhost` (refused by name at create) but resolves inside: the
        // machine's own name (a container's /etc/hosts maps it to its private address) or one of
        // Debian's /etc/hosts loopback aliases
        var found: (name: String, addresses: [IPAddress])?
        for candidate in [ProcessInfo.processInfo.hostName.lowercased(), "ip6-localhost", "ip6-loopback", "localhost.localdomain"] {
            guard let addresses = try? await HostResolver.addresses(of: candidate), !addresses.isEmpty,
                  !addresses.allSatisfy({ EndpointPolicy.publicOnly.allows($0) }) else { continue }
            found = (candidate, addresses)
            break
        }
        let name = try #require(found?.name, "this test needs a host name other than localhost that resolves to a non-public address (the machine's name, ip6-localhost, …)")
        let received = Received()
        try await SubscriptionEndpointHTTPTests.receiver(received).test(.live) { listener in
            let port = try #require(listener.port)
            let (server, cleanup) = try await ServerBackend.sqlite.make()
            defer { cleanup() }
            let dra = try SubscriptionEndpointHTTPTests.practitioner(server)
            try await server.run { c in
                let r = try await c.send(.post, "/fhir/Subscription", body: Array(SubscriptionEndpointHTTPTests.subscription("http://\(name):\(port)/hook").utf8), headers: dra)
                #expect(r.status == 201, "\(r.text)")
                let id = try #require(r.json["id"]?.stringValue)
                try await SubscriptionEndpointHTTPTests.deliver(server)
                try await SubscriptionEndpointHTTPTests.deliver(server)
                #expect(received.all.isEmpty, "nothing sent: \(received.all)")
                let s = try await c.send(.get, "/fhir/Subscription/\(id)", headers: dra).json
                #expect(s["status"]?.stringValue == "error")
                #expect(s["error"]?.stringValue?.contains("\(name) (") == true && s["error"]?.stringValue?.contains("ENLACE_SUBSCRIPTION_ENDPOINTS") == true,
                        "\(s["error"]?.stringValue ?? "")")
                let status = try await c.send(.get, "/fhir/Subscription/\(id)/$status", headers: dra).json
                let parameters = status["entry"]?.arrayValue?.first?["resource"]?["parameter"]?.arrayValue ?? []
                #expect(parameters.first { $0["name"]?.stringValue == "status" }?["valueCode"]?.stringValue == "error", "\(status.compactString)")
                let error = parameters.first { $0["name"]?.stringValue == "error" }?["valueCodeableConcept"]?["text"]?.stringValue ?? ""
                #expect(error.contains("punto de entrega"), "\(error)")
            }
        }
    }
}
