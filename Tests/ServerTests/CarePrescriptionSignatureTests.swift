import Crypto
import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
import Trust

/// The prescriber's signature (docs/prescribing.md, "The prescriber's signature"): register a
/// key, prepare, sign the canonical JSON (detached ES256 JWS), check and store with a
/// Provenance.signature; the counter re-verifies; a changed prescription no longer verifies;
/// wrong, missing, foreign, replayed and expired signatures are refused and store nothing.
@Suite struct CarePrescriptionSignatureTests {
    typealias T = CarePrescriptionTests

    func send(_ c: Client, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String) async throws -> Client.Reply {
        try await c.send(method, path, body: body.map { Array($0.utf8) }, headers: ["Authorization": "Bearer \(token)"], auth: false)
    }

    func value(_ parameters: JSON, _ name: String) -> JSON? {
        (parameters["parameter"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name }
    }

    func part(_ parameter: JSON?, _ name: String) -> JSON? {
        (parameter?["part"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name }
    }

    static func register(_ key: P256.Signing.PrivateKey) -> String {
        let jwk = SigningJWK.jwk(key.publicKey).compactString
        return JSON.object([("resourceType", .string("Parameters")), ("parameter", .array([.object([("name", .string("key")), ("valueString", .string(jwk))])]))]).compactString
    }

    static func prepare(_ prescription: String) throws -> String {
        JSON.object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("mode")), ("valueCode", .string("prepare"))]),
            .object([("name", .string("resource")), ("resource", try JSONParser.parse(prescription))]),
        ]))]).compactString
    }

    static func signed(_ preparation: String, _ jws: String, who: String = "Practitioner/dra") -> String {
        JSON.object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("preparation")), ("valueString", .string(preparation))]),
            .object([("name", .string("signature")), ("valueSignature", .object([
                ("type", .array([.object([("system", .string("urn:iso-astm:E1762-95:2013")), ("code", .string("1.2.840.10065.1.12.1.1"))])])),
                ("when", .string("2026-11-25T10:00:00Z")), ("who", .object([("reference", .string(who))])),
                ("sigFormat", .string("application/jose")), ("data", .string(Data(jws.utf8).base64EncodedString())),
            ]))]),
        ]))]).compactString
    }

    @Test(arguments: ServerBackend.allCases)
    func aSignedPrescriptionVerifiesAtTheCounterUntilItIsChanged(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try T.tokens(server)
        let key = P256.Signing.PrivateKey()
        let kid = SigningJWK.jwk(key.publicKey)["kid"]!.stringValue!
        try await server.run { c in
            for (path, json) in T.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            // before a key: unsigned prescriptions are still taken
            let before = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", T.prescription("Losartán 50 mg", quantity: 30, refills: 0), token: t.dra)
            #expect(before.status == 201, "\(before.text)")
            // register the practitioner's public key
            let reg = try await send(c, .post, "/fhir/Practitioner/$register-signing-key", CarePrescriptionSignatureTests.register(key), token: t.dra)
            #expect(reg.status == 200, "\(reg.text)")
            #expect(value(reg.json, "kid")?["valueString"]?.stringValue == kid)
            // a pharmacy or a patient registers no key
            #expect(try await send(c, .post, "/fhir/Practitioner/$register-signing-key", CarePrescriptionSignatureTests.register(key), token: t.roma).status == 403)
            let practitioner = try await c.send(.get, "/fhir/Practitioner/dra")
            #expect(Door.signingKeys(of: practitioner.json).compactMap { $0["kid"]?.stringValue } == [kid], "\(practitioner.text)")
            // now unsigned is refused, and nothing is stored
            let unsigned = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", T.prescription("Metformina 850 mg", quantity: 60, refills: 0), token: t.dra)
            #expect(unsigned.status == 422 && unsigned.text.contains("firma") && unsigned.text.contains("sign"), "\(unsigned.text)")

            // prepare: the prescription as it will be stored, and the bytes to sign
            let prep = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                      try CarePrescriptionSignatureTests.prepare(T.prescription("Metformina 850 mg", quantity: 60, refills: 1)), token: t.dra)
            #expect(prep.status == 200, "\(prep.text)")
            let prepared = try #require(value(prep.json, "resource")?["resource"])
            let payload = try #require(value(prep.json, "payload")?["valueBase64Binary"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) })
            #expect(payload == CanonicalJSON.bytes(prepared, method: .static, alsoOmitting: ["id"]))
            #expect(prepared["identifier"] != nil && prepared["authoredOn"] != nil)
            let preparation = try #require(value(prep.json, "preparation")?["valueString"]?.stringValue)
            let code = (prepared["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == "https://enlace.mx/fhir/sid/receta" }?["value"]?.stringValue ?? ""
            #expect(try await send(c, .get, "/fhir/MedicationRequest?identifier=https://enlace.mx/fhir/sid/receta|\(code)", token: t.dra).json["entry"] == nil)

            // wrong signatures: another key, a signature over other bytes, garbage — 422, nothing stored
            let other = P256.Signing.PrivateKey()
            let foreign = try DetachedJWS.sign(payload, key: other, keyID: kid)
            let r1 = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, foreign), token: t.dra)
            #expect(r1.status == 422 && r1.text.contains("no se verifica"), "\(r1.text)")
            let changed = try DetachedJWS.sign(payload + [0x20], key: key, keyID: kid)
            #expect(try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, changed), token: t.dra).status == 422)
            let garbage = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, "x.y.z"), token: t.dra)
            #expect(garbage.status == 422 && garbage.json["resourceType"]?.stringValue == "OperationOutcome", "\(garbage.text)")
            let unknownKid = try DetachedJWS.sign(payload, key: key, keyID: "otra")
            #expect(try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, unknownKid), token: t.dra).status == 422)
            // a changed preparation is not the server's
            let forged = String(preparation.dropLast(2)) + (preparation.hasSuffix("AA") ? "BB" : "AA")
            let good = try DetachedJWS.sign(payload, key: key, keyID: kid)
            let r2 = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(forged, good), token: t.dra)
            #expect(r2.status == 422 && r2.text.contains("preparación"), "\(r2.text)")
            #expect(try await send(c, .get, "/fhir/MedicationRequest?identifier=https://enlace.mx/fhir/sid/receta|\(code)", token: t.dra).json["entry"] == nil)

            // the right signature: stored with its Provenance.signature
            let ok = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, good), token: t.dra)
            #expect(ok.status == 201, "\(ok.text)")
            let id = ok.json["id"]?.stringValue ?? ""
            #expect(CanonicalJSON.bytes(ok.json, method: .static, alsoOmitting: ["id"]) == payload)
            let prov = try await c.send(.get, "/fhir/Provenance?target=MedicationRequest/\(id)")
            let signature = (prov.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["signature"]?.arrayValue?.first }.first
            #expect(signature?["type"]?.arrayValue?.first?["code"]?.stringValue == "1.2.840.10065.1.12.1.1")
            #expect(signature?["sigFormat"]?.stringValue == "application/jose" && signature?["who"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(signature?["data"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } == good)
            // the same preparation again: 409, no second prescription
            #expect(try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, good), token: t.dra).status == 409)

            // the counter re-verifies
            let found = try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code)", token: t.valle)
            #expect(part(value(found.json, "signature"), "status")?["valueCode"]?.stringValue == "verified", "\(found.text)")
            #expect(part(value(found.json, "signature"), "who")?["valueReference"]?["reference"]?.stringValue == "Practitioner/dra")
            let unsignedCode = (before.json["identifier"]?.arrayValue ?? []).first?["value"]?.stringValue ?? ""
            let plain = try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(unsignedCode)", token: t.valle)
            #expect(part(value(plain.json, "signature"), "status")?["valueCode"]?.stringValue == "unsigned", "\(plain.text)")

            // changed after signing (more tablets): no longer verifies
            var tampered = ok.json
            tampered = tampered.setting("dispenseRequest", tampered["dispenseRequest"]!.setting("quantity", .object([("value", .number("600")), ("unit", .string("tabletas"))])))
            #expect(try await c.send(.put, "/fhir/MedicationRequest/\(id)", json: tampered.compactString).status == 200)
            let after = try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code)", token: t.valle)
            #expect(part(value(after.json, "signature"), "status")?["valueCode"]?.stringValue == "failed", "\(after.text)")

            // a preparation for another prescriber, and an expired one
            let drb = try server.services.authority.issueClaims(subject: "user:drb", scope: "user/*.cruds", ttl: 86400 * 60, now: server.clock.now(), role: .practitioner,
                                                                fhirUser: "Practitioner/drb", organization: "Organization/umf").token
            #expect(try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionSignatureTests.signed(preparation, good), token: drb).status == 422)
            let prep2 = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                       try CarePrescriptionSignatureTests.prepare(T.prescription("Losartán 50 mg", quantity: 30, refills: 0)), token: t.dra)
            let payload2 = [UInt8](Data(base64Encoded: value(prep2.json, "payload")?["valueBase64Binary"]?.stringValue ?? "") ?? Data())
            server.clock.advance(seconds: 31 * 60)
            let late = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                      CarePrescriptionSignatureTests.signed(value(prep2.json, "preparation")?["valueString"]?.stringValue ?? "", try DetachedJWS.sign(payload2, key: key, keyID: kid)),
                                      token: t.dra)
            #expect(late.status == 422 && late.text.contains("venció"), "\(late.text)")
        }
    }
    /// Two identical signed requests at once (a double submit): one prescription and exactly one
    /// signature Provenance, on both backends.
    @Test(arguments: ServerBackend.allCases)
    func aDoubleSubmitStoresOneSignatureProvenance(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try T.tokens(server)
        let key = P256.Signing.PrivateKey()
        let kid = SigningJWK.jwk(key.publicKey)["kid"]!.stringValue!
        try await server.run { c in
            for (path, json) in T.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            #expect(try await send(c, .post, "/fhir/Practitioner/$register-signing-key", CarePrescriptionSignatureTests.register(key), token: t.dra).status == 200)
            let prep = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                      try CarePrescriptionSignatureTests.prepare(T.prescription("Metformina 850 mg", quantity: 60, refills: 1)), token: t.dra)
            let payload = try #require(value(prep.json, "payload")?["valueBase64Binary"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) })
            let preparation = try #require(value(prep.json, "preparation")?["valueString"]?.stringValue)
            let body = CarePrescriptionSignatureTests.signed(preparation, try DetachedJWS.sign(payload, key: key, keyID: kid))
            async let a = send(c, .post, "/fhir/MedicationRequest/$prescribe", body, token: t.dra)
            async let b = send(c, .post, "/fhir/MedicationRequest/$prescribe", body, token: t.dra)
            let replies = try await [a, b]
            let ids = Set(replies.filter { $0.status < 300 }.compactMap { $0.json["id"]?.stringValue })
            #expect(ids.count == 1, "\(replies.map(\.text))")
            // the other is either the same prescription (it raced past the check) or a 409
            #expect(replies.allSatisfy { $0.status < 300 || $0.status == 409 }, "\(replies.map(\.text))")
            let id = try #require(ids.first)
            let prov = try await c.send(.get, "/fhir/Provenance?target=MedicationRequest/\(id)")
            let signatures = (prov.json["entry"]?.arrayValue ?? []).filter {
                ($0["resource"]?["policy"]?.arrayValue ?? []).contains(.string("urn:enlace:policy:prescriber-signature"))
            }
            #expect(signatures.count == 1, "\(prov.text)")
        }
    }

    /// A signed prescription cancelled later (a PUT of its status, the normal way) still reads
    /// signed: the signature Provenance names the version signed (`…/_history/1`), which still
    /// verifies, and since then only the status changed. Any other change still fails. A
    /// Provenance stored before targets were versioned (unversioned target) verifies as before.
    @Test(arguments: ServerBackend.allCases)
    func aCancelledPrescriptionStillReadsSignedButAnotherChangeDoesNot(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try T.tokens(server)
        let key = P256.Signing.PrivateKey()
        let kid = SigningJWK.jwk(key.publicKey)["kid"]!.stringValue!
        try await server.run { c in
            for (path, json) in T.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            #expect(try await send(c, .post, "/fhir/Practitioner/$register-signing-key", CarePrescriptionSignatureTests.register(key), token: t.dra).status == 200)
            func prepared(_ medicine: String) async throws -> (resource: JSON, payload: [UInt8], preparation: String, code: String) {
                let prep = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                          try CarePrescriptionSignatureTests.prepare(T.prescription(medicine, quantity: 60, refills: 0)), token: t.dra)
                let resource = try #require(value(prep.json, "resource")?["resource"])
                let payload = try #require(value(prep.json, "payload")?["valueBase64Binary"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) })
                let code = (resource["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == "https://enlace.mx/fhir/sid/receta" }?["value"]?.stringValue ?? ""
                return (resource, payload, try #require(value(prep.json, "preparation")?["valueString"]?.stringValue), code)
            }
            func signature(_ code: String) async throws -> JSON? {
                value(try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code)", token: t.valle).json, "signature")
            }
            let p = try await prepared("Metformina 850 mg")
            let ok = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                    CarePrescriptionSignatureTests.signed(p.preparation, try DetachedJWS.sign(p.payload, key: key, keyID: kid)), token: t.dra)
            #expect(ok.status == 201, "\(ok.text)")
            let id = ok.json["id"]?.stringValue ?? ""
            // the Provenance names the version signed
            let prov = try await c.send(.get, "/fhir/Provenance?target=MedicationRequest/\(id)")
            let signatures = (prov.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter {
                ($0["policy"]?.arrayValue ?? []).contains(.string("urn:enlace:policy:prescriber-signature"))
            }
            #expect(signatures.count == 1, "\(prov.text)")
            let targets = signatures.flatMap { $0["target"]?.arrayValue ?? [] }.compactMap { $0["reference"]?.stringValue }
            #expect(targets.contains("MedicationRequest/\(id)/_history/1"), "\(prov.text)")

            // cancelled by a PUT of its status (and why): what was signed still verifies, and it says it changed
            let cancelled = ok.json.setting("status", .string("cancelled")).setting("statusReason", .object([("text", .string("cambio de tratamiento"))]))
            #expect(try await c.send(.put, "/fhir/MedicationRequest/\(id)", json: cancelled.compactString).status == 200)
            let after = try await signature(p.code)
            #expect(part(after, "status")?["valueCode"]?.stringValue == "verified", "\(String(describing: after))")
            #expect(part(after, "statusNow")?["valueCode"]?.stringValue == "cancelled", "\(String(describing: after))")
            #expect(part(after, "who")?["valueReference"]?["reference"]?.stringValue == "Practitioner/dra")
            let reason = part(after, "reason")?["valueString"]?.stringValue ?? ""
            #expect(reason.contains("Firmada; cambió después (cancelada)") && reason.contains("Signed; changed later (cancelled)"), "\(reason)")

            // any other change (more tablets): no longer verifies, bilingual
            let more = cancelled.setting("dispenseRequest", cancelled["dispenseRequest"]!.setting("quantity", .object([("value", .number("600")), ("unit", .string("tabletas"))])))
            #expect(try await c.send(.put, "/fhir/MedicationRequest/\(id)", json: more.compactString).status == 200)
            let tampered = try await signature(p.code)
            #expect(part(tampered, "status")?["valueCode"]?.stringValue == "failed", "\(String(describing: tampered))")
            let why = part(tampered, "reason")?["valueString"]?.stringValue ?? ""
            #expect(why.contains("no solo su estado") && why.contains("not only its status") && why.contains("no se verifica"), "\(why)")

            // a Provenance stored before targets were versioned: verified against the current version, as before
            let q = try await prepared("Losartán 50 mg")
            let jws = try DetachedJWS.sign(q.payload, key: key, keyID: kid)
            let url = "urn:uuid:" + UUID().uuidString.lowercased()
            let legacy = JSON.object([
                ("resourceType", .string("Provenance")),
                ("target", .array([.object([("reference", .string(url))]), .object([("reference", .string("Patient/ana"))])])),
                ("recorded", .string("2026-11-25T10:00:00Z")), ("policy", .array([.string("urn:enlace:policy:prescriber-signature")])),
                ("agent", .array([.object([("who", .object([("reference", .string("Practitioner/dra"))]))])])),
                ("signature", .array([.object([
                    ("type", .array([.object([("system", .string("urn:iso-astm:E1762-95:2013")), ("code", .string("1.2.840.10065.1.12.1.1"))])])),
                    ("when", .string("2026-11-25T10:00:00Z")), ("who", .object([("reference", .string("Practitioner/dra"))])),
                    ("sigFormat", .string("application/jose")), ("data", .string(Data(jws.utf8).base64EncodedString())),
                ])])),
            ])
            let bundle = JSON.object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array([
                .object([("fullUrl", .string(url)), ("resource", q.resource), ("request", .object([("method", .string("POST")), ("url", .string("MedicationRequest"))]))]),
                .object([("resource", legacy), ("request", .object([("method", .string("POST")), ("url", .string("Provenance"))]))]),
            ]))])
            let stored = try await c.send(.post, "/fhir", json: bundle.compactString)
            #expect(stored.status == 200, "\(stored.text)")
            #expect(part(try await signature(q.code), "status")?["valueCode"]?.stringValue == "verified")
        }
    }
}

