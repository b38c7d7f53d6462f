import Care
import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Interop
import NIOCore
import Storage
import Trust

extension Portal {
    /// The consultation of Care wired to the terminology service's CIE-10 catalogue.
    static let consultation = Consultation { code in TerminologyService.shipped.systems[Consultation.cie10]?.concepts[code]?.display }

    static let consultationScript = """
        "use strict";
        (function () {
          var inputs = document.querySelectorAll("input[data-cie10]");
          Array.prototype.forEach.call(inputs, function (input) {
            var list = document.getElementById(input.id + "-sugerencias");
            var chosen = document.getElementById(input.id + "-elegido");
            var timer = null;
            var asked = "";
            function clear() { while (list.firstChild) { list.removeChild(list.firstChild); } }
            function show(concepts) {
              clear();
              concepts.forEach(function (c) {
                if (c.code.indexOf("-") >= 0) { return; }
                var li = document.createElement("li");
                var b = document.createElement("button");
                b.type = "button";
                b.className = "suggestion";
                b.setAttribute("data-code", c.code);
                b.textContent = c.code + " — " + c.display;
                b.addEventListener("click", function () {
                  input.value = c.code;
                  if (chosen) { chosen.textContent = c.display; }
                  clear();
                  input.focus();
                });
                li.appendChild(b);
                list.appendChild(li);
              });
            }
            function ask() {
              var text = input.value.trim();
              if (text.length < 2) { clear(); return; }
              if (text === asked) { return; }
              asked = text;
              fetch("/consulta/cie10?filtro=" + encodeURIComponent(text), { credentials: "same-origin", headers: { "Accept": "application/fhir+json" } })
                .then(function (r) { return r.ok ? r.json() : null; })
                .then(function (vs) {
                  if (!vs || input.value.trim() !== text) { return; }
                  show((vs.expansion && vs.expansion.contains) || []);
                })
                .catch(function () { clear(); });
            }
            input.addEventListener("input", function () {
              if (chosen) { chosen.textContent = ""; }
              window.clearTimeout(timer);
              timer = window.setTimeout(ask, 150);
            });
          });
        })();
        """

    func requireClinician(_ s: Session) throws -> String {
        guard s.principal.effectiveRole == .practitioner, let me = s.principal.fhirUser, me.hasPrefix("Practitioner/") else {
            throw FHIRError(status: 403, code: "forbidden", english: "practitioners only", spanish: "solo personal clínico")
        }
        return me
    }

    /// `GET /consulta/cie10?filtro=diab`: the CIE-10 catalogue's `ValueSet/$expand` (the
    /// terminology service, docs/interop.md#terminology) for the signed-in clinician's
    /// suggestion list — the same ValueSet the FHIR API answers, at most 15 codes.
    func cie10Suggestions(_ s: Session, _ request: Request) throws -> Response {
        _ = try requireClinician(s)
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let filter = String((q["filtro"] ?? "").prefix(100))
        let body = try TerminologyService.shipped.expand(url: Consultation.cie10 + "?fhir_vs", filter: filter.isEmpty ? nil : filter, offset: 0, count: 15,
                                                         now: services.clock.now())
        return FHIRResponse.json(.ok, body)
    }

