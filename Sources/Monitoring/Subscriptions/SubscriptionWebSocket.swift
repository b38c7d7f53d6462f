import FHIR
import Foundation
import Storage
import Trust

/// The websocket channel of topic-based Subscriptions (Backport IG STU 1.1,
/// https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/channels.html, and the operation
/// `$get-ws-binding-token`; docs/subscriptions.md "The websocket channel"): the owner of a
/// `websocket` Subscription asks for a short-lived binding token, connects to the websocket URL
/// and sends `bind-with-token <token>`; it then receives the same notification Bundles as a
/// rest-hook endpoint — a `handshake` on bind, the events the matcher numbered after that, at most
/// max-count per Bundle, each checked again with the owner's access decision at delivery time,
/// and heartbeats. A client that reconnects fetches what it missed with `$events`.
///
/// Tokens are kept in this channel's own durable state (so any node may redeem them) under their
/// SHA-256 (`secretDigest`: a copy of the database holds no usable token), valid for
/// `tokenLifetime` seconds, and used once: redeeming deletes the record in the same statement that
/// reads it (`ConsumerState.take`, `DELETE … RETURNING`), so of connections racing with the same
/// token, on one node or several, exactly one binds.
public struct SubscriptionWebSocket: Sendable {
    public static let stateName = "subscriptions.websocket"

    public let door: Door
    public let base: String
    /// How long a binding token is valid (seconds).
    public var tokenLifetime: Double = 60
    /// How long a connection may stay open without binding (seconds).
    public var bindTimeout: Double = 30

    public init(door: Door, base: String) {
        self.door = door
        self.base = base
    }

    /// What a binding token allows: the Subscriptions, the principal who asked for it, until when.
    public struct Binding: Sendable, Equatable {
        public var subscriptions: [String]
        public var subject: String
        public var expires: Timestamp
    }

    var state: ConsumerState { door.state(of: SubscriptionWebSocket.stateName) }

    func now() -> Double { Double(door.clock.now().microseconds) / 1_000_000 }

    static func encode(_ b: Binding) -> [UInt8] {
        JSON.object([("subscriptions", .array(b.subscriptions.map { .string($0) })), ("subject", .string(b.subject)),
                     ("expires", .number(String(b.expires.microseconds)))]).serialized()
    }

    static func decode(_ bytes: [UInt8]) -> Binding? {
        guard let j = try? JSONParser.parse(bytes), let subject = j["subject"]?.stringValue, case .number(let e)? = j["expires"],
              let micros = Int64(e) else { return nil }
        return Binding(subscriptions: (j["subscriptions"]?.arrayValue ?? []).compactMap(\.stringValue), subject: subject,
                       expires: Timestamp(microseconds: micros))
    }

    /// A new token binding `subscriptions` to `principal` (the caller checked that the principal
    /// owns them and that their channel is websocket). Expired tokens are dropped on the way.
    public func issue(_ subscriptions: [String], for principal: Principal) async throws -> (token: String, binding: Binding) {
        let token = randomToken()
        let t = door.clock.now()
        let binding = Binding(subscriptions: subscriptions, subject: principal.subject,
                              expires: Timestamp(microseconds: t.microseconds + Int64(tokenLifetime * 1_000_000)))
        var changes: [ConsumerState.Change] = []
        for (key, value) in try await state.values("token") where (SubscriptionWebSocket.decode(value)?.expires ?? t) <= t {
            changes.append(.init(kind: "token", key: key, value: nil))
        }
        changes.append(.init(kind: "token", key: secretDigest(token), value: SubscriptionWebSocket.encode(binding)))
        try await state.keep(changes)
        return (token, binding)
    }

    /// What `token` allows; it cannot be used again (taken atomically: of concurrent redeemers of
    /// one token exactly one gets the binding, the others an unknown-token error). Throws a bilingual FHIRError for an unknown,
    /// used or expired token.
    public func redeem(_ token: String) async throws -> Binding {
        guard let bytes = try await state.take("token", secretDigest(token)), let binding = SubscriptionWebSocket.decode(bytes) else {
            throw FHIRError(status: 401, code: "security", english: "unknown or already used binding token; ask for one with $get-ws-binding-token",
                            spanish: "token de enlace desconocido o ya usado; pida uno con $get-ws-binding-token")
        }
        guard door.clock.now() < binding.expires else {
            throw FHIRError(status: 401, code: "expired", english: "the binding token expired at \(binding.expires); ask for a new one with $get-ws-binding-token",
                            spanish: "el token de enlace venció el \(binding.expires); pida otro con $get-ws-binding-token")
        }
        return binding
    }

