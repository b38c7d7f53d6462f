import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// Requires a valid bearer token on every endpoint except `/fhir/metadata`,
/// `/fhir/.well-known/*`, `/.well-known/*` and `/healthz`, and puts the Principal in the
/// context. Every refusal is a 401 with `WWW-Authenticate: Bearer` and the reason.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext
    let authority: TokenAuthority
    let clock: any Clock

    static func isPublic(_ path: String) -> Bool {
        path == "/fhir/metadata" || path.hasPrefix("/fhir/.well-known/") || path.hasPrefix("/.well-known/") || path == "/healthz"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if AuthenticationMiddleware.isPublic(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw unauthorized("a bearer access token is required (Authorization: Bearer …)",
                               "se requiere un token de acceso (Authorization: Bearer …)", error: nil)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw unauthorized("the Authorization header must use the Bearer scheme", "el encabezado Authorization debe usar el esquema Bearer", error: "invalid_request")
        }
        let claims: AccessTokenClaims
        do {
            claims = try authority.verify(String(parts[1]).trimmingCharacters(in: .whitespaces), now: clock.now())
        } catch {
            throw unauthorized(error.description, error.spanish, error: "invalid_token")
        }
        var context = context
        let principal = Principal(subject: claims.subject, scopes: ScopeSet(claims.scope), tokenID: claims.tokenID)
        context.principal = principal
        context.audit?.principal = principal
        return try await next(request, context)
    }

    func unauthorized(_ english: String, _ spanish: String, error: String?) -> FHIRError {
        var challenge = "Bearer realm=\"enlace\""
        if let error { challenge += ", error=\"\(error)\"" }
        return FHIRError(status: 401, issues: [Issue(code: "login", english: english, spanish: spanish)],
                         headers: ["WWW-Authenticate": challenge])
    }
}
