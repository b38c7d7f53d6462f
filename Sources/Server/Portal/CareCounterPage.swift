import Care
import FHIR
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// The pharmacy counter (`/farmacia`, role `pharmacy`, docs/prescribing.md): type or scan
    /// the code, see only what dispensing needs (medicine, instructions, the patient's name, how
    /// much is left, validity), and record a dispense. The code travels only in POST bodies, never
    /// in a URL (it is the patient's bearer credential and URLs end up in logs).
    func counterPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        try requirePharmacy(s)
        return html(.ok, layout(s, request, title: s.strings.navCounter, body: counterForm(s, code: "")))
    }

    func requirePharmacy(_ s: Session) throws {
        guard s.principal.effectiveRole == .pharmacy else { throw FHIRError(status: 403, code: "forbidden", english: "pharmacies only", spanish: "solo farmacias") }
    }

    func counterForm(_ s: Session, code: String) -> String {
        let t = s.strings
        return """
            <p>\(esc(t.counterLead))</p>
            <form method="post" action="/farmacia" class="card stack" id="buscar-receta">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <label for="codigo">\(esc(t.prescriptionCode))</label>
            <input id="codigo" name="codigo" autocomplete="off" autocapitalize="characters" spellcheck="false" inputmode="text" maxlength="40" value="\(esc(code))" required>
            <button type="submit">\(esc(t.findPrescription))</button>
            </form>
            """
    }

    /// `POST /farmacia` (find by code) and `POST /farmacia/surtir` (dispense `cantidad`).
    func counterAction(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, dispense: Bool) async throws -> Response {
        let t = s.strings
        try requirePharmacy(s)
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navCounter, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        let code = (form["codigo"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        var body = counterForm(s, code: code)
        let now = services.clock.now()
        let door = services.door
        do {
            if dispense {
                let amount = Decimal(string: (form["cantidad"] ?? "").replacingOccurrences(of: ",", with: ".")) ?? 0
                let (_, after) = try await Dispensing().dispense(code: code, amount: amount, door: door, principal: s.principal, audit: context.audit, now: now)
                body += "<p class=\"notice\" role=\"status\">\(esc(t.dispensedNow("\(amount)", after.unit ?? "")))</p>"
            }
            guard let opened = try await door.dispensing(s.principal, code: code, audit: context.audit) else {
                body += "<p class=\"error\" role=\"alert\">\(esc(t.noSuchCode))</p>"
                return html(.notFound, layout(s, request, title: t.navCounter, body: body))
            }
            let state = try await Dispensing().state(opened.prescription, code: code, repository: opened.repository, now: now)
            let verdict = await PrescriptionSignature.verdict(state.prescription, repository: opened.repository)
            body += counterCard(s, state, patientName: try? await opened.repository.read("Patient", String((state.json["subject"]?["reference"]?.stringValue ?? "").dropFirst(8))),
                                signature: verdict)
        } catch let e as FHIRError where e.status == 422 || e.status == 409 || e.status == 400 {
            let issue = e.issues.first
            body += "<p class=\"error\" role=\"alert\">\(esc(t.language == .es ? issue?.spanish ?? "" : issue?.english ?? ""))</p>"
            if let opened = try await door.dispensing(s.principal, code: code, audit: context.audit) {
                let state = try await Dispensing().state(opened.prescription, code: code, repository: opened.repository, now: now)
                body += counterCard(s, state, patientName: nil, signature: await PrescriptionSignature.verdict(state.prescription, repository: opened.repository))
            }
            return html(.unprocessableContent, layout(s, request, title: t.navCounter, body: body))
        } catch let e as FHIRError where e.status == 404 {
            body += "<p class=\"error\" role=\"alert\">\(esc(t.noSuchCode))</p>"
            return html(.notFound, layout(s, request, title: t.navCounter, body: body))
        }
        return html(.ok, layout(s, request, title: t.navCounter, body: body))
    }

    func counterCard(_ s: Session, _ state: Dispensing.State, patientName: StoredResource?, signature: PrescriptionSignature.Verdict) -> String {
        let t = s.strings
        let json = state.json
        let medicine = json["medicationCodeableConcept"]?["text"]?.stringValue ?? json["medicationCodeableConcept"]?["coding"]?.arrayValue?.first?["display"]?.stringValue ?? "—"
        var card = "<section class=\"card\" id=\"receta\"><h2>\(esc(medicine))</h2><dl class=\"facts\">"
        if let p = patientName, let pj = try? p.json() { card += "<div><dt>\(esc(t.patientLabel))</dt><dd>\(esc(HumanNameText.display(pj, withPrefix: false) ?? "—"))</dd></div>" }
        let dosage = (json["dosageInstruction"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "; ")
        if !dosage.isEmpty { card += "<div><dt>\(esc(t.dosage))</dt><dd>\(esc(dosage))</dd></div>" }
        if let g = state.group { card += "<div><dt>\(esc(t.controlledLabel))</dt><dd>\(esc(g.spanish))</dd></div>" }
        card += "<div><dt>\(esc(t.dispensedOf))</dt><dd>\(esc(t.dispensedAmount("\(state.dispensed)", "\(state.allowed)", state.unit ?? "")))</dd></div>"
        card += "<div><dt>\(esc(t.remaining))</dt><dd id=\"por-surtir\">\(esc("\(state.remaining) \(state.unit ?? "")"))</dd></div>"
        if let until = state.validUntil { card += "<div><dt>\(esc(t.validUntil))</dt><dd>\(esc(t.date(until)))</dd></div>" }
        // the prescriber's signature, re-verified now over the prescription as stored
        card += "<div><dt>\(esc(t.signatureLabel))</dt><dd id=\"firma\">\(signatureText(signature, t))</dd></div>"
        if let r = state.refusal { card += "<div><dt>\(esc(t.statusLabel))</dt><dd>\(esc(t.language == .es ? r.spanish : r.english))</dd></div>" }
        card += "</dl>"
        if state.refusal == nil {
            card += """
                <form method="post" action="/farmacia/surtir" class="stack" id="surtir">
                <input type="hidden" name="csrf" value="\(esc(s.csrf))">
                <input type="hidden" name="codigo" value="\(esc(state.code))">
                <label for="cantidad">\(esc(t.quantityToDispense)) (\(esc(state.unit ?? "")))</label>
                <input id="cantidad" name="cantidad" inputmode="decimal" value="\(esc("\(state.remaining)"))" required>
                <button type="submit">\(esc(t.dispenseButton))</button>
                </form>
                """
        }
        return card + "</section>"
    }
}
