import FHIR
import Foundation
import Storage

/// Why identity refused something. Sign-in failures deliberately do not say whether the
/// username exists.
public enum IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidCredentials
    /// Too many failures: sign-in refused until `until` (Unix seconds).
    case locked(until: Int64)
    /// Password right; a TOTP code is needed.
    case totpRequired
    /// A staff user without a TOTP secret while the server requires one.
    case totpNotEnrolled
    case invalidUsername(String)
    case duplicateUser(String)
    case unknownUser(String)
    case invalidClientID(String)
    case duplicateClient(String)
    case unknownClient(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .invalidCredentials: return "invalid username, password or code"
        case .locked: return "too many failed sign-ins; try again later"
        case .totpRequired: return "a one-time code (TOTP) is required"
        case .totpNotEnrolled: return "this account needs a one-time code (TOTP) but has none; ask an operator to enrol one"
        case .invalidUsername(let u): return "'\(u)' is not a valid username (1–64 letters, digits, '.', '_', '-', '@')"
        case .duplicateUser(let u): return "a user named '\(u)' already exists"
        case .unknownUser(let u): return "no user named '\(u)'"
        case .invalidClientID(let c): return "'\(c)' is not a valid client id (1–64 letters, digits, '.', '_', '-', '@')"
        case .duplicateClient(let c): return "a client with id '\(c)' already exists"
        case .unknownClient(let c): return "no client with id '\(c)'"
        case .invalid(let m): return m
        }
    }
}

/// Users, clients, sign-in with lockout, authorization codes, refresh tokens and revocation,
/// all kept as records in a `ResourceStore` so every server node sees the same state.
public struct IdentityService: Sendable {
    public let store: any ResourceStore
    public let clock: any Clock
    /// PBKDF2 iterations for new password hashes.
    public var passwordIterations: Int = PasswordHash.defaultIterations
    /// Staff roles must present a TOTP code.
    public var requireTOTPForStaff: Bool = true
    /// Consecutive failures that lock a username, and for how long.
    public var maxFailures: Int = 5
    public var lockoutSeconds: Int64 = 15 * 60
    /// Seals TOTP seeds at rest (nil: stored as they are — tests only; the server and the CLI
    /// always set it from the signing key).
    public var secrets: SecretBox?

    public init(store: any ResourceStore, clock: any Clock = SystemClock(), requireTOTPForStaff: Bool = true,
                passwordIterations: Int = PasswordHash.defaultIterations) {
        self.store = store
        self.clock = clock
        self.requireTOTPForStaff = requireTOTPForStaff
        self.passwordIterations = passwordIterations
    }

    var nowSeconds: Int64 { clock.now().microseconds / 1_000_000 }

    // MARK: users

