import Crypto
import FHIR
import Foundation
import Testing
@_spi(Unguarded) import Trust

/// Access tokens altered the ways attackers alter them, each refused with the check that failed
/// — beyond the tampering of `Tests/ServerTests/AuthenticationTests.swift` — and the ones that
/// must still pass.
@Suite("Access tokens: mutated tokens")
struct MutatedTokenTests {
    static let now = Timestamp(instant: "2026-11-24T12:00:00Z")!
    static var seconds: Int64 { now.microseconds / 1_000_000 }

    static func authority() throws -> TokenAuthority {
        TokenAuthority(key: SigningKey(privateKey: P256.Signing.PrivateKey()), issuer: "http://x/fhir", audience: "http://x/fhir")
    }

    /// A token with this exact header and payload text, signed with the authority's key.
    static func signed(_ a: TokenAuthority, header: String, payload: String) throws -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(Array(try a.key.privateKey.signature(for: Data(input.utf8)).rawRepresentation))
    }

    static func payload(aud: String = #""http://x/fhir""#, extra: String = "") -> String {
        #"{"iss":"http://x/fhir","sub":"x","aud":\#(aud),"iat":\#(seconds),"exp":\#(seconds + 60),"jti":"j","scope":"system/*.rs"\#(extra)}"#
    }

    static func refusal(_ a: TokenAuthority, _ token: String) async -> TokenError? {
        do { _ = try await a.verify(token, now: now); return nil } catch { return error }
    }

    @Test func signedByTheServerKeyButMutatedElsewhere() async throws {
        let a = try MutatedTokenTests.authority()
        let kid = a.key.keyID
        let good = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","typ":"JWT","kid":"\#(kid)"}"#, payload: MutatedTokenTests.payload())
        #expect(try await a.verify(good, now: MutatedTokenTests.now).subject == "x")
        // an audience list that names this server is fine; one that does not is refused
        let list = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)"}"#, payload: MutatedTokenTests.payload(aud: #"["http://other/fhir","http://x/fhir"]"#))
        #expect(try await a.verify(list, now: MutatedTokenTests.now).subject == "x")
        let elsewhere = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)"}"#, payload: MutatedTokenTests.payload(aud: #"["http://other/fhir"]"#))
        #expect(await MutatedTokenTests.refusal(a, elsewhere) == .wrongAudience)
        // the server's own signature under a header naming another algorithm: the algorithm is pinned
        for alg in ["ES384", "ES512", "RS256", "HS256", "none", "es256"] {
            let t = try MutatedTokenTests.signed(a, header: #"{"alg":"\#(alg)","kid":"\#(kid)"}"#, payload: MutatedTokenTests.payload())
            #expect(await MutatedTokenTests.refusal(a, t) == .unsupportedAlgorithm(alg), "\(alg)")
        }
        // a critical header extension nobody understands
        let crit = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)","crit":["exp-ext"],"exp-ext":1}"#, payload: MutatedTokenTests.payload())
        #expect(await MutatedTokenTests.refusal(a, crit) == .malformed)
        // claims of the wrong type or missing: malformed, not guessed
        let stringExp = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)"}"#,
                                                     payload: #"{"sub":"x","aud":"http://x/fhir","iat":\#(MutatedTokenTests.seconds),"exp":"soon","jti":"j"}"#)
        #expect(await MutatedTokenTests.refusal(a, stringExp) == .malformed)
        let noJTI = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)"}"#,
                                                 payload: #"{"sub":"x","aud":"http://x/fhir","iat":\#(MutatedTokenTests.seconds),"exp":\#(MutatedTokenTests.seconds + 60)}"#)
        #expect(await MutatedTokenTests.refusal(a, noJTI) == .malformed)
        let noAud = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)"}"#,
                                                 payload: #"{"sub":"x","iat":\#(MutatedTokenTests.seconds),"exp":\#(MutatedTokenTests.seconds + 60),"jti":"j"}"#)
        #expect(await MutatedTokenTests.refusal(a, noAud) == .wrongAudience)
        let role = try MutatedTokenTests.signed(a, header: #"{"alg":"ES256","kid":"\#(kid)"}"#, payload: MutatedTokenTests.payload(extra: #","role":"root""#))
        #expect(await MutatedTokenTests.refusal(a, role) == .malformed)
    }

    @Test func theTextOfTheTokenIsCompactJWSOnly() async throws {
        let a = try MutatedTokenTests.authority()
        let good = try a.issue(subject: "x", scope: "system/*.rs", ttl: 60, now: MutatedTokenTests.now)
        let parts = good.split(separator: ".").map(String.init)
        for (name, t) in [("padded signature", good + "=="), ("padded payload", parts[0] + "." + parts[1] + "=." + parts[2]),
                          ("standard base64 alphabet", parts[0] + "." + parts[1] + "." + parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "+/"),
                          ("four parts", good + ".AAAA"), ("empty signature", parts[0] + "." + parts[1] + "."),
                          ("whitespace", parts[0] + ". " + parts[1] + "." + parts[2]), ("empty", "")] {
            #expect(await MutatedTokenTests.refusal(a, t) == .malformed, "\(name)")
        }
        // a signature of the wrong length, or of another payload, does not verify
        let short = parts[0] + "." + parts[1] + "." + String(parts[2].dropLast(4))
        #expect(await MutatedTokenTests.refusal(a, short) == .badSignature)
        let other = try a.issue(subject: "y", scope: "system/*.rs", ttl: 60, now: MutatedTokenTests.now).split(separator: ".").map(String.init)
        #expect(await MutatedTokenTests.refusal(a, parts[0] + "." + other[1] + "." + parts[2]) == .badSignature)
        // and the good one still verifies after all that (nothing was cached for the bad ones)
        #expect(try await a.verify(good, now: MutatedTokenTests.now).subject == "x")
    }
}
