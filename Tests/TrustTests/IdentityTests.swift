import _CryptoExtras
import Crypto
import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) import Trust


final class TestClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Timestamp
    init(_ t: Timestamp = Timestamp(instant: "2026-11-24T12:00:00Z")!) { current = t }
    func now() -> Timestamp { lock.lock(); defer { lock.unlock() }; return current }
    func advance(seconds: Int64) { lock.lock(); current.microseconds += seconds * 1_000_000; lock.unlock() }
    var unix: Int64 { now().microseconds / 1_000_000 }
}

@Suite("Identity: password hashing, TOTP, sign-in lockout")
struct IdentityTests {
    @Test func passwordHashIsSaltedSlowAndVerifies() throws {
        let h1 = try PasswordHash.make("correct horse battery staple")
        let h2 = try PasswordHash.make("correct horse battery staple")
        #expect(h1.hasPrefix("pbkdf2-sha256$210000$"))
        #expect(h1 != h2)  // salted
        #expect(!h1.contains("correct"))
        #expect(PasswordHash.verify("correct horse battery staple", against: h1))
        #expect(!PasswordHash.verify("correct horse battery stapl", against: h1))
        #expect(!PasswordHash.verify("", against: h1))
        #expect(!PasswordHash.verify("x", against: "pbkdf2-sha256$1$AAAA$AAAA"))
        #expect(!PasswordHash.verify("x", against: "garbage"))
    }

