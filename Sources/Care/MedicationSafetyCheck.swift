import FHIR
import Foundation
import Storage
import Trust

/// Drug–drug interaction and drug–allergy checks from the curated table
/// (`MedicationKnowledge`), over what the principal may see of the patient's active
/// MedicationRequests and AllergyIntolerances (read through the guarded repository).
public struct MedicationSafetyCheck: Sendable {
    public var knowledge: MedicationKnowledge

    public init(knowledge: MedicationKnowledge = .embedded) { self.knowledge = knowledge }

    /// Current resources of `type` for `patient` the principal may see (none when the role or
    /// the scopes do not reach the type: decided without data).
    static func visible(_ type: String, patient: String, extra: [(String, String)] = [], repository: GuardedRepository) async throws -> [JSON] {
        if let v = repository.decision.visibility, !v.patients.contains(patient) { return [] }
        do {
            let (query, _) = try SearchParser().parse(types: [type], parameters: [("patient", "Patient/\(patient)")] + extra + [("_count", "200"), ("_total", "none")])
            return try await repository.search(query).matches.compactMap { try? $0.json() }
        } catch let e as FHIRError where e.status == 403 {
            return []
        }
    }

    static func medicationName(_ r: JSON) -> String {
        let c = r["medicationCodeableConcept"]
        return c?["text"]?.stringValue ?? c?["coding"]?.arrayValue?.first?["display"]?.stringValue ?? r["medicationReference"]?["display"]?.stringValue ?? "—"
    }

