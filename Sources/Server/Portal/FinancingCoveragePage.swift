import FHIR
import Financing
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Mi cobertura* (`/cobertura`): the patient's Coverages — who pays, the plan, status and
    /// validity, the scheme's number, the order in which they are used — and, from the plan
    /// (InsurancePlan, shared data), what it covers, the deductible, coinsurance and copay. Read
    /// through the patient's own guard.
    func coveragePage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        let coverages = try await compartment(g, patient: id, types: ["Coverage"], limit: 100)
            .sorted { ($0["order"]?.stringValue ?? numberText($0["order"]) ?? "9", $0["id"]?.stringValue ?? "") < ($1["order"]?.stringValue ?? numberText($1["order"]) ?? "9", $1["id"]?.stringValue ?? "") }
        var body = "<p>\(esc(t.coverageLead))</p>"
        guard !coverages.isEmpty else { return html(.ok, layout(s, request, title: t.navCoverage, body: body + "<p>\(esc(t.noCoverage))</p>")) }
        let tariff = FinancingService().tariff
        let today = String(services.clock.now().description.prefix(10))
        body += "<ul class=\"cards coverages\">"
        for c in coverages {
            let planID = (c["class"]?.arrayValue ?? []).first { ($0["type"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == "plan" } }?["value"]?.stringValue
            let planJSON: JSON? = if let planID, Repository.isValidID(planID) { try? await g.read("InsurancePlan", planID).json() } else { nil }
            let plan = planJSON.flatMap { try? BenefitPlan(insurancePlan: $0) }
            let payer = Portal.refText(c["payor"]?.arrayValue?.first) ?? "—"
            let start = c["period"]?["start"]?.stringValue, end = c["period"]?["end"]?.stringValue
            let inForce = c["status"]?.stringValue == "active" && (start.map { String($0.prefix(10)) <= today } ?? true) && (end.map { String($0.prefix(10)) >= today } ?? true)
            let name = plan?.name ?? (c["class"]?.arrayValue?.first?["name"]?.stringValue) ?? planID ?? (Portal.text(c["type"]) ?? "—")
            body += "<li class=\"card coverage\" data-coverage=\"\(esc(c["id"]?.stringValue ?? ""))\"><h2>\(esc(payer))</h2><dl class=\"facts\">"
            body += "<div><dt>\(esc(t.coveragePlan))</dt><dd>\(esc(name))\(plan.map { " <span class=\"version\">(\(esc($0.version)))</span>" } ?? "")</dd></div>"
            body += "<div><dt>\(esc(t.coverageStatus))</dt><dd class=\"status\">\(esc(inForce ? t.coverageActive : t.coverageInactive))</dd></div>"
            if start != nil || end != nil {
                var v = ""
                if let start { v += "\(t.coverageFrom) \(t.date(start))" }
                if let end { v += (v.isEmpty ? "" : " ") + "\(t.coverageUntil) \(t.date(end))" }
                body += "<div><dt>\(esc(t.coveragePeriod))</dt><dd>\(esc(v))</dd></div>"
            }
            if let ident = c["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? c["subscriberId"]?.stringValue {
                let label = c["identifier"]?.arrayValue?.first?["type"]?["text"]?.stringValue ?? t.coverageNumber
                body += "<div><dt>\(esc(label))</dt><dd>\(esc(ident))</dd></div>"
            }
            if let order = numberText(c["order"]) { body += "<div><dt>\(esc(t.coverageOrder))</dt><dd>\(esc(order))</dd></div>" }
            body += "</dl>"
            if let plan {
                body += "<h3>\(esc(t.coverageCovers))</h3>"
                if let covered = plan.covered {
                    body += "<ul class=\"summary covered\">"
                    for code in covered.sorted() { body += "<li>\(esc(tariff.items[code]?.display ?? code)) <span class=\"code\">(\(esc(code)))</span></li>" }
                    body += "</ul>"
                    let excluded = tariff.items.keys.filter { !covered.contains($0) }.sorted()
                    if !excluded.isEmpty {
                        body += "<p class=\"not-covered\"><strong>\(esc(t.coverageNotCovered)):</strong> "
                        body += excluded.map { esc(tariff.items[$0]?.display ?? $0) }.joined(separator: "; ") + "</p>"
                    }
                } else {
                    body += "<p class=\"covered all\">\(esc(t.coverageEverything))</p>"
                }
                body += "<dl class=\"facts costs\">"
                body += "<div><dt>\(esc(t.coverageDeductible))</dt><dd>\(esc(Self.pesos(plan.deductible))) MXN</dd></div>"
                body += "<div><dt>\(esc(t.coverageCoinsurance))</dt><dd>\(esc(Self.percent(plan.coinsuranceBasisPoints)))</dd></div>"
                body += "<div><dt>\(esc(t.coverageCopay))</dt><dd>\(esc(Self.pesos(plan.copay))) MXN</dd></div></dl>"
            } else {
                body += "<p>\(esc(t.coveragePlanUnknown))</p>"
            }
            body += "</li>"
        }
        body += "</ul>"
        return html(.ok, layout(s, request, title: t.navCoverage, body: body))
    }

    func numberText(_ j: JSON?) -> String? { if case .number(let n)? = j { return n } else { return nil } }

    /// `1000` basis points → `10 %`, `1250` → `12.5 %`.
    static func percent(_ basisPoints: Int) -> String {
        let whole = basisPoints / 100, rest = basisPoints % 100
        if rest == 0 { return "\(whole) %" }
        return String(format: "%d.%02d", whole, rest).replacingOccurrences(of: #"0$"#, with: "", options: .regularExpression) + " %"
    }
}
