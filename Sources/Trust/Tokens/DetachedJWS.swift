import Crypto
import FHIR
import Foundation

/// A JWS with a detached payload (RFC 7515 appendix F: `BASE64URL(header)..BASE64URL(signature)`)
/// signed with ES256 (ECDSA P-256 and SHA-256, RFC 7518 §3.4: the signature is `r‖s`, 64 bytes —
/// what WebCrypto's ECDSA `sign` returns). The header may also use RFC 7797's unencoded payload
/// (`"b64":false` with `"crit":["b64"]`): then the signing input is the header and the payload's
/// own bytes. Any other `alg`, or a `crit` naming anything but `b64`, is refused.
///
/// Used for the prescriber's signature (docs/prescribing.md). Every refusal is a bilingual
/// `FHIRError` (422 `invalid`), so a wrong signature is never a 500.
public struct DetachedJWS: Sendable {
    public let header: JSON
    public let encodedHeader: String
    public let signature: [UInt8]

    public var keyID: String? { header["kid"]?.stringValue }
    /// RFC 7797: the payload is signed as it is, not base64url-encoded.
    public var unencodedPayload: Bool { header["b64"]?.boolValue == false }

    static func refuse(_ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 422, code: "invalid", english: english, spanish: spanish)
    }

    /// Parses a compact JWS whose payload part is empty (detached).
    public init(compact: String) throws {
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw DetachedJWS.refuse("the signature is not a compact JWS (header..signature)", "la firma no es un JWS compacto (encabezado..firma)")
        }
        guard parts[1].isEmpty else {
            throw DetachedJWS.refuse("the JWS must have a detached payload (RFC 7515 appendix F): its middle part must be empty",
                                     "el JWS debe llevar la carga separada (RFC 7515 apéndice F): su parte central debe estar vacía")
        }
        guard let h = Base64URL.decode(parts[0]), let header = try? JSONParser.parse(h, maxDepth: 5), header.objectValue != nil else {
            throw DetachedJWS.refuse("the JWS header is not base64url-encoded JSON", "el encabezado del JWS no es JSON en base64url")
        }
        guard header["alg"]?.stringValue == "ES256" else {
            throw DetachedJWS.refuse("the JWS algorithm must be ES256 (ECDSA P-256 with SHA-256), not \(header["alg"]?.stringValue ?? "none")",
                                     "el algoritmo del JWS debe ser ES256 (ECDSA P-256 con SHA-256), no \(header["alg"]?.stringValue ?? "ninguno")")
        }
        if let crit = header["crit"] {
            guard let names = crit.arrayValue?.compactMap(\.stringValue), names == ["b64"], header["b64"]?.boolValue != nil else {
                throw DetachedJWS.refuse("the JWS header lists critical parameters this server does not understand (only \"b64\", RFC 7797)",
                                         "el encabezado del JWS exige parámetros críticos que este servidor no entiende (solo \"b64\", RFC 7797)")
            }
        } else if header["b64"] != nil {
            throw DetachedJWS.refuse("\"b64\" must be listed in \"crit\" (RFC 7797 §6)", "\"b64\" debe estar en \"crit\" (RFC 7797 §6)")
        }
        guard let sig = Base64URL.decode(parts[2]), sig.count == 64 else {
            throw DetachedJWS.refuse("an ES256 signature is 64 bytes (r‖s), base64url-encoded", "una firma ES256 mide 64 bytes (r‖s), en base64url")
        }
        self.header = header
        encodedHeader = String(parts[0])
        signature = sig
    }

    /// The bytes signed for `payload` (RFC 7515 §5.1 step 8, or RFC 7797 §3 when unencoded).
    public func signingInput(_ payload: [UInt8]) -> [UInt8] {
        Array(encodedHeader.utf8) + [UInt8(ascii: ".")] + (unencodedPayload ? payload : Array(Base64URL.encode(payload).utf8))
    }

    /// Does the signature verify over `payload` with `key`?
    public func verifies(_ payload: [UInt8], key: P256.Signing.PublicKey) -> Bool {
        guard let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(sig, for: signingInput(payload))
    }

    /// Does the signature verify over `payload` with the public `jwk`? (false for a JWK that is
    /// not an EC P-256 public key)
    public func verifies(_ payload: [UInt8], jwk: JSON) -> Bool {
        guard let key = try? SigningJWK.publicKey(jwk) else { return false }
        return verifies(payload, key: key)
    }

    /// A detached ES256 JWS over `payload` (the demo, tests and server-side signers; browsers sign
    /// with WebCrypto, docs/prescribing.md).
    public static func sign(_ payload: [UInt8], key: P256.Signing.PrivateKey, keyID: String) throws -> String {
        let header = Base64URL.encode(JSON.object([("alg", .string("ES256")), ("kid", .string(keyID))]).serialized())
        let input = Array(header.utf8) + [UInt8(ascii: ".")] + Array(Base64URL.encode(payload).utf8)
        let sig = try key.signature(for: input)
        return header + ".." + Base64URL.encode(Array(sig.rawRepresentation))
    }
}

