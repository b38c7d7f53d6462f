import Crypto
import FHIR
import Foundation
import Testing
@testable import Server
import Trust

/// An EHR calling the CDS Hooks service as a CDS client (CDS Hooks 2.0, "Trusting CDS Clients";
/// docs/care.md, "Authentication"): its own ES384-signed JWT per call, the user's Enlace token in
/// `fhirAuthorization`, cards computed over what that user may see, feedback signed by the
/// client recorded as the user's decision — and every way of getting that wrong refused.
@Suite struct CareCDSClientTests {
    let ehrKey = P384.Signing.PrivateKey()
    let otherKey = P384.Signing.PrivateKey()

    static func jwks(_ key: P384.Signing.PrivateKey, kid: String) -> String {
        let raw = Array(key.publicKey.rawRepresentation)
        return JSON.object([("keys", .array([.object([
            ("kty", .string("EC")), ("crv", .string("P-384")), ("kid", .string(kid)), ("alg", .string("ES384")),
            ("x", .string(Base64URL.encode(Array(raw[0..<48])))), ("y", .string(Base64URL.encode(Array(raw[48..<96])))),
        ])]))]).compactString
    }

    /// A CDS client JWT as the spec lays it out (header alg/typ/kid; iss, sub, aud, exp, iat, jti).
    static func jwt(_ key: P384.Signing.PrivateKey, client: String, aud: String, now: Int64, exp: Int64 = 120,
                    jti: String = UUID().uuidString) throws -> String {
        let header = Base64URL.encode(Array(#"{"alg":"ES384","typ":"JWT","kid":"ehr-1"}"#.utf8))
        let payload = Base64URL.encode(JSON.object([
            ("iss", .string(client)), ("sub", .string(client)), ("aud", .string(aud)),
            ("exp", .number(String(now + exp))), ("iat", .number(String(now))), ("jti", .string(jti)),
        ]).serialized())
        let sig = try key.signature(for: Array((header + "." + payload).utf8))
        return header + "." + payload + "." + Base64URL.encode(Array(sig.rawRepresentation))
    }

    /// An order-sign call for Ana's repeated HbA1c, carrying `token` as fhirAuthorization.
    static func call(token: String?, fhirServer: String) -> String {
        var body = CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c])
        if let token {
            body = String(body.dropLast()) + #","fhirServer":"\#(fhirServer)","fhirAuthorization":{"access_token":"\#(token)","token_type":"Bearer","expires_in":300,"scope":"user/*.rs","subject":"cds-service"}}"#
        }
        return body
    }

    @Test func anEHRCallsWithItsSignedJWTAndTheUsersToken() async throws {
        let server = try TestServer()
        let identity = server.services.identity
        try await identity.addClient(OAuthClient(clientID: "ehr", name: "Expediente del hospital", redirectURIs: [], scope: "user/*.rs",
                                                 jwks: Self.jwks(ehrKey, kid: "ehr-1")))
        try await identity.addClient(OAuthClient(clientID: "other-ehr", name: "Otro expediente", redirectURIs: [], scope: "user/*.rs",
                                                 jwks: Self.jwks(otherKey, kid: "ehr-1")))
        let a = server.services.authority, clock = server.clock
        let now = clock.now().microseconds / 1_000_000
        func user(_ who: String, client: String) throws -> String {
            try a.issueClaims(subject: "user:\(who)", scope: "user/*.cruds", ttl: 3600, now: clock.now(), role: .practitioner,
                              fhirUser: "Practitioner/\(who)", organization: "Organization/umf", clientID: client).token
        }
        let dra = try user("dra", client: "ehr"), otro = try user("otro", client: "ehr"), draElsewhere = try user("dra", client: "other-ehr")
        let base = server.services.configuration.fhirBase
        let root = server.services.configuration.oauthBase
        let service = root + "/cds-services/enlace-order-sign"
        @Sendable func post(_ c: Client, _ path: String, _ body: String, bearer: String) async throws -> Client.Reply {
            try await c.send(.post, path, body: Array(body.utf8), headers: ["Authorization": "Bearer \(bearer)", "Content-Type": "application/json"],
                             auth: false)
        }
        @Sendable func signed(aud: String = service, exp: Int64 = 120, jti: String = UUID().uuidString, key: P384.Signing.PrivateKey? = nil,
                    client: String = "ehr") throws -> String {
            try Self.jwt(key ?? ehrKey, client: client, aud: aud, now: now, exp: exp, jti: jti)
        }
        try await server.run { c in
            for (path, json) in CareCDSHooksTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let once = try signed()
            let r = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: dra, fhirServer: base), bearer: once)
            #expect(r.status == 200, "\(r.text)")
            let cards = r.json["cards"]?.arrayValue ?? []
            let duplicate = cards.first { $0["source"]?["topic"]?["code"]?.stringValue == "duplicate-study" }
            #expect(duplicate?["detail"]?.stringValue?.contains("7.8 %") == true, "\(r.text)")

