import Crypto
import FHIR
import Foundation

/// The claims of an Enlace access token (a JWT signed ES256,
/// https://www.rfc-editor.org/rfc/rfc7519 and SMART App Launch 2.x).
public struct AccessTokenClaims: Sendable, Equatable {
    public var issuer: String
    public var subject: String
    public var audience: String
    public var issuedAt: Int64
    public var expires: Int64
    public var tokenID: String
    /// Space-separated SMART scopes.
    public var scope: String
    /// `role`: a `Principal.Role` raw value; absent on operator tokens made by `enlace token`.
    public var role: String?
    /// `fhirUser`: the FHIR resource that is the user (`Practitioner/7`).
    public var fhirUser: String?
    /// `patient`: the patient in context (the patient user, or the SMART launch patient).
    public var patient: String?
    /// `acts_for`: patients a related person acts for.
    public var actsFor: [String]
    /// `org`: the user's organization.
    public var organization: String?
    /// `client_id`: the SMART client the token was issued to.
    public var clientID: String?

    public init(issuer: String, subject: String, audience: String, issuedAt: Int64, expires: Int64, tokenID: String, scope: String,
                role: String? = nil, fhirUser: String? = nil, patient: String? = nil, actsFor: [String] = [],
                organization: String? = nil, clientID: String? = nil) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.issuedAt = issuedAt
        self.expires = expires
        self.tokenID = tokenID
        self.scope = scope
        self.role = role
        self.fhirUser = fhirUser
        self.patient = patient
        self.actsFor = actsFor
        self.organization = organization
        self.clientID = clientID
    }
}

extension Principal {
    /// The principal a verified token stands for. An unknown `role` claim yields no role
    /// (callers refuse such tokens before building a principal; see `TokenAuthority.verify`).
    public init(claims: AccessTokenClaims) {
        self.init(subject: claims.subject, scopes: ScopeSet(claims.scope), tokenID: claims.tokenID,
                  role: claims.role.flatMap(Role.init(rawValue:)), fhirUser: claims.fhirUser, patient: claims.patient,
                  actsFor: claims.actsFor, organization: claims.organization, clientID: claims.clientID)
    }
}

/// Why a bearer token was refused. Every case answers 401; the message says which check failed.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed
    case unsupportedAlgorithm(String)
    case badSignature
    case expired
    case notYetValid
    case wrongAudience
    case revoked

    public var description: String {
        switch self {
        case .malformed: return "the access token is not a well-formed JWT"
        case .unsupportedAlgorithm(let a): return "the access token algorithm '\(a)' is not accepted (ES256 only)"
        case .badSignature: return "the access token signature does not verify"
        case .expired: return "the access token has expired"
        case .notYetValid: return "the access token is not valid yet"
        case .wrongAudience: return "the access token was issued for another audience"
        case .revoked: return "the access token has been revoked"
        }
    }

    public var spanish: String {
        switch self {
        case .malformed: return "el token de acceso no es un JWT bien formado"
        case .unsupportedAlgorithm(let a): return "el algoritmo '\(a)' del token no se acepta (solo ES256)"
        case .badSignature: return "la firma del token de acceso no es válida"
        case .expired: return "el token de acceso ha expirado"
        case .notYetValid: return "el token de acceso aún no es válido"
        case .wrongAudience: return "el token de acceso fue emitido para otra audiencia"
        case .revoked: return "el token de acceso fue revocado"
        }
    }
}

/// Issues and verifies ES256 JWT access tokens with the server's signing key.
public struct TokenAuthority: Sendable {
    public let key: SigningKey
    /// The `iss` and `aud` of every token: the FHIR base URL (or a configured identifier).
    public let issuer: String
    public let audience: String
    /// Tolerance for clock skew on `exp`/`iat`, seconds.
    public var leeway: Int64 = 30
    /// Tokens whose signature, audience and claims were verified, by their exact text: a second
    /// request with the same token skips the ECDSA verification (the most expensive step of a
    /// read) but never the time checks. Revocation is not cached here — it is checked on every
    /// request against the records (`IdentityService.isActive`).
    let verified = VerifiedTokens(capacity: 4096)

    public init(key: SigningKey, issuer: String, audience: String) {
        self.key = key
        self.issuer = issuer
        self.audience = audience
    }

