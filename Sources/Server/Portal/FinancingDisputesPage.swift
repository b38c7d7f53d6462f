import FHIR
import Financing
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// `/disputas`: the settlement disputes the session's guard lets it read — who disputes, who
    /// is owed, the line, amount, reason and status, the period a correction went into — and, for
    /// an open one the session's institution is owed, the form to accept or reject it
    /// (`FinancingService.resolve`, the same rules as `Task/{id}/$resolve`). An institution's
    /// finance office (payer role) reads its own disputes by the finance rule (docs/access.md,
    /// "Finance"); a session whose role or scopes may not read them is told so.
    func disputesPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, notice: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        guard !s.isPatient else { throw FHIRError(status: 403, code: "forbidden", english: "not for patients", spanish: "no es para pacientes") }
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let g = try await guarded(s, context)
        var body = "<p>\(esc(t.disputesLead))</p>"
        if let notice { body += "<p class=\"error\" role=\"alert\">\(esc(notice))</p>" }
        if q["resuelta"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.disputeResolved))</p>" }
        let tasks: [JSON]
        do {
            tasks = try await FinancingService.all("Task", [("code", "\(Disputes.taskSystem)|dispute")], guarded: g, limit: 2000)
        } catch let e as FHIRError where e.status == 403 {
            return html(status, layout(s, request, title: t.navDisputes, body: body + "<p class=\"hint disputes-hidden\">\(esc(t.disputesHidden))</p>"))
        }
        guard !tasks.isEmpty else { return html(status, layout(s, request, title: t.navDisputes, body: body + "<p>\(esc(t.disputesNone))</p>")) }
        let org = s.principal.organization.map { $0.hasPrefix("Organization/") ? $0 : "Organization/" + $0 }
        var names = NameCache()
        body += "<ol class=\"timeline disputes\">"
        for task in tasks.sorted(by: { ($0["authoredOn"]?.stringValue ?? "") > ($1["authoredOn"]?.stringValue ?? "") }) {
            let id = task["id"]?.stringValue ?? ""
            let state = task["businessStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? ""
            let owner = task["owner"]?["reference"]?.stringValue ?? ""
            let inputs = task["input"]?.arrayValue ?? []
            func input(_ code: String) -> JSON? { inputs.first { $0["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == code } }
            let amount = (try? Money(json: input("amount")?["valueMoney"], path: "")).map { Self.pesos($0) } ?? "—"
            var line = input("line")?["valueReference"]?["reference"]?.stringValue ?? "—"
            if input("incentive-entry") != nil { line = t.t("Incentivo de calidad", "Quality incentive") + " · " + (await names.name(line, g)) }
            let item = numberText(input("item")?["valuePositiveInt"])
            let when = task["authoredOn"]?.stringValue ?? ""
            body += "<li class=\"entry dispute\" data-dispute=\"\(esc(id))\" data-status=\"\(esc(state))\"><div class=\"when\"><time datetime=\"\(esc(when))\">\(esc(t.date(when)))</time>"
            body += "<span class=\"kind\">\(esc(t.disputeStatus(state)))</span></div><div class=\"what\"><dl class=\"facts\">"
            body += "<div><dt>\(esc(t.disputeRequester))</dt><dd>\(esc(await names.name(task["requester"]?["reference"]?.stringValue ?? "", g)))</dd></div>"
            body += "<div><dt>\(esc(t.disputeOwner))</dt><dd>\(esc(await names.name(owner, g)))</dd></div>"
            body += "<div><dt>\(esc(t.disputeLine))</dt><dd>\(esc(line))\(item.map { " · \(esc(t.t("servicio", "item"))) \(esc($0))" } ?? "")</dd></div>"
            body += "<div><dt>\(esc(t.disputeAmount))</dt><dd>\(esc(amount)) MXN</dd></div>"
            body += "<div><dt>\(esc(t.disputeReason))</dt><dd>\(esc(task["reasonCode"]?["text"]?.stringValue ?? "—"))</dd></div>"
            if let period = task["output"]?.arrayValue?.first?["valueString"]?.stringValue {
                body += "<div><dt>\(esc(t.disputeCorrectedIn))</dt><dd><a href=\"/liquidacion?periodo=\(esc(period))\">\(esc(period))</a></dd></div>"
            }
            if let note = task["note"]?.arrayValue?.first?["text"]?.stringValue { body += "<div><dt>\(esc(t.claimNotes))</dt><dd>\(esc(note))</dd></div>" }
            body += "</dl>"
            if state == "open", org == nil || org == owner {
                body += "<form method=\"post\" action=\"/disputas/resolver\" class=\"stack resolve\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
                body += "<input type=\"hidden\" name=\"disputa\" value=\"\(esc(id))\"><label for=\"nota-\(esc(id))\">\(esc(t.disputeNote))</label>"
                body += "<input id=\"nota-\(esc(id))\" name=\"nota\" maxlength=\"500\">"
                body += "<p><button type=\"submit\" name=\"resultado\" value=\"accepted\">\(esc(t.disputeAccept))</button> "
                body += "<button type=\"submit\" name=\"resultado\" value=\"rejected\" class=\"secondary\">\(esc(t.disputeReject))</button></p></form>"
            }
            body += "</div></li>"
        }
        body += "</ol>"
        return html(status, layout(s, request, title: t.navDisputes, body: body))
    }

    /// `POST /disputas/resolver` (csrf, disputa, resultado = accepted|rejected, nota): resolves a
    /// dispute through the session's guard; a refusal or conflict is shown on the page.
    func resolveDisputeForm(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let (form, refusal) = try await checkedForm(s, request, title: s.strings.navDisputes)
        if let refusal { return refusal }
        guard !s.isPatient, let id = form?["disputa"], Repository.isValidID(id) else { throw FHIRError.notFound("Task", form?["disputa"] ?? "") }
        guard let outcome = form?["resultado"], ["accepted", "rejected"].contains(outcome) else {
            return try await disputesPage(s, request, context, notice: s.strings.t("Elija aceptar o rechazar.", "Choose accept or reject."), status: .badRequest)
        }
        let note = form?["nota"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            _ = try await services.financing.resolve(dispute: id, accept: outcome == "accepted", note: note?.isEmpty == false ? note : nil,
                                                     guarded: try await guarded(s, context), now: services.clock.now())
        } catch let e as FHIRError where [400, 403, 409, 412, 422].contains(e.status) {
            let code: HTTPResponse.Status = e.status == 409 ? .conflict : (e.status == 403 ? .forbidden : .unprocessableContent)
            return try await disputesPage(s, request, context, notice: s.strings.language == .es ? e.issues.first?.spanish : e.issues.first?.english, status: code)
        }
        return Portal.redirect("/disputas?resuelta=1")
    }
}
