import Crypto
import FHIR
import Foundation
import Testing
@_spi(Unguarded) import Trust

@Suite("Authentication: bearer tokens are required and checked")
struct AuthenticationTests {
    func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }

    @Test func tamperedTokensAreRefused() async throws {
        let server = try TestServer()
        let good = server.token
        let parts = good.split(separator: ".").map(String.init)
        let payload = String(decoding: Base64URL.decode(Substring(parts[1]))!, as: UTF8.self)
        let now = server.clock.now().microseconds / 1_000_000
        let aud = server.services.configuration.fhirBase

        var bad: [String: String] = [:]
        bad["alg none"] = b64(#"{"alg":"none","typ":"JWT"}"#) + "." + parts[1] + "."
        // HS256 "signed" with the public key, the classic algorithm-confusion attack
        let pub = Data(server.services.key.privateKey.publicKey.pemRepresentation.utf8)
        let hsInput = b64(#"{"alg":"HS256","typ":"JWT"}"#) + "." + parts[1]
        let mac = HMAC<SHA256>.authenticationCode(for: Data(hsInput.utf8), using: SymmetricKey(data: pub))
        bad["HS256 with public key"] = hsInput + "." + Base64URL.encode(Array(mac))
        bad["altered payload"] = parts[0] + "." + b64(payload.replacingOccurrences(of: "system/*.*", with: "system/*.cruds ")) + "." + parts[2]
        bad["altered signature"] = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
        bad["expired"] = try server.services.authority.sign(AccessTokenClaims(issuer: aud, subject: "x", audience: aud, issuedAt: now - 7200, expires: now - 3600, tokenID: "1", scope: "system/*.*"))
        bad["wrong audience"] = try server.services.authority.sign(AccessTokenClaims(issuer: aud, subject: "x", audience: "https://other.example/fhir", issuedAt: now, expires: now + 3600, tokenID: "2", scope: "system/*.*"))
        let otherKey = SigningKey(privateKey: P256.Signing.PrivateKey())
        bad["other key"] = try TokenAuthority(key: otherKey, issuer: aud, audience: aud).issue(subject: "x", scope: "system/*.*", ttl: 60, now: server.clock.now())
        bad["garbage"] = "not-a-token"

        let tampered = bad
        try await server.run { c in
            for (name, token) in tampered {
                let r = try await c.send(.get, "/fhir/Patient/x", headers: ["Authorization": "Bearer \(token)"], auth: false)
                #expect(r.status == 401, "\(name)")
                #expect(r.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(name)")
                #expect(r.issueCodes == ["login"], "\(name)")
            }
            #expect(try await c.send(.get, "/fhir/Patient/x", auth: false).status == 401)
            #expect(try await c.send(.get, "/fhir/Patient/x", headers: ["Authorization": "Basic abc"], auth: false).status == 401)
            #expect(try await c.send(.get, "/fhir/Patient/x").status == 404)  // the good token works
            #expect(try await c.send(.get, "/healthz", auth: false).status == 200)
            #expect(try await c.send(.get, "/.well-known/jwks.json", auth: false).json["keys"]?.arrayValue?.count == 1)
        }
    }

    @Test func scopesLimitWhatATokenMayDo() async throws {
        try await TestServer(scope: "system/Patient.rs").run { c in
            let create = try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient"}"#)
            #expect(create.status == 403)
            #expect(create.issueCodes == ["forbidden"])
            #expect(try await c.send(.get, "/fhir/Patient/x").status == 404)
            // the refusal does not depend on whether the data exists
            #expect(try await c.send(.get, "/fhir/Observation/x").status == 403)
        }
    }

    @Test func revokedTokensAndAlteredContextAreRefused() async throws {
        let server = try TestServer()
        let identity = server.services.identity
        let issued = try server.services.authority.issueClaims(subject: "operator-2", scope: "system/*.*", ttl: 3600, now: server.clock.now())
        let user = try server.services.authority.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: 3600, now: server.clock.now(),
                                                             role: .patient, fhirUser: "Patient/a", patient: "Patient/a")
        // a patient token whose payload is edited to another patient or to the operator role
        let parts = user.token.split(separator: ".").map(String.init)
        let payload = String(decoding: Base64URL.decode(Substring(parts[1]))!, as: UTF8.self)
        let otherPatient = parts[0] + "." + b64(payload.replacingOccurrences(of: "Patient/a", with: "Patient/b")) + "." + parts[2]
        let promoted = parts[0] + "." + b64(payload.replacingOccurrences(of: #""role":"patient""#, with: #""role":"operator""#)) + "." + parts[2]
        let unknownRole = try server.services.authority.sign(AccessTokenClaims(issuer: "x", subject: "x", audience: server.services.configuration.fhirBase,
            issuedAt: server.clock.now().microseconds / 1_000_000, expires: server.clock.now().microseconds / 1_000_000 + 60, tokenID: "u", scope: "system/*.*", role: "superuser"))
        try await server.run { c in
            let token = issued.token
            #expect(try await c.send(.get, "/fhir/Patient/x", headers: ["Authorization": "Bearer \(token)"], auth: false).status == 404)
            try await identity.revoke(tokenID: issued.claims.tokenID, expires: issued.claims.expires)
            let r = try await c.send(.get, "/fhir/Patient/x", headers: ["Authorization": "Bearer \(token)"], auth: false)
            #expect(r.status == 401)
            #expect(r.header("WWW-Authenticate")?.contains("invalid_token") == true)
            for bad in [otherPatient, promoted, unknownRole] {
                #expect(try await c.send(.get, "/fhir/Patient/x", headers: ["Authorization": "Bearer \(bad)"], auth: false).status == 401)
            }
            // a user token is accepted until its user is disabled
            #expect(try await c.send(.get, "/fhir/Patient/a", headers: ["Authorization": "Bearer \(user.token)"], auth: false).status != 401)
            _ = try await identity.addUser(username: "ana", role: .patient, password: "ana-password", patient: "Patient/a")
            try await identity.setDisabled("ana", true)
            #expect(try await c.send(.get, "/fhir/Patient/a", headers: ["Authorization": "Bearer \(user.token)"], auth: false).status == 401)
        }
    }
}