extension CarePrescriptionSignatureTests {
    static func revoke(_ kid: String, reason: String?) -> String {
        var parameters: [JSON] = [.object([("name", .string("kid")), ("valueString", .string(kid))])]
        if let reason { parameters.append(.object([("name", .string("reason")), ("valueString", .string(reason))])) }
        return JSON.object([("resourceType", .string("Parameters")), ("parameter", .array(parameters))]).compactString
    }

    /// docs/prescribing.md, "Revoking a key": a revoked key signs nothing from its revocation on,
    /// what it signed before still verifies at the counter, the key cannot come back, and only its
    /// owner revokes it (with a reason).
    @Test(arguments: ServerBackend.allCases)
    func aRevokedKeySignsNothingMoreAndWhatItSignedStillVerifies(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try T.tokens(server)
        let key = P256.Signing.PrivateKey(), newKey = P256.Signing.PrivateKey()
        let kid = SigningJWK.jwk(key.publicKey)["kid"]!.stringValue!, newKid = SigningJWK.jwk(newKey.publicKey)["kid"]!.stringValue!
        try await server.run { c in
            for (path, json) in T.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            #expect(try await send(c, .post, "/fhir/Practitioner/$register-signing-key", Self.register(key), token: t.dra).status == 200)
            func prescribe(_ medicine: String, with signingKey: P256.Signing.PrivateKey, kid: String) async throws -> (Client.Reply, String) {
                let prep = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", try Self.prepare(T.prescription(medicine, quantity: 30, refills: 0)), token: t.dra)
                let prepared = value(prep.json, "resource")?["resource"] ?? .null
                let payload = [UInt8](Data(base64Encoded: value(prep.json, "payload")?["valueBase64Binary"]?.stringValue ?? "") ?? Data())
                let code = (prepared["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == "https://enlace.mx/fhir/sid/receta" }?["value"]?.stringValue ?? ""
                let jws = try DetachedJWS.sign(payload, key: signingKey, keyID: kid)
                let reply = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                           Self.signed(value(prep.json, "preparation")?["valueString"]?.stringValue ?? "", jws), token: t.dra)
                return (reply, code)
            }
            func status(_ code: String) async throws -> String? {
                let found = try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code)", token: t.valle)
                return part(value(found.json, "signature"), "status")?["valueCode"]?.stringValue
            }
            let (first, firstCode) = try await prescribe("Metformina 850 mg", with: key, kid: kid)
            #expect(first.status == 201, "\(first.text)")
            #expect(try await status(firstCode) == "verified")

            // only the owner revokes, with a reason, a key that is theirs
            #expect(try await send(c, .post, "/fhir/Practitioner/$revoke-signing-key", Self.revoke(kid, reason: "perdí el teléfono"), token: t.roma).status == 403)
            let drb = try server.services.authority.issueClaims(subject: "user:drb", scope: "user/*.cruds", ttl: 86400 * 60, now: server.clock.now(), role: .practitioner,
                                                                fhirUser: "Practitioner/drb", organization: "Organization/umf").token
            #expect(try await send(c, .post, "/fhir/Practitioner/$revoke-signing-key", Self.revoke(kid, reason: "x"), token: drb).status == 404)
            let noReason = try await send(c, .post, "/fhir/Practitioner/$revoke-signing-key", Self.revoke(kid, reason: nil), token: t.dra)
            #expect(noReason.status == 422 && noReason.text.contains("motivo"), "\(noReason.text)")
            #expect(try await send(c, .post, "/fhir/Practitioner/$revoke-signing-key", "{\"resourceType\":\"Parameters\"}", token: t.dra).status == 400)

            server.clock.advance(seconds: 60)
            let revoked = try await send(c, .post, "/fhir/Practitioner/$revoke-signing-key", Self.revoke(kid, reason: "perdí el teléfono / lost my phone"), token: t.dra)
            #expect(revoked.status == 200, "\(revoked.text)")
            let at = value(revoked.json, "revoked")?["valueInstant"]?.stringValue
            #expect(at != nil && value(revoked.json, "reason")?["valueString"]?.stringValue == "perdí el teléfono / lost my phone")
            // again: the first revocation stands
            server.clock.advance(seconds: 60)
            let again = try await send(c, .post, "/fhir/Practitioner/$revoke-signing-key", Self.revoke(kid, reason: "otra vez"), token: t.dra)
            #expect(value(again.json, "revoked")?["valueInstant"]?.stringValue == at)

            // the revoked key signs nothing more; nothing is stored
            let (late, lateCode) = try await prescribe("Losartán 50 mg", with: key, kid: kid)
            #expect(late.status == 422 && late.text.contains("revocada") && late.text.contains("revoked"), "\(late.text)")
            #expect(try await send(c, .get, "/fhir/MedicationRequest?identifier=https://enlace.mx/fhir/sid/receta|\(lateCode)", token: t.dra).json["entry"] == nil)
            // what it signed before its revocation still verifies
            #expect(try await status(firstCode) == "verified")
            // it cannot be registered again; a new key signs
            let back = try await send(c, .post, "/fhir/Practitioner/$register-signing-key", Self.register(key), token: t.dra)
            #expect(back.status == 422 && back.text.contains("revocó"), "\(back.text)")
            #expect(try await send(c, .post, "/fhir/Practitioner/$register-signing-key", Self.register(newKey), token: t.dra).status == 200)
            let (fresh, freshCode) = try await prescribe("Losartán 50 mg", with: newKey, kid: newKid)
            #expect(fresh.status == 201, "\(fresh.text)")
            #expect(try await status(freshCode) == "verified")
            let practitioner = try await c.send(.get, "/fhir/Practitioner/dra").json
            #expect(Door.signingKeyRevocations(of: practitioner).keys.sorted() == [kid])
        }
    }
}