    /// Is an AllergyIntolerance in force (not resolved, inactive, refuted or entered in error)?
    static func inForce(_ a: JSON) -> Bool {
        let clinical = a["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
        let verification = a["verificationStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
        return !["inactive", "resolved"].contains(clinical ?? "active") && !["refuted", "entered-in-error"].contains(verification ?? "confirmed")
    }

    func interactionCard(_ i: MedicationKnowledge.Interaction, _ a: String, _ b: String, orders: [String], patient: String, l: Language) -> Card {
        let indicator: Card.Indicator = i.severity == "contraindicated" ? .critical : (i.severity == "high" ? .warning : .info)
        let severity = ["contraindicated": l.pick("contraindicada", "contraindicated"), "high": l.pick("alta", "high"),
                        "moderate": l.pick("moderada", "moderate")][i.severity] ?? i.severity
        var card = Card(summary: l.pick("Interacción \(severity): \(a) con \(b)", "\(severity.capitalized) interaction: \(a) with \(b)"),
                        detail: l.pick(i.spanish, i.english) + "\n\n" + l.pick("Fuente: ", "Source: ") + i.source,
                        indicator: indicator, sourceLabel: l.pick("Enlace — tabla curada de interacciones", "Enlace — curated interaction table"),
                        patient: patient)
        card.sourceTopic = ("drug-drug-interaction", l.pick("Interacción medicamentosa", "Drug-drug interaction"))
        card.orders = orders
        if let draft = orders.first {
            card.suggestions = [Card.Suggestion(uuid: UUID().uuidString.lowercased(), label: l.pick("No indicar \(a)", "Do not order \(a)"),
                                                isRecommended: indicator == .critical,
                                                actions: [(type: "delete", description: l.pick("Quitar la orden", "Remove the order"), resourceIds: [draft])])]
        }
        card.overrideReasons = [
            ("benefit-outweighs-risk", l.pick("El beneficio supera el riesgo", "Benefit outweighs risk")),
            ("monitoring-in-place", l.pick("Se vigilará al paciente (laboratorios, signos)", "Patient will be monitored")),
            ("already-tolerated", l.pick("El paciente ya tolera la combinación", "Patient already tolerates the combination")),
        ]
        return card
    }

    /// Cards for the draft MedicationRequests among `orders` against each other, the active
    /// medicines and the allergies the principal may see.
    public func orderSignCards(orders: [JSON], patient: String, repository: GuardedRepository, language l: Language) async throws -> [Card] {
        let drafts = orders.filter { $0["resourceType"]?.stringValue == "MedicationRequest" }
        guard !drafts.isEmpty else { return [] }
        let draftRefs = Set(drafts.compactMap(reference))
        let active = try await MedicationSafetyCheck.visible("MedicationRequest", patient: patient, extra: [("status", "active")], repository: repository)
            .filter { !draftRefs.contains(reference($0) ?? "") }
        let allergies = try await MedicationSafetyCheck.visible("AllergyIntolerance", patient: patient, repository: repository).filter(MedicationSafetyCheck.inForce)
        var cards: [Card] = []
        for (n, draft) in drafts.enumerated() {
            let ref = reference(draft)
            let mine = knowledge.ingredients(in: draft["medicationCodeableConcept"])
            let others = active.map { ($0, false) } + drafts[(n + 1)...].map { ($0, true) }
            for (other, isDraft) in others {
                for (i, _, _) in knowledge.interactions(between: mine, and: knowledge.ingredients(in: other["medicationCodeableConcept"])) {
                    let orders = [ref, isDraft ? reference(other) : nil].compactMap { $0 }
                    cards.append(interactionCard(i, MedicationSafetyCheck.medicationName(draft), MedicationSafetyCheck.medicationName(other),
                                                 orders: orders, patient: patient, l: l))
                }
            }
            for allergy in allergies {
                for cls in knowledge.allergyClasses(in: allergy["code"]) where mine.contains(where: { MedicationKnowledge.matches($0, cls.excludes) }) {
                    let what = allergy["code"]?["text"]?.stringValue ?? allergy["code"]?["coding"]?.arrayValue?.first?["display"]?.stringValue ?? "—"
                    var card = Card(summary: l.pick("Alergia: \(MedicationSafetyCheck.medicationName(draft)) y alergia registrada a \(what)",
                                                    "Allergy: \(MedicationSafetyCheck.medicationName(draft)) and recorded allergy to \(what)"),
                                    detail: l.pick(cls.spanish, cls.english) + "\n\n" + l.pick("Registro: ", "Record: ") + (reference(allergy) ?? "")
                                        + "\n\n" + l.pick("Fuente: ", "Source: ") + cls.source,
                                    indicator: .critical, sourceLabel: l.pick("Enlace — tabla curada de alergias", "Enlace — curated allergy table"),
                                    patient: patient)
                    card.sourceTopic = ("drug-allergy", l.pick("Alergia a medicamento", "Drug allergy"))
                    if let ref {
                        card.orders = [ref]
                        card.suggestions = [Card.Suggestion(uuid: UUID().uuidString.lowercased(),
                                                            label: l.pick("Quitar la orden", "Remove the order"), isRecommended: true,
                                                            actions: [(type: "delete", description: l.pick("Quitar la orden", "Remove the order"), resourceIds: [ref])])]
                    }
                    card.overrideReasons = [
                        ("not-an-allergy", l.pick("Intolerancia, no alergia verdadera", "Intolerance, not a true allergy")),
                        ("tolerated-before", l.pick("Lo ha tolerado antes / desensibilizado", "Tolerated before / desensitised")),
                        ("benefit-outweighs-risk", l.pick("El beneficio supera el riesgo", "Benefit outweighs risk")),
                    ]
                    cards.append(card)
                }
            }
        }
        return cards
    }

    /// patient-view: interactions and allergies among the active medicines the principal may see.
    public func activeMedicationCards(patient: String, repository: GuardedRepository, language l: Language) async throws -> (cards: [Card], active: [JSON]) {
        let active = try await MedicationSafetyCheck.visible("MedicationRequest", patient: patient, extra: [("status", "active")], repository: repository)
        let allergies = try await MedicationSafetyCheck.visible("AllergyIntolerance", patient: patient, repository: repository).filter(MedicationSafetyCheck.inForce)
        var cards: [Card] = []
        for (n, a) in active.enumerated() {
            let ia = knowledge.ingredients(in: a["medicationCodeableConcept"])
            for b in active[(n + 1)...] {
                for (i, _, _) in knowledge.interactions(between: ia, and: knowledge.ingredients(in: b["medicationCodeableConcept"])) {
                    var card = interactionCard(i, MedicationSafetyCheck.medicationName(a), MedicationSafetyCheck.medicationName(b),
                                               orders: [reference(a), reference(b)].compactMap { $0 }, patient: patient, l: l)
                    card.suggestions = []
                    cards.append(card)
                }
            }
            for allergy in allergies {
                for cls in knowledge.allergyClasses(in: allergy["code"]) where ia.contains(where: { MedicationKnowledge.matches($0, cls.excludes) }) {
                    var card = Card(summary: l.pick("Medicamento activo contra alergia registrada: \(MedicationSafetyCheck.medicationName(a))",
                                                    "Active medicine against a recorded allergy: \(MedicationSafetyCheck.medicationName(a))"),
                                    detail: l.pick(cls.spanish, cls.english) + "\n\n" + l.pick("Fuente: ", "Source: ") + cls.source,
                                    indicator: .critical, sourceLabel: l.pick("Enlace — tabla curada de alergias", "Enlace — curated allergy table"),
                                    patient: patient)
                    card.sourceTopic = ("drug-allergy", l.pick("Alergia a medicamento", "Drug allergy"))
                    card.orders = [reference(a)].compactMap { $0 }
                    cards.append(card)
                }
            }
        }
        return (cards, active)
    }
}