    func fieldErrors(_ issues: [Issue], _ t: PortalStrings) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for i in issues { out[i.expression.first ?? "", default: []].append(t.language == .es ? i.spanish : i.english) }
        return out
    }

    func errorSummary(_ issues: [Issue], _ t: PortalStrings) -> String {
        guard !issues.isEmpty else { return "" }
        var html = "<section class=\"error-summary\" role=\"alert\" aria-labelledby=\"errores\"><h2 id=\"errores\">\(esc(t.visitRefused))</h2><ul>"
        for i in issues {
            let field = i.expression.first ?? ""
            html += "<li><a href=\"#\(esc(field))\">\(esc(t.language == .es ? i.spanish : i.english))</a></li>"
        }
        return html + "</ul></section>"
    }

    /// One labelled control with its hint and errors (`aria-describedby`, `aria-invalid`).
    func field(_ id: String, label: String, hint: String? = nil, errors: [String: [String]], control: (String) -> String) -> String {
        var html = "<label for=\"\(esc(id))\">\(esc(label))</label>"
        var described: [String] = []
        if let hint { html += "<p class=\"hint\" id=\"\(esc(id))-hint\">\(esc(hint))</p>"; described.append("\(id)-hint") }
        for (n, e) in (errors[id] ?? []).enumerated() {
            html += "<p class=\"error\" id=\"\(esc(id))-error\(n)\">\(esc(e))</p>"
            described.append("\(id)-error\(n)")
        }
        var attributes = described.isEmpty ? "" : " aria-describedby=\"\(esc(described.joined(separator: " ")))\""
        if errors[id] != nil { attributes += " aria-invalid=\"true\"" }
        return html + control(attributes)
    }

    func noteFields(_ note: ConsultationNote, errors: [String: [String]], _ t: PortalStrings) -> String {
        var html = "<fieldset id=\"nota-seccion\"><legend>\(esc(t.noteHeading))</legend><p class=\"hint\">\(esc(t.noteHint))</p>"
        for (n, e) in (errors["nota"] ?? []).enumerated() { html += "<p class=\"error\" id=\"nota-error\(n)\">\(esc(e))</p>" }
        for s in ConsultationNote.sections {
            html += field(s.key, label: t.sectionLabel(s.key), errors: errors) { a in
                "<textarea id=\"\(s.key)\" name=\"\(s.key)\" rows=\"\(s.key == "nota" ? 5 : 3)\" maxlength=\"20000\"\(a)>\(esc(note.text(s.key)))</textarea>"
            }
        }
        return html + "</fieldset>"
    }

    /// *Registrar consulta* (`/pacientes/{id}/consulta`, practitioner): the form; with `form`
    /// and `issues`, the refused form again with each error beside its field.
    func consultationPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String,
                          form: ConsultationForm? = nil, issues: [Issue] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        _ = try requireClinician(s)
        guard Repository.isValidID(patientID) else { throw FHIRError.notFound("Patient", patientID) }
        let g = try await guarded(s, context)
        let patient = try await g.read("Patient", patientID).json()
        let form = form ?? ConsultationForm(patient: patientID)
        let errors = fieldErrors(issues, t)
        let limits = Portal.consultation.limits
        var body = "<p>\(esc(t.recordVisitLead))</p>" + errorSummary(issues, t)
        body += "<section class=\"card\"><h2>\(esc(Portal.name(patient)))</h2>"
        body += "<form method=\"post\" action=\"/pacientes/\(esc(patientID))/consulta\" class=\"stack\" id=\"consulta\" novalidate\(signingAttributes(s))>"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">" + signingFields
        let started = (OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:])["inicio"] ?? services.clock.now().description
        body += "<input type=\"hidden\" name=\"inicio\" value=\"\(esc(started))\">"
        body += field("motivo", label: t.visitReason, errors: errors) { a in
            "<input type=\"text\" id=\"motivo\" name=\"motivo\" maxlength=\"500\" required value=\"\(esc(form.reason))\"\(a)>"
        }
        body += "<fieldset id=\"modalidad\"><legend>\(esc(t.visitMode))</legend>"
        for (value, label) in [("AMB", t.inPerson), ("VR", t.telemedicineVisit)] {
            body += "<label class=\"check\"><input type=\"radio\" name=\"modalidad\" value=\"\(value)\"\(form.mode == value ? " checked" : "")> \(esc(label))</label>"
        }
        for e in errors["modalidad"] ?? [] { body += "<p class=\"error\">\(esc(e))</p>" }
        body += "</fieldset>"
        body += noteFields(form.note, errors: errors, t)
        body += "<fieldset><legend>\(esc(t.vitalsHeading))</legend><p class=\"hint\">\(esc(t.vitalsHint))</p>"
        for sign in limits.signs {
            body += field(sign.key, label: "\(t.vitalLabel(sign.key)) (\(sign.unitDisplay))", hint: "\(sign.low)–\(sign.high) \(sign.unitDisplay)", errors: errors) { a in
                "<input type=\"text\" inputmode=\"decimal\" id=\"\(sign.key)\" name=\"\(sign.key)\" maxlength=\"12\" autocomplete=\"off\" value=\"\(esc(form.vitals[sign.key] ?? ""))\"\(a)>"
            }
        }
        body += "</fieldset>"
        body += "<fieldset><legend>\(esc(t.diagnosesHeading))</legend><p class=\"hint\">\(esc(t.diagnosesHint))</p>"
        for n in 1...4 {
            let id = "diagnostico\(n)"
            let raw = n <= form.diagnoses.count ? form.diagnoses[n - 1] : ""
            let known = Portal.consultation.catalogue(Consultation.code(raw))
            body += field(id, label: t.diagnosisLabel(n), errors: errors) { a in
                "<input type=\"text\" id=\"\(id)\" name=\"\(id)\" data-cie10 autocomplete=\"off\" maxlength=\"200\" value=\"\(esc(raw))\"\(a)>"
                    + "<p class=\"hint\" id=\"\(id)-elegido\" aria-live=\"polite\">\(esc(known ?? ""))</p>"
                    + "<ul class=\"suggestions\" id=\"\(id)-sugerencias\" aria-label=\"\(esc(t.diagnosisLabel(n)))\"></ul>"
            }
        }
        body += "</fieldset>"
        body += "<button type=\"submit\" name=\"paso\" value=\"firmar\" id=\"firmar\">\(esc(t.saveVisit))</button>"
        body += "<p class=\"hint\" id=\"firma-estado\" role=\"status\">\(esc(t.noteSignatureHint))</p></form></section>"
        body += "<p><a href=\"/pacientes/\(esc(patientID))\">\(esc(t.cancel))</a></p>"
        body += "<script src=\"/static/consulta.js\" defer></script><script src=\"/static/firma.js\" defer></script>"
        return html(status, layout(s, request, title: t.recordVisit, body: body))
    }

    /// What `/static/firma.js` needs on a form the author signs (docs/care.md#the-consultation):
    /// who signs and what to say while signing; the hidden fields it fills.
    func signingAttributes(_ s: Session) -> String {
        " data-prescriber=\"\(esc(s.principal.fhirUser ?? ""))\" data-signing=\"\(esc(s.strings.signingNow))\""
    }

    var signingFields: String { "<input type=\"hidden\" name=\"firma\" value=\"\"><input type=\"hidden\" name=\"preparacion\" value=\"\">" }

    /// The answer to `paso=preparar` for `/static/firma.js`: the bytes to sign (base64url) and the sealed preparation.
    static func preparationAnswer(_ p: AuthorSignature.Preparation) -> Response {
        FHIRResponse.json(.ok, .object([("payload", .string(Base64URL.encode(p.payload))), ("preparacion", .string(p.sealed)),
                                        ("canonicalization", .string(AuthorSignature.method.rawValue))]))
    }

    /// The issues of a refused signature, shown as the page's errors (no field of their own).
    static func signatureIssues(_ e: FHIRError) -> [Issue] { e.issues.map { var i = $0; i.expression = []; return i } }

    static func note(_ form: [String: String]) -> ConsultationNote {
        var note = ConsultationNote()
        for s in ConsultationNote.sections { note.set(s.key, form[s.key] ?? "") }
        return note
    }

    /// `POST /pacientes/{id}/consulta`: checks the form (`Consultation.check`) and writes the
    /// visit as ONE transaction through the clinician's guarded repository — so the guard
    /// decides whether this clinician may record for this patient, and a refusal (or any
    /// failing entry) stores nothing. A refused form is shown again (422) with its errors.
    func recordConsultation(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String) async throws -> Response {
        let me = try requireClinician(s)
        let (raw, refusal) = try await checkedForm(s, request, title: s.strings.recordVisit)
        if let refusal { return refusal }
        guard let raw, Repository.isValidID(patientID) else { throw FHIRError.notFound("Patient", patientID) }
        var form = ConsultationForm(patient: patientID)
        form.reason = raw["motivo"] ?? ""
        form.mode = raw["modalidad"] ?? "AMB"
        form.note = Portal.note(raw)
        for sign in Portal.consultation.limits.signs { form.vitals[sign.key] = raw[sign.key] ?? "" }
        form.diagnoses = (1...4).map { raw["diagnostico\($0)"] ?? "" }
        let checked: Consultation.Checked
        do {
            checked = try Portal.consultation.check(form)
        } catch let e as FHIRError where e.status == 422 {
            return try await consultationPage(s, request, context, patientID: patientID, form: form, issues: e.issues, status: .unprocessableContent)
        }
        let now = services.clock.now()
        let start = raw["inicio"].flatMap(DateRange.init).map { Timestamp(microseconds: $0.low * 1000) }.flatMap { t in
            t.microseconds <= now.microseconds && now.microseconds - t.microseconds < 86_400_000_000 ? t : nil
        }
        let g = try await guarded(s, context)
        _ = try await g.read("Patient", patientID)
        // the author's signature (ConsultationSignature): prepare → /static/firma.js signs → check and store
        let seal = ConsultationSignature.shared.seal(services.key)
        let written = Portal.consultation.written(checked, patient: patientID, author: me, organization: s.principal.organization, start: start, now: now)
        if raw["paso"] == "preparar" { return Portal.preparationAnswer(ConsultationSignature.prepare(visit: written, who: me, seal: seal, now: now)) }
        let jws = (raw["firma"] ?? "").trimmingCharacters(in: .whitespaces)
        let bundle: JSON
        if !jws.isEmpty {
            do {
                bundle = try await ConsultationSignature.signedVisit(raw["preparacion"] ?? "", jws: jws, who: me, patient: patientID, organization: s.principal.organization,
                                                                     repository: g, seal: seal, now: now)
            } catch let e as FHIRError where e.status == 422 || e.status == 409 {
                return try await consultationPage(s, request, context, patientID: patientID, form: form, issues: Portal.signatureIssues(e),
                                                  status: e.status == 409 ? .conflict : .unprocessableContent)
            }
        } else if try await AuthorSignature.required(of: me, repository: g, always: services.configuration.requirePrescriberSignature) {
            let words = PortalStrings.noteSignatureRequired
            return try await consultationPage(s, request, context, patientID: patientID, form: form,
                                              issues: [Issue(code: "business-rule", english: words.english, spanish: words.spanish)], status: .unprocessableContent)
        } else {
            bundle = Consultation.recording(written, patient: "Patient/\(patientID)", author: me, organization: s.principal.organization, now: now)
        }
        _ = try await g.process(bundle: bundle, options: Repository.BundleOptions(base: services.configuration.fhirBase))
        return Portal.redirect("/pacientes/\(patientID)?consulta=registrada")
    }

    /// The consultation note `compositionID` of `patientID`, read through the guard (a note of
    /// another patient is missing).
    func consultationNote(_ g: GuardedRepository, patientID: String, compositionID: String) async throws -> StoredResource {
        guard Repository.isValidID(compositionID) else { throw FHIRError.notFound("Composition", compositionID) }
        let stored = try await g.read("Composition", compositionID)
        let json = try stored.json()
        guard Consultation.isNote(json), json["subject"]?["reference"]?.stringValue == "Patient/\(patientID)" else {
            throw FHIRError.notFound("Composition", compositionID)
        }
        return stored
    }

    /// *Corregir nota* (`/pacientes/{id}/consulta/{nota}/corregir`, the note's author): the
    /// note's text to correct and the reason, required.
    func correctionPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String, compositionID: String,
                        note: ConsultationNote? = nil, reason: String = "", issues: [Issue] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        _ = try requireClinician(s)
        let g = try await guarded(s, context)
        let stored = try await consultationNote(g, patientID: patientID, compositionID: compositionID)
        let json = try stored.json()
        let errors = fieldErrors(issues, t)
        var body = "<p>\(esc(t.correctNoteLead))</p>" + errorSummary(issues, t)
        body += "<section class=\"card\"><h2>\(esc(json["title"]?.stringValue ?? t.correctNote))</h2>"
        body += "<p class=\"hint\">\(esc(t.noteVersion(String(stored.version)))) · \(esc(t.dateTime(json["date"]?.stringValue ?? "")))</p>"
        // the note's signature, verified again (ConsultationSignature.verdict)
        body += "<p class=\"firma\" id=\"firma-nota\"><span class=\"label\">\(esc(t.signatureLabel)):</span> \(signatureText(await ConsultationSignature.verdict(json, repository: g), t))</p>"
        body += "<form method=\"post\" action=\"/pacientes/\(esc(patientID))/consulta/\(esc(compositionID))/corregir\" class=\"stack\" id=\"corregir\" novalidate\(signingAttributes(s))>"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"version\" value=\"\(stored.version)\">" + signingFields
        body += noteFields(note ?? ConsultationNote.of(json), errors: errors, t)
        body += field("razon", label: t.correctionReason, errors: errors) { a in
            "<textarea id=\"razon\" name=\"razon\" rows=\"2\" maxlength=\"500\" required\(a)>\(esc(reason))</textarea>"
        }
        body += "<button type=\"submit\" name=\"paso\" value=\"firmar\" id=\"firmar\">\(esc(t.saveCorrection))</button>"
        body += "<p class=\"hint\" id=\"firma-estado\" role=\"status\">\(esc(t.noteSignatureHint))</p></form></section>"
        body += "<p><a href=\"/pacientes/\(esc(patientID))\">\(esc(t.cancel))</a></p><script src=\"/static/firma.js\" defer></script>"
        return html(status, layout(s, request, title: t.correctNote, body: body))
    }

    /// `POST /pacientes/{id}/consulta/{nota}/corregir`: a new version of the Composition and its
    /// Provenance (UPDATE, the reason) in one transaction, `If-Match` the version the form
    /// showed (a note changed meanwhile is a 409 shown as the page's error).
    func correctNote(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String, compositionID: String) async throws -> Response {
        let me = try requireClinician(s)
        let (raw, refusal) = try await checkedForm(s, request, title: s.strings.correctNote)
        if let refusal { return refusal }
        guard let raw else { throw FHIRError.notFound("Composition", compositionID) }
        let g = try await guarded(s, context)
        let stored = try await consultationNote(g, patientID: patientID, compositionID: compositionID)
        let note = Portal.note(raw), reason = raw["razon"] ?? ""
        let version = raw["version"].flatMap { Int($0) } ?? stored.version
        let now = services.clock.now(), seal = ConsultationSignature.shared.seal(services.key)
        let jws = (raw["firma"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let bundle: JSON
            if !jws.isEmpty {
                // signed (ConsultationSignature): the sealed correction, checked against the author's key
                bundle = try await ConsultationSignature.signedCorrection(raw["preparacion"] ?? "", jws: jws, who: me, compositionID: compositionID, current: stored.version,
                                                                          organization: s.principal.organization, repository: g, seal: seal, now: now)
            } else {
                bundle = try Portal.consultation.correction(of: try stored.json(), id: compositionID, version: version, note: note, reason: reason, author: me,
                                                            organization: s.principal.organization, now: now)
                if raw["paso"] == "preparar" { return Portal.preparationAnswer(try ConsultationSignature.prepare(correction: bundle, who: me, seal: seal, now: now)) }
                if try await AuthorSignature.required(of: me, repository: g, always: services.configuration.requirePrescriberSignature) {
                    let words = PortalStrings.noteSignatureRequired
                    throw FHIRError(status: 422, code: "business-rule", english: words.english, spanish: words.spanish)
                }
            }
            _ = try await g.process(bundle: bundle, options: Repository.BundleOptions(base: services.configuration.fhirBase))
        } catch let e as FHIRError where e.status == 422 || e.status == 409 || e.status == 412 {
            return try await correctionPage(s, request, context, patientID: patientID, compositionID: compositionID, note: note, reason: reason,
                                            issues: e.issues.map { i in var i = i; if i.expression.isEmpty { i.expression = ["razon"] }; return i },
                                            status: e.status == 422 ? .unprocessableContent : .conflict)
        }
        return Portal.redirect("/pacientes/\(patientID)?nota=corregida")
    }
}
