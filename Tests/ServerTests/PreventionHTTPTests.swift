import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
@_spi(Unguarded) import Trust

/// Prevention over HTTP (docs/prevention.md): `$care-gaps` through the asker's guard, the
/// consumers that write ImmunizationRecommendation and the FINDRISC RiskAssessment with their
/// Provenance, and the right not to know. The clock is 2026-11-24.
@Suite("Prevention: care gaps, recommendations and risk as recorded decisions")
struct PreventionHTTPTests {
    static let seed: [(String, String)] = [
        ("Organization/umf", #"{"resourceType":"Organization","id":"umf","name":"IMSS UMF 10"}"#),
        ("Practitioner/dra", #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#),
        ("Patient/nina", #"{"resourceType":"Patient","id":"nina","gender":"female","birthDate":"2026-01-10","name":[{"family":"López","given":["Sofía"]}]}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","gender":"female","birthDate":"1970-03-01","name":[{"family":"Pérez","given":["Ana"]}]}"#),
        ("Patient/luis", #"{"resourceType":"Patient","id":"luis","gender":"male","birthDate":"2026-02-01","name":[{"family":"Secreto"}]}"#),
        ("Encounter/enc-nina", #"{"resourceType":"Encounter","id":"enc-nina","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/nina"},"participant":[{"individual":{"reference":"Practitioner/dra"}}],"serviceProvider":{"reference":"Organization/umf"}}"#),
        ("Encounter/enc-ana", #"{"resourceType":"Encounter","id":"enc-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}],"serviceProvider":{"reference":"Organization/umf"}}"#),
        // two hexavalent doses of Sofía at two institutions
        ("Immunization/hexa-1", #"{"resourceType":"Immunization","id":"hexa-1","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/nina"},"occurrenceDateTime":"2026-03-10","performer":[{"actor":{"display":"IMSS UMF 10"}}]}"#),
        ("Immunization/hexa-2", #"{"resourceType":"Immunization","id":"hexa-2","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/nina"},"occurrenceDateTime":"2026-05-10","performer":[{"actor":{"display":"Clínica privada San José"}}]}"#),
        ("Immunization/bcg-luis", #"{"resourceType":"Immunization","id":"bcg-luis","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"19"}]},"patient":{"reference":"Patient/luis"},"occurrenceDateTime":"2026-02-01"}"#),
        // Ana's measurements: BMI 32, waist 95 cm
        ("Observation/bmi-ana", #"{"resourceType":"Observation","id":"bmi-ana","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"39156-5"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-10-01","valueQuantity":{"value":32,"unit":"kg/m2","system":"http://unitsofmeasure.org","code":"kg/m2"}}"#),
        ("Observation/waist-ana", #"{"resourceType":"Observation","id":"waist-ana","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8280-0"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-10-01","valueQuantity":{"value":95,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}"#),
    ]

    static func tokens(_ server: TestServer) throws -> (practitioner: String, ana: String) {
        let a = server.services.authority, now = server.clock.now()
        let practitioner = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner,
                                             fhirUser: "Practitioner/dra", organization: "Organization/umf").token
        let ana = try a.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: 3600, now: now, role: .patient, fhirUser: "Patient/ana", patient: "ana").token
        return (practitioner, ana)
    }

    static func put(_ c: Client, _ seed: [(String, String)]) async throws {
        for (path, body) in seed {
            let r = try await c.send(.put, "/fhir/" + path, json: body)
            #expect(r.status == 201 || r.status == 200, "\(path): \(r.text)")
        }
    }

    static func catchUp(_ services: EnlaceServices) async throws {
        for consumer in services.preventionConsumers() { try await services.door.catchUp(consumer) }
    }

    /// The DetectedIssues of the first `return` Bundle, by item id, with their gap status.
    static func gaps(_ r: Client.Reply) -> [String: String] {
        let bundle = r.json["parameter"]?.arrayValue?.first?["resource"]
        var out: [String: String] = [:]
        for e in bundle?["entry"]?.arrayValue ?? [] {
            let res = e["resource"]
            guard res?["resourceType"]?.stringValue == "DetectedIssue", let id = res?["id"]?.stringValue else { continue }
            out[id] = res?["modifierExtension"]?.arrayValue?.first?["valueCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
        }
        return out
    }

    @Test(arguments: ServerBackend.allCases)
    func careGapsThroughTheGuard(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, _) = try Self.tokens(server)
        let dra = ["Authorization": "Bearer \(practitioner)"]
        try await server.run { c in
            try await Self.put(c, Self.seed)
            // Sofía is 10 months old: hexavalent dose 3 (due at 6 months) is overdue; BCG was never recorded
            let r = try await c.send(.get, "/fhir/Patient/$care-gaps?subject=Patient/nina&status=open-gap&periodStart=2026-01-01&periodEnd=2026-11-24", headers: dra, auth: false)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json["resourceType"]?.stringValue == "Parameters")
            let bundle = r.json["parameter"]?.arrayValue?.first?["resource"]
            #expect(bundle?["type"]?.stringValue == "document")
            #expect(bundle?["entry"]?.arrayValue?.first?["resource"]?["resourceType"]?.stringValue == "Composition")
            var gaps = Self.gaps(r)
            #expect(gaps["hexavalente"] == "open-gap")
            #expect(gaps["bcg"] == "open-gap")
            #expect(gaps.values.allSatisfy { $0 == "open-gap" })
            let hexa = bundle?["entry"]?.arrayValue?.compactMap { $0["resource"] }.first { $0["id"]?.stringValue == "hexavalente" }
            let evidence = hexa?["evidence"]?.arrayValue?.first?["detail"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } ?? []
            #expect(Set(evidence) == ["Immunization/hexa-1", "Immunization/hexa-2"], "doses from both institutions count")
            #expect(hexa?["detail"]?.stringValue?.contains("dosis 3 de 4") == true, "\(hexa?["detail"]?.stringValue ?? "")")

            // the third dose, given at the private clinic, closes the gap
            let w = try await c.send(.post, "/fhir/Immunization", json: #"{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/nina"},"occurrenceDateTime":"2026-11-20","performer":[{"actor":{"display":"Clínica privada San José"}}]}"#, headers: dra)
            #expect(w.status == 201, "\(w.text)")
            gaps = Self.gaps(try await c.send(.get, "/fhir/Patient/nina/$care-gaps?status=open-gap", headers: dra, auth: false))
            #expect(gaps["hexavalente"] == nil)
            #expect(gaps["bcg"] == "open-gap")

            // closed gaps in the period: the BCG-less child has none; both statuses by default
            let both = Self.gaps(try await c.send(.get, "/fhir/Patient/nina/$care-gaps", headers: dra, auth: false))
            #expect(both["bcg"] == "open-gap")

            // a patient the clinician does not treat answers like a missing one
            let hidden = try await c.send(.get, "/fhir/Patient/$care-gaps?subject=Patient/luis", headers: dra, auth: false)
            let missing = try await c.send(.get, "/fhir/Patient/$care-gaps?subject=Patient/nadie", headers: dra, auth: false)
            #expect(hidden.status == 404 && missing.status == 404)
            #expect(!hidden.text.contains("Secreto") && !hidden.text.contains("bcg-luis"))
            // the panel (no subject) holds only the clinician's own patients
            let panel = try await c.send(.get, "/fhir/Patient/$care-gaps?status=open-gap", headers: dra, auth: false)
            let subjects = Set(panel.json["parameter"]?.arrayValue?.compactMap { $0["resource"]?["entry"]?.arrayValue?.first?["resource"]?["subject"]?["reference"]?.stringValue } ?? [])
            #expect(subjects == ["Patient/nina", "Patient/ana"])
            #expect(!panel.text.contains("luis"))

            // bad input: a precise OperationOutcome, never a 500
            let badStatus = try await c.send(.get, "/fhir/Patient/$care-gaps?status=maybe", headers: dra, auth: false)
            #expect(badStatus.status == 400 && badStatus.text.contains("open-gap"))
            let badDate = try await c.send(.get, "/fhir/Patient/$care-gaps?periodEnd=ayer", headers: dra, auth: false)
            #expect(badDate.status == 400 && badDate.json["resourceType"]?.stringValue == "OperationOutcome")
            let backwards = try await c.send(.get, "/fhir/Patient/$care-gaps?periodStart=2026-05-01&periodEnd=2026-01-01", headers: dra, auth: false)
            #expect(backwards.status == 400)
            let wrongType = try await c.send(.get, "/fhir/Observation/$care-gaps", headers: dra, auth: false)
            #expect(wrongType.status == 404 && wrongType.issueCodes == ["not-supported"])
            // the route does not shadow reads
            #expect(try await c.send(.get, "/fhir/Patient/nina", headers: dra, auth: false).status == 200)
            let meta = try await c.send(.get, "/fhir/metadata")
            #expect(meta.text.contains("davinci-deqm/OperationDefinition/care-gaps"))
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func recommendationsAndRiskAreRecordedDecisions(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, anaToken) = try Self.tokens(server)
        let dra = ["Authorization": "Bearer \(practitioner)"]
        let services = server.services
        try await server.run { c in
            try await Self.put(c, Self.seed)
            try await Self.catchUp(services)
            let rec = try await c.send(.get, "/fhir/ImmunizationRecommendation/cns-nina", headers: dra, auth: false)
            #expect(rec.status == 200, "\(rec.text)")
            let hexa = rec.json["recommendation"]?.arrayValue?.first { $0["series"]?.stringValue == "hexavalente" }
            #expect(hexa?["forecastStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "overdue")
            #expect(hexa?["doseNumberPositiveInt"] == .number("3"))
            #expect(Set(hexa?["supportingImmunization"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } ?? []) == ["Immunization/hexa-1", "Immunization/hexa-2"])
            // nothing new to say: running again writes nothing (the server's own consumer service may
            // also have run meanwhile, so versions are compared, not counted from 1)
            let v1 = rec.json["meta"]?["versionId"]?.stringValue
            try await Self.catchUp(services)
            #expect(try await c.send(.get, "/fhir/ImmunizationRecommendation/cns-nina", headers: dra, auth: false).json["meta"]?["versionId"]?.stringValue == v1)
            // a new dose is written → recomputed (not on read)
            _ = try await c.send(.post, "/fhir/Immunization", json: #"{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/nina"},"occurrenceDateTime":"2026-11-20"}"#, headers: dra)
            try await Self.catchUp(services)
            let rec2 = try await c.send(.get, "/fhir/ImmunizationRecommendation/cns-nina", headers: dra, auth: false)
            let hexa2 = rec2.json["recommendation"]?.arrayValue?.first { $0["series"]?.stringValue == "hexavalente" }
            #expect(hexa2?["doseNumberPositiveInt"] == .number("4"))
            #expect(rec2.json["meta"]?["versionId"]?.stringValue != v1)
            // the recommendation's Provenance names the schedule engine and the Cartilla edition
            let recProv = try await c.send(.get, "/fhir/Provenance?target=ImmunizationRecommendation/cns-nina", headers: dra, auth: false)
            #expect(recProv.text.contains("Cartilla Nacional de Salud") && recProv.text.contains("2024.1"))

            // FINDRISC of Ana: 56 years → 3, BMI 32 → 3, waist 95 (woman) → 4 = 10 (glucose, activity… not recorded)
            let ra = try await c.send(.get, "/fhir/RiskAssessment/findrisc-ana", headers: dra, auth: false)
            #expect(ra.status == 200, "\(ra.text)")
            #expect(ra.text.contains("FINDRISC 10/26"))
            #expect(ra.json["status"]?.stringValue == "preliminary")
            #expect(ra.json["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number("0.04"))
            let labels = ra.json["meta"]?["security"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
            #expect(labels.contains("AIAST") && labels.contains("risk-diabetes"))
            #expect(Set(ra.json["basis"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } ?? []) == ["Observation/bmi-ana", "Observation/waist-ana"])
            // a new HbA1c of 8.2 % → high glucose (+5) = 15: high risk, and a new version
            let a1c = try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-11-23","valueQuantity":{"value":8.2,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}"#, headers: dra)
            #expect(a1c.status == 201)
            try await Self.catchUp(services)
            let ra2 = try await c.send(.get, "/fhir/RiskAssessment/findrisc-ana", headers: dra, auth: false)
            let version = ra2.json["meta"]?["versionId"]?.stringValue ?? "?"
            #expect(version != ra.json["meta"]?["versionId"]?.stringValue)
            #expect(ra2.text.contains("FINDRISC 15/26"))
            #expect(ra2.json["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number("0.33"))
            let a1cID = a1c.json["id"]?.stringValue ?? "?"
            #expect(ra2.json["basis"]?.arrayValue?.contains { $0["reference"]?.stringValue == "Observation/\(a1cID)" } == true)
            // its Provenance: the algorithm as a Device (name, version), on behalf of who answers for it
            let prov = try await c.send(.get, "/fhir/Provenance?target=RiskAssessment/findrisc-ana", headers: dra, auth: false)
            let p = prov.json["entry"]?.arrayValue?.compactMap { $0["resource"] }.first {
                $0["target"]?.arrayValue?.first?["reference"]?.stringValue == "RiskAssessment/findrisc-ana/_history/\(version)"
            }
            #expect(p?["contained"]?.arrayValue?.first?["resourceType"]?.stringValue == "Device", "\(prov.text.prefix(400))")
            #expect(p?["contained"]?.arrayValue?.first?["deviceName"]?.arrayValue?.first?["name"]?.stringValue == "FINDRISC")
            #expect(p?["contained"]?.arrayValue?.first?["version"]?.arrayValue?.first?["value"]?.stringValue == "2003.1")
            let author = p?["agent"]?.arrayValue?.first
            #expect(author?["who"]?["reference"]?.stringValue == "#algorithm")
            #expect(author?["onBehalfOf"] != nil)

            // Ana sees her risk … until she chooses not to know risk results of this category
            let anaAuth = ["Authorization": "Bearer \(anaToken)"]
            #expect(try await c.send(.get, "/fhir/RiskAssessment/findrisc-ana", headers: anaAuth, auth: false).status == 200)
            let consent = #"{"resourceType":"Consent","id":"ntk-ana","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Patient/ana"}}],"securityLabel":[{"system":"https://enlace.mx/fhir/CodeSystem/risk-category","code":"risk-diabetes"}]}}"#
            #expect(try await c.send(.put, "/fhir/Consent/ntk-ana", json: consent).status == 201)
            #expect(try await c.send(.get, "/fhir/RiskAssessment/findrisc-ana", headers: anaAuth, auth: false).status == 404)
            let anaSearch = try await c.send(.get, "/fhir/RiskAssessment?patient=ana", headers: anaAuth, auth: false)
            #expect(!anaSearch.text.contains("findrisc-ana"))
            #expect(try await c.send(.get, "/fhir/RiskAssessment/findrisc-ana", headers: dra, auth: false).status == 200, "the care team still sees it")
        }
    }
}
