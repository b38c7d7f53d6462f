import FHIR
import Foundation
import Testing
@testable import Server
import Trust

/// The CDS Hooks service over HTTP (docs/care.md): discovery, order-sign / order-select /
/// patient-view cards computed through the caller's access decision, and feedback stored as
/// Provenance. On SQLite and PostgreSQL.
@Suite struct CareCDSHooksTests {
    /// Clock: 2026-11-24. Ana: HbA1c 7.8 % on 2026-11-03 at Hospital Santa Fe, warfarin, penicillin
    /// allergy. Beto: HbA1c 2026-07-01 (outside 90 days), metformin. Dra. Ruiz treats both
    /// (Encounters); Dr. Otro treats nobody.
    static let seed: [(String, String)] = [
        ("Organization/hsf", #"{"resourceType":"Organization","id":"hsf","name":"Hospital Santa Fe"}"#),
        ("Practitioner/dra", #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
        ("Patient/beto", #"{"resourceType":"Patient","id":"beto","name":[{"family":"Pérez","given":["Beto"]}]}"#),
        ("Encounter/e-ana", #"{"resourceType":"Encounter","id":"e-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
        ("Encounter/e-beto", #"{"resourceType":"Encounter","id":"e-beto","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/beto"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
        ("Observation/a1c-ana", #"{"resourceType":"Observation","id":"a1c-ana","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}],"text":"HbA1c"},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-11-03T09:00:00-06:00","valueQuantity":{"value":7.8,"unit":"%","system":"http://unitsofmeasure.org","code":"%"},"performer":[{"reference":"Organization/hsf"}]}"#),
        ("Observation/a1c-beto", #"{"resourceType":"Observation","id":"a1c-beto","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/beto"},"effectiveDateTime":"2026-07-01","valueQuantity":{"value":6.9,"unit":"%"}}"#),
        ("MedicationRequest/warf-ana", #"{"resourceType":"MedicationRequest","id":"warf-ana","status":"active","intent":"order","medicationCodeableConcept":{"text":"Warfarina 5 mg tabletas"},"subject":{"reference":"Patient/ana"}}"#),
        ("AllergyIntolerance/pen-ana", #"{"resourceType":"AllergyIntolerance","id":"pen-ana","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"code":{"text":"Penicilina"},"patient":{"reference":"Patient/ana"}}"#),
        ("MedicationRequest/met-beto", #"{"resourceType":"MedicationRequest","id":"met-beto","status":"active","intent":"order","medicationCodeableConcept":{"text":"Metformina 850 mg tabletas"},"subject":{"reference":"Patient/beto"}}"#),
    ]

    static func tokens(_ server: TestServer) throws -> (dra: String, otro: String) {
        let a = server.services.authority, now = server.clock.now()
        let dra = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner, fhirUser: "Practitioner/dra",
                                    organization: "Organization/umf").token
        let otro = try a.issueClaims(subject: "user:otro", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner, fhirUser: "Practitioner/otro",
                                     organization: "Organization/otra").token
        return (dra, otro)
    }

    static func orderSign(patient: String, _ resources: [String]) -> String {
        let entries = resources.map { #"{"resource":\#($0)}"# }.joined(separator: ",")
        return #"{"hook":"order-sign","hookInstance":"\#(UUID().uuidString)","context":{"userId":"Practitioner/dra","patientId":"\#(patient)","draftOrders":{"resourceType":"Bundle","type":"collection","entry":[\#(entries)]}}}"#
    }

    static let draftA1c = #"{"resourceType":"ServiceRequest","id":"draft-a1c","status":"draft","intent":"order","code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"HbA1c"}]},"subject":{"reference":"Patient/ana"}}"#
    static let draftAspirin = #"{"resourceType":"MedicationRequest","id":"draft-asa","status":"draft","intent":"order","medicationCodeableConcept":{"text":"Aspirina 100 mg"},"subject":{"reference":"Patient/ana"}}"#
    static let draftAmoxicillin = #"{"resourceType":"MedicationRequest","id":"draft-amox","status":"draft","intent":"order","medicationCodeableConcept":{"text":"Amoxicilina 500 mg cápsulas"},"subject":{"reference":"Patient/ana"}}"#

    func post(_ c: Client, _ path: String, _ body: String, token: String, language: String = "es-MX") async throws -> Client.Reply {
        try await c.send(.post, path, body: Array(body.utf8), headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json",
                                                                        "Accept-Language": language], auth: false)
    }

    func cards(_ r: Client.Reply) -> [JSON] { r.json["cards"]?.arrayValue ?? [] }
    func topic(_ card: JSON) -> String { card["source"]?["topic"]?["code"]?.stringValue ?? "" }

    @Test(arguments: ServerBackend.allCases)
    func orderSignCatchesTheRepeatedHbA1cWithItsValueAndTheInteractionAndTheAllergy(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (dra, otro) = try CareCDSHooksTests.tokens(server)
        try await server.run { c in
            for (path, json) in CareCDSHooksTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let discovery = try await c.send(.get, "/cds-services", auth: false)
            #expect(discovery.status == 200)
            #expect(Set(discovery.json["services"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["enlace-duplicate-studies", "enlace-order-sign", "enlace-patient-view"])

            let body = CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c, CareCDSHooksTests.draftAspirin, CareCDSHooksTests.draftAmoxicillin])
            let r = try await post(c, "/cds-services/enlace-order-sign", body, token: dra)
            #expect(r.status == 200, "\(r.text)")
            let got = cards(r)
            let dup = got.first { topic($0) == "duplicate-study" }
            #expect(dup?["indicator"]?.stringValue == "warning")
            let detail = dup?["detail"]?.stringValue ?? ""
            #expect(detail.contains("7.8 %") && detail.contains("Hospital Santa Fe") && detail.contains("2026-11-03"), "\(detail)")
            #expect(dup?["suggestions"]?.arrayValue?.first?["actions"]?.arrayValue?.first?["resourceId"]?.arrayValue?.first?.stringValue == "ServiceRequest/draft-a1c")
            #expect((dup?["overrideReasons"]?.arrayValue?.count ?? 0) >= 2)
            #expect(dup?["summary"]?.stringValue?.contains("repetida") == true)
            let ddi = got.filter { topic($0) == "drug-drug-interaction" }
            #expect(ddi.count == 1 && ddi.first?["summary"]?.stringValue?.contains("Warfarina") == true, "\(ddi)")
            let allergy = got.filter { topic($0) == "drug-allergy" }
            #expect(allergy.count == 1 && allergy.first?["indicator"]?.stringValue == "critical")
            #expect(got.count == 3, "\(got.map(topic))")

            // English when asked
            let en = try await post(c, "/cds-services/enlace-order-sign", CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c]), token: dra, language: "en")
            #expect(cards(en).first?["summary"]?.stringValue?.hasPrefix("Repeated") == true)

            // Dr. Otro may not see Ana: only "may exist", nothing of the value, place, medicines or allergies
            let hidden = try await post(c, "/cds-services/enlace-order-sign", body, token: otro)
            #expect(hidden.status == 200)
            let hc = cards(hidden)
            #expect(hc.count == 1 && topic(hc[0]) == "duplicate-study-unknown" && hc[0]["indicator"]?.stringValue == "info", "\(hidden.text)")
            for secret in ["7.8", "Santa Fe", "2026-11-03", "a1c-ana", "Warfarina", "Penicilina"] {
                #expect(!hidden.text.contains(secret), "leaked \(secret)")
            }
            #expect(hc.first?["links"]?.arrayValue?.first?["url"]?.stringValue?.hasSuffix("/solicitar-acceso") == true)

            // a result outside its window is not a duplicate; order-select looks only at the selection
            let beto = CareCDSHooksTests.draftA1c.replacingOccurrences(of: "Patient/ana", with: "Patient/beto")
            #expect(cards(try await post(c, "/cds-services/enlace-order-sign", CareCDSHooksTests.orderSign(patient: "beto", [beto]), token: dra)).isEmpty)
            let select = #"{"hook":"order-select","hookInstance":"x1","context":{"patientId":"ana","selections":["ServiceRequest/draft-a1c"],"draftOrders":{"resourceType":"Bundle","type":"collection","entry":[{"resource":\#(CareCDSHooksTests.draftA1c)},{"resource":\#(CareCDSHooksTests.draftAspirin)}]}}}"#
            let sel = try await post(c, "/cds-services/enlace-duplicate-studies", select, token: dra)
            #expect(cards(sel).map(topic) == ["duplicate-study"], "\(sel.text)")
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func patientViewShowsMonitoringGapsAndFeedbackIsStoredAsProvenance(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (dra, otro) = try CareCDSHooksTests.tokens(server)
        try await server.run { c in
            for (path, json) in CareCDSHooksTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let view = #"{"hook":"patient-view","hookInstance":"pv1","context":{"userId":"Practitioner/dra","patientId":"beto"}}"#
            let pv = try await post(c, "/cds-services/enlace-patient-view", view, token: dra)
            #expect(pv.status == 200, "\(pv.text)")
            // Beto's HbA1c (2026-07-01) is within metformin's 180 days; no creatinine in a year
            #expect(cards(pv).map(topic) == ["monitoring-gap"], "\(pv.text)")
            #expect(cards(pv).first?["summary"]?.stringValue?.contains("Creatinina") == true, "\(pv.text)")
            #expect(cards(try await post(c, "/cds-services/enlace-patient-view", view, token: otro)).isEmpty)

            let r = try await post(c, "/cds-services/enlace-order-sign", CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c]), token: dra)
            guard let uuid = cards(r).first?["uuid"]?.stringValue else { Issue.record("no card: \(r.text)"); return }
            let feedback = #"{"feedback":[{"card":"\#(uuid)","outcome":"overridden","overrideReason":{"reason":{"system":"https://enlace.mx/fhir/CodeSystem/cds-override-reason","code":"required-by-receiver","display":"Lo exige"},"userComment":"El hospital pide una HbA1c propia"},"outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#
            // another user may not answer for the card; a reason the card did not offer is refused
            #expect(try await post(c, "/cds-services/enlace-order-sign/feedback", feedback, token: otro).status == 404)
            #expect(try await post(c, "/cds-services/enlace-duplicate-studies/feedback", feedback, token: dra).status == 404)
            let wrongReason = feedback.replacingOccurrences(of: "required-by-receiver", with: "no-such-reason")
            #expect(try await post(c, "/cds-services/enlace-order-sign/feedback", wrongReason, token: dra).status == 400)
            let before = try await c.provenanceTotal()
            let ok = try await post(c, "/cds-services/enlace-order-sign/feedback", feedback, token: dra)
            #expect(ok.status == 200, "\(ok.text)")
            let found = try await c.send(.get, "/fhir/Provenance?patient=Patient/ana&_count=50")
            let records = (found.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter { $0["policy"]?.arrayValue?.first?.stringValue == "urn:enlace:cds-service:enlace-order-sign" }
            #expect(records.count == 1, "\(found.text)")
            let p = records.first
            #expect(p?["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "overridden")
            #expect(p?["reason"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "required-by-receiver")
            #expect(p?["reason"]?.arrayValue?.first?["text"]?.stringValue == "El hospital pide una HbA1c propia")
            #expect(p?["agent"]?.arrayValue?.first?["who"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(p?["entity"]?.arrayValue?.first?["what"]?["identifier"]?["value"]?.stringValue == uuid)
            #expect(p?["target"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } == ["Patient/ana", "ServiceRequest/draft-a1c"])
            #expect(try await c.provenanceTotal() > before)
        }
    }

    /// Issued cards are kept through the door (docs/care.md, "Feedback"): a new server over the
    /// same store — a restart, or another node — still takes feedback on a card the first one
    /// issued, only from the user it was issued to; past the cards' lifetime it is a 404.
    @Test(arguments: ServerBackend.allCases)
    func feedbackAfterARestartStillFindsTheCard(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (dra, otro) = try CareCDSHooksTests.tokens(server)
        let restarted = TestServer(serving: server, configuration: server.services.configuration)
        try await server.run { c in
            for (path, json) in CareCDSHooksTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let r = try await post(c, "/cds-services/enlace-order-sign", CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c]), token: dra)
            guard let uuid = cards(r).first?["uuid"]?.stringValue else { Issue.record("no card: \(r.text)"); return }
            let feedback = #"{"feedback":[{"card":"\#(uuid)","outcome":"overridden","overrideReason":{"reason":{"system":"https://enlace.mx/fhir/CodeSystem/cds-override-reason","code":"required-by-receiver","display":"Lo exige"},"userComment":"Tras reiniciar"},"outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#
            try await restarted.run { c2 in
                // a new server: nothing of the first one's memory
                #expect(try await post(c2, "/cds-services/enlace-order-sign/feedback", feedback, token: otro).status == 404)
                let ok = try await post(c2, "/cds-services/enlace-order-sign/feedback", feedback, token: dra)
                #expect(ok.status == 200, "\(ok.text)")
                let found = try await c2.send(.get, "/fhir/Provenance?patient=Patient/ana&_count=50")
                let records = (found.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
                    .filter { $0["policy"]?.arrayValue?.first?.stringValue == "urn:enlace:cds-service:enlace-order-sign" }
                #expect(records.count == 1, "\(found.text)")
                #expect(records.first?["entity"]?.arrayValue?.first?["what"]?["identifier"]?["value"]?.stringValue == uuid)
                #expect(records.first?["reason"]?.arrayValue?.first?["text"]?.stringValue == "Tras reiniciar")
                #expect(records.first?["target"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } == ["Patient/ana", "ServiceRequest/draft-a1c"])

                // a card past its lifetime (7 days) is forgotten, by every server
                let r2 = try await post(c, "/cds-services/enlace-order-sign", CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c]), token: dra)
                let late = try #require(cards(r2).first?["uuid"]?.stringValue)
                server.clock.advance(seconds: 8 * 86400)
                let (fresh, _) = try CareCDSHooksTests.tokens(server)
                let stale = feedback.replacingOccurrences(of: uuid, with: late)
                let gone = try await post(c2, "/cds-services/enlace-order-sign/feedback", stale, token: fresh)
                #expect(gone.status == 404 && gone.text.contains("7"), "\(gone.text)")
                #expect(try await post(c, "/cds-services/enlace-order-sign/feedback", stale, token: fresh).status == 404)
            }
        }
    }

    @Test func badCallsAreOperationOutcomes() async throws {
        let server = try TestServer()
        let (dra, _) = try CareCDSHooksTests.tokens(server)
        try await server.run { c in
            let body = CareCDSHooksTests.orderSign(patient: "ana", [CareCDSHooksTests.draftA1c])
            let noToken = try await c.send(.post, "/cds-services/enlace-order-sign", body: Array(body.utf8), auth: false)
            #expect(noToken.status == 401)
            #expect(try await post(c, "/cds-services/no-such-service", body, token: dra).status == 404)
            let wrongHook = try await post(c, "/cds-services/enlace-patient-view", body, token: dra)
            #expect(wrongHook.status == 400 && wrongHook.json["resourceType"]?.stringValue == "OperationOutcome")
            #expect(try await post(c, "/cds-services/enlace-order-sign", "{not json", token: dra).status == 400)
            #expect(try await post(c, "/cds-services/enlace-order-sign/feedback", #"{"feedback":[{"card":"nope","outcome":"accepted","outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#, token: dra).status == 404)
        }
    }
}
