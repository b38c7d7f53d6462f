import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// The clinician's side of consent (docs/portal.md): asking a patient for access by CURP
/// (`/solicitar-acceso`) and breaking the glass in an emergency (`/pacientes/{id}/emergencia`),
/// offered on the refusal page of a patient the clinician cannot see.
extension Portal {
    /// How long a clinician may ask for (days); 30 is preselected.
    static let requestDurations = [7, 30, 90]
    /// Purposes a clinician asks for in the portal (the portal's own sessions are for treatment).
    static let requestPurposes = ["TREAT"]

    /// What the clinician typed, kept to show the form again after an error.
    struct AccessRequestForm: Sendable {
        var curp = ""
        var purpose = "TREAT"
        var categories: Set<String> = []
        var days = 30
        var reason = ""
    }

    func requirePractitioner(_ s: Session) throws {
        guard s.principal.effectiveRole == .practitioner, s.principal.fhirUser != nil else {
            throw FHIRError(status: 403, code: "forbidden", english: "for clinicians", spanish: "para personal clínico")
        }
    }

    // MARK: - request access by CURP

    /// `GET /solicitar-acceso`: the form (CURP, purpose, sensitive categories, duration, reason);
    /// with `?enviada=1`, the answer after a request — the same whether or not the CURP matched.
    func requestAccessPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        try requirePractitioner(s)
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        return html(.ok, requestAccessHTML(s, request, form: AccessRequestForm(), errors: [], sent: q["enviada"] == "1"))
    }

    func requestAccessHTML(_ s: Session, _ request: Request, form: AccessRequestForm, errors: [(field: String, message: String)], sent: Bool) -> String {
        let t = s.strings
        var body = ""
        if sent {
            body += "<div class=\"notice\" role=\"status\"><p>\(esc(t.requestSent))</p><p class=\"small\">\(esc(t.requestPrivacyNote))</p></div>"
        }
        if !errors.isEmpty {
            body += "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" id=\"errores\"><h2>\(esc(t.formErrors))</h2><ul>"
            for e in errors { body += "<li><a href=\"#\(esc(e.field))\">\(esc(e.message))</a></li>" }
            body += "</ul></div>"
        }
        func error(_ field: String) -> (attrs: String, text: String) {
            guard let e = errors.first(where: { $0.field == field }) else { return ("", "") }
            return (" aria-invalid=\"true\"", "<p class=\"error\" id=\"\(esc(field))-error\">\(esc(e.message))</p>")
        }
        let curpError = error("curp"), reasonError = error("motivo")
        body += "<p>\(esc(t.requestAccessLead))</p>"
        body += "<form method=\"post\" action=\"/solicitar-acceso\" class=\"card stack\" id=\"solicitud\">"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        body += "<label for=\"curp\">\(esc(t.curpLabel))</label>"
        body += "<p class=\"hint\" id=\"curp-hint\">\(esc(t.curpHint))</p>\(curpError.text)"
        body += "<input type=\"text\" id=\"curp\" name=\"curp\" value=\"\(esc(form.curp))\" class=\"mono\" maxlength=\"24\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" required aria-describedby=\"curp-hint\(curpError.text.isEmpty ? "" : " curp-error")\"\(curpError.attrs)>"
        body += "<label for=\"proposito\">\(esc(t.purposeLabel))</label><select id=\"proposito\" name=\"proposito\">"
        for p in Portal.requestPurposes { body += "<option value=\"\(esc(p))\"\(p == form.purpose ? " selected" : "")>\(esc(t.purposeName(p)))</option>" }
        body += "</select>"
        body += "<fieldset><legend>\(esc(t.categoriesAsk))</legend><p class=\"hint\">\(esc(t.categoriesAskHint))</p>"
        for c in services.configuration.privacy.sensitiveLabels where Repository.isValidID(c) {
            body += "<label class=\"check\"><input type=\"checkbox\" name=\"categoria-\(esc(c))\" value=\"1\"\(form.categories.contains(c) ? " checked" : "")> \(esc(t.categoryName(c)))</label>"
        }
        body += "</fieldset>"
        body += "<label for=\"dias\">\(esc(t.durationAsk))</label><select id=\"dias\" name=\"dias\">"
        for d in Portal.requestDurations { body += "<option value=\"\(d)\"\(d == form.days ? " selected" : "")>\(esc(t.days(d)))</option>" }
        body += "</select>"
        body += "<label for=\"motivo\">\(esc(t.reasonAsk))</label><p class=\"hint\" id=\"motivo-hint\">\(esc(t.reasonAskHint))</p>\(reasonError.text)"
        body += "<textarea id=\"motivo\" name=\"motivo\" rows=\"3\" maxlength=\"300\" required aria-describedby=\"motivo-hint\(reasonError.text.isEmpty ? "" : " motivo-error")\"\(reasonError.attrs)>\(esc(form.reason))</textarea>"
        body += "<button type=\"submit\">\(esc(t.sendRequest))</button></form>"
        body += "<p><a href=\"/pacientes\">\(esc(t.navPatients))</a></p>"
        return layout(s, request, title: t.requestAccess, body: body)
    }

    /// `POST /solicitar-acceso`: validates the form, then `Door.requestAccess` looks the CURP up
    /// and — only when it names a patient — creates the consent-request Task exactly as
    /// `POST /fhir/Task` would, through the clinician's guarded repository. Whether or not the
    /// CURP matched, the answer is the same redirect to the same page.
    func submitAccessRequest(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let raw = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = raw["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.requestAccess, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        var form = AccessRequestForm()
        form.curp = String((raw["curp"] ?? "").prefix(40))
        form.purpose = Portal.requestPurposes.contains(raw["proposito"] ?? "") ? raw["proposito"] ?? "TREAT" : "TREAT"
        let labels = services.configuration.privacy.sensitiveLabels
        form.categories = Set(labels.filter { raw["categoria-\($0)"] == "1" })
        form.days = Int(raw["dias"] ?? "").flatMap { Portal.requestDurations.contains($0) ? $0 : nil } ?? 30
        form.reason = (raw["motivo"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [(field: String, message: String)] = []
        let curp = CURP.normalized(form.curp)
        if curp == nil { errors.append(("curp", t.curpInvalid)) }
        if form.reason.isEmpty || form.reason.count > 300 { errors.append(("motivo", t.reasonRequired)) }
        guard let curp, errors.isEmpty else {
            return html(.unprocessableContent, requestAccessHTML(s, request, form: form, errors: errors, sent: false))
        }
        guard let me = s.principal.fhirUser else { throw FHIRError(status: 403, code: "forbidden", english: "for clinicians", spanish: "para personal clínico") }
        let now = services.clock.now()
        let chosen = labels.filter { form.categories.contains($0) }
        let purpose = form.purpose, days = form.days, reason = form.reason
        try await services.door.requestAccess(curp: curp, task: { patient in
            var inputs: [JSON] = [.object([("type", .object([("text", .string("purpose"))])), ("valueCode", .string(purpose))])]
            for c in chosen {
                inputs.append(.object([("type", .object([("text", .string("category"))])), ("valueCode", .string(c))]))
            }
            inputs.append(.object([("type", .object([("text", .string("duration"))])),
                                   ("valueDuration", .object([("value", .number(String(days))), ("unit", .string("d")),
                                                              ("system", .string("http://unitsofmeasure.org")), ("code", .string("d"))]))]))
            return .object([
                ("resourceType", .string("Task")),
                ("status", .string("requested")),
                ("intent", .string("proposal")),
                ("code", .object([("coding", .array([.object([("system", .string(PrivacyCodes.taskCodes)),
                                                              ("code", .string(PrivacyCodes.consentRequest))])]))])),
                ("for", .object([("reference", .string("Patient/\(patient)"))])),
                ("authoredOn", .string(now.description)),
                ("requester", .object([("reference", .string(me))])),
                ("reasonCode", .object([("text", .string(reason))])),
                ("input", .array(inputs)),
            ])
        }, principal: s.principal, audit: context.audit)
        return Portal.redirect("/solicitar-acceso?enviada=1")
    }

    // MARK: - the clinician's refusal page

    /// The refusal a clinician sees for `/pacientes/{id}`: the same words as every refusal (it
    /// never tells whether the patient exists), then what they can do — ask the patient for
    /// access by CURP, or, in an emergency, break the glass.
    func clinicianRefusal(_ s: Session, _ request: Request, patientID: String) -> Response {
        let t = s.strings
        var body = """
            <section class="card refusal" role="alert">
            <p>\(esc(t.refusalLead))</p>
            <p>\(esc(t.refusalWhy))</p>
            </section>
            """
        body += "<section class=\"card\" aria-labelledby=\"opciones\"><h2 id=\"opciones\">\(esc(t.refusalOptions))</h2>"
        body += "<p>\(esc(t.refusalAsk)) <a href=\"/solicitar-acceso\">\(esc(t.requestAccessLink))</a></p></section>"
        body += breakTheGlassForm(s, patientID: patientID, reason: "", error: nil)
        body += "<p><a href=\"/\">\(esc(t.backHome))</a></p>"
        return html(.forbidden, layout(s, request, title: t.refusalTitle, body: body))
    }

    func breakTheGlassForm(_ s: Session, patientID: String, reason: String, error: String?) -> String {
        let t = s.strings
        var html = "<section class=\"card emergency\" aria-labelledby=\"emergencia\"><h2 id=\"emergencia\">\(esc(t.breakTheGlass))</h2>"
        html += "<p>\(esc(t.btgLead))</p><ul class=\"consequences\">"
        for c in t.btgConsequences { html += "<li>\(esc(c))</li>" }
        html += "</ul><form method=\"post\" action=\"/pacientes/\(esc(patientID))/emergencia\" class=\"stack\">"
        html += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        html += "<label for=\"motivo-emergencia\">\(esc(t.btgReason))</label><p class=\"hint\" id=\"motivo-emergencia-hint\">\(esc(t.btgReasonHint))</p>"
        if let error { html += "<p class=\"error\" id=\"motivo-emergencia-error\" role=\"alert\">\(esc(error))</p>" }
        html += "<textarea id=\"motivo-emergencia\" name=\"motivo\" rows=\"3\" minlength=\"10\" maxlength=\"500\" required"
        html += " aria-describedby=\"motivo-emergencia-hint\(error == nil ? "" : " motivo-emergencia-error")\"\(error == nil ? "" : " aria-invalid=\"true\"")>\(esc(reason))</textarea>"
        html += "<button type=\"submit\" class=\"danger\">\(esc(t.btgContinue))</button></form></section>"
        return html
    }

    // MARK: - break the glass

    /// `POST /pacientes/{id}/emergencia`: first the reason (at least 10 characters; shorter
    /// changes nothing and says why), then a confirmation page; with `confirmar=1`,
    /// `PrivacyOperations.breakTheGlass` — the function behind `Patient/{id}/$break-the-glass`,
    /// with the same audit context handling — and a redirect to the patient's page, which opens.
    func breakTheGlass(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID id: String) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.breakTheGlass, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard Repository.isValidID(id) else { throw FHIRError.notFound("Patient", id) }
        let reason = String((form["motivo"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))
        guard reason.count >= 10 else {
            let body = breakTheGlassForm(s, patientID: id, reason: reason, error: t.btgReasonTooShort) + "<p><a href=\"/pacientes\">\(esc(t.cancel))</a></p>"
            return html(.unprocessableContent, layout(s, request, title: t.breakTheGlass, body: body))
        }
        guard form["confirmar"] == "1" else {
            var body = "<section class=\"card emergency\" aria-labelledby=\"confirmar\"><h2 id=\"confirmar\">\(esc(t.breakTheGlass))</h2>"
            body += "<p>\(esc(t.btgConfirmLead))</p><blockquote class=\"reason\">\(esc(reason))</blockquote><ul class=\"consequences\">"
            for c in t.btgConsequences { body += "<li>\(esc(c))</li>" }
            body += "</ul><form method=\"post\" action=\"/pacientes/\(esc(id))/emergencia\">"
            body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"motivo\" value=\"\(esc(reason))\">"
            body += "<input type=\"hidden\" name=\"confirmar\" value=\"1\">"
            body += "<button type=\"submit\" class=\"danger\">\(esc(t.btgConfirm))</button></form>"
            body += "<p><a href=\"/pacientes\">\(esc(t.cancel))</a></p></section>"
            return html(.ok, layout(s, request, title: t.btgConfirmTitle, body: body))
        }
        // As `FHIRAPI.privacyOperation` does for `Patient/{id}/$break-the-glass`.
        context.audit?.interaction = "$break-the-glass"
        do {
            _ = try await services.door.breakTheGlass(patient: id, reason: reason, principal: s.principal, audit: context.audit)
        } catch let e as FHIRError where e.status == 400 {
            let body = breakTheGlassForm(s, patientID: id, reason: reason, error: t.btgReasonTooShort)
            return html(.unprocessableContent, layout(s, request, title: t.breakTheGlass, body: body))
        }
        return Portal.redirect("/pacientes/\(id)?emergencia=1")
    }
}
