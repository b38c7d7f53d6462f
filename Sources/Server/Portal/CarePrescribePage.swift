import Care
import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// The order-sign service of the CDS catalogue and a CDS Hooks service to evaluate it
    /// in-process (the same code `POST /cds-services/enlace-order-sign` runs).
    func orderSignService() -> (CDSHooksService, CDSCatalogue.Service)? {
        guard let s = CDSCatalogue.service(CDSCatalogue.orderSign) else { return nil }
        return (CDSHooksService(accessRequestURL: services.configuration.oauthBase + "/solicitar-acceso"), s)
    }

    /// The `order-sign` cards for the prescription `request`, computed through the clinician's
    /// guard `g` (so they say only what the clinician may see), remembered by `service`.
    func orderSignCards(_ request: JSON, patientID: String, me: String, g: GuardedRepository, service: CDSHooksService, catalogue: CDSCatalogue.Service,
                        _ t: PortalStrings) async throws -> [Card] {
        let call = try CDSRequest(json: PrescriptionForm.orderSign(PrescriptionForm.draft(request), patient: patientID, user: me), service: catalogue)
        return try await service.evaluate(catalogue, call, repository: g, now: services.clock.now(), language: Care.Language(rawValue: t.language.rawValue) ?? .es)
    }

    /// The prescription as `$prescribe` would store it, or its refusal with the issues moved to
    /// the form's fields (`Prescribing.prepare`: the rules of controlled medicines).
    static func prepared(_ request: JSON, now: Timestamp) throws -> JSON {
        do {
            return try Prescribing().prepare(request, now: now)
        } catch let e as FHIRError where e.status == 422 {
            let fields = ["MedicationRequest.dispenseRequest.numberOfRepeatsAllowed": "resurtidos", "MedicationRequest.dispenseRequest.validityPeriod.end": "dias"]
            throw FHIRError(status: 422, issues: e.issues.map { i in
                var i = i
                i.expression = [fields[i.expression.first ?? ""] ?? "medicamento"]
                return i
            })
        }
    }

    /// *Recetar* (`/pacientes/{id}/recetar`, practitioner): the prescription form; with `cards`,
    /// the `order-sign` cards inline below it, each warning with the reasons to sign over it;
    /// with `issues`, the refused form again with each error beside its field.
    func prescribePage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String, form: PrescriptionForm = PrescriptionForm(),
                       issues: [Issue] = [], cards: [Card]? = nil, decisions: [String: String] = [:], undecided: Set<String> = [],
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        _ = try requireClinician(s)
        guard Repository.isValidID(patientID) else { throw FHIRError.notFound("Patient", patientID) }
        let g = try await guarded(s, context)
        let patient = try await g.read("Patient", patientID).json()
        var body = "<p>\(esc(t.prescribeLead))</p>"
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        if let issued = q["emitida"], Repository.isValidID(issued), let rx = try? await g.read("MedicationRequest", issued).json(),
           rx["subject"]?["reference"]?.stringValue == "Patient/\(patientID)" {
            body += "<section class=\"notice\" role=\"status\" id=\"receta-emitida\"><p>\(esc(t.prescriptionIssued))</p>"
            let code = PrescriptionCode.of(rx) ?? ""
            body += "<p class=\"rx-code\">\(esc(code))</p>"
            if let qr = QRCode(code) { body += "<p class=\"prescription-qr\">" + qr.svg(label: t.qrLabel(code)) + "</p>" }
            body += "<p>\(esc(rx["medicationCodeableConcept"]?["text"]?.stringValue ?? "")) — \(esc(rx["dosageInstruction"]?.arrayValue?.first?["text"]?.stringValue ?? ""))</p>"
            body += "<p>\(esc(t.validUntil)): \(esc(t.date(rx["dispenseRequest"]?["validityPeriod"]?["end"]?.stringValue ?? "")))</p></section>"
        }
        if q["desistida"] == "1" { body += "<p class=\"notice\" role=\"status\" id=\"receta-desistida\">\(esc(t.prescriptionDeclined))</p>" }
        if !undecided.isEmpty {
            body += "<section class=\"error-summary\" role=\"alert\" aria-labelledby=\"errores\"><h2 id=\"errores\">\(esc(t.alertsUndecided))</h2><ul>"
            for c in (cards ?? []) where undecided.contains(c.adviceKey) {
                body += "<li><a href=\"#alerta-\(esc(c.adviceKey))\">\(esc(c.summary))</a></li>"
            }
            body += "</ul></section>"
        }
        body += errorSummary(issues, t)
        let errors = fieldErrors(issues, t)
        body += "<section class=\"card\"><h2>\(esc(Portal.name(patient)))</h2>"
        body += "<form method=\"post\" action=\"/pacientes/\(esc(patientID))/recetar\" class=\"stack\" id=\"recetar\" novalidate>"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        body += field("medicamento", label: t.medicineLabel, errors: errors) { a in
            var html = "<select id=\"medicamento\" name=\"medicamento\" required\(a)><option value=\"\">\(esc(t.chooseOne))</option>"
            for m in PrescriptionForm.medicines() {
                html += "<option value=\"\(esc(m.id))\"\(form.medicine == m.id ? " selected" : "")>\(esc(m.name))</option>"
            }
            return html + "</select>"
        }
        body += field("presentacion", label: t.presentationLabel, hint: t.presentationHint, errors: errors) { a in
            "<input type=\"text\" id=\"presentacion\" name=\"presentacion\" maxlength=\"100\" autocomplete=\"off\" value=\"\(esc(form.presentation))\"\(a)>"
        }
        body += field("dosis", label: t.doseLabel, errors: errors) { a in
            "<input type=\"text\" inputmode=\"decimal\" id=\"dosis\" name=\"dosis\" maxlength=\"12\" autocomplete=\"off\" required value=\"\(esc(form.dose))\"\(a)>"
        }
        body += field("frecuencia", label: t.frequencyLabel, errors: errors) { a in
            var html = "<select id=\"frecuencia\" name=\"frecuencia\" required\(a)><option value=\"\">\(esc(t.chooseOne))</option>"
            for f in PrescriptionForm.frequencies {
                html += "<option value=\"\(f.code)\"\(form.frequency == f.code ? " selected" : "")>\(esc(t.t(f.spanish, f.english)))</option>"
            }
            return html + "</select>"
        }
        body += field("cantidad", label: t.quantityLabel, errors: errors) { a in
            "<input type=\"text\" inputmode=\"numeric\" id=\"cantidad\" name=\"cantidad\" maxlength=\"6\" autocomplete=\"off\" required value=\"\(esc(form.quantity))\"\(a)>"
        }
        body += field("unidad", label: t.unitLabel, errors: errors) { a in
            var html = "<select id=\"unidad\" name=\"unidad\"\(a)>"
            for u in PrescriptionForm.units { html += "<option value=\"\(esc(u.code))\"\(form.unit == u.code ? " selected" : "")>\(esc(t.t(u.spanish, u.english)))</option>" }
            return html + "</select>"
        }
        body += field("resurtidos", label: t.refillsLabel, hint: t.refillsHint, errors: errors) { a in
            "<input type=\"text\" inputmode=\"numeric\" id=\"resurtidos\" name=\"resurtidos\" maxlength=\"2\" autocomplete=\"off\" value=\"\(esc(form.refills))\"\(a)>"
        }
        body += field("dias", label: t.durationLabel, errors: errors) { a in
            "<input type=\"text\" inputmode=\"numeric\" id=\"dias\" name=\"dias\" maxlength=\"3\" autocomplete=\"off\" value=\"\(esc(form.days))\"\(a)>"
        }
        body += field("indicaciones", label: t.instructionsLabel, errors: errors) { a in
            "<textarea id=\"indicaciones\" name=\"indicaciones\" rows=\"2\" maxlength=\"500\"\(a)>\(esc(form.instructions))</textarea>"
        }
        if let cards { body += cardsSection(cards, decisions: decisions, undecided: undecided, t) }
        body += "<div class=\"actions\"><button type=\"submit\" name=\"paso\" value=\"revisar\" class=\"secondary\">\(esc(t.checkAlerts))</button>"
        body += "<button type=\"submit\" name=\"paso\" value=\"firmar\" id=\"firmar\">\(esc(t.signPrescription))</button>"
        if let cards, cards.contains(where: \.needsDecision) {
            body += "<button type=\"submit\" name=\"paso\" value=\"desistir\" class=\"danger\" id=\"desistir\">\(esc(t.followAlert))</button>"
        }
        body += "</div></form></section>"
        body += "<p><a href=\"/pacientes/\(esc(patientID))\">\(esc(t.cancel))</a></p>"
        return html(status, layout(s, request, title: t.prescribe, body: body))
    }

    /// The cards inline: what each says, its source, and for a warning the reasons to sign over it.
    func cardsSection(_ cards: [Card], decisions: [String: String], undecided: Set<String>, _ t: PortalStrings) -> String {
        var html = "<section id=\"alertas\" aria-labelledby=\"alertas-titulo\"><h2 id=\"alertas-titulo\">\(esc(t.alertsHeading))</h2>"
        if cards.isEmpty { return html + "<p class=\"notice\" id=\"sin-alertas\">\(esc(t.noAlerts))</p></section>" }
        for c in cards {
            let key = c.adviceKey
            html += "<article class=\"card cds-card cds-\(c.indicator.rawValue)\" id=\"alerta-\(esc(key))\">"
            html += "<h3><span class=\"badge\">\(esc(t.indicatorName(c.indicator.rawValue)))</span> \(esc(c.summary))</h3>"
            for para in (c.detail ?? "").components(separatedBy: "\n\n") where !para.isEmpty {
                html += "<p>\(esc(para.replacingOccurrences(of: "**", with: "")))</p>"
            }
            html += "<p class=\"hint\">\(esc(t.sourceOf(c.sourceLabel)))</p>"
            for l in c.links { html += "<p><a href=\"\(esc(l.url))\">\(esc(l.label))</a></p>" }
            if c.needsDecision {
                html += "<fieldset id=\"decision-\(esc(key))\"><legend>\(esc(t.overrideLegend))</legend>"
                if undecided.contains(key) { html += "<p class=\"error\">\(esc(t.alertUndecided))</p>" }
                for r in c.overrideReasons {
                    html += "<label class=\"check\"><input type=\"radio\" name=\"decision-\(esc(key))\" value=\"\(esc(r.code))\"\(decisions[key] == r.code ? " checked" : "")> \(esc(r.display))</label>"
                }
                html += "</fieldset>"
                html += "<label for=\"comentario-\(esc(key))\">\(esc(t.overrideComment))</label>"
                html += "<textarea id=\"comentario-\(esc(key))\" name=\"comentario-\(esc(key))\" rows=\"2\" maxlength=\"500\"></textarea>"
            }
            html += "</article>"
        }
        return html + "</section>"
    }

    /// `POST /pacientes/{id}/recetar`: `paso=revisar` checks the form and shows the `order-sign`
    /// cards; `paso=firmar` checks again, computes the cards again (the record may have
    /// changed) and, when every warning has the clinician's reason, signs: ONE transaction with
    /// the MedicationRequest as `$prescribe` prepares it (code, validity, controlled rules) and a
    /// feedback Provenance per card overridden (CDS Hooks feedback, `overridden` with the
    /// reason) targeting the new prescription; `paso=desistir` records the warnings as
    /// `accepted` (the clinician followed the advice) and stores no prescription. A refused form
    /// or an undecided warning stores nothing.
    func prescribe(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String) async throws -> Response {
        let t = s.strings
        let me = try requireClinician(s)
        let (raw, refusal) = try await checkedForm(s, request, title: t.prescribe)
        if let refusal { return refusal }
        guard let raw, Repository.isValidID(patientID) else { throw FHIRError.notFound("Patient", patientID) }
        let form = PrescriptionForm(raw)
        let step = raw["paso"] ?? "revisar"
        let g = try await guarded(s, context)
        _ = try await g.read("Patient", patientID)
        let now = services.clock.now()
        let prepared: JSON
        do {
            prepared = try Portal.prepared(try form.medicationRequest(patient: patientID, prescriber: me), now: now)
        } catch let e as FHIRError where e.status == 422 {
            return try await prescribePage(s, request, context, patientID: patientID, form: form, issues: e.issues, status: .unprocessableContent)
        }
        guard let (service, catalogue) = orderSignService() else { throw FHIRError.notFound("CDS service", CDSCatalogue.orderSign) }
        let cards = try await orderSignCards(prepared, patientID: patientID, me: me, g: g, service: service, catalogue: catalogue, t)
        var decisions: [String: String] = [:]
        for c in cards where c.needsDecision {
            if let d = raw["decision-\(c.adviceKey)"], c.overrideReasons.contains(where: { $0.code == d }) { decisions[c.adviceKey] = d }
        }
        if step == "revisar" {
            return try await prescribePage(s, request, context, patientID: patientID, form: form, cards: cards, decisions: decisions)
        }
        let stamp = now.description
        var feedback: [JSON] = []
        func item(_ c: Card, outcome: String) -> JSON {
            var f: [(String, JSON)] = [("card", .string(c.uuid)), ("outcome", .string(outcome)), ("outcomeTimestamp", .string(stamp))]
            if outcome == "overridden", let code = decisions[c.adviceKey] {
                var reason: [(String, JSON)] = [("reason", .object([("system", .string(Card.overrideSystem)), ("code", .string(code)),
                                                                     ("display", .string(c.overrideReasons.first { $0.code == code }?.display ?? code))]))]
                let comment = (raw["comentario-\(c.adviceKey)"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                if !comment.isEmpty { reason.append(("userComment", .string(String(comment.prefix(500))))) }
                f.append(("overrideReason", .object(reason)))
            }
            return .object(f)
        }
        let warnings = cards.filter(\.needsDecision)
        if step == "desistir" {
            guard !warnings.isEmpty else { return try await prescribePage(s, request, context, patientID: patientID, form: form, cards: cards) }
            let parsed = try CDSFeedback(json: .object([("feedback", .array(warnings.map { item($0, outcome: "accepted") }))]))
            _ = try await parsed.record(service: catalogue.id, issued: service.issued, repository: g, now: now)
            return Portal.redirect("/pacientes/\(patientID)/recetar?desistida=1")
        }
        let undecided = Set(warnings.filter { decisions[$0.adviceKey] == nil }.map(\.adviceKey))
        if !undecided.isEmpty {
            return try await prescribePage(s, request, context, patientID: patientID, form: form, cards: cards, decisions: decisions, undecided: undecided,
                                           status: .unprocessableContent)
        }
        // the prescription and the record of each warning signed over, in one transaction
        let rxURL = "urn:uuid:" + UUID().uuidString.lowercased()
        var entries: [JSON] = [.object([("fullUrl", .string(rxURL)), ("resource", prepared),
                                        ("request", .object([("method", .string("POST")), ("url", .string("MedicationRequest"))]))])]
        if !warnings.isEmpty {
            let parsed = try CDSFeedback(json: .object([("feedback", .array(warnings.map { item($0, outcome: "overridden") }))]))
            for i in parsed.items {
                guard var issued = await service.issued.card(i.card, service: catalogue.id, subject: s.principal.subject) else { continue }
                issued.orders = [rxURL]
                entries.append(.object([("fullUrl", .string("urn:uuid:" + UUID().uuidString.lowercased())),
                                        ("resource", CDSFeedback.provenance(i, card: issued, principal: s.principal, now: now)),
                                        ("request", .object([("method", .string("POST")), ("url", .string("Provenance"))]))]))
            }
        }
        let bundle = JSON.object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
        let response = try await g.process(bundle: bundle, options: Repository.BundleOptions(base: services.configuration.fhirBase))
        let location = response["entry"]?.arrayValue?.first?["response"]?["location"]?.stringValue ?? ""
        let id = location.split(separator: "/").drop { $0 != "MedicationRequest" }.dropFirst().first.map(String.init) ?? ""
        return Portal.redirect("/pacientes/\(patientID)/recetar?emitida=\(id)")
    }
}