    /// Parses a client's text frame: `bind-with-token <token>` is the only command.
    public static func parse(_ text: String) -> Result<String, FHIRError> {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard let command = words.first, command == "bind-with-token" else {
            let shown = String((words.first ?? "").prefix(40))
            return .failure(FHIRError(status: 400, code: "not-supported",
                                      english: "unknown command '\(shown)': send 'bind-with-token <token>'",
                                      spanish: "comando desconocido '\(shown)': envíe 'bind-with-token <token>'"))
        }
        guard words.count == 2 else {
            return .failure(FHIRError(status: 400, code: "invalid", english: "bind-with-token takes exactly one token: 'bind-with-token <token>'",
                                      spanish: "bind-with-token lleva exactamente un token: 'bind-with-token <token>'"))
        }
        let token = String(words[1])
        guard token.count <= 200, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.~".contains($0)) }) else {
            return .failure(FHIRError(status: 400, code: "invalid", english: "that is not a binding token (letters, digits, '-', '_')",
                                      spanish: "eso no es un token de enlace (letras, dígitos, '-', '_')"))
        }
        return .success(token)
    }
}

/// One websocket connection: the commands it receives, the Subscriptions bound to it and what
/// each was last sent. Transport-free: `send` writes one text frame; the server's websocket
/// handler feeds `receive` with the client's frames and calls `pass` after every write (and at
/// least twice a second), closing the connection when either returns a `Close`.
public actor SubscriptionSocketSession {
    /// How to close: 1000 (normal) or 1008 (policy violation, after an OperationOutcome frame).
    public struct Close: Sendable, Equatable {
        public var code: Int
        public var reason: String
        public init(code: Int, reason: String) {
            self.code = code
            self.reason = reason
        }
    }

    struct Bound {
        var owner: Principal
        var spec: SubscriptionSpec
        var sent: Int
        var lastSent: Double
    }

    let channel: SubscriptionWebSocket
    let send: @Sendable (String) async throws -> Void
    let opened: Double
    /// The client's address (the destination in the audit entries of what it is sent).
    let peer: String
    var bound: [String: Bound] = [:]
    var order: [String] = []

    public init(channel: SubscriptionWebSocket, peer: String? = nil, send: @escaping @Sendable (String) async throws -> Void) {
        self.channel = channel
        self.send = send
        self.peer = peer ?? "?"
        opened = channel.now()
    }

    /// The Subscriptions bound so far, in binding order.
    public var subscriptions: [String] { order }

    var door: Door { channel.door }

    func frame(_ json: JSON) async throws { try await send(String(decoding: json.serialized(), as: UTF8.self)) }

    /// Sends `error` as an OperationOutcome and says to close with 1008.
    func refuse(_ error: FHIRError) async throws -> Close {
        try await frame(error.operationOutcome)
        let reason = error.issues.first?.english ?? "refused"
        return Close(code: 1008, reason: String(reason.prefix(100)))
    }

    /// A text frame from the client.
    public func receive(_ text: String) async throws -> Close? {
        let token: String
        switch SubscriptionWebSocket.parse(text) {
        case .failure(let e): return try await refuse(e)
        case .success(let t): token = t
        }
        do {
            let binding = try await channel.redeem(token)
            for id in binding.subscriptions { try await bind(id, subject: binding.subject) }
        } catch let e as FHIRError {
            return try await refuse(e)
        }
        return nil
    }

    /// A binary frame from the client: not a command.
    public func receiveBinary() async throws -> Close {
        try await refuse(FHIRError(status: 400, code: "not-supported", english: "commands are text frames: 'bind-with-token <token>'",
                                   spanish: "los comandos son marcos de texto: 'bind-with-token <token>'"))
    }

    func bind(_ id: String, subject: String) async throws {
        let guarded = try await door.open(SubscriptionDelivery.principal, audit: nil)
        guard let s = try? await guarded.read("Subscription", id).json(), let spec = try? SubscriptionSpec(s), spec.channel == .websocket,
              let owner = try await SubscriptionMatcher.owner(id, door: door), owner.subject == subject else {
            throw FHIRError(status: 404, code: "not-found", english: "Subscription/\(id) is not a websocket Subscription of this token's holder",
                            spanish: "Subscription/\(id) no es una Subscription websocket de quien tiene este token")
        }
        if let reason = try await SubscriptionOwnerAccess.ended(owner, door: door) {
            let parts = reason.components(separatedBy: " / ")
            throw FHIRError(status: 422, code: "business-rule", english: "Subscription/\(id): \(parts.first ?? reason)",
                            spanish: "Subscription/\(id): \(parts.last ?? reason)")
        }
        guard ["requested", "active"].contains(spec.status) else {
            throw FHIRError(status: 422, code: "business-rule", english: "Subscription/\(id) is \(spec.status): set it to 'requested' to receive notifications",
                            spanish: "Subscription/\(id) está en '\(spec.status)': póngala en 'requested' para recibir notificaciones")
        }
        let count = try await SubscriptionMatcher.count(id, door: door)
        try await frame(SubscriptionNotification.bundle(subscription: id, topic: spec.topic.url, status: "active", kind: .handshake, count: count,
                                                        items: [], content: spec.content, base: channel.base, now: door.clock.now()))
        if bound[id] == nil {
            order.append(id)
            bound[id] = Bound(owner: owner, spec: spec, sent: count, lastSent: channel.now())
        }
    }

    /// One round over the bound Subscriptions: the events numbered since they were last sent (at
    /// most max-count per Bundle, each checked against the owner's access now), or a heartbeat
    /// when due. A Subscription turned off or deleted is let go once what it counted is sent; the
    /// connection is closed when none is left, or when nothing was bound within the bind timeout.
    public func pass() async throws -> Close? {
        let t = channel.now()
        if order.isEmpty {
            guard t - opened >= channel.bindTimeout else { return nil }
            return try await refuse(FHIRError(status: 408, code: "timeout",
                                              english: "no bind-with-token within \(Int(channel.bindTimeout)) s",
                                              spanish: "no llegó bind-with-token en \(Int(channel.bindTimeout)) s"))
        }
        let guarded = try await door.open(SubscriptionDelivery.principal, audit: nil)
        for id in order {
            guard var b = bound[id] else { continue }
            let current: JSON?
            do { current = try await guarded.read("Subscription", id).json() } catch let e as FHIRError where e.status == 404 || e.status == 410 { current = nil }
            let count = try await SubscriptionMatcher.count(id, door: door)
            // the owner's access ended: nothing more is sent (the delivery service turns it off)
            if let reason = try await SubscriptionOwnerAccess.ended(b.owner, door: door) {
                bound[id] = nil
                order.removeAll { $0 == id }
                let parts = reason.components(separatedBy: " / ")
                try await frame(OperationOutcome.make([Issue(.information, code: "informational", english: "Subscription/\(id): \(parts.first ?? reason)",
                                                             spanish: "Subscription/\(id): \(parts.last ?? reason)")]))
                continue
            }
            if count > b.sent {
                let through = min(count, b.sent + b.spec.maxCount)
                let events = try await SubscriptionMatcher.events(id, from: b.sent + 1, through: through, door: door)
                let audit = SubscriptionDisclosure.context(subscription: id, owner: b.owner, channel: "websocket", destination: peer)
                let reader = try await door.open(b.owner, audit: audit)
                let items = try await SubscriptionNotification.items(events, reader: reader, content: b.spec.content)
                if !items.isEmpty {
                    do {
                        try await frame(SubscriptionNotification.bundle(subscription: id, topic: b.spec.topic.url, status: "active", kind: .eventNotification,
                                                                        count: count, items: items, content: b.spec.content, base: channel.base,
                                                                        now: door.clock.now()))
                    } catch {
                        // the frame may have left: a disclosure all the same, without a confirmed answer
                        try? await SubscriptionDisclosure.record(audit, status: 0, door: door)
                        throw error
                    }
                    try await SubscriptionDisclosure.record(audit, status: 200, door: door)
                    b.lastSent = t
                }
                // nothing the owner may still read: the numbers are passed, nothing is told
                b.sent = through
            } else if let beat = b.spec.heartbeatSeconds, t - b.lastSent >= Double(beat) {
                try await frame(SubscriptionNotification.bundle(subscription: id, topic: b.spec.topic.url, status: "active", kind: .heartbeat, count: count,
                                                                items: [], content: b.spec.content, base: channel.base, now: door.clock.now()))
                b.lastSent = t
            }
            bound[id] = b
            let live = ["requested", "active"].contains(current?["status"]?.stringValue ?? "")
            if !live, b.sent >= count {
                bound[id] = nil
                order.removeAll { $0 == id }
                let status = current?["status"]?.stringValue ?? "deleted"
                try await frame(OperationOutcome.make([Issue(.information, code: "informational",
                                                             english: "Subscription/\(id) is \(status): no more notifications on this connection",
                                                             spanish: "Subscription/\(id) está en '\(status)': no habrá más notificaciones en esta conexión")]))
            }
        }
        if order.isEmpty { return Close(code: 1000, reason: "no Subscription left bound") }
        return nil
    }
}
