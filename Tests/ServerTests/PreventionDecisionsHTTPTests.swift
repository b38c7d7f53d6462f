import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Prevention
@testable import Server
@_spi(Unguarded) import Trust

/// Prevention's accountable actions over HTTP (docs/prevention.md): a clinician accepts or
/// overrides an algorithm's result (`$record-decision`, a Provenance), reminders as
/// Communication (`Patient/$send-reminders`) never to a patient who opposed contact, the
/// cardiovascular RiskAssessment, the daily pass that moves due to overdue without a write, and
/// a replacement Cartilla loaded at start. The clock is 2026-11-24.
@Suite("Prevention: decisions, reminders, cardiovascular risk, the daily pass")
struct PreventionDecisionsHTTPTests {
    static let seed = PreventionHTTPTests.seed + [
        // Ernesto: 58, smoker, type 2 diabetes, systolic 150, cholesterol 240 mg/dL
        ("Patient/ernesto", #"{"resourceType":"Patient","id":"ernesto","gender":"male","birthDate":"1968-05-10","name":[{"family":"Ruiz","given":["Ernesto"]}]}"#),
        ("Encounter/enc-ernesto", #"{"resourceType":"Encounter","id":"enc-ernesto","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ernesto"},"participant":[{"individual":{"reference":"Practitioner/dra"}}],"serviceProvider":{"reference":"Organization/umf"}}"#),
        ("Observation/sbp-ernesto", #"{"resourceType":"Observation","id":"sbp-ernesto","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/ernesto"},"effectiveDateTime":"2026-10-01","valueQuantity":{"value":150,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}"#),
        ("Observation/chol-ernesto", #"{"resourceType":"Observation","id":"chol-ernesto","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2093-3"}]},"subject":{"reference":"Patient/ernesto"},"effectiveDateTime":"2026-10-01","valueQuantity":{"value":240,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}"#),
        ("Observation/smoke-ernesto", #"{"resourceType":"Observation","id":"smoke-ernesto","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},"subject":{"reference":"Patient/ernesto"},"effectiveDateTime":"2026-10-01","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"449868002"}]}}"#),
        ("Condition/dm-ernesto", #"{"resourceType":"Condition","id":"dm-ernesto","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]},"subject":{"reference":"Patient/ernesto"}}"#),
        // Beto: two months old today, his first hexavalent dose is due (overdue a month from now)
        ("Patient/beto", #"{"resourceType":"Patient","id":"beto","gender":"male","birthDate":"2026-09-24","name":[{"family":"Gómez","given":["Beto"]}]}"#),
        ("Encounter/enc-beto", #"{"resourceType":"Encounter","id":"enc-beto","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/beto"},"participant":[{"individual":{"reference":"Practitioner/dra"}}],"serviceProvider":{"reference":"Organization/umf"}}"#),
    ]

    static let opposition = #"{"resourceType":"Consent","id":"no-contact-ana","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","action":[{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/consent-action","code":"contact"}]}]}}"#

    static func decision(_ d: String, _ reason: String?) -> String {
        var parts = [#"{"name":"decision","valueCode":"\#(d)"}"#]
        if let reason { parts.append(#"{"name":"reason","valueString":"\#(reason)"}"#) }
        return #"{"resourceType":"Parameters","parameter":[\#(parts.joined(separator: ","))]}"#
    }

    @Test(arguments: ServerBackend.allCases)
    func clinicianAcceptsOrOverridesWithAReason(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, anaToken) = try PreventionHTTPTests.tokens(server)
        let dra = ["Authorization": "Bearer \(practitioner)"]
        let ana = ["Authorization": "Bearer \(anaToken)"]
        let services = server.services
        try await server.run { c in
            try await PreventionHTTPTests.put(c, Self.seed)
            try await PreventionHTTPTests.catchUp(services)
            let ra = try await c.send(.get, "/fhir/RiskAssessment/findrisc-ana", headers: dra, auth: false)
            #expect(ra.status == 200)
            let version = ra.json["meta"]?["versionId"]?.stringValue ?? "?"
            let r = try await c.send(.post, "/fhir/RiskAssessment/findrisc-ana/$record-decision",
                                     body: Array(Self.decision("override", "Paciente en tratamiento; FINDRISC no aplica a diabetes diagnosticada").utf8), headers: dra,
                                     auth: false)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.json["resourceType"]?.stringValue == "Provenance")
            let agent = r.json["agent"]?.arrayValue?.first
            #expect(agent?["who"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(agent?["who"]?["display"]?.stringValue == "Ruiz", "the clinician is named")
            #expect(agent?["onBehalfOf"]?["display"]?.stringValue == "IMSS UMF 10")
            #expect(agent?["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "verifier")
            #expect(agent?["onBehalfOf"]?["reference"]?.stringValue == "Organization/umf")
            #expect(r.json["entity"]?.arrayValue?.first?["what"]?["reference"]?.stringValue == "RiskAssessment/findrisc-ana/_history/\(version)")
            #expect(r.json["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "algorithm-overridden")
            #expect(r.json["reason"]?.arrayValue?.first?["text"]?.stringValue?.hasPrefix("Paciente en tratamiento") == true)
            // found with the algorithm's own Provenance of the same resource, and by the patient (Decisiones reads these)
            let byTarget = try await c.send(.get, "/fhir/Provenance?target=RiskAssessment/findrisc-ana", headers: dra, auth: false)
            #expect(byTarget.text.contains("algorithm-overridden") && byTarget.text.contains("#algorithm"))
            let anaSees = try await c.send(.get, "/fhir/Provenance?patient=ana", headers: ana, auth: false)
            #expect(anaSees.text.contains("algorithm-overridden"), "\(anaSees.text.prefix(300))")
            // accepting the ImmunizationRecommendation of Sofía
            let acc = try await c.send(.post, "/fhir/ImmunizationRecommendation/cns-nina/$record-decision", body: Array(Self.decision("accept", "De acuerdo").utf8),
                                       headers: dra, auth: false)
            #expect(acc.status == 201, "\(acc.text)")
            #expect(acc.json["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "algorithm-accepted")

            // refusals: bilingual OperationOutcomes
            let noReason = try await c.send(.post, "/fhir/RiskAssessment/findrisc-ana/$record-decision", body: Array(Self.decision("accept", nil).utf8),
                                            headers: dra, auth: false)
            #expect(noReason.status == 400 && noReason.issueCodes == ["required"])
            #expect(noReason.json["issue"]?.arrayValue?.first?["details"]?["text"]?.stringValue?.contains("motivo") == true)
            let badCode = try await c.send(.post, "/fhir/RiskAssessment/findrisc-ana/$record-decision", body: Array(Self.decision("maybe", "x").utf8),
                                           headers: dra, auth: false)
            #expect(badCode.status == 400 && badCode.issueCodes == ["code-invalid"])
            let noBody = try await c.send(.post, "/fhir/RiskAssessment/findrisc-ana/$record-decision", headers: dra, auth: false)
            #expect(noBody.status == 400)
            let patient = try await c.send(.post, "/fhir/RiskAssessment/findrisc-ana/$record-decision", body: Array(Self.decision("accept", "yo").utf8),
                                           headers: ana, auth: false)
            #expect(patient.status == 403)
            let wrongType = try await c.send(.post, "/fhir/Observation/bmi-ana/$record-decision", body: Array(Self.decision("accept", "x").utf8),
                                             headers: dra, auth: false)
            #expect(wrongType.status == 404 && wrongType.issueCodes == ["not-supported"])
            let missing = try await c.send(.post, "/fhir/RiskAssessment/nada/$record-decision", body: Array(Self.decision("accept", "x").utf8),
                                           headers: dra, auth: false)
            #expect(missing.status == 404)
            // the right not to know: once Ana declines diabetes risk results, the decision is withheld with the score
            let consent = #"{"resourceType":"Consent","id":"ntk-ana","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Patient/ana"}}],"securityLabel":[{"system":"https://enlace.mx/fhir/CodeSystem/risk-category","code":"risk-diabetes"}]}}"#
            #expect(try await c.send(.put, "/fhir/Consent/ntk-ana", json: consent).status == 201)
            let after = try await c.send(.get, "/fhir/Provenance?patient=ana", headers: ana, auth: false)
            #expect(after.status == 200 && !after.text.contains("algorithm-overridden"), "\(after.text.prefix(300))")
            #expect(try await c.send(.get, "/fhir/Provenance?target=RiskAssessment/findrisc-ana", headers: dra, auth: false).text.contains("algorithm-overridden"))
        }
    }

    static func remind(_ patients: [String], medium: String) -> [UInt8] {
        let parts = patients.map { #"{"name":"patient","valueReference":{"reference":"Patient/\#($0)"}}"# } + [#"{"name":"medium","valueCode":"\#(medium)"}"#]
        return Array(#"{"resourceType":"Parameters","parameter":[\#(parts.joined(separator: ","))]}"#.utf8)
    }

    static func results(_ r: Client.Reply) -> [String: (String, String?)] {
        var out: [String: (String, String?)] = [:]
        for p in r.json["parameter"]?.arrayValue ?? [] {
            let parts = p["part"]?.arrayValue ?? []
            func part(_ n: String) -> JSON? { parts.first { $0["name"]?.stringValue == n } }
            let patient = part("patient")?["valueReference"]?["reference"]?.stringValue ?? "?"
            out[patient] = (part("status")?["valueCode"]?.stringValue ?? "?", part("communication")?["valueReference"]?["reference"]?.stringValue)
        }
        return out
    }

    @Test(arguments: ServerBackend.allCases)
    func remindersRespectOpposition(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, anaToken) = try PreventionHTTPTests.tokens(server)
        let dra = ["Authorization": "Bearer \(practitioner)"]
        try await server.run { c in
            try await PreventionHTTPTests.put(c, Self.seed)
            #expect(try await c.send(.put, "/fhir/Consent/no-contact-ana", json: Self.opposition).status == 201)
            let r = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind(["nina", "ana", "luis", "nadie"], medium: "sms"), headers: dra,
                                     auth: false)
            #expect(r.status == 200, "\(r.text)")
            let res = Self.results(r)
            #expect(res["Patient/nina"]?.0 == "sent")
            #expect(res["Patient/ana"]?.0 == "opposed", "Ana opposed contact: nothing is written for her")
            #expect(res["Patient/ana"]?.1 == nil)
            #expect(res["Patient/luis"]?.0 == "not-found", "a patient the clinician does not treat is not found")
            #expect(res["Patient/nadie"]?.0 == "not-found")
            let id = res["Patient/nina"]?.1 ?? "?"
            let comm = try await c.send(.get, "/fhir/\(id)", headers: dra, auth: false)
            #expect(comm.status == 200)
            #expect(comm.json["medium"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "SMSWRIT")
            #expect(comm.json["status"]?.stringValue == "preparation")
            #expect(comm.json["sender"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(comm.json["payload"]?.arrayValue?.first?["contentString"]?.stringValue?.contains("Hexavalente") == true
                    || comm.text.contains("hexavalente"), "\(comm.text.prefix(400))")
            // no Communication of Ana exists at all
            let anaComms = try await c.send(.get, "/fhir/Communication?subject=Patient/ana")
            #expect(anaComms.status == 200 && (anaComms.json["entry"]?.arrayValue ?? []).isEmpty, "\(anaComms.text.prefix(300))")
            // the opposition to contact restricts nothing else: the clinician still reads Ana's record
            #expect(try await c.send(.get, "/fhir/Observation/bmi-ana", headers: dra, auth: false).status == 200)
            // the instance form, through the portal channel (delivered: completed)
            let one = try await c.send(.post, "/fhir/Patient/nina/$send-reminders", body: Self.remind([], medium: "portal"), headers: dra, auth: false)
            #expect(Self.results(one)["Patient/nina"]?.0 == "sent")
            let portalID = Self.results(one)["Patient/nina"]?.1 ?? "?"
            #expect(try await c.send(.get, "/fhir/\(portalID)", headers: dra, auth: false).json["status"]?.stringValue == "completed")
            // refusals
            let bad = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind(["nina"], medium: "paloma"), headers: dra, auth: false)
            #expect(bad.status == 400 && bad.issueCodes == ["code-invalid"])
            #expect(bad.json["issue"]?.arrayValue?.first?["details"]?["text"]?.stringValue?.isEmpty == false)
            let none = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind([], medium: "sms"), headers: dra, auth: false)
            #expect(none.status == 400 && none.issueCodes == ["required"])
            let asPatient = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind(["ana"], medium: "sms"),
                                             headers: ["Authorization": "Bearer \(anaToken)"], auth: false)
            #expect(asPatient.status == 403)
            let wrongType = try await c.send(.post, "/fhir/Observation/$send-reminders", body: Self.remind(["nina"], medium: "sms"), headers: dra, auth: false)
            #expect(wrongType.status == 404)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func cardiovascularRiskIsARecordedDecision(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, _) = try PreventionHTTPTests.tokens(server)
        let dra = ["Authorization": "Bearer \(practitioner)"]
        let services = server.services
        try await server.run { c in
            try await PreventionHTTPTests.put(c, Self.seed)
            try await PreventionHTTPTests.catchUp(services)
            // male 58, diabetic smoker, 150 mmHg, 240 mg/dL (6.2 mmol/L) → 20 % in the Central Latin America chart
            let ra = try await c.send(.get, "/fhir/RiskAssessment/cvd-ernesto", headers: dra, auth: false)
            #expect(ra.status == 200, "\(ra.text)")
            #expect(ra.json["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number("0.20"))
            #expect(ra.json["status"]?.stringValue == "final")
            #expect(Set(ra.json["basis"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } ?? [])
                    == ["Observation/sbp-ernesto", "Observation/chol-ernesto", "Observation/smoke-ernesto", "Condition/dm-ernesto"])
            let labels = ra.json["meta"]?["security"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
            #expect(labels.contains("AIAST") && labels.contains("risk-cardiovascular"))
            let version = ra.json["meta"]?["versionId"]?.stringValue ?? "?"
            let prov = try await c.send(.get, "/fhir/Provenance?target=RiskAssessment/cvd-ernesto", headers: dra, auth: false)
            let p = prov.json["entry"]?.arrayValue?.compactMap { $0["resource"] }.first {
                $0["target"]?.arrayValue?.first?["reference"]?.stringValue == "RiskAssessment/cvd-ernesto/_history/\(version)"
            }
            let device = p?["contained"]?.arrayValue?.first
            #expect(device?["resourceType"]?.stringValue == "Device")
            #expect(device?["deviceName"]?.arrayValue?.first?["name"]?.stringValue?.contains("Central Latin America") == true)
            #expect(device?["version"]?.arrayValue?.first?["value"]?.stringValue == "2019.1")
            #expect(p?["meta"]?["security"]?.arrayValue?.contains { $0["code"]?.stringValue == "AIAST" } == true)
            // he stops smoking: the newer status → 13 % (the non-smoker cell), a new version
            let quit = try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},"subject":{"reference":"Patient/ernesto"},"effectiveDateTime":"2026-11-20","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"8517006"}]}}"#, headers: dra)
            #expect(quit.status == 201)
            try await PreventionHTTPTests.catchUp(services)
            let ra2 = try await c.send(.get, "/fhir/RiskAssessment/cvd-ernesto", headers: dra, auth: false)
            #expect(ra2.json["meta"]?["versionId"]?.stringValue != version)
            #expect(ra2.json["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number(String(format: "0.%02d", Self.ernestoNonSmoker)))
            // people the chart does not cover get none: Ana has no cholesterol, Sofía is a baby
            #expect(try await c.send(.get, "/fhir/RiskAssessment/cvd-ana", headers: dra, auth: false).status == 404)
            #expect(try await c.send(.get, "/fhir/RiskAssessment/cvd-nina", headers: dra, auth: false).status == 404)
        }
    }

    /// Male, diabetic, non-smoker, 55–59, 140–159 mmHg, 6–6.9 mmol/L (the source table).
    static let ernestoNonSmoker = 13

    @Test(arguments: ServerBackend.allCases)
    func dailyPassMovesDueToOverdueWithoutAWrite(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let services = server.services
        let clock = server.clock
        try await server.run { c in
            try await PreventionHTTPTests.put(c, Self.seed)
            try await PreventionHTTPTests.catchUp(services)
            func hexavalente() async throws -> (String?, String?) {
                let dra = ["Authorization": "Bearer \(try PreventionHTTPTests.tokens(server).practitioner)"]  // today's token
                let rec = try await c.send(.get, "/fhir/ImmunizationRecommendation/cns-beto", headers: dra, auth: false)
                #expect(rec.status == 200, "\(rec.text)")
                let hexa = rec.json["recommendation"]?.arrayValue?.first { $0["series"]?.stringValue == "hexavalente" }
                return (hexa?["forecastStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue, rec.json["meta"]?["versionId"]?.stringValue)
            }
            let (before, v1) = try await hexavalente()
            #expect(before == "due")
            let pass = DailyRecomputation(settings: services.preventionSettings, pageSize: 2)  // small pages: the cursor is exercised
            // the same day: nothing changed, nothing written
            let same = try await pass.run(door: services.door)
            #expect(same.written == 0)
            #expect(same.patients >= 5)
            #expect(try await hexavalente().1 == v1)
            // 40 days later, without any write to the record: overdue
            clock.advance(seconds: 40 * 86_400)
            let later = try await pass.run(door: services.door)
            #expect(later.written >= 1)
            let (after, v2) = try await hexavalente()
            #expect(after == "overdue")
            #expect(v2 != v1)
            // idempotent: a second pass the same day writes nothing
            let again = try await pass.run(door: services.door)
            #expect(again.written == 0)
            #expect(try await hexavalente().1 == v2)
            // its Provenance says why
            let op = try services.authority.issue(subject: "test-operator", scope: "system/*.*", ttl: 3600, now: clock.now())
            let prov = try await c.send(.get, "/fhir/Provenance?target=ImmunizationRecommendation/cns-beto", headers: ["Authorization": "Bearer \(op)"], auth: false)
            #expect(prov.text.contains("revisión diaria"))
        }
    }

    @Test func replacementCartillaAtStartUp() throws {
        let dir = NSTemporaryDirectory() + "enlace-knowledge-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ServerConfiguration()
        #expect(PreventionWiring.knowledge(config).version == CartillaKnowledge.standard.version)
        // a replacement: the built-in edition with another version
        let replaced = CartillaKnowledge.embeddedJSON.replacingOccurrences(of: #""versionId": "2024.1""#, with: #""versionId": "2025.9-operador""#)
        try replaced.write(toFile: dir + "/ok.json", atomically: true, encoding: .utf8)
        try config.loadPreventionKnowledge(dir + "/ok.json")
        #expect(PreventionWiring.knowledge(config).version == "2025.9-operador")
        #expect(PreventionWiring.knowledge(config).rules.count == CartillaKnowledge.standard.rules.count)
        // refused, with the reason
        try "{ not json".write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        try #"{"resourceType":"Bundle","type":"collection","entry":[]}"#.write(toFile: dir + "/empty.json", atomically: true, encoding: .utf8)
        for (file, says) in [("bad.json", "not JSON"), ("empty.json", "no PlanDefinition"), ("missing.json", "cannot read")] {
            var c = ServerConfiguration()
            do {
                try c.loadPreventionKnowledge(dir + "/" + file)
                Issue.record("\(file) accepted")
            } catch {
                #expect("\(error)".contains(says), "\(file): \(error)")
            }
            #expect(c.preventionKnowledge == nil)
        }
    }
}
