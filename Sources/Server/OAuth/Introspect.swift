import FHIR
import Foundation
import Hummingbird
import Trust

extension OAuthEndpoints {
    /// `POST /oauth/introspect` (RFC 7662). The caller authenticates with a bearer access token
    /// or a `private_key_jwt` client assertion. Operators may introspect any token; others only
    /// tokens issued to their own client or subject. Anything else answers `{"active":false}`.
    func introspect(_ request: Request) async throws -> Response {
        guard let form = try await Self.readForm(request), let token = form["token"] else {
            return Self.error(.badRequest, "invalid_request", "token is required (application/x-www-form-urlencoded)")
        }
        var callerClient: String?
        var callerSubject: String?
        var operatorCaller = false
        if let claims = try await bearerClaims(request) {
            let role = claims.role.flatMap(Principal.Role.init(rawValue:))
            operatorCaller = role == nil || role == .platformOperator
            callerClient = claims.clientID
            callerSubject = claims.subject
        } else if form["client_assertion"] != nil {
            switch try await authenticateClient(form) {
            case .success(let c): callerClient = c.clientID
            case .failure(let e): return e.response
            }
        } else {
            return Self.error(.unauthorized, "invalid_client", "introspection needs a bearer token or a private_key_jwt client assertion",
                              headers: [.wwwAuthenticate: "Bearer realm=\"enlace\""])
        }
        func allowed(client: String?, subject: String?) -> Bool {
            operatorCaller || (client != nil && client == callerClient) || (subject != nil && subject == callerSubject)
        }
        let inactive = Self.json(.ok, .object([("active", .bool(false))]))
        if let claims = try? await authority.verify(token, now: services.clock.now()) {
            guard try await identity.isActive(tokenID: claims.tokenID, subject: claims.subject),
                  allowed(client: claims.clientID, subject: claims.subject) else { return inactive }
            var f: [(String, JSON)] = [
                ("active", .bool(true)), ("token_type", .string("Bearer")), ("scope", .string(claims.scope)),
                ("sub", .string(claims.subject)), ("iss", .string(claims.issuer)), ("aud", .string(claims.audience)),
                ("iat", .number(String(claims.issuedAt))), ("exp", .number(String(claims.expires))), ("jti", .string(claims.tokenID)),
            ]
            if claims.subject.hasPrefix("user:") { f.append(("username", .string(String(claims.subject.dropFirst(5))))) }
            if let v = claims.clientID { f.append(("client_id", .string(v))) }
            if let v = claims.role { f.append(("role", .string(v))) }
            if let v = claims.fhirUser { f.append(("fhirUser", .string(v))) }
            if let v = claims.patient { f.append(("patient", .string(v))) }
            if !claims.actsFor.isEmpty { f.append(("acts_for", .array(claims.actsFor.map { .string($0) }))) }
            if let v = claims.organization { f.append(("org", .string(v))) }
            return Self.json(.ok, .object(f))
        }
        if let grant = try await identity.refreshGrant(token), !grant.revoked, grant.expires > nowSeconds,
           allowed(client: grant.clientID, subject: "user:" + grant.username) {
            var f: [(String, JSON)] = [
                ("active", .bool(true)), ("token_type", .string("refresh_token")), ("scope", .string(grant.scope)),
                ("client_id", .string(grant.clientID)), ("username", .string(grant.username)), ("sub", .string("user:" + grant.username)),
                ("exp", .number(String(grant.expires))),
            ]
            if let p = grant.patient { f.append(("patient", .string(p))) }
            return Self.json(.ok, .object(f))
        }
        return inactive
    }
}
