import FHIR
import Foundation
import Storage
import Trust

/// A Subscription as this server understands it (R4 Subscription with the Backport IG STU 1.1
/// extensions, https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/), parsed and checked.
/// Every refusal is a bilingual OperationOutcome.
public struct SubscriptionSpec: Sendable {
    public enum Content: String, Sendable, CaseIterable { case empty, idOnly = "id-only", fullResource = "full-resource" }
    /// `Subscription.channel.type` (R4's own codes; the Backport IG's `backport-channel-type` extension is only for others).
    public enum Channel: String, Sendable { case restHook = "rest-hook", websocket }

    public var id: String
    public var status: String
    public var topic: SubscriptionTopic
    public var channel: Channel
    /// Filters by resource type: name → accepted values (any of).
    public var filters: [String: [(name: String, values: [String])]]
    /// The rest-hook endpoint; empty for websocket (the client connects, Enlace does not).
    public var endpoint: String
    public var headers: [(name: String, value: String)]
    public var content: Content
    public var heartbeatSeconds: Int?
    public var timeoutSeconds: Int
    public var maxCount: Int
    /// `Subscription.end`: no event after it is counted, and delivery turns the Subscription `off`.
    public var end: Timestamp?

    public static let defaultTimeout = 10
    public static let defaultMaxCount = 20

    static func bad(_ en: String, _ es: String, code: String = "invalid") -> FHIRError {
        FHIRError(status: code == "forbidden" ? 403 : 422, code: code, english: en, spanish: es)
    }

