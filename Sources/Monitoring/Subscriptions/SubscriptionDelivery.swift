import FHIR
import Foundation
import Storage
import Trust

/// How a notification reaches a rest-hook endpoint (the server's HTTP client; a test's fake).
public protocol NotificationTransport: Sendable {
    /// POSTs `body` to `url` with `headers`; returns the HTTP status, or throws (unreachable, timeout).
    func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int
    /// POSTs `body` to `url`, connecting to `address` — the address of the URL's host that the
    /// endpoint policy just checked — instead of resolving the host again; the `Host` header, TLS
    /// server name and certificate check still use the URL's host. Default: `post` (a fake).
    func post(_ url: String, connectingTo address: IPAddress, headers: [(name: String, value: String)], body: [UInt8], timeout: Int) async throws -> Int
    /// The addresses `host` resolves to (default: the system resolver, `HostResolver`).
    func addresses(of host: String) async throws -> [IPAddress]
}

/// A POST whose connection could not be opened (refused, unreachable, connect timeout): nothing
/// was sent, so the delivery may try the host's next checked address, and records no disclosure.
public struct NotConnected: Error, CustomStringConvertible {
    public var address: String
    public var reason: String
    public init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }
    public var description: String { "could not connect to \(address): \(reason)" }
}

extension NotificationTransport {
    public func post(_ url: String, connectingTo address: IPAddress, headers: [(name: String, value: String)], body: [UInt8],
                     timeout: Int) async throws -> Int {
        try await post(url, headers: headers, body: body, timeout: timeout)
    }

    public func addresses(of host: String) async throws -> [IPAddress] { try await HostResolver.addresses(of: host) }
}

/// Delivers notifications to rest-hook endpoints (docs/subscriptions.md; websocket clients are
/// served by `SubscriptionWebSocket`, which reads the same events): the handshake of a
/// `requested` Subscription (then `active`), the events the matcher numbered, in order, at most
/// `maxCount` per Bundle, and heartbeats. What each endpoint acknowledged, the failures and the
/// next attempt are kept durably (a restart or `kill -9` resumes where it was: an event is
/// sent again only if the endpoint's acknowledgement was not recorded). A failing endpoint is
/// retried with exponential backoff (up to `maxBackoff`) for `giveUpAfter` (hours, by default);
/// then the Subscription goes to `error`, with the reason in `Subscription.error`, visible to its
/// owner, who may set it back to `requested`.
///
/// Every event is checked again at delivery time with the owner's current access decision; a
/// full resource is read through the owner's guard.
///
/// Before every POST (handshake, events, heartbeat) the endpoint is checked against `endpoints`
/// (`EndpointPolicy`, the operator's `ENLACE_SUBSCRIPTION_ENDPOINTS`), its host resolved then and
/// every address checked, and the connection made to the address checked. A refused endpoint
/// is not sent to and not retried: the Subscription goes to `error` at once with the reason
/// (its owner fixes the endpoint, or the operator the list, and sets it back to `requested`).
public struct SubscriptionDelivery: Sendable {
    public static let consumerName = "subscriptions.delivery"
    public static let subject = "algorithm:subscriptions.delivery"

    public let door: Door
    public let transport: any NotificationTransport
    public let base: String
    public var giveUpAfter: Double = 6 * 3600
    /// This delivery's name in the per-Subscription lease (one per process: two nodes never send the same Bundle).
    public var node = "delivery-" + UUID().uuidString.lowercased()
    public var firstBackoff: Double = 1
    public var maxBackoff: Double = 600
    /// Where notifications may be sent (default: public addresses only).
    public var endpoints: EndpointPolicy = .publicOnly

    public init(door: Door, transport: any NotificationTransport, base: String) {
        self.door = door
        self.transport = transport
        self.base = base
    }

    public static let principal = Principal(subject: subject, scopes: ScopeSet("system/Subscription.rus"), tokenID: consumerName, role: .service,
                                            fhirUser: "Device/enlace-subscriptions")

