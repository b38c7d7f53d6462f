import FHIR
import Financing
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// One claim of the worklist: the Claim, its ClaimResponse (nil: queued), who pays, the status.
    struct ClaimRow {
        var claim: JSON
        var response: JSON?
        var payer: String?
        var status: String
        var date: String
        var period: Period?
    }

    /// The claims the session's guard lets it read, with their responses and payers; for a
    /// principal with an organization, only those whose focal Coverage's payor is it (or whose
    /// response names it as insurer). A claim with a readable open or accepted dispute is `disputed`.
    func claimRows(_ s: Session, _ g: GuardedRepository) async throws -> [ClaimRow] {
        let claims = try await FinancingService.all("Claim", [], guarded: g, limit: 5000)
        let responses = try await FinancingService.all("ClaimResponse", [], guarded: g, limit: 5000)
        let coverages = try await FinancingService.all("Coverage", [], guarded: g, limit: 5000)
        var payorOf: [String: String] = [:]
        for c in coverages { payorOf["Coverage/\(c["id"]?.stringValue ?? "")"] = c["payor"]?.arrayValue?.first?["reference"]?.stringValue }
        func token(_ r: JSON) -> String? {
            guard let i = r["identifier"]?.arrayValue?.first, let sys = i["system"]?.stringValue, let v = i["value"]?.stringValue else { return nil }
            return sys + "|" + v
        }
        var byToken: [String: JSON] = [:]
        for r in responses { if let k = token(r) { byToken[k] = r } }
        // disputes, where the role may read them (a payer may not: Task is not among its types)
        var disputed = Set<String>()
        if let tasks = try? await FinancingService.all("Task", [("code", "\(Disputes.taskSystem)|dispute")], guarded: g, limit: 5000) {
            for task in tasks where ["open", "accepted"].contains(task["businessStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? "") {
                for i in task["input"]?.arrayValue ?? [] { if let r = i["valueReference"]?["reference"]?.stringValue { disputed.insert(r) } }
            }
        }
        let org = s.principal.organization.map { $0.hasPrefix("Organization/") ? $0 : "Organization/" + $0 }
        var rows: [ClaimRow] = []
        for c in claims {
            let response = token(c).flatMap { byToken[$0] }
            let focal = (c["insurance"]?.arrayValue ?? []).first { $0["focal"] == .bool(true) } ?? c["insurance"]?.arrayValue?.first
            let payer = response?["insurer"]?["reference"]?.stringValue ?? focal?["coverage"]?["reference"]?.stringValue.flatMap { payorOf[$0] }
            if let org, payer != org { continue }
            var status = "queued"
            if let response {
                status = (response["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == ClaimDocuments.resultExtension }?["valueCode"]?.stringValue ?? "queued"
                if disputed.contains("ClaimResponse/\(response["id"]?.stringValue ?? "")") { status = "disputed" }
            }
            let date = c["item"]?.arrayValue?.first?["servicedDate"]?.stringValue ?? c["billablePeriod"]?["start"]?.stringValue ?? c["created"]?.stringValue ?? ""
            let entry = response.flatMap { r in try? JournalExtension.entries(in: r, source: "ClaimResponse").first { $0.kind == .claim } }
            rows.append(ClaimRow(claim: c, response: response, payer: payer, status: status, date: date, period: entry?.period ?? Period(date: String(date.prefix(10)))))
        }
        return rows.sorted { ($0.date, $0.claim["id"]?.stringValue ?? "") > ($1.date, $1.claim["id"]?.stringValue ?? "") }
    }

    /// `/reclamaciones?estado=…&periodo=2026-Q3&paciente=…`: the payer's claims worklist.
    func claimsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard !s.isPatient else { throw FHIRError(status: 403, code: "forbidden", english: "not for patients", spanish: "no es para pacientes") }
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let statuses = ["queued", "approved", "partial", "denied", "disputed"]
        let status = q["estado"].flatMap { statuses.contains($0) ? $0 : nil }
        let periodText = q["periodo"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let period = Period(periodText)
        let patient = q["paciente"].map { $0.hasPrefix("Patient/") ? String($0.dropFirst(8)) : $0 }?.trimmingCharacters(in: .whitespaces) ?? ""
        let g = try await guarded(s, context)
        var rows = try await claimRows(s, g)
        if let status { rows = rows.filter { $0.status == status } }
        if let period { rows = rows.filter { $0.period == period } }
        if !patient.isEmpty { rows = rows.filter { $0.claim["patient"]?["reference"]?.stringValue == "Patient/\(patient)" } }
        var names = NameCache()
        var body = "<p>\(esc(t.claimsLead))</p>"
        body += "<form method=\"get\" action=\"/reclamaciones\" class=\"card stack filters\">"
        body += "<label for=\"estado\">\(esc(t.claimsStatus))</label><select id=\"estado\" name=\"estado\"><option value=\"\">\(esc(t.claimsAnyStatus))</option>"
        for st in statuses { body += "<option value=\"\(st)\"\(st == status ? " selected" : "")>\(esc(t.claimStatus(st)))</option>" }
        body += "</select><label for=\"periodo\">\(esc(t.claimsPeriod))</label><input id=\"periodo\" name=\"periodo\" value=\"\(esc(period.map(\.description) ?? periodText))\" inputmode=\"text\" placeholder=\"2026-Q3\">"
        if !periodText.isEmpty, period == nil { body += "<p class=\"error\" role=\"alert\">\(esc(t.t("Periodo no válido: use AAAA-Tn, p. ej. 2026-Q3.", "Invalid period: use YYYY-Qn, e.g. 2026-Q3.")))</p>" }
        body += "<label for=\"paciente\">\(esc(t.claimsPatient))</label><input id=\"paciente\" name=\"paciente\" value=\"\(esc(patient))\">"
        body += "<p><button type=\"submit\">\(esc(t.claimsFilter))</button></p></form>"
        body += "<p class=\"summary claims-count\"><strong>\(esc(t.claimsCount)):</strong> <span data-count=\"\(rows.count)\">\(rows.count)</span></p>"
        guard !rows.isEmpty else { return html(.ok, layout(s, request, title: t.navClaims, body: body + "<p>\(esc(t.claimsNone))</p>")) }
        body += "<ol class=\"timeline claims\" aria-label=\"\(esc(t.navClaims))\">"
        for r in rows {
            let id = r.claim["id"]?.stringValue ?? ""
            let patientRef = r.claim["patient"]?["reference"]?.stringValue ?? ""
            let submitted = r.response.map { Self.adjudicated($0["total"], "submitted") }
            let benefit = r.response.map { Self.adjudicated($0["total"], "benefit") }
            body += "<li class=\"entry claim\(r.status == "denied" ? " refused" : "")\" data-claim=\"\(esc(id))\" data-status=\"\(esc(r.status))\">"
            body += "<div class=\"when\"><time datetime=\"\(esc(r.date))\">\(esc(t.date(r.date)))</time><span class=\"kind\">\(esc(t.claimStatus(r.status)))</span></div>"
            body += "<div class=\"what\"><h3><a href=\"/reclamaciones/\(esc(id))\">\(esc(await names.name(patientRef, g)))</a></h3><dl class=\"facts\">"
            body += "<div><dt>\(esc(t.claimProvider))</dt><dd>\(esc(await names.name(r.claim["provider"]?["reference"]?.stringValue ?? "", g)))</dd></div>"
            if let submitted { body += "<div><dt>\(esc(t.claimSubmitted))</dt><dd>\(esc(Self.pesos(submitted)))</dd></div>" }
            if let benefit { body += "<div><dt>\(esc(t.claimPayerPays))</dt><dd>\(esc(Self.pesos(benefit)))</dd></div>" }
            if let p = r.period { body += "<div><dt>\(esc(t.claimPeriod))</dt><dd>\(esc(p.description))</dd></div>" }
            body += "</dl></div></li>"
        }
        body += "</ol>"
        return html(.ok, layout(s, request, title: t.navClaims, body: body))
    }

    /// `/reclamaciones/{id}`: a claim with its items, the adjudication of each with reasons, and
    /// the Provenance of the decision (or, where the role may not read Provenance, the rules with
    /// versions the decision recorded in its ClaimResponse).
    func claimDetailPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, id: String) async throws -> Response {
        let t = s.strings
        guard !s.isPatient, Repository.isValidID(id) else { throw FHIRError.notFound("Claim", id) }
        let g = try await guarded(s, context)
        guard let row = try await claimRows(s, g).first(where: { $0.claim["id"]?.stringValue == id }) else { throw FHIRError.notFound("Claim", id) }
        var names = NameCache()
        let c = row.claim
        var body = "<p><a href=\"/reclamaciones\">\(esc(t.claimBack))</a></p><section class=\"card claim-detail\" data-status=\"\(esc(row.status))\">"
        body += "<dl class=\"facts\">"
        body += "<div><dt>\(esc(t.claimsStatus))</dt><dd class=\"status\">\(esc(t.claimStatus(row.status)))</dd></div>"
        body += "<div><dt>\(esc(t.claimPatient))</dt><dd>\(esc(await names.name(c["patient"]?["reference"]?.stringValue ?? "", g)))</dd></div>"
        body += "<div><dt>\(esc(t.claimProvider))</dt><dd>\(esc(await names.name(c["provider"]?["reference"]?.stringValue ?? "", g)))</dd></div>"
        body += "<div><dt>\(esc(t.coveragePayer))</dt><dd>\(esc(await names.name(row.payer ?? "", g)))</dd></div>"
        body += "<div><dt>\(esc(t.claimDate))</dt><dd>\(esc(t.date(row.date)))</dd></div>"
        if let p = row.period { body += "<div><dt>\(esc(t.claimPeriod))</dt><dd>\(esc(p.description))</dd></div>" }
        if let i = c["identifier"]?.arrayValue?.first?["value"]?.stringValue { body += "<div><dt>\(esc(t.coverageNumber))</dt><dd>\(esc(i))</dd></div>" }
        if let r = row.response {
            body += "<div><dt>\(esc(t.claimSubmitted))</dt><dd>\(esc(Self.pesos(Self.adjudicated(r["total"], "submitted"))))</dd></div>"
            body += "<div><dt>\(esc(t.claimPayerPays))</dt><dd class=\"benefit\">\(esc(Self.pesos(Self.adjudicated(r["total"], "benefit"))))</dd></div>"
            body += "<div><dt>\(esc(t.claimPatientPays))</dt><dd>\(esc(Self.pesos(Self.adjudicated(r["total"], "patient-share"))))</dd></div>"
        }
        body += "</dl></section><h2>\(esc(t.claimItems))</h2><ol class=\"timeline items\">"
        let responseItems = row.response?["item"]?.arrayValue ?? []
        for item in c["item"]?.arrayValue ?? [] {
            let seq = numberText(item["sequence"]) ?? ""
            let adjudicated = responseItems.first { numberText($0["itemSequence"]) == seq }
            let status = (adjudicated?["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == ClaimDocuments.resultExtension }?["valueCode"]?.stringValue
            body += "<li class=\"entry item\(status == "denied" ? " refused" : "")\" data-item=\"\(esc(seq))\" data-status=\"\(esc(status ?? "queued"))\">"
            body += "<div class=\"when\"><span class=\"kind\">\(esc(status.map { t.expenseOutcome($0) } ?? t.claimStatus("queued")))</span></div><div class=\"what\">"
            body += "<h3>\(esc(seq)). \(esc(Portal.text(item["productOrService"]) ?? "—"))</h3><dl class=\"facts\">"
            if let qty = numberText(item["quantity"]?["value"]) { body += "<div><dt>\(esc(t.claimQuantity))</dt><dd>\(esc(qty))</dd></div>" }
            for a in adjudicated?["adjudication"]?.arrayValue ?? [] {
                let code = a["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? ""
                let amount = (try? Money(json: a["amount"], path: "")).map { Self.pesos($0) } ?? (a["value"].flatMap { numberText($0) }.map { "\($0) %" } ?? "—")
                body += "<div data-category=\"\(esc(code))\"><dt>\(esc(t.adjudicationCategory(code)))</dt><dd>\(esc(amount))"
                if let reason = a["reason"] {
                    let text = t.language == .es ? reason["text"]?.stringValue : reason["coding"]?.arrayValue?.first?["display"]?.stringValue
                    let code = reason["coding"]?.arrayValue?.first?["code"]?.stringValue
                    body += " — <span class=\"reason\">\(esc(text ?? code ?? ""))\(code.map { " <span class=\"code\">(\(esc($0)))</span>" } ?? "")</span>"
                }
                body += "</dd></div>"
            }
            body += "</dl></div></li>"
        }
        body += "</ol>"
        // the paying institution (or an operator) disputes the claim in its period's settlement
        if let r = row.response, let period = row.period, let rid = r["id"]?.stringValue,
           s.principal.effectiveRole == .payer || s.principal.effectiveRole == .platformOperator {
            body += "<h2>\(esc(t.t("Disputar en la liquidación", "Dispute in the settlement")))</h2><section class=\"card dispute-claim\">"
            body += "<p class=\"hint\">\(esc(t.t("Una vez liquidado \(period), la institución que paga puede disputar la reclamación o uno de sus servicios; la institución a la que se debe la acepta o rechaza en Disputas.", "Once \(period) is settled, the paying institution may dispute the claim or one of its items; the institution owed accepts or rejects it in Disputes.")))</p>"
            body += openDisputeForm(s, line: "ClaimResponse/\(rid)", period: period, items: (c["item"]?.arrayValue ?? []).compactMap { numberText($0["sequence"]) })
            body += "</section>"
        }
        if let r = row.response {
            if let notes = r["processNote"]?.arrayValue, !notes.isEmpty {
                body += "<h2>\(esc(t.claimNotes))</h2><ul class=\"summary notes\">"
                for n in notes { body += "<li>\(esc(n["text"]?.stringValue ?? ""))</li>" }
                body += "</ul>"
            }
            body += "<h2>\(esc(t.claimDecision))</h2><section class=\"card provenance\">"
            let rid = r["id"]?.stringValue ?? ""
            let provenances = try? await FinancingService.all("Provenance", [("target", "ClaimResponse/\(rid)")], guarded: g, limit: 10)
            if let p = provenances?.first {
                body += "<dl class=\"facts\" data-source=\"provenance\">"
                body += "<div><dt>\(esc(t.claimDecisionRules))</dt><dd><ul class=\"rules\">"
                for policy in p["policy"]?.arrayValue ?? [] { body += "<li><code>\(esc(policy.stringValue ?? ""))</code></li>" }
                body += "</ul></dd></div>"
                for a in p["agent"]?.arrayValue ?? [] {
                    let who = a["who"]?["display"]?.stringValue ?? a["who"]?["identifier"]?["value"]?.stringValue ?? a["who"]?["reference"]?.stringValue ?? "—"
                    body += "<div><dt>\(esc(t.claimDecisionBy))</dt><dd>\(esc(who))</dd></div>"
                }
                if let when = p["recorded"]?.stringValue { body += "<div><dt>\(esc(t.claimDecisionWhen))</dt><dd>\(esc(t.dateTime(when)))</dd></div>" }
                if let reason = p["reason"]?.arrayValue?.first?["text"]?.stringValue { body += "<div><dt>\(esc(t.claimNotes))</dt><dd>\(esc(reason))</dd></div>" }
                body += "</dl>"
            } else {
                let rules = (r["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue == ClaimDocuments.rulesExtension }.compactMap { $0["valueCanonical"]?.stringValue }
                body += "<p class=\"hint\">\(esc(t.claimProvenanceHidden))</p><dl class=\"facts\" data-source=\"claim-response\">"
                body += "<div><dt>\(esc(t.claimDecisionRules))</dt><dd><ul class=\"rules\">"
                for rule in rules { body += "<li><code>\(esc(rule))</code></li>" }
                body += "</ul></dd></div>"
                if let when = r["created"]?.stringValue { body += "<div><dt>\(esc(t.claimDecisionWhen))</dt><dd>\(esc(t.dateTime(when)))</dd></div>" }
                body += "</dl>"
            }
            body += "</section>"
        }
        return html(.ok, layout(s, request, title: "\(t.navClaims): \(id)", body: body))
    }
}

/// Names of referenced resources for a page (read through the page's guard, each once): an
/// Organization's alias or name, a Patient's name; the reference itself when unreadable.
struct NameCache {
    var known: [String: String] = [:]
    mutating func name(_ ref: String, _ g: GuardedRepository) async -> String {
        if ref.isEmpty { return "—" }
        if let n = known[ref] { return n }
        let parts = ref.split(separator: "/")
        var n = ref
        // the shipped measures are knowledge, not stored resources: named by their title
        if parts.count == 2, parts[0] == "Measure", let m = MeasureEvaluator.measures.first(where: { $0["id"]?.stringValue == String(parts[1]) }) {
            n = m["title"]?.stringValue ?? ref
        } else if parts.count == 2, let r = try? await g.read(String(parts[0]), String(parts[1])).json() {
            if parts[0] == "Patient", let hn = r["name"]?.arrayValue?.first {
                let given = (hn["given"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
                n = hn["text"]?.stringValue ?? [given, hn["family"]?.stringValue ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
            } else {
                n = r["alias"]?.arrayValue?.first?.stringValue ?? r["name"]?.stringValue ?? ref
            }
            if n.isEmpty { n = ref }
        }
        known[ref] = n
        return n
    }
    mutating func names(_ refs: [String], _ g: GuardedRepository) async -> [String: String] {
        for r in refs { _ = await name(r, g) }
        return known
    }
}
