import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Registered SMART clients and the one-time ids of their Backend Services assertions.
extension IdentityService {
    public func addClient(_ client: OAuthClient) async throws {
        guard OAuthClient.isValidClientID(client.clientID) else { throw IdentityError.invalidClientID(client.clientID) }
        if client.isPublic && client.redirectURIs.isEmpty {
            throw IdentityError.invalid("a public client needs at least one --redirect-uri")
        }
        for uri in client.redirectURIs {
            guard let u = URL(string: uri), let scheme = u.scheme?.lowercased(), u.fragment == nil,
                  scheme == "https" || (scheme == "http" && ["localhost", "127.0.0.1", "[::1]", "::1"].contains(u.host ?? "")) || !["http", "https", "javascript", "data", "file"].contains(scheme) else {
                throw IdentityError.invalid("redirect URI '\(uri)' must be https (http only for localhost), without a fragment")
            }
        }
        if let jwks = client.jwks {
            guard let keys = try? ClientAssertion.keys(fromJWKS: jwks), !keys.isEmpty else {
                throw IdentityError.invalid("the JWKS holds no usable EC P-384 or RSA public key")
            }
        }
        var c = client
        c.created = nowSeconds
        let stored = c
        try await store.write { tx in
            if try tx.record(IdentityRecord.client, stored.clientID) != nil { throw IdentityError.duplicateClient(stored.clientID) }
            try tx.put(IdentityRecord.client, stored.clientID, stored)
        }
    }

    public func client(_ clientID: String) async throws -> OAuthClient? {
        try await store.read { try $0.decoded(OAuthClient.self, IdentityRecord.client, clientID) }
    }

    public func clients() async throws -> [OAuthClient] {
        try await store.read { r in try r.records(IdentityRecord.client).compactMap { RecordCoding.decode(OAuthClient.self, $0.value) } }
    }

    /// Records a client assertion's `jti`; false if it was seen before (replay).
    public func useAssertionID(clientID: String, jti: String, expires: Int64) async throws -> Bool {
        try await store.write { tx in
            let key = clientID + " " + jti
            if try tx.record(IdentityRecord.assertion, key) != nil { return false }
            try tx.putRecord(IdentityRecord.assertion, key, Array(String(expires).utf8))
            return true
        }
    }
}