/// A public key as a JSON Web Key (RFC 7517): only EC P-256 keys for ES256 are accepted.
public enum SigningJWK {
    static func refuse(_ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 422, code: "invalid", english: english, spanish: spanish)
    }

    /// The P-256 public key of `jwk`, refusing private keys (a `d` member), other curves and types.
    public static func publicKey(_ jwk: JSON) throws -> P256.Signing.PublicKey {
        guard jwk["kty"]?.stringValue == "EC", jwk["crv"]?.stringValue == "P-256" else {
            throw refuse("the key must be a JWK with kty \"EC\" and crv \"P-256\" (ES256)", "la llave debe ser un JWK con kty \"EC\" y crv \"P-256\" (ES256)")
        }
        guard jwk["d"] == nil else {
            throw refuse("this is a private key: send only the public key (no \"d\")", "esta es una llave privada: envíe solo la pública (sin \"d\")")
        }
        guard let x = jwk["x"]?.stringValue.flatMap({ Base64URL.decode(Substring($0)) }), let y = jwk["y"]?.stringValue.flatMap({ Base64URL.decode(Substring($0)) }),
              x.count == 32, y.count == 32, let key = try? P256.Signing.PublicKey(rawRepresentation: x + y) else {
            throw refuse("the key's x and y are not a point of P-256 (32 bytes each, base64url)", "x e y de la llave no son un punto de P-256 (32 bytes cada uno, en base64url)")
        }
        return key
    }

    /// The key's RFC 7638 thumbprint (SHA-256 over `{"crv","kty","x","y"}` in that order, no
    /// whitespace), base64url: the `kid` Enlace gives a registered key.
    public static func thumbprint(_ jwk: JSON) throws -> String {
        _ = try publicKey(jwk)
        let members: [(String, JSON)] = ["crv", "kty", "x", "y"].map { ($0, jwk[$0] ?? .null) }
        return Base64URL.encode(Array(SHA256.hash(data: JSON.object(members).serialized())))
    }

    /// The public JWK of a P-256 key, with its thumbprint as `kid`.
    public static func jwk(_ key: P256.Signing.PublicKey) -> JSON {
        let raw = Array(key.rawRepresentation)
        let base: [(String, JSON)] = [("crv", .string("P-256")), ("kty", .string("EC")), ("x", .string(Base64URL.encode(Array(raw[0..<32])))),
                                      ("y", .string(Base64URL.encode(Array(raw[32..<64]))))]
        let kid = Base64URL.encode(Array(SHA256.hash(data: JSON.object(base).serialized())))
        return .object(base + [("kid", .string(kid)), ("alg", .string("ES256")), ("use", .string("sig"))])
    }
}

/// Statements the server gives a client to hand back unchanged (the prepared prescription a
/// prescriber signs): `BASE64URL(payload).BASE64URL(HMAC-SHA256)` with a key derived (HKDF) from
/// the server's signing key for one `purpose`, so no node stores them and no other token
/// (an access token is an ES256 JWT) can be passed off as one.
public struct ServerSeal: Sendable {
    let key: SymmetricKey

    public init(signingKey: SigningKey, purpose: String) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: signingKey.privateKey.rawRepresentation),
                                     info: Data("enlace/seal/\(purpose)".utf8), outputByteCount: 32)
    }

    public func seal(_ payload: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Base64URL.encode(payload) + "." + Base64URL.encode(Array(mac))
    }

    /// The payload, or nil when `sealed` was not sealed by this server for this purpose.
    public func open(_ sealed: String) -> [UInt8]? {
        let parts = sealed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { return nil }
        return payload
    }
}