    /// Durable progress of one Subscription.
    public struct Progress: Codable, Sendable, Equatable {
        public var delivered = 0
        public var failures = 0
        public var firstFailure: Double?
        public var nextAttempt: Double = 0
        public var lastSent: Double = 0
        public var lastError: String?
        /// The Subscription version last seen `requested` (a new request resets the failures).
        public var requestedVersion: String?
    }

    var state: ConsumerState { door.state(of: SubscriptionDelivery.consumerName) }

    public func progress(_ id: String) async throws -> Progress {
        guard let bytes = try await state.value("progress", id) else { return Progress() }
        return (try? JSONDecoder().decode(Progress.self, from: Data(bytes))) ?? Progress()
    }

    func save(_ id: String, _ p: Progress) async throws {
        try await state.keep([.init(kind: "progress", key: id, value: Array(try JSONEncoder().encode(p)))])
    }

    /// How many Subscriptions are delivered to at the same time (a slow endpoint holds up only its own).
    public var parallel = 8

    /// One pass over every live Subscription (one Bundle at most each, several endpoints at a
    /// time, each Subscription's own in order). Returns how many Bundles were sent successfully.
    @discardableResult
    public func runOnce() async throws -> Int {
        let guarded = try await door.open(SubscriptionDelivery.principal, audit: nil)
        let live = try await Fetch.all(guarded, "Subscription", [("status", "requested,active")], sort: "_lastUpdated")
        var sent = 0
        var start = 0
        while start < live.count {
            let slice = live[start..<min(live.count, start + max(1, parallel))]
            start += slice.count
            sent += try await withThrowingTaskGroup(of: Int.self) { group in
                for s in slice {
                    guard let id = s["id"]?.stringValue else { continue }
                    group.addTask {
                        do { return try await deliver(s, id: id, guarded: guarded) } catch is CancellationError { throw CancellationError() } catch {
                            // one Subscription's trouble (e.g. a concurrent change) does not stop the others
                            return 0
                        }
                    }
                }
                var n = 0
                for try await k in group { n += k }
                return n
            }
        }
        return sent
    }

    func now() -> Double { Double(door.clock.now().microseconds) / 1_000_000 }

