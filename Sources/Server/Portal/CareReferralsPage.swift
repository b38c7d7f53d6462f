import Care
import FHIR
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    static let cancellableReferral: Set<String> = ["requested", "received", "accepted", "ready", "in-progress", "on-hold"]

    /// *Mis referencias* (`/mis-referencias`): the patient's referrals (Task-based, docs/care.md),
    /// where each stands, who referred and who receives, the reason, until when the receiver's
    /// access lasts — and a button to cancel one, which ends that access (the referral state
    /// machine allows the patient to cancel before completion).
    func referralsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard s.isPatient, let patient = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "patients only", spanish: "solo pacientes") }
        let g = try await guarded(s, context)
        let (q, _) = try SearchParser().parse(types: ["Task"], parameters: [
            ("patient", "Patient/\(patient)"), ("code", "\(ReferralWorkflow.system)|\(ReferralWorkflow.code)"), ("_sort", "-_lastUpdated"),
            ("_count", "50"), ("_total", "none")])
        let tasks = try await g.search(q).matches.compactMap { try? $0.json() }
        let query = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        var body = "<p>\(esc(t.referralsLead))</p>"
        if query["cancelada"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.referralCancelled))</p>" }
        if tasks.isEmpty { body += "<p>\(esc(t.noReferrals))</p>" }
        body += "<ul class=\"cards\">"
        var names: [String: String] = [:]
        for task in tasks {
            let id = task["id"]?.stringValue ?? ""
            let status = task["status"]?.stringValue ?? ""
            var reason = task["description"]?.stringValue ?? ""
            if let focus = task["focus"]?["reference"]?.stringValue, focus.hasPrefix("ServiceRequest/"),
               let sr = try? await g.read("ServiceRequest", String(focus.dropFirst(15))), let json = try? sr.json() {
                let reasons = (json["reasonCode"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "; ")
                reason = !reasons.isEmpty ? reasons : (json["code"]?["text"]?.stringValue ?? reason)
            }
            let to = await displayName(g, task["owner"], &names) ?? "—"
            let by = await displayName(g, task["requester"], &names) ?? "—"
            body += "<li class=\"card\" id=\"referencia-\(esc(id))\"><h2>\(esc(t.referredTo)): \(esc(to))</h2><dl class=\"facts\">"
            body += "<div><dt>\(esc(t.statusLabel))</dt><dd>\(esc(t.referralStatus(status)))</dd></div>"
            body += "<div><dt>\(esc(t.referredBy))</dt><dd>\(esc(by))</dd></div>"
            if !reason.isEmpty { body += "<div><dt>\(esc(t.referralReason))</dt><dd>\(esc(reason))</dd></div>" }
            if let why = task["statusReason"]?["text"]?.stringValue { body += "<div><dt>\(esc(t.reason))</dt><dd>\(esc(why))</dd></div>" }
            if ["accepted", "ready", "in-progress", "on-hold"].contains(status), let end = task["restriction"]?["period"]?["end"]?.stringValue {
                body += "<div><dt>\(esc(t.accessUntil))</dt><dd>\(esc(t.date(end)))</dd></div>"
            }
            body += "</dl>"
            if Portal.cancellableReferral.contains(status) {
                body += "<form method=\"post\" action=\"/mis-referencias/cancelar\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
                body += "<input type=\"hidden\" name=\"referencia\" value=\"\(esc(id))\">"
                body += "<button type=\"submit\" class=\"danger\" data-confirm=\"\(esc(t.cancelReferralConfirm))\">\(esc(t.cancelReferral))</button></form>"
            }
            body += "</li>"
        }
        body += "</ul>"
        return html(.ok, layout(s, request, title: t.navReferrals, body: body))
    }

    /// `POST /mis-referencias/cancelar`: the patient cancels a referral (a Task update through
    /// their guarded repository, checked by the referral state machine).
    func cancelReferral(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navReferrals, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard s.isPatient, let id = form["referencia"], Repository.isValidID(id) else { throw FHIRError.notFound("Task", form["referencia"] ?? "") }
        let g = try await guarded(s, context)
        let stored = try await g.read("Task", id)
        var task = try stored.json()
        guard ReferralWorkflow.isReferral(task) else { throw FHIRError.notFound("Task", id) }
        task = task.setting("status", .string("cancelled"))
        task = task.setting("statusReason", .object([("text", .string(t.t("Cancelada por el paciente en el portal", "Cancelled by the patient in the portal")))]))
        _ = try await g.update("Task", id, task, ifMatch: stored.version)
        return Portal.redirect("/mis-referencias?cancelada=1")
    }
}
