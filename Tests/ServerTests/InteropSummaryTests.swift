import FHIR
import Foundation
import Interop
import Testing
@testable import Trust

/// `Patient/[id]/$summary` over HTTP (docs/interop.md#patientsummary): an IPS document Bundle
/// that validates, lists the same problems, medications and allergies as the record, and
/// marks what the caller may not see with `emptyReason` instead of leaving it out.
@Suite("Patient/$summary (IPS)")
struct InteropSummaryTests {
    static let record = [
        #"{"resourceType":"Patient","id":"ana","name":[{"family":"Pérez García","given":["Ana"]}],"gender":"female","birthDate":"1980-01-01"}"#,
        #"{"resourceType":"Condition","id":"dm2","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9","display":"Diabetes mellitus tipo 2 sin complicaciones"}]},"subject":{"reference":"Patient/ana"},"onsetDateTime":"2019-05-01"}"#,
        #"{"resourceType":"Condition","id":"hta","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I10","display":"Hipertensión esencial"}]},"subject":{"reference":"Patient/ana"}}"#,
        #"{"resourceType":"MedicationRequest","id":"metformina","status":"active","intent":"order","medicationCodeableConcept":{"text":"Metformina 850 mg"},"subject":{"reference":"Patient/ana"},"performer":{"reference":"Organization/farmacia"},"dosageInstruction":[{"text":"1 tableta cada 12 horas"}]}"#,
        #"{"resourceType":"AllergyIntolerance","id":"penicilina","patient":{"reference":"Patient/ana"},"code":{"text":"Penicilina"},"criticality":"high"}"#,
        #"{"resourceType":"Observation","id":"ta","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Frecuencia cardiaca"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-11-01T10:00:00Z","valueQuantity":{"value":72,"unit":"/min"}}"#,
        #"{"resourceType":"Condition","id":"varicela","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"B01.9","display":"Varicela sin complicaciones"}]},"subject":{"reference":"Patient/ana"},"onsetDateTime":"1987-03-01"}"#,
        #"{"resourceType":"Condition","id":"error-dx","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]},"code":{"text":"Asma (capturado por error)"},"subject":{"reference":"Patient/ana"}}"#,
        #"{"resourceType":"AllergyIntolerance","id":"refutada","verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"refuted"}]},"patient":{"reference":"Patient/ana"},"code":{"text":"Sulfas (descartada)"}}"#,
        #"{"resourceType":"MedicationRequest","id":"cancelada","status":"cancelled","intent":"order","medicationCodeableConcept":{"text":"Glibenclamida 5 mg"},"subject":{"reference":"Patient/ana"}}"#,
        #"{"resourceType":"Condition","id":"otro-dx","code":{"text":"No es de Ana"},"subject":{"reference":"Patient/luis"}}"#,
        #"{"resourceType":"Patient","id":"luis","name":[{"family":"López","given":["Luis"]}]}"#,
    ]

    static func section(_ bundle: JSON, _ loinc: String) -> JSON? {
        bundle["entry"]?.arrayValue?.first?["resource"]?["section"]?.arrayValue?.first {
            $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == loinc
        }
    }