    /// Creates a user with `password` (hashed here) and, if `withTOTP`, a new TOTP secret
    /// (returned so it can be shown once). Checks the role's required context.
    public func addUser(username: String, role: Principal.Role, password: String, fhirUser: String? = nil, patient: String? = nil,
                        actsFor: [String] = [], organization: String? = nil, withTOTP: Bool = false) async throws -> (User, TOTP?) {
        guard User.isValidUsername(username) else { throw IdentityError.invalidUsername(username) }
        guard password.count >= 8 else { throw IdentityError.invalid("the password must have at least 8 characters") }
        func ref(_ r: String?, _ type: String, _ what: String) throws {
            guard let r else { return }
            let parts = r.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == type, !parts[1].isEmpty,
                  parts[1].count <= 64, parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
                throw IdentityError.invalid("\(what) must be a reference '\(type)/ID', not '\(r)'")
            }
        }
        try ref(patient, "Patient", "--patient")
        for a in actsFor { try ref(a, "Patient", "--acts-for") }
        try ref(organization, "Organization", "--organization")
        if let fhirUser {
            let type = fhirUser.split(separator: "/").first.map(String.init) ?? ""
            guard ["Patient", "Practitioner", "RelatedPerson", "PractitionerRole"].contains(type) else {
                throw IdentityError.invalid("the user's FHIR resource must be a Patient, Practitioner, PractitionerRole or RelatedPerson reference, not '\(fhirUser)'")
            }
            try ref(fhirUser, type, "the user's FHIR resource")
        }
        switch role {
        case .patient:
            guard patient != nil else { throw IdentityError.invalid("a patient user needs --patient Patient/ID") }
        case .relatedPerson:
            guard !actsFor.isEmpty else { throw IdentityError.invalid("a related-person user needs --acts-for Patient/A[,Patient/B]") }
        case .practitioner:
            guard fhirUser != nil else { throw IdentityError.invalid("a practitioner user needs --practitioner Practitioner/ID") }
        case .pharmacy, .payer, .organizationAdmin:
            guard organization != nil else { throw IdentityError.invalid("a \(role.rawValue) user needs --organization Organization/ID") }
        case .service:
            throw IdentityError.invalid("backend services are clients: use `enlace clients add --jwks-file`")
        case .privacyOfficer, .auditor, .platformOperator:
            break
        }
        let totp = withTOTP ? TOTP.generate() : nil
        let user = User(username: username, role: role, fhirUser: fhirUser ?? (role == .patient ? patient : nil), patient: patient,
                        actsFor: actsFor, organization: organization, passwordHash: try PasswordHash.make(password, iterations: passwordIterations),
                        totpSecret: try totp.map { try secrets?.seal($0.base32) ?? $0.base32 }, created: nowSeconds)
        try await store.write { tx in
            if try tx.record(IdentityRecord.user, username) != nil { throw IdentityError.duplicateUser(username) }
            try tx.put(IdentityRecord.user, username, user)
        }
        return (user, totp)
    }

    public func user(_ username: String) async throws -> User? {
        try await store.read { try $0.decoded(User.self, IdentityRecord.user, username) }
    }

    public func users() async throws -> [User] {
        try await store.read { r in try r.records(IdentityRecord.user).compactMap { RecordCoding.decode(User.self, $0.value) } }
    }

    /// Disables (or re-enables) a user: disabled users cannot sign in, refresh, or use tokens
    /// already issued.
    public func setDisabled(_ username: String, _ disabled: Bool) async throws {
        try await store.write { tx in
            guard var user = try tx.decoded(User.self, IdentityRecord.user, username) else { throw IdentityError.unknownUser(username) }
            user.disabled = disabled
            try tx.put(IdentityRecord.user, username, user)
        }
    }

    // MARK: sign-in

    /// Checks a password (and TOTP code when the user has one or is staff) with lockout:
    /// `maxFailures` consecutive failures lock the username for `lockoutSeconds`, counted in
    /// the store so the limit holds across server nodes. Unknown usernames are counted and
    /// take as long as known ones.
    public func authenticate(username: String, password: String, totp: String?) async throws -> User {
        let now = nowSeconds
        let (state, stored) = try await store.read { r in
            (try r.decoded(LoginState.self, IdentityRecord.lockout, username) ?? LoginState(),
             try r.decoded(User.self, IdentityRecord.user, username))
        }
        if state.lockedUntil > now { throw IdentityError.locked(until: state.lockedUntil) }
        let passwordOK: Bool
        if let stored {
            passwordOK = PasswordHash.verify(password, against: stored.passwordHash)
        } else {
            _ = try? PasswordHash.derive(password, salt: randomBytes(16), iterations: passwordIterations)
            passwordOK = false
        }
        var step: Int64?
        var outcome: IdentityError?
        if let stored, passwordOK, !stored.disabled {
            let secret = stored.totpSecret.flatMap { sealed in secrets.map { $0.open(sealed) } ?? sealed }.flatMap(TOTP.init(base32:))
            if secret != nil || (requireTOTPForStaff && stored.isStaff) {
                if let secret {
                    let code = (totp ?? "").trimmingCharacters(in: .whitespaces)
                    if code.isEmpty {
                        throw IdentityError.totpRequired
                    } else if let s = secret.matchingStep(code, at: now), s > state.lastTOTPStep {
                        step = s
                    } else {
                        outcome = .invalidCredentials
                    }
                } else {
                    throw IdentityError.totpNotEnrolled
                }
            }
        } else {
            outcome = .invalidCredentials
        }
        let maxFailures = self.maxFailures, lockoutSeconds = self.lockoutSeconds
        let accepted = step
        let failed = outcome != nil
        let ok: Bool = try await store.write { tx in
            var s = try tx.decoded(LoginState.self, IdentityRecord.lockout, username) ?? LoginState()
            if !failed, let accepted, accepted <= s.lastTOTPStep {
                // the same code used twice concurrently: the second loses
                s.failures += 1
                try tx.put(IdentityRecord.lockout, username, s)
                return false
            }
            if failed {
                s.failures += 1
                if s.failures >= maxFailures {
                    s.failures = 0
                    s.lockedUntil = now + lockoutSeconds
                }
            } else {
                s.failures = 0
                s.lockedUntil = 0
                if let accepted { s.lastTOTPStep = accepted }
            }
            try tx.put(IdentityRecord.lockout, username, s)
            return !failed
        }
        guard ok, let stored else { throw outcome ?? IdentityError.invalidCredentials }
        return stored
    }

    // MARK: clients

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

    // MARK: authorization sessions (browser)

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

    // MARK: authorization codes

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

    // MARK: refresh tokens

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
            try tx.putRecord(IdentityRecord.revoked, grant.accessTokenID, Array(String(now + 86_400).utf8))
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

    // MARK: access token revocation

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

    // MARK: client assertions

    /// Records a client assertion's `jti`; false if it was seen before (replay).
    public func useAssertionID(clientID: String, jti: String, expires: Int64) async throws -> Bool {
        try await store.write { tx in
            let key = clientID + " " + jti
            if try tx.record(IdentityRecord.assertion, key) != nil { return false }
            try tx.putRecord(IdentityRecord.assertion, key, Array(String(expires).utf8))
            return true
        }
    }

    // MARK: tokens for users

    /// The access-token context of a user: role, fhirUser, patient, acts_for, org.
    public func issueToken(for user: User, scope: String, patient: String?, clientID: String?, authority: TokenAuthority,
                           ttl: Int64) throws -> (token: String, claims: AccessTokenClaims) {
        try authority.issueClaims(subject: user.subject, scope: scope, ttl: ttl, now: clock.now(), role: user.principalRole,
                                  fhirUser: user.fhirUser, patient: patient ?? user.patient, actsFor: user.actsFor,
                                  organization: user.organization, clientID: clientID)
    }
}
