import FHIR
import Foundation
import Testing
@testable import Server
@_spi(Unguarded) import Trust

/// The leak matrix (LeakMatrixTests) extended to prevention's writing operations: a reminder or a
/// decision about the hidden patient answers exactly like one about a missing patient, writes
/// nothing, and names nothing of them — for the practitioner, the patient and the payer.
@Suite("Leak matrix: prevention's reminders and decisions")
struct PreventionLeakTests {
    static let seed = LeakMatrixTests.seed + [
        ("Patient/luis", #"{"resourceType":"Patient","id":"luis","gender":"male","birthDate":"2026-02-01","identifier":[{"system":"http://hospital.example.mx/expediente","value":"LUIS1"}],"name":[{"family":"Secreto"}]}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","gender":"female","birthDate":"2026-01-10","identifier":[{"system":"http://hospital.example.mx/expediente","value":"ANA1"}],"name":[{"family":"Pérez"}]}"#),
        ("RiskAssessment/ra-luis", #"{"resourceType":"RiskAssessment","id":"ra-luis","status":"final","subject":{"reference":"Patient/luis"},"note":[{"text":"Secreto"}]}"#),
        ("ImmunizationRecommendation/ir-luis", #"{"resourceType":"ImmunizationRecommendation","id":"ir-luis","patient":{"reference":"Patient/luis"},"date":"2026-11-24","recommendation":[{"vaccineCode":[{"text":"BCG"}],"forecastStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/immunization-recommendation-status","code":"due"}]}}]}"#),
    ]

    static func remind(_ patient: String) -> [UInt8] {
        Array(#"{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/\#(patient)"}},{"name":"medium","valueCode":"sms"}]}"#.utf8)
    }

    static let accept = Array(#"{"resourceType":"Parameters","parameter":[{"name":"decision","valueCode":"accept"},{"name":"reason","valueString":"ok"}]}"#.utf8)

    @Test(arguments: ServerBackend.allCases)
    func remindersAndDecisionsRevealNothing(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, patient, payer) = try LeakMatrixTests.tokens(server)
        let matrix = LeakMatrixTests()
        try await server.run { c in
            for (path, json) in Self.seed {
                let r = try await c.send(.put, "/fhir/" + path, json: json)
                #expect(r.status == 201 || r.status == 200, "\(path): \(r.text)")
            }
            for (name, token) in [("practitioner", practitioner), ("patient", patient), ("payer", payer)] {
                let auth = ["Authorization": "Bearer \(token)"]
                // reminders: the hidden patient answers like a missing one
                let hidden = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind("luis"), headers: auth, auth: false)
                let missing = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind("nobody"), headers: auth, auth: false)
                #expect(hidden.status == missing.status, "\(name) $send-reminders")
                matrix.mustNotLeak(hidden, "\(name) $send-reminders", secrets: ["LUIS1", "Secreto", "secreto", "cond-luis", "obs-luis"])
                let hiddenStatus = hidden.text.replacingOccurrences(of: "luis", with: "X")
                let missingStatus = missing.text.replacingOccurrences(of: "nobody", with: "X")
                #expect(hiddenStatus == missingStatus, "\(name): \(hidden.text) vs \(missing.text)")
                // decisions: a hidden RiskAssessment or recommendation answers like a missing one
                for type in ["RiskAssessment/ra-luis", "ImmunizationRecommendation/ir-luis"] {
                    let h = try await c.send(.post, "/fhir/\(type)/$record-decision", body: Self.accept, headers: auth, auth: false)
                    let m = try await c.send(.post, "/fhir/\(type.split(separator: "/")[0])/nothing/$record-decision", body: Self.accept, headers: auth,
                                             auth: false)
                    #expect(h.status == m.status, "\(name) \(type) $record-decision: \(h.status) vs \(m.status)")
                    #expect([403, 404].contains(h.status), "\(name) \(type): \(h.status)")
                    matrix.mustNotLeak(h, "\(name) \(type) $record-decision")
                }
            }
            // nothing was written about Luis
            let comms = try await c.send(.get, "/fhir/Communication?subject=Patient/luis")
            #expect((comms.json["entry"]?.arrayValue ?? []).isEmpty)
            let provs = try await c.send(.get, "/fhir/Provenance?target=RiskAssessment/ra-luis")
            #expect((provs.json["entry"]?.arrayValue ?? []).isEmpty)
            // …while the practitioner's own patient is reminded
            let own = try await c.send(.post, "/fhir/Patient/$send-reminders", body: Self.remind("ana"), headers: ["Authorization": "Bearer \(practitioner)"],
                                       auth: false)
            #expect(own.text.contains("\"sent\""), "\(own.text)")
        }
    }
}
