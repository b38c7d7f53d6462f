import Crypto
import Foundation

/// The baseline: the hand-written ES256 verifier Enlace used before jwt-kit (Trust's
/// `TokenAuthority.verifyFully` and `Base64URL` at commit 2e8d8e7), kept here only to measure
/// against; the JSON parser is Enlace's own (a link to Sources/FHIR/JSON.swift).
enum HandWritten {
    struct Claims { var subject: String; var expires: Int64; var tokenID: String }

    static func verify(_ token: String, key: P256.Signing.PublicKey, audience: String, nowSeconds: Int64, leeway: Int64 = 30) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count < 16_384,
              let headerBytes = decode(parts[0]), let payloadBytes = decode(parts[1]), let sigBytes = decode(parts[2]),
              let header = try? JSONParser.parse(headerBytes, maxDepth: 4),
              let payload = try? JSONParser.parse(payloadBytes, maxDepth: 4) else { return nil }
        guard header["alg"]?.stringValue == "ES256" else { return nil }
        guard sigBytes.count == 64, let signature = try? P256.Signing.ECDSASignature(rawRepresentation: sigBytes) else { return nil }
        guard key.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8)) else { return nil }
        func int(_ k: String) -> Int64? { if case let .number(n)? = payload[k] { return Int64(n) }; return nil }
        guard let exp = int("exp"), let iat = int("iat"), let sub = payload["sub"]?.stringValue, let jti = payload["jti"]?.stringValue else { return nil }
        guard exp + leeway > nowSeconds, iat - leeway <= nowSeconds else { return nil }
        let aud: [String]
        switch payload["aud"] {
        case .string(let a)?: aud = [a]
        case .array(let a)?: aud = a.compactMap(\.stringValue)
        default: return nil
        }
        guard aud.contains(audience) else { return nil }
        return Claims(subject: sub, expires: exp, tokenID: jti)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let rem = s.count % 4
        if rem == 1 { return nil }
        if rem > 0 { s += String(repeating: "=", count: 4 - rem) }
        return Data(base64Encoded: s).map { [UInt8]($0) }
    }
}
