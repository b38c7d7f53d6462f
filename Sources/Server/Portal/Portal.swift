import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage
import Trust

/// The web portal for patients and clinicians, served at `/` by the same binary as the FHIR API.
/// Server-rendered HTML (plain Swift templates, every value escaped), plain CSS and a little
/// JavaScript served as files under `/static/` (the CSP allows no inline script or style).
///
/// A signed-in session is an access token of this server (the same one the API accepts) in an
/// HttpOnly, SameSite=Lax cookie; every request checks it is not revoked and its user not
/// disabled. Every page reads data through `GuardedRepository` for the user's `Principal`, and the
/// principal is put on the request's audit context, so each page load is one audit entry naming
/// the person. Forms carry a CSRF token bound to the session. One file per page.
struct Portal: Sendable {
    let services: EnlaceServices
    let identity: IdentityService

    init(services: EnlaceServices) {
        self.services = services
        identity = services.identity
    }

    static let sessionCookie = "enlace_portal"
    static let loginCSRFCookie = "enlace_portal_csrf"
    static let languageCookie = "lang"
    static let sessionTTL: Int64 = 8 * 3600

    /// Paths the portal owns; the bearer-token middleware leaves them to the portal's own session.
    static let prefixes = ["/static/", "/entrar", "/salir", "/idioma", "/expediente", "/accesos", "/decisiones", "/permisos",
                           "/descargar", "/resumen", "/pacientes", "/solicitar-acceso", "/revisiones", "/inicio", "/favicon.ico"]

    static func owns(_ path: String) -> Bool {
        path == "/" || (prefixes + domainPrefixes).contains { path == $0 || path.hasPrefix($0 + "/") || ($0.hasSuffix("/") && path.hasPrefix($0)) }
    }

    func register(on router: Router<EnlaceRequestContext>) {
        router.get("static/portal.css") { _, _ in Portal.asset(PortalAssets.css, type: "text/css; charset=utf-8") }
        router.get("static/portal.js") { _, _ in Portal.asset(PortalAssets.js, type: "text/javascript; charset=utf-8") }
        router.get("static/favicon.svg") { _, _ in Portal.asset(PortalAssets.icon, type: "image/svg+xml") }
        router.get("favicon.ico") { _, _ in Portal.asset(PortalAssets.icon, type: "image/svg+xml") }
        router.get("/") { req, ctx in try await home(req, ctx) }
        router.get("inicio") { req, ctx in try await home(req, ctx) }
        router.get("idioma") { req, _ in switchLanguage(req) }
        router.get("entrar") { req, ctx in try await signInPage(req, ctx) }
        router.post("entrar") { req, ctx in try await signIn(req, ctx) }
        router.post("salir") { req, ctx in try await signOut(req, ctx) }
        router.get("expediente") { req, ctx in try await page(req, ctx) { try await recordPage($0, $1, $2, patientID: nil) } }
        router.get("accesos") { req, ctx in try await page(req, ctx) { try await accessLogPage($0, $1, $2) } }
        router.get("decisiones") { req, ctx in try await page(req, ctx) { try await decisionsPage($0, $1, $2) } }
        router.get("permisos") { req, ctx in try await page(req, ctx) { try await consentsPage($0, $1, $2) } }
        router.post("permisos/revocar") { req, ctx in try await page(req, ctx) { try await revokeConsent($0, $1, $2) } }
        router.post("permisos/solicitudes/aprobar") { req, ctx in try await page(req, ctx) { try await answerRequest($0, $1, $2, approve: true) } }
        router.post("permisos/solicitudes/rechazar") { req, ctx in try await page(req, ctx) { try await answerRequest($0, $1, $2, approve: false) } }
        router.get("descargar") { req, ctx in try await page(req, ctx) { try await download($0, $1, $2) } }
        router.get("resumen") { req, ctx in try await page(req, ctx) { try await summaryPage($0, $1, $2, patientID: nil) } }
        router.get("pacientes") { req, ctx in try await page(req, ctx) { try await patientsPage($0, $1, $2) } }
        router.get("revisiones") { req, ctx in try await page(req, ctx) { try await reviewsPage($0, $1, $2) } }
        router.post("revisiones/{id}") { req, ctx in
            try await page(req, ctx) { s, r, c in try await review(s, r, c, taskID: try c.parameters.require("id")) }
        }
        router.get("pacientes/{id}") { req, ctx in
            try await page(req, ctx) { s, r, c in
                let id = try c.parameters.require("id")
                do {
                    return try await recordPage(s, r, c, patientID: id)
                } catch let e as FHIRError where (e.status == 403 || e.status == 404 || e.status == 410)
                    && s.principal.effectiveRole == .practitioner && Repository.isValidID(id) {
                    return clinicianRefusal(s, r, patientID: id)
                }
            }
        }
        router.get("pacientes/{id}/emergencia") { req, ctx in
            try await page(req, ctx) { s, r, c in
                let id = try c.parameters.require("id")
                try requirePractitioner(s)
                guard Repository.isValidID(id) else { throw FHIRError.notFound("Patient", id) }
                let body = breakTheGlassForm(s, patientID: id, reason: "", error: nil) + "<p><a href=\"/pacientes\">\(esc(s.strings.cancel))</a></p>"
                return html(.ok, layout(s, r, title: s.strings.breakTheGlass, body: body))
            }
        }
        router.post("pacientes/{id}/emergencia") { req, ctx in
            try await page(req, ctx) { s, r, c in try await breakTheGlass(s, r, c, patientID: try c.parameters.require("id")) }
        }
        router.get("solicitar-acceso") { req, ctx in try await page(req, ctx) { try await requestAccessPage($0, $1, $2) } }
        router.post("solicitar-acceso") { req, ctx in try await page(req, ctx) { try await submitAccessRequest($0, $1, $2) } }
        registerDomainPages(on: router)
    }