    static func refs(_ section: JSON?) -> Set<String> {
        Set((section?["entry"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue })
    }

    static func emptyReason(_ section: JSON?) -> String? {
        section?["emptyReason"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
    }

    static func searchRefs(_ r: Client.Reply) -> Set<String> {
        Set((r.json["entry"]?.arrayValue ?? []).compactMap { e in
            guard let t = e["resource"]?["resourceType"]?.stringValue, let id = e["resource"]?["id"]?.stringValue else { return nil }
            return "\(t)/\(id)"
        })
    }

    @Test(arguments: ServerBackend.allCases)
    func summaryOfTheRecord(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let pharmacy = try server.services.authority.issueClaims(subject: "user:farmacia", scope: "user/*.rs", ttl: 3600, now: server.clock.now(),
                                                                 role: .pharmacy, fhirUser: nil, patient: nil, organization: "Organization/farmacia").token
        try await server.run { op in
            for body in InteropSummaryTests.record {
                let j = try JSONParser.parse(body)
                let path = "/fhir/\(j["resourceType"]!.stringValue!)/\(j["id"]!.stringValue!)"
                #expect(try await op.send(.put, path, json: body).status == 201, "\(path)")
            }
            let r = try await op.send(.get, "/fhir/Patient/ana/$summary")
            #expect(r.status == 200, "\(r.text)")
            let doc = r.json
            #expect(doc["type"]?.stringValue == "document")
            let issues = Validator().validate(doc).filter { $0.severity == .error }
            #expect(issues.isEmpty, "\(issues.map(\.english))")
            let composition = try #require(doc["entry"]?.arrayValue?.first?["resource"])
            #expect(composition["resourceType"]?.stringValue == "Composition")
            #expect(Validator().validate(composition).filter { $0.severity == .error }.isEmpty)
            #expect(composition["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "60591-5")
            #expect(composition["section"]?.arrayValue?.count == 10)

            // the same problems, medications and allergies as the record: current problems apart
            // from past ones; nothing entered in error, refuted or cancelled
            let problems = InteropSummaryTests.section(doc, "11450-4")
            let conditions = InteropSummaryTests.searchRefs(try await op.send(.get, "/fhir/Condition?patient=ana"))
            #expect(conditions == ["Condition/dm2", "Condition/hta", "Condition/varicela", "Condition/error-dx"])
            #expect(InteropSummaryTests.refs(problems) == ["Condition/dm2", "Condition/hta"])
            #expect(InteropSummaryTests.refs(InteropSummaryTests.section(doc, "11348-0")) == ["Condition/varicela"])
            let meds = InteropSummaryTests.section(doc, "10160-0")
            #expect(InteropSummaryTests.refs(meds) == InteropSummaryTests.searchRefs(try await op.send(.get, "/fhir/MedicationRequest?patient=ana")).subtracting(["MedicationRequest/cancelada"]))
            #expect(InteropSummaryTests.refs(meds) == ["MedicationRequest/metformina"])
            let allergies = InteropSummaryTests.section(doc, "48765-2")
            #expect(InteropSummaryTests.refs(allergies) == ["AllergyIntolerance/penicilina"])
            for hidden in ["capturado por error", "descartada", "Glibenclamida"] { #expect(!r.text.contains(hidden), "\(hidden)") }
            #expect(InteropSummaryTests.refs(InteropSummaryTests.section(doc, "8716-3")) == ["Observation/ta"])
            // every referenced resource is in the document; nothing of another patient is
            let fullUrls = Set((doc["entry"]?.arrayValue ?? []).compactMap { $0["fullUrl"]?.stringValue })
            for ref in InteropSummaryTests.refs(problems).union(InteropSummaryTests.refs(meds)) {
                #expect(fullUrls.contains { $0.hasSuffix("/" + ref) })
            }
            #expect(!r.text.contains("No es de Ana"))
            // Spanish narrative; empty sections say why
            #expect(problems?["text"]?["div"]?.stringValue?.contains("Diabetes mellitus tipo 2") == true)
            #expect(problems?["text"]?["div"]?.stringValue?.contains("activo") == true)
            #expect(InteropSummaryTests.emptyReason(InteropSummaryTests.section(doc, "11369-6")) == "unavailable")
            #expect(InteropSummaryTests.emptyReason(problems) == nil)

            // more than 100 vital signs: the newest 100 are listed, not the first stored
            for day in 1...105 {
                let body = #"{"resourceType":"Observation","id":"fc-\#(day)","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2025-\#(String(format: "%02d", (day - 1) / 28 + 1))-\#(String(format: "%02d", (day - 1) % 28 + 1))T08:00:00Z","valueQuantity":{"value":\#(60 + day % 30),"unit":"/min"}}"#
                #expect(try await op.send(.put, "/fhir/Observation/fc-\(day)", json: body).status == 201)
            }
            let many = InteropSummaryTests.refs(InteropSummaryTests.section(try await op.send(.get, "/fhir/Patient/ana/$summary").json, "8716-3"))
            #expect(many.count == 100)
            #expect(many.contains("Observation/ta") && many.contains("Observation/fc-105") && !many.contains("Observation/fc-1"), "\(many.sorted())")

            // a pharmacy sees medications and allergies; problems are withheld, not missing
            let ph = Client(client: op.client, token: pharmacy)
            let p = try await ph.send(.get, "/fhir/Patient/ana/$summary")
            #expect(p.status == 200, "\(p.text)")
            #expect(InteropSummaryTests.emptyReason(InteropSummaryTests.section(p.json, "11450-4")) == "withheld")
            #expect(InteropSummaryTests.refs(InteropSummaryTests.section(p.json, "10160-0")) == ["MedicationRequest/metformina"])
            #expect(InteropSummaryTests.refs(InteropSummaryTests.section(p.json, "48765-2")) == ["AllergyIntolerance/penicilina"])
            #expect(!p.text.contains("E11.9"))
            #expect(Validator().validate(p.json).filter { $0.severity == .error }.isEmpty)
            // a patient the pharmacy does not serve is not found, like a missing one
            #expect(try await ph.send(.get, "/fhir/Patient/luis/$summary").status == 404)
            #expect(try await op.send(.get, "/fhir/Patient/nadie/$summary").status == 404)
            #expect(try await op.send(.get, "/fhir/Observation/ta/$summary").status == 404)
        }
    }

    /// A section with more than `perType` resources of a type lists the newest and says there
    /// are more; one with fewer says nothing of the kind.
    @Test func aLongSectionSaysItIsNotTheWholeRecord() async throws {
        let server = try TestServer()
        try await server.run { op in
            #expect(try await op.send(.put, "/fhir/Patient/ana", json: InteropSummaryTests.record[0]).status == 201)
            let n = PatientSummary.perType + 1
            let entries = (0..<n).map { i in
                #"{"request":{"method":"POST","url":"Observation"},"resource":{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-01-01T00:\#(String(format: "%02d", i / 60)):\#(String(format: "%02d", i % 60))Z","valueQuantity":{"value":\#(60 + i % 40),"unit":"/min"}}}"#
            }
            let bundle = #"{"resourceType":"Bundle","type":"transaction","entry":[\#(entries.joined(separator: ","))]}"#
            #expect(try await op.send(.post, "/fhir", json: bundle).status == 200)
            let r = try await op.send(.get, "/fhir/Patient/ana/$summary")
            #expect(r.status == 200, "\(r.text)")
            let vitals = InteropSummaryTests.section(r.json, "8716-3")
            #expect(InteropSummaryTests.refs(vitals).count == PatientSummary.perType)
            let text = vitals?["text"]?["div"]?.stringValue ?? ""
            #expect(text.contains("los \(PatientSummary.perType) más recientes") && text.contains("Observation"), "\(text)")
            // the newest is in, the oldest (00:00:00) is not
            let listed = (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter { $0["resourceType"]?.stringValue == "Observation" }
            #expect(!listed.contains { $0["effectiveDateTime"]?.stringValue == "2026-01-01T00:00:00Z" })
            #expect(listed.contains { $0["effectiveDateTime"]?.stringValue == "2026-01-01T00:01:40Z" })
            // a short section does not say so
            let allergies = InteropSummaryTests.section(r.json, "48765-2")
            let allergyText = allergies?["text"]?["div"]?.stringValue ?? ""
            #expect(!allergyText.isEmpty && !allergyText.contains("más recientes"), "\(allergyText)")
        }
    }
}
