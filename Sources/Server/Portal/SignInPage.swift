import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Trust

extension Portal {
    /// `GET /entrar`: the sign-in form. Its CSRF token is a random value also set in an HttpOnly
    /// cookie (double submit), since there is no session yet.
    func signInPage(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        var context = context
        if try await session(request, &context) != nil { return Portal.redirect("/") }
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let t = PortalStrings(language: language(request))
        let csrf = randomToken()
        return html(.ok, signInHTML(request, t, csrf: csrf, next: Portal.safeNext(q["next"]), message: nil, username: ""),
                    cookies: [loginCSRFCookie(csrf)])
    }

    func loginCSRFCookie(_ value: String) -> String {
        var c = "\(Self.loginCSRFCookie)=\(value); Path=/entrar; Max-Age=1800; HttpOnly; SameSite=Strict"
        if services.configuration.fhirBase.lowercased().hasPrefix("https://") { c += "; Secure" }
        return c
    }

    func signInHTML(_ request: Request, _ t: PortalStrings, csrf: String, next: String, message: String?, username: String) -> String {
        var body = "<section class=\"card narrow\">\n<p>\(esc(t.signInLead))</p>\n"
        if let message { body += "<p class=\"error\" role=\"alert\">\(esc(message))</p>\n" }
        body += """
            <form method="post" action="/entrar" class="stack">
            <input type="hidden" name="csrf" value="\(esc(csrf))">
            <input type="hidden" name="next" value="\(esc(next))">
            <label for="username">\(esc(t.username))</label>
            <input type="text" id="username" name="username" value="\(esc(username))" autocomplete="username" autocapitalize="none" spellcheck="false" required>
            <label for="password">\(esc(t.password))</label>
            <input type="password" id="password" name="password" autocomplete="current-password" required>
            <label for="totp">\(esc(t.totp))</label>
            <input type="text" id="totp" name="totp" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" aria-describedby="totp-hint">
            <p class="hint" id="totp-hint">\(esc(t.totpHint))</p>
            <button type="submit">\(esc(t.signIn))</button>
            </form>
            </section>
            """
        return layout(nil, request, title: t.signInTitle, body: body, strings: t)
    }

    /// `POST /entrar`: password (+ TOTP when the user has one, or is staff and the server requires
    /// it) through the IdentityService, with its lockout; on success a session cookie holding an
    /// access token for the portal.
    func signIn(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = PortalStrings(language: language(request))
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        let next = Portal.safeNext(form["next"])
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        guard let cookie = OAuthEndpoints.cookie(request, Self.loginCSRFCookie), let sent = form["csrf"], constantTimeEqual(cookie, sent) else {
            let csrf = randomToken()
            return html(.forbidden, signInHTML(request, t, csrf: csrf, next: next, message: t.formExpired, username: username),
                        cookies: [loginCSRFCookie(csrf)])
        }
        let user: User
        do {
            let totp = (form["totp"] ?? "").trimmingCharacters(in: .whitespaces)
            user = try await identity.authenticate(username: username, password: form["password"] ?? "", totp: totp.isEmpty ? nil : totp)
        } catch let e as IdentityError {
            let (message, status): (String, HTTPResponse.Status)
            switch e {
            case .locked: (message, status) = (t.locked, .tooManyRequests)
            case .totpRequired: (message, status) = (t.totpRequired, .unauthorized)
            case .totpNotEnrolled: (message, status) = (t.totpNotEnrolled, .forbidden)
            default: (message, status) = (t.invalidCredentials, .unauthorized)
            }
            let csrf = randomToken()
            return html(status, signInHTML(request, t, csrf: csrf, next: next, message: message, username: username),
                        cookies: [loginCSRFCookie(csrf)])
        }
        let scope: String
        switch user.principalRole {
        case .patient, .relatedPerson: scope = "openid fhirUser patient/*.cruds"
        case .practitioner: scope = "openid fhirUser user/*.cruds"
        // the review queue: read, and update Tasks (what the role allows stays the guard's call)
        case .privacyOfficer: scope = "openid fhirUser user/*.rs user/Task.u"
        // an institution's finance office opens the settlement disputes it pays and resolves the
        // ones it is owed; the finance rule keeps the write to its own dispute Tasks
        // (docs/access.md, "Finance")
        case .payer: scope = "openid fhirUser user/*.rs user/Task.cu"
        // the pharmacy counter records dispenses (docs/prescribing.md)
        case .pharmacy: scope = "openid fhirUser user/*.rs user/MedicationDispense.c"
        default: scope = "openid fhirUser user/*.rs"
        }
        let (token, claims) = try identity.issueToken(for: user, scope: scope, patient: nil, clientID: "portal",
                                                      authority: services.authority, ttl: Self.sessionTTL)
        let principal = Principal(claims: claims)
        context.audit?.principal = principal
        context.audit?.decidedBy("urn:enlace:rule:portal-sign-in")
        return Portal.redirect(next, cookies: [sessionCookie(token, maxAge: Self.sessionTTL),
                                               "\(Self.loginCSRFCookie)=; Path=/entrar; Max-Age=0; HttpOnly; SameSite=Strict"])
    }

    /// `POST /salir`: revokes the session's token and clears the cookie.
    func signOut(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        var context = context
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        if let s = try await session(request, &context), let sent = form["csrf"], constantTimeEqual(sent, s.csrf) {
            try await identity.revoke(tokenID: s.claims.tokenID, expires: s.claims.expires)
        }
        return Portal.redirect("/entrar", cookies: [sessionCookie("", maxAge: 0)])
    }
}
