import Crypto
import FHIR
import Foundation
import Testing
@testable import Trust

/// Detached ES256 JWS (RFC 7515 appendix F, RFC 7797), JWK thumbprints (RFC 7638) and the server's seal.
@Suite struct DetachedJWSTests {
    let payload = Array(#"{"resourceType":"MedicationRequest","status":"active"}"#.utf8)

    @Test func verifiesWithTheRightKeyOnlyAndOverTheSamePayloadOnly() throws {
        let key = P256.Signing.PrivateKey(), other = P256.Signing.PrivateKey()
        let jwk = SigningJWK.jwk(key.publicKey)
        let compact = try DetachedJWS.sign(payload, key: key, keyID: jwk["kid"]!.stringValue!)
        #expect(compact.contains(".."))
        let jws = try DetachedJWS(compact: compact)
        #expect(jws.verifies(payload, jwk: jwk))
        #expect(!jws.verifies(payload, jwk: SigningJWK.jwk(other.publicKey)))
        var tampered = payload
        tampered[tampered.count - 3] = UInt8(ascii: "x")
        #expect(!jws.verifies(tampered, jwk: jwk))
    }

    @Test func unencodedPayloadOfRFC7797() throws {
        let key = P256.Signing.PrivateKey()
        let header = Base64URL.encode(Array(#"{"alg":"ES256","b64":false,"crit":["b64"],"kid":"k"}"#.utf8))
        let sig = try key.signature(for: Array(header.utf8) + [UInt8(ascii: ".")] + payload)
        let jws = try DetachedJWS(compact: header + ".." + Base64URL.encode(Array(sig.rawRepresentation)))
        #expect(jws.unencodedPayload)
        #expect(jws.verifies(payload, key: key.publicKey))
        #expect(!jws.verifies(payload + [0x20], key: key.publicKey))
    }

    @Test func refusesWhatIsNotADetachedES256JWS() throws {
        let key = P256.Signing.PrivateKey()
        let good = try DetachedJWS.sign(payload, key: key, keyID: "k")
        let parts = good.split(separator: ".", omittingEmptySubsequences: false)
        func refused(_ s: String, _ fragment: String) {
            do {
                _ = try DetachedJWS(compact: s)
                Issue.record("accepted \(s)")
            } catch let e as FHIRError {
                #expect(e.status == 422 && e.issues[0].english.contains(fragment) && !e.issues[0].spanish.isEmpty, "\(e)")
            } catch { Issue.record("\(error)") }
        }
        refused("abc", "compact JWS")
        refused("\(parts[0]).\(Base64URL.encode(payload)).\(parts[2])", "detached")
        refused("\(Base64URL.encode(Array(#"{"alg":"HS256"}"#.utf8)))..\(parts[2])", "ES256")
        refused("\(Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)))..", "ES256")
        refused("\(Base64URL.encode(Array(#"{"alg":"ES256","crit":["exp"]}"#.utf8)))..\(parts[2])", "critical")
        refused("\(Base64URL.encode(Array(#"{"alg":"ES256","b64":false}"#.utf8)))..\(parts[2])", "crit")
        refused("\(parts[0])..AAAA", "64 bytes")
        refused("!!..\(parts[2])", "header")
    }

    @Test func jwkThumbprintIsRFC7638AndPrivateKeysAreRefused() throws {
        // RFC 7638 §3.1 example is RSA; for EC the members are crv, kty, x, y in that order.
        let key = P256.Signing.PrivateKey()
        let jwk = SigningJWK.jwk(key.publicKey)
        let expected = Base64URL.encode(Array(SHA256.hash(data: Array(#"{"crv":"P-256","kty":"EC","x":"\#(jwk["x"]!.stringValue!)","y":"\#(jwk["y"]!.stringValue!)"}"#.utf8))))
        #expect(try SigningJWK.thumbprint(jwk) == expected)
        #expect(jwk["kid"]?.stringValue == expected)
        #expect(throws: FHIRError.self) { try SigningJWK.publicKey(jwk.setting("d", .string("AAAA"))) }
        #expect(throws: FHIRError.self) { try SigningJWK.publicKey(jwk.setting("crv", .string("P-384"))) }
        #expect(throws: FHIRError.self) { try SigningJWK.publicKey(jwk.setting("x", .string(Base64URL.encode([UInt8](repeating: 1, count: 32))))) }
    }

    @Test func sealOpensOnlyWhatThisServerSealedForThisPurpose() throws {
        let key = SigningKey(privateKey: P256.Signing.PrivateKey())
        let seal = ServerSeal(signingKey: key, purpose: "a")
        let sealed = seal.seal(payload)
        #expect(seal.open(sealed) == payload)
        #expect(ServerSeal(signingKey: key, purpose: "b").open(sealed) == nil)
        #expect(ServerSeal(signingKey: SigningKey(privateKey: P256.Signing.PrivateKey()), purpose: "a").open(sealed) == nil)
        let parts = sealed.split(separator: ".")
        let forged = Base64URL.encode(payload + [0x20]) + "." + parts[1]
        #expect(seal.open(forged) == nil)
    }
}
