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
        await issued.remember(cards, service: service.id, principal: repository.principal, client: client, at: now)
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

/// The cards issued recently (at most `capacity`, the oldest forgotten first), so that a
/// feedback call — which names only the card's uuid — can be filed in the right patient's
/// record with the advice it answers. Kept in the node's memory: feedback must reach the node
/// that issued the card, within `capacity` cards (docs/care.md, "What is missing").
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

    private var cards: [String: Issued] = [:]
    private var order: [String] = []
    public let capacity: Int

    public init(capacity: Int = 20_000) { self.capacity = capacity }

    func remember(_ issued: [Card], service: String, principal: Principal, client: String?, at now: Timestamp) {
        for c in issued {
            cards[c.uuid] = Issued(service: service, subject: principal.subject, patient: c.patient, summary: c.summary, indicator: c.indicator.rawValue,
                                   topic: c.sourceTopic?.code, orders: c.orders, issuedAt: now, overrideReasons: c.overrideReasons.map(\.code),
                                   suggestions: c.suggestions.map(\.uuid), principal: principal, client: client)
            order.append(c.uuid)
        }
        if order.count > capacity {
            for old in order.prefix(order.count - capacity) { cards[old] = nil }
            order.removeFirst(order.count - capacity)
        }
    }

    /// The card `uuid` if it was issued by `service` to `subject`.
    public func card(_ uuid: String, service: String, subject: String) -> Issued? {
        guard let c = cards[uuid], c.service == service, c.subject == subject else { return nil }
        return c
    }

    /// A card `service` issued on a call signed by the CDS client `client`.
    public func card(_ uuid: String, service: String, client: String) -> Issued? {
        guard let c = cards[uuid], c.service == service, c.client == client else { return nil }
        return c
    }
}
