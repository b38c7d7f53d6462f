import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Decisiones* (`/decisiones`): the Provenance of resources about the patient — who
    /// authored or changed what, when, and on behalf of which organization (who answers for it).
    func decisionsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        // a bounded window, newest first, like the timeline (*Ver más* reads the next page)
        let from = (OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:])["desde"].flatMap { $0.isEmpty ? nil : $0 }
        let (window, next) = try await window(g, patient: id, types: ["Provenance"], sort: SortKey(parameter: "recorded", kind: .date, descending: true),
                                              count: Portal.decisionsWindow, cursor: from)
        let provenances = window.sorted { ($0["recorded"]?.stringValue ?? "") > ($1["recorded"]?.stringValue ?? "") }
        var body = "<p>\(esc(t.decisionsLead))</p>"
        if provenances.isEmpty {
            body += "<p>\(esc(t.noDecisions))</p>"
        } else {
            body += "<ol class=\"timeline\">"
            for p in provenances {
                let recorded = p["recorded"]?.stringValue ?? ""
                let all = (p["target"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
                let targets = all.count > 1 ? all.filter { !$0.hasPrefix("Patient/") } : all
                let targetTypes = targets.map { t.typeName(String($0.split(separator: "/").first ?? "")) }
                let activityCode = p["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
                let activity = activityCode.map { t.activityName($0) } ?? t.concept(p["activity"]) ?? t.recorded
                body += "<li class=\"entry\"><div class=\"when\"><time datetime=\"\(esc(recorded))\">\(esc(t.date(recorded)))</time>"
                body += "<span class=\"kind\">\(esc(activity))</span></div><div class=\"what\">"
                body += "<h3>\(esc(Array(Set(targetTypes)).sorted().joined(separator: ", ")))</h3><dl class=\"facts\">"
                for a in p["agent"]?.arrayValue ?? [] {
                    let who = Portal.refText(a["who"]) ?? "—"
                    let role = a["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? Portal.text(a["type"]) ?? "author"
                    body += "<div><dt>\(esc(t.agentRole(role)))</dt><dd>\(esc(who))</dd></div>"
                    if let org = Portal.refText(a["onBehalfOf"]) {
                        body += "<div><dt>\(esc(t.onBehalfOf))</dt><dd>\(esc(org))</dd></div>"
                    }
                }
                if let reason = p["reason"]?.arrayValue?.first {
                    let code = reason["coding"]?.arrayValue?.first?["code"]?.stringValue
                    body += "<div><dt>\(esc(t.why))</dt><dd>\(esc(code.map { t.purposeName($0) } ?? Portal.text(reason) ?? ""))</dd></div>"
                }
                body += "<div><dt>\(esc(t.records))</dt><dd>\(esc(targets.prefix(5).joined(separator: ", ")))\(targets.count > 5 ? " …" : "")</dd></div>"
                body += "</dl></div></li>"
            }
            body += "</ol>"
        }
        body += windowLinks("/decisiones", [], next: next, later: from != nil, t)
        return html(.ok, layout(s, request, title: t.navDecisions, body: body))
    }
}
