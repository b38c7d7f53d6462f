import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Mis permisos* (`/permisos`): the patient's active Consents, each revocable with one
    /// button (status → inactive, written through the guarded repository, so the change is
    /// audited with a Provenance). Consent requests and break-the-glass are another page's job.
    func consentsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let message = request.uri.query?.contains("revocado=1") == true ? t.revoked : nil
        guard s.isPatient, let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        let consents = try await compartment(g, patient: id, types: ["Consent"], limit: 200)
        let active = consents.filter { $0["status"]?.stringValue == "active" }
        var body = "<p>\(esc(t.consentsLead))</p>"
        if let message { body += "<p class=\"notice\" role=\"status\">\(esc(message))</p>" }
        if active.isEmpty {
            body += "<p>\(esc(t.noConsents))</p>"
        } else {
            body += "<ul class=\"cards\">"
            for c in active {
                let cid = c["id"]?.stringValue ?? ""
                let scope = Portal.text(c["scope"]) ?? "—"
                let category = Portal.text(c["category"]?.arrayValue?.first) ?? "—"
                let actors = (c["provision"]?["actor"]?.arrayValue ?? []).compactMap { Portal.refText($0["reference"]) }
                let orgs = (c["organization"]?.arrayValue ?? []).compactMap { Portal.refText($0) }
                let period = c["provision"]?["period"]
                body += "<li class=\"card\"><h2 class=\"h3\">\(esc(category))</h2><dl class=\"facts\">"
                body += "<div><dt>\(esc(t.consentScope))</dt><dd>\(esc(scope))</dd></div>"
                if !actors.isEmpty { body += "<div><dt>\(esc(t.consentWho))</dt><dd>\(esc(actors.joined(separator: ", ")))</dd></div>" }
                if !orgs.isEmpty { body += "<div><dt>\(esc(t.organization))</dt><dd>\(esc(orgs.joined(separator: ", ")))</dd></div>" }
                if let start = period?["start"]?.stringValue ?? c["dateTime"]?.stringValue {
                    body += "<div><dt>\(esc(t.since))</dt><dd>\(esc(t.date(start)))</dd></div>"
                }
                if let end = period?["end"]?.stringValue { body += "<div><dt>\(esc(t.until))</dt><dd>\(esc(t.date(end)))</dd></div>" }
                body += "</dl><form method=\"post\" action=\"/permisos/revocar\">"
                body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"consent\" value=\"\(esc(cid))\">"
                body += "<button type=\"submit\" class=\"danger\" data-confirm=\"\(esc(t.revokeConfirm))\">\(esc(t.revoke))</button></form></li>"
            }
            body += "</ul>"
        }
        return html(.ok, layout(s, request, title: t.navConsents, body: body))
    }

    /// `POST /permisos/revocar`: sets one of the patient's Consents to `inactive`.
    func revokeConsent(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navConsents, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard s.isPatient, let id = form["consent"], Repository.isValidID(id) else { throw FHIRError.notFound("Consent", form["consent"] ?? "") }
        let g = try await guarded(s, context)
        let current = try await g.read("Consent", id)
        let json = try current.json()
        if json["status"]?.stringValue == "active" {
            _ = try await g.update("Consent", id, json.setting("status", .string("inactive")), ifMatch: current.version)
        }
        return Portal.redirect("/permisos?revocado=1")
    }
}