    func deliver(_ subscription: JSON, id: String, guarded: GuardedRepository) async throws -> Int {
        guard let spec = try? SubscriptionSpec(subscription), let owner = try await SubscriptionMatcher.owner(id, door: door) else { return 0 }
        // the owner's access ended (token revoked, user or client disabled): nothing more is sent
        if let reason = try await SubscriptionOwnerAccess.ended(owner, door: door) {
            try await setStatus(id, "off", error: reason, guarded: guarded)
            return 0
        }
        if spec.channel == .websocket {
            // nothing to POST: the clients bound to it (SubscriptionWebSocket) receive its notifications;
            // it is active at once (each client gets its handshake when it binds) and off after its end
            if let end = spec.end, door.clock.now() > end {
                try await setStatus(id, "off", error: nil, guarded: guarded)
            } else if spec.status == "requested" {
                try await setStatus(id, "active", error: nil, guarded: guarded)
            }
            return 0
        }
        let loaded = try await progress(id)
        var p = loaded
        let version = subscription["meta"]?["versionId"]?.stringValue
        if spec.status == "requested", p.requestedVersion != version {
            p.failures = 0
            p.firstFailure = nil
            p.nextAttempt = 0
            p.requestedVersion = version
        }
        let t = now()
        let count = try await SubscriptionMatcher.count(id, door: door)
        // past its end: what was counted before it is delivered, then it is turned off
        if let end = spec.end, door.clock.now() > end, count <= p.delivered {
            try await setStatus(id, "off", error: nil, guarded: guarded)
            return 0
        }
        guard p.nextAttempt <= t else { return 0 }
        let body: JSON
        var through = p.delivered
        // the audit entry of what this Bundle discloses (events only)
        var disclosure: AuditContext?
        if spec.status == "requested" {
            body = SubscriptionNotification.bundle(subscription: id, topic: spec.topic.url, status: "requested", kind: .handshake, count: count, items: [],
                                                   content: spec.content, base: base, now: door.clock.now())
        } else if count > p.delivered {
            through = min(count, p.delivered + spec.maxCount)
            let events = try await SubscriptionMatcher.events(id, from: p.delivered + 1, through: through, door: door)
            let audit = SubscriptionDisclosure.context(subscription: id, owner: owner, channel: "rest-hook",
                                                       destination: SubscriptionDisclosure.host(spec.endpoint))
            disclosure = audit
            let reader = try await door.open(owner, audit: audit)
            let items = try await SubscriptionNotification.items(events, reader: reader, content: spec.content)
            if items.isEmpty {
                // nothing the owner may still read: the numbers are passed, nothing is told
                p.delivered = through
                try await save(id, p)
                return 0
            }
            body = SubscriptionNotification.bundle(subscription: id, topic: spec.topic.url, status: "active", kind: .eventNotification, count: count,
                                                   items: items, content: spec.content, base: base, now: door.clock.now())
        } else if let beat = spec.heartbeatSeconds, t - p.lastSent >= Double(beat) {
            body = SubscriptionNotification.bundle(subscription: id, topic: spec.topic.url, status: "active", kind: .heartbeat, count: count, items: [],
                                                   content: spec.content, base: base, now: door.clock.now())
        } else {
            return 0
        }
        // several nodes may run delivery: one sends this Bundle (a lease, then the progress and the
        // Subscription read again)
        guard try await state.claim("lease", id, holder: node, now: door.clock.now().microseconds,
                                    until: door.clock.now().microseconds + Int64(spec.timeoutSeconds + 60) * 1_000_000) else { return 0 }
        do {
            // unchanged since this pass read them: no other node sent meanwhile (or moved the status)
            let fresh = try await progress(id)
            let current = try await guarded.read("Subscription", id)
            let unchanged = fresh == loaded && String(current.version) == version
            let sent = unchanged
                ? try await post(body, id: id, spec: spec, through: through, disclosure: disclosure, progress: p, at: t, guarded: guarded) : 0
            try await state.release("lease", id, holder: node)
            return sent
        } catch {
            try? await state.release("lease", id, holder: node)
            throw error
        }
    }

