import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Refresh tokens (rotated on use) and the revocation of access tokens.
extension IdentityService {
    /// Stores a refresh grant; returns the token (only its digest is stored).
    public func storeRefresh(_ grant: RefreshGrant) async throws -> String {
        let value = randomToken()
        try await store.write { try $0.put(IdentityRecord.refresh, secretDigest(value), grant) }
        return value
    }

    /// Uses a refresh token once: returns its grant and revokes it and the access token issued
    /// with it (rotation). Nil if unknown, expired, revoked or issued to another client.
    public func useRefresh(_ value: String, clientID: String) async throws -> RefreshGrant? {
        let now = nowSeconds
        let key = secretDigest(value)
        return try await store.write { tx in
            guard var grant = try tx.decoded(RefreshGrant.self, IdentityRecord.refresh, key),
                  !grant.revoked, grant.expires > now, grant.clientID == clientID else { return nil }
            grant.revoked = true
            try tx.put(IdentityRecord.refresh, key, grant)
            // rotation, not a revocation of the grant: marked so (`accessEnded(for:)` tells them apart)
            try tx.putRecord(IdentityRecord.revoked, grant.accessTokenID, Array("\(now + 86_400) \(IdentityService.rotated)".utf8))
            return grant
        }
    }

    /// The grant of a refresh token (for introspection and revocation), or nil.
    public func refreshGrant(_ value: String) async throws -> RefreshGrant? {
        try await store.read { try $0.decoded(RefreshGrant.self, IdentityRecord.refresh, secretDigest(value)) }
    }

    /// Revokes a refresh token and the access token issued with it.
    public func revokeRefresh(_ value: String) async throws {
        let now = nowSeconds
        let key = secretDigest(value)
        try await store.write { tx in
            guard var grant = try tx.decoded(RefreshGrant.self, IdentityRecord.refresh, key) else { return }
            grant.revoked = true
            try tx.put(IdentityRecord.refresh, key, grant)
            try tx.putRecord(IdentityRecord.revoked, grant.accessTokenID, Array(String(now + 86_400).utf8))
        }
    }

    /// Revokes an access token by its `jti`; effective on the next request.
    public func revoke(tokenID: String, expires: Int64) async throws {
        try await store.write { try $0.putRecord(IdentityRecord.revoked, tokenID, Array(String(expires).utf8)) }
    }

    /// Whether a token may still be used: not revoked, and its user or client (`sub`
    /// `user:NAME` / `client:ID`) not disabled. One read per request. A subject without a
    /// record is accepted: only this server's key can mint tokens, and tests and automation
    /// mint them for principals that have no sign-in.
    public func isActive(tokenID: String, subject: String) async throws -> Bool {
        try await store.read { r in
            if try r.record(IdentityRecord.revoked, tokenID) != nil { return false }
            if subject.hasPrefix("user:"), let user = try r.decoded(User.self, IdentityRecord.user, String(subject.dropFirst(5))), user.disabled {
                return false
            }
            if subject.hasPrefix("client:"), let client = try r.decoded(OAuthClient.self, IdentityRecord.client, String(subject.dropFirst(7))), client.disabled {
                return false
            }
            return true
        }
    }

    /// The mark of an access token revoked because its refresh token was rotated (the grant goes on).
    static let rotated = "rotated"

    /// Why a principal's access ended, for what acts later in its name (a Subscription's
    /// deliveries, docs/subscriptions.md): its token revoked (`/oauth/revoke`, a replayed code;
    /// not the rotation of a refresh token, after which the same grant goes on), its user
    /// disabled, or the client the token was issued to disabled. Nil: it goes on. A subject or
    /// client without a record is not ended (tokens minted by `enlace token` have none).
    public enum AccessEnd: Sendable, Equatable {
        case tokenRevoked(String)
        case userDisabled(String)
        case clientDisabled(String)
    }

    /// See `AccessEnd`. One read.
    public func accessEnded(for principal: Principal) async throws -> AccessEnd? {
        try await store.read { r in
            if let mark = try r.record(IdentityRecord.revoked, principal.tokenID),
               !String(decoding: mark, as: UTF8.self).hasSuffix(" " + IdentityService.rotated) {
                return .tokenRevoked(principal.tokenID)
            }
            if principal.subject.hasPrefix("user:"), let user = try r.decoded(User.self, IdentityRecord.user, String(principal.subject.dropFirst(5))),
               user.disabled {
                return .userDisabled(user.username)
            }
            for id in [principal.subject.hasPrefix("client:") ? String(principal.subject.dropFirst(7)) : nil, principal.clientID].compactMap({ $0 }) {
                if let client = try r.decoded(OAuthClient.self, IdentityRecord.client, id), client.disabled { return .clientDisabled(id) }
            }
            return nil
        }
    }
}
