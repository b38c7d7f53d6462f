import FHIR
import Foundation
import Storage
import Trust

/// The duplicate-study check: before a lab or imaging `ServiceRequest` is signed, is there an
/// equivalent result (same group of `StudyValidity`) within the group's validity window in the
/// patient's record — looked up **through the orderer's guarded repository**, so only what the
/// orderer may see is found and shown. When the orderer's view of the patient is incomplete
/// (no relationship, a Consent that narrows it, a role that may not read results), the answer
/// depends only on that decision, never on the data: "an earlier result may exist; ask for
/// access" (docs/care.md, "Consent").
public struct DuplicateStudyCheck: Sendable {
    public var studies: StudyValidity
    public var accessRequestURL: String

    public init(studies: StudyValidity = .embedded, accessRequestURL: String) {
        self.studies = studies
        self.accessRequestURL = accessRequestURL
    }

    /// An earlier result found for a group.
    public struct Found: Sendable {
        public var reference: String
        public var value: String
        public var date: String
        public var institution: String?
    }

    /// The group of a ServiceRequest's code, if the check knows it.
    public func group(of order: JSON) -> StudyValidity.Group? {
        for c in order["code"]?["coding"]?.arrayValue ?? [] {
            if let g = studies.group(system: c["system"]?.stringValue, code: c["code"]?.stringValue) { return g }
        }
        return nil
    }

    /// May the principal see every result of `patient` this check looks at? Decided from the
    /// access decision only.
    public static func seesAllResults(_ decision: AccessDecision, patient: String) -> Bool {
        if let readable = decision.readableTypes, !(readable.contains("Observation") && readable.contains("DiagnosticReport")) { return false }
        guard let v = decision.visibility else { return true }
        return v.patients.contains(patient) && v.dataRules[patient] == nil
    }

    /// The most recent visible result of `group` for `patient` since `now - group.days`, and
    /// whether the principal's view of the patient is complete.
    public func latest(_ group: StudyValidity.Group, patient: String, repository: GuardedRepository, now: Timestamp) async throws
        -> (found: Found?, complete: Bool) {
        var complete = DuplicateStudyCheck.seesAllResults(repository.decision, patient: patient)
        if let v = repository.decision.visibility, !v.patients.contains(patient) { return (nil, false) }
        let since = Timestamp(microseconds: now.microseconds - Int64(group.days) * 86_400_000_000)
        let day = String(since.description.prefix(10))
        var best: (date: Int64, found: Found)?
        for type in ["Observation", "DiagnosticReport"] {
            let parameters = [("patient", "Patient/\(patient)"), ("code", group.codes.joined(separator: ",")), ("date", "ge\(day)"),
                              ("_sort", "-date"), ("_count", "10"), ("_total", "none")]
            let result: SearchResult
            do {
                let (query, _) = try SearchParser().parse(types: [type], parameters: parameters)
                result = try await repository.search(query)
            } catch let e as FHIRError where e.status == 403 {
                complete = false  // the token's scopes or the role do not reach results: decided without data
                continue
            }
            for r in result.matches {
                guard let json = try? r.json() else { continue }
                let status = json["status"]?.stringValue ?? ""
                if ["entered-in-error", "cancelled", "registered"].contains(status) { continue }
                let date = json["effectiveDateTime"]?.stringValue ?? json["effectivePeriod"]?["start"]?.stringValue
                    ?? json["effectiveInstant"]?.stringValue ?? json["issued"]?.stringValue
                guard let date, let range = DateRange(date), range.high >= since.microseconds / 1000 else { continue }
                if let best, best.date >= range.low { continue }
                let found = Found(reference: "\(r.type)/\(r.id)", value: DuplicateStudyCheck.value(json), date: date,
                                  institution: try await institution(json, repository: repository))
                best = (range.low, found)
            }
        }
        return (best?.found, complete)
    }

