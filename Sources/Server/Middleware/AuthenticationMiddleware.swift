import Foundation
import FHIR
import HTTPFront
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// Requires a valid bearer token on every endpoint except `/fhir/metadata`, `/fhir/openapi.json`,
/// `/fhir/.well-known/*`, `/.well-known/*`, `/healthz`, CDS Hooks discovery (`/cds-services`), the OAuth endpoints under
/// `/oauth/` and the portal pages (which authenticate their callers themselves), and puts the Principal — role,
/// fhirUser, patient, acts_for, org, client — in the context. Revoked tokens and tokens of
/// disabled users or clients are refused on the next request (one record read per request).
/// Every refusal is a 401 with `WWW-Authenticate: Bearer` and the reason.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext
    let authority: TokenAuthority
    let clock: any Clock
    /// When set, each token's `jti` is checked against the revocation records.
    var identity: IdentityService? = nil

    static func isPublic(_ path: String) -> Bool {
        path == "/fhir/metadata" || path == "/fhir/openapi.json" || path.hasPrefix("/fhir/.well-known/") || path.hasPrefix("/.well-known/") || path == "/healthz"
            || path.hasPrefix("/oauth/") || Portal.owns(path)
            || path == "/cds-services"  // CDS Hooks discovery is public (docs/care.md); the hook calls are not
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if AuthenticationMiddleware.isPublic(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw unauthorized("a bearer access token is required (Authorization: Bearer …)",
                               "se requiere un token de acceso (Authorization: Bearer …)", error: nil)
        }
        guard let bearer = Credentials.bearerToken(header) else {
            throw unauthorized("the Authorization header must use the Bearer scheme", "el encabezado Authorization debe usar el esquema Bearer", error: "invalid_request")
        }
        if request.uri.path.hasPrefix("/cds-services/"), (try? await authority.verify(bearer, now: clock.now())) == nil,
           TokenAuthority.isCompactJWS(bearer) {
            // not an Enlace token: the JWT a CDS client signs for this call (CDS Hooks 2.0,
            // "Trusting CDS Clients"); the CDS routes check it and who the user is
            var context = context
            context.cdsClientJWT = bearer
            return try await next(request, context)
        }
        let claims: AccessTokenClaims
        do {
            claims = try await authority.verify(bearer, now: clock.now())
        } catch .wrongAudience {
            // say which audience is expected and how to get a token for it (the base URL is public)
            let a = authority.audience
            throw unauthorized("\(TokenError.wrongAudience.description); this server expects aud '\(a)'. `enlace token --data DIR` makes one for the server serving DIR (it records its base URL there), or pass --base-url \(a)",
                               "\(TokenError.wrongAudience.spanish); este servidor espera aud '\(a)'. `enlace token --data DIR` emite uno para el servidor que sirve DIR (ahí registra su URL base), o indique --base-url \(a)",
                               error: "invalid_token")
        } catch {
            throw unauthorized(error.description, error.spanish, error: "invalid_token")
        }
        if let identity, try await !identity.isActive(tokenID: claims.tokenID, subject: claims.subject) {
            throw unauthorized(TokenError.revoked.description, TokenError.revoked.spanish, error: "invalid_token")
        }
        var context = context
        var principal = Principal(claims: claims)
        // the purpose of use this request asserts (v3 PurposeOfUse code); the access decision reads it
        if let header = request.headers[HTTPField.Name("X-Purpose-Of-Use")!], let purpose = Credentials.purposeOfUse(header) {
            principal.purposeOfUse = purpose
        }
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
