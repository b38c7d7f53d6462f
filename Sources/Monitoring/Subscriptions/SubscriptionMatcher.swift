import FHIR
import Foundation
import Storage
import Trust

/// One notification event of a Subscription: its number (`events-since-subscription-start`),
/// the version that triggered it and when it was committed.
public struct NotificationEvent: Sendable, Equatable {
    public var number: Int
    public var focus: String
    public var type: String
    public var id: String
    public var version: Int
    public var timestamp: String

    var bytes: [UInt8] {
        JSON.object([("number", .number(String(number))), ("type", .string(type)), ("id", .string(id)), ("version", .number(String(version))),
                     ("timestamp", .string(timestamp))]).serialized()
    }

    init(number: Int, type: String, id: String, version: Int, timestamp: String) {
        self.number = number
        self.type = type
        self.id = id
        self.version = version
        self.timestamp = timestamp
        focus = "\(type)/\(id)/_history/\(version)"
    }

    init?(_ bytes: [UInt8]) {
        guard let j = try? JSONParser.parse(bytes), case .number(let n)? = j["number"], let number = Int(n),
              let type = j["type"]?.stringValue, let id = j["id"]?.stringValue, case .number(let v)? = j["version"], let version = Int(v) else { return nil }
        self.init(number: number, type: type, id: id, version: version, timestamp: j["timestamp"]?.stringValue ?? "")
    }

    /// The key of event `number` of `subscription` in the matcher's state (sorts by number).
    static func key(_ subscription: String, _ number: Int) -> String {
        let digits = String(number)
        return subscription + "|" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
}

/// Matches committed versions to Subscriptions (`subscriptions.match`, docs/subscriptions.md):
/// for each event in commit order, every started Subscription whose topic and filters match —
/// and whose owner may read that version through the door, with the owner's own access decision
/// (consent, sensitive labels, the right not to know) — gets the next event number, kept with
/// the event in the consumer's state, in the same transaction as the cursor: no event is lost
/// or counted twice, and a version the owner may not see is neither notified nor counted.
///
/// A Subscription starts counting at its own creation event (events committed before it are not
/// its events), so the consumer starts at the beginning of the outbox.
public struct SubscriptionMatcher: EventConsumer {
    public static let consumerName = "subscriptions.match"
    public var name = SubscriptionMatcher.consumerName
    public var principal: Principal
    public var start = EventConsumerStart.beginning
    let door: Door

    public init(door: Door) {
        self.door = door
        principal = Principal(subject: "algorithm:\(SubscriptionMatcher.consumerName)", scopes: ScopeSet("system/*.rs"),
                              tokenID: SubscriptionMatcher.consumerName, role: .service, fhirUser: "Device/enlace-subscriptions")
    }

    public func wants(_ event: OutboxEvent) -> Bool {
        event.type == "Subscription" || (!event.deleted && SubscriptionTopics.resourceTypes.contains(event.type))
    }

    static func json(_ s: StoredResource) -> JSON? { try? s.json() }

    public func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
        var counts: [String: Int] = [:]
        for (key, value) in try await state.values("count") { counts[key] = Int(String(decoding: value, as: UTF8.self)) }
        var changes: [ConsumerState.Change] = []
        var touched: Set<String> = []
        // the live Subscriptions, parsed once per batch
        var subscriptions: [String: (spec: SubscriptionSpec, owner: Principal)] = [:]
        var loaded = false
        var owners: [String: GuardedRepository] = [:]
        func load() async throws {
            loaded = true
            subscriptions = [:]
            for s in try await Fetch.all(guarded, "Subscription", [("status", "requested,active,error")], sort: "_lastUpdated") {
                guard let id = s["id"]?.stringValue, counts[id] != nil, let spec = try? SubscriptionSpec(s),
                      let bytes = try await state.value("owner", id), let owner = SubscriptionOwner.decode(bytes) else { continue }
                subscriptions[id] = (spec, owner)
            }
        }
        for e in events {
            if e.type == "Subscription" {
                if !e.deleted, counts[e.id] == nil {
                    counts[e.id] = 0
                    touched.insert(e.id)
                }
                loaded = false
                continue
            }
            if counts.isEmpty { continue }
            if !loaded { try await load() }
            if subscriptions.isEmpty { continue }
            guard let new = try? await guarded.vread(e.type, e.id, version: String(e.version)).json() else { continue }
            let previous = e.version > 1 ? try? await guarded.vread(e.type, e.id, version: String(e.version - 1)).json() : nil
            for id in subscriptions.keys.sorted() {
                let (spec, owner) = subscriptions[id]!
                if let end = spec.end, e.lastUpdated > end { continue }
                guard spec.matches(e.type, new, previous: previous, owner: owner) else { continue }
                // the owner's own access decision: a version they may not see is not their event
                let ownerGuard: GuardedRepository
                if let g = owners[owner.subject] { ownerGuard = g } else {
                    ownerGuard = try await door.open(owner, audit: nil)
                    owners[owner.subject] = ownerGuard
                }
                guard (try? await ownerGuard.vread(e.type, e.id, version: String(e.version))) != nil else { continue }
                let n = (counts[id] ?? 0) + 1
                counts[id] = n
                touched.insert(id)
                let event = NotificationEvent(number: n, type: e.type, id: e.id, version: e.version, timestamp: e.lastUpdated.description)
                changes.append(.init(kind: "event", key: NotificationEvent.key(id, n), value: event.bytes))
            }
        }
        for id in touched.sorted() { changes.append(.init(kind: "count", key: id, value: Array(String(counts[id] ?? 0).utf8))) }
        return ConsumerOutput(state: changes)
    }

    /// How many events `subscription` has had (`events-since-subscription-start`).
    public static func count(_ subscription: String, door: Door) async throws -> Int {
        try await door.state(of: consumerName).value("count", subscription).flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
    }

    /// Events `from`...`through` of `subscription`, in order.
    public static func events(_ subscription: String, from: Int, through: Int, door: Door) async throws -> [NotificationEvent] {
        guard from <= through else { return [] }
        let state = door.state(of: consumerName)
        var out: [NotificationEvent] = []
        for n in from...through {
            if let bytes = try await state.value("event", NotificationEvent.key(subscription, n)), let e = NotificationEvent(bytes) { out.append(e) }
        }
        return out
    }

    /// Who owns `subscription`.
    public static func owner(_ subscription: String, door: Door) async throws -> Principal? {
        try await door.state(of: consumerName).value("owner", subscription).flatMap(SubscriptionOwner.decode)
    }
}
