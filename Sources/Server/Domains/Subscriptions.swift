import AsyncHTTPClient
import FHIR
import Foundation
import Hummingbird
import Logging
import Monitoring
import NIOCore
import ServiceLifecycle
import Trust

/// The wiring of topic-based Subscriptions (R5 Backport IG STU 1.1 for R4; docs/subscriptions.md):
/// `$status`, `$events` and `$get-ws-binding-token` (the websocket channel: SubscriptionsWebSocket.swift), the SubscriptionTopics in the CapabilityStatement, the write rule on
/// Subscription, the matcher (an outbox consumer) and the delivery service. The logic lives in
/// `Monitoring/Subscriptions/`.
extension FHIRAPI {
    func registerSubscriptions(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.get("{type}/{id}/$status") { req, ctx in try await subscriptionStatus(req, ctx) }
        fhir.post("{type}/{id}/$status") { req, ctx in try await subscriptionStatus(req, ctx) }
        fhir.get("{type}/{id}/$events") { req, ctx in try await subscriptionEvents(req, ctx) }
        fhir.post("{type}/{id}/$events") { req, ctx in try await subscriptionEvents(req, ctx) }
        // the websocket channel (SubscriptionsWebSocket.swift)
        fhir.get("{type}/{id}/$get-ws-binding-token") { req, ctx in try await getWebSocketBindingToken(req, ctx, instance: true) }
        fhir.post("{type}/{id}/$get-ws-binding-token") { req, ctx in try await getWebSocketBindingToken(req, ctx, instance: true) }
        fhir.get("{type}/$get-ws-binding-token") { req, ctx in try await getWebSocketBindingToken(req, ctx, instance: false) }
        fhir.post("{type}/$get-ws-binding-token") { req, ctx in try await getWebSocketBindingToken(req, ctx, instance: false) }
    }

    /// The Subscription `id` of the request, if the requester is its owner (or an operator);
    /// anyone else is told it does not exist.
    func ownSubscription(_ context: EnlaceRequestContext, operation: String) async throws -> (GuardedRepository, JSON, String) {
        _ = try requireType(context, "Subscription", operation: operation)
        let id = try context.parameters.require("id")
        let g = try await guarded(context)
        let subscription = try await g.read("Subscription", id).json()
        let owner = try await SubscriptionMatcher.owner(id, door: door)
        guard g.principal.effectiveRole == .platformOperator || owner?.subject == g.principal.subject else {
            throw FHIRError.notFound("Subscription", id)
        }
        return (g, subscription, id)
    }

    /// `Subscription/{id}/$status` (https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/OperationDefinition-backport-subscription-status.html):
    /// a `searchset` Bundle with the SubscriptionStatus (`query-status`), the event count and, if
    /// delivery fails or failed, why.
    func subscriptionStatus(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let (_, subscription, id) = try await ownSubscription(context, operation: "$status")
        let count = try await SubscriptionMatcher.count(id, door: door)
        let progress = try await SubscriptionDelivery(door: door, transport: NoTransport(), base: base).progress(id)
        let error = subscription["error"]?.stringValue ?? progress.lastError
        let parameters = SubscriptionNotification.status(subscription: id, topic: subscription["criteria"]?.stringValue ?? "",
                                                         status: subscription["status"]?.stringValue ?? "", kind: .queryStatus, count: count,
                                                         items: [], content: .empty, base: base, error: error)
        let bundle: JSON = .object([("resourceType", .string("Bundle")), ("type", .string("searchset")), ("total", .number("1")),
                                    ("entry", .array([.object([("fullUrl", .string("urn:uuid:\(UUID().uuidString.lowercased())")), ("resource", parameters),
                                                               ("search", .object([("mode", .string("match"))]))])]))])
        return FHIRResponse.json(.ok, bundle)
    }

    /// `Subscription/{id}/$events?eventsSinceNumber=&eventsUntilNumber=&content=`
    /// (https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/OperationDefinition-backport-subscription-events.html):
    /// the events by number again (`query-event`), each checked against the requester's access now.
    func subscriptionEvents(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let (g, subscription, id) = try await ownSubscription(context, operation: "$events")
        let count = try await SubscriptionMatcher.count(id, door: door)
        var since = 1, until: Int? = nil
        var content = (try? SubscriptionSpec(subscription))?.content ?? .idOnly
        for (k, v) in try FHIRAPI.parseQuery(request.uri.query ?? "") {
            switch k {
            case "eventsSinceNumber", "eventsUntilNumber":
                guard let n = Int(v), n >= 0 else {
                    throw FHIRError.badRequest("\(k) must be a whole number, not '\(v)'", "\(k) debe ser un número entero, no '\(v)'")
                }
                if k == "eventsSinceNumber" { since = max(1, n) } else { until = n }
            case "content":
                guard let c = SubscriptionSpec.Content(rawValue: v) else {
                    throw FHIRError.badRequest("content must be empty, id-only or full-resource, not '\(v)'", "content debe ser empty, id-only o full-resource, no '\(v)'")
                }
                content = c
            case "_format", "_pretty":
                break
            default:
                throw FHIRError(status: 400, code: "not-supported", english: "unknown $events parameter '\(k)'", spanish: "parámetro desconocido de $events '\(k)'")
            }
        }
        let range = try SubscriptionEventRange.check(since: since, until: until, count: count)
        let events = try await SubscriptionMatcher.events(id, from: range.since, through: range.until, door: door)
        try SubscriptionEventRange.checkRetained(events, since: range.since, until: range.until, count: count)
        let items = try await SubscriptionNotification.items(events, reader: g, content: content)
        let bundle = SubscriptionNotification.bundle(subscription: id, topic: subscription["criteria"]?.stringValue ?? "",
                                                     status: subscription["status"]?.stringValue ?? "", kind: .queryEvent, count: count, items: items,
                                                     content: content, base: base, now: clock.now())
        return FHIRResponse.json(.ok, bundle)
    }
}

