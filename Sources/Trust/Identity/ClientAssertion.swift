import _CryptoExtras
import Crypto
import FHIR
import Foundation

/// `private_key_jwt` client authentication for SMART Backend Services
/// (https://hl7.org/fhir/smart-app-launch/client-confidential-asymmetric.html): a JWT the
/// client signs with ES384 or RS384, checked against the JWK Set registered for it.
public enum ClientAssertion {
    public enum Key: Sendable {
        case ec384(P384.Signing.PublicKey, kid: String?)
        case rsa(_RSA.Signing.PublicKey, kid: String?)
        var kid: String? {
            switch self {
            case .ec384(_, let k), .rsa(_, let k): return k
            }
        }
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

    /// The usable public keys of a JWK Set: EC P-384 and RSA (≥ 2048 bits).
    public static func keys(fromJWKS text: String) throws -> [Key] {
        let json = try JSONParser.parse(text, maxDepth: 8)
        var keys: [Key] = []
        for jwk in json["keys"]?.arrayValue ?? [] {
            let kid = jwk["kid"]?.stringValue
            switch jwk["kty"]?.stringValue {
            case "EC":
                guard jwk["crv"]?.stringValue == "P-384", let x = jwk["x"]?.stringValue.flatMap({ Base64URL.decode(Substring($0)) }),
                      let y = jwk["y"]?.stringValue.flatMap({ Base64URL.decode(Substring($0)) }), x.count == 48, y.count == 48,
                      let key = try? P384.Signing.PublicKey(rawRepresentation: x + y) else { continue }
                keys.append(.ec384(key, kid: kid))
            case "RSA":
                guard let n = jwk["n"]?.stringValue.flatMap({ Base64URL.decode(Substring($0)) }),
                      let e = jwk["e"]?.stringValue.flatMap({ Base64URL.decode(Substring($0)) }),
                      let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { continue }
                keys.append(.rsa(key, kid: kid))
            default:
                continue
            }
        }
        return keys
    }

    /// Verifies `assertion` for `client` at `tokenURL`: signature by a JWKS key (ES384/RS384),
    /// `iss` = `sub` = client id, `aud` = token URL, `exp` in the future and at most 5 minutes
    /// ahead, a `jti`. The caller must still check `jti` was not used before.
    public static func verify(_ assertion: String, client: OAuthClient, tokenURL: String, now: Int64) throws(Failure) -> Verified {
        guard let jwks = client.jwks, let keys = try? ClientAssertion.keys(fromJWKS: jwks), !keys.isEmpty else {
            throw .invalid("the client has no registered JWKS")
        }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, assertion.utf8.count < 16_384, let headerBytes = Base64URL.decode(parts[0]),
              let payloadBytes = Base64URL.decode(parts[1]), let sig = Base64URL.decode(parts[2]),
              let header = try? JSONParser.parse(headerBytes, maxDepth: 4),
              let payload = try? JSONParser.parse(payloadBytes, maxDepth: 4) else { throw .invalid("the client assertion is not a well-formed JWT") }
        let alg = header["alg"]?.stringValue ?? ""
        let kid = header["kid"]?.stringValue
        let input = Array((parts[0] + "." + parts[1]).utf8)
        var verified = false
        for key in keys where kid == nil || key.kid == nil || key.kid == kid {
            switch (alg, key) {
            case ("ES384", .ec384(let k, _)):
                if sig.count == 96, let s = try? P384.Signing.ECDSASignature(rawRepresentation: sig), k.isValidSignature(s, for: input) { verified = true }
            case ("RS384", .rsa(let k, _)):
                if k.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: sig), for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5) { verified = true }
            default:
                continue
            }
            if verified { break }
        }
        guard ["ES384", "RS384"].contains(alg) else { throw .invalid("client assertions must be signed ES384 or RS384, not '\(alg)'") }
        guard verified else { throw .invalid("the client assertion signature does not verify with the client's JWKS") }
        guard payload["iss"]?.stringValue == client.clientID, payload["sub"]?.stringValue == client.clientID else {
            throw .invalid("the client assertion's iss and sub must both be the client id")
        }
        let aud: [String]
        switch payload["aud"] {
        case .string(let a)?: aud = [a]
        case .array(let a)?: aud = a.compactMap(\.stringValue)
        default: aud = []
        }
        guard aud.contains(tokenURL) else { throw .invalid("the client assertion's aud must be the token URL \(tokenURL)") }
        guard case let .number(n)? = payload["exp"], let exp = Int64(n) else { throw .invalid("the client assertion has no exp") }
        guard exp > now else { throw .invalid("the client assertion has expired") }
        guard exp <= now + 300 else { throw .invalid("the client assertion's exp is more than 5 minutes ahead") }
        guard let jti = payload["jti"]?.stringValue, !jti.isEmpty, jti.count <= 256 else { throw .invalid("the client assertion has no jti") }
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