    static func ext(_ element: JSON?, _ url: String) -> JSON? {
        (element?["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == url }
    }

    static func unsignedInt(_ e: JSON?, _ key: String) -> Int? {
        guard case .number(let n)? = e?[key] else { return nil }
        return Int(n)
    }

    /// Parses and checks `resource` (a Subscription). Throws 422 with what is wrong.
    public init(_ resource: JSON) throws {
        guard resource["resourceType"]?.stringValue == "Subscription" else {
            throw SubscriptionSpec.bad("not a Subscription", "no es una Subscription")
        }
        id = resource["id"]?.stringValue ?? ""
        status = resource["status"]?.stringValue ?? ""
        if let text = resource["end"]?.stringValue {
            guard let end = Timestamp(instant: text) else {
                throw SubscriptionSpec.bad("Subscription.end must be an instant with a time zone, not '\(text)'",
                                           "Subscription.end debe ser un instante con zona horaria, no '\(text)'")
            }
            self.end = end
        }
        guard let criteria = resource["criteria"]?.stringValue, !criteria.isEmpty else {
            throw SubscriptionSpec.bad("Subscription.criteria must hold a SubscriptionTopic canonical (\(SubscriptionTopics.base)…)",
                                       "Subscription.criteria debe contener el canónico de un SubscriptionTopic (\(SubscriptionTopics.base)…)")
        }
        guard let topic = SubscriptionTopics.topic(criteria) else {
            let known = SubscriptionTopics.all.map(\.url).joined(separator: ", ")
            throw FHIRError(status: 422, code: "not-supported", english: "unknown SubscriptionTopic '\(criteria)'; this server supports \(known)",
                            spanish: "SubscriptionTopic desconocido '\(criteria)'; este servidor admite \(known)")
        }
        self.topic = topic
        var filters: [String: [(name: String, values: [String])]] = [:]
        for e in resource["_criteria"]?["extension"]?.arrayValue ?? [] where e["url"]?.stringValue == Backport.filterCriteria {
            guard let text = e["valueString"]?.stringValue, !text.isEmpty else {
                throw SubscriptionSpec.bad("a backport-filter-criteria extension needs a valueString like 'Observation?patient=Patient/123'",
                                           "una extensión backport-filter-criteria necesita un valueString como 'Observation?patient=Patient/123'")
            }
            let parts = text.split(separator: "?", maxSplits: 1).map(String.init)
            let type = parts.count == 2 ? parts[0] : (topic.triggers.count == 1 ? topic.triggers[0].resource : "")
            guard !type.isEmpty, topic.allows(type) else {
                throw SubscriptionSpec.bad("filter '\(text)': the topic \(topic.url) is about \(topic.triggers.map(\.resource).joined(separator: ", ")); name the type as in 'Type?name=value'",
                                           "filtro '\(text)': el tema \(topic.url) trata de \(topic.triggers.map(\.resource).joined(separator: ", ")); indique el tipo como en 'Tipo?nombre=valor'")
            }
            let query = parts.count == 2 ? parts[1] : parts[0]
            for pair in query.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                guard kv.count == 2, !kv[1].isEmpty else {
                    throw SubscriptionSpec.bad("filter '\(text)': '\(pair)' is not name=value", "filtro '\(text)': '\(pair)' no es nombre=valor")
                }
                guard topic.filter(kv[0], on: type) != nil else {
                    let allowed = topic.filters.filter { $0.resource == type }.map(\.name).joined(separator: ", ")
                    throw FHIRError(status: 422, code: "not-supported",
                                    english: "the topic \(topic.url) does not allow the filter '\(kv[0])' on \(type) (it allows: \(allowed))",
                                    spanish: "el tema \(topic.url) no admite el filtro '\(kv[0])' sobre \(type) (admite: \(allowed))")
                }
                filters[type, default: []].append((kv[0], kv[1].split(separator: ",").map(String.init)))
            }
        }
        self.filters = filters
        let channel = resource["channel"]
        let type = channel?["type"]?.stringValue ?? ""
        guard let kind = Channel(rawValue: type) else {
            throw FHIRError(status: 422, code: "not-supported",
                            english: "channel type '\(type)' is not supported: this server delivers to rest-hook endpoints and websocket clients",
                            spanish: "el tipo de canal '\(type)' no está soportado: este servidor entrega a puntos rest-hook y a clientes websocket")
        }
        self.channel = kind
        let endpoint = channel?["endpoint"]?.stringValue ?? ""
        if kind == .restHook {
            guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  let host = url.host, !host.isEmpty else {
                throw SubscriptionSpec.bad("channel.endpoint must be an http(s) URL, not '\(endpoint)'",
                                           "channel.endpoint debe ser una URL http(s), no '\(endpoint)'")
            }
            self.endpoint = endpoint
        } else {
            // websocket: the client connects with a binding token ($get-ws-binding-token); an endpoint is not used
            self.endpoint = ""
        }
        if let payload = channel?["payload"]?.stringValue, !["application/fhir+json", "application/json"].contains(payload.split(separator: ";").first.map(String.init) ?? "") {
            throw FHIRError(status: 422, code: "not-supported", english: "payload '\(payload)' is not supported: use application/fhir+json",
                            spanish: "el payload '\(payload)' no está soportado: use application/fhir+json")
        }
        let contentCode = SubscriptionSpec.ext(channel?["_payload"], Backport.payloadContent)?["valueCode"]?.stringValue
        if let contentCode {
            guard let c = Content(rawValue: contentCode) else {
                throw FHIRError(status: 422, code: "not-supported", english: "payload content '\(contentCode)' is not supported (empty, id-only, full-resource)",
                                spanish: "el contenido de payload '\(contentCode)' no está soportado (empty, id-only, full-resource)")
            }
            content = c
        } else {
            content = channel?["payload"] == nil ? .empty : .idOnly
        }
        var headers: [(String, String)] = []
        for h in channel?["header"]?.arrayValue ?? [] {
            let text = h.stringValue ?? ""
            guard let colon = text.firstIndex(of: ":"), !text.contains("\r"), !text.contains("\n") else {
                throw SubscriptionSpec.bad("channel.header '\(text)' must be 'Name: value' on one line", "channel.header '\(text)' debe ser 'Nombre: valor' en una línea")
            }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }) else {
                throw SubscriptionSpec.bad("channel.header '\(text)': bad header name", "channel.header '\(text)': nombre de encabezado inválido")
            }
            headers.append((name, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        self.headers = headers
        let heartbeat = SubscriptionSpec.ext(channel, Backport.heartbeatPeriod)
        if let heartbeat {
            guard let s = SubscriptionSpec.unsignedInt(heartbeat, "valueUnsignedInt"), (1...86_400).contains(s) else {
                throw SubscriptionSpec.bad("backport-heartbeat-period must be an unsignedInt of seconds, 1 to 86400",
                                           "backport-heartbeat-period debe ser un unsignedInt de segundos, de 1 a 86400")
            }
            heartbeatSeconds = s
        }
        timeoutSeconds = SubscriptionSpec.defaultTimeout
        if let t = SubscriptionSpec.ext(channel, Backport.timeout) {
            guard let s = SubscriptionSpec.unsignedInt(t, "valueUnsignedInt"), (1...120).contains(s) else {
                throw SubscriptionSpec.bad("backport-timeout must be an unsignedInt of seconds, 1 to 120", "backport-timeout debe ser un unsignedInt de segundos, de 1 a 120")
            }
            timeoutSeconds = s
        }
        maxCount = SubscriptionSpec.defaultMaxCount
        if let m = SubscriptionSpec.ext(channel, Backport.maxCount) {
            guard let n = SubscriptionSpec.unsignedInt(m, "valuePositiveInt"), (1...1000).contains(n) else {
                throw SubscriptionSpec.bad("backport-max-count must be a positiveInt, 1 to 1000", "backport-max-count debe ser un positiveInt, de 1 a 1000")
            }
            maxCount = n
        }
    }

    /// The patients the filters name (`patient=` values), as ids.
    public var patients: [String] {
        filters.values.flatMap { $0 }.filter { $0.name == "patient" }.flatMap(\.values)
            .map { $0.hasPrefix("Patient/") ? String($0.dropFirst("Patient/".count)) : $0 }
    }

    /// Does this version of a resource match the topic and the filters, for a subscriber `owner`?
    public func matches(_ type: String, _ new: JSON, previous: JSON?, owner: Principal) -> Bool {
        guard topic.triggers(type, new, previous: previous) else { return false }
        var given = filters[type] ?? []
        // "task assigned to me": without an owner filter the owner is the subscriber
        if topic.id == "task-assigned", !given.contains(where: { $0.name == "owner" }) {
            let me = [owner.fhirUser, owner.organization].compactMap { $0 }
            guard !me.isEmpty else { return false }
            given.append(("owner", me))
        }
        for f in given {
            guard let def = topic.filter(f.name, on: type), def.matches(new, values: f.values) else { return false }
        }
        return true
    }
}

/// The principal who created a Subscription, kept beside it (the subscriber's access decides
/// every notification). Encoded as JSON.
public enum SubscriptionOwner {
    public static func encode(_ p: Principal) -> [UInt8] {
        var m: [(String, JSON)] = [("subject", .string(p.subject)), ("scopes", .string(p.scopes.description)), ("tokenID", .string(p.tokenID))]
        if let r = p.role { m.append(("role", .string(r.rawValue))) }
        if let v = p.fhirUser { m.append(("fhirUser", .string(v))) }
        if let v = p.patient { m.append(("patient", .string(v))) }
        if !p.actsFor.isEmpty { m.append(("actsFor", .array(p.actsFor.map { .string($0) }))) }
        if let v = p.organization { m.append(("organization", .string(v))) }
        if let v = p.clientID { m.append(("clientID", .string(v))) }
        if let v = p.purposeOfUse { m.append(("purposeOfUse", .string(v))) }
        return JSON.object(m).serialized()
    }

    public static func decode(_ bytes: [UInt8]) -> Principal? {
        guard let j = try? JSONParser.parse(bytes), let subject = j["subject"]?.stringValue else { return nil }
        return Principal(subject: subject, scopes: ScopeSet(j["scopes"]?.stringValue ?? ""), tokenID: j["tokenID"]?.stringValue ?? "",
                         role: j["role"]?.stringValue.flatMap(Principal.Role.init(rawValue:)), fhirUser: j["fhirUser"]?.stringValue,
                         patient: j["patient"]?.stringValue, actsFor: (j["actsFor"]?.arrayValue ?? []).compactMap(\.stringValue),
                         organization: j["organization"]?.stringValue, clientID: j["clientID"]?.stringValue,
                         purposeOfUse: j["purposeOfUse"]?.stringValue)
    }

    /// The record kind owners are kept under (the matcher's state, kind `owner`).
    public static var recordKind: String { ConsumerState.recordKind(SubscriptionMatcher.consumerName, "owner") }

    /// The record kind of the ids of the Subscriptions `subject` owns (the read rule in Trust,
    /// `AccessPolicy.subscriptionOwnedKind`, reads it on every decision).
    public static func ownedKind(_ subject: String) -> String { ConsumerState.recordKind(SubscriptionMatcher.consumerName, "owned:" + subject) }

    /// The changes that record `principal` as the owner of Subscription `id`.
    static func record(_ principal: Principal, of id: String) -> [ConsumerState.Change] {
        [.init(kind: recordKind, key: id, value: encode(principal)), .init(kind: ownedKind(principal.subject), key: id, value: [])]
    }

    /// Writes the per-owner index for owners recorded before it existed (Enlace 0.x before
    /// 2026-12-03): without it their owners would no longer find their Subscriptions. Idempotent;
    /// run at the start of the delivery service. Returns how many entries it added.
    @discardableResult
    public static func indexOwners(door: Door) async throws -> Int {
        let state = door.state(of: SubscriptionMatcher.consumerName)
        var missing: [ConsumerState.Change] = []
        for (id, bytes) in try await state.values("owner") {
            guard let owner = decode(bytes), try await state.value("owned:" + owner.subject, id) == nil else { continue }
            missing.append(.init(kind: "owned:" + owner.subject, key: id, value: []))
        }
        if !missing.isEmpty { try await state.keep(missing) }
        return missing.count
    }
}

/// The rule on Subscription writes (a `WriteRule`, docs/subscriptions.md): whoever may read some
/// data may subscribe (the role's shared-data rule does not apply); the Subscription is checked
/// (`SubscriptionSpec`), a filter may only name patients the subscriber may see, a client sets
/// `requested` or `off` (the server moves it to `active` after the handshake, or `error`), and
/// only its owner (or an operator) may change or delete it. The owner is recorded in the
/// write's transaction. A rest-hook endpoint the operator's `EndpointPolicy` refuses is a 422
/// (`business-rule`, at `Subscription.channel.endpoint`), unless the Subscription is `off`; a
/// host name is not resolved here (delivery resolves it before each POST).
public struct SubscriptionRule: WriteRule {
    /// Where notifications may be sent (`ENLACE_SUBSCRIPTION_ENDPOINTS`; default: public addresses).
    public var endpoints: EndpointPolicy

    public init(endpoints: EndpointPolicy = .publicOnly) { self.endpoints = endpoints }
    public var types: Set<String> { ["Subscription"] }
    public var decidesWhoWrites: Bool { true }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal) throws {}

    public func keep(_ new: JSON?, previous: JSON?, id: String, principal: Principal, decision: AccessDecision,
                     recorded: (String, String) throws -> [UInt8]?) throws -> [ConsumerState.Change] {
        // the delivery service moves the status (active, error) and records the error
        if principal.subject == SubscriptionDelivery.subject { return [] }
        let owner = try recorded(SubscriptionOwner.recordKind, id).flatMap(SubscriptionOwner.decode)
        if let owner, owner.subject != principal.subject, principal.effectiveRole != .platformOperator {
            throw FHIRError(status: 403, code: "forbidden", english: "only the subscriber who created Subscription/\(id) may change or delete it",
                            spanish: "solo quien creó la Subscription/\(id) puede cambiarla o borrarla")
        }
        guard let new else { return [] }
        let spec = try SubscriptionSpec(new)
        guard ["requested", "off"].contains(spec.status) || (previous?["status"]?.stringValue == spec.status && owner != nil && previous.map { SubscriptionRule.sameChannel($0, new) } == true) else {
            throw SubscriptionSpec.bad("a subscriber sets Subscription.status to 'requested' (or 'off'); the server makes it 'active' after the handshake, or 'error'",
                                       "quien se suscribe pone Subscription.status en 'requested' (u 'off'); el servidor la pone en 'active' tras el saludo (handshake), o en 'error'")
        }
        if spec.channel == .restHook, spec.status != "off", case .refused(let english, let spanish) = endpoints.check(endpoint: spec.endpoint) {
            throw FHIRError(status: 422, code: "business-rule", english: "channel.endpoint refused: " + english,
                            spanish: "channel.endpoint rechazado: " + spanish, expression: ["Subscription.channel.endpoint"])
        }
        if let visible = decision.visibility?.patients {
            let ids = Set(visible.map { $0.hasPrefix("Patient/") ? String($0.dropFirst("Patient/".count)) : $0 })
            for p in spec.patients where !ids.contains(p) {
                throw SubscriptionSpec.bad("you may not subscribe to data of Patient/\(p): you may not see that patient's record",
                                           "no puede suscribirse a datos de Patient/\(p): no puede ver el expediente de ese paciente", code: "forbidden")
            }
        }
        return owner == nil ? SubscriptionOwner.record(principal, of: id) : []
    }

    static func sameChannel(_ a: JSON, _ b: JSON) -> Bool { a["channel"] == b["channel"] && a["criteria"] == b["criteria"] && a["_criteria"] == b["_criteria"] }
}
