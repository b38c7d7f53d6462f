import Foundation
import JWTKit

/// The payload of an Enlace access token as jwt-kit encodes and decodes it: the registered
/// claims of RFC 7519 as jwt-kit's claim types, and the SMART App Launch context
/// (`scope`, `fhirUser`, `patient`) with Enlace's own (`role`, `acts_for`, `org`, `client_id`).
///
/// This file uses only jwt-kit and Foundation, so `bench/jwt` measures exactly this decoding.
struct AccessTokenPayload: JWTPayload, Equatable {
    var iss: IssuerClaim?
    var sub: SubjectClaim
    var aud: AudienceClaim?
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var jti: IDClaim
    var scope: String?
    var role: String?
    var fhirUser: String?
    var patient: String?
    var acts_for: [String]?
    var org: String?
    var client_id: String?

    /// jwt-kit calls this once the signature verified. The checks of time and audience need the
    /// server's injected clock and its base URL, so `TokenAuthority.verify` makes them, with
    /// jwt-kit's claim types (`ExpirationClaim.verifyNotExpired`, `AudienceClaim.verifyIntendedAudience`).
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Verifying an access token with jwt-kit: the key collection holds the server's one ES256
/// public key under its `kid`, so the signature is checked with that key and that algorithm
/// whatever the token's header claims (`TokenAuthority` also refuses a header that says anything
/// but ES256).
enum AccessTokenJWT {
    static func keys(_ publicKey: ES256PublicKey, kid: String) async -> JWTKeyCollection {
        await JWTKeyCollection().add(ecdsa: publicKey, kid: JWKIdentifier(string: kid))
    }

    static func verify(_ token: String, with keys: JWTKeyCollection) async throws -> AccessTokenPayload {
        try await keys.verify(token, as: AccessTokenPayload.self)
    }
}
