import Crypto
import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Server
import StorageSQLite
import Testing
@_spi(Unguarded) import Trust

/// A server with one patient user, one practitioner, a public SMART app and a backend service
/// (a `TestServer` with cheap password hashing).
struct OAuthHarness {
    let server: TestServer
    let serviceKey = P384.Signing.PrivateKey()
    static let redirect = "https://app.example/cb"
    static let appScope = "openid fhirUser launch/patient offline_access patient/*.rs user/*.rs"

    var directory: String { server.directory }
    var services: EnlaceServices { server.services }
    var clock: ManualClock { server.clock }
    var operatorToken: String { server.token }

    init(appName: String = "Mi Salud", configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        server = try TestServer { config in
            config.passwordIterations = 1000
            configure(&config)
        }
        let identity = server.services.identity
        _ = try await identity.addUser(username: "ana", role: .patient, password: "ana-password-1", patient: "Patient/p1")
        _ = try await identity.addUser(username: "dr", role: .practitioner, password: "dr-password-1", fhirUser: "Practitioner/7",
                                       organization: "Organization/umf-10")
        try await identity.addClient(OAuthClient(clientID: "app", name: appName, redirectURIs: [Self.redirect], scope: Self.appScope))
        let raw = Array(serviceKey.publicKey.rawRepresentation)
        let jwks = JSON.object([("keys", .array([.object([
            ("kty", .string("EC")), ("crv", .string("P-384")), ("kid", .string("k1")), ("alg", .string("ES384")),
            ("x", .string(Base64URL.encode(Array(raw[0..<48])))), ("y", .string(Base64URL.encode(Array(raw[48..<96])))),
        ])]))]).compactString
        try await identity.addClient(OAuthClient(clientID: "lab", name: "Laboratorio", redirectURIs: [], scope: "system/*.rs", jwks: jwks))
    }

    var fhirBase: String { services.configuration.fhirBase }

    func run(_ body: @Sendable (OAuthClientDriver) async throws -> Void) async throws {
        let driver = OAuthClientDriver(harness: self)
        try await server.run { c in
            try await body(driver.with(c.client))
        }
    }

