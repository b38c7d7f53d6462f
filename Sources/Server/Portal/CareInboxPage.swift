import Care
import FHIR
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Referencias recibidas* (`/referencias-recibidas`, practitioner): the receiving side's
    /// referral inbox — referrals owned by the practitioner or their organization that are not
    /// closed — with the patient, the reason and the actions the state machine allows the
    /// receiver: receive, accept, reject (with a reason), start, complete is left to the API
    /// (it needs the resulting Encounter). Read and written through the practitioner's guard
    /// (a waiting referral shows only itself, its ServiceRequest and its documents).
    func inboxPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        guard s.principal.effectiveRole == .practitioner else { throw FHIRError(status: 403, code: "forbidden", english: "practitioners only", spanish: "solo profesionales") }
        let g = try await guarded(s, context)
        let owners = [s.principal.fhirUser, s.principal.organization].compactMap { $0 }
        var body = "<p>\(esc(t.inboxLead))</p>"
        if let notice { body += "<p class=\"\(status == .ok ? "notice" : "error")\" role=\"\(status == .ok ? "status" : "alert")\">\(esc(notice))</p>" }
        var tasks: [JSON] = []
        if !owners.isEmpty {
            let (q, _) = try SearchParser().parse(types: ["Task"], parameters: [
                ("owner", owners.joined(separator: ",")), ("code", "\(ReferralWorkflow.system)|\(ReferralWorkflow.code)"),
                ("status", "requested,received,accepted,ready,in-progress,on-hold"), ("_sort", "-_lastUpdated"), ("_count", "50"), ("_total", "none")])
            tasks = try await g.search(q).matches.compactMap { try? $0.json() }
        }
        if tasks.isEmpty { body += "<p>\(esc(t.inboxEmpty))</p>" }
        body += "<ul class=\"cards\">"
        var names: [String: String] = [:]
        for task in tasks {
            let id = task["id"]?.stringValue ?? ""
            let state = task["status"]?.stringValue ?? ""
            var patient = task["for"]?["reference"]?.stringValue ?? "—"
            if patient.hasPrefix("Patient/"), let p = try? await g.read("Patient", String(patient.dropFirst(8))), let pj = try? p.json() {
                patient = HumanNameText.display(pj, withPrefix: false) ?? patient
            }
            var reason = task["description"]?.stringValue ?? ""
            if let focus = task["focus"]?["reference"]?.stringValue, focus.hasPrefix("ServiceRequest/"),
               let sr = try? await g.read("ServiceRequest", String(focus.dropFirst(15))), let json = try? sr.json() {
                let reasons = (json["reasonCode"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "; ")
                reason = !reasons.isEmpty ? reasons : (json["code"]?["text"]?.stringValue ?? reason)
            }
            let by = await displayName(g, task["requester"], &names) ?? "—"
            body += "<li class=\"card\" id=\"recibida-\(esc(id))\"><h2>\(esc(patient))</h2><dl class=\"facts\">"
            body += "<div><dt>\(esc(t.statusLabel))</dt><dd>\(esc(t.referralStatus(state)))</dd></div>"
            body += "<div><dt>\(esc(t.referredBy))</dt><dd>\(esc(by))</dd></div>"
            if !reason.isEmpty { body += "<div><dt>\(esc(t.referralReason))</dt><dd>\(esc(reason))</dd></div>" }
            body += "</dl><form method=\"post\" action=\"/referencias-recibidas/mover\" class=\"stack\">"
            body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"referencia\" value=\"\(esc(id))\">"
            var actions: [(String, String)] = []
            if state == "requested" { actions.append(("received", t.markReceived)) }
            if state == "requested" || state == "received" { actions += [("accepted", t.acceptReferral), ("rejected", t.rejectReferral)] }
            if ["accepted", "ready", "on-hold"].contains(state) { actions.append(("in-progress", t.startReferral)) }
            if actions.contains(where: { $0.0 == "rejected" }) {
                body += "<label for=\"motivo-\(esc(id))\">\(esc(t.rejectReason))</label><textarea id=\"motivo-\(esc(id))\" name=\"motivo\" rows=\"2\" maxlength=\"500\"></textarea>"
            }
            body += "<div class=\"actions\">"
            for (to, label) in actions {
                body += "<button type=\"submit\" name=\"estado\" value=\"\(to)\"\(to == "rejected" ? " class=\"danger\"" : "")>\(esc(label))</button>"
            }
            body += "</div></form></li>"
        }
        body += "</ul>"
        return html(status, layout(s, request, title: t.navInbox, body: body))
    }

    /// `POST /referencias-recibidas/mover`: the receiver moves a referral (a Task update through
    /// their guard; the state machine refuses what is not allowed, shown as the page's error).
    func moveReferral(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navInbox, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard let id = form["referencia"], Repository.isValidID(id), let to = form["estado"],
              ["received", "accepted", "rejected", "in-progress"].contains(to) else { throw FHIRError.notFound("Task", form["referencia"] ?? "") }
        let g = try await guarded(s, context)
        let stored = try await g.read("Task", id)
        var task = try stored.json()
        guard ReferralWorkflow.isReferral(task) else { throw FHIRError.notFound("Task", id) }
        task = task.setting("status", .string(to))
        if to == "rejected", let why = form["motivo"]?.trimmingCharacters(in: .whitespacesAndNewlines), !why.isEmpty {
            task = task.setting("statusReason", .object([("text", .string(why))]))
        }
        do {
            _ = try await g.update("Task", id, task, ifMatch: stored.version)
        } catch let e as FHIRError where e.status == 422 || e.status == 412 {
            let issue = e.issues.first
            return try await inboxPage(s, request, context, notice: t.language == .es ? issue?.spanish : issue?.english, status: .unprocessableContent)
        }
        return try await inboxPage(s, request, context, notice: t.referralMoved(t.referralStatus(to)))
    }
}
