import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import Server
import Testing
@_spi(Unguarded) import Trust

/// Security headers, cookies, CSRF and brute-force throttling, checked on every page the portal
/// links to for each kind of demo user (docs/reliability.md, "Headers and cookies").
@Suite("Reliability: security headers, cookies, CSRF, throttling")
struct ReliabilityHeadersTests {
    struct Page: Sendable {
        let path: String
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
    }

    /// Problems with one response's headers (any response) and, for HTML, its markup.
    static func problems(_ p: Page) -> [String] {
        var out: [String] = []
        let h = p.headers
        if h[HTTPField.Name("X-Content-Type-Options")!]?.lowercased() != "nosniff" { out.append("X-Content-Type-Options is not nosniff") }
        if h[HTTPField.Name("Referrer-Policy")!] == nil { out.append("no Referrer-Policy") }
        guard h[.contentType]?.lowercased().hasPrefix("text/html") == true else { return out }
        let csp = h[HTTPField.Name("Content-Security-Policy")!] ?? ""
        if csp.isEmpty { out.append("no Content-Security-Policy") }
        if csp.contains("unsafe-inline") || csp.contains("unsafe-eval") { out.append("CSP allows unsafe-inline/unsafe-eval: \(csp)") }
        if !csp.contains("frame-ancestors") && h[HTTPField.Name("X-Frame-Options")!] == nil { out.append("framing is not forbidden") }
        if !csp.contains("default-src") && !csp.contains("script-src") { out.append("CSP restricts no scripts: \(csp)") }
        if h[.cacheControl]?.contains("no-store") != true { out.append("an HTML page without Cache-Control: no-store") }
        // nothing inline that the CSP would block (or that would need unsafe-inline)
        let lower = p.body.lowercased()
        var rest = Substring(lower)
        while let r = rest.range(of: "<script") {
            let tag = rest[r.lowerBound...].prefix { $0 != ">" }
            if !tag.contains(" src=") { out.append("an inline <script>") }
            rest = rest[r.upperBound...]
        }
        if lower.contains("<style") { out.append("an inline <style>") }
        if lower.contains(" style=\"") || lower.contains(" style='") { out.append("a style attribute") }
        for handler in [" onclick=", " onload=", " onsubmit=", " onchange=", " onerror=", " oninput=", "javascript:"] where lower.contains(handler) {
            out.append("inline script: \(handler)")
        }
        for form in forms(p.body) where form.method == "post" && !form.fields.keys.contains("csrf") {
            out.append("a POST form to \(form.action) without a csrf field")
        }
        return out
    }

    struct Form: Sendable {
        let action: String
        let method: String
        let fields: [String: String]
    }

    /// The forms of a page, with their hidden and named inputs.
    static func forms(_ html: String) -> [Form] {
        var out: [Form] = []
        var rest = Substring(html)
        while let start = rest.range(of: "<form") {
            let end = rest[start.upperBound...].range(of: "</form>")?.upperBound ?? rest.endIndex
            let text = rest[start.lowerBound..<end]
            let tag = String(text.prefix { $0 != ">" })
            var fields: [String: String] = [:]
            var inputs = text
            while let i = inputs.range(of: "<input") {
                let input = String(inputs[i.lowerBound...].prefix { $0 != ">" })
                if let name = attribute(input, "name") { fields[name] = attribute(input, "value") ?? "" }
                inputs = inputs[i.upperBound...]
            }
            out.append(Form(action: attribute(tag, "action") ?? "", method: (attribute(tag, "method") ?? "get").lowercased(), fields: fields))
            rest = rest[end...]
        }
        return out
    }

