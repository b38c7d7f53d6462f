import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Revisiones* (`/revisiones`): the privacy officer's break-the-glass review queue — the
    /// `btg-review` Tasks (docs/consent.md, *Break-the-glass*), pending first, then the last
    /// ones reviewed. Read through the officer's guarded repository (Tasks, Consents and
    /// Communications only: no clinical data, so patients and practitioners show by reference).
    func reviewsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        try requirePrivacyOfficer(s)
        let g = try await guarded(s, context)
        let query = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        var body = "<p>\(esc(t.reviewsLead))</p>"
        if query["revisada"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.reviewSaved))</p>" }
        if query["revocada"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.reviewRevoked))</p>" }
        var options = SearchParser.Options()
        options.maxCount = 100
        for (status, heading, actionable) in [("requested", t.reviewsPending, true), ("completed,cancelled", t.reviewsDone, false)] {
            let (q, _) = try SearchParser(options: options).parse(types: ["Task"], parameters: [
                ("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.breakTheGlassReview)"), ("status", status),
                ("_sort", "-_lastUpdated"), ("_count", actionable ? "100" : "20"), ("_total", "none")])
            let tasks = try await g.search(q).matches.compactMap { try? $0.json() }
            body += "<section aria-labelledby=\"h-\(actionable ? "pending" : "done")\"><h2 id=\"h-\(actionable ? "pending" : "done")\">\(esc(heading))</h2>"
            if tasks.isEmpty {
                body += "<p>\(esc(actionable ? t.noPendingReviews : t.noReviews))</p></section>"
                continue
            }
            body += "<ul class=\"cards\">"
            for task in tasks { body += reviewCard(s, task, actionable: actionable) }
            body += "</ul></section>"
        }
        return html(.ok, layout(s, request, title: t.navReviews, body: body))
    }

    func reviewCard(_ s: Session, _ task: JSON, actionable: Bool) -> String {
        let t = s.strings
        let id = task["id"]?.stringValue ?? ""
        let who = task["requester"]?["reference"]?.stringValue ?? "—"
        let patient = task["for"]?["reference"]?.stringValue ?? "—"
        let reason = task["reasonCode"]?["text"]?.stringValue ?? task["description"]?.stringValue ?? ""
        let period = task["executionPeriod"]
        var card = "<li class=\"card btg\" id=\"revision-\(esc(id))\"><h3>\(esc(t.reviewOf(who)))</h3><dl class=\"facts\">"
        card += "<div><dt>\(esc(t.reviewPatient))</dt><dd class=\"mono\">\(esc(patient))</dd></div>"
        card += "<div><dt>\(esc(t.reason))</dt><dd>\(esc(reason))</dd></div>"
        if let start = period?["start"]?.stringValue { card += "<div><dt>\(esc(t.since))</dt><dd>\(esc(t.dateTime(start)))</dd></div>" }
        if let end = period?["end"]?.stringValue { card += "<div><dt>\(esc(t.until))</dt><dd>\(esc(t.dateTime(end)))</dd></div>" }
        if !actionable {
            let status = task["status"]?.stringValue == "cancelled" ? t.reviewStatusRevoked : t.reviewStatusJustified
            card += "<div><dt>\(esc(t.reviewStatus))</dt><dd>\(esc(status))</dd></div>"
            if let note = task["note"]?.arrayValue?.last?["text"]?.stringValue {
                card += "<div><dt>\(esc(t.reviewNote))</dt><dd>\(esc(note))</dd></div>"
            }
        }
        card += "</dl>"
        if actionable {
            card += "<form method=\"post\" action=\"/revisiones/\(esc(id))\">"
            card += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
            card += "<label for=\"nota-\(esc(id))\">\(esc(t.reviewNote))</label>"
            card += "<textarea id=\"nota-\(esc(id))\" name=\"nota\" rows=\"2\" maxlength=\"500\"></textarea>"
            card += "<div class=\"actions\"><button type=\"submit\" name=\"resultado\" value=\"justificado\">\(esc(t.reviewJustify))</button>"
            card += "<button type=\"submit\" name=\"resultado\" value=\"revocar\" class=\"danger\" data-confirm=\"\(esc(t.reviewRevokeConfirm))\">\(esc(t.reviewRevoke))</button></div></form>"
        }
        return card + "</li>"
    }

    /// `POST /revisiones/{id}`: closes a review — justified (`completed`) or revoked
    /// (`cancelled`, the access ends at once) — with `PrivacyOperations.review`, the function
    /// behind `Task/{id}/$review`, and the same audit context handling.
    func review(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, taskID: String) async throws -> Response {
        let t = s.strings
        try requirePrivacyOfficer(s)
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navReviews, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard Repository.isValidID(taskID), let outcome = form["resultado"], ["justificado", "revocar"].contains(outcome) else {
            throw FHIRError.badRequest("choose justified or revoke", "elija justificado o revocar")
        }
        let note = (form["nota"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        context.audit?.interaction = "$review"
        _ = try await services.door.review(taskID: taskID, outcome: outcome == "revocar" ? "revoke" : nil,
                                           note: note.isEmpty ? nil : String(note.prefix(500)), principal: s.principal, audit: context.audit)
        return Portal.redirect(outcome == "revocar" ? "/revisiones?revocada=1" : "/revisiones?revisada=1")
    }

    func requirePrivacyOfficer(_ s: Session) throws {
        guard s.principal.effectiveRole == .privacyOfficer else {
            throw FHIRError(status: 403, code: "forbidden", english: "for privacy officers", spanish: "para el oficial de privacidad")
        }
    }
}