    /// A signed ES384 client assertion for the `lab` service.
    func assertion(aud: String? = nil, jti: String = UUID().uuidString, exp: Int64 = 120, iss: String = "lab", expText: String? = nil) throws -> String {
        let now = clock.now().microseconds / 1_000_000
        let header = Base64URL.encode(Array(#"{"alg":"ES384","typ":"JWT","kid":"k1"}"#.utf8))
        let payload = Base64URL.encode(JSON.object([
            ("iss", .string(iss)), ("sub", .string(iss)), ("aud", .string(aud ?? services.configuration.tokenURL)),
            ("exp", .number(expText ?? String(now + exp))), ("jti", .string(jti)),
        ]).serialized())
        let sig = try serviceKey.signature(for: Array((header + "." + payload).utf8))
        return header + "." + payload + "." + Base64URL.encode(Array(sig.rawRepresentation))
    }
}

struct OAuthClientDriver: Sendable {
    let harness: OAuthHarness
    var client: (any TestClientProtocol)? = nil

    func with(_ c: any TestClientProtocol) -> OAuthClientDriver { var d = self; d.client = c; return d }

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let text: String
        var json: JSON { (try? JSONParser.parse(text)) ?? .null }
        func header(_ n: String) -> String? { headers[HTTPField.Name(n)!] }
        var cookie: String? {
            guard let c = header("Set-Cookie"), let first = c.split(separator: ";").first else { return nil }
            return String(first)
        }
        /// The value of a hidden input `name`.
        func hidden(_ name: String) -> String? {
            guard let r = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(text[r.upperBound...].prefix { $0 != "\"" })
        }
        /// Query parameters of the Location header.
        var redirectParameters: [String: String] {
            guard let loc = header("Location"), let q = URLComponents(string: loc)?.queryItems else { return [:] }
            return Dictionary(q.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        }
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, form: [(String, String)]? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var h: HTTPFields = [:]
        var body: ByteBuffer?
        if let form {
            h[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: Self.encode(form))
        }
        for (k, v) in headers { h[HTTPField.Name(k)!] = v }
        return try await client!.execute(uri: uri, method: method, headers: h, body: body) { r in
            Reply(status: Int(r.status.code), headers: r.headers, text: String(buffer: r.body))
        }
    }

    static func encode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    }

    static func verifier() -> String { Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) }) }
    static func challenge(_ v: String) -> String { Base64URL.encode(Array(SHA256.hash(data: Array(v.utf8)))) }

    func authorizeURI(verifier: String, method: String = "S256", redirect: String = OAuthHarness.redirect,
                      scope: String = "launch/patient openid fhirUser offline_access patient/*.rs", extra: [(String, String)] = []) -> String {
        "/oauth/authorize?" + Self.encode([
            ("response_type", "code"), ("client_id", "app"), ("redirect_uri", redirect), ("scope", scope), ("state", "st-123"),
            ("aud", harness.fhirBase), ("code_challenge", method == "plain" ? verifier : Self.challenge(verifier)),
            ("code_challenge_method", method),
        ] + extra)
    }

    /// Authorize → sign in → approve; returns the redirect parameters.
    func authorize(user: String, password: String, verifier: String, approveForm: [(String, String)] = [], extra: [(String, String)] = [],
                   scope: String = "launch/patient openid fhirUser offline_access patient/*.rs", totp: String? = nil) async throws -> [String: String] {
        let page = try await send(.get, authorizeURI(verifier: verifier, scope: scope, extra: extra))
        #expect(page.status == 200)
        let cookie = try #require(page.cookie)
        let login = try await send(.post, "/oauth/authorize/login",
                                   form: [("csrf", page.hidden("csrf") ?? ""), ("username", user), ("password", password)] + (totp.map { [("totp", $0)] } ?? []),
                                   headers: ["Cookie": cookie])
        #expect(login.status == 200)
        let cookie2 = try #require(login.cookie)
        #expect(cookie2 != cookie)  // renewed at sign-in
        let done = try await send(.post, "/oauth/authorize/approve",
                                  form: [("csrf", login.hidden("csrf") ?? ""), ("decision", "approve")] + approveForm, headers: ["Cookie": cookie2])
        #expect(done.status == 302)
        return done.redirectParameters
    }

    func token(_ form: [(String, String)]) async throws -> Reply { try await send(.post, "/oauth/token", form: form) }

    func exchange(code: String, verifier: String, redirect: String = OAuthHarness.redirect) async throws -> Reply {
        try await token([("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect),
                         ("code_verifier", verifier), ("client_id", "app")])
    }

    func fhir(_ path: String, token: String) async throws -> Reply {
        try await send(.get, "/fhir" + path, headers: ["Authorization": "Bearer \(token)"])
    }
}

@Suite("SMART App Launch and Backend Services: /oauth")
struct OAuthTests {
    @Test func discoveryIsPublicAndComplete() async throws {
        try await OAuthHarness().run { c in
            let r = try await c.send(.get, "/fhir/.well-known/smart-configuration")
            #expect(r.status == 200)
            #expect(r.json["authorization_endpoint"]?.stringValue == "http://127.0.0.1:8080/oauth/authorize")
            #expect(r.json["token_endpoint"]?.stringValue == "http://127.0.0.1:8080/oauth/token")
            #expect(r.json["code_challenge_methods_supported"]?.arrayValue == [.string("S256")])
            #expect(r.json["capabilities"]?.arrayValue?.contains(.string("client-confidential-asymmetric")) == true)
        }
    }