    /// The value of a result as a person reads it.
    static func value(_ r: JSON) -> String {
        if let q = r["valueQuantity"], case let .number(n)? = q["value"] {
            return [n, q["unit"]?.stringValue ?? q["code"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        }
        if let s = r["valueString"]?.stringValue { return s }
        if let c = r["valueCodeableConcept"] {
            return c["text"]?.stringValue ?? c["coding"]?.arrayValue?.first?["display"]?.stringValue ?? "—"
        }
        if let c = r["conclusion"]?.stringValue { return c }
        return "—"
    }

    /// The institution that produced a result: its performing Organization's name (a shared
    /// resource), the performer's display, or `meta.source`.
    func institution(_ r: JSON, repository: GuardedRepository) async throws -> String? {
        for p in r["performer"]?.arrayValue ?? [] {
            if let ref = p["reference"]?.stringValue, ref.hasPrefix("Organization/"),
               let org = try? await repository.read("Organization", String(ref.dropFirst(13))), let json = try? org.json(),
               let name = json["name"]?.stringValue {
                return name
            }
            if let d = p["display"]?.stringValue { return d }
        }
        return r["meta"]?["source"]?.stringValue
    }

    /// The cards for the lab and imaging orders among `orders`.
    public func cards(orders: [JSON], patient: String, repository: GuardedRepository, now: Timestamp, language l: Language) async throws -> [Card] {
        var cards: [Card] = []
        for order in orders where order["resourceType"]?.stringValue == "ServiceRequest" {
            guard let group = group(of: order) else { continue }
            let name = l.pick(group.spanish, group.english)
            let (found, complete) = try await latest(group, patient: patient, repository: repository, now: now)
            let orderRef = reference(order)
            if let found {
                let window = l.pick("\(group.days) días", "\(group.days) days")
                let place = found.institution ?? l.pick("institución no registrada", "institution not recorded")
                var card = Card(summary: l.pick("\(name) repetida: ya hay un resultado del \(found.date.prefix(10)) (\(found.value))",
                                                "Repeated \(name): a result from \(found.date.prefix(10)) exists (\(found.value))"),
                                detail: l.pick("""
                                    Ya existe un resultado equivalente dentro de su vigencia (\(window)):

                                    - **Valor:** \(found.value)
                                    - **Fecha:** \(found.date)
                                    - **Institución:** \(place)
                                    - **Registro:** \(found.reference)

                                    Vigencia según: \(group.source).
                                    """, """
                                    An equivalent result exists within its validity window (\(window)):

                                    - **Value:** \(found.value)
                                    - **Date:** \(found.date)
                                    - **Institution:** \(place)
                                    - **Record:** \(found.reference)

                                    Validity per: \(group.source).
                                    """),
                                indicator: .warning, sourceLabel: l.pick("Enlace — estudios previos del expediente", "Enlace — earlier studies in the record"),
                                patient: patient)
                card.sourceTopic = ("duplicate-study", l.pick("Estudio repetido", "Duplicate study"))
                if let orderRef {
                    card.suggestions = [Card.Suggestion(uuid: UUID().uuidString.lowercased(),
                                                        label: l.pick("Quitar la orden de \(name)", "Remove the \(name) order"), isRecommended: true,
                                                        actions: [(type: "delete", description: l.pick("Quitar la orden repetida", "Remove the repeated order"),
                                                                   resourceIds: [orderRef])])]
                    card.orders = [orderRef]
                }
                card.overrideReasons = [
                    ("clinical-change", l.pick("Cambio clínico que justifica repetirlo", "Clinical change justifies repeating it")),
                    ("result-unreliable", l.pick("El resultado previo no es confiable o no es comparable", "The earlier result is unreliable or not comparable")),
                    ("required-by-receiver", l.pick("Lo exige la institución que recibe al paciente", "Required by the receiving institution")),
                ]
                cards.append(card)
            } else if !complete {
                var card = Card(summary: l.pick("Podría existir un resultado previo de \(name) que usted no puede ver",
                                                "An earlier \(name) result may exist that you cannot see"),
                                detail: l.pick("""
                                    Enlace no le muestra todo el expediente de este paciente (sin relación de atención, o un consentimiento lo limita), \
                                    así que no puede decirle si ya hay un resultado de \(name) vigente. Para verlo, solicite acceso al paciente: \
                                    \(accessRequestURL).
                                    """, """
                                    Enlace does not show you this patient's whole record (no treating relationship, or a consent narrows it), so it \
                                    cannot tell you whether a current \(name) result exists. To see it, ask the patient for access: \(accessRequestURL).
                                    """),
                                indicator: .info, sourceLabel: l.pick("Enlace — estudios previos del expediente", "Enlace — earlier studies in the record"),
                                patient: patient)
                card.sourceTopic = ("duplicate-study-unknown", l.pick("Estudio previo no visible", "Earlier study not visible"))
                card.links = [Card.Link(label: l.pick("Solicitar acceso", "Request access"), url: accessRequestURL)]
                if let orderRef { card.orders = [orderRef] }
                cards.append(card)
            }
        }
        return cards
    }
}
