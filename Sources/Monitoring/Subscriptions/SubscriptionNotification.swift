import FHIR
import Foundation
import Storage
import Trust

/// The notification Bundles of the Backport IG STU 1.1 for R4
/// (https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/notifications.html): a `history`
/// Bundle whose first entry is the SubscriptionStatus `Parameters`
/// (`backport-subscription-status-r4`), then the focus of each event (its reference for
/// `id-only`, the resource for `full-resource`, nothing for `empty`).
public enum SubscriptionNotification {
    public enum Kind: String, Sendable { case handshake, heartbeat, eventNotification = "event-notification", queryStatus = "query-status", queryEvent = "query-event" }

    /// An event with what its subscriber may receive of it (the resource, for `full-resource`).
    public struct Item: Sendable {
        public var event: NotificationEvent
        public var resource: JSON?
    }

    static func part(_ name: String, _ value: (String, JSON)) -> JSON { .object([("name", .string(name)), value]) }

    /// The SubscriptionStatus Parameters.
    public static func status(subscription id: String, topic: String, status: String, kind: Kind, count: Int, items: [Item],
                              content: SubscriptionSpec.Content, base: String, error: String? = nil) -> JSON {
        var params: [JSON] = [part("subscription", ("valueReference", .object([("reference", .string("\(base)/Subscription/\(id)"))]))),
                              part("topic", ("valueCanonical", .string(topic))),
                              part("status", ("valueCode", .string(status))),
                              part("type", ("valueCode", .string(kind.rawValue))),
                              part("events-since-subscription-start", ("valueString", .string(String(count))))]
        for item in items {
            var parts: [JSON] = [part("event-number", ("valueString", .string(String(item.event.number)))),
                                 part("timestamp", ("valueInstant", .string(item.event.timestamp)))]
            if content != .empty {
                parts.append(part("focus", ("valueReference", .object([("reference", .string("\(base)/\(item.event.type)/\(item.event.id)"))]))))
            }
            params.append(.object([("name", .string("notification-event")), ("part", .array(parts))]))
        }
        if let error {
            params.append(part("error", ("valueCodeableConcept", .object([("text", .string(error))]))))
        }
        return .object([("resourceType", .string("Parameters")), ("meta", .object([("profile", .array([.string(Backport.statusProfile)]))])),
                        ("parameter", .array(params))])
    }

    /// The notification Bundle.
    public static func bundle(subscription id: String, topic: String, status: String, kind: Kind, count: Int, items: [Item],
                              content: SubscriptionSpec.Content, base: String, now: Timestamp, error: String? = nil) -> JSON {
        let parameters = SubscriptionNotification.status(subscription: id, topic: topic, status: status, kind: kind, count: count, items: items,
                                                         content: content, base: base, error: error)
        var entries: [JSON] = [.object([("fullUrl", .string("urn:uuid:\(UUID().uuidString.lowercased())")), ("resource", parameters),
                                        ("request", .object([("method", .string("GET")), ("url", .string("Subscription/\(id)/$status"))])),
                                        ("response", .object([("status", .string("200"))]))])]
        if content != .empty {
            for item in items {
                let e = item.event
                var m: [(String, JSON)] = [("fullUrl", .string("\(base)/\(e.type)/\(e.id)"))]
                if content == .fullResource, let r = item.resource { m.append(("resource", r)) }
                m.append(("request", .object([("method", .string(e.version == 1 ? "POST" : "PUT")),
                                              ("url", .string(e.version == 1 ? e.type : "\(e.type)/\(e.id)"))])))
                m.append(("response", .object([("status", .string(e.version == 1 ? "201" : "200"))])))
                entries.append(.object(m))
            }
        }
        return .object([("resourceType", .string("Bundle")), ("id", .string(UUID().uuidString.lowercased())),
                        ("meta", .object([("profile", .array([.string(Backport.notificationProfile)]))])),
                        ("type", .string("history")), ("timestamp", .string(now.description)), ("entry", .array(entries))])
    }

    /// The events `from...through` that `reader` may read now (a version hidden since is left
    /// out), with the resource when `content` is full-resource, read through `reader`'s guard.
    public static func items(_ events: [NotificationEvent], reader: GuardedRepository, content: SubscriptionSpec.Content) async throws -> [Item] {
        var out: [Item] = []
        for e in events {
            guard let r = try? await reader.vread(e.type, e.id, version: String(e.version)) else { continue }
            out.append(Item(event: e, resource: content == .fullResource ? try r.json() : nil))
        }
        return out
    }
}

/// The range of event numbers `$events` answers (docs/subscriptions.md, "Missed events"):
/// events are numbered 1…count and every one is kept as long as the Subscription exists.
public enum SubscriptionEventRange {
    /// At most this many events per `$events` answer (the client asks again from the last number + 1).
    public static let limit = 1000

    /// The range to answer for `eventsSinceNumber` = `since` (≥ 1) and `eventsUntilNumber` =
    /// `until` (nil: the count): `since` = count + 1 is "nothing missed" (an empty answer); a
    /// `since` beyond that, or an `until` below `since`, is refused with a 400 that says which
    /// numbers exist; an `until` beyond the count stops at the count; at most `limit` events.
    public static func check(since: Int, until: Int?, count: Int) throws -> (since: Int, until: Int) {
        let available = count == 0 ? "no event has been numbered yet / aún no hay eventos numerados"
            : "events 1–\(count) exist / existen los eventos 1–\(count)"
        if since > count + 1 {
            let parts = available.components(separatedBy: " / ")
            throw FHIRError(status: 400, code: "invalid",
                            english: "eventsSinceNumber \(since) is past the last event (\(count)); \(parts[0])",
                            spanish: "eventsSinceNumber \(since) va más allá del último evento (\(count)); \(parts[1])")
        }
        if let until, until < since {
            throw FHIRError(status: 400, code: "invalid", english: "eventsUntilNumber \(until) is below eventsSinceNumber \(since)",
                            spanish: "eventsUntilNumber \(until) es menor que eventsSinceNumber \(since)")
        }
        let last = min(count, until ?? count)
        return (since, min(last, since + limit - 1))
    }

    /// Refuses (410, naming what is still available) a range whose events are no longer kept.
    /// Nothing prunes events today; this holds the answer precise if a retention is configured
    /// or the state was trimmed by hand.
    public static func checkRetained(_ events: [NotificationEvent], since: Int, until: Int, count: Int) throws {
        guard since <= until else { return }
        let kept = Set(events.map(\.number))
        let missing = (since...until).filter { !kept.contains($0) }
        guard let first = missing.first, let last = missing.last else { return }
        let after = last + 1 <= count ? "events \(last + 1)–\(count) are available" : "no later event is kept"
        let despues = last + 1 <= count ? "los eventos \(last + 1)–\(count) están disponibles" : "no se guarda ningún evento posterior"
        throw FHIRError(status: 410, code: "not-found", english: "events \(first)–\(last) of this Subscription are no longer kept; \(after)",
                        spanish: "los eventos \(first)–\(last) de esta Subscription ya no se guardan; \(despues)")
    }
}
