import FHIR
import Foundation
import Storage
import Trust

/// Enlace's CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/): answers a hook with
/// cards computed over what the caller may see (the guarded repository of the request's
/// principal), and remembers the cards it issued so their feedback can name the patient and
/// the advice (`IssuedCards`).
public struct CDSHooksService: Sendable {
    public var duplicates: DuplicateStudyCheck
    public var medications: MedicationSafetyCheck
    public var doses: DoseRangeCheck
    public let issued: IssuedCards

    public init(accessRequestURL: String, issued: IssuedCards = IssuedCards()) {
        duplicates = DuplicateStudyCheck(accessRequestURL: accessRequestURL)
        medications = MedicationSafetyCheck()
        doses = DoseRangeCheck()
        self.issued = issued
    }

    /// The cards for `request` to `service`, remembered for feedback.
    public func evaluate(_ service: CDSCatalogue.Service, _ request: CDSRequest, repository: GuardedRepository, now: Timestamp,
                         language: Language, client: String? = nil) async throws -> [Card] {
        var cards: [Card] = []
        switch service.id {
        case CDSCatalogue.duplicateStudies:
            cards = try await duplicates.cards(orders: request.ordersInQuestion, patient: request.patientID, repository: repository, now: now, language: language)
        case CDSCatalogue.orderSign:
            cards = try await duplicates.cards(orders: request.draftOrders, patient: request.patientID, repository: repository, now: now, language: language)
            cards += try await medications.orderSignCards(orders: request.draftOrders, patient: request.patientID, repository: repository, language: language)
            cards += doses.cards(orders: request.draftOrders, patient: request.patientID, language: language)
        case CDSCatalogue.patientView:
            let (medCards, active) = try await medications.activeMedicationCards(patient: request.patientID, repository: repository, language: language)
            cards = medCards + (try await monitoringGaps(active: active, patient: request.patientID, repository: repository, now: now, language: language))
        default:
            cards = []
        }
        try await issued.remember(cards, service: service.id, principal: repository.principal, client: client, at: now)
        return cards
    }

    /// patient-view care gaps: an active medicine whose class needs a study (`MedicationKnowledge.monitoring`)
    /// without one in its window. Only when the principal sees all of the patient's results
    /// (otherwise the gap could be a result they may not see).
    func monitoringGaps(active: [JSON], patient: String, repository: GuardedRepository, now: Timestamp, language l: Language) async throws -> [Card] {
        guard DuplicateStudyCheck.seesAllResults(repository.decision, patient: patient) else { return [] }
        var cards: [Card] = []
        for rule in medications.knowledge.monitoring {
            guard let med = active.first(where: { r in
                medications.knowledge.ingredients(in: r["medicationCodeableConcept"]).contains { MedicationKnowledge.matches($0, rule.drugClass) }
            }), var group = duplicates.studies.groups.first(where: { $0.id == rule.study }) else { continue }
            group.days = rule.days
            let (found, complete) = try await duplicates.latest(group, patient: patient, repository: repository, now: now)
            guard found == nil, complete else { continue }
            var card = Card(summary: l.pick("Estudio de control pendiente: \(group.spanish)", "Monitoring due: \(group.english)"),
                            detail: l.pick(rule.spanish, rule.english) + "\n\n" + l.pick("Medicamento: ", "Medicine: ")
                                + MedicationSafetyCheck.medicationName(med) + "\n\n" + l.pick("Fuente: ", "Source: ") + rule.source,
                            indicator: .warning, sourceLabel: l.pick("Enlace — control de medicamentos crónicos", "Enlace — chronic medicine monitoring"),
                            patient: patient)
            card.sourceTopic = ("monitoring-gap", l.pick("Control pendiente", "Monitoring due"))
            card.orders = [reference(med)].compactMap { $0 }
            cards.append(card)
        }
        return cards
    }

    /// The response body: `{"cards": [...]}`.
    public static func response(_ cards: [Card]) -> JSON {
        .object([("cards", .array(cards.map(\.json)))])
    }
}

