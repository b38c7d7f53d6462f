import Care
import Crypto
import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
import Trust

/// The author's signature, shared by the prescription and the consultation (`AuthorSignature`,
/// docs/care.md#the-consultation): the shared piece on its own, then the consultation through
/// the real app doing what `/static/firma.js` does in the browser (register the key, prepare,
/// sign with a Swift key instead of WebCrypto, send `firma` and `preparacion`), its correction,
/// each wrong input refused, the timeline verifying again and a changed resource failing.
@Suite struct ConsultationSignatureTests {
    typealias P = CareOrdersPortalTests

    static let now = Timestamp(microseconds: 1_796_000_000_000_000)

    /// The status of the `FHIRError` `f` throws (nil when it does not throw).
    static func status(_ f: () throws -> Void) -> Int? {
        do { try f() } catch let e as FHIRError { return e.status } catch { return -1 }
        return nil
    }

    static func words(_ f: () throws -> Void) -> String {
        do { try f() } catch let e as FHIRError { return e.issues.map { $0.spanish + " / " + $0.english }.joined() } catch {}
        return ""
    }

    @Test(arguments: [PrescriptionSignature.shared, ConsultationSignature.shared].map(\.resourceType))
    func theSharedPieceSealsChecksAndRefusesEachWrongInput(_ type: String) throws {
        let profile = type == "Bundle" ? ConsultationSignature.shared : PrescriptionSignature.shared
        let other = type == "Bundle" ? PrescriptionSignature.shared : ConsultationSignature.shared
        let server = SigningKey(privateKey: P256.Signing.PrivateKey())
        let seal = profile.seal(server)
        let content: JSON = .object([("resourceType", .string(type)), ("id", .string("x")), ("meta", .object([("versionId", .string("1"))])),
                                     ("type", .string("collection")), ("note", .string("ñandú 1.50")), ("amount", .number("1.50"))])
        // the payload: canonical JSON #static (no text, no meta), and the prescription's id left out
        #expect(profile.payload(content) == CanonicalJSON.bytes(content, method: .static, alsoOmitting: profile.alsoOmitted))
        #expect(String(decoding: profile.payload(content), as: UTF8.self).contains("\"amount\":1.50"))
        let p = profile.preparation(content, who: "Practitioner/dra", seal: seal, now: Self.now, extra: [("reason", .string("r"))])
        #expect(try profile.open(p.sealed, who: "Practitioner/dra", seal: seal, now: Self.now) == content)
        #expect(try profile.statement(p.sealed, who: "Practitioner/dra", seal: seal, now: Self.now)["reason"]?.stringValue == "r")
        // not this server's, changed, for another purpose, another practitioner, expired: 422
        #expect(Self.status { _ = try profile.open(p.sealed + "x", who: "Practitioner/dra", seal: seal, now: Self.now) } == 422)
        #expect(Self.status { _ = try profile.open(p.sealed, who: "Practitioner/dra", seal: profile.seal(SigningKey(privateKey: P256.Signing.PrivateKey())), now: Self.now) } == 422)
        let foreign = other.preparation(content.setting("resourceType", .string(other.resourceType)), who: "Practitioner/dra", seal: other.seal(server), now: Self.now)
        #expect(Self.status { _ = try profile.open(foreign.sealed, who: "Practitioner/dra", seal: seal, now: Self.now) } == 422, "another purpose's preparation")
        #expect(Self.words { _ = try profile.open(p.sealed, who: "Practitioner/drb", seal: seal, now: Self.now) }.contains("otro \(profile.signer.spanish)"))
        let late = Timestamp(microseconds: Self.now.microseconds + (AuthorSignature.preparationMinutes * 60 + 1) * 1_000_000)
        #expect(Self.words { _ = try profile.open(p.sealed, who: "Practitioner/dra", seal: seal, now: late) }.contains("venció"))

        // the JWS: verifies with the registered key; other bytes, another key, no key, a revoked key: 422
        let key = P256.Signing.PrivateKey()
        let jwk = SigningJWK.jwk(key.publicKey)
        let kid = jwk["kid"]?.stringValue ?? ""
        let jws = try DetachedJWS.sign(p.payload, key: key, keyID: kid)
        try profile.check(jws, content: content, keys: [jwk], signedAt: Self.now)
        let changed = content.setting("note", .string("ñandú 1.5"))
        #expect(Self.words { try profile.check(jws, content: changed, keys: [jwk]) }.contains("no se verifica sobre el JSON canónico de esta \(profile.noun.spanish)"))
        #expect(Self.status { try profile.check(try DetachedJWS.sign(p.payload, key: P256.Signing.PrivateKey(), keyID: kid), content: content, keys: [jwk]) } == 422)
        let stranger = SigningJWK.jwk(P256.Signing.PrivateKey().publicKey)
        #expect(Self.words { try profile.check(jws, content: content, keys: [stranger]) }.contains("'kid'"))
        #expect(Self.words { try profile.check(jws, content: content, keys: []) }.contains("no tiene una llave de firma registrada"))
        #expect(Self.status { try profile.check("garbage", content: content, keys: [jwk]) } == 422)
        let revocation = JSON.object([("kid", .string(kid)), ("revoked", .string(Self.now.description)), ("reason", .string("perdí el teléfono"))])
        let revoked = Door.signingKeyRevocations(of: .object([("extension", .array([.object([
            ("url", .string(Door.signingKeyRevocationExtension)), ("valueString", .string(revocation.compactString)),
        ])]))]))
        #expect(revoked[kid] != nil)
        #expect(Self.words { try profile.check(jws, content: content, keys: [jwk], revoked: revoked, signedAt: Self.now) }.contains("revocada"))
        try profile.check(jws, content: content, keys: [jwk], revoked: revoked, signedAt: Timestamp(microseconds: Self.now.microseconds - 1))
        // the Signature datatype carries the JWS as data
        let signature = AuthorSignature.signature(jws: jws, who: "Practitioner/dra", when: Self.now)
        #expect(signature["sigFormat"]?.stringValue == "application/jose" && AuthorSignature.jws(of: signature) == jws)
        #expect(signature["type"]?.arrayValue?.first?["code"]?.stringValue == AuthorSignature.typeCode)
    }

