import Crypto
import FHIR
import Foundation
import Hummingbird
import Trust

extension OAuthEndpoints {
    /// `POST /oauth/token` (RFC 6749 §3.2, SMART App Launch 2.x): `authorization_code` with a
    /// PKCE S256 verifier, `refresh_token` with rotation, and `client_credentials` with a
    /// `private_key_jwt` assertion (SMART Backend Services).
    func token(_ request: Request) async throws -> Response {
        guard let form = try await Self.readForm(request) else {
            return Self.error(.badRequest, "invalid_request", "the body must be application/x-www-form-urlencoded, each parameter once")
        }
        let client: OAuthClient
        switch try await authenticateClient(form) {
        case .success(let c): client = c
        case .failure(let e): return e.response
        }
        switch form["grant_type"] {
        case "authorization_code": return try await authorizationCodeGrant(form, client: client)
        case "refresh_token": return try await refreshGrant(form, client: client)
        case "client_credentials": return try await clientCredentialsGrant(form, client: client)
        case nil: return Self.error(.badRequest, "invalid_request", "grant_type is required")
        case let other?: return Self.error(.badRequest, "unsupported_grant_type", "grant_type '\(other)' is not supported")
        }
    }

    /// S256 of a PKCE verifier (RFC 7636 §4.2).
    static func s256(_ verifier: String) -> String { Base64URL.encode(Array(SHA256.hash(data: Array(verifier.utf8)))) }

    static func isValidVerifier(_ v: String) -> Bool {
        (43...128).contains(v.count) && v.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~".unicodeScalars.contains($0)) }
    }

    func authorizationCodeGrant(_ form: [String: String], client: OAuthClient) async throws -> Response {
        guard let code = form["code"], let redirect = form["redirect_uri"], let verifier = form["code_verifier"] else {
            return Self.error(.badRequest, "invalid_request", "code, redirect_uri and code_verifier are required")
        }
        guard Self.isValidVerifier(verifier) else {
            return Self.error(.badRequest, "invalid_request", "code_verifier must be 43–128 characters of A–Z a–z 0–9 - . _ ~")
        }
        let grant: AuthorizationCode
        switch try await identity.redeemCode(code) {
        case .valid(let g): grant = g
        case .unknownOrExpired: return Self.error(.badRequest, "invalid_grant", "the authorization code is unknown or expired")
        case .replayed: return Self.error(.badRequest, "invalid_grant", "the authorization code was already used; the tokens issued from it are revoked")
        }
        guard grant.clientID == client.clientID else { return Self.error(.badRequest, "invalid_grant", "the authorization code was issued to another client") }
        guard grant.redirectURI == redirect else { return Self.error(.badRequest, "invalid_grant", "redirect_uri does not match the authorization request") }
        guard constantTimeEqual(Self.s256(verifier), grant.codeChallenge) else {
            return Self.error(.badRequest, "invalid_grant", "the PKCE code_verifier does not match the code_challenge")
        }
        guard let user = try await identity.user(grant.username), !user.disabled else {
            return Self.error(.badRequest, "invalid_grant", "the user is no longer active")
        }
        let response = try await issue(user: user, scope: grant.scope, patient: grant.patient, client: client)
        try await identity.recordIssued(fromCode: code, tokenID: response.tokenID, refreshToken: response.refresh)
        return Self.json(.ok, response.body)
    }

    func refreshGrant(_ form: [String: String], client: OAuthClient) async throws -> Response {
        guard let refresh = form["refresh_token"] else { return Self.error(.badRequest, "invalid_request", "refresh_token is required") }
        guard let grant = try await identity.useRefresh(refresh, clientID: client.clientID) else {
            return Self.error(.badRequest, "invalid_grant", "the refresh token is unknown, expired, revoked or already used")
        }
        var scope = grant.scope
        if let narrower = form["scope"] {
            let held = Set(grant.scope.split(separator: " "))
            guard narrower.split(separator: " ").allSatisfy({ held.contains($0) }) else {
                return Self.error(.badRequest, "invalid_scope", "a refresh may only narrow the original scopes")
            }
            scope = narrower
        }
        guard let user = try await identity.user(grant.username), !user.disabled else {
            return Self.error(.badRequest, "invalid_grant", "the user is no longer active")
        }
        return Self.json(.ok, try await issue(user: user, scope: scope, patient: grant.patient, client: client).body)
    }

    func clientCredentialsGrant(_ form: [String: String], client: OAuthClient) async throws -> Response {
        guard !client.isPublic, form["client_assertion"] != nil else {
            return Self.error(.unauthorized, "invalid_client", "client_credentials needs a confidential client authenticated with private_key_jwt")
        }
        let requested = form["scope"] ?? ""
        let scope = ScopePolicy.grant(requested: requested, allowed: client.scope, role: .service)
        guard !ScopeSet(scope).scopes.isEmpty else {
            return Self.error(.badRequest, "invalid_scope", "none of the requested scopes '\(requested)' is allowed for this client (backend services get system/ scopes it is registered for)")
        }
        let issued = try authority.issueClaims(subject: "client:\(client.clientID)", scope: scope, ttl: 300, now: services.clock.now(),
                                               role: .service, clientID: client.clientID)
        return Self.json(.ok, .object([
            ("access_token", .string(issued.token)), ("token_type", .string("Bearer")),
            ("expires_in", .number("300")), ("scope", .string(scope)),
        ]))
    }

    /// An access token (and a refresh token with `offline_access`/`online_access`) for a user.
    func issue(user: User, scope: String, patient: String?, client: OAuthClient) async throws -> (body: JSON, tokenID: String, refresh: String?) {
        let ttl = Self.accessTokenTTL
        let issued = try identity.issueToken(for: user, scope: scope, patient: patient, clientID: client.clientID, authority: authority, ttl: ttl)
        let scopes = Set(scope.split(separator: " ").map(String.init))
        var fields: [(String, JSON)] = [
            ("access_token", .string(issued.token)), ("token_type", .string("Bearer")),
            ("expires_in", .number(String(ttl))), ("scope", .string(scope)),
        ]
        var refresh: String?
        if scopes.contains("offline_access") || scopes.contains("online_access") {
            let r = try await identity.storeRefresh(RefreshGrant(clientID: client.clientID, username: user.username, scope: scope, patient: patient,
                                                                 expires: nowSeconds + Self.refreshTokenTTL, accessTokenID: issued.claims.tokenID))
            fields.append(("refresh_token", .string(r)))
            refresh = r
        }
        if scopes.contains(where: { $0.hasPrefix("launch") }), let p = issued.claims.patient {
            fields.append(("patient", .string(String(p.split(separator: "/").last ?? ""))))
        }
        if scopes.contains("fhirUser") || scopes.contains("openid"), let f = user.fhirUser {
            fields.append(("fhirUser", .string(configuration.fhirBase + "/" + f)))
        }
        return (.object(fields), issued.claims.tokenID, refresh)
    }
}
