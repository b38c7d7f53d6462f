import FHIR
import Financing
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// `$1,485.00` (exact centavos, grouped by thousands).
    static func pesos(_ m: Money) -> String {
        let d = m.decimal
        let negative = d.hasPrefix("-")
        let parts = (negative ? String(d.dropFirst()) : d).split(separator: ".")
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        return (negative ? "-$" : "$") + whole + grouped + "." + parts[1]
    }

    static func adjudicated(_ list: JSON?, _ category: String) -> Money {
        let a = (list?.arrayValue ?? []).first { ($0["category"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == category } }
        return (try? Money(json: a?["amount"], path: "")) ?? .zero
    }

    /// *Mis gastos* (`/gastos`): the patient's ExplanationOfBenefits — per visit, what it cost,
    /// what the insurer or institution paid and what the patient owes, and each denied or
    /// reduced service with its reason. Read through the patient's own guard.
    func expensesPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        let eobs = try await compartment(g, patient: id, types: ["ExplanationOfBenefit"], limit: 500)
            .sorted { ($0["billablePeriod"]?["start"]?.stringValue ?? "") > ($1["billablePeriod"]?["start"]?.stringValue ?? "") }
        var body = "<p>\(esc(t.expensesLead))</p>"
        guard !eobs.isEmpty else {
            body += "<p>\(esc(t.noExpenses))</p>"
            return html(.ok, layout(s, request, title: t.navExpenses, body: body))
        }
        var owed = Money.zero
        var list = ""
        for e in eobs {
            let date = e["billablePeriod"]?["start"]?.stringValue ?? e["created"]?.stringValue ?? ""
            let cost = Self.adjudicated(e["total"], "submitted")
            let paid = Self.adjudicated(e["total"], "benefit")
            let mine = Self.adjudicated(e["total"], "patient-share")
            owed += mine
            let outcome = (e["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == ClaimDocuments.resultExtension }?["valueCode"]?.stringValue ?? ""
            list += "<li class=\"entry eob\"><div class=\"when\"><time datetime=\"\(esc(date))\">\(esc(t.date(date)))</time>"
            list += "<span class=\"kind\">\(esc(t.expenseOutcome(outcome)))</span></div><div class=\"what\">"
            list += "<h3>\(esc(Portal.refText(e["provider"]) ?? "—"))</h3><dl class=\"facts\">"
            list += "<div><dt>\(esc(t.expenseInsurer))</dt><dd>\(esc(Portal.refText(e["insurer"]) ?? "—"))</dd></div>"
            list += "<div><dt>\(esc(t.expenseCost))</dt><dd>\(esc(Self.pesos(cost)))</dd></div>"
            list += "<div><dt>\(esc(t.expensePaidByInsurer))</dt><dd>\(esc(Self.pesos(paid)))</dd></div>"
            list += "<div><dt>\(esc(t.expenseYouOwe))</dt><dd class=\"owed\">\(esc(Self.pesos(mine)))</dd></div></dl>"
            list += "<ul class=\"stack items\">"
            for item in e["item"]?.arrayValue ?? [] {
                let status = (item["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == ClaimDocuments.resultExtension }?["valueCode"]?.stringValue ?? ""
                let benefit = (item["adjudication"]?.arrayValue ?? []).first { ($0["category"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == "benefit" } }
                let reason = benefit?["reason"].flatMap { r in t.language == .es ? r["text"]?.stringValue : r["coding"]?.arrayValue?.first?["display"]?.stringValue }
                let service = Portal.text(item["productOrService"]) ?? "—"
                list += "<li class=\"item\(status == "denied" ? " refused" : "")\"><strong>\(esc(service))</strong>: "
                list += "\(esc(t.expenseCost)) \(esc(Self.pesos(Self.adjudicated(item["adjudication"], "submitted")))) · "
                list += "\(esc(t.expensePaidByInsurer)) \(esc(Self.pesos(Self.adjudicated(item["adjudication"], "benefit")))) · "
                list += "\(esc(t.expenseYouOwe)) \(esc(Self.pesos(Self.adjudicated(item["adjudication"], "patient-share"))))"
                if status != "approved" {
                    list += " — <span class=\"reason\">\(esc(t.expenseOutcome(status)))\(reason.map { ": " + esc($0) } ?? "")</span>"
                }
                list += "</li>"
            }
            list += "</ul></div></li>"
        }
        body += "<p class=\"summary total-owed\"><strong>\(esc(t.expenseTotalOwed)):</strong> \(esc(Self.pesos(owed))) MXN</p>"
        body += "<ol class=\"timeline\" aria-label=\"\(esc(t.expensesTableCaption))\">\(list)</ol>"
        return html(.ok, layout(s, request, title: t.navExpenses, body: body))
    }
}
