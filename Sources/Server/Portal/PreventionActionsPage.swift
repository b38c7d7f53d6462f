import FHIR
import Foundation
import Hummingbird
import Prevention
import Storage
import Trust

extension Portal {
    /// A clinician's prevention view of one patient (`/prevencion/paciente/{id}`): the open gaps,
    /// what the algorithms produced (the RiskAssessments and the ImmunizationRecommendation) each
    /// with a form to accept or override it with a reason, and a form to remind the patient.
    func preventionPatientPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patient: String) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        guard Repository.isValidID(patient) else { throw FHIRError.notFound("Patient", patient) }
        let g = try await guarded(s, context)
        let p = try await g.read("Patient", patient)
        let name = Portal.name(try p.json())
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        var body = ""
        if q["decision"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.decisionRecorded))</p>" }
        if let sent = q["recordatorio"] { body += "<p class=\"notice\" role=\"status\">\(esc(t.reminderOutcome(sent)))</p>" }
        body += "<p><a href=\"/pacientes/\(esc(patient))\">\(esc(t.preventionOpenRecord))</a></p>"
        body += try await preventionSummaryCard(g, patient: patient, t)
        // a gap that does not apply: declined, not indicated, done elsewhere (docs/prevention.md, "A decision counts")
        let (record, found) = try await preventionItems(g, patient: patient)
        let decisions = try await preventionDecisions(g, patient: patient)
        let open = (found ?? []).filter { $0.status.isOpen && !(decisions[$0.rule.id]?.applies(to: $0) ?? false) }
        if !open.isEmpty {
            body += "<section class=\"card\" aria-labelledby=\"p-gap-decide\"><h2 id=\"p-gap-decide\">\(esc(t.gapDecideTitle))</h2><p class=\"hint\">\(esc(t.gapDecideLead))</p>"
            body += "<form method=\"post\" action=\"/prevencion/decision\" class=\"stack\" data-gap-decision><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
            body += "<input type=\"hidden\" name=\"tipo\" value=\"Patient\"><input type=\"hidden\" name=\"id\" value=\"\(esc(patient))\">"
            body += "<label for=\"gap-item\">\(esc(t.gapDecideItem))</label><select id=\"gap-item\" name=\"item\">"
            for item in open { body += "<option value=\"\(esc(item.rule.id))\">\(esc(t.text(item.rule.title))) (\(esc(t.preventionStatus(item.status))))</option>" }
            body += "</select><label for=\"gap-kind\">\(esc(t.gapDecideKind))</label><select id=\"gap-kind\" name=\"decision\">"
            for kind in [ClinicianDecision.Kind.declined, .notIndicated, .doneElsewhere] {
                body += "<option value=\"\(kind.parameter)\">\(esc(t.text(kind.text)))</option>"
            }
            body += "</select><label for=\"gap-reason\">\(esc(t.decisionReason))</label><textarea id=\"gap-reason\" name=\"motivo\" rows=\"2\" maxlength=\"1000\" required></textarea>"
            body += "<button type=\"submit\">\(esc(t.gapDecideSubmit))</button></form></section>"
        }
        // the BMI trend, as on the patient's Mi prevención (docs/prevention.md, "BMI trend")
        body += bmiTrendHTML(record, today: CivilDate(services.clock.now().date), t, clinician: true)
        // what the algorithms produced, with the decision form
        let produced = try await compartment(g, patient: patient, types: ["RiskAssessment", "ImmunizationRecommendation"], limit: 20)
        body += "<section class=\"card\" aria-labelledby=\"p-decide\"><h2 id=\"p-decide\">\(esc(t.decisionTitle))</h2><p class=\"hint\">\(esc(t.decisionLead))</p>"
        if produced.isEmpty { body += "<p>\(esc(t.decisionNothing))</p>" }
        body += "<ul class=\"cards\">"
        for r in produced {
            let type = r["resourceType"]?.stringValue ?? ""
            let id = r["id"]?.stringValue ?? ""
            let what = type == "RiskAssessment" ? (Portal.text(r["code"]) ?? type) : t.decisionRecommendation
            let notes = (r["note"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
            let text = t.language == .es ? notes.first : (notes.count > 1 ? notes[1] : notes.first)
            let formID = "d-\(type)-\(id)"
            body += "<li class=\"entry\" data-decide=\"\(esc(type))/\(esc(id))\"><div class=\"what\"><h3>\(esc(what))</h3>"
            if let text { body += "<p>\(esc(text))</p>" }
            body += "<dl class=\"facts\"><div><dt>\(esc(t.preventionAlgorithm))</dt><dd>\(esc(Portal.text(r["method"]) ?? Portal.refText(r["authority"]) ?? "—"))</dd></div></dl>"
            body += "<form method=\"post\" action=\"/prevencion/decision\" class=\"stack\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
            body += "<input type=\"hidden\" name=\"tipo\" value=\"\(esc(type))\"><input type=\"hidden\" name=\"id\" value=\"\(esc(id))\">"
            body += "<label for=\"\(esc(formID))\">\(esc(t.decisionReason))</label><textarea id=\"\(esc(formID))\" name=\"motivo\" rows=\"2\" maxlength=\"1000\" required></textarea>"
            body += "<div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"accept\">\(esc(t.decisionAccept))</button>"
            body += "<button type=\"submit\" name=\"decision\" value=\"override\">\(esc(t.decisionOverride))</button></div></form></div></li>"
        }
        body += "</ul></section>"
        body += "<section class=\"card\" aria-labelledby=\"p-remind\"><h2 id=\"p-remind\">\(esc(t.reminderTitle))</h2><p class=\"hint\">\(esc(t.reminderLead))</p>"
        body += "<form method=\"post\" action=\"/prevencion/recordatorios\" class=\"stack\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        body += "<input type=\"hidden\" name=\"p-\(esc(patient))\" value=\"1\"><input type=\"hidden\" name=\"volver\" value=\"paciente\">"
        body += mediumSelect(t, id: "medio")
        body += "<button type=\"submit\">\(esc(t.reminderSend))</button></form></section>"
        return html(.ok, layout(s, request, title: "\(t.navPreventionPanel) — \(name)", body: body))
    }

    func mediumSelect(_ t: PortalStrings, id: String) -> String {
        var h = "<label for=\"\(id)\">\(esc(t.reminderMedium))</label><select id=\"\(id)\" name=\"medio\">"
        for m in Reminders.Medium.allCases { h += "<option value=\"\(m.rawValue)\">\(esc(t.text(m.text)))</option>" }
        return h + "</select>"
    }

    /// `POST /prevencion/decision`: the clinician accepts or overrides a RiskAssessment or an
    /// ImmunizationRecommendation with a reason (a Provenance, through their guard).
    func preventionDecide(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.decisionTitle, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        let type = form["tipo"] ?? "", id = form["id"] ?? ""
        guard ClinicianDecision.reviewableTypes.contains(type) || type == "Patient", Repository.isValidID(id) else {
            throw FHIRError.badRequest("choose a RiskAssessment, an ImmunizationRecommendation or a patient's gap",
                                       "elija un RiskAssessment, una ImmunizationRecommendation o una brecha de la persona")
        }
        var parameters: [JSON] = [.object([("name", .string("decision")), ("valueCode", .string(form["decision"] ?? ""))]),
                                  .object([("name", .string("reason")), ("valueString", .string(form["motivo"] ?? ""))])]
        if let item = form["item"] { parameters.append(.object([("name", .string("item")), ("valueString", .string(item))])) }
        let decision = try ClinicianDecision.parse(.object([("resourceType", .string("Parameters")), ("parameter", .array(parameters))]))
        let g = try await guarded(s, context)
        context.audit?.interaction = "$record-decision"
        let target = try await g.read(type, id)
        let written = try await PreventionWiring.decide(decision, type: type, id: id, guarded: g, now: services.clock.now(),
                                                        knowledge: PreventionWiring.knowledge(services.configuration))
        _ = written
        let patientRef = type == "Patient" ? "Patient/\(id)" : (((try? target.json()).flatMap { ($0["subject"] ?? $0["patient"])?["reference"]?.stringValue }) ?? "")
        return Portal.redirect("/prevencion/paciente/\(patientRef.dropFirst(8))?decision=1")
    }

    /// `POST /prevencion/recordatorios`: reminds the patients checked (`p-<id>`) through `medio`,
    /// never one who opposed contact; back to the panel (or the patient's page) with the counts.
    func preventionRemind(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.reminderTitle, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        let patients = form.keys.filter { $0.hasPrefix("p-") && form[$0] != nil }.map { String($0.dropFirst(2)) }.filter(Repository.isValidID).sorted()
        guard let medium = Reminders.Medium(rawValue: form["medio"] ?? "") else {
            throw FHIRError.badRequest("choose a channel", "elija un canal", code: "required")
        }
        guard !patients.isEmpty else { throw FHIRError.badRequest("choose at least one patient", "elija al menos un paciente", code: "required") }
        guard patients.count <= Reminders.maxPatients else {
            throw FHIRError.badRequest("at most \(Reminders.maxPatients) patients at once", "a lo más \(Reminders.maxPatients) pacientes a la vez", code: "too-costly")
        }
        let g = try await guarded(s, context)
        context.audit?.interaction = "$send-reminders"
        let outcomes = try await PreventionWiring.remind(Reminders.Request(patients: patients, medium: medium, message: nil), guarded: g,
                                                         door: services.door, knowledge: PreventionWiring.knowledge(services.configuration),
                                                         now: services.clock.now(), audit: context.audit)
        let summary = "\(outcomes.filter { $0.status == "sent" }.count)-\(outcomes.filter { $0.status == "opposed" }.count)-\(outcomes.filter { $0.status != "sent" && $0.status != "opposed" }.count)"
        if form["volver"] == "paciente", let one = patients.first { return Portal.redirect("/prevencion/paciente/\(one)?recordatorio=\(summary)") }
        return Portal.redirect("/prevencion/panel?recordatorio=\(summary)")
    }
}
