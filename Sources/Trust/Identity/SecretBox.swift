import Crypto
import Foundation

/// Seals secrets the server must be able to read back — TOTP seeds — before they are stored:
/// AES-256-GCM with a key derived (HKDF-SHA256) from the server's signing key, which lives in the
/// data directory and never in the database. A copy of the database (a PostgreSQL backup, a stolen
/// SQLite file) then holds no usable TOTP seed. Sealed values read `enc1:<base64>`; an older
/// value without the prefix is read as it is (and sealed the next time it is written).
///
/// The seeds are bound to the signing key: replacing `signing-key.pem` makes them unreadable, and
/// staff must enrol TOTP again (docs/security.md).
public struct SecretBox: Sendable {
    let key: SymmetricKey
    static let prefix = "enc1:"

    public init(signingKey: SigningKey) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: signingKey.privateKey.rawRepresentation),
                                     info: Data("enlace/totp-secret/v1".utf8), outputByteCount: 32)
    }

    public func seal(_ secret: String) throws -> String {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key).combined else {
            throw IdentityError.invalid("could not seal a secret")
        }
        return SecretBox.prefix + combined.base64EncodedString()
    }

    /// The secret, or nil when it was sealed with another key (or is damaged).
    public func open(_ stored: String) -> String? {
        guard stored.hasPrefix(SecretBox.prefix) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(SecretBox.prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }
}
