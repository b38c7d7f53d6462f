import Care
import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// An `application/x-www-form-urlencoded` body as its (name, value) pairs, in order, a name
    /// possibly repeated (checkboxes); a pair that does not decode is left out.
    static func formPairs(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                  let v = (kv.count > 1 ? String(kv[1]) : "").replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { return nil }
            return (k, v)
        }
    }

    /// The institutions a patient may be referred to: the Organizations the clinician may read
    /// (shared data), except their own, by name.
    func referralDestinations(_ g: GuardedRepository, except own: String?) async throws -> [(ref: String, name: String)] {
        let (q, _) = try SearchParser().parse(types: ["Organization"], parameters: [("active", "true"), ("_count", "200"), ("_total", "none")])
        return try await g.search(q).matches.compactMap { r -> (String, String)? in
            guard let j = try? r.json(), "Organization/\(r.id)" != own else { return nil }
            return ("Organization/\(r.id)", j["name"]?.stringValue ?? r.id)
        }.sorted { $0.1.compare($1.1, locale: Locale(identifier: "es_MX")) == .orderedAscending }
    }

    /// The patient's documents the clinician may attach: their most recent results, reports,
    /// diagnoses, notes and prescriptions (at most 30), through the guard.
    func referralDocuments(_ g: GuardedRepository, patient: String, _ t: PortalStrings) async throws -> [TimelineItem] {
        let types = ["Observation", "DiagnosticReport", "Condition", "Composition", "MedicationRequest", "AllergyIntolerance", "DocumentReference"]
        let found = try await compartment(g, patient: patient, types: types, limit: 500)
        return found.map { item($0, t) }.sorted { $0.date > $1.date }.prefix(30).map { $0 }
    }

    /// *Referir* (`/pacientes/{id}/referir`, practitioner): to which institution, which service,
    /// why, how urgent, for how long the receiver's access lasts once it accepts, and which
    /// documents travel with it; the patient's referrals sent so far and where each stands.
    func referPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String, form: ReferralForm = ReferralForm(),
                   issues: [Issue] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        _ = try requireClinician(s)
        guard Repository.isValidID(patientID) else { throw FHIRError.notFound("Patient", patientID) }
        let g = try await guarded(s, context)
        let patient = try await g.read("Patient", patientID).json()
        var body = "<p>\(esc(t.referLead))</p>"
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        if let sent = q["enviada"], Repository.isValidID(sent), let task = try? await g.read("Task", sent).json(), ReferralWorkflow.isReferral(task) {
            let to = task["owner"]?["display"]?.stringValue ?? task["owner"]?["reference"]?.stringValue ?? ""
            body += "<p class=\"notice\" role=\"status\" id=\"referencia-enviada\">\(esc(t.referralSent(to)))</p>"
        }
        body += errorSummary(issues, t)
        let errors = fieldErrors(issues, t)
        body += "<section class=\"card\"><h2>\(esc(Portal.name(patient)))</h2>"
        body += "<form method=\"post\" action=\"/pacientes/\(esc(patientID))/referir\" class=\"stack\" id=\"referir\" novalidate>"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        let destinations = try await referralDestinations(g, except: s.principal.organization)
        body += field("destino", label: t.destinationLabel, errors: errors) { a in
            var html = "<select id=\"destino\" name=\"destino\" required\(a)><option value=\"\">\(esc(t.chooseOne))</option>"
            for d in destinations { html += "<option value=\"\(esc(d.ref))\"\(form.destination == d.ref ? " selected" : "")>\(esc(d.name))</option>" }
            return html + "</select>"
        }
        body += field("servicio", label: t.serviceLabel, hint: t.serviceHint, errors: errors) { a in
            "<input type=\"text\" id=\"servicio\" name=\"servicio\" maxlength=\"200\" required value=\"\(esc(form.service))\"\(a)>"
        }
        body += field("motivo", label: t.referralReasonLabel, errors: errors) { a in
            "<textarea id=\"motivo\" name=\"motivo\" rows=\"4\" maxlength=\"2000\" required\(a)>\(esc(form.reason))</textarea>"
        }
        body += "<fieldset id=\"prioridad\"><legend>\(esc(t.priorityLabel))</legend>"
        for p in ReferralForm.priorities {
            body += "<label class=\"check\"><input type=\"radio\" name=\"prioridad\" value=\"\(p.code)\"\(form.priority == p.code ? " checked" : "")> \(esc(t.t(p.spanish, p.english)))</label>"
        }
        for e in errors["prioridad"] ?? [] { body += "<p class=\"error\">\(esc(e))</p>" }
        body += "</fieldset>"
        body += field("vigencia", label: t.accessPeriodLabel, hint: t.accessPeriodHint, errors: errors) { a in
            var html = "<select id=\"vigencia\" name=\"vigencia\"\(a)>"
            for d in ReferralForm.periods { html += "<option value=\"\(d)\"\(form.days == String(d) ? " selected" : "")>\(esc(t.daysCount(d)))</option>" }
            return html + "</select>"
        }
        body += "<fieldset id=\"documentos\"><legend>\(esc(t.documentsLabel))</legend><p class=\"hint\">\(esc(t.documentsHint))</p>"
        for e in errors["documentos"] ?? [] { body += "<p class=\"error\">\(esc(e))</p>" }
        let documents = try await referralDocuments(g, patient: patientID, t)
        if documents.isEmpty { body += "<p>\(esc(t.noDocuments))</p>" }
        for (n, d) in documents.enumerated() {
            let label = "\(d.type): \(d.title)" + (d.date.isEmpty ? "" : " (\(t.date(d.date)))")
            body += "<label class=\"check\" for=\"documento-\(n)\"><input type=\"checkbox\" id=\"documento-\(n)\" name=\"documento\" value=\"\(esc(d.reference))\"\(form.documents.contains(d.reference) ? " checked" : "")> \(esc(label))</label>"
        }
        body += "</fieldset>"
        body += "<button type=\"submit\" id=\"enviar-referencia\">\(esc(t.sendReferral))</button></form></section>"
        // the patient's referrals, as the clinician may see them
        let (tq, _) = try SearchParser().parse(types: ["Task"], parameters: [
            ("patient", "Patient/\(patientID)"), ("code", "\(ReferralWorkflow.system)|\(ReferralWorkflow.code)"), ("_sort", "-_lastUpdated"), ("_count", "20"),
            ("_total", "none"),
        ])
        let tasks = try await g.search(tq).matches.compactMap { try? $0.json() }
        if !tasks.isEmpty {
            body += "<section class=\"card\" aria-labelledby=\"enviadas\"><h2 id=\"enviadas\">\(esc(t.patientReferrals))</h2><ul>"
            for task in tasks {
                let to = task["owner"]?["display"]?.stringValue ?? task["owner"]?["reference"]?.stringValue ?? "—"
                body += "<li id=\"referencia-\(esc(task["id"]?.stringValue ?? ""))\">\(esc(to)): \(esc(t.referralStatus(task["status"]?.stringValue ?? "")))"
                body += " · \(esc(t.date(task["authoredOn"]?.stringValue ?? "")))</li>"
            }
            body += "</ul></section>"
        }
        body += "<p><a href=\"/pacientes/\(esc(patientID))\">\(esc(t.cancel))</a></p>"
        return html(status, layout(s, request, title: t.refer, body: body))
    }

    /// `POST /pacientes/{id}/referir`: checks the form (`ReferralForm.check`), that the
    /// institution exists and that each document is this patient's and visible to the
    /// clinician, then writes the ServiceRequest and its Task as ONE transaction through the
    /// clinician's guard (`ReferralWorkflow` checks the Task). A refused form stores nothing.
    func refer(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String) async throws -> Response {
        let t = s.strings
        let me = try requireClinician(s)
        var request = request
        let pairs = Portal.formPairs(String(buffer: try await request.collectBody(upTo: 64 * 1024)))
        var raw: [String: String] = [:]
        for (k, v) in pairs where k != "documento" && raw[k] == nil { raw[k] = v }
        guard let sent = raw["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.refer, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard Repository.isValidID(patientID) else { throw FHIRError.notFound("Patient", patientID) }
        let form = ReferralForm(raw, documents: pairs.filter { $0.0 == "documento" }.map(\.1))
        let g = try await guarded(s, context)
        _ = try await g.read("Patient", patientID)
        var issues: [Issue] = []
        var checked: (organization: String, service: String, reason: String, priority: String, days: Int, documents: [String])?
        do {
            checked = try form.check()
        } catch let e as FHIRError where e.status == 422 {
            issues = e.issues
        }
        var organizationName: String?
        if let c = checked {
            if c.organization == s.principal.organization {
                issues.append(Issue(code: "business-rule", english: "a referral goes to another institution, not your own",
                                    spanish: "una referencia va a otra institución, no a la suya", expression: ["destino"]))
            } else if let org = try? await g.read("Organization", String(c.organization.dropFirst(13))).json() {
                organizationName = org["name"]?.stringValue
            } else {
                issues.append(Issue(code: "not-found", english: "the institution \(c.organization) does not exist", spanish: "la institución \(c.organization) no existe",
                                    expression: ["destino"]))
            }
            for d in c.documents {
                let parts = d.split(separator: "/").map(String.init)
                let doc = try? await g.read(parts[0], parts[1]).json()
                let subject = doc?["subject"]?["reference"]?.stringValue ?? doc?["patient"]?["reference"]?.stringValue
                if doc == nil || subject != "Patient/\(patientID)" {
                    issues.append(Issue(code: "not-found", english: "\(d) is not a document of this patient you may see",
                                        spanish: "\(d) no es un documento de este paciente que usted pueda ver", expression: ["documentos"]))
                }
            }
        }
        guard issues.isEmpty, let c = checked else {
            return try await referPage(s, request, context, patientID: patientID, form: form, issues: issues, status: .unprocessableContent)
        }
        let bundle = ReferralForm.transaction(organization: c.organization, organizationName: organizationName, service: c.service, reason: c.reason,
                                              priority: c.priority, days: c.days, documents: c.documents, patient: patientID, requester: me,
                                              now: services.clock.now())
        let response: JSON
        do {
            response = try await g.process(bundle: bundle, options: Repository.BundleOptions(base: services.configuration.fhirBase))
        } catch let e as FHIRError where e.status == 422 {
            return try await referPage(s, request, context, patientID: patientID, form: form,
                                       issues: e.issues.map { i in var i = i; i.expression = ["destino"]; return i }, status: .unprocessableContent)
        }
        let location = response["entry"]?.arrayValue?.last?["response"]?["location"]?.stringValue ?? ""
        let id = location.split(separator: "/").drop { $0 != "Task" }.dropFirst().first.map(String.init) ?? ""
        return Portal.redirect("/pacientes/\(patientID)/referir?enviada=\(id)")
    }
}
