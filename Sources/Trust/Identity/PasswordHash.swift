import _CryptoExtras
import Crypto
import Foundation

/// Salted, slow password hashing: PBKDF2-HMAC-SHA256 (NIST SP 800-132, OWASP 2023:
/// ≥ 210,000 iterations), 16-byte random salt, 32-byte key.
///
/// Stored as `pbkdf2-sha256$ITERATIONS$SALT$KEY` (base64url), so the iteration count can grow
/// without invalidating existing hashes. Never logged; comparison is constant time.
public enum PasswordHash {
    public static let defaultIterations = 210_000
    static let prefix = "pbkdf2-sha256"

    /// Hashes `password` with a fresh random salt.
    public static func make(_ password: String, iterations: Int = defaultIterations) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        let key = try derive(password, salt: salt, iterations: iterations)
        return "\(prefix)$\(iterations)$\(Base64URL.encode(salt))$\(Base64URL.encode(key))"
    }

    /// True if `password` matches `encoded`. Malformed hashes never match.
    public static func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == prefix, let iterations = Int(parts[1]), iterations >= 1, iterations <= 10_000_000,
              let salt = Base64URL.decode(parts[2]), let expected = Base64URL.decode(parts[3]), expected.count == 32,
              let key = try? derive(password, salt: salt, iterations: iterations) else { return false }
        return constantTimeEqual(key, expected)
    }

    static func derive(_ password: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        try pbkdf2(password, salt: salt, iterations: iterations, length: 32)
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2).
    public static func pbkdf2(_ password: String, salt: [UInt8], iterations: Int, length: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .sha256,
                                                     outputByteCount: length, unsafeUncheckedRounds: iterations)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// Constant-time comparison of two strings' UTF-8 bytes.
public func constantTimeEqual(_ a: String, _ b: String) -> Bool { constantTimeEqual(Array(a.utf8), Array(b.utf8)) }

/// Random bytes from the system's CSPRNG.
public func randomBytes(_ count: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

/// A random, URL-safe secret (codes, refresh tokens, session ids, CSRF tokens): 32 bytes.
public func randomToken() -> String { Base64URL.encode(randomBytes(32)) }

/// SHA-256 of a secret, hex: how codes, refresh tokens and sessions are keyed in the store,
/// so a copy of the database does not hold usable secrets.
public func secretDigest(_ secret: String) -> String {
    SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
}
