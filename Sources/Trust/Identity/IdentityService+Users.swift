import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Users: accounts with a role and its context, sign-in with lockout and TOTP, and the
/// tokens a user is issued.
extension IdentityService {
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

    /// The access-token context of a user: role, fhirUser, patient, acts_for, org.
    public func issueToken(for user: User, scope: String, patient: String?, clientID: String?, authority: TokenAuthority,
                           ttl: Int64) throws -> (token: String, claims: AccessTokenClaims) {
        try authority.issueClaims(subject: user.subject, scope: scope, ttl: ttl, now: clock.now(), role: user.principalRole,
                                  fhirUser: user.fhirUser, patient: patient ?? user.patient, actsFor: user.actsFor,
                                  organization: user.organization, clientID: clientID)
    }
}