    /// Sends one notification Bundle (this node holds the Subscription's lease) and records the answer.
    func post(_ body: JSON, id: String, spec: SubscriptionSpec, through: Int, disclosure: AuditContext?, progress: Progress, at t: Double,
              guarded: GuardedRepository) async throws -> Int {
        var p = progress
        var headers: [(name: String, value: String)] = [("Content-Type", "application/fhir+json")]
        headers += spec.headers
        var failure: String?
        var answer = 0
        var disclosureSent = true
        let destination = await self.destination(spec.endpoint)
        if case .refused(let english, let spanish) = destination {
            // not sent, and not retried: nothing changes until the endpoint or the operator's list does
            let reason = "\(english) / \(spanish)"
            p.failures += 1
            p.firstFailure = p.firstFailure ?? t
            p.lastError = reason
            p.nextAttempt = t + maxBackoff
            try await save(id, p)
            try await setStatus(id, "error", error: reason, guarded: guarded)
            return 0
        }
        do {
            let status: Int
            switch destination {
            case .pinned(let addresses):
                // every address was checked: on to the next one when a connection cannot be opened
                // (the order is the resolver's, as a client trying each in turn would take them)
                var answered: Int?
                for (i, address) in addresses.enumerated() {
                    do {
                        answered = try await transport.post(spec.endpoint, connectingTo: address, headers: headers, body: body.serialized(),
                                                            timeout: spec.timeoutSeconds)
                        break
                    } catch is NotConnected where i < addresses.count - 1 {
                        continue
                    }
                }
                status = answered ?? 0
            case .unresolved(let error):
                throw error
            case .direct, .refused:
                status = try await transport.post(spec.endpoint, headers: headers, body: body.serialized(), timeout: spec.timeoutSeconds)
            }
            answer = status
            if !(200..<300).contains(status) { failure = "the endpoint answered HTTP \(status) / el punto de entrega respondió HTTP \(status)" }
        } catch let error as HostResolver.Failure {
            // nothing left the server: not a disclosure
            failure = "the endpoint's host \(error.host) could not be resolved / no se pudo resolver el host \(error.host) del punto de entrega"
            disclosureSent = false
        } catch let error as NotConnected {
            failure = "the endpoint could not be reached (\(error)) / no se pudo contactar el punto de entrega (\(error))"
            disclosureSent = false
        } catch is CancellationError {
            if let disclosure { try? await SubscriptionDisclosure.record(disclosure, status: 0, door: door) }
            throw CancellationError()
        } catch {
            failure = "the endpoint could not be reached (\(type(of: error))) / no se pudo contactar el punto de entrega (\(type(of: error)))"
        }
        // every attempt that sent events is a disclosure, with the receiver's answer as its outcome
        if let disclosure, disclosureSent { try await SubscriptionDisclosure.record(disclosure, status: answer, door: door) }
        if let failure {
            p.failures += 1
            let first = p.firstFailure ?? t
            p.firstFailure = first
            p.lastError = failure
            p.nextAttempt = t + min(maxBackoff, firstBackoff * pow(2, Double(min(p.failures - 1, 30))))
            try await save(id, p)
            if t - first >= giveUpAfter {
                let hours = String(format: "%.1f", (t - first) / 3600)
                try await setStatus(id, "error", error: "\(failure); \(p.failures) attempts over \(hours) h, since \(Timestamp(microseconds: Int64(first * 1_000_000)).description) / \(p.failures) intentos en \(hours) h", guarded: guarded)
            }
            return 0
        }
        p.failures = 0
        p.firstFailure = nil
        p.nextAttempt = 0
        p.lastError = nil
        p.lastSent = t
        p.delivered = through
        try await save(id, p)
        if spec.status == "requested" { try await setStatus(id, "active", error: nil, guarded: guarded) }
        return 1
    }

    /// Where a POST to `endpoint` goes, by the endpoint policy.
    enum Destination {
        /// A listed host name or an allowed IP address: the client connects as the URL says.
        case direct
        /// A host name resolved now, every address allowed: the client connects to the first
        /// that accepts a connection, in the resolver's order.
        case pinned([IPAddress])
        case refused(english: String, spanish: String)
        /// The name could not be resolved (unreachable, retried).
        case unresolved(HostResolver.Failure)
    }

    func destination(_ endpoint: String) async -> Destination {
        switch endpoints.check(endpoint: endpoint) {
        case .allowed:
            return .direct
        case .refused(let english, let spanish):
            return .refused(english: english, spanish: spanish)
        case .resolve(let host):
            let addresses: [IPAddress]
            do { addresses = try await transport.addresses(of: host) } catch {
                return .unresolved(error as? HostResolver.Failure ?? HostResolver.Failure(host: host, code: -1))
            }
            switch endpoints.check(addresses: addresses, of: host) {
            case .allowed: return .pinned(addresses)
            case .refused(let english, let spanish): return .refused(english: english, spanish: spanish)
            case .resolve: return .refused(english: "the host \(host) could not be checked", spanish: "no se pudo verificar el host \(host)")
            }
        }
    }

    /// Moves the Subscription's status (the service's own write, through its guard).
    func setStatus(_ id: String, _ status: String, error: String?, guarded: GuardedRepository) async throws {
        let current = try await guarded.read("Subscription", id)
        var s = try current.json().setting("status", .string(status)).setting("meta", nil)
        s = s.setting("error", error.map { .string($0) })
        _ = try await guarded.update("Subscription", id, s, ifMatch: current.version)
    }
}
