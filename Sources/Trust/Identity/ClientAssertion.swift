import Crypto
import FHIR
import Foundation
import JWTKit

/// `private_key_jwt` client authentication for SMART Backend Services
/// (https://hl7.org/fhir/smart-app-launch/client-confidential-asymmetric.html): a JWT the
/// client signs with ES384 or RS384, checked against the JWK Set registered for it — on jwt-kit:
/// its JWK Set decoding, its key collection for the signature (each key pinned to the one
/// algorithm SMART allows for its kind) and its claim types for `aud` and `exp`.
public enum ClientAssertion {
    /// A usable key of a client's JWK Set, with the algorithm its kind pins: an EC P-384 key
    /// verifies only ES384, an RSA key (at least 2048 bits) only RS384. A JWK whose own `alg`
    /// says something else is not usable.
    public struct Key: Sendable {
        let jwk: JWK
        public let algorithm: String
        public var kid: String? { jwk.keyIdentifier?.string }
    }

    public struct Verified: Sendable, Equatable {
        public var clientID: String
        public var tokenID: String
        public var expires: Int64
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self { case .invalid(let m): return m }
        }
    }

    /// The payload of a client assertion (RFC 7523 §3), as jwt-kit decodes it; the checks are
    /// made by `verify`, which knows the client and the token URL.
    struct Payload: JWTPayload {
        var iss: IssuerClaim?
        var sub: SubjectClaim?
        var aud: AudienceClaim?
        var exp: ExpirationClaim?
        var jti: IDClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// The usable public keys of a JWK Set (jwt-kit's `JWKS`): EC P-384 and RSA (≥ 2048 bits).
    public static func keys(fromJWKS text: String) throws -> [Key] {
        let jwks = try JSONDecoder().decode(JWKS.self, from: Data(text.utf8))
        var keys: [Key] = []
        for (i, var jwk) in jwks.keys.enumerated() {
            let pinned: JWK.Algorithm
            switch jwk.keyType {
            case .ecdsa:
                guard jwk.curve == .ecdsa(.p384), let x = jwk.x, let y = jwk.y, (try? ES384PublicKey(parameters: (x, y))) != nil else { continue }
                pinned = .es384
            case .rsa:
                // swift-crypto refuses RSA keys under 2048 bits
                guard let n = jwk.modulus, let e = jwk.exponent, (try? Insecure.RSA.PublicKey(modulus: n, exponent: e)) != nil else { continue }
                pinned = .rs384
            default:
                continue
            }
            guard jwk.algorithm == nil || jwk.algorithm == pinned else { continue }
            jwk.algorithm = pinned
            // jwt-kit keys keys by kid; a key registered without one is still tried (iterating)
            if jwk.keyIdentifier == nil { jwk.keyIdentifier = JWKIdentifier(string: "enlace-unnamed-\(i)") }
            keys.append(Key(jwk: jwk, algorithm: pinned.rawValue))
        }
        return keys
    }

    /// Verifies `assertion` for `client` at `tokenURL`: signature by a JWKS key (ES384/RS384),
    /// `iss` = `sub` = client id, `aud` = token URL, `exp` in the future and at most 5 minutes
    /// ahead, a `jti`. The caller must still check `jti` was not used before.
    public static func verify(_ assertion: String, client: OAuthClient, tokenURL: String, now: Int64) async throws(Failure) -> Verified {
        try await verify(assertion, client: client, audience: tokenURL, audienceName: "the token URL", what: "client assertion", now: now)
    }

    /// The same checks for a JWT the client signs to call something else, e.g. a CDS Hooks call
    /// (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients: `iss`, `sub` = the client id, `aud` =
    /// the CDS service URL, `exp` at most 5 minutes ahead, `jti`). `audienceName` and `what` name
    /// the audience and the token in the refusals.
    public static func verify(_ assertion: String, client: OAuthClient, audience tokenURL: String, audienceName: String, what: String,
                              now: Int64) async throws(Failure) -> Verified {
        guard let jwks = client.jwks, let keys = try? ClientAssertion.keys(fromJWKS: jwks), !keys.isEmpty else {
            throw .invalid("the client has no registered JWKS")
        }
        guard assertion.utf8.count < 16_384, TokenAuthority.isCompactJWS(assertion), let header = TokenAuthority.header(assertion),
              let alg = header["alg"]?.stringValue, header["crit"] == nil else { throw .invalid("the \(what) is not a well-formed JWT") }
        guard ["ES384", "RS384"].contains(alg) else { throw .invalid("a \(what) must be signed ES384 or RS384, not '\(alg)'") }
        // only the keys of the header's algorithm: an EC key never verifies "RS384", nor the reverse
        let collection = JWTKeyCollection()
        for key in keys where key.algorithm == alg { _ = try? await collection.add(jwk: key.jwk) }
        let payload: Payload
        do {
            payload = try await collection.verify(assertion, as: Payload.self, iteratingKeys: true)
        } catch let e as JWTError where e.errorType == .malformedToken {
            throw .invalid("the \(what) is not a well-formed JWT")
        } catch {
            throw .invalid("the \(what) signature does not verify with the client's JWKS")
        }
        guard payload.iss?.value == client.clientID, payload.sub?.value == client.clientID else {
            throw .invalid("the \(what)'s iss and sub must both be the client id")
        }
        do { try payload.aud?.verifyIntendedAudience(includes: tokenURL) } catch { throw .invalid("the \(what)'s aud must be \(audienceName) \(tokenURL)") }
        guard payload.aud != nil else { throw .invalid("the \(what)'s aud must be \(audienceName) \(tokenURL)") }
        guard let expiry = payload.exp else { throw .invalid("the \(what) has no exp") }
        do { try expiry.verifyNotExpired(currentDate: Date(timeIntervalSince1970: TimeInterval(now))) } catch { throw .invalid("the \(what) has expired") }
        // a JSON number as large as 1e305 decodes to a Date and passes the expiry check; as Int64
        // it would trap (found by fuzz/FuzzJWT): such an exp is more than 5 minutes ahead
        guard let exp = TokenAuthority.wholeSeconds(expiry.value), exp <= now + 300 else { throw .invalid("the \(what)'s exp is more than 5 minutes ahead") }
        guard let jti = payload.jti?.value, !jti.isEmpty, jti.count <= 256 else { throw .invalid("the \(what) has no jti") }
        return Verified(clientID: client.clientID, tokenID: jti, expires: exp)
    }
}

