import Crypto
import FHIR
import Foundation

/// The server's ES256 (P-256) signing key: signs access tokens and the audit log's tree heads,
/// and (through HKDF, `SecretBox`) seals the TOTP seeds.
///
/// Created on first start in the data directory as `signing-key.pem` with owner-only
/// permissions (0600); never logged, never in the repository.
public struct SigningKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey
    /// Key id: base64url of the first 8 bytes of SHA-256 over the public key (x9.63).
    public let keyID: String

    public init(privateKey: P256.Signing.PrivateKey) {
        self.privateKey = privateKey
        let digest = SHA256.hash(data: privateKey.publicKey.x963Representation)
        keyID = Base64URL.encode(Array(digest.prefix(8)))
    }

    public static let fileName = "signing-key.pem"

    /// Loads the key from `directory`, creating the directory and a new key if there is none.
    /// Throws a readable error if the file exists but is not a P-256 PEM key, or if its
    /// permissions let others read it.
    public static func loadOrCreate(in directory: String) throws -> SigningKey {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (directory as NSString).appendingPathComponent(fileName)
        if fm.fileExists(atPath: path) {
            let attrs = try fm.attributesOfItem(atPath: path)
            if let perms = attrs[.posixPermissions] as? NSNumber, perms.intValue & 0o077 != 0 {
                throw TrustError.insecureKeyFile("\(path) is readable by others (mode \(String(perms.intValue, radix: 8))); run: chmod 600 \(path)")
            }
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            do {
                return SigningKey(privateKey: try P256.Signing.PrivateKey(pemRepresentation: pem))
            } catch {
                throw TrustError.insecureKeyFile("\(path) is not a P-256 private key in PEM form")
            }
        }
        let key = P256.Signing.PrivateKey()
        let tmp = path + ".tmp"
        guard fm.createFile(atPath: tmp, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TrustError.insecureKeyFile("cannot write \(tmp)")
        }
        try fm.moveItem(atPath: tmp, toPath: path)
        return SigningKey(privateKey: key)
    }

    /// The public key as a JWK Set (https://www.rfc-editor.org/rfc/rfc7517).
    public var jwks: JSON {
        let raw = Array(privateKey.publicKey.rawRepresentation)  // x || y, 32 bytes each
        return .object([("keys", .array([.object([
            ("kty", .string("EC")), ("crv", .string("P-256")), ("use", .string("sig")), ("alg", .string("ES256")),
            ("kid", .string(keyID)),
            ("x", .string(Base64URL.encode(Array(raw[0..<32])))),
            ("y", .string(Base64URL.encode(Array(raw[32..<64])))),
        ])]))])
    }
}

public enum TrustError: Error, Sendable, CustomStringConvertible {
    case insecureKeyFile(String)
    public var description: String {
        switch self {
        case .insecureKeyFile(let m): return m
        }
    }
}

/// base64url without padding (RFC 4648 §5), as JWTs use it.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let rem = s.count % 4
        if rem == 1 { return nil }
        if rem > 0 { s += String(repeating: "=", count: 4 - rem) }
        return Data(base64Encoded: s).map { [UInt8]($0) }
    }
}
