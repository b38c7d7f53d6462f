import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server
@_spi(Unguarded) import Storage
import Trust

/// The consultation through the portal (docs/care.md#the-consultation), on both backends: a
/// refused form stores nothing and says why beside each field; a recorded visit is one
/// transaction (Encounter, Conditions, vital signs, the note, the author's Provenance) shown on
/// the timeline of the clinician and of the patient; a correction is a new version with its
/// reason; a clinician without a treating relationship is refused by the guard.
@Suite struct CareConsultationTests {
    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static let visit: [(String, String)] = [
        ("motivo", "Control de diabetes"), ("modalidad", "VR"),
        ("subjetivo", "Refiere sed y poliuria"), ("objetivo", "Sin edema"), ("analisis", "DM2 descontrolada"), ("plan", "Ajustar metformina"),
        ("peso", "72,5"), ("talla", "160"), ("sistolica", "130"), ("diastolica", "85"), ("frecuencia", "78"), ("temperatura", "36.6"), ("glucosa", "182"),
        ("diagnostico1", "E11.9"), ("diagnostico2", "I10"),
    ]

    @Test(arguments: ServerBackend.allCases)
    func aClinicianRecordsAVisitAndCorrectsItsNote(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        defer { cleanup() }
        let identity = server.services.identity
        _ = try await identity.addUser(username: "ana", role: .patient, password: "contraseña-larga-1", patient: "Patient/ana")
        _ = try await identity.addUser(username: "dra", role: .practitioner, password: "contraseña-larga-2", fhirUser: "Practitioner/dra",
                                       organization: "Organization/umf")
        _ = try await identity.addUser(username: "drz", role: .practitioner, password: "contraseña-larga-3", fhirUser: "Practitioner/drz",
                                       organization: "Organization/otra")
        try await server.run { c in
            let seed = [
                ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
                ("Practitioner/dra", #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Hernández","given":["Rosa"]}]}"#),
                ("Encounter/e-ana", #"{"resourceType":"Encounter","id":"e-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
            ]
            for (path, json) in seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            func entries(_ query: String) async throws -> [JSON] {
                let r = try await c.send(.get, "/fhir/" + query)
                #expect(r.status == 200, "\(r.text)")
                return (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
            }
            func counts() async throws -> [Int] {
                var out: [Int] = []
                for t in ["Encounter", "Condition", "Observation", "Composition"] { out.append(try await entries("\(t)?patient=Patient/ana&_count=100").count) }
                return out
            }
            let browser = PortalBrowser(client: c.client, passwords: ["ana": "contraseña-larga-1", "dra": "contraseña-larga-2", "drz": "contraseña-larga-3"])
            let dra = try await browser.signIn("dra")
            let (s0, record) = try await browser.get("/pacientes/ana", cookie: dra)
            #expect(s0 == .ok && record.contains("href=\"/pacientes/ana/consulta\""), "\(record)")
            let (s1, page) = try await browser.get("/pacientes/ana/consulta", cookie: dra)
            #expect(s1 == .ok && page.contains("id=\"consulta\"") && page.contains("name=\"diagnostico1\"") && page.contains("data-cie10"), "\(page)")
            let csrf = try PortalBrowser.csrf(page)

            // bad input: the form again with precise errors, nothing stored
            let before = try await counts()
            var bad = Self.visit.filter { $0.0 != "motivo" && $0.0 != "sistolica" && $0.0 != "diagnostico2" }
            bad += [("motivo", ""), ("sistolica", "400"), ("diagnostico2", "X99.99")]
            let (s2, _, refused) = try await browser.post("/pacientes/ana/consulta", cookie: dra, Self.form([("csrf", csrf)] + bad))
            #expect(s2 == .unprocessableContent, "\(refused)")
            #expect(refused.contains("No se guardó nada") && refused.contains("el motivo de la consulta es obligatorio"))
            #expect(refused.contains("Presión sistólica 400 mmHg es imposible: debe estar entre 40 y 300 mmHg"))
            #expect(refused.contains("X99.99 no es un código del catálogo CIE-10"))
            #expect(refused.contains("id=\"sistolica\" name=\"sistolica\" maxlength=\"12\" autocomplete=\"off\" value=\"400\" aria-describedby"))
            #expect(refused.contains("Refiere sed y poliuria"), "the typed note is kept")
            #expect(try await counts() == before)

            // the visit: one transaction
            let (s3, location, _) = try await browser.post("/pacientes/ana/consulta", cookie: dra, Self.form([("csrf", csrf)] + Self.visit))
            #expect(s3 == .seeOther && location == "/pacientes/ana?consulta=registrada")
            #expect(try await counts() == [before[0] + 1, before[1] + 2, before[2] + 6, before[3] + 1])
            let encounter = try #require(try await entries("Encounter?patient=Patient/ana&status=finished&class=VR").first)
            let eid = encounter["id"]?.stringValue ?? ""
            #expect(encounter["participant"]?.arrayValue?.first?["individual"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(encounter["reasonCode"]?.arrayValue?.first?["text"]?.stringValue == "Control de diabetes")
            #expect(encounter["diagnosis"]?.arrayValue?.count == 2)
            let conditions = try await entries("Condition?encounter=Encounter/\(eid)")
            #expect(Set(conditions.compactMap { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue }) == ["E11.9", "I10"])
            #expect(conditions.allSatisfy { $0["code"]?["coding"]?.arrayValue?.first?["system"]?.stringValue == "http://hl7.org/fhir/sid/icd-10" })
            let vitals = try await entries("Observation?encounter=Encounter/\(eid)&category=vital-signs")
            #expect(vitals.count == 6)
            let bp = try #require(try await entries("Observation?encounter=Encounter/\(eid)&code=http://loinc.org|85354-9").first)
            #expect(bp["component"]?.arrayValue?.count == 2)
            let note = try #require(try await entries("Composition?encounter=Encounter/\(eid)").first)
            let nid = note["id"]?.stringValue ?? ""
            #expect(note["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "34108-1" && note["status"]?.stringValue == "final")
            let signed = try await entries("Provenance?target=Composition/\(nid)&agent=Practitioner/dra")
            let provenance = try #require(signed.first { $0["signature"] != nil })
            let targets = Set((provenance["target"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue })
            #expect(targets.contains("Encounter/\(eid)/_history/1") && targets.contains("Composition/\(nid)/_history/1") && targets.count == 11, "\(targets)")

            // the timeline: the clinician's (with Corregir nota) and the patient's
            let (_, after) = try await browser.get("/pacientes/ana?consulta=registrada", cookie: dra)
            #expect(after.contains("Consulta registrada y firmada") && after.contains("Nota de consulta: Control de diabetes"))
            #expect(after.contains("/pacientes/ana/consulta/\(nid)/corregir") && after.contains("Subjetivo: Refiere sed y poliuria"))
            #expect(after.contains("Diabetes mellitus"), "the diagnosis on the timeline")
            let ana = try await browser.signIn("ana")
            let (_, mine) = try await browser.get("/expediente", cookie: ana)
            #expect(mine.contains("Nota de consulta: Control de diabetes") && !mine.contains("/corregir"))

            // a correction: refused without a reason, then a new version with its reason
            let (s4, edit) = try await browser.get("/pacientes/ana/consulta/\(nid)/corregir", cookie: dra)
            #expect(s4 == .ok && edit.contains("Ajustar metformina") && edit.contains("name=\"razon\""), "\(edit)")
            let fix: [(String, String)] = [("csrf", csrf), ("version", "1"), ("subjetivo", "Refiere sed y poliuria"), ("objetivo", "Sin edema"),
                                           ("analisis", "DM2 descontrolada"), ("plan", "Metformina 850 mg cada 12 h")]
            let (s5, _, noReason) = try await browser.post("/pacientes/ana/consulta/\(nid)/corregir", cookie: dra, Self.form(fix + [("razon", " ")]))
            #expect(s5 == .unprocessableContent && noReason.contains("el motivo de la corrección es obligatorio"), "\(noReason)")
            #expect(try await c.send(.get, "/fhir/Composition/\(nid)").json["meta"]?["versionId"]?.stringValue == "1")
            let (s6, l6, _) = try await browser.post("/pacientes/ana/consulta/\(nid)/corregir", cookie: dra, Self.form(fix + [("razon", "Dosis omitida")]))
            #expect(s6 == .seeOther && l6 == "/pacientes/ana?nota=corregida")
            let amended = try await c.send(.get, "/fhir/Composition/\(nid)").json
            #expect(amended["meta"]?["versionId"]?.stringValue == "2" && amended["status"]?.stringValue == "amended")
            let old = try await c.send(.get, "/fhir/Composition/\(nid)/_history/1")
            #expect(old.status == 200 && old.text.contains("Ajustar metformina"), "the old version stays in history")
            let revised = try await entries("Provenance?target=Composition/\(nid)&_count=50")
            #expect(revised.contains { p in
                p["reason"]?.arrayValue?.first?["text"]?.stringValue == "Dosis omitida" && p["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "UPDATE"
                    && p["entity"]?.arrayValue?.first?["what"]?["reference"]?.stringValue == "Composition/\(nid)/_history/1"
            }, "\(revised)")
            // a stale form (version 1 again) is a conflict, not a silent overwrite
            let (s7, _, stale) = try await browser.post("/pacientes/ana/consulta/\(nid)/corregir", cookie: dra, Self.form(fix + [("razon", "Otra vez")]))
            #expect(s7 == .conflict, "\(stale)")

            // a clinician without a treating relationship: refused by the guard, nothing stored
            let drz = try await browser.signIn("drz")
            #expect(try await browser.get("/pacientes/ana/consulta", cookie: drz).0 == .forbidden)
            let (_, list) = try await browser.get("/pacientes", cookie: drz)
            let zcsrf = try PortalBrowser.csrf(list)
            let settled = try await counts()
            let (s8, _, _) = try await browser.post("/pacientes/ana/consulta", cookie: drz, Self.form([("csrf", zcsrf)] + Self.visit))
            #expect(s8 == .forbidden)
            #expect(try await browser.get("/pacientes/ana/consulta/\(nid)/corregir", cookie: drz).0 == .forbidden)
            #expect(try await counts() == settled)
            // nor may a patient record a visit
            #expect(try await browser.get("/pacientes/ana/consulta", cookie: ana).0 == .forbidden)

            // the CIE-10 suggestions: the terminology service's expansion, accent-insensitive
            let (s9, suggestions) = try await browser.get("/consulta/cie10?filtro=hipertension", cookie: dra)
            let codes = (try JSONParser.parse(Array(suggestions.utf8))["expansion"]?["contains"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
            #expect(s9 == .ok && codes.contains("I10"), "\(suggestions)")
        }
    }

    /// `enlace serve --require-prescriber-signature` covers consultations too: an unsigned visit
    /// and an unsigned correction (the browser without JavaScript) are refused with the reason,
    /// and nothing is stored, even by a clinician who has not registered a key yet.
    @Test(arguments: ServerBackend.allCases)
    func withSignaturesRequiredAnUnsignedVisitOrCorrectionIsRefused(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
            config.requirePrescriberSignature = true
        }
        defer { cleanup() }
        _ = try await server.services.identity.addUser(username: "dra", role: .practitioner, password: "contraseña-larga-2", fhirUser: "Practitioner/dra",
                                                       organization: "Organization/umf")
        try await server.run { c in
            let seed = [
                ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
                ("Encounter/e-ana", #"{"resourceType":"Encounter","id":"e-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
                ("Composition/nota", #"{"resourceType":"Composition","id":"nota","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"34108-1"}]},"subject":{"reference":"Patient/ana"},"date":"2026-12-01T10:00:00Z","author":[{"reference":"Practitioner/dra"}],"title":"Nota de consulta","section":[{"title":"Plan","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Dieta</div>"}}]}"#),
            ]
            for (path, json) in seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            func total(_ type: String) async throws -> Int {
                ConsentTests.total(try await c.send(.get, "/fhir/\(type)?_summary=count"))
            }
            let browser = PortalBrowser(client: c.client, passwords: ["dra": "contraseña-larga-2"])
            let dra = try await browser.signIn("dra")
            let (_, page) = try await browser.get("/pacientes/ana/consulta", cookie: dra)
            let csrf = try PortalBrowser.csrf(page)
            let before = [try await total("Encounter"), try await total("Composition"), try await total("Provenance")]

            let (s1, _, visit) = try await browser.post("/pacientes/ana/consulta", cookie: dra, Self.form([("csrf", csrf), ("paso", "firmar")] + Self.visit))
            #expect(s1 == .unprocessableContent, "\(visit.prefix(400))")
            #expect(visit.contains(PortalStrings.noteSignatureRequired.spanish), "\(visit)")
            let fix: [(String, String)] = [("csrf", csrf), ("version", "1"), ("paso", "firmar"), ("plan", "Dieta y ejercicio"), ("razon", "Faltaba el ejercicio")]
            let (s2, _, correction) = try await browser.post("/pacientes/ana/consulta/nota/corregir", cookie: dra, Self.form(fix))
            #expect(s2 == .unprocessableContent, "\(correction.prefix(400))")
            #expect(correction.contains(PortalStrings.noteSignatureRequired.spanish), "\(correction)")
            #expect(try await c.send(.get, "/fhir/Composition/nota").json["meta"]?["versionId"]?.stringValue == "1")
            #expect([try await total("Encounter"), try await total("Composition"), try await total("Provenance")] == before)
        }
    }
}
