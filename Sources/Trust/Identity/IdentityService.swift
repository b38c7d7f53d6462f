import FHIR
import Foundation
@_spi(Unguarded) import Storage

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
    let store: any ResourceStore
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

    @_spi(Unguarded) public init(store: any ResourceStore, clock: any Clock = SystemClock(), requireTOTPForStaff: Bool = true,
                passwordIterations: Int = PasswordHash.defaultIterations) {
        self.store = store
        self.clock = clock
        self.requireTOTPForStaff = requireTOTPForStaff
        self.passwordIterations = passwordIterations
    }

    var nowSeconds: Int64 { clock.now().microseconds / 1_000_000 }
}
