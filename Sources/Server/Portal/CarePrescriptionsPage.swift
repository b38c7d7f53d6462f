import Care
import FHIR
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Mis recetas* (`/mis-recetas`): the patient's prescriptions that have a code — the code
    /// to show at any pharmacy, the medicine and instructions, how much is dispensed of what is
    /// allowed, the validity, and where each dispense happened (docs/prescribing.md). Read
    /// through the patient's guarded repository.
    func prescriptionsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard s.isPatient, let patient = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "patients only", spanish: "solo pacientes") }
        let g = try await guarded(s, context)
        let (q, _) = try SearchParser().parse(types: ["MedicationRequest"], parameters: [
            ("patient", "Patient/\(patient)"), ("identifier", "\(PrescriptionCode.system)|"), ("_sort", "-authoredon"), ("_count", "50"), ("_total", "none")])
        let requests = try await g.search(q).matches
        var body = "<p>\(esc(t.prescriptionsLead))</p>"
        if requests.isEmpty { body += "<p>\(esc(t.noPrescriptions))</p>" }
        body += "<ul class=\"cards\">"
        var names: [String: String] = [:]
        for r in requests {
            guard let json = try? r.json(), let code = PrescriptionCode.of(json) else { continue }
            let state = try await Dispensing().state("MedicationRequest/\(r.id)", code: code, repository: g, now: services.clock.now())
            let medicine = json["medicationCodeableConcept"]?["text"]?.stringValue ?? json["medicationCodeableConcept"]?["coding"]?.arrayValue?.first?["display"]?.stringValue ?? "—"
            body += "<li class=\"card\" id=\"receta-\(esc(r.id))\"><h2>\(esc(medicine))</h2>"
            body += "<p class=\"prescription-code\"><span>\(esc(t.prescriptionCode))</span> <strong class=\"mono\">\(esc(code))</strong></p>"
            // the code as a QR Code the counter can scan (QRCode.swift); the text above says the same
            if let qr = QRCode(code) { body += "<p class=\"prescription-qr\">" + qr.svg(label: t.qrLabel(code)) + "</p>" }
            body += "<dl class=\"facts\">"
            let dosage = (json["dosageInstruction"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "; ")
            if !dosage.isEmpty { body += "<div><dt>\(esc(t.dosage))</dt><dd>\(esc(dosage))</dd></div>" }
            body += "<div><dt>\(esc(t.statusLabel))</dt><dd>\(esc(state.refusal?.spanish.isEmpty == false && t.language == .es ? state.refusal!.spanish : (state.refusal?.english ?? t.statusName(json["status"]?.stringValue ?? ""))))</dd></div>"
            body += "<div><dt>\(esc(t.dispensedOf))</dt><dd>\(esc(t.dispensedAmount("\(state.dispensed)", "\(state.allowed)", state.unit ?? "")))</dd></div>"
            if let until = state.validUntil { body += "<div><dt>\(esc(t.validUntil))</dt><dd>\(esc(t.date(until)))</dd></div>" }
            body += "<div><dt>\(esc(t.signatureLabel))</dt><dd class=\"firma\">\(signatureText(await PrescriptionSignature.verdict(r, repository: g), t))</dd></div>"
            var places: [String] = []
            for d in state.dispenses {
                let whereName = await displayName(g, d["performer"]?.arrayValue?.first?["actor"], &names) ?? "—"
                let when = d["whenHandedOver"]?.stringValue.map { t.date($0) } ?? ""
                let amount = d["quantity"]?["value"].map { v -> String in if case let .number(n) = v { return n }; return "" } ?? ""
                places.append("\(when) · \(whereName) · \(amount) \(state.unit ?? "")")
            }
            body += "<div><dt>\(esc(t.dispensedAt))</dt><dd>\(places.isEmpty ? esc(t.notDispensedYet) : places.map(esc).joined(separator: "<br>"))</dd></div>"
            body += "</dl></li>"
        }
        body += "</ul>"
        return html(.ok, layout(s, request, title: t.navPrescriptions, body: body))
    }
}
