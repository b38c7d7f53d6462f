import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The authorization code flow: browser sessions of the authorization endpoint and the
/// one-time codes it issues.
extension IdentityService {
    /// Stores a session; returns the cookie value (only its digest is stored).
    public func createSession(_ session: AuthorizationSession) async throws -> String {
        let cookie = randomToken()
        try await store.write { try $0.put(IdentityRecord.session, secretDigest(cookie), session) }
        return cookie
    }

    /// The live session of a cookie, or nil if unknown or expired.
    public func session(_ cookie: String) async throws -> AuthorizationSession? {
        let now = nowSeconds
        let s = try await store.read { try $0.decoded(AuthorizationSession.self, IdentityRecord.session, secretDigest(cookie)) }
        guard let s, s.expires > now else { return nil }
        return s
    }

    /// Replaces the session under a new cookie (after sign-in, against session fixation).
    public func rotateSession(_ old: String, to session: AuthorizationSession) async throws -> String {
        let cookie = randomToken()
        try await store.write { tx in
            try tx.putRecord(IdentityRecord.session, secretDigest(old), nil)
            try tx.put(IdentityRecord.session, secretDigest(cookie), session)
        }
        return cookie
    }

    public func endSession(_ cookie: String) async throws {
        try await store.write { try $0.putRecord(IdentityRecord.session, secretDigest(cookie), nil) }
    }

    /// Stores a code; returns it (only its digest is stored).
    public func storeCode(_ code: AuthorizationCode) async throws -> String {
        let value = randomToken()
        try await store.write { try $0.put(IdentityRecord.authorizationCode, secretDigest(value), code) }
        return value
    }

    public enum Redemption: Sendable, Equatable {
        case valid(AuthorizationCode)
        case unknownOrExpired
        /// The code was used before: what was issued from it has been revoked.
        case replayed
    }

    /// Marks a code used, atomically. A second use revokes the tokens issued from the first.
    public func redeemCode(_ value: String) async throws -> Redemption {
        let now = nowSeconds
        let key = secretDigest(value)
        return try await store.write { tx in
            guard var code = try tx.decoded(AuthorizationCode.self, IdentityRecord.authorizationCode, key) else { return .unknownOrExpired }
            if code.used {
                for jti in code.issuedTokenIDs { try tx.putRecord(IdentityRecord.revoked, jti, Array(String(now + 86_400).utf8)) }
                for r in code.issuedRefresh {
                    if var grant = try tx.decoded(RefreshGrant.self, IdentityRecord.refresh, r) {
                        grant.revoked = true
                        try tx.put(IdentityRecord.refresh, r, grant)
                    }
                }
                return .replayed
            }
            guard code.expires > now else { return .unknownOrExpired }
            code.used = true
            try tx.put(IdentityRecord.authorizationCode, key, code)
            return .valid(code)
        }
    }

    /// Remembers what was issued from a code, so a replay can revoke it.
    public func recordIssued(fromCode value: String, tokenID: String, refreshToken: String?) async throws {
        let key = secretDigest(value)
        try await store.write { tx in
            guard var code = try tx.decoded(AuthorizationCode.self, IdentityRecord.authorizationCode, key) else { return }
            code.issuedTokenIDs.append(tokenID)
            if let refreshToken { code.issuedRefresh.append(secretDigest(refreshToken)) }
            try tx.put(IdentityRecord.authorizationCode, key, code)
        }
    }
}
