import FHIR

/// The ClaimResponse and ExplanationOfBenefit of an adjudication (R4), with the amounts per item
/// and in total by adjudication category (http://terminology.hl7.org/CodeSystem/adjudication),
/// Spanish texts first.
public enum ClaimDocuments {
    public static let adjudication = "http://terminology.hl7.org/CodeSystem/adjudication"
    public static let enlaceAdjudication = "https://enlace.mx/fhir/CodeSystem/adjudication"
    /// The tariff code of a ClaimResponse item (R4 ClaimResponse.item has only the sequence), so a settlement can total by service.
    public static let serviceCodeExtension = "https://enlace.mx/fhir/StructureDefinition/service-code"
    static let claimType = "http://terminology.hl7.org/CodeSystem/claim-type"
    /// Extension with the result Enlace gives a line or a claim (approved, reduced/partial, denied).
    public static let resultExtension = "https://enlace.mx/fhir/StructureDefinition/adjudication-result"
    /// Extension (repeated) naming a rule set the decision applied, with its version: the plan
    /// and the tariff (`valueCanonical`), the same as the `policy` of the decision's Provenance,
    /// so a reader who may not read Provenance (a payer) still sees which rules decided.
    public static let rulesExtension = "https://enlace.mx/fhir/StructureDefinition/adjudication-rules"

    static func amount(_ category: String, _ m: Money, system: String = adjudication, display: String? = nil) -> JSON {
        J.o(("category", J.concept(system, category, display)), ("amount", m.json))
    }

    static func adjudications(_ l: Adjudicator.LineResult) -> [JSON] {
        var out = [amount("submitted", l.submitted, display: "Importe solicitado"), amount("eligible", l.eligible, display: "Importe reconocido")]
        if l.deductible != .zero { out.append(amount("deductible", l.deductible, display: "Deducible")) }
        if l.coinsurance != .zero { out.append(amount("coinsurance", l.coinsurance, system: enlaceAdjudication, display: "Coaseguro")) }
        if l.copay != .zero { out.append(amount("copay", l.copay, display: "Copago")) }
        var benefit = amount("benefit", l.benefit, display: "Paga la aseguradora")
        if let r = l.reason { benefit = benefit.setting("reason", J.concept(r.system, r.code, r.english, text: r.spanish)) }
        out.append(benefit)
        out.append(amount("patient-share", l.patientShare, system: enlaceAdjudication, display: "Paga el paciente"))
        return out
    }

    static func totals(_ r: Adjudicator.Result) -> [JSON] {
        [amount("submitted", r.submitted, display: "Importe solicitado"), amount("eligible", r.eligible, display: "Importe reconocido"),
         amount("deductible", r.deductibleApplied, display: "Deducible"), amount("benefit", r.benefit, display: "Paga la aseguradora"),
         amount("patient-share", r.patientShare, system: enlaceAdjudication, display: "Paga el paciente")]
    }

    static func disposition(_ o: Adjudicator.Outcome) -> String {
        switch o {
        case .approved: return "Aprobada / Approved"
        case .partial: return "Aprobada parcialmente / Partially approved"
        case .denied: return "Rechazada / Denied"
        }
    }

    static func resultExt(_ code: String) -> JSON { J.o(("url", .string(resultExtension)), ("valueCode", .string(code))) }

    /// `R4 outcome`: complete when every line was decided as asked or all were denied; partial otherwise.
    static func outcome(_ o: Adjudicator.Outcome) -> String { o == .partial ? "partial" : "complete" }

    static func identifier(_ input: ClaimInput) -> JSON {
        J.a([J.o(("system", .string(input.identifierSystem)), ("value", .string(input.identifierValue)))])
    }

    static func processNotes(_ r: Adjudicator.Result) -> [JSON] {
        var n = 0
        return r.lines.compactMap { l in
            guard let reason = l.reason else { return nil }
            n += 1
            return J.o(("number", J.n(n)), ("type", .string("display")),
                       ("text", .string("Servicio \(l.line.sequence) (\(l.display)): \(reason.spanish) / \(reason.english)")))
        }
    }

