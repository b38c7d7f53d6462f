import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Trust

extension OAuthEndpoints {
    static let sessionCookie = "enlace_oauth"

    func setCookie(_ value: String, maxAge: Int64) -> String {
        var c = "\(Self.sessionCookie)=\(value); Path=/oauth; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        if configuration.fhirBase.lowercased().hasPrefix("https://") { c += "; Secure" }
        return c
    }

    func errorPage(_ strings: Strings, _ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        HTML.response(status, HTML.page(title: strings.errorTitle, language: strings.language,
                                        body: "<p class=\"error\">\(HTML.escape(message))</p>"))
    }

    /// A redirect back to the app with an RFC 6749 §4.1.2.1 error.
    func redirectError(_ redirect: String, _ state: String?, _ error: String, _ description: String) -> Response {
        var pairs = [("error", error), ("error_description", description)]
        if let state { pairs.append(("state", state)) }
        return redirect302(redirect, pairs)
    }

    func redirect302(_ redirect: String, _ pairs: [(String, String)], cookie: String? = nil) -> Response {
        let location = redirect + (redirect.contains("?") ? "&" : "?") + Self.formEncode(pairs)
        var h: HTTPFields = [.location: location, .cacheControl: "no-store"]
        h[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if let cookie { h[.setCookie] = cookie }
        return Response(status: .found, headers: h)
    }

    /// `GET /oauth/authorize` (RFC 6749 §4.1.1 with PKCE, SMART App Launch 2.x §authorization):
    /// checks the client, the exact redirect URI, `response_type=code`, `code_challenge_method=S256`
    /// (`plain` refused), `state`, `scope` and `aud`; then starts a sign-in session and shows the
    /// sign-in page.
    func authorize(_ request: Request) async throws -> Response {
        let query = Self.parseForm(request.uri.query ?? "")
        let strings = Strings(language: Strings.negotiate(parameter: query?["ui_locales"] ?? query?["lang"],
                                                          acceptLanguage: request.headers[.acceptLanguage]))
        guard let q = query else { return errorPage(strings, "invalid_request: repeated or badly encoded parameters") }
        // Until the client and its redirect URI check out, errors are shown here, never redirected.
        guard let clientID = q["client_id"], let client = try await identity.client(clientID), !client.disabled else {
            return errorPage(strings, strings.unknownClient)
        }
        guard let redirect = q["redirect_uri"], client.redirectURIs.contains(redirect) else {
            return errorPage(strings, strings.badRedirect)
        }
        let state = q["state"]
        guard q["response_type"] == "code" else {
            return redirectError(redirect, state, "unsupported_response_type", "response_type must be code")
        }
        guard let state, !state.isEmpty, state.count <= 512 else {
            return redirectError(redirect, nil, "invalid_request", "state is required")
        }
        guard q["code_challenge_method"] == "S256" else {
            return redirectError(redirect, state, "invalid_request", q["code_challenge_method"] == "plain"
                ? "code_challenge_method plain is not allowed; use S256" : "PKCE with code_challenge_method=S256 is required")
        }
        guard let challenge = q["code_challenge"], challenge.count == 43, Base64URL.decode(Substring(challenge))?.count == 32 else {
            return redirectError(redirect, state, "invalid_request", "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)")
        }
        guard let aud = q["aud"], aud.trimmingCharacters(in: CharacterSet(charactersIn: "/")) == configuration.fhirBase.trimmingCharacters(in: CharacterSet(charactersIn: "/")) else {
            return redirectError(redirect, state, "invalid_request", "aud must be this server's FHIR base URL \(configuration.fhirBase)")
        }
        guard let scope = q["scope"], !scope.trimmingCharacters(in: .whitespaces).isEmpty else {
            return redirectError(redirect, state, "invalid_scope", "scope is required")
        }
        if q["launch"] != nil {
            return redirectError(redirect, state, "invalid_request", "EHR launch is not supported; use a standalone launch (launch/patient)")
        }
        let session = AuthorizationSession(clientID: client.clientID, redirectURI: redirect, state: state, scope: scope, codeChallenge: challenge,
                                           patientHint: q["patient"], language: strings.language.rawValue, csrf: randomToken(),
                                           expires: nowSeconds + Self.sessionTTL)
        let cookie = try await identity.createSession(session)
        return HTML.response(.ok, loginPage(strings, client: client, session: session, message: nil), cookie: setCookie(cookie, maxAge: Self.sessionTTL))
    }

    func loginPage(_ s: Strings, client: OAuthClient, session: AuthorizationSession, message: String?, username: String = "") -> String {
        var body = "<p>\(HTML.escape(s.signInLead(client.name)))</p>\n"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n" }
        body += """
            <form method="post" action="/oauth/authorize/login" autocomplete="off">
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrf))">
            <label for="username">\(HTML.escape(s.username))</label>
            <input type="text" id="username" name="username" value="\(HTML.escape(username))" autocomplete="username" required>
            <label for="password">\(HTML.escape(s.password))</label>
            <input type="password" id="password" name="password" autocomplete="current-password" required>
            <label for="totp">\(HTML.escape(s.totp))</label>
            <input type="text" id="totp" name="totp" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code">
            <p class="hint">\(HTML.escape(s.totpHint))</p>
            <button type="submit">\(HTML.escape(s.signIn))</button>
            </form>
            """
        return HTML.page(title: s.signInTitle, language: s.language, body: body)
    }

    /// The session of the request's cookie, checked against the form's CSRF token.
    func formSession(_ request: Request, _ form: [String: String]?) async throws -> (cookie: String, session: AuthorizationSession, client: OAuthClient)? {
        guard let form, let cookie = Self.cookie(request, Self.sessionCookie), let session = try await identity.session(cookie),
              let csrf = form["csrf"], constantTimeEqual(csrf, session.csrf),
              let client = try await identity.client(session.clientID), !client.disabled else { return nil }
        return (cookie, session, client)
    }

    /// `POST /oauth/authorize/login`: checks the password (and TOTP), with lockout; on success
    /// renews the session cookie and shows the approval page.
    func login(_ request: Request) async throws -> Response {
        let form = try await Self.readForm(request)
        guard let (cookie, session, client) = try await formSession(request, form), let form else {
            let s = Strings(language: Strings.negotiate(parameter: nil, acceptLanguage: request.headers[.acceptLanguage]))
            return errorPage(s, s.sessionExpired, status: .forbidden)
        }
        let strings = Strings(language: Strings.Language(rawValue: session.language) ?? .es)
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let user: User
        do {
            user = try await identity.authenticate(username: username, password: form["password"] ?? "", totp: form["totp"])
        } catch let e as IdentityError {
            let (message, status): (String, HTTPResponse.Status)
            switch e {
            case .locked: (message, status) = (strings.locked, .tooManyRequests)
            case .totpRequired: (message, status) = (strings.totpRequired, .unauthorized)
            case .totpNotEnrolled: (message, status) = (strings.totpNotEnrolled, .forbidden)
            default: (message, status) = (strings.invalidCredentials, .unauthorized)
            }
            return HTML.response(status, loginPage(strings, client: client, session: session, message: message, username: username))
        }
        let granted = ScopePolicy.grant(requested: session.scope, allowed: client.scope, role: user.principalRole)
        guard !granted.isEmpty else {
            try await identity.endSession(cookie)
            return redirectError(session.redirectURI, session.state, "invalid_scope", "none of the requested scopes may be granted to this user and app")
        }
        var next = session
        next.username = user.username
        next.scope = granted
        next.csrf = randomToken()
        let renewed = try await identity.rotateSession(cookie, to: next)
        return HTML.response(.ok, approvalPage(strings, client: client, session: next, user: user, message: nil),
                             cookie: setCookie(renewed, maxAge: Self.sessionTTL))
    }

    func needsPatientChoice(_ session: AuthorizationSession, _ user: User) -> Bool {
        session.scope.split(separator: " ").contains("launch/patient") && user.principalRole != .patient
    }

    func approvalPage(_ s: Strings, client: OAuthClient, session: AuthorizationSession, user: User, message: String?) -> String {
        var body = "<p>\(HTML.escape(s.approveLead(client.name, user.username)))</p>\n<ul>\n"
        for scope in session.scope.split(separator: " ") {
            body += "<li>\(HTML.escape(s.describe(String(scope)))) <code>\(HTML.escape(String(scope)))</code></li>\n"
        }
        body += "</ul>\n"
        if let message { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n" }
        body += "<form method=\"post\" action=\"/oauth/authorize/approve\">\n"
        body += "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\">\n"
        if needsPatientChoice(session, user) {
            let preset = session.patientHint.map { $0.hasPrefix("Patient/") ? $0 : "Patient/" + $0 } ?? (user.actsFor.count == 1 ? user.actsFor[0] : "")
            body += "<label for=\"patient\">\(HTML.escape(s.patientChoice))</label>\n"
            body += "<input type=\"text\" id=\"patient\" name=\"patient\" value=\"\(HTML.escape(preset))\" required>\n"
        }
        body += """
            <button type="submit" name="decision" value="approve">\(HTML.escape(s.approve))</button>
            <button type="submit" name="decision" value="deny">\(HTML.escape(s.deny))</button>
            </form>
            <p class="note">\(HTML.escape(s.revokeNote))</p>
            """
        return HTML.page(title: s.approveTitle, language: s.language, body: body)
    }

    /// `POST /oauth/authorize/approve`: on approval, redirects to the app with a single-use code
    /// valid 60 seconds; on denial, with `access_denied`.
    func approve(_ request: Request) async throws -> Response {
        let form = try await Self.readForm(request)
        guard let (cookie, session, client) = try await formSession(request, form), let form,
              let username = session.username, let user = try await identity.user(username), !user.disabled else {
            let s = Strings(language: Strings.negotiate(parameter: nil, acceptLanguage: request.headers[.acceptLanguage]))
            return errorPage(s, s.sessionExpired, status: .forbidden)
        }
        let strings = Strings(language: Strings.Language(rawValue: session.language) ?? .es)
        let clear = setCookie("", maxAge: 0)
        guard form["decision"] == "approve" else {
            try await identity.endSession(cookie)
            var r = redirectError(session.redirectURI, session.state, "access_denied", "the user denied the request")
            r.headers[.setCookie] = clear
            return r
        }
        var patient: String?
        if session.scope.split(separator: " ").contains("launch/patient") {
            switch user.principalRole {
            case .patient:
                patient = user.patient
            default:
                let raw = (form["patient"] ?? "").trimmingCharacters(in: .whitespaces)
                let ref = raw.hasPrefix("Patient/") ? raw : "Patient/" + raw
                let id = ref.dropFirst("Patient/".count)
                let valid = !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
                if !valid || (user.principalRole == .relatedPerson && !user.actsFor.contains(ref)) {
                    return HTML.response(.badRequest, approvalPage(strings, client: client, session: session, user: user, message: strings.patientRequired))
                }
                patient = ref
            }
        }
        let code = try await identity.storeCode(AuthorizationCode(clientID: client.clientID, redirectURI: session.redirectURI,
                                                                  codeChallenge: session.codeChallenge, username: user.username,
                                                                  scope: session.scope, patient: patient, expires: nowSeconds + Self.codeTTL))
        try await identity.endSession(cookie)
        return redirect302(session.redirectURI, [("code", code), ("state", session.state)], cookie: clear)
    }
}