/// The cards issued recently (at most `capacity` in memory, the oldest forgotten first), so that
/// a feedback call — which names only the card's uuid — can be filed in the right patient's
/// record with the advice it answers. With `durable` (the HTTP routes: the Door's small records,
/// `Door.state(of: "care.cds-hooks")`, kind `issued-card`, one record per card) every card is
/// also kept in the store in one write per hook call, so feedback after a restart or sent to
/// another node still finds it; a card is forgotten `lifetime` after it was issued (the kept
/// ones are pruned at the first hook call after a start, then every `capacity` cards; docs/care.md,
/// "Feedback").
public actor IssuedCards {
    public struct Issued: Sendable {
        public var service: String
        public var subject: String
        public var patient: String
        public var summary: String
        public var indicator: String
        public var topic: String?
        public var orders: [String]
        public var issuedAt: Timestamp
        public var overrideReasons: [String]
        public var suggestions: [String]
        /// Who the card was computed for, and the CDS client (an EHR) that asked, if one did:
        /// feedback signed by that client is recorded as this principal's decision.
        public var principal: Principal? = nil
        public var client: String? = nil
    }

    /// The record kind of a kept card under the durable state.
    public static let recordKind = "issued-card"
    /// The name the HTTP routes keep their cards under (`Door.state(of:)`).
    public static let consumerName = "care.cds-hooks"

    private var cards: [String: Issued] = [:]
    private var order: [String] = []
    public let capacity: Int
    let durable: ConsumerState?
    /// How long a kept card may still get feedback (microseconds).
    public nonisolated let lifetime: Int64
    /// Cards remembered since the kept ones were last pruned (at the first call after a start, then every `capacity` cards).
    private var sincePrune: Int? = nil

    public init(capacity: Int = 20_000, durable: ConsumerState? = nil, lifetimeDays: Int = 7) {
        self.capacity = capacity
        self.durable = durable
        lifetime = Int64(lifetimeDays) * 86_400_000_000
    }

    func remember(_ issued: [Card], service: String, principal: Principal, client: String?, at now: Timestamp) async throws {
        var kept: [ConsumerState.Change] = []
        for c in issued {
            let card = Issued(service: service, subject: principal.subject, patient: c.patient, summary: c.summary, indicator: c.indicator.rawValue,
                              topic: c.sourceTopic?.code, orders: c.orders, issuedAt: now, overrideReasons: c.overrideReasons.map(\.code),
                              suggestions: c.suggestions.map(\.uuid), principal: principal, client: client)
            cards[c.uuid] = card
            order.append(c.uuid)
            kept.append(.init(kind: IssuedCards.recordKind, key: c.uuid, value: Array(IssuedCards.json(card).compactString.utf8)))
        }
        if order.count > capacity {
            for old in order.prefix(order.count - capacity) { cards[old] = nil }
            order.removeFirst(order.count - capacity)
        }
        guard let durable else { return }
        sincePrune = sincePrune.map { $0 + issued.count }
        if sincePrune == nil || sincePrune! >= capacity {
            // at the first call after a start, then every `capacity` cards: forget the kept cards past their lifetime
            sincePrune = 0
            let stale = try await durable.values(IssuedCards.recordKind).filter { record in
                guard let c = (try? JSONParser.parse(record.value)).flatMap(IssuedCards.issued) else { return true }
                return c.issuedAt.microseconds + lifetime < now.microseconds
            }
            kept += stale.map { .init(kind: IssuedCards.recordKind, key: $0.key, value: nil) }
        }
        if !kept.isEmpty { try await durable.keep(kept) }
    }

    /// The card `uuid`: from memory, else from the store (kept by this node before a restart, or
    /// by another node), if `now` (when given) is within its lifetime.
    func find(_ uuid: String, now: Timestamp?) async -> Issued? {
        var found = cards[uuid]
        if found == nil, let durable, let bytes = try? await durable.value(IssuedCards.recordKind, uuid), let json = try? JSONParser.parse(bytes) {
            found = IssuedCards.issued(json)
        }
        guard let c = found else { return nil }
        if let now, c.issuedAt.microseconds + lifetime < now.microseconds { return nil }
        return c
    }

    /// The card `uuid` if it was issued by `service` to `subject` (and, with `now`, is not past its lifetime).
    public func card(_ uuid: String, service: String, subject: String, now: Timestamp? = nil) async -> Issued? {
        guard let c = await find(uuid, now: now), c.service == service, c.subject == subject else { return nil }
        return c
    }

    /// A card `service` issued on a call signed by the CDS client `client`.
    public func card(_ uuid: String, service: String, client: String, now: Timestamp? = nil) async -> Issued? {
        guard let c = await find(uuid, now: now), c.service == service, c.client == client else { return nil }
        return c
    }

    /// A kept card as JSON (the record's value).
    static func json(_ c: Issued) -> JSON {
        func strings(_ a: [String]) -> JSON { .array(a.map(JSON.string)) }
        var members: [(String, JSON)] = [
            ("service", .string(c.service)), ("subject", .string(c.subject)), ("patient", .string(c.patient)), ("summary", .string(c.summary)),
            ("indicator", .string(c.indicator)), ("orders", strings(c.orders)), ("issuedAt", .number("\(c.issuedAt.microseconds)")),
            ("overrideReasons", strings(c.overrideReasons)), ("suggestions", strings(c.suggestions)),
        ]
        if let t = c.topic { members.append(("topic", .string(t))) }
        if let client = c.client { members.append(("client", .string(client))) }
        if let p = c.principal {
            var pm: [(String, JSON)] = [("subject", .string(p.subject)), ("scopes", .string(IssuedCards.text(p.scopes))), ("tokenID", .string(p.tokenID)),
                                        ("actsFor", strings(p.actsFor))]
            for (k, v) in [("role", p.role?.rawValue), ("fhirUser", p.fhirUser), ("patient", p.patient), ("organization", p.organization),
                           ("clientID", p.clientID), ("purposeOfUse", p.purposeOfUse)] {
                if let v { pm.append((k, .string(v))) }
            }
            members.append(("principal", .object(pm)))
        }
        return .object(members)
    }

    /// A kept card read back, or nil when the record is not one.
    static func issued(_ j: JSON) -> Issued? {
        func strings(_ k: String, _ o: JSON? = nil) -> [String] { ((o ?? j)[k]?.arrayValue ?? []).compactMap(\.stringValue) }
        guard let service = j["service"]?.stringValue, let subject = j["subject"]?.stringValue, let patient = j["patient"]?.stringValue,
              case let .number(n)? = j["issuedAt"], let at = Int64(n) else { return nil }
        var principal: Principal?
        if let p = j["principal"], let sub = p["subject"]?.stringValue, let scopes = p["scopes"]?.stringValue, let token = p["tokenID"]?.stringValue {
            principal = Principal(subject: sub, scopes: ScopeSet(scopes), tokenID: token, role: p["role"]?.stringValue.flatMap(Principal.Role.init(rawValue:)),
                                  fhirUser: p["fhirUser"]?.stringValue, patient: p["patient"]?.stringValue, actsFor: strings("actsFor", p),
                                  organization: p["organization"]?.stringValue, clientID: p["clientID"]?.stringValue, purposeOfUse: p["purposeOfUse"]?.stringValue)
        }
        return Issued(service: service, subject: subject, patient: patient, summary: j["summary"]?.stringValue ?? "", indicator: j["indicator"]?.stringValue ?? "",
                      topic: j["topic"]?.stringValue, orders: strings("orders"), issuedAt: Timestamp(microseconds: at),
                      overrideReasons: strings("overrideReasons"), suggestions: strings("suggestions"), principal: principal, client: j["client"]?.stringValue)
    }

    /// SMART scopes as text again (`user/Observation.rs …`), so a kept principal reads back the same.
    static func text(_ s: ScopeSet) -> String {
        let order: [Character] = ["c", "r", "u", "d", "s"]
        return (s.scopes.map { "\($0.context.rawValue)/\($0.type).\(String(order.filter($0.permissions.contains)))" } + s.other).joined(separator: " ")
    }
}
