import Foundation

/// A person who signs in to Enlace: a patient, someone acting for patients, or staff.
/// Stored as a record of kind `user` keyed by username.
public struct User: Codable, Sendable, Equatable {
    public var username: String
    /// `Principal.Role` raw value.
    public var role: String
    /// The FHIR resource that is the user (`Patient/1`, `Practitioner/7`, `RelatedPerson/3`).
    public var fhirUser: String?
    /// The user's own Patient (role patient).
    public var patient: String?
    /// Patients a related person acts for.
    public var actsFor: [String]
    /// The organization the user works for.
    public var organization: String?
    public var disabled: Bool
    /// `PasswordHash` encoding; never the password.
    public var passwordHash: String
    /// Base32 TOTP secret, when the user has a second factor.
    public var totpSecret: String?
    /// Unix seconds.
    public var created: Int64

    public init(username: String, role: Principal.Role, fhirUser: String? = nil, patient: String? = nil, actsFor: [String] = [],
                organization: String? = nil, disabled: Bool = false, passwordHash: String, totpSecret: String? = nil, created: Int64 = 0) {
        self.username = username
        self.role = role.rawValue
        self.fhirUser = fhirUser
        self.patient = patient
        self.actsFor = actsFor
        self.organization = organization
        self.disabled = disabled
        self.passwordHash = passwordHash
        self.totpSecret = totpSecret
        self.created = created
    }

    public var principalRole: Principal.Role { Principal.Role(rawValue: role) ?? .patient }

    /// Staff roles must use a second factor (unless the server is configured otherwise).
    public var isStaff: Bool {
        switch principalRole {
        case .patient, .relatedPerson, .service: return false
        case .practitioner, .pharmacy, .payer, .organizationAdmin, .privacyOfficer, .auditor, .platformOperator: return true
        }
    }

    /// The token subject for this user.
    public var subject: String { "user:\(username)" }

    /// Usernames: 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
    public static func isValidUsername(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-@".unicodeScalars.contains($0) }
    }
}

/// A registered SMART app or backend service. Stored as a record of kind `client` keyed by
/// client id.
public struct OAuthClient: Codable, Sendable, Equatable {
    public var clientID: String
    public var name: String
    /// Redirect URIs, matched exactly (no prefix, no wildcard).
    public var redirectURIs: [String]
    /// Scopes the client may ever be granted, space separated.
    public var scope: String
    /// For confidential clients (`private_key_jwt`, SMART Backend Services): the JWK Set whose
    /// keys sign client assertions (ES384 or RS384), as JSON text. nil for public clients
    /// (PKCE only).
    public var jwks: String?
    public var disabled: Bool
    public var created: Int64

    public init(clientID: String, name: String, redirectURIs: [String], scope: String, jwks: String? = nil, disabled: Bool = false, created: Int64 = 0) {
        self.clientID = clientID
        self.name = name
        self.redirectURIs = redirectURIs
        self.scope = scope
        self.jwks = jwks
        self.disabled = disabled
        self.created = created
    }

    public var isPublic: Bool { jwks == nil }

    public static func isValidClientID(_ s: String) -> Bool { User.isValidUsername(s) }
}
