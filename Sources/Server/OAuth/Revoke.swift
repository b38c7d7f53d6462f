import FHIR
import Foundation
import Hummingbird
import Trust

extension OAuthEndpoints {
    /// `POST /oauth/revoke` (RFC 7009): revokes an access token (by its `jti`, refused on the
    /// very next request) or a refresh token (and the access token issued with it). The client
    /// authenticates as at the token endpoint (or an operator with a bearer token) and may only
    /// revoke its own tokens. Answers 200 whether or not the token was known.
    func revoke(_ request: Request) async throws -> Response {
        guard let form = try await Self.readForm(request), let token = form["token"] else {
            return Self.error(.badRequest, "invalid_request", "token is required (application/x-www-form-urlencoded)")
        }
        var clientID: String?
        var operatorCaller = false
        if form["client_id"] != nil || form["client_assertion"] != nil {
            switch try await authenticateClient(form) {
            case .success(let c): clientID = c.clientID
            case .failure(let e): return e.response
            }
        } else if let claims = try await bearerClaims(request) {
            let role = claims.role.flatMap(Principal.Role.init(rawValue:))
            operatorCaller = role == nil || role == .platformOperator
            clientID = claims.clientID
            if !operatorCaller && clientID == nil {
                return Self.error(.unauthorized, "invalid_client", "only operators or the token's client may revoke")
            }
        } else {
            return Self.error(.unauthorized, "invalid_client", "authenticate with client_id (public clients), a client assertion, or an operator bearer token")
        }
        let ok = Self.json(.ok, .object([]))
        if let claims = try? await authority.verify(token, now: services.clock.now()) {
            if operatorCaller || (claims.clientID != nil && claims.clientID == clientID) {
                try await identity.revoke(tokenID: claims.tokenID, expires: claims.expires)
            }
            return ok
        }
        if let grant = try await identity.refreshGrant(token), operatorCaller || grant.clientID == clientID {
            try await identity.revokeRefresh(token)
        }
        return ok
    }
}
