import Crypto
import FHIR
import Foundation
import FuzzSupport
import Trust

/// The token parsers and verifiers on arbitrary input: they accept or refuse, never crash or
/// hang. The first byte picks the surface, the rest is the input:
///
/// - 0: an access token (`TokenAuthority.verify`: compact JWS, header, ES256, claims, canonical spelling)
/// - 1: the same, on a token whose claims are the input, signed by the server's key — so the
///      checks after the signature (jwt-kit's claim decoding, exp/iat/aud/iss/role) see fuzzed JSON
/// - 2: a client's JWKS (`ClientAssertion.keys(fromJWKS:)`)
/// - 3: a client assertion against a registered ES384 JWKS (`ClientAssertion.verify`)
/// - 4: a prescriber's detached JWS (`DetachedJWS(compact:)`, then `verifies` over a fixed payload)
/// - 5: a server seal (`ServerSeal.open`)
///
/// The keys are fixed (test keys, not secrets), so seeds made by `ENLACE_FUZZ_WRITE_SEEDS=DIR
/// FuzzJWT` verify on every run.
enum Fixture {
    static let serverKey = SigningKey(privateKey: try! P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32)))
    static let clientKey = try! P384.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 48))
    static let issuer = "https://enlace.example.mx"
    static let audience = "https://enlace.example.mx/fhir"
    static let tokenURL = "https://enlace.example.mx/auth/token"
    static let authority = TokenAuthority(key: serverKey, issuer: issuer, audience: audience)
    static let seal = ServerSeal(signingKey: serverKey, purpose: "fuzz")
    static let now = Timestamp(microseconds: 1_800_000_000 * 1_000_000)

    static var clientJWKS: String {
        let raw = Array(clientKey.publicKey.rawRepresentation)
        return #"{"keys":[{"kty":"EC","crv":"P-384","kid":"c1","alg":"ES384","x":"\#(Base64URL.encode(Array(raw[0..<48])))","y":"\#(Base64URL.encode(Array(raw[48...])))"}]}"#
    }

    static let client = OAuthClient(clientID: "backend", name: "fuzz", redirectURIs: [], scope: "system/*.rs", jwks: clientJWKS)

    /// `header.payload.signature`, ES256 by the server's key (the access-token form).
    static func serverSigned(_ payload: [UInt8]) -> String {
        let input = Base64URL.encode(Array(#"{"alg":"ES256","typ":"JWT","kid":"\#(serverKey.keyID)"}"#.utf8)) + "." + Base64URL.encode(payload)
        let signature = try! serverKey.privateKey.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// A client assertion signed ES384 by the client's key.
    static func clientSigned(_ payload: [UInt8]) -> String {
        let input = Base64URL.encode(Array(#"{"alg":"ES384","typ":"JWT","kid":"c1"}"#.utf8)) + "." + Base64URL.encode(payload)
        let signature = try! clientKey.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let text = String(decoding: bytes, as: UTF8.self)
    switch data[0] % 6 {
    case 0:
        blocking { _ = try? await Fixture.authority.verify(text, now: Fixture.now) }
    case 1:
        let token = Fixture.serverSigned(bytes)
        blocking { _ = try? await Fixture.authority.verify(token, now: Fixture.now) }
    case 2:
        _ = try? ClientAssertion.keys(fromJWKS: text)
    case 3:
        blocking { _ = try? await ClientAssertion.verify(text, client: Fixture.client, tokenURL: Fixture.tokenURL, now: 1_800_000_000) }
    case 4:
        if let jws = try? DetachedJWS(compact: text) {
            _ = jws.verifies(Array("payload".utf8), key: Fixture.serverKey.privateKey.publicKey)
        }
    default:
        _ = Fixture.seal.open(text)
    }
    return 0
}

struct SeedError: Error { let failures: [String] }

/// What failed, written by the one task `blocking` waits for.
final class Failures: @unchecked Sendable { var list: [String] = [] }

/// Seeds for every surface, written once into the committed corpus (fuzz/README.md).
func writeSeeds(to directory: String) throws {
    let now = Int64(1_800_000_000)
    let token = try Fixture.authority.issue(subject: "Practitioner/p1", scope: "user/*.rs", ttl: 300, now: Fixture.now)
    let claims = #"{"iss":"\#(Fixture.issuer)","sub":"Patient/1","aud":["\#(Fixture.audience)"],"iat":\#(now - 10),"exp":\#(now + 300),"jti":"j1","scope":"patient/*.rs","role":"patient","patient":"1","acts_for":["Patient/2"]}"#
    let assertion = #"{"iss":"backend","sub":"backend","aud":"\#(Fixture.tokenURL)","exp":\#(now + 120),"jti":"a1"}"#
    let detached = Base64URL.encode(Array(#"{"alg":"ES256","kid":"k1","b64":false,"crit":["b64"]}"#.utf8)) + ".." + Base64URL.encode([UInt8](repeating: 1, count: 64))
    var seeds: [(UInt8, String)] = [
        (0, token), (0, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), (0, Fixture.serverSigned(Array(claims.utf8))),
        (1, claims), (1, #"{"iss":1,"exp":"x"}"#), (1, #"{"sub":"a","aud":"b","iat":0,"exp":99999999999,"jti":"","role":"nobody"}"#),
        (2, Fixture.clientJWKS), (2, #"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS384"}]}"#), (2, #"{"keys":[{}]}"#),
        (3, Fixture.clientSigned(Array(assertion.utf8))), (3, Fixture.clientSigned(Array(#"{"iss":"backend"}"#.utf8))),
        (4, detached), (4, "a.b.c"),
        (5, Fixture.seal.seal(Array(#"{"prescription":"MedicationRequest/1"}"#.utf8))), (5, "x.y"),
    ]
    // the valid seeds must verify, or the fuzzer never reaches the checks after the signature
    let signedAssertion = seeds[9].1, signedClaims = seeds[2].1
    let failures = Failures()
    blocking {
        do { _ = try await Fixture.authority.verify(token, now: Fixture.now) } catch { failures.list.append("issued token: \(error)") }
        do { _ = try await Fixture.authority.verify(signedClaims, now: Fixture.now) } catch { failures.list.append("signed claims: \(error)") }
        do { _ = try await ClientAssertion.verify(signedAssertion, client: Fixture.client, tokenURL: Fixture.tokenURL, now: now) } catch {
            failures.list.append("client assertion: \(error)")
        }
    }
    if Fixture.seal.open(seeds[13].1) == nil { failures.list.append("seal") }
    guard failures.list.isEmpty else { throw SeedError(failures: failures.list) }
    seeds.append((0, String(repeating: "a", count: 100) + "." + String(repeating: "b", count: 100) + "." + String(repeating: "c", count: 86)))
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (i, (mode, body)) in seeds.enumerated() {
        try Data([mode] + Array(body.utf8)).write(to: URL(fileURLWithPath: directory + "/seed-\(mode)-\(i)"))
    }
}

/// Creates the keys and jwt-kit's key collection before fuzzing.
@_cdecl("LLVMFuzzerInitialize")
public func initializeFuzzJWT(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let token = Fixture.serverSigned(Array("{}".utf8))
    blocking { _ = try? await Fixture.authority.verify(token, now: Fixture.now) }
    return 0
}

@_cdecl("FuzzJWT_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["ENLACE_FUZZ_WRITE_SEEDS"] {
        do { try writeSeeds(to: directory) } catch {
            print("cannot write seeds: \(error)")
            return 1
        }
        return 0
    }
    return runFuzzer(argc, argv) { data, size in fuzzJWT(data, size) }
}
