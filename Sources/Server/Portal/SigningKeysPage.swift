import FHIR
import Foundation
import Care
import Hummingbird
import Trust

/// *Mis llaves de firma* (`/firma/llaves`, practitioner; docs/prescribing.md, "Revoking a key"):
/// the keys registered to sign the signed-in practitioner's prescriptions, each active or
/// revoked (when, why), and a form to revoke an active one — from any browser, so a lost phone
/// or a shared computer's key can be stopped from another device. A browser whose key was
/// revoked makes a new one at its next signature (`/static/recetar.js`).
extension Portal {
    func signingKeysPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, notice: String? = nil, error: String? = nil,
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        let me = try requireClinician(s)
        let g = try await guarded(s, context)
        let signer = try await PrescriptionSignature.signer(me, repository: g)
        var body = "<p>\(esc(t.t("Las llaves con que firma sus recetas. Cada navegador donde firmó guarda la suya; si pierde el dispositivo o lo usó en una computadora compartida, revoque su llave aquí: desde ese momento no firma nada más, y lo que firmó antes sigue verificándose.", "The keys you sign your prescriptions with. Each browser you signed in keeps its own; if you lose the device or used a shared computer, revoke its key here: from then on it signs nothing more, and what it signed before still verifies.")))</p>"
        if let notice { body += "<p class=\"notice\" role=\"status\" id=\"llave-aviso\">\(esc(notice))</p>" }
        if let error { body += "<p class=\"error\" role=\"alert\" id=\"llave-error\">\(esc(error))</p>" }
        if signer.keys.isEmpty {
            body += "<p id=\"sin-llaves\">\(esc(t.t("Aún no tiene llaves: se crea una la primera vez que firma una receta en Recetar.", "You have no keys yet: one is made the first time you sign a prescription on Recetar.")))</p>"
        }
        body += "<ul class=\"keys stack\" id=\"llaves\">"
        for key in signer.keys {
            let kid = key["kid"]?.stringValue ?? ""
            body += "<li class=\"card\" id=\"llave-\(esc(kid))\"><p><code>\(esc(String(kid.prefix(16))))…</code> "
            if let r = signer.revoked[kid] {
                body += "<span class=\"sig-bad\">\(esc(t.t("Revocada", "Revoked")))</span> · \(esc(t.dateTime(r.revoked.description))) · \(esc(r.reason))</p>"
            } else {
                body += "<span class=\"sig-ok\">\(esc(t.t("Activa", "Active")))</span></p>"
                body += "<form method=\"post\" action=\"/firma/llaves/revocar\" class=\"stack\">"
                body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"kid\" value=\"\(esc(kid))\">"
                body += "<label for=\"motivo-\(esc(kid))\">\(esc(t.t("Motivo", "Reason")))</label>"
                body += "<input type=\"text\" id=\"motivo-\(esc(kid))\" name=\"motivo\" maxlength=\"500\" required autocomplete=\"off\">"
                body += "<div class=\"actions\"><button type=\"submit\" class=\"danger\">\(esc(t.t("Revocar esta llave", "Revoke this key")))</button></div></form>"
            }
            body += "</li>"
        }
        body += "</ul>"
        return html(status, layout(s, request, title: t.t("Mis llaves de firma", "My signing keys"), body: body))
    }

    /// `POST /firma/llaves/revocar` (form `csrf`, `kid`, `motivo`): `Door.revokeSigningKey`, then
    /// the page again with what happened.
    func revokeBrowserKey(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        _ = try requireClinician(s)
        let (form, refusal) = try await checkedForm(s, request, title: t.t("Mis llaves de firma", "My signing keys"))
        if let refusal { return refusal }
        let kid = form?["kid"] ?? ""
        do {
            _ = try await services.door.revokeSigningKey(s.principal, kid: kid, reason: form?["motivo"] ?? "", audit: context.audit)
        } catch let e as FHIRError where [404, 422].contains(e.status) {
            return try await signingKeysPage(s, request, context, error: t.language == .es ? e.issues.first?.spanish : e.issues.first?.english,
                                             status: e.status == 404 ? .notFound : .unprocessableContent)
        }
        return try await signingKeysPage(s, request, context, notice: t.t("Llave revocada: ya no firma recetas.", "Key revoked: it signs no more prescriptions."))
    }
}
