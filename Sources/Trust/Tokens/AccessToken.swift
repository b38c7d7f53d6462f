import Crypto
import FHIR
import Foundation
import JWTKit

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
    case wrongIssuer
    case revoked

    public var description: String {
        switch self {
        case .malformed: return "the access token is not a well-formed JWT"
        case .unsupportedAlgorithm(let a): return "the access token algorithm '\(a)' is not accepted (ES256 only)"
        case .badSignature: return "the access token signature does not verify"
        case .expired: return "the access token has expired"
        case .notYetValid: return "the access token is not valid yet"
        case .wrongAudience: return "the access token was issued for another audience"
        case .wrongIssuer: return "the access token was issued by another issuer"
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
        case .wrongIssuer: return "el token de acceso fue emitido por otro emisor"
        case .revoked: return "el token de acceso fue revocado"
        }
    }
}

/// Issues and verifies ES256 JWT access tokens with the server's signing key, on jwt-kit
/// (https://github.com/vapor/jwt-kit): its claim types encode and decode the payload
/// (`AccessTokenPayload`), its key collection verifies the signature with the one server key
/// (the algorithm is pinned to ES256 by the key, and the header must say ES256 too), and its
/// claim checks decide expiry and audience with the server's clock.
///
/// Signing stays synchronous — tests and the CLI issue tokens in synchronous code, and jwt-kit
/// signs only through its asynchronous key collection — so `sign` encodes the header and the
/// payload with jwt-kit's serializer and makes the ES256 signature with swift-crypto, the call
/// jwt-kit's own ECDSA signer makes.
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
    /// jwt-kit's key collection with the server's public key, filled once (its `add` is
    /// asynchronous, this initialiser is not).
    let keys: Task<JWTKeyCollection, Never>

    public init(key: SigningKey, issuer: String, audience: String) {
        self.key = key
        self.issuer = issuer
        self.audience = audience
        let publicKey = try? ES256PublicKey(backing: key.privateKey.publicKey)
        let kid = key.keyID
        keys = Task {
            guard let publicKey else { return JWTKeyCollection() }
            return await AccessTokenJWT.keys(publicKey, kid: kid)
        }
    }

    /// Signs `claims` as a compact JWS with header `{"alg":"ES256","typ":"JWT","kid":…}`.
    public func sign(_ claims: AccessTokenClaims) throws -> String {
        var header = JWTHeader()
        header.alg = "ES256"
        header.typ = "JWT"
        header.kid = key.keyID
        // jwt-kit's JSON encoding of claims (dates as seconds since 1970), with `/` left unescaped
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let serializer = DefaultJWTSerializer(jsonEncoder: encoder)
        let payload = AccessTokenPayload(
            iss: IssuerClaim(value: claims.issuer), sub: SubjectClaim(value: claims.subject), aud: AudienceClaim(value: [claims.audience]),
            iat: IssuedAtClaim(value: Date(timeIntervalSince1970: TimeInterval(claims.issuedAt))),
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: TimeInterval(claims.expires))), jti: IDClaim(value: claims.tokenID),
            scope: claims.scope, role: claims.role, fhirUser: claims.fhirUser, patient: claims.patient,
            acts_for: claims.actsFor.isEmpty ? nil : claims.actsFor, org: claims.organization, client_id: claims.clientID)
        let signingInput = Base64URL.encode(Array(try serializer.jsonEncoder.encode(header))) + "."
            + String(decoding: try serializer.serialize(payload, header: header), as: UTF8.self)
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
    /// expiry, audience and issuer. Throws `TokenError` naming the failed check.
    public func verify(_ token: String, now: Timestamp) async throws(TokenError) -> AccessTokenClaims {
        let nowSeconds = now.microseconds / 1_000_000
        if let claims = verified.get(token) {
            guard claims.expires + leeway > nowSeconds else { throw .expired }
            guard claims.issuedAt - leeway <= nowSeconds else { throw .notYetValid }
            return claims
        }
        let claims = try await verifyFully(token, now: now)
        verified.put(token, claims)
        return claims
    }

    func verifyFully(_ token: String, now: Timestamp) async throws(TokenError) -> AccessTokenClaims {
        // compact serialization only: three base64url parts, no padding, nothing else (RFC 7515 §7.1)
        guard token.utf8.count < 16_384, TokenAuthority.isCompactJWS(token), let header = TokenAuthority.header(token),
              let alg = header["alg"]?.stringValue else { throw .malformed }
        guard alg == "ES256" else { throw .unsupportedAlgorithm(alg) }
        // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; Enlace understands none
        guard header["crit"] == nil else { throw .malformed }
        let payload: AccessTokenPayload
        do {
            payload = try await AccessTokenJWT.verify(token, with: keys.value)
        } catch let e as JWTError where e.errorType == .malformedToken {
            throw .malformed  // the payload is checked once the signature verified: claims missing or of the wrong type
        } catch {
            throw .badSignature  // a signature that does not verify, or cannot be one (wrong length)
        }
        // the same bytes in another spelling: refused after the signature check, so a damaged
        // signature still says so
        guard TokenAuthority.isCanonical(token) else { throw .malformed }
        let date = Date(timeIntervalSince1970: TimeInterval(now.microseconds) / 1_000_000)
        do { try payload.exp.verifyNotExpired(currentDate: date.addingTimeInterval(-TimeInterval(leeway))) } catch { throw .expired }
        guard payload.iat.value.timeIntervalSince1970 - TimeInterval(leeway) <= date.timeIntervalSince1970 else { throw .notYetValid }
        guard let aud = payload.aud else { throw .wrongAudience }
        do { try aud.verifyIntendedAudience(includes: audience) } catch { throw .wrongAudience }
        // the signature is this server's, so `iss` can only differ on a token made for another
        // configuration of the same key (a changed base URL): refuse it rather than trust it
        guard payload.iss?.value == issuer else { throw .wrongIssuer }
        if let role = payload.role, Principal.Role(rawValue: role) == nil { throw .malformed }
        // times far outside Int64 seconds (`"exp":1e305` passes the expiry check) are not times
        guard let issuedAt = TokenAuthority.wholeSeconds(payload.iat.value), let expires = TokenAuthority.wholeSeconds(payload.exp.value) else {
            throw .malformed
        }
        return AccessTokenClaims(issuer: issuer, subject: payload.sub.value, audience: audience,
                                 issuedAt: issuedAt, expires: expires,
                                 tokenID: payload.jti.value, scope: payload.scope ?? "", role: payload.role, fhirUser: payload.fhirUser,
                                 patient: payload.patient, actsFor: payload.acts_for ?? [], organization: payload.org, clientID: payload.client_id)
    }

    /// A JWT NumericDate (RFC 7519 §2) as whole seconds since 1970, or nil when it is not finite
    /// or does not fit an `Int64` (found by fuzz/FuzzJWT: `Int64(_:)` traps on such a Double).
    public static func wholeSeconds(_ date: Date) -> Int64? {
        Int64(exactly: date.timeIntervalSince1970.rounded(.down))
    }

    /// The header of a compact JWS, or nil when it is not readable JSON.
    static func header(_ token: String) -> JSON? {
        guard let dot = token.firstIndex(of: "."), let bytes = Base64URL.decode(token[..<dot]) else { return nil }
        return try? JSONParser.parse(bytes, maxDepth: 4)
    }

    /// Each part is spelled canonically: it decodes and re-encodes to the same text (the unused
    /// low bits of its last character are zero, RFC 4648 §3.5), so one token has one text — the
    /// one this server issued — and a variant spelling is not accepted as the same token.
    static func isCanonical(_ token: String) -> Bool {
        token.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            Base64URL.decode(part).map { Base64URL.encode($0) == part } ?? false
        }
    }

    /// The `alg` of a compact JWS's header.
    static func headerAlgorithm(_ token: String) -> String? { header(token)?["alg"]?.stringValue }

    /// Three non-empty base64url parts (the signature may not be empty either): no padding, no
    /// whitespace, no fourth part.
    public static func isCompactJWS(_ token: String) -> Bool {
        var parts = 1
        var partLength = 0
        for c in token.utf8 {
            if c == UInt8(ascii: ".") {
                guard partLength > 0 else { return false }
                parts += 1
                partLength = 0
            } else if (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 {
                partLength += 1
            } else {
                return false
            }
        }
        return parts == 3 && partLength > 0
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
