import FHIR
import Financing
import Foundation
import Trust

extension DemoData {
    /// The Financing part of the demo (docs/financing.md, "Demo"), written through the door as
    /// an operator (like `enlace import`), so every write is decided, audited and has its
    /// Provenance:
    /// - the institutions (IMSS, ISSSTE and an ISSSTE clinic, IMSS-Bienestar) and the sample plans;
    /// - Ana's two coverages: IMSS (with her NSS) and her private major-medical policy;
    /// - her IMSS visits claimed to IMSS, and her emergency visit at the private hospital claimed
    ///   to her insurer, with one denied item (a genetic panel the policy does not cover);
    /// - last quarter's exchange of services between IMSS and ISSSTE (each saw some of the other's
    ///   beneficiaries), settled with netting.
    func seedFinancing(_ g: DemoGenerator) async throws {
        let principal = Principal(subject: "demo-financing", scopes: ScopeSet("system/*.cruds"), tokenID: "enlace-serve-demo")
        let audit = AuditContext(requestID: "demo-financing", method: "POST", path: "/fhir/Claim/$submit", query: nil, remoteAddress: nil)
        audit.principal = principal
        audit.interaction = "$submit"
        let guarded = try await services.door.open(principal, audit: audit)
        func put(_ resources: [JSON]) async throws {
            let entries: [JSON] = resources.map { r in
                .object([("resource", r), ("request", .object([("method", .string("PUT")),
                                                                ("url", .string("\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")"))]))])
            }
            _ = try await guarded.process(bundle: .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))]),
                                          options: .init(base: services.configuration.fhirBase, maxEntries: 1000))
        }
        // institutions and plans
        var shared: [JSON] = BenefitPlan.samples
        shared.append(ExperienceQuestionnaire.resource)
        shared.append(fhir(["resourceType": "Organization", "id": "imss", "active": true, "name": "Instituto Mexicano del Seguro Social",
                            "alias": ["IMSS"], "type": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "pay"]]]]]))
        shared.append(fhir(["resourceType": "Organization", "id": "issste", "active": true,
                            "name": "Instituto de Seguridad y Servicios Sociales de los Trabajadores del Estado", "alias": ["ISSSTE"],
                            "type": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "pay"]]]]]))
        shared.append(fhir(["resourceType": "Organization", "id": "imss-bienestar", "active": true, "name": "IMSS-Bienestar",
                            "type": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "pay"]]]]]))
        shared.append(fhir(["resourceType": "Organization", "id": "issste-cmf-coyoacan", "active": true, "name": "ISSSTE Clínica de Medicina Familiar Coyoacán",
                            "partOf": ["reference": "Organization/issste", "display": "ISSSTE"],
                            "type": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov"]]]]]))
        // the IMSS family-medicine unit is part of IMSS (its services count in IMSS's books)
        var umf = try await guarded.read("Organization", "imss-umf-20").json()
        umf = umf.setting("partOf", fhir(["reference": "Organization/imss", "display": "IMSS"])).setting("meta", nil)
        shared.append(umf)
        try await put(shared)

        let ana = g.anaID
        var anaPrivate = try await guarded.read("Coverage", "\(ana)-cov").json().setting("meta", nil)
        anaPrivate = anaPrivate.setting("class", fhir([["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"]]],
                                                         "value": "vida-plena-gmm-basico", "name": "Gastos Médicos Básico"]]))
        // her private policy applies first where no institution of hers serves her (financing.claims picks by Coverage.order)
        anaPrivate = anaPrivate.setting("order", .number("1"))
        let anaIMSS = fhir(["resourceType": "Coverage", "id": "\(ana)-cov-imss", "status": "active",
                            "identifier": [["system": "https://www.imss.gob.mx/nss", "value": "32987654321", "type": ["text": "NSS"]]],
                            "type": ["coding": [["system": "https://enlace.mx/fhir/CodeSystem/esquema", "code": "imss", "display": "IMSS régimen obligatorio"]]],
                            "beneficiary": ["reference": "Patient/\(ana)"], "payor": [["reference": "Organization/imss", "display": "IMSS"]],
                            "subscriberId": "32987654321", "relationship": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": "self"]]],
                            "class": [["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"]]], "value": "imss-regimen-obligatorio"]],
                            "period": ["start": g.day(g.ago(3000))], "order": 2])
        try await put([anaPrivate, anaIMSS])

        let service = FinancingService()
        let tariff = service.tariff.system
        func claim(_ id: String, patient: String, provider: String, coverage: String, date: String, encounter: String?, dx: String, items: [(String, Int)]) -> JSON {
            var c: [String: Any] = [
                "resourceType": "Claim", "identifier": [["system": "https://enlace.mx/demo/claims", "value": id]], "status": "active",
                "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"]]], "use": "claim",
                "patient": ["reference": "Patient/\(patient)"], "created": date, "provider": ["reference": provider],
                "priority": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"]]],
                "diagnosis": [["sequence": 1, "diagnosisCodeableConcept": ["coding": [["system": "http://hl7.org/fhir/sid/icd-10", "code": dx]]]]],
                "insurance": [["sequence": 1, "focal": true, "coverage": ["reference": "Coverage/\(coverage)"]]],
                "item": items.enumerated().map { i, it in
                    ["sequence": i + 1, "productOrService": ["coding": [["system": tariff, "code": it.0]]], "servicedDate": date,
                     "quantity": ["value": it.1]] as [String: Any]
                },
            ]
            if let encounter { c["item"] = (c["item"] as! [[String: Any]]).map { var i = $0; i["encounter"] = [["reference": encounter]]; return i } }
            return fhir(c)
        }
        let now = services.clock.now()
        // Ana's IMSS visits (the first four encounters of her year) claimed to IMSS
        for k in 0..<4 {
            guard let enc = try? await guarded.read("Encounter", "\(ana)-enc-\(k)").json(), let start = enc["period"]?["start"]?.stringValue else { continue }
            _ = try await service.submit(claim: claim("\(ana)-imss-\(k)", patient: ana, provider: "Organization/imss-umf-20", coverage: "\(ana)-cov-imss",
                                                      date: String(start.prefix(10)), encounter: "Encounter/\(ana)-enc-\(k)", dx: "E11.9",
                                                      items: k == 0 ? [("01.001", 1), ("03.001", 1), ("07.001", 2)] : [("01.001", 1), ("03.001", 1)]),
                                         guarded: guarded, now: now)
        }
        // her emergency visit at the private hospital, claimed to her insurer: the genetic panel is denied
        let er = g.day(g.ago(41))
        _ = try await service.submit(claim: claim("\(ana)-vp-er", patient: ana, provider: "Organization/hospital-santa-fe", coverage: "\(ana)-cov",
                                                  date: er, encounter: "Encounter/\(ana)-enc-er", dx: "E11.65",
                                                  items: [("02.002", 1), ("03.002", 1), ("03.001", 1), ("08.001", 1)]),
                                     guarded: guarded, now: now)

        // last quarter's exchange between IMSS and ISSSTE, settled with netting
        var last = Period(date: g.day(g.now))!
        last = last.quarter == 1 ? Period(year: last.year - 1, quarter: 4) : Period(year: last.year, quarter: last.quarter - 1)
        let monthStart = ["01", "04", "07", "10"][last.quarter - 1]
        var coverages: [JSON] = []
        var exchange: [JSON] = []
        for (n, p) in g.patientIDs.enumerated() where (30..<42).contains(n) {
            let issste = n % 2 == 0
            coverages.append(fhir(["resourceType": "Coverage", "id": "\(p)-cov-\(issste ? "issste" : "imss")", "status": "active",
                                   "beneficiary": ["reference": "Patient/\(p)"],
                                   "payor": [["reference": issste ? "Organization/issste" : "Organization/imss"]],
                                   "class": [["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"]]],
                                              "value": issste ? "issste" : "imss-regimen-obligatorio"]],
                                   "period": ["start": g.day(g.ago(2000))]]))
            let day = String(format: "%02d", 3 + n % 20)
            let date = "\(last.year)-\(monthStart)-\(day)"
            // ISSSTE beneficiaries seen at the IMSS unit; IMSS beneficiaries seen at the ISSSTE clinic
            exchange.append(claim("exchange-\(last)-\(p)", patient: p, provider: issste ? "Organization/imss-umf-20" : "Organization/issste-cmf-coyoacan",
                                  coverage: "\(p)-cov-\(issste ? "issste" : "imss")", date: date, encounter: nil, dx: issste ? "J06.9" : "I10",
                                  items: issste ? [("01.001", 1), ("03.003", 1)] : [("02.001", 1), ("03.004", 1)]))
        }
        try await put(coverages)
        for c in exchange { _ = try await service.submit(claim: c, guarded: guarded, now: now) }
        _ = try await service.settle(last, guarded: guarded, now: now)
    }
}