            // the same JWT twice (jti), another endpoint's, expired, too long-lived, another key, unknown client: 401 OperationOutcomes
            let replay = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: dra, fhirServer: base), bearer: once)
            #expect(replay.status == 401 && replay.text.contains("jti"), "\(replay.text)")
            #expect(replay.json["resourceType"]?.stringValue == "OperationOutcome")
            for bad in [try signed(aud: root + "/cds-services/enlace-patient-view"), try signed(exp: -10), try signed(exp: 3600),
                        try signed(key: otherKey), try signed(client: "nobody")] {
                let refused = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: dra, fhirServer: base), bearer: bad)
                #expect(refused.status == 401, "\(refused.text)")
                #expect(refused.headers[.init("WWW-Authenticate")!]?.contains("Bearer") == true)
            }
            // no user token; a user token issued to another client; another FHIR server named
            let noUser = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: nil, fhirServer: base), bearer: try signed())
            #expect(noUser.status == 401 && noUser.text.contains("fhirAuthorization"), "\(noUser.text)")
            let crossed = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: draElsewhere, fhirServer: base), bearer: try signed())
            #expect(crossed.status == 401, "\(crossed.text)")
            let elsewhere = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: dra, fhirServer: "https://otro.example/fhir"), bearer: try signed())
            #expect(elsewhere.status == 400 && elsewhere.text.contains("fhirServer"), "\(elsewhere.text)")

            // the cards are the user's: a clinician who does not treat Ana learns no value
            let other = try await post(c, "/cds-services/enlace-order-sign", Self.call(token: otro, fhirServer: base), bearer: try signed())
            #expect(other.status == 200, "\(other.text)")
            #expect(!other.text.contains("7.8"), "\(other.text)")

            // feedback signed by the client is Dra. Ruiz's decision; another client may not answer for her card
            let uuid = try #require(duplicate?["uuid"]?.stringValue)
            let feedback = #"{"feedback":[{"card":"\#(uuid)","outcome":"accepted","outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#
            let foreign = try await post(c, "/cds-services/enlace-order-sign/feedback", feedback,
                                         bearer: try signed(aud: service + "/feedback", key: otherKey, client: "other-ehr"))
            #expect(foreign.status == 404, "\(foreign.text)")
            let ok = try await post(c, "/cds-services/enlace-order-sign/feedback", feedback, bearer: try signed(aud: service + "/feedback"))
            #expect(ok.status == 200, "\(ok.text)")
            let found = try await c.send(.get, "/fhir/Provenance?patient=Patient/ana&_count=50")
            let records = (found.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
                .filter { $0["policy"]?.arrayValue?.first?.stringValue == "urn:enlace:cds-service:enlace-order-sign" }
            #expect(records.count == 1, "\(found.text)")
            #expect(records.first?["agent"]?.arrayValue?.first?["who"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(records.first?["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "accepted")
        }
    }
}
