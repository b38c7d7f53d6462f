import Foundation
@_spi(Unguarded) import Storage

/// The record kinds identity keeps in the store (`RecordReader`/`RecordWriter`). Secrets
/// (codes, refresh tokens, sessions) are keyed by their SHA-256, never stored in clear.
public enum IdentityRecord {
    public static let user = "user"
    public static let client = "client"
    public static let authorizationCode = "auth-code"
    public static let refresh = "refresh"
    public static let revoked = "revoked"
    public static let lockout = "lockout"
    public static let session = "oauth-session"
    public static let assertion = "client-assertion"
}

/// Failed sign-ins of one username (existing or not, so lockout does not reveal which exist).
public struct LoginState: Codable, Sendable, Equatable {
    public var failures: Int = 0
    public var lockedUntil: Int64 = 0
    /// The last TOTP step accepted: a code is usable once.
    public var lastTOTPStep: Int64 = 0
    public init() {}
}

/// A single-use authorization code (60 s).
public struct AuthorizationCode: Codable, Sendable, Equatable {
    public var clientID: String
    public var redirectURI: String
    public var codeChallenge: String
    public var username: String
    public var scope: String
    public var patient: String?
    public var expires: Int64
    public var used: Bool = false
    /// What was issued from it, revoked if the code is replayed.
    public var issuedTokenIDs: [String] = []
    public var issuedRefresh: [String] = []

    public init(clientID: String, redirectURI: String, codeChallenge: String, username: String, scope: String, patient: String?, expires: Int64) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.username = username
        self.scope = scope
        self.patient = patient
        self.expires = expires
    }
}

/// A refresh token (keyed by its digest). Rotated on use: the old one is revoked.
public struct RefreshGrant: Codable, Sendable, Equatable {
    public var clientID: String
    public var username: String
    public var scope: String
    public var patient: String?
    public var expires: Int64
    public var revoked: Bool = false
    /// The access token issued with it, revoked when it is rotated.
    public var accessTokenID: String
    public init(clientID: String, username: String, scope: String, patient: String?, expires: Int64, accessTokenID: String) {
        self.clientID = clientID
        self.username = username
        self.scope = scope
        self.patient = patient
        self.expires = expires
        self.accessTokenID = accessTokenID
    }
}

/// A browser sign-in in progress at the authorization endpoint (keyed by the cookie's digest).
public struct AuthorizationSession: Codable, Sendable, Equatable {
    public var clientID: String
    public var redirectURI: String
    public var state: String
    public var scope: String
    public var codeChallenge: String
    /// Launch patient hint (`patient` parameter).
    public var patientHint: String?
    public var language: String
    public var csrf: String
    /// Set once the password (and TOTP) checked out.
    public var username: String?
    public var expires: Int64

    public init(clientID: String, redirectURI: String, state: String, scope: String, codeChallenge: String, patientHint: String?,
                language: String, csrf: String, username: String? = nil, expires: Int64) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.state = state
        self.scope = scope
        self.codeChallenge = codeChallenge
        self.patientHint = patientHint
        self.language = language
        self.csrf = csrf
        self.username = username
        self.expires = expires
    }
}

enum RecordCoding {
    static func encode<T: Encodable>(_ v: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return Array(try e.encode(v))
    }
    static func decode<T: Decodable>(_ t: T.Type, _ bytes: [UInt8]?) -> T? {
        guard let bytes else { return nil }
        return try? JSONDecoder().decode(t, from: Data(bytes))
    }
}

extension RecordReader {
    func decoded<T: Decodable>(_ t: T.Type, _ kind: String, _ key: String) throws -> T? {
        RecordCoding.decode(t, try record(kind, key))
    }
}

extension RecordWriter {
    func put<T: Encodable>(_ kind: String, _ key: String, _ value: T) throws {
        try putRecord(kind, key, try RecordCoding.encode(value))
    }
}
