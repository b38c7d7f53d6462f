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
        if q["abierta"] == "1" {
            body += "<p class=\"notice\" role=\"status\">\(esc(t.t("Disputa abierta: la institución a la que se debe la partida la acepta o rechaza aquí.", "Dispute opened: the institution owed the line accepts or rejects it here.")))</p>"
        }
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

extension Portal {
    /// The form that opens a dispute of a settlement line (`POST /disputas/abrir`): `line` is
    /// `ClaimResponse/{id}` (a claim, whole or one item) or `Measure/{id}` (a quality incentive,
    /// whole), `period` the settled quarter it was counted in.
    func openDisputeForm(_ s: Session, line: String, period: Period, items: [String] = [], incentive: Bool = false) -> String {
        let t = s.strings
        let key = esc(line.replacingOccurrences(of: "/", with: "-"))
        var out = "<form method=\"post\" action=\"/disputas/abrir\" class=\"stack open-dispute\" data-line=\"\(esc(line))\">"
        out += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"linea\" value=\"\(esc(line))\">"
        out += "<input type=\"hidden\" name=\"periodo\" value=\"\(period)\">"
        if !incentive, !items.isEmpty {
            out += "<label for=\"servicio-\(key)\">\(esc(t.t("Servicio", "Item")))</label><select id=\"servicio-\(key)\" name=\"servicio\">"
            out += "<option value=\"\">\(esc(t.t("Toda la reclamación", "The whole claim")))</option>"
            for i in items { out += "<option value=\"\(esc(i))\">\(esc(i))</option>" }
            out += "</select><label for=\"importe-\(key)\">\(esc(t.t("Importe disputado (MXN, opcional: lo que se pagó)", "Amount disputed (MXN, optional: what was paid)")))</label>"
            out += "<input id=\"importe-\(key)\" name=\"importe\" inputmode=\"decimal\" maxlength=\"16\" placeholder=\"0.00\">"
        }
        out += "<label for=\"motivo-\(key)\">\(esc(t.t("Motivo de la disputa", "Reason for the dispute")))</label>"
        out += "<input id=\"motivo-\(key)\" name=\"motivo\" maxlength=\"500\" required>"
        out += "<p><button type=\"submit\" class=\"secondary\">\(esc(t.t("Disputar", "Dispute")))</button></p></form>"
        return out
    }

    /// `POST /disputas/abrir` (csrf, linea, periodo, motivo, servicio?, importe?): opens the dispute
    /// through the session's guard with the rules of `PaymentReconciliation/{id}/$dispute`
    /// (`FinancingService.dispute`), in the settlement of `periodo` that holds the line; a second
    /// dispute of the same line is the same Task. A refusal is shown on `/disputas` with its reason.
    func openDispute(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let (form, refusal) = try await checkedForm(s, request, title: t.navDisputes)
        if let refusal { return refusal }
        guard !s.isPatient, let form else { throw FHIRError(status: 403, code: "forbidden", english: "not for patients", spanish: "no es para pacientes") }
        func refuse(_ english: String, _ spanish: String, _ status: HTTPResponse.Status) async throws -> Response {
            try await disputesPage(s, request, context, notice: t.language == .es ? spanish : english, status: status)
        }
        let line = form["linea"] ?? "", reason = (form["motivo"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let period = form["periodo"].flatMap({ Period($0) }) else {
            return try await refuse("The settlement period is missing or not YYYY-Qn.", "Falta el periodo de la liquidación o no es AAAA-Tn.", .badRequest)
        }
        guard !reason.isEmpty else { return try await refuse("Write the reason for the dispute.", "Escriba el motivo de la disputa.", .unprocessableContent) }
        let item = (form["servicio"] ?? "").isEmpty ? nil : Int(form["servicio"] ?? "")
        if !(form["servicio"] ?? "").isEmpty, item == nil || item! < 1 {
            return try await refuse("The item must be a service number of the claim.", "El servicio debe ser un número de servicio de la reclamación.", .unprocessableContent)
        }
        let amountText = (form["importe"] ?? "").trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        let amount = amountText.isEmpty ? nil : Money(decimal: amountText)
        if !amountText.isEmpty, amount == nil {
            return try await refuse("The amount must be pesos with up to two decimals (e.g. 350.00).", "El importe debe ser en pesos con hasta dos decimales (p. ej. 350.00).",
                                    .unprocessableContent)
        }
        let g = try await guarded(s, context)
        let settlements = try await FinancingService.all("PaymentReconciliation", [("identifier", "\(SettlementIDs.system)|")], guarded: g, limit: 5000).filter {
            ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasPrefix("\(period)~")
        }
        for rec in settlements {
            guard let id = rec["id"]?.stringValue else { continue }
            do {
                _ = try await services.financing.dispute(reconciliation: id, line: line, item: item, reason: reason, amount: amount, guarded: g,
                                                         now: services.clock.now())
                return Portal.redirect("/disputas?abierta=1")
            } catch let e as FHIRError where e.status == 422 && e.issues.first?.english.contains("is not a line of the settlement") == true {
                continue  // the line is in another pair's settlement of the period
            } catch let e as FHIRError where [400, 403, 404, 409, 412, 422].contains(e.status) {
                let code: HTTPResponse.Status = e.status == 409 ? .conflict : (e.status == 403 ? .forbidden : e.status == 404 ? .notFound : .unprocessableContent)
                return try await disputesPage(s, request, context, notice: t.language == .es ? e.issues.first?.spanish : e.issues.first?.english, status: code)
            }
        }
        return try await refuse("No settlement of \(period) that you may read holds \(line): only a settled line can be disputed.",
                                "Ninguna liquidación de \(period) que usted pueda leer contiene \(line): solo se disputa una partida ya liquidada.", .unprocessableContent)
    }
}
