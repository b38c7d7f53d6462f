import FHIR
import Storage
import Trust

extension FinancingService {
    /// `CoverageEligibilityRequest/$submit`: answers, by Enlace's own rules for the payers it
    /// hosts, whether the patient is covered for each service on the date (today when
    /// `servicedDate` is absent) and what the payer and the patient would pay — an estimate
    /// with the deductible met so far. Returns a CoverageEligibilityResponse
    /// (https://hl7.org/fhir/R4/coverageeligibilityresponse.html); nothing is stored.
    public func eligibility(request r: JSON, guarded: GuardedRepository, now: Timestamp) async throws -> JSON {
        guard r["resourceType"]?.stringValue == "CoverageEligibilityRequest" else {
            throw FHIRError(status: 400, code: "invalid", english: "CoverageEligibilityRequest/$submit takes a CoverageEligibilityRequest",
                            spanish: "CoverageEligibilityRequest/$submit recibe un CoverageEligibilityRequest")
        }
        guard let patient = r["patient"]?["reference"]?.stringValue, patient.hasPrefix("Patient/") else {
            throw ClaimInput.invalid("CoverageEligibilityRequest.patient must reference a Patient", "CoverageEligibilityRequest.patient debe referir a un Patient",
                                     "CoverageEligibilityRequest.patient")
        }
        guard let coverageRef = r["insurance"]?.arrayValue?.first?["coverage"]?["reference"]?.stringValue, coverageRef.hasPrefix("Coverage/") else {
            throw ClaimInput.invalid("CoverageEligibilityRequest.insurance.coverage is required", "CoverageEligibilityRequest.insurance.coverage es obligatorio",
                                     "CoverageEligibilityRequest.insurance")
        }
        let date = String((r["servicedDate"]?.stringValue ?? now.description).prefix(10))
        let (coverage, plan) = try await coverageAndPlan(coverageRef, guarded: guarded)
        let beneficiary = coverage["beneficiary"]?["reference"]?.stringValue == patient
        let active = beneficiary && Self.isActive(coverage, on: date)
        var lines: [Adjudicator.Line] = []
        for (i, item) in (r["item"]?.arrayValue ?? []).enumerated() {
            let codings = item["productOrService"]?["coding"]?.arrayValue ?? []
            guard let code = (codings.first { $0["system"]?.stringValue == tariff.system } ?? codings.first)?["code"]?.stringValue else {
                throw ClaimInput.invalid("CoverageEligibilityRequest.item[\(i)].productOrService needs a code of \(tariff.system)",
                                         "CoverageEligibilityRequest.item[\(i)].productOrService necesita un código de \(tariff.system)",
                                         "CoverageEligibilityRequest.item[\(i)].productOrService")
            }
            var q = 1
            if case .number(let t)? = item["quantity"]?["value"], let n = Int(t), n > 0 { q = n }
            lines.append(.init(sequence: i + 1, code: code, quantity: q))
        }
        let met = try await deductibleMet(patient: patient, coverage: coverageRef, year: String(date.prefix(4)), guarded: guarded)
        let result = adjudicator.adjudicate(lines, plan: plan, active: active, deductibleMet: met)
        let payer = coverage["payor"]?.arrayValue?.first?["reference"]?.stringValue ?? plan.payer
        let items: [JSON] = result.lines.map { l in
            let excluded = l.status == .denied
            var benefits: [JSON] = [
                J.o(("type", J.concept("http://terminology.hl7.org/CodeSystem/benefit-type", "benefit", "Benefit", text: "Paga la aseguradora")),
                    ("allowedMoney", l.benefit.json)),
                J.o(("type", J.concept(ClaimDocuments.enlaceAdjudication, "patient-share", "Patient share", text: "Paga el paciente")),
                    ("allowedMoney", l.patientShare.json)),
            ]
            if l.deductible != .zero {
                benefits.append(J.o(("type", J.concept("http://terminology.hl7.org/CodeSystem/benefit-type", "deductible", "Deductible", text: "Deducible")),
                                    ("allowedMoney", l.deductible.json)))
            }
            return J.o(("productOrService", J.concept(tariff.system, l.line.code, l.display, text: l.display)),
                       ("excluded", .bool(excluded)), ("name", .string(l.display)),
                       ("description", l.reason.map { .string("\($0.spanish) / \($0.english)") }),
                       ("benefit", excluded ? nil : J.a(benefits)))
        }
        var insurance: [(String, JSON?)] = [("coverage", J.ref(coverageRef)), ("inforce", .bool(active))]
        insurance.append(("item", items.isEmpty ? nil : J.a(items)))
        var out = J.o(("resourceType", .string("CoverageEligibilityResponse")), ("status", .string("active")),
                      ("purpose", J.a([.string("benefits"), .string("validation")])), ("patient", J.ref(patient)),
                      ("servicedDate", .string(date)), ("created", .string(now.description)),
                      ("request", r["id"]?.stringValue.map { J.ref("CoverageEligibilityRequest/\($0)") } ?? J.o(("display", .string("CoverageEligibilityRequest (no guardada)")))),
                      ("outcome", .string("complete")),
                      ("disposition", .string(active ? "Cobertura vigente: \(plan.name)" : "Sin cobertura vigente en \(date) / No coverage in force on \(date)")),
                      ("insurer", J.ref(payer, display: plan.name)))
        out = out.setting("insurance", J.a([.object(insurance.compactMap { k, v in v.map { (k, $0) } })]))
        return out
    }
}
