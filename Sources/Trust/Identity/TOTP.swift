import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps,
/// 6 digits, accepted one step either side for clock drift.
public struct TOTP: Sendable, Equatable {
    public let secret: [UInt8]
    public var digits: Int = 6
    public var period: Int64 = 30

    public init(secret: [UInt8], digits: Int = 6, period: Int64 = 30) {
        self.secret = secret
        self.digits = digits
        self.period = period
    }

    /// A new random 20-byte secret (RFC 4226 §4 recommends 160 bits).
    public static func generate() -> TOTP { TOTP(secret: randomBytes(20)) }

    /// Parses a base32 secret (as in `otpauth://` URIs); nil if it is not base32.
    public init?(base32: String) {
        guard let bytes = Base32.decode(base32), !bytes.isEmpty else { return nil }
        self.init(secret: bytes)
    }

    public var base32: String { Base32.encode(secret) }

    /// The time step of a Unix time.
    public func step(at unixSeconds: Int64) -> Int64 { unixSeconds >= 0 ? unixSeconds / period : (unixSeconds - period + 1) / period }

    /// The code for a time step (RFC 4226 §5.3 dynamic truncation).
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: max(0, digits - value.count)) + value
    }

    public func code(at unixSeconds: Int64) -> String { code(step: step(at: unixSeconds)) }

    /// The step `code` matches within ±`window` steps of `unixSeconds`, or nil. Constant-time per candidate.
    public func matchingStep(_ code: String, at unixSeconds: Int64, window: Int64 = 1) -> Int64? {
        let code = code.filter { !$0.isWhitespace }
        guard code.count == digits, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return nil }
        let now = step(at: unixSeconds)
        var found: Int64?
        for s in (now - window)...(now + window) where constantTimeEqual(self.code(step: s), code) { found = found ?? s }
        return found
    }

    /// The `otpauth://` URI authenticator apps read (Key Uri Format).
    public func uri(account: String, issuer: String = "Enlace") -> String {
        func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
        return "otpauth://totp/\(enc(issuer)):\(enc(account))?secret=\(base32)&issuer=\(enc(issuer))&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }
}

/// RFC 4648 base32 (upper case, no padding on output; padding and case ignored on input).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for ch in text.uppercased().utf8 where ch != UInt8(ascii: "=") && ch != UInt8(ascii: " ") {
            guard let v = alphabet.firstIndex(of: ch) else { return nil }
            buffer = (buffer << 5) | UInt32(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return out
    }
}
