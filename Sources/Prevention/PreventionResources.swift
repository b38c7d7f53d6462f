import FHIR
import Foundation

/// The FHIR resources prevention writes and answers with: ImmunizationRecommendation,
/// RiskAssessment, and the DEQM-shaped care-gaps report.
public enum PreventionResources {
    public static let loinc = "http://loinc.org"
    public static let gapStatus = "http://hl7.org/fhir/us/davinci-deqm/StructureDefinition/extension-gapStatus"
    public static let gapStatusSystem = "http://hl7.org/fhir/us/davinci-deqm/CodeSystem/gaps-status"
    /// HL7 AI Transparency on FHIR: data asserted by an algorithm (`meta.security`).
    public static let algorithmLabel: JSON = .object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ObservationValue")),
                                                      ("code", .string("AIAST")), ("display", .string("Artificial Intelligence asserted"))])
    /// The category of risk results a patient may choose not to be told about (docs/prevention.md).
    public static let riskCategorySystem = "https://enlace.mx/fhir/CodeSystem/risk-category"
    public static let diabetesRiskLabel = "risk-diabetes"

    static func s(_ v: String) -> JSON { .string(v) }
    static func obj(_ m: [(String, JSON)]) -> JSON { .object(m) }
    static func coding(_ system: String, _ code: String, _ display: String? = nil) -> JSON {
        var m: [(String, JSON)] = [("system", s(system)), ("code", s(code))]
        if let display { m.append(("display", s(display))) }
        return obj(m)
    }
    static func ref(_ r: String) -> JSON { obj([("reference", s(r))]) }

    /// The `ImmunizationRecommendation` (https://hl7.org/fhir/R4/immunizationrecommendation.html)
    /// of one patient: one recommendation per vaccine item that applies.
    public static func immunizationRecommendation(id: String, patient: String, items: [PreventionItem], date: String, knowledge: String) -> JSON {
        var recs: [JSON] = []
        for item in items where item.rule.kind == .immunization {
            let status: String
            switch item.status {
            case .done: status = item.immune ? "immune" : "complete"
            case .contraindicated: status = "contraindicated"
            case .overdue: status = "overdue"
            case .due, .upcoming, .declined: status = "due"
            }
            var m: [(String, JSON)] = [
                ("vaccineCode", .array([obj([("coding", .array(item.rule.codes.sorted { $0.code < $1.code }.prefix(1).map { coding($0.system, $0.code) })),
                                            ("text", s(item.rule.title.es))])])),
                ("forecastStatus", obj([("coding", .array([coding("http://terminology.hl7.org/CodeSystem/immunization-recommendation-status", status)])),
                                        ("text", s(item.status.rawValue))])),
            ]
            var criteria: [JSON] = []
            if let due = item.dueDate {
                criteria.append(obj([("code", obj([("coding", .array([coding(loinc, "30980-7", "Date vaccine due")]))])), ("value", s(due.description))]))
            }
            if let overdue = item.overdueDate, item.status != .done {
                criteria.append(obj([("code", obj([("coding", .array([coding(loinc, "59778-1", "Date when overdue for immunization")]))])), ("value", s(overdue.description))]))
            }
            if !criteria.isEmpty { m.append(("dateCriterion", .array(criteria))) }
            m.append(("description", s(item.explanation.es)))
            m.append(("series", s(item.rule.id)))
            if let dose = item.dose, item.status != .done { m.append(("doseNumberPositiveInt", .number(String(dose)))) }
            if let doses = item.doses { m.append(("seriesDosesPositiveInt", .number(String(doses)))) }
            let imms = item.evidence.filter { $0.hasPrefix("Immunization/") }
            let other = item.evidence.filter { !$0.hasPrefix("Immunization/") }
            if !imms.isEmpty { m.append(("supportingImmunization", .array(imms.map(ref)))) }
            if !other.isEmpty { m.append(("supportingPatientInformation", .array(other.map(ref)))) }
            recs.append(obj(m))
        }
        return obj([
            ("resourceType", s("ImmunizationRecommendation")), ("id", s(id)),
            ("meta", obj([("security", .array([algorithmLabel]))])),
            ("patient", ref("Patient/\(patient)")), ("date", s(date)),
            ("authority", obj([("display", s("Enlace — Cartilla Nacional de Salud \(knowledge)"))])),
            ("recommendation", .array(recs)),
        ])
    }

    /// The FINDRISC `RiskAssessment` (https://hl7.org/fhir/R4/riskassessment.html) of one patient.
    public static func findriscAssessment(id: String, patient: String, result: FINDRISC.Result, inputs: FINDRISC.Inputs, date: String) -> JSON {
        let basis: JSON? = inputs.basis.isEmpty ? nil : .array(inputs.basis.map(ref))
        let points = result.points.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")
        var notes: [JSON] = [obj([("text", s("FINDRISC \(result.score)/26 — riesgo \(result.band.text.es) de diabetes tipo 2 en 10 años. Puntos: \(points)."))]),
                             obj([("text", s("FINDRISC \(result.score)/26 — \(result.band.text.en) risk of type 2 diabetes within 10 years."))])]
        if !result.missing.isEmpty {
            notes.append(obj([("text", s("Sin dato en el expediente (cuenta 0; la puntuación es un mínimo): \(result.missing.joined(separator: ", ")). / Not in the record (scored 0; the score is a lower bound)."))]))
        }
        return obj([
            ("resourceType", s("RiskAssessment")), ("id", s(id)),
            ("meta", obj([("security", .array([algorithmLabel, coding(riskCategorySystem, diabetesRiskLabel, "Riesgo de diabetes")]))])),
            ("status", s(result.missing.isEmpty ? "final" : "preliminary")),
            ("method", obj([("coding", .array([coding(FINDRISC.answers, "findrisc", "Finnish Diabetes Risk Score")])), ("text", s("FINDRISC \(FINDRISC.version)"))])),
            ("code", obj([("text", s("Riesgo de diabetes tipo 2 a 10 años / 10-year risk of type 2 diabetes"))])),
            ("subject", ref("Patient/\(patient)")),
            ("occurrenceDateTime", s(date)),
            ("prediction", .array([obj([
                ("outcome", obj([("coding", .array([coding("http://snomed.info/sct", "44054006", "Diabetes mellitus type 2")])), ("text", s("Diabetes tipo 2"))])),
                ("probabilityDecimal", .number(result.band.probability)),
                ("qualitativeRisk", obj([("coding", .array([coding("http://terminology.hl7.org/CodeSystem/risk-probability", result.band.riskProbability)])),
                                         ("text", s(result.band.text.es))])),
                ("whenPeriod", obj([("start", s(String(date.prefix(10)))), ("end", s(CivilDate(fhir: date).map { $0.adding(.years(10)).description } ?? ""))])),
                ("rationale", s("Puntuación FINDRISC \(result.score) de 26")),
            ])])),
            ("note", .array(notes)),
        ]).inserting("basis", basis ?? .null, after: "occurrenceDateTime").setting("basis", basis)
    }

    /// The Provenance template for what an algorithm writes (HL7 AI Transparency on FHIR): the
    /// algorithm as a contained `Device` (name, version, where it is described) is the author,
    /// on behalf of the organization that deployed it and answers for it.
    public static func algorithmProvenance(name: String, version: String, description: String, accountable: JSON, reason: String) -> JSON {
        obj([
            ("resourceType", s("Provenance")),
            ("contained", .array([obj([
                ("resourceType", s("Device")), ("id", s("algorithm")),
                ("deviceName", .array([obj([("name", s(name)), ("type", s("manufacturer-name"))])])),
                ("type", obj([("text", s("Algoritmo / algorithm"))])),
                ("version", .array([obj([("value", s(version))])])),
                ("owner", accountable), ("url", s(description)),
            ])])),
            ("reason", .array([obj([("text", s(reason))])])),
            ("agent", .array([obj([
                ("type", obj([("coding", .array([coding("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author")]))])),
                ("who", obj([("reference", s("#algorithm")), ("display", s("\(name) \(version)"))])),
                ("onBehalfOf", accountable),
            ])])),
        ])
    }

    /// A care-gaps report for one patient (after Da Vinci DEQM `$care-gaps`,
    /// http://hl7.org/fhir/us/davinci-deqm/OperationDefinition/care-gaps): a `document` Bundle
    /// with a Composition and one DetectedIssue per gap, `open-gap` or `closed-gap`.
    public static func careGapsBundle(patient: String, gaps: [(PreventionItem, open: Bool)], periodStart: CivilDate, periodEnd: CivilDate,
                                      now: String, knowledge: String, base: String, decisions: [String: GapDecision] = [:]) -> JSON {
        let prefix = "urn:enlace:care-gaps:\(patient):"
        var issues: [JSON] = []
        for (item, open) in gaps {
            let evidence: [JSON] = item.evidence.map(ref)
            var m: [(String, JSON)] = [
                ("resourceType", s("DetectedIssue")), ("id", s(item.rule.id)),
                ("modifierExtension", .array([obj([("url", s(gapStatus)),
                                                   ("valueCodeableConcept", obj([("coding", .array([coding(gapStatusSystem, open ? "open-gap" : "closed-gap")]))]))])])),
                ("extension", .array([obj([("url", s("https://enlace.mx/fhir/StructureDefinition/prevention-item")),
                                           ("valueCanonical", s(item.rule.activity))])])),
                ("status", s("final")),
                ("code", obj([("coding", .array([coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "CAREGAP", "Care Gaps")])),
                              ("text", s(item.rule.title.es))])),
                ("patient", ref("Patient/\(patient)")),
                ("identifiedDateTime", s(now)),
            ]
            if !evidence.isEmpty { m.append(("evidence", .array([obj([("detail", .array(evidence))])]))) }
            m.append(("detail", s("\(item.status.rawValue): \(item.explanation.es) / \(item.explanation.en)")))
            // a clinician's decision that the gap does not apply: closed, with who decided and why
            // beside what the schedule computed (R4 DetectedIssue.mitigation)
            if !open, let d = decisions[item.rule.id], d.applies(to: item) {
                m.append(("mitigation", .array([d.mitigation])))
                if let i = m.firstIndex(where: { $0.0 == "evidence" }) {
                    let details = (m[i].1.arrayValue?.first?["detail"]?.arrayValue ?? []) + [ref(d.provenance)]
                    m[i].1 = .array([obj([("detail", .array(details))])])
                } else {
                    m.insert(("evidence", .array([obj([("detail", .array([ref(d.provenance)]))])])), at: m.count - 1)
                }
            }
            issues.append(obj(m))
        }
        let composition = obj([
            ("resourceType", s("Composition")), ("id", s("report")),
            ("status", s("final")),
            ("type", obj([("coding", .array([coding(loinc, "96315-7", "Gaps in care report")]))])),
            ("subject", ref("Patient/\(patient)")),
            ("date", s(now)),
            ("author", .array([obj([("display", s("Enlace — Cartilla Nacional de Salud \(knowledge)"))])])),
            ("title", s("Brechas de atención preventiva / Preventive care gaps")),
            ("event", .array([obj([("period", obj([("start", s(periodStart.description)), ("end", s(periodEnd.description))]))])])),
            ("section", .array([obj([("title", s("Cartilla Nacional de Salud")),
                                      ("entry", .array(gaps.map { ref(prefix + $0.0.rule.id) }))])])),
        ])
        let entries = [obj([("fullUrl", s(prefix + "report")), ("resource", composition)])]
            + issues.map { i in obj([("fullUrl", s(prefix + (i["id"]?.stringValue ?? ""))), ("resource", i)]) }
        return obj([
            ("resourceType", s("Bundle")), ("type", s("document")),
            ("identifier", obj([("system", s("urn:ietf:rfc:3986")), ("value", s("\(prefix)\(periodEnd)"))])),
            ("timestamp", s(now)),
            ("entry", .array(entries)),
        ])
    }
}
