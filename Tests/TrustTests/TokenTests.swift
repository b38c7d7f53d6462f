import FHIR
import Foundation
import Testing
@_spi(Unguarded) import Trust

@Suite("ES256 access tokens and the signing key")
struct TokenTests {
    @Test func keyIsCreatedOwnerOnlyAndReloaded() throws {
        let dir = NSTemporaryDirectory() + "enlace-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let k1 = try SigningKey.loadOrCreate(in: dir)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/signing-key.pem")
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let k2 = try SigningKey.loadOrCreate(in: dir)
        #expect(k1.keyID == k2.keyID)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/signing-key.pem")
        #expect(throws: TrustError.self) { try SigningKey.loadOrCreate(in: dir) }
    }

    @Test func issueAndVerify() async throws {
        let dir = NSTemporaryDirectory() + "enlace-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let authority = TokenAuthority(key: try SigningKey.loadOrCreate(in: dir), issuer: "http://x/fhir", audience: "http://x/fhir")
        let now = Timestamp(instant: "2026-11-24T12:00:00Z")!
        let token = try authority.issue(subject: "operator", scope: "system/*.*", ttl: 3600, now: now)
        let claims = try await authority.verify(token, now: now)
        #expect(claims.subject == "operator")
        #expect(claims.scope == "system/*.*")
        #expect(claims.expires - claims.issuedAt == 3600)
        #expect(!claims.tokenID.isEmpty)
        // the second verification of the same text comes from the cache of verified tokens:
        // the time checks still hold
        #expect(try await authority.verify(token, now: now) == claims)
        await #expect(throws: TokenError.expired) { try await authority.verify(token, now: Timestamp(microseconds: now.microseconds + 3700 * 1_000_000)) }
        await #expect(throws: TokenError.notYetValid) { try await authority.verify(token, now: Timestamp(microseconds: now.microseconds - 3600 * 1_000_000)) }
        let other = TokenAuthority(key: authority.key, issuer: "http://y/fhir", audience: "http://y/fhir")
        await #expect(throws: TokenError.wrongAudience) { try await other.verify(token, now: now) }
    }

    /// Claims signed by the server's own key whose times do not fit Int64 seconds (found by
    /// fuzz/FuzzJWT: `"exp":180000e300` passed the expiry check, then `Int64(_:)` trapped).
    @Test func timesBeyondInt64SecondsAreMalformedNotACrash() async throws {
        let dir = NSTemporaryDirectory() + "enlace-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SigningKey.loadOrCreate(in: dir)
        let authority = TokenAuthority(key: key, issuer: "http://x/fhir", audience: "http://x/fhir")
        let now = Timestamp(instant: "2026-11-24T12:00:00Z")!
        func signed(_ claims: String) throws -> String {
            let input = Base64URL.encode(Array(#"{"alg":"ES256","typ":"JWT","kid":"\#(key.keyID)"}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
            return input + "." + Base64URL.encode(Array(try key.privateKey.signature(for: Data(input.utf8)).rawRepresentation))
        }
        let t = now.microseconds / 1_000_000
        let fine = try signed(#"{"iss":"http://x/fhir","sub":"a","aud":["http://x/fhir"],"iat":\#(t - 60),"exp":\#(t + 3600),"jti":"j"}"#)
        #expect(try await authority.verify(fine, now: now).subject == "a", "the hand-made token verifies: the refusals below are about the times")
        for (iat, exp) in [("\(t - 60)", "180000e300"), ("-9e300", "\(t + 3600)")] {
            let token = try signed(#"{"iss":"http://x/fhir","sub":"a","aud":["http://x/fhir"],"iat":\#(iat),"exp":\#(exp),"jti":"j"}"#)
            await #expect(throws: TokenError.malformed) { try await authority.verify(token, now: now) }
        }
    }
}