    static func attribute(_ tag: String, _ name: String) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[r.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Same-site links of a page (GET targets).
    static func links(_ html: String) -> [String] {
        var out: [String] = []
        var rest = Substring(html)
        while let r = rest.range(of: "href=\"/") {
            let link = String(rest[rest.index(before: r.upperBound)...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            out.append(link)
            rest = rest[r.upperBound...]
        }
        return out
    }

    /// Loads the demo and crawls it (about 45 s on a busy machine): with ENLACE_RELIABILITY=1.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ENLACE_RELIABILITY"] != nil))
    func everyPortalPageCarriesTheHeadersAndEveryFormItsCSRFToken() async throws {
        try await PortalTests.withDemoPortal { _, browser in
            var problems: [String] = []
            var checked = 0
            var postForms: [(String, Form)] = []
            // the signed-out pages
            for path in ["/entrar", "/", "/static/portal.css", "/static/portal.js", "/oauth/style.css", "/no-such-page", "/fhir/metadata"] {
                let p = try await browser.client.execute(uri: path, method: .get) { Page(path: path, status: $0.status, headers: $0.headers, body: String(buffer: $0.body)) }
                problems += ReliabilityHeadersTests.problems(p).map { "\(path): \($0)" }
                checked += 1
            }
            for user in ["ana", "lucia", "dr.hernandez", "dra.castillo", "privacidad"] {
                let cookie = try await browser.signIn(user)
                var queue = ["/"], seen: Set<String> = []
                while let path = queue.first, seen.count < 80 {
                    queue.removeFirst()
                    guard !seen.contains(path), !path.hasPrefix("/salir"), !path.hasPrefix("/idioma") else { continue }
                    seen.insert(path)
                    let p = try await browser.client.execute(uri: path, method: .get, headers: [.cookie: cookie]) {
                        Page(path: path, status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
                    }
                    checked += 1
                    problems += ReliabilityHeadersTests.problems(p).map { "\(user) \(path): \($0)" }
                    #expect(p.status.code < 500, "\(user) \(path): \(p.status)")
                    if p.status == .seeOther, let next = p.headers[.location], next.hasPrefix("/") { queue.append(next) }
                    for f in ReliabilityHeadersTests.forms(p.body) where f.method == "post" { postForms.append((cookie, f)) }
                    queue += ReliabilityHeadersTests.links(p.body).filter { !seen.contains($0) }
                }
            }
            #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.prefix(30).joined(separator: "\n"))")
            #expect(checked >= 30, "only \(checked) pages checked")
            // every POST form refuses a submission without its token, or with another session's
            var refusedWithout = 0
            for (cookie, form) in postForms where !["/salir", "/entrar"].contains(form.action) {
                for csrf in [nil, "0000", String(repeating: "a", count: 64)] as [String?] {
                    var fields = form.fields
                    fields["csrf"] = csrf
                    let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
                    let (status, _, _) = try await browser.post(form.action, cookie: cookie, body)
                    #expect(status == .forbidden, "\(form.action) without a valid csrf: \(status)")
                    refusedWithout += 1
                }
            }
            #expect(refusedWithout >= 3, "only \(refusedWithout) CSRF refusals tried (forms: \(postForms.map(\.1.action)))")
        }
    }

    @Test func sessionCookiesAreHttpOnlySameSiteAndSecureBehindHTTPS() async throws {
        for base in ["http://127.0.0.1:8080/fhir", "https://enlace.example.mx/fhir"] {
            let server = try TestServer { config in
                config.passwordIterations = 1000
                config.baseURL = base
            }
            _ = try await server.services.identity.addUser(username: "ana", role: .patient, password: "una-contraseña-larga", patient: "Patient/p1")
            let passwords = ["ana": "una-contraseña-larga"]
            try await server.run { c in
                let r0 = try await c.client.execute(uri: "/entrar", method: .get) { $0 }
                let login = try #require(r0.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal_csrf=") })
                let value = String(login.dropFirst("enlace_portal_csrf=".count).prefix { $0 != ";" })
                let r = try await c.client.execute(uri: "/entrar", method: .post,
                                                   headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "enlace_portal_csrf=\(value)"],
                                                   body: ByteBuffer(string: "csrf=\(value)&next=%2F&username=ana&password=\(passwords["ana"] ?? "")")) { $0 }
                let session = try #require(r.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal=") })
                for cookie in [login, session] {
                    let attributes = Set(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
                    #expect(attributes.contains("httponly"), "\(cookie)")
                    #expect(attributes.contains { $0.hasPrefix("samesite=") }, "\(cookie)")
                    #expect(attributes.contains("secure") == base.hasPrefix("https"), "\(base): \(cookie)")
                }
                if base.hasPrefix("https") {
                    #expect(r.headers[.strictTransportSecurity]?.contains("max-age=") == true)
                }
            }
        }
    }

    @Test func signInAndTokenEndpointsAreThrottled() async throws {
        let server = try TestServer { $0.passwordIterations = 1000 }
        try await server.run { c in
            // the portal's sign-in: wrong passwords for ever-new usernames (a spray the per-user lockout never sees)
            var statuses: [Int] = []
            for n in 0..<30 {
                let r0 = try await c.client.execute(uri: "/entrar", method: .get) { $0 }
                let login = try #require(r0.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal_csrf=") })
                let value = String(login.dropFirst("enlace_portal_csrf=".count).prefix { $0 != ";" })
                let status = try await c.client.execute(uri: "/entrar", method: .post,
                                                        headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "enlace_portal_csrf=\(value)"],
                                                        body: ByteBuffer(string: "csrf=\(value)&next=%2F&username=spray\(n)&password=Invierno2026")) { Int($0.status.code) }
                statuses.append(status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == 401 }, "\(statuses)")
            #expect(statuses.suffix(10).allSatisfy { $0 == 429 }, "\(statuses)")
            // the token endpoint: guessed client secrets / codes from another address are still answered
            var token: [Int] = []
            var retryAfter: String?
            for n in 0..<25 {
                let r = try await c.client.execute(uri: "/oauth/token", method: .post,
                                                   headers: [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"],
                                                   body: ByteBuffer(string: "grant_type=authorization_code&client_id=nobody&code=guess\(n)&redirect_uri=https%3A%2F%2Fx&code_verifier=\(String(repeating: "a", count: 43))")) { $0 }
                token.append(Int(r.status.code))
                if r.status.code == 429 { retryAfter = r.headers[.retryAfter] }
            }
            #expect(token.prefix(20).allSatisfy { $0 != 429 }, "\(token)")
            #expect(token.suffix(5).allSatisfy { $0 == 429 }, "\(token)")
            #expect(Int(retryAfter ?? "") ?? 0 >= 1)
            // another address is not held back by the first one's failures
            let other = try await c.client.execute(uri: "/oauth/token", method: .post,
                                                   headers: [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Forwarded-For")!: "198.51.100.7"],
                                                   body: ByteBuffer(string: "grant_type=client_credentials&client_id=nobody")) { Int($0.status.code) }
            #expect(other != 429)
        }
    }
}
