import Crypto
import FHIR
import Foundation
import HTTPTypes
import Server
import Testing
@_spi(Unguarded) @testable import Trust

/// More than a thousand access tokens altered the ways attackers alter them, sent to the
/// server (docs/reliability.md, "Tokens"): every one must be refused with 401 and the valid
/// token it came from must still be accepted. Seeded, so a failure names a token that fails again.
@Suite("Reliability: mutated tokens against the server")
struct ReliabilityTokenTests {
    /// A small deterministic generator (SplitMix64), so a failing mutation is reproducible.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func dec(_ text: String) -> [UInt8]? { Base64URL.decode(Substring(text)) }
    static func b64(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }
    static func b64(_ text: String) -> String { Base64URL.encode(Array(text.utf8)) }

    static func es256(_ key: P256.Signing.PrivateKey, _ input: String) throws -> String {
        input + "." + b64(Array(try key.signature(for: Data(input.utf8)).rawRepresentation))
    }

    static func hs256(_ secret: [UInt8], _ input: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + b64(Array(mac))
    }

    /// The mutated tokens, each with a name saying what was done.
    static func mutations(of good: String, server: TestServer, claims: AccessTokenClaims) throws -> [(String, String)] {
        var rng = Seeded(state: 20_261_202)
        let parts = good.split(separator: ".").map(String.init)
        let header = try #require(dec(parts[0])), payload = try #require(dec(parts[1]))
        let signature = try #require(dec(parts[2]))
        var out: [(String, String)] = []
        // 1. one bit flipped in the decoded header, payload or signature (re-encoded canonically)
        for (part, bytes) in [(0, header), (1, payload), (2, signature)] {
            for n in 0..<270 {
                var b = bytes
                let i = Int.random(in: 0..<b.count, using: &rng)
                b[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                var p = parts
                p[part] = b64(b)
                out.append(("bit flip \(n) in part \(part) byte \(i)", p.joined(separator: ".")))
            }
        }
        // 2. one character of the text replaced by another base64url character
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for n in 0..<120 {
            var chars = Array(good)
            var i = Int.random(in: 0..<chars.count, using: &rng)
            while chars[i] == "." { i = Int.random(in: 0..<chars.count, using: &rng) }
            var c = alphabet.randomElement(using: &rng)!
            while c == chars[i] { c = alphabet.randomElement(using: &rng)! }
            chars[i] = c
            let t = String(chars)
            // a different spelling of the same bytes (the unused low bits of a final character) is
            // not a different token; it is checked apart below
            let decoded = t.split(separator: ".").map { Base64URL.decode($0) }
            if decoded == [header, payload, signature].map(Optional.some) { continue }
            out.append(("character \(n) at \(i)", t))
        }
        let input = parts[0] + "." + parts[1]
        let payloadText = String(decoding: payload, as: UTF8.self)
        // 3. alg none, with and without the signature
        for h in [#"{"alg":"none"}"#, #"{"alg":"none","typ":"JWT"}"#, #"{"alg":"None"}"#, #"{"alg":"NONE"}"#, #"{"alg":""}"#, #"{"typ":"JWT"}"#] {
            let i = b64(h) + "." + parts[1]
            out.append(("\(h) unsigned", i + "."))
            out.append(("\(h) with the original signature", i + "." + parts[2]))
            out.append(("\(h) signature 'e30'", i + ".e30"))
        }
        // 4. HS256 (and friends) keyed with the public key in every form a confused verifier might use
        let pub = server.services.key.privateKey.publicKey
        let pem = pub.pemRepresentation
        let jwks = server.services.key.jwks.serialized()
        let secrets: [(String, [UInt8])] = [("x963", Array(pub.x963Representation)), ("raw", Array(pub.rawRepresentation)),
                                            ("der", Array(pub.derRepresentation)), ("pem", Array(pem.utf8)),
                                            ("pem+newline", Array((pem + "\n").utf8)), ("jwks", jwks),
                                            ("compressed", Array(pub.compressedRepresentation)), ("kid", Array(server.services.key.keyID.utf8))]
        for (name, secret) in secrets {
            for h in [#"{"alg":"HS256","typ":"JWT"}"#, #"{"alg":"HS256","typ":"JWT","kid":"\#(server.services.key.keyID)"}"#] {
                out.append(("HS256 with the \(name) public key \(h)", hs256(secret, b64(h) + "." + parts[1])))
            }
            out.append(("HS256 under an ES256 header with the \(name) key", hs256(secret, input)))
        }
        // 5. the server's own key, claims wrong: expired, not yet valid, other audience, other issuer
        let a = server.services.authority
        var wrong: [(String, AccessTokenClaims)] = []
        for dt: Int64 in [31, 60, 3600, 86_400 * 30] {
            var c = claims
            c.issuedAt = claims.issuedAt - claims.expires + claims.issuedAt - dt
            c.expires = claims.issuedAt - dt
            wrong.append(("expired \(dt) s ago", c))
            var f = claims
            f.issuedAt = claims.issuedAt + dt
            f.expires = claims.expires + dt
            wrong.append(("issued \(dt) s in the future", f))
        }
        for aud in ["http://127.0.0.1:8081/fhir", "", "https://evil.example/fhir", a.audience + "/", a.audience.uppercased(), a.audience + "x"] {
            var c = claims
            c.audience = aud
            wrong.append(("audience '\(aud)'", c))
        }
        for (name, c) in wrong { out.append(("server key, \(name)", try a.sign(c))) }
        for iss in ["https://evil.example/fhir", "", a.issuer + "/", "http://127.0.0.1:1/fhir"] {
            let other = TokenAuthority(key: server.services.key, issuer: iss, audience: a.audience)
            out.append(("server key, issuer '\(iss)'", try other.issue(subject: claims.subject, scope: claims.scope, ttl: 600, now: server.clock.now())))
        }
        // 6. scopes widened, patient changed or role raised, keeping the original signature
        for (what, from, to) in [("scope", "system/Patient.rs", "system/*.*"), ("scope", "system/Patient.rs", "system/*.cruds"),
                                 ("scope", "system/Patient.rs", "system/Patient.rs system/Observation.rs"),
                                 ("scope", "system/Patient.rs", "user/*.*"), ("subject", "mutation-base", "test-operator")] {
            let changed = payloadText.replacingOccurrences(of: from, with: to)
            #expect(changed != payloadText, "\(what): \(from) not in the payload")
            out.append(("\(what) widened to \(to), original signature", parts[0] + "." + b64(changed) + "." + parts[2]))
        }
        for extra in [#","role":"platform-operator""#, #","patient":"Patient/p1""#, #","acts_for":["Patient/p1"]"#, #","client_id":"portal""#] {
            let changed = String(payloadText.dropLast()) + extra + "}"
            out.append(("claim added: \(extra)", parts[0] + "." + b64(changed) + "." + parts[2]))
        }
        // 7. another P-256 key claiming the server's kid, and structural damage
        let otherKey = P256.Signing.PrivateKey()
        out.append(("another key with the server's kid", try es256(otherKey, input)))
        out.append(("another key, ES256 header without kid", try es256(otherKey, b64(#"{"alg":"ES256","typ":"JWT"}"#) + "." + parts[1])))
        for (name, t) in [("truncated signature", String(good.dropLast(2))), ("signature doubled", good + parts[2]),
                          ("parts swapped", parts[1] + "." + parts[0] + "." + parts[2]), ("four parts", good + "." + parts[2]),
                          ("two parts", input), ("padding", good + "="), ("trailing space", good + " x"), ("empty", ""),
                          ("zero signature", input + "." + b64([UInt8](repeating: 0, count: 64))),
                          ("signature of (0, n)", input + "." + b64([UInt8](repeating: 0, count: 32) + [UInt8](repeating: 0xFF, count: 32)))] {
            out.append((name, t))
        }
        return out.filter { !$0.1.isEmpty || $0.0 == "empty" }
    }

    @Test func aThousandMutatedTokensAreAllRefused() async throws {
        let server = try TestServer()
        let (good, claims) = try server.services.authority.issueClaims(subject: "mutation-base", scope: "system/Patient.rs", ttl: 600,
                                                                       now: server.clock.now())
        let revoked = try server.services.authority.issueClaims(subject: "mutation-base", scope: "system/Patient.rs", ttl: 600, now: server.clock.now())
        let tokens = try ReliabilityTokenTests.mutations(of: good, server: server, claims: claims) + [("revoked", revoked.token)]
        #expect(tokens.count >= 1000, "\(tokens.count) mutated tokens")
        try await server.run { c in
            #expect(try await c.send(.put, "/fhir/Patient/p1", json: #"{"resourceType":"Patient","id":"p1","active":true}"#).status == 201)
            // the revoked token works until it is revoked
            #expect(try await c.send(.get, "/fhir/Patient/p1", headers: ["Authorization": "Bearer \(revoked.token)"], auth: false).status == 200)
            try await server.services.identity.revoke(tokenID: revoked.claims.tokenID, expires: revoked.claims.expires)
            var accepted: [String] = []
            var not401: [String] = []
            for (name, token) in tokens {
                let r = try await c.send(.get, "/fhir/Patient/p1", headers: ["Authorization": "Bearer \(token)"], auth: false)
                if r.status < 400 { accepted.append(name) }
                if r.status != 401 { not401.append("\(name): \(r.status)") }
                if r.status == 401 { #expect(r.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(name)") }
            }
            #expect(accepted.isEmpty, "accepted: \(accepted.prefix(20))")
            #expect(not401.isEmpty, "refused other than with 401: \(not401.prefix(20))")
            // the token every mutation came from is still good
            #expect(try await c.send(.get, "/fhir/Patient/p1", headers: ["Authorization": "Bearer \(good)"], auth: false).status == 200)
        }
    }

    /// The unused low bits of the last base64url character of a part do not change its bytes;
    /// such a spelling is another text for the same token, which the server must not accept
    /// (RFC 4648 §3.5 lets a decoder refuse it; only the canonical spelling was ever issued).
    @Test func nonCanonicalSpellingsOfTheSameBytes() async throws {
        let server = try TestServer()
        let good = try server.services.authority.issue(subject: "x", scope: "system/Patient.rs", ttl: 600, now: server.clock.now())
        let parts = good.split(separator: ".").map(String.init)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var found: [String] = []
        for part in 0..<3 {
            let text = parts[part]
            guard let last = text.last else { continue }
            for c in alphabet where c != last {
                var p = parts
                p[part] = String(text.dropLast()) + String(c)
                if ReliabilityTokenTests.dec(p[part]) == ReliabilityTokenTests.dec(text) { found.append(p.joined(separator: ".")) }
            }
        }
        let variants = found
        #expect(variants.count >= 3, "\(variants.count) non-canonical spellings")
        try await server.run { c in
            for t in variants {
                let r = try await c.send(.get, "/fhir/Patient?_count=1", headers: ["Authorization": "Bearer \(t)"], auth: false)
                #expect(r.status == 401, "a non-canonical spelling was accepted: \(r.status)")
            }
        }
    }
}