    static let visit: [(String, String)] = [
        ("motivo", "Control de diabetes"), ("modalidad", "AMB"), ("subjetivo", "Refiere sed"), ("plan", "Ajustar metformina"),
        ("peso", "72,5"), ("sistolica", "130"), ("diastolica", "85"), ("diagnostico1", "E11.9"),
    ]

    @Test(arguments: ServerBackend.allCases)
    func aConsultationIsSignedVerifiedAgainAndAChangedOneFails(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        defer { cleanup() }
        try await P.users(server)
        _ = try await server.services.identity.addUser(username: "ana", role: .patient, password: "contraseña-larga-9", patient: "Patient/ana")
        let key = P256.Signing.PrivateKey()
        try await server.run { c in
            let beto = [
                ("Patient/beto", #"{"resourceType":"Patient","id":"beto","name":[{"family":"Ruiz","given":["Beto"]}]}"#),
                ("Encounter/e-beto", #"{"resourceType":"Encounter","id":"e-beto","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/beto"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
            ]
            for (path, json) in P.seed + beto { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            var passwords = P.passwords
            passwords["ana"] = "contraseña-larga-9"
            let browser = PortalBrowser(client: c.client, passwords: passwords)
            let dra = try await browser.signIn("dra")
            let (s0, page) = try await browser.get("/pacientes/ana/consulta", cookie: dra)
            #expect(s0 == .ok && page.contains("data-prescriber=\"Practitioner/dra\"") && page.contains("<script src=\"/static/firma.js\" defer></script>"))
            #expect(page.contains("name=\"firma\"") && page.contains("name=\"preparacion\"") && page.contains("name=\"paso\" value=\"firmar\""))
            let csrf = try PortalBrowser.csrf(page)
            let (sj, script) = try await browser.get("/static/firma.js", cookie: dra)
            #expect(sj == .ok && script.contains("form[data-prescriber]") && script.contains("paso = \"preparar\""))
            func notes() async throws -> Int { try await P.entries(c, "Composition?patient=Patient/ana&_count=100").count }

            // the browser registers its key: from now on her consultations need a signature
            var jwk = SigningJWK.jwk(key.publicKey)
            let kid = jwk["kid"]?.stringValue ?? ""
            jwk = .object((jwk.objectValue ?? []).filter { ["crv", "kty", "x", "y"].contains($0.0) })
            let (s1, _, _) = try await browser.post("/firma/llave", cookie: dra, P.form([("csrf", csrf), ("jwk", jwk.compactString)]))
            #expect(s1 == .ok)
            let (s2, _, unsigned) = try await browser.post("/pacientes/ana/consulta", cookie: dra, P.form([("csrf", csrf), ("paso", "firmar")] + Self.visit))
            #expect(s2 == .unprocessableContent && unsigned.contains("Sus consultas llevan firma digital"), "\(unsigned)")
            #expect(try await notes() == 0)

            func prepare(_ path: String, _ fields: [(String, String)]) async throws -> (payload: [UInt8], preparation: String) {
                let (s, _, text) = try await browser.post(path, cookie: dra, P.form([("csrf", csrf), ("paso", "preparar")] + fields))
                #expect(s == .ok, "\(text)")
                let json = try JSONParser.parse(text)
                return (json["payload"]?.stringValue.flatMap { Base64URL.decode(Substring($0)) } ?? [], json["preparacion"]?.stringValue ?? "")
            }
            func send(_ path: String, _ fields: [(String, String)], jws: String, preparation: String) async throws -> (HTTPResponse.Status, String?, String) {
                try await browser.post(path, cookie: dra, P.form([("csrf", csrf), ("paso", "firmar"), ("firma", jws), ("preparacion", preparation)] + fields))
            }
            let visit = "/pacientes/ana/consulta"
            let (payload, preparation) = try await prepare(visit, Self.visit)
            // what is signed: the canonical JSON of the visit's resources, with the note
            let content = try JSONParser.parse(payload)
            #expect(CanonicalJSON.bytes(content, method: .static) == payload)
            #expect(ConsultationSignature.entries(content).map { $0.resource["resourceType"]?.stringValue ?? "" } == ["Encounter", "Condition", "Observation", "Observation", "Composition"])

            // wrong bytes, a forged preparation, a prescription's preparation: 422, nothing stored
            let (s3, _, wrong) = try await send(visit, Self.visit, jws: try DetachedJWS.sign(payload + [0x20], key: key, keyID: kid), preparation: preparation)
            #expect(s3 == .unprocessableContent && wrong.contains("la firma no se verifica sobre el JSON canónico de esta consulta"), "\(wrong)")
            let jws = try DetachedJWS.sign(payload, key: key, keyID: kid)
            let (s4, _, forged) = try await send(visit, Self.visit, jws: jws, preparation: preparation + "x")
            #expect(s4 == .unprocessableContent && forged.contains("la preparación no la emitió este servidor"), "\(forged)")
            let rx = PrescriptionSignature.preparation(.object([("resourceType", .string("MedicationRequest"))]), who: "Practitioner/dra",
                                                       seal: PrescriptionSignature.seal(server.services.key), now: server.clock.now())
            let (s5, _, _) = try await send(visit, Self.visit, jws: try DetachedJWS.sign(rx.payload, key: key, keyID: kid), preparation: rx.sealed)
            #expect(s5 == .unprocessableContent)
            // Ana's signed preparation sent for another patient of hers
            let (s5b, _, otherPatient) = try await send("/pacientes/beto/consulta", Self.visit, jws: jws, preparation: preparation)
            #expect(s5b == .unprocessableContent && otherPatient.contains("la preparación es de otro paciente"), "\(otherPatient)")
            #expect(try await notes() == 0)
            #expect(try await P.entries(c, "Composition?patient=Patient/beto").isEmpty)

            // signed: stored, its Provenance's signature carries the JWS
            let (s6, l6, _) = try await send(visit, Self.visit, jws: jws, preparation: preparation)
            #expect(s6 == .seeOther && l6 == "/pacientes/ana?consulta=registrada")
            let note = try #require(try await P.entries(c, "Composition?patient=Patient/ana").first)
            let nid = note["id"]?.stringValue ?? ""
            let provenance = try #require(try await P.entries(c, "Provenance?target=Composition/\(nid)").first {
                ($0["policy"]?.arrayValue ?? []).contains(.string(ConsultationSignature.policy))
            })
            let signature = try #require(provenance["signature"]?.arrayValue?.first)
            #expect(AuthorSignature.jws(of: signature) == jws && signature["sigFormat"]?.stringValue == "application/jose")
            #expect(signature["who"]?["reference"]?.stringValue == "Practitioner/dra" && signature["when"] != nil)
            #expect(signature["type"]?.arrayValue?.first?["code"]?.stringValue == "1.2.840.10065.1.12.1.1")
            // the same signed form again: 409, nothing more
            let (s7, _, again) = try await send(visit, Self.visit, jws: jws, preparation: preparation)
            #expect(s7 == .conflict && again.contains("ya se firmó"), "\(again)")
            #expect(try await notes() == 1)
            // the same signed Provenance written again by any path (as two racing submissions past
            // the early check would): refused in the write's transaction (SignedVisitOnce)
            let copy = provenance.setting("id", nil).setting("meta", nil)
            let dup = try await c.send(.post, "/fhir/Provenance", json: copy.compactString)
            #expect(dup.status == 409 && dup.issueCodes == ["duplicate"] && dup.text.contains("ya se firmó"), "\(dup.text)")
            let signedOnes = try await P.entries(c, "Provenance?target=Composition/\(nid)").filter { !SignedVisitOnce.signedIdentifiers($0).isEmpty }
            #expect(signedOnes.count == 1)
            // verified again where it is shown: the clinician's timeline and the patient's
            let (_, record) = try await browser.get("/pacientes/ana", cookie: dra)
            #expect(record.contains("<span class=\"sig-ok\">Firma verificada</span> · Practitioner/dra"), "\(record)")
            let ana = try await browser.signIn("ana")
            let (_, mine) = try await browser.get("/expediente", cookie: ana)
            #expect(mine.contains("Firma verificada") && !mine.contains("NO se verifica"), "\(mine)")

            // a correction is signed the same way; a replay is a conflict
            let fix: [(String, String)] = [("version", "1"), ("subjetivo", "Refiere sed"), ("plan", "Metformina 850 mg cada 12 h"), ("razon", "Dosis omitida")]
            let correct = "/pacientes/ana/consulta/\(nid)/corregir"
            let (s8, edit) = try await browser.get(correct, cookie: dra)
            #expect(s8 == .ok && edit.contains("data-prescriber=\"Practitioner/dra\"") && edit.contains("/static/firma.js"))
            #expect(edit.contains("id=\"firma-nota\"><span class=\"label\">Firma:</span> <span class=\"sig-ok\">Firma verificada</span>"), "\(edit)")
            let (s9, _, unsignedFix) = try await browser.post(correct, cookie: dra, P.form([("csrf", csrf), ("paso", "firmar")] + fix))
            #expect(s9 == .unprocessableContent && unsignedFix.contains("Sus consultas llevan firma digital"), "\(unsignedFix)")
            let (fixPayload, fixPreparation) = try await prepare(correct, fix)
            let (s10, _, badFix) = try await send(correct, fix, jws: try DetachedJWS.sign(fixPayload + [0x20], key: key, keyID: kid), preparation: fixPreparation)
            #expect(s10 == .unprocessableContent && badFix.contains("no se verifica"), "\(badFix)")
            let fixJWS = try DetachedJWS.sign(fixPayload, key: key, keyID: kid)
            let (s11, l11, _) = try await send(correct, fix, jws: fixJWS, preparation: fixPreparation)
            #expect(s11 == .seeOther && l11 == "/pacientes/ana?nota=corregida")
            let (s12, _, replay) = try await send(correct, fix, jws: fixJWS, preparation: fixPreparation)
            #expect(s12 == .conflict && replay.contains("ya se guardó o la nota cambió"), "\(replay)")
            let update = try #require(try await P.entries(c, "Provenance?target=Composition/\(nid)&_count=50").first {
                $0["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "UPDATE" && ($0["policy"]?.arrayValue ?? []).contains(.string(ConsultationSignature.policy))
            })
            #expect(update["signature"]?.arrayValue?.first.flatMap(AuthorSignature.jws(of:)) == fixJWS)
            let (_, corrected) = try await browser.get("/pacientes/ana", cookie: dra)
            #expect(corrected.contains("Firma verificada") && !corrected.contains("NO se verifica"), "\(corrected)")

            // a second visit, then one of its resources changed behind the author's back: it no longer verifies
            let (payload2, preparation2) = try await prepare(visit, Self.visit)
            let (s13, _, _) = try await send(visit, Self.visit, jws: try DetachedJWS.sign(payload2, key: key, keyID: kid), preparation: preparation2)
            #expect(s13 == .seeOther)
            let second = try #require(try await P.entries(c, "Composition?patient=Patient/ana&_count=10").first { $0["id"]?.stringValue != nid })
            let encounter = second["encounter"]?["reference"]?.stringValue ?? ""
            let weight = try #require(try await P.entries(c, "Observation?encounter=\(encounter)&code=http://loinc.org|29463-7").first)
            let heavier = weight.setting("valueQuantity", .object([("value", .number("95")), ("unit", .string("kg"))])).setting("meta", nil)
            #expect(try await c.send(.put, "/fhir/Observation/\(weight["id"]?.stringValue ?? "")", json: heavier.compactString).status == 200)
            let (_, tampered) = try await browser.get("/pacientes/ana", cookie: dra)
            #expect(tampered.contains("La firma NO se verifica") && tampered.contains("se cambió después de firmarse"), "\(tampered)")
            #expect(tampered.contains("Firma verificada"), "the corrected note still verifies")
            // the corrected note: its correction signs only the Composition, but the visit's first signature is checked too
            let firstWeight = try #require(try await P.entries(c, "Observation?encounter=\(note["encounter"]?["reference"]?.stringValue ?? "")&code=http://loinc.org|29463-7").first)
            let lighter = firstWeight.setting("valueQuantity", .object([("value", .number("50")), ("unit", .string("kg"))])).setting("meta", nil)
            #expect(try await c.send(.put, "/fhir/Observation/\(firstWeight["id"]?.stringValue ?? "")", json: lighter.compactString).status == 200)
            let (_, both) = try await browser.get("/pacientes/ana", cookie: dra)
            #expect(both.components(separatedBy: "La firma NO se verifica").count == 3 && !both.contains("Firma verificada"), "\(both)")

            // two identical signed submissions at once: one is stored, the other is a 409
            let racing = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                let (racePayload, racePreparation) = try await prepare(visit, Self.visit)
                let raceJWS = try DetachedJWS.sign(racePayload, key: key, keyID: kid)
                for _ in 0..<4 { group.addTask { try await send(visit, Self.visit, jws: raceJWS, preparation: racePreparation).0 } }
                var out: [HTTPResponse.Status] = []
                for try await status in group { out.append(status) }
                return out
            }
            #expect(racing.filter { $0 == .seeOther }.count == 1 && racing.filter { $0 == .conflict }.count == 3, "\(racing)")
            #expect(try await notes() == 3)

            // a revoked key signs nothing more
            server.clock.advance(seconds: 60)
            let (sr, _, _) = try await browser.post("/firma/llaves/revocar", cookie: dra, P.form([("csrf", csrf), ("kid", kid), ("motivo", "perdí el teléfono")]))
            #expect(sr == .ok)
            let (payload3, preparation3) = try await prepare(visit, Self.visit)
            let (s14, _, revoked) = try await send(visit, Self.visit, jws: try DetachedJWS.sign(payload3, key: key, keyID: kid), preparation: preparation3)
            #expect(s14 == .unprocessableContent && revoked.contains("firmada con una llave revocada"), "\(revoked)")
            #expect(try await notes() == 3)
        }
    }
}