/// Which of the requested scopes a grant gets: the intersection with what the client is
/// registered for, limited by the role (only operators and backend services get `system/`).
public enum ScopePolicy {
    /// The granted subset of `requested`, in request order. Resource scopes are granted if a
    /// client scope of the same context covers the type and every permission; other scopes
    /// (`openid`, `fhirUser`, `launch/patient`, `offline_access`, …) only if listed by the client.
    public static func grant(requested: String, allowed: String, role: Principal.Role?) -> String {
        let allowedSet = ScopeSet(allowed)
        let allowedOther = Set(allowedSet.other)
        var granted: [String] = []
        for raw in requested.split(separator: " ").map(String.init) where !granted.contains(raw) {
            let one = ScopeSet(raw)
            if let s = one.scopes.first {
                switch s.context {
                case .system:
                    guard role == nil || role == .platformOperator || role == .service else { continue }
                case .patient, .user:
                    guard role != .service else { continue }
                }
                let covered = allowedSet.scopes.contains { $0.context == s.context && ($0.type == "*" || $0.type == s.type) && s.permissions.isSubset(of: $0.permissions) }
                if covered { granted.append(raw) }
            } else if allowedOther.contains(raw) {
                granted.append(raw)
            }
        }
        return granted.joined(separator: " ")
    }
}