    static func asset(_ text: String, type: String) -> Response {
        var h: HTTPFields = [.contentType: type, .cacheControl: "public, max-age=3600"]
        h[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - session

    /// The signed-in person of one request.
    struct Session: Sendable {
        let claims: AccessTokenClaims
        let principal: Principal
        let user: User
        let strings: PortalStrings
        /// The CSRF token of this session's forms (derived from the token id, which only the cookie holds).
        var csrf: String { secretDigest("portal-csrf:" + claims.tokenID) }
        var isPatient: Bool { principal.effectiveRole == .patient || principal.effectiveRole == .relatedPerson }
        /// The patient whose record a patient user sees (their own).
        var ownPatient: String? { principal.patient.map { $0.hasPrefix("Patient/") ? String($0.dropFirst(8)) : $0 } }
    }

    func language(_ request: Request) -> PortalStrings.Language {
        if let l = OAuthEndpoints.cookie(request, Self.languageCookie), let lang = PortalStrings.Language(rawValue: l) { return lang }
        return .es
    }

    /// The session of the request's cookie, or nil (no cookie, expired, revoked, user disabled).
    func session(_ request: Request, _ context: inout EnlaceRequestContext) async throws -> Session? {
        guard let token = OAuthEndpoints.cookie(request, Self.sessionCookie), !token.isEmpty,
              let claims = try? await services.authority.verify(token, now: services.clock.now()),
              claims.clientID == "portal",
              try await identity.isActive(tokenID: claims.tokenID, subject: claims.subject),
              claims.subject.hasPrefix("user:"), let user = try await identity.user(String(claims.subject.dropFirst(5))), !user.disabled
        else { return nil }
        let principal = Principal(claims: claims)
        context.principal = principal
        context.audit?.principal = principal
        return Session(claims: claims, principal: principal, user: user, strings: PortalStrings(language: language(request)))
    }

    /// Runs a signed-in page: no session → the sign-in page; a refusal or a missing record → the
    /// refusal page (403/404 look the same, so a refusal never tells whether data exists).
    func page(_ request: Request, _ context: EnlaceRequestContext,
              _ body: (Session, Request, EnlaceRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        guard let session = try await session(request, &context) else {
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Portal.redirect("/entrar?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        do {
            return try await body(session, request, context)
        } catch let e as FHIRError where e.status == 403 || e.status == 404 || e.status == 410 {
            return refusal(session, request)
        }
    }

    func refusal(_ s: Session, _ request: Request) -> Response {
        let t = s.strings
        let body = """
            <section class="card refusal" role="alert">
            <p>\(esc(t.refusalLead))</p>
            <p>\(esc(t.refusalWhy))</p>
            <p><a href="/">\(esc(t.backHome))</a></p>
            </section>
            """
        return html(.forbidden, layout(s, request, title: t.refusalTitle, body: body))
    }

    /// The guarded repository of the signed-in person: the only way the portal reads or writes data.
    func guarded(_ s: Session, _ context: EnlaceRequestContext) async throws -> GuardedRepository {
        try await services.door.open(s.principal, audit: context.audit)
    }

    func sessionCookie(_ value: String, maxAge: Int64) -> String {
        var c = "\(Self.sessionCookie)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        if services.configuration.fhirBase.lowercased().hasPrefix("https://") { c += "; Secure" }
        return c
    }

    // MARK: - home and language

    func home(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        var context = context
        guard let s = try await session(request, &context) else { return Portal.redirect("/entrar") }
        switch s.principal.effectiveRole {
        case .patient, .relatedPerson: return Portal.redirect("/expediente")
        case .practitioner: return Portal.redirect("/pacientes")
        case .privacyOfficer: return Portal.redirect("/revisiones")
        default:
            let body = "<section class=\"card\"><p>\(esc(s.strings.staffHome))</p></section>"
            return html(.ok, layout(s, request, title: s.strings.welcome(s.user.username), body: body))
        }
    }

    /// `GET /idioma?lang=en&next=/expediente`: remembers the language in a cookie and goes back.
    func switchLanguage(_ request: Request) -> Response {
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let lang = PortalStrings.Language(rawValue: q["lang"] ?? "") ?? .es
        var r = Portal.redirect(Portal.safeNext(q["next"]))
        r.headers[.setCookie] = "\(Self.languageCookie)=\(lang.rawValue); Path=/; Max-Age=31536000; SameSite=Lax"
        return r
    }

    /// Only same-site paths are followed after sign-in or a language switch.
    static func safeNext(_ next: String?) -> String {
        guard let n = next, n.hasPrefix("/"), !n.hasPrefix("//"), !n.contains("\\"), !n.contains("\r"), !n.contains("\n") else { return "/" }
        return n
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var h: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for c in cookies { h.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: .seeOther, headers: h)
    }

    // MARK: - rendering

    func esc(_ s: String) -> String { HTML.escape(s) }

    static func headers() -> HTTPFields {
        var h = HTML.headers()
        h[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        h[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=()"
        return h
    }

    func html(_ status: HTTPResponse.Status, _ text: String, cookies: [String] = []) -> Response {
        var h = Portal.headers()
        for c in cookies { h.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The page frame: skip link, header with navigation and language switch, main, footer.
    func layout(_ s: Session?, _ request: Request, title: String, body: String, strings: PortalStrings? = nil) -> String {
        let t = s?.strings ?? strings ?? PortalStrings(language: language(request))
        let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        let other: PortalStrings.Language = t.language == .es ? .en : .es
        let switchHref = "/idioma?lang=\(other.rawValue)&next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")
        var nav = ""
        if let s {
            var links: [(String, String)] = []
            if s.isPatient {
                links = [("/expediente", t.navRecord), ("/accesos", t.navAccess), ("/decisiones", t.navDecisions),
                         ("/permisos", t.navConsents), ("/resumen", t.navSummary)]
            } else if s.principal.effectiveRole == .practitioner {
                links = [("/pacientes", t.navPatients)]
            } else if s.principal.effectiveRole == .privacyOfficer {
                links = [("/revisiones", t.navReviews)]
            }
            links += domainNavigation(s)
            nav = "<nav aria-label=\"\(esc(t.navLabel))\"><ul>"
            for (href, label) in links {
                let current = request.uri.path == href || (href != "/" && request.uri.path.hasPrefix(href + "/"))
                nav += "<li><a href=\"\(href)\"\(current ? " aria-current=\"page\"" : "")>\(esc(label))</a></li>"
            }
            nav += "</ul></nav>"
        }
        var account = "<div class=\"account\"><a class=\"lang\" href=\"\(esc(switchHref))\" lang=\"\(other.tag)\" hreflang=\"\(other.tag)\">\(esc(t.switchLanguage))</a>"
        if let s {
            account += """
                <span class="who">\(esc(s.user.username))</span>
                <form method="post" action="/salir" class="inline"><input type="hidden" name="csrf" value="\(esc(s.csrf))"><button type="submit" class="link">\(esc(t.signOut))</button></form>
                """
        }
        account += "</div>"
        return """
            <!DOCTYPE html>
            <html lang="\(t.language.tag)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title)) · Enlace</title>
            <link rel="stylesheet" href="/static/portal.css">
            <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
            <script src="/static/portal.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">\(esc(t.skipToContent))</a>
            <header>
            <div class="bar"><a class="brand" href="/">Enlace</a>\(account)</div>
            \(nav)
            </header>
            <main id="main" tabindex="-1">
            <h1>\(esc(title))</h1>
            \(body)
            </main>
            <footer><p>\(esc(t.footer))</p></footer>
            </body>
            </html>
            """
    }
}