    public static func claimResponse(_ input: ClaimInput, result: Adjudicator.Result, plan: BenefitPlan, payer: String, claimRef: String,
                                     created: String, entry: JournalEntry, rules: [String] = []) -> JSON {
        let items = result.lines.map { l in
            J.o(("extension", J.a([resultExt(l.status.rawValue), J.o(("url", .string(serviceCodeExtension)), ("valueCode", .string(l.line.code)))])), ("itemSequence", J.n(l.line.sequence)), ("adjudication", J.a(adjudications(l))))
        }
        let notes = processNotes(result)
        return J.o(("resourceType", .string("ClaimResponse")),
                   ("extension", J.a([resultExt(result.outcome.rawValue), JournalExtension.json(entry)]
                                     + rules.map { J.o(("url", .string(rulesExtension)), ("valueCanonical", .string($0))) })),
                   ("identifier", identifier(input)), ("status", .string("active")),
                   ("type", J.concept(claimType, input.claimType)), ("use", .string("claim")),
                   ("patient", J.ref(input.patient)), ("created", .string(created)), ("insurer", J.ref(payer)),
                   ("requestor", J.ref(input.provider)), ("request", J.ref(claimRef)),
                   ("outcome", .string(outcome(result.outcome))), ("disposition", .string(disposition(result.outcome))),
                   ("item", J.a(items)), ("total", J.a(totals(result))),
                   ("processNote", notes.isEmpty ? nil : J.a(notes)))
    }

    public static func explanationOfBenefit(_ input: ClaimInput, claim: JSON, result: Adjudicator.Result, plan: BenefitPlan, payer: String,
                                            claimRef: String, responseRef: String, created: String) -> JSON {
        let items = result.lines.map { l in
            J.o(("extension", J.a([resultExt(l.status.rawValue)])), ("sequence", J.n(l.line.sequence)),
                ("productOrService", J.concept(input.tariffSystem, l.line.code, l.display, text: l.display)),
                ("servicedDate", .string(input.serviceDate)), ("quantity", J.o(("value", J.n(l.line.quantity)))),
                ("net", l.submitted.json), ("adjudication", J.a(adjudications(l))))
        }
        var diagnosis: [JSON] = []
        for (i, d) in (claim["diagnosis"]?.arrayValue ?? []).enumerated() {
            if let c = d["diagnosisCodeableConcept"] { diagnosis.append(J.o(("sequence", J.n(i + 1)), ("diagnosisCodeableConcept", c))) }
        }
        let notes = processNotes(result)
        return J.o(("resourceType", .string("ExplanationOfBenefit")),
                   ("extension", J.a([resultExt(result.outcome.rawValue)])),
                   ("identifier", identifier(input)), ("status", .string("active")),
                   ("type", J.concept(claimType, input.claimType)), ("use", .string("claim")),
                   ("patient", J.ref(input.patient)), ("billablePeriod", J.o(("start", .string(input.serviceDate)), ("end", .string(input.serviceDate)))),
                   ("created", .string(created)), ("insurer", J.ref(payer, display: plan.name)), ("provider", J.ref(input.provider)),
                   ("claim", J.ref(claimRef)), ("claimResponse", J.ref(responseRef)),
                   ("outcome", .string(outcome(result.outcome))), ("disposition", .string(disposition(result.outcome))),
                   ("insurance", J.a([J.o(("focal", .bool(true)), ("coverage", J.ref(input.coverage)))])),
                   ("diagnosis", diagnosis.isEmpty ? nil : J.a(diagnosis)),
                   ("item", J.a(items)), ("total", J.a(totals(result))),
                   ("payment", J.o(("type", J.concept("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete")), ("amount", result.benefit.json))),
                   ("processNote", notes.isEmpty ? nil : J.a(notes)))
    }
}