    @Test func authorizationCodeWithPKCEFromSignInToAFHIRRead() async throws {
        let h = try await OAuthHarness(appName: "Mi <Salud> & \"co\"")
        try await h.run { c in
            let verifier = OAuthClientDriver.verifier()
            // the sign-in page: Spanish by default, security headers, a session cookie, a CSRF token, escaped names
            let page = try await c.send(.get, c.authorizeURI(verifier: verifier))
            #expect(page.status == 200)
            #expect(page.header("Content-Security-Policy")?.hasPrefix("default-src 'self'") == true)
            #expect(page.header("X-Frame-Options") == "DENY")
            #expect(page.header("Referrer-Policy") == "no-referrer")
            let setCookie = try #require(page.header("Set-Cookie"))
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && !setCookie.contains("Secure"))
            #expect(page.text.contains("Iniciar sesión"))
            #expect(page.text.contains("Mi &lt;Salud&gt; &amp; &quot;co&quot;") && !page.text.contains("<Salud>"))
            let csrf = try #require(page.hidden("csrf"))
            let cookie = try #require(page.cookie)
            // no CSRF token, a wrong one, or no cookie: refused
            #expect(try await c.send(.post, "/oauth/authorize/login", form: [("username", "ana"), ("password", "ana-password-1")],
                                     headers: ["Cookie": cookie]).status == 403)
            #expect(try await c.send(.post, "/oauth/authorize/login", form: [("csrf", "x" + csrf), ("username", "ana"), ("password", "ana-password-1")],
                                     headers: ["Cookie": cookie]).status == 403)
            #expect(try await c.send(.post, "/oauth/authorize/login", form: [("csrf", csrf), ("username", "ana"), ("password", "ana-password-1")]).status == 403)
            // a wrong password shows the page again
            let wrong = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", csrf), ("username", "ana"), ("password", "nope-nope")],
                                         headers: ["Cookie": cookie])
            #expect(wrong.status == 401 && wrong.text.contains("incorrectos"))
            // sign in: the approval page lists what the app asks for, in Spanish
            let approval = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", csrf), ("username", "ana"), ("password", "ana-password-1")],
                                            headers: ["Cookie": cookie])
            #expect(approval.status == 200)
            #expect(approval.text.contains("Leer y buscar todos los tipos de datos del paciente en contexto"))
            #expect(approval.text.contains("Saber con qué paciente se usa la aplicación"))
            let cookie2 = try #require(approval.cookie)
            // the pre-sign-in cookie is dead
            #expect(try await c.send(.post, "/oauth/authorize/approve", form: [("csrf", approval.hidden("csrf")!), ("decision", "approve")],
                                     headers: ["Cookie": cookie]).status == 403)
            let done = try await c.send(.post, "/oauth/authorize/approve", form: [("csrf", approval.hidden("csrf")!), ("decision", "approve")],
                                        headers: ["Cookie": cookie2])
            #expect(done.status == 302)
            #expect(done.header("Location")?.hasPrefix(OAuthHarness.redirect + "?") == true)
            #expect(done.redirectParameters["state"] == "st-123")
            let code = try #require(done.redirectParameters["code"])
            // a wrong verifier or redirect is refused (and does not burn... the code is single-use anyway)
            let t = try await c.exchange(code: code, verifier: verifier)
            #expect(t.status == 200)
            #expect(t.header("Cache-Control") == "no-store")
            #expect(t.json["token_type"]?.stringValue == "Bearer")
            #expect(t.json["patient"]?.stringValue == "p1")
            #expect(t.json["fhirUser"]?.stringValue == h.fhirBase + "/Patient/p1")
            #expect(t.json["scope"]?.stringValue == "launch/patient openid fhirUser offline_access patient/*.rs")
            let access = try #require(t.json["access_token"]?.stringValue)
            #expect(t.json["refresh_token"]?.stringValue != nil)
            let claims = try await h.services.authority.verify(access, now: h.clock.now())
            #expect(claims.role == "patient" && claims.patient == "Patient/p1" && claims.clientID == "app" && claims.subject == "user:ana")
            // the token is accepted by the FHIR API (what it may see is the guard's business)
            let read = try await c.fhir("/Patient/p1", token: access)
            #expect(read.status != 401)
            // introspection with the token itself
            let intro = try await c.send(.post, "/oauth/introspect", form: [("token", access)], headers: ["Authorization": "Bearer \(access)"])
            #expect(intro.json["active"] == .bool(true))
            #expect(intro.json["patient"]?.stringValue == "Patient/p1")
            #expect(intro.json["role"]?.stringValue == "patient")
            // an operator can introspect it too; a garbage token is inactive
            let intro2 = try await c.send(.post, "/oauth/introspect", form: [("token", access)], headers: ["Authorization": "Bearer \(h.operatorToken)"])
            #expect(intro2.json["username"]?.stringValue == "ana")
            let intro3 = try await c.send(.post, "/oauth/introspect", form: [("token", "garbage")], headers: ["Authorization": "Bearer \(h.operatorToken)"])
            #expect(intro3.json == .object([("active", .bool(false))]))
            #expect(try await c.send(.post, "/oauth/introspect", form: [("token", access)]).status == 401)
        }
    }

    @Test func plainPKCEWrongRedirectAndBadRequestsAreRefused() async throws {
        try await OAuthHarness().run { c in
            let v = OAuthClientDriver.verifier()
            let plain = try await c.send(.get, c.authorizeURI(verifier: v, method: "plain"))
            #expect(plain.status == 302)
            #expect(plain.redirectParameters["error"] == "invalid_request")
            #expect(plain.redirectParameters["error_description"]?.contains("plain") == true)
            #expect(plain.redirectParameters["state"] == "st-123")
            // redirect URIs match exactly: no prefix, no extra path, no query; never redirected to
            for bad in ["https://app.example/cb/", "https://app.example/cb?x=1", "https://evil.example/cb", "https://app.example/cbx"] {
                let r = try await c.send(.get, c.authorizeURI(verifier: v, redirect: bad))
                #expect(r.status == 400, "\(bad)")
                #expect(r.header("Location") == nil)
            }
            let noPKCE = try await c.send(.get, "/oauth/authorize?response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s&scope=patient%2F*.rs&aud=" + c.harness.fhirBase.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(noPKCE.redirectParameters["error"] == "invalid_request")
            let wrongAud = try await c.send(.get, c.authorizeURI(verifier: v).replacingOccurrences(of: "aud=http", with: "aud=https"))
            #expect(wrongAud.redirectParameters["error"] == "invalid_request")
            let unknownClient = try await c.send(.get, c.authorizeURI(verifier: v).replacingOccurrences(of: "client_id=app", with: "client_id=nope"))
            #expect(unknownClient.status == 400 && unknownClient.header("Location") == nil)
            // token endpoint errors are RFC 6749 JSON
            let e = try await c.token([("grant_type", "password"), ("client_id", "app")])
            #expect(e.status == 400 && e.json["error"]?.stringValue == "unsupported_grant_type" && e.json["error_description"] != nil)
            let e2 = try await c.token([("grant_type", "authorization_code"), ("client_id", "nope")])
            #expect(e2.status == 401 && e2.json["error"]?.stringValue == "invalid_client")
            // the approval can be denied
            let page = try await c.send(.get, c.authorizeURI(verifier: v))
            let login = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", page.hidden("csrf")!), ("username", "ana"), ("password", "ana-password-1")],
                                         headers: ["Cookie": page.cookie!])
            let denied = try await c.send(.post, "/oauth/authorize/approve", form: [("csrf", login.hidden("csrf")!), ("decision", "deny")],
                                          headers: ["Cookie": login.cookie!])
            #expect(denied.redirectParameters["error"] == "access_denied")
        }
    }

    @Test func codesAreSingleUseBoundToVerifierAndRedirectAndExpire() async throws {
        let h = try await OAuthHarness()
        try await h.run { c in
            let v = OAuthClientDriver.verifier()
            let code = try #require(try await c.authorize(user: "ana", password: "ana-password-1", verifier: v)["code"])
            let first = try await c.exchange(code: code, verifier: v)
            #expect(first.status == 200)
            let access = first.json["access_token"]!.stringValue!
            let refresh = first.json["refresh_token"]!.stringValue!
            #expect(try await c.fhir("/Patient/p1", token: access).status != 401)
            // replay: refused, and what the first exchange issued is revoked
            let replay = try await c.exchange(code: code, verifier: v)
            #expect(replay.status == 400 && replay.json["error"]?.stringValue == "invalid_grant")
            #expect(try await c.fhir("/Patient/p1", token: access).status == 401)
            #expect(try await c.token([("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "app")]).status == 400)

            // a wrong verifier, a wrong redirect URI: invalid_grant (and the code is spent)
            let v2 = OAuthClientDriver.verifier()
            let code2 = try #require(try await c.authorize(user: "ana", password: "ana-password-1", verifier: v2)["code"])
            let bad = try await c.exchange(code: code2, verifier: OAuthClientDriver.verifier())
            #expect(bad.status == 400 && bad.json["error"]?.stringValue == "invalid_grant")
            let v3 = OAuthClientDriver.verifier()
            let code3 = try #require(try await c.authorize(user: "ana", password: "ana-password-1", verifier: v3)["code"])
            #expect(try await c.exchange(code: code3, verifier: v3, redirect: OAuthHarness.redirect + "/").json["error"]?.stringValue == "invalid_grant")
            // codes live 60 seconds
            let v4 = OAuthClientDriver.verifier()
            let code4 = try #require(try await c.authorize(user: "ana", password: "ana-password-1", verifier: v4)["code"])
            h.clock.advance(seconds: 61)
            #expect(try await c.exchange(code: code4, verifier: v4).json["error"]?.stringValue == "invalid_grant")
        }
    }

    @Test func refreshRotatesAndRevocationIsImmediate() async throws {
        let h = try await OAuthHarness()
        try await h.run { c in
            let v = OAuthClientDriver.verifier()
            let code = try #require(try await c.authorize(user: "ana", password: "ana-password-1", verifier: v)["code"])
            let t1 = try await c.exchange(code: code, verifier: v)
            let access1 = t1.json["access_token"]!.stringValue!, refresh1 = t1.json["refresh_token"]!.stringValue!
            let t2 = try await c.token([("grant_type", "refresh_token"), ("refresh_token", refresh1), ("client_id", "app")])
            #expect(t2.status == 200)
            let access2 = t2.json["access_token"]!.stringValue!, refresh2 = t2.json["refresh_token"]!.stringValue!
            #expect(refresh2 != refresh1 && t2.json["patient"]?.stringValue == "p1")
            // rotation: the old refresh token and the old access token are dead
            #expect(try await c.token([("grant_type", "refresh_token"), ("refresh_token", refresh1), ("client_id", "app")]).json["error"]?.stringValue == "invalid_grant")
            #expect(try await c.fhir("/Patient/p1", token: access1).status == 401)
            #expect(try await c.fhir("/Patient/p1", token: access2).status != 401)
            // another client cannot use it
            #expect(try await c.token([("grant_type", "refresh_token"), ("refresh_token", refresh2), ("client_id", "lab")]).status == 401)
            // RFC 7009 revocation by the client: 401 on the very next request
            let rev = try await c.send(.post, "/oauth/revoke", form: [("token", access2), ("client_id", "app")])
            #expect(rev.status == 200)
            let after = try await c.fhir("/Patient/p1", token: access2)
            #expect(after.status == 401)
            #expect(after.text.contains("revoked"))
            // revoking the refresh token
            #expect(try await c.send(.post, "/oauth/revoke", form: [("token", refresh2), ("client_id", "app")]).status == 200)
            #expect(try await c.token([("grant_type", "refresh_token"), ("refresh_token", refresh2), ("client_id", "app")]).status == 400)
        }
    }

    @Test func practitionerChoosesTheLaunchPatient() async throws {
        let base = try await OAuthHarness()
        // staff need TOTP unless configured off; this server runs with it off
        var config = base.services.configuration
        config.requireTOTPForStaff = false
        let h = OAuthHarness(copying: base, configuration: config)
        try await h.run { c in
            let v = OAuthClientDriver.verifier()
            let params = try await c.authorize(user: "dr", password: "dr-password-1", verifier: v, approveForm: [("patient", "Patient/p2")],
                                               scope: "launch/patient fhirUser user/*.rs")
            let t = try await c.exchange(code: try #require(params["code"]), verifier: v)
            #expect(t.json["patient"]?.stringValue == "p2")
            #expect(t.json["fhirUser"]?.stringValue == h.fhirBase + "/Practitioner/7")
            let claims = try await h.services.authority.verify(t.json["access_token"]!.stringValue!, now: h.clock.now())
            #expect(claims.role == "practitioner" && claims.organization == "Organization/umf-10" && claims.patient == "Patient/p2")
        }
    }

    @Test func staffSignInWithTOTPAndEnglishPages() async throws {
        let h = try await OAuthHarness()
        let (_, totp) = try await h.services.identity.addUser(username: "farmacia", role: .pharmacy, password: "pharmacy-pass-1",
                                                             organization: "Organization/farmacia-1", withTOTP: true)
        let secret = try #require(totp)
        try await h.run { c in
            let v = OAuthClientDriver.verifier()
            // English when asked for
            let page = try await c.send(.get, c.authorizeURI(verifier: v, scope: "user/*.rs", extra: [("ui_locales", "en")]))
            #expect(page.text.contains("Sign in to Enlace") && page.text.contains("<html lang=\"en\">"))
            let needCode = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", page.hidden("csrf")!), ("username", "farmacia"),
                                                                                    ("password", "pharmacy-pass-1")], headers: ["Cookie": page.cookie!])
            #expect(needCode.status == 401 && needCode.text.contains("one-time code"))
            let code = secret.code(at: h.clock.now().microseconds / 1_000_000)
            let params = try await c.authorize(user: "farmacia", password: "pharmacy-pass-1", verifier: v, scope: "user/*.rs", totp: code)
            let t = try await c.exchange(code: try #require(params["code"]), verifier: v)
            let claims = try await h.services.authority.verify(t.json["access_token"]!.stringValue!, now: h.clock.now())
            #expect(claims.role == "pharmacy" && claims.organization == "Organization/farmacia-1" && claims.scope == "user/*.rs")
        }
    }

    @Test func staffWithoutTOTPCannotSignInAndLockoutAnswers429() async throws {
        try await OAuthHarness().run { c in
            let page = try await c.send(.get, c.authorizeURI(verifier: OAuthClientDriver.verifier()))
            let csrf = page.hidden("csrf")!, cookie = page.cookie!
            let dr = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", csrf), ("username", "dr"), ("password", "dr-password-1")],
                                      headers: ["Cookie": cookie])
            #expect(dr.status == 403 && dr.text.contains("TOTP"))
            for _ in 0..<5 {
                let r = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", csrf), ("username", "ana"), ("password", "bad-password")],
                                         headers: ["Cookie": cookie])
                #expect(r.status == 401)
            }
            let locked = try await c.send(.post, "/oauth/authorize/login", form: [("csrf", csrf), ("username", "ana"), ("password", "ana-password-1")],
                                          headers: ["Cookie": cookie])
            #expect(locked.status == 429)
        }
    }

    @Test func backendServiceWithES384PrivateKeyJWT() async throws {
        let h = try await OAuthHarness()
        try await h.run { c in
            func cc(_ assertion: String, scope: String = "system/Patient.rs") async throws -> OAuthClientDriver.Reply {
                try await c.token([("grant_type", "client_credentials"), ("scope", scope),
                                   ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", assertion)])
            }
            let a = try h.assertion()
            let t = try await cc(a)
            #expect(t.status == 200)
            #expect(t.json["scope"]?.stringValue == "system/Patient.rs")
            let token = try #require(t.json["access_token"]?.stringValue)
            let claims = try await h.services.authority.verify(token, now: h.clock.now())
            #expect(claims.role == "service" && claims.clientID == "lab" && claims.subject == "client:lab")
            #expect(try await c.fhir("/Patient/nope", token: token).status == 404)  // system scopes read
            // the same assertion twice (jti replay), wrong audience, expired, too long-lived, not the client: refused
            #expect(try await cc(a).json["error"]?.stringValue == "invalid_client")
            #expect(try await cc(try h.assertion(aud: h.fhirBase)).status == 401)
            #expect(try await cc(try h.assertion(exp: -10)).status == 401)
            #expect(try await cc(try h.assertion(exp: 3600)).status == 401)
            #expect(try await cc(try h.assertion(iss: "app")).status == 401)
            // an exp no Int64 holds (it trapped the server, fuzz/FuzzJWT): refused, and the server still answers
            let huge = try await cc(try h.assertion(expText: "180000e300"))
            #expect(huge.status == 401 && huge.json["error"]?.stringValue == "invalid_client")
            #expect(try await cc(try h.assertion()).status == 200)
            // a signature by another key
            let other = try h.assertion()
            let parts = other.split(separator: ".")
            let forged = parts[0] + "." + parts[1] + "." + Base64URL.encode(Array(try P384.Signing.PrivateKey().signature(for: Array((parts[0] + "." + parts[1]).utf8)).rawRepresentation))
            #expect(try await cc(String(forged)).status == 401)
            // scopes beyond the registration: none granted
            #expect(try await cc(try h.assertion(), scope: "system/Patient.cruds").json["error"]?.stringValue == "invalid_scope")
            // public clients cannot use client_credentials; confidential ones cannot skip the assertion
            #expect(try await c.token([("grant_type", "client_credentials"), ("client_id", "app"), ("scope", "system/*.rs")]).status == 401)
            #expect(try await c.token([("grant_type", "client_credentials"), ("client_id", "lab"), ("scope", "system/*.rs")]).status == 401)
        }
    }
}

extension OAuthHarness {
    /// The same data directory and key served with another configuration; the harness copied is
    /// not run itself, so this one removes the directory at the end.
    init(copying h: OAuthHarness, configuration: ServerConfiguration) {
        var copy = TestServer(serving: h.server, configuration: configuration)
        copy.ownsDirectory = true
        server = copy
    }
}
