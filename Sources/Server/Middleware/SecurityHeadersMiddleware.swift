import FHIR
import Foundation
import HTTPTypes
import Hummingbird

/// The security headers every response carries, whoever built it (docs/reliability.md,
/// "Headers and cookies"): `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
/// `X-Frame-Options: DENY`, and — on HTML — a Content-Security-Policy without `unsafe-inline`
/// when the page did not set a stricter one of its own (the portal's and the sign-in pages'
/// headers stay as they are). `Strict-Transport-Security` is added when the public base URL is
/// https (the proxy terminating TLS may add it too; the same value twice is harmless).
/// Registered just inside `AuditMiddleware`, so error responses get the headers too.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext
    /// The public base URL is https.
    let https: Bool

    /// What an HTML response without a policy of its own gets: nothing inline, nothing from elsewhere.
    static let defaultHTMLPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        SecurityHeadersMiddleware.apply(&response.headers, https: https)
        return response
    }

    static func apply(_ headers: inout HTTPFields, https: Bool) {
        if headers[.xContentTypeOptions] == nil { headers[.xContentTypeOptions] = "nosniff" }
        if headers[.referrerPolicy] == nil { headers[.referrerPolicy] = "no-referrer" }
        if headers[.xFrameOptions] == nil { headers[.xFrameOptions] = "DENY" }
        if https, headers[.strictTransportSecurity] == nil { headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
        if headers[.contentType]?.lowercased().hasPrefix("text/html") == true, headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] = defaultHTMLPolicy
        }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
