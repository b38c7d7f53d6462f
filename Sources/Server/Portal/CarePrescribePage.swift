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
        let me = try requireClinician(s)
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
            body += "<p>\(esc(t.validUntil)): \(esc(t.date(rx["dispenseRequest"]?["validityPeriod"]?["end"]?.stringValue ?? "")))</p>"
            if let stored = try? await g.read("MedicationRequest", issued) {
                body += "<p id=\"firma\">\(signatureText(await PrescriptionSignature.verdict(stored, repository: g), t))</p>"
            }
            body += "</section>"
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
        body += "<form method=\"post\" action=\"/pacientes/\(esc(patientID))/recetar\" class=\"stack\" id=\"recetar\" novalidate"
            + " data-prescriber=\"\(esc(me))\" data-signing=\"\(esc(t.signingNow))\">"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        // filled by /static/recetar.js: the detached JWS over the prepared prescription, and the sealed preparation
        body += "<input type=\"hidden\" name=\"firma\" value=\"\"><input type=\"hidden\" name=\"preparacion\" value=\"\">"
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
        body += "</div><p class=\"hint\" id=\"firma-estado\" role=\"status\">\(esc(t.signatureHint))</p></form></section>"
        body += "<p><a href=\"/pacientes/\(esc(patientID))\">\(esc(t.cancel))</a> · <a href=\"/firma/llaves\">\(esc(t.t("Mis llaves de firma", "My signing keys")))</a></p>"
        body += "<script src=\"/static/recetar.js\" defer></script>"
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
        var prepared: JSON
        do {
            prepared = try Portal.prepared(try form.medicationRequest(patient: patientID, prescriber: me), now: now)
        } catch let e as FHIRError where e.status == 422 {
            return try await prescribePage(s, request, context, patientID: patientID, form: form, issues: e.issues, status: .unprocessableContent)
        }
        let seal = PrescriptionSignature.seal(services.key)
        if step == "preparar" {
            // for /static/recetar.js: the prescription as it will be stored, to sign
            let p = PrescriptionSignature.preparation(prepared, who: me, seal: seal, now: now)
            return FHIRResponse.json(.ok, .object([("payload", .string(Base64URL.encode(p.payload))), ("preparacion", .string(p.sealed)),
                                                   ("canonicalization", .string(PrescriptionSignature.method.rawValue))]))
        }
        let jws = (raw["firma"] ?? "").trimmingCharacters(in: .whitespaces)
        if step == "firmar", !jws.isEmpty {
            do {
                let opened = try PrescriptionSignature.open(raw["preparacion"] ?? "", who: me, seal: seal, now: now)
                guard opened["subject"]?["reference"]?.stringValue == "Patient/\(patientID)" else {
                    throw FHIRError(status: 422, code: "invalid", english: "the preparation is for another patient", spanish: "la preparación es de otro paciente")
                }
                prepared = opened
            } catch let e as FHIRError where e.status == 422 {
                return try await prescribePage(s, request, context, patientID: patientID, form: form, issues: e.issues.map { var i = $0; i.expression = []; return i },
                                               status: .unprocessableContent)
            }
        } else if step == "firmar", try await Prescribing().requiresSignature(g, always: services.configuration.requirePrescriberSignature) {
            return try await prescribePage(s, request, context, patientID: patientID, form: form,
                                           issues: [Issue(code: "business-rule", english: t.signatureRequiredEnglish, spanish: t.signatureRequiredSpanish)],
                                           status: .unprocessableContent)
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
        if !jws.isEmpty {
            // the prescriber's signature: checked against their registered key, stored with the prescription
            do {
                entries = try await Prescribing().signedEntries(prepared, jws: jws, repository: g, fullURL: rxURL, now: now)
            } catch let e as FHIRError where e.status == 422 || e.status == 409 {
                return try await prescribePage(s, request, context, patientID: patientID, form: form, issues: e.issues.map { var i = $0; i.expression = []; return i },
                                               status: .unprocessableContent)
            }
        }
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

    /// What re-verifying a prescription's signature found, in the reader's language (counter,
    /// *Mis recetas*, *Recetar*): "Firma verificada" with who and when, "Firmada; cambió después
    /// (cancelada)" when only the status changed since, "Sin firma digital", or
    /// "La firma NO se verifica" with the reason.
    func signatureText(_ verdict: PrescriptionSignature.Verdict, _ t: PortalStrings) -> String {
        switch verdict {
        case .verified(let who, let when):
            return "<span class=\"sig-ok\">\(esc(t.signatureVerified))</span> · \(esc(who)) · \(esc(t.dateTime(when)))"
        case .changedLater(let who, let when, _, let english, let spanish):
            return "<span class=\"sig-ok\">\(esc(t.language == .es ? spanish : english))</span> · \(esc(who)) · \(esc(t.dateTime(when)))"
        case .unsigned:
            return "<span class=\"sig-none\">\(esc(t.signatureMissing))</span>"
        case .failed(let english, let spanish):
            return "<span class=\"sig-bad\">\(esc(t.signatureFailed))</span>: \(esc(t.language == .es ? spanish : english))"
        }
    }

    /// `POST /firma/llave` (practitioner, form `csrf` and `jwk`): registers this browser's public
    /// key for the signed-in practitioner (`Door.registerSigningKey`); JSON `{"kid": …}`.
    func registerBrowserKey(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        _ = try requireClinician(s)
        let (raw, refusal) = try await checkedForm(s, request, title: s.strings.prescribe)
        if let refusal { return refusal }
        guard let text = raw?["jwk"], let jwk = try? JSONParser.parse(text, maxDepth: 5) else {
            throw FHIRError(status: 400, code: "required", english: "the field 'jwk' (the public key as JSON) is required",
                            spanish: "el campo 'jwk' (la llave pública en JSON) es obligatorio")
        }
        let (kid, _) = try await services.door.registerSigningKey(s.principal, jwk: jwk, audit: context.audit)
        return FHIRResponse.json(.ok, .object([("kid", .string(kid))]))
    }
}