    /// Signs `claims` as a compact JWS with header `{"alg":"ES256","typ":"JWT","kid":…}`.
    public func sign(_ claims: AccessTokenClaims) throws -> String {
        let header = JSON.object([("alg", .string("ES256")), ("typ", .string("JWT")), ("kid", .string(key.keyID))])
        var fields: [(String, JSON)] = [
            ("iss", .string(claims.issuer)), ("sub", .string(claims.subject)), ("aud", .string(claims.audience)),
            ("iat", .number(String(claims.issuedAt))), ("exp", .number(String(claims.expires))),
            ("jti", .string(claims.tokenID)), ("scope", .string(claims.scope)),
        ]
        if let v = claims.role { fields.append(("role", .string(v))) }
        if let v = claims.fhirUser { fields.append(("fhirUser", .string(v))) }
        if let v = claims.patient { fields.append(("patient", .string(v))) }
        if !claims.actsFor.isEmpty { fields.append(("acts_for", .array(claims.actsFor.map { .string($0) }))) }
        if let v = claims.organization { fields.append(("org", .string(v))) }
        if let v = claims.clientID { fields.append(("client_id", .string(v))) }
        let payload = JSON.object(fields)
        let signingInput = Base64URL.encode(header.serialized()) + "." + Base64URL.encode(payload.serialized())
        let signature = try key.privateKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// Issues a token for `subject` with `scope`, valid `ttl` seconds from `now`.
    public func issue(subject: String, scope: String, ttl: Int64, now: Timestamp) throws -> String {
        try issueClaims(subject: subject, scope: scope, ttl: ttl, now: now).token
    }

    /// Issues a token carrying a user's or client's context; returns the token and its claims
    /// (whose `tokenID` revocation and introspection use).
    public func issueClaims(subject: String, scope: String, ttl: Int64, now: Timestamp, role: Principal.Role? = nil,
                            fhirUser: String? = nil, patient: String? = nil, actsFor: [String] = [], organization: String? = nil,
                            clientID: String? = nil) throws -> (token: String, claims: AccessTokenClaims) {
        let iat = now.microseconds / 1_000_000
        let claims = AccessTokenClaims(issuer: issuer, subject: subject, audience: audience, issuedAt: iat,
                                       expires: iat + ttl, tokenID: UUID().uuidString.lowercased(), scope: scope,
                                       role: role?.rawValue, fhirUser: fhirUser, patient: patient, actsFor: actsFor,
                                       organization: organization, clientID: clientID)
        return (try sign(claims), claims)
    }

    /// Verifies signature (ES256 only: `none`, HS256 and every other algorithm are refused),
    /// expiry and audience. Throws `TokenError` naming the failed check.
    public func verify(_ token: String, now: Timestamp) throws(TokenError) -> AccessTokenClaims {
        let nowSeconds = now.microseconds / 1_000_000
        if let claims = verified.get(token) {
            guard claims.expires + leeway > nowSeconds else { throw .expired }
            guard claims.issuedAt - leeway <= nowSeconds else { throw .notYetValid }
            return claims
        }
        let claims = try verifyFully(token, now: now)
        verified.put(token, claims)
        return claims
    }

    func verifyFully(_ token: String, now: Timestamp) throws(TokenError) -> AccessTokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count < 16_384,
              let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let sigBytes = Base64URL.decode(parts[2]),
              let header = try? JSONParser.parse(headerBytes, maxDepth: 4),
              let payload = try? JSONParser.parse(payloadBytes, maxDepth: 4) else { throw .malformed }
        guard let alg = header["alg"]?.stringValue else { throw .malformed }
        guard alg == "ES256" else { throw .unsupportedAlgorithm(alg) }
        guard sigBytes.count == 64, let signature = try? P256.Signing.ECDSASignature(rawRepresentation: sigBytes) else { throw .badSignature }
        let signingInput = Data((parts[0] + "." + parts[1]).utf8)
        guard key.privateKey.publicKey.isValidSignature(signature, for: signingInput) else { throw .badSignature }
        func int(_ k: String) -> Int64? { if case let .number(n)? = payload[k] { return Int64(n) }; return nil }
        guard let exp = int("exp"), let iat = int("iat"), let sub = payload["sub"]?.stringValue,
              let jti = payload["jti"]?.stringValue else { throw .malformed }
        let nowSeconds = now.microseconds / 1_000_000
        guard exp + leeway > nowSeconds else { throw .expired }
        guard iat - leeway <= nowSeconds else { throw .notYetValid }
        let aud: [String]
        switch payload["aud"] {
        case .string(let a)?: aud = [a]
        case .array(let a)?: aud = a.compactMap(\.stringValue)
        default: throw .wrongAudience
        }
        guard aud.contains(audience) else { throw .wrongAudience }
        let role = payload["role"]?.stringValue
        if let role, Principal.Role(rawValue: role) == nil { throw .malformed }
        return AccessTokenClaims(issuer: payload["iss"]?.stringValue ?? "", subject: sub, audience: audience, issuedAt: iat,
                                 expires: exp, tokenID: jti, scope: payload["scope"]?.stringValue ?? "",
                                 role: role, fhirUser: payload["fhirUser"]?.stringValue, patient: payload["patient"]?.stringValue,
                                 actsFor: (payload["acts_for"]?.arrayValue ?? []).compactMap(\.stringValue),
                                 organization: payload["org"]?.stringValue, clientID: payload["client_id"]?.stringValue)
    }
}

/// A bounded, thread-safe map from a token's exact text to its verified claims. When full it is
/// emptied (tokens are short-lived; a miss only costs one signature verification).
final class VerifiedTokens: @unchecked Sendable {
    private let lock = NSLock()
    private var claims: [String: AccessTokenClaims] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func get(_ token: String) -> AccessTokenClaims? {
        lock.lock()
        defer { lock.unlock() }
        return claims[token]
    }

    func put(_ token: String, _ c: AccessTokenClaims) {
        lock.lock()
        defer { lock.unlock() }
        if claims.count >= capacity { claims.removeAll(keepingCapacity: true) }
        claims[token] = c
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return claims.count
    }
}