/// For reading progress only.
struct NoTransport: NotificationTransport {
    func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int { 0 }
}

/// rest-hook POSTs with AsyncHTTPClient (already resolved for HummingbirdTesting, so no new
/// package to fetch or build); redirects are not followed (a notification goes where its owner
/// said, and a 3xx is a failed delivery: the endpoint policy is never bypassed by a `Location`).
/// A POST to a host name the endpoint policy resolved and checked connects to the checked
/// address (AsyncHTTPClient's `dnsOverride`, one short-lived client per such POST), so the
/// client does not resolve the name a second time.
final class RestHookTransport: NotificationTransport, Sendable {
    let client: HTTPClient

    static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        return configuration
    }

    init() {
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: RestHookTransport.configuration)
    }

    func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int {
        try await RestHookTransport.post(url, headers: headers, body: body, timeout: timeout, with: client)
    }

    func post(_ url: String, connectingTo address: IPAddress, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int {
        // the host exactly as AsyncHTTPClient reads it from the URL (its dnsOverride key)
        guard let host = URL(string: url)?.host, !host.isEmpty else { throw HTTPClientError.invalidURL }
        var configuration = RestHookTransport.configuration
        configuration.dnsOverride = [host: address.description]
        let pinned = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let status = try await RestHookTransport.post(url, headers: headers, body: body, timeout: timeout, with: pinned)
            try? await pinned.shutdown()
            return status
        } catch {
            try? await pinned.shutdown()
            throw RestHookTransport.notConnected(error, address: address) ?? error
        }
    }

    /// A failure to open the connection (refused, unreachable, connect timeout) as
    /// `NotConnected`: nothing was sent, and the delivery may try the host's next address.
    static func notConnected(_ error: any Error, address: IPAddress) -> NotConnected? {
        if let e = error as? IOError, [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL].contains(e.errnoCode) {
            return NotConnected(address: address.description, reason: "errno \(e.errnoCode)")
        }
        if let e = error as? HTTPClientError, e == .connectTimeout { return NotConnected(address: address.description, reason: "connect timeout") }
        if let e = error as? ChannelError, case .connectTimeout = e { return NotConnected(address: address.description, reason: "connect timeout") }
        return nil
    }

    static func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int, with client: HTTPClient) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for h in headers { request.headers.add(name: h.name, value: h.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(Int64(timeout)))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    func shutdown() async { try? await client.shutdown() }
}

/// Runs the delivery for as long as the server runs (woken by each committed write of the node,
/// and at least twice a second).
struct SubscriptionDeliveryService: Service {
    let door: Door
    let base: String
    let endpoints: EndpointPolicy
    let logger: Logger

    func run() async throws {
        let transport = RestHookTransport()
        defer { Task { await transport.shutdown() } }
        do { try await SubscriptionTopics.install(door: door) } catch {
            logger.error("could not write the SubscriptionTopics", metadata: ["error": "\(type(of: error))"])
        }
        do { try await SubscriptionOwner.indexOwners(door: door) } catch {
            logger.error("could not index the Subscriptions' owners", metadata: ["error": "\(type(of: error))"])
        }
        var delivery = SubscriptionDelivery(door: door, transport: transport, base: base)
        delivery.endpoints = endpoints
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await delivery.runOnce() } catch {
                logger.error("subscription delivery pass failed; retrying", metadata: ["error": "\(type(of: error))"])
            }
            _ = await door.writes.wait(timeout: 0.5)
        }
    }
}

extension EnlaceServices {
    func subscriptionsConsumers() -> [any EventConsumer] { [SubscriptionMatcher(door: door)] }

    func subscriptionsServices(_ logger: Logger) -> [any Service] {
        configuration.runsEventConsumers
            ? [SubscriptionDeliveryService(door: door, base: configuration.fhirBase, endpoints: configuration.subscriptionEndpointPolicy, logger: logger)] : []
    }

    static func subscriptionsWriteRules(_ configuration: ServerConfiguration) -> [any WriteRule] {
        [SubscriptionRule(endpoints: configuration.subscriptionEndpointPolicy)]
    }
}

extension CapabilityContribution {
    static var subscriptions: CapabilityContribution {
        var c = CapabilityContribution(operations: ["Subscription": [
            (name: "status", definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status"),
            (name: "events", definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events"),
            (name: "get-ws-binding-token", definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-get-ws-binding-token"),
        ]])
        c.resourceExtensions = ["Subscription": SubscriptionTopics.all.map {
            .object([("url", .string(Backport.topicCanonical)), ("valueCanonical", .string($0.url))])
        }]
        return c
    }
}