    @Test func pbkdf2MatchesRFC7914TestVector() throws {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64)
        let key = try PasswordHash.pbkdf2("passwd", salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(key.prefix(16).map { String(format: "%02x", $0) }.joined() == "55ac046e56e3089fec1691c22544b605")
    }

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits), and their 6-digit forms.
    @Test func totpMatchesRFC6238Vectors() {
        let totp8 = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        let vectors: [(Int64, String)] = [(59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
                                          (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130")]
        for (t, code) in vectors {
            #expect(totp8.code(at: t) == code, "T=\(t)")
        }
        let totp6 = TOTP(secret: Array("12345678901234567890".utf8))
        #expect(totp6.code(at: 59) == "287082")
        #expect(totp6.matchingStep("287082", at: 59) == 1)
        #expect(totp6.matchingStep("287082", at: 59 + 30) == 1)  // one step late is accepted
        #expect(totp6.matchingStep("287082", at: 59 + 60) == nil)  // two steps late is not
        #expect(totp6.matchingStep("28708", at: 59) == nil)
        #expect(totp6.matchingStep("abcdef", at: 59) == nil)
        #expect(Base32.encode(Array("12345678901234567890".utf8)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(TOTP(base32: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?.secret == Array("12345678901234567890".utf8))
        #expect(totp6.uri(account: "ana").hasPrefix("otpauth://totp/Enlace:ana?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
    }

    func service(_ clock: TestClock) -> IdentityService {
        IdentityService(store: try! SQLiteStore(), clock: clock, requireTOTPForStaff: true, passwordIterations: 1000)
    }

    @Test func fiveFailuresLockForFifteenMinutes() async throws {
        let clock = TestClock()
        let id = service(clock)
        _ = try await id.addUser(username: "ana", role: .patient, password: "s3cret-pass", patient: "Patient/1")
        #expect(try await id.authenticate(username: "ana", password: "s3cret-pass", totp: nil).username == "ana")
        for _ in 0..<5 {
            await #expect(throws: IdentityError.invalidCredentials) { try await id.authenticate(username: "ana", password: "wrong-pass", totp: nil) }
        }
        // locked: even the right password is refused, without being checked
        await #expect(throws: IdentityError.locked(until: clock.unix + 900)) {
            try await id.authenticate(username: "ana", password: "s3cret-pass", totp: nil)
        }
        clock.advance(seconds: 899)
        await #expect(throws: IdentityError.self) { try await id.authenticate(username: "ana", password: "s3cret-pass", totp: nil) }
        clock.advance(seconds: 2)
        #expect(try await id.authenticate(username: "ana", password: "s3cret-pass", totp: nil).username == "ana")
        // unknown usernames are counted too and fail the same way
        for _ in 0..<5 {
            await #expect(throws: IdentityError.invalidCredentials) { try await id.authenticate(username: "nobody", password: "x", totp: nil) }
        }
        await #expect(throws: IdentityError.self) { try await id.authenticate(username: "nobody", password: "x", totp: nil) }
    }

    @Test func staffNeedTOTPAndACodeWorksOnce() async throws {
        let clock = TestClock()
        let id = service(clock)
        let (_, totp) = try await id.addUser(username: "dra.lopez", role: .practitioner, password: "s3cret-pass",
                                             fhirUser: "Practitioner/7", organization: "Organization/umf-10", withTOTP: true)
        let secret = try #require(totp)
        await #expect(throws: IdentityError.totpRequired) { try await id.authenticate(username: "dra.lopez", password: "s3cret-pass", totp: nil) }
        await #expect(throws: IdentityError.invalidCredentials) { try await id.authenticate(username: "dra.lopez", password: "s3cret-pass", totp: "000000") }
        let code = secret.code(at: clock.unix)
        let user = try await id.authenticate(username: "dra.lopez", password: "s3cret-pass", totp: code)
        #expect(user.principalRole == .practitioner && user.organization == "Organization/umf-10")
        // the same code cannot be used twice
        await #expect(throws: IdentityError.invalidCredentials) { try await id.authenticate(username: "dra.lopez", password: "s3cret-pass", totp: code) }
        // staff without a TOTP secret cannot sign in while it is required
        _ = try await id.addUser(username: "audit", role: .auditor, password: "s3cret-pass")
        await #expect(throws: IdentityError.totpNotEnrolled) { try await id.authenticate(username: "audit", password: "s3cret-pass", totp: nil) }
        var relaxed = id
        relaxed.requireTOTPForStaff = false
        #expect(try await relaxed.authenticate(username: "audit", password: "s3cret-pass", totp: nil).username == "audit")
    }

    @Test func totpSeedsAreSealedAtRest() async throws {
        let clock = TestClock()
        var id = service(clock)
        let key = SigningKey(privateKey: P256.Signing.PrivateKey())
        id.secrets = SecretBox(signingKey: key)
        let (_, totp) = try await id.addUser(username: "dra.sella", role: .practitioner, password: "s3cret-pass",
                                             fhirUser: "Practitioner/8", organization: "Organization/umf-10", withTOTP: true)
        let secret = try #require(totp)
        // what the database holds is sealed: the seed does not appear in it
        let stored = try #require(try await id.user("dra.sella")?.totpSecret)
        #expect(stored.hasPrefix("enc1:"))
        #expect(!stored.contains(secret.base32))
        // the server reads it back and a code works
        #expect(try await id.authenticate(username: "dra.sella", password: "s3cret-pass", totp: secret.code(at: clock.unix)).username == "dra.sella")
        // with another signing key the seed cannot be read: no sign-in (and no crash)
        var other = id
        other.secrets = SecretBox(signingKey: SigningKey(privateKey: P256.Signing.PrivateKey()))
        clock.advance(seconds: 60)
        await #expect(throws: IdentityError.self) {
            try await other.authenticate(username: "dra.sella", password: "s3cret-pass", totp: secret.code(at: clock.unix))
        }
        // a seed stored before sealing existed is still read
        let box = SecretBox(signingKey: key)
        #expect(box.open("GEZDGNBVGY3TQOJQ") == "GEZDGNBVGY3TQOJQ")
        #expect(box.open(try box.seal("GEZDGNBVGY3TQOJQ")) == "GEZDGNBVGY3TQOJQ")
        #expect(box.open("enc1:not-base64!") == nil)
    }

    @Test func usersNeedTheirRoleContextAndDisabledUsersStop() async throws {
        let id = service(TestClock())
        await #expect(throws: IdentityError.self) { try await id.addUser(username: "p", role: .patient, password: "s3cret-pass") }
        await #expect(throws: IdentityError.self) { try await id.addUser(username: "r", role: .relatedPerson, password: "s3cret-pass") }
        await #expect(throws: IdentityError.self) { try await id.addUser(username: "bad name", role: .auditor, password: "s3cret-pass") }
        await #expect(throws: IdentityError.self) { try await id.addUser(username: "short", role: .auditor, password: "short") }
        await #expect(throws: IdentityError.self) { try await id.addUser(username: "x", role: .patient, password: "s3cret-pass", patient: "Observation/1") }
        _ = try await id.addUser(username: "mama", role: .relatedPerson, password: "s3cret-pass", fhirUser: "RelatedPerson/3", actsFor: ["Patient/a", "Patient/b"])
        await #expect(throws: IdentityError.duplicateUser("mama")) {
            try await id.addUser(username: "mama", role: .relatedPerson, password: "s3cret-pass", actsFor: ["Patient/a"])
        }
        #expect(try await id.users().map(\.username) == ["mama"])
        #expect(try await id.isActive(tokenID: "t1", subject: "user:mama"))
        try await id.setDisabled("mama", true)
        #expect(try await !id.isActive(tokenID: "t1", subject: "user:mama"))
        await #expect(throws: IdentityError.invalidCredentials) { try await id.authenticate(username: "mama", password: "s3cret-pass", totp: nil) }
        try await id.revoke(tokenID: "t2", expires: 0)
        #expect(try await !id.isActive(tokenID: "t2", subject: "operator"))
        #expect(try await id.isActive(tokenID: "t3", subject: "operator"))
        #expect(try await id.isActive(tokenID: "t4", subject: "user:no-record"))
    }

    @Test func tokensCarryTheUsersContext() async throws {
        let dir = NSTemporaryDirectory() + "enlace-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let authority = TokenAuthority(key: try SigningKey.loadOrCreate(in: dir), issuer: "http://x/fhir", audience: "http://x/fhir")
        let now = Timestamp(instant: "2026-11-24T12:00:00Z")!
        let issued = try authority.issueClaims(subject: "user:mama", scope: "patient/*.rs", ttl: 60, now: now, role: .relatedPerson,
                                               fhirUser: "RelatedPerson/3", patient: "Patient/a", actsFor: ["Patient/a", "Patient/b"],
                                               organization: nil, clientID: "app")
        let claims = try await authority.verify(issued.token, now: now)
        let p = Principal(claims: claims)
        #expect(p.role == .relatedPerson && p.fhirUser == "RelatedPerson/3" && p.patient == "Patient/a")
        #expect(p.actsFor == ["Patient/a", "Patient/b"] && p.clientID == "app" && p.tokenID == issued.claims.tokenID)
        // the operator token of `enlace token` has no role and is a platform operator
        let op = Principal(claims: try await authority.verify(try authority.issue(subject: "operator", scope: "system/*.*", ttl: 60, now: now), now: now))
        #expect(op.role == nil && op.effectiveRole == .platformOperator)
    }

    @Test func scopePolicyIntersectsClientAndRole() {
        let allowed = "openid fhirUser launch/patient offline_access patient/*.rs user/Observation.rs system/*.rs"
        #expect(ScopePolicy.grant(requested: "launch/patient patient/Observation.rs patient/*.cruds offline_access profile", allowed: allowed, role: .patient)
                == "launch/patient patient/Observation.rs offline_access")
        #expect(ScopePolicy.grant(requested: "patient/*.read system/*.rs", allowed: allowed, role: .patient) == "patient/*.read")
        #expect(ScopePolicy.grant(requested: "system/Patient.rs user/Observation.r", allowed: allowed, role: .service) == "system/Patient.rs")
        #expect(ScopePolicy.grant(requested: "system/Patient.rs", allowed: allowed, role: nil) == "system/Patient.rs")
    }

    @Test func clientAssertionsSignedRS384AndES384Verify() async throws {
        let now: Int64 = 1_800_000_000
        let tokenURL = "https://enlace.example/oauth/token"
        func jwt(_ header: String, iss: String = "svc", aud: String = tokenURL, exp: Int64 = now + 60, sign: ([UInt8]) throws -> [UInt8]) rethrows -> String {
            let payload = #"{"iss":"\#(iss)","sub":"\#(iss)","aud":"\#(aud)","exp":\#(exp),"jti":"j1"}"#
            let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
            return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
        }
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let prim = try rsa.publicKey.getKeyPrimitives()
        let ec = P384.Signing.PrivateKey()
        let raw = Array(ec.publicKey.rawRepresentation)
        let jwks = #"{"keys":[{"kty":"RSA","kid":"r1","n":"\#(Base64URL.encode(Array(prim.modulus)))","e":"\#(Base64URL.encode(Array(prim.publicExponent)))"},"# +
            #"{"kty":"EC","crv":"P-384","kid":"e1","x":"\#(Base64URL.encode(Array(raw[0..<48])))","y":"\#(Base64URL.encode(Array(raw[48...])))"}]}"#
        let client = OAuthClient(clientID: "svc", name: "svc", redirectURIs: [], scope: "system/*.rs", jwks: jwks)
        #expect(try ClientAssertion.keys(fromJWKS: jwks).count == 2)
        let rs = try jwt(#"{"alg":"RS384","kid":"r1"}"#) { Array(try rsa.signature(for: SHA384.hash(data: $0), padding: .insecurePKCS1v1_5).rawRepresentation) }
        #expect(try await ClientAssertion.verify(rs, client: client, tokenURL: tokenURL, now: now).tokenID == "j1")
        let es = try jwt(#"{"alg":"ES384","kid":"e1"}"#) { Array(try ec.signature(for: $0).rawRepresentation) }
        #expect(try await ClientAssertion.verify(es, client: client, tokenURL: tokenURL, now: now).clientID == "svc")
        // RS256, a key of the wrong kind, wrong aud, expired, other issuer: refused
        let rs256 = try jwt(#"{"alg":"RS256","kid":"r1"}"#) { Array(try rsa.signature(for: SHA256.hash(data: $0), padding: .insecurePKCS1v1_5).rawRepresentation) }
        await #expect(throws: ClientAssertion.Failure.self) { try await ClientAssertion.verify(rs256, client: client, tokenURL: tokenURL, now: now) }
        let esAsRS = try jwt(#"{"alg":"RS384","kid":"e1"}"#) { Array(try ec.signature(for: $0).rawRepresentation) }
        await #expect(throws: ClientAssertion.Failure.self) { try await ClientAssertion.verify(esAsRS, client: client, tokenURL: tokenURL, now: now) }
        let wrongAud = try jwt(#"{"alg":"ES384","kid":"e1"}"#, aud: "https://enlace.example/fhir") { Array(try ec.signature(for: $0).rawRepresentation) }
        await #expect(throws: ClientAssertion.Failure.self) { try await ClientAssertion.verify(wrongAud, client: client, tokenURL: tokenURL, now: now) }
        await #expect(throws: ClientAssertion.Failure.self) { try await ClientAssertion.verify(es, client: client, tokenURL: tokenURL, now: now + 61) }
        let other = try jwt(#"{"alg":"ES384","kid":"e1"}"#, iss: "someone") { Array(try ec.signature(for: $0).rawRepresentation) }
        await #expect(throws: ClientAssertion.Failure.self) { try await ClientAssertion.verify(other, client: client, tokenURL: tokenURL, now: now) }
        // an exp far beyond Int64 seconds passes jwt-kit's expiry check; it trapped `Int64(_:)` (fuzz/FuzzJWT)
        let huge = Base64URL.encode(Array(#"{"alg":"ES384","kid":"e1"}"#.utf8)) + "."
            + Base64URL.encode(Array(#"{"iss":"svc","sub":"svc","aud":"\#(tokenURL)","exp":180000e300,"jti":"j2"}"#.utf8))
        let hugeSigned = huge + "." + Base64URL.encode(Array(try ec.signature(for: Array(huge.utf8)).rawRepresentation))
        await #expect(throws: ClientAssertion.Failure.self) { try await ClientAssertion.verify(hugeSigned, client: client, tokenURL: tokenURL, now: now) }
    }
}
