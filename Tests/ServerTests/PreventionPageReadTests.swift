import FHIR
import Foundation
import Testing
@testable import Prevention
@testable import Server
@_spi(Unguarded) import Trust

/// Reading a page of records in a few searches (`RecordReader.read(_:patients:)`, docs/prevention.md
/// "Reading a page of records") gives, for every asker, exactly what the per-patient read gives:
/// the same resources in the same order, the same patients left out — and the daily pass and the
/// consumers that use it write what the per-patient path computes. Both backends.
@Suite("Prevention: a page of records read in a few searches equals the per-patient read")
struct PreventionPageReadTests {
    static func entry(_ text: String) -> JSON {
        let r = try! JSONParser.parse(text)
        let url = "\(r["resourceType"]!.stringValue!)/\(r["id"]!.stringValue!)"
        return .object([("fullUrl", .string(url)), ("resource", r), ("request", .object([("method", .string("PUT")), ("url", .string(url))]))])
    }

    static let seed: [String] = [
        #"{"resourceType":"Organization","id":"umf","name":"IMSS UMF 10"}"#,
        #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#,
        #"{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-03-01"}"#,
        #"{"resourceType":"Patient","id":"p2","gender":"male","birthDate":"2025-10-01"}"#,
        #"{"resourceType":"Patient","id":"p3","gender":"female","birthDate":"2001-06-15"}"#,
        #"{"resourceType":"Patient","id":"hidden","gender":"male","birthDate":"1960-01-01"}"#,
        #"{"resourceType":"Patient","id":"gone","gender":"male","birthDate":"1990-01-01"}"#,
        // a treating relationship of Dr. Ruiz with p1, p2 and p3 (not with `hidden`)
        #"{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#,
        #"{"resourceType":"Encounter","id":"e2","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p2"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#,
        #"{"resourceType":"Encounter","id":"e3","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p3"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#,
        #"{"resourceType":"Immunization","id":"i1","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/p2"},"occurrenceDateTime":"2025-12-01"}"#,
        #"{"resourceType":"Immunization","id":"i2","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"146"}]},"patient":{"reference":"Patient/p2"},"occurrenceDateTime":"2026-02-01"}"#,
        #"{"resourceType":"Immunization","id":"i3","status":"not-done","statusReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"PATOBJ"}]},"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"19"}]},"patient":{"reference":"Patient/p2"},"occurrenceDateTime":"2025-10-02"}"#,
        #"{"resourceType":"Immunization","id":"ih","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"150"}]},"patient":{"reference":"Patient/hidden"},"occurrenceDateTime":"2025-11-01"}"#,
        // p1's own measurements, and one of p1 performed by p3 (in both compartments)
        #"{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"39156-5"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-10-01","valueQuantity":{"value":31,"code":"kg/m2"}}"#,
        #"{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-09-01","valueQuantity":{"value":6.1,"code":"%"}}"#,
        #"{"resourceType":"Observation","id":"o3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Patient/p3"}],"effectiveDateTime":"2026-08-01","valueQuantity":{"value":142,"code":"mm[Hg]"}}"#,
        #"{"resourceType":"Observation","id":"o4","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2093-3"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-08-01","valueQuantity":{"value":230,"code":"mg/dL"}}"#,
        #"{"resourceType":"Observation","id":"o-deleted","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8280-0"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-08-01","valueQuantity":{"value":99,"code":"cm"}}"#,
        // a sensitive result (HIV): whatever each asker may see of it, both reads must agree
        #"{"resourceType":"Observation","id":"o-hiv","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"75622-1"}]},"subject":{"reference":"Patient/p3"},"effectiveDateTime":"2026-07-01","valueString":"negativo"}"#,
        #"{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]},"subject":{"reference":"Patient/p1"},"asserter":{"reference":"Patient/p3"}}"#,
        #"{"resourceType":"Condition","id":"c-preg","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"77386006"}]},"subject":{"reference":"Patient/p3"},"onsetDateTime":"2026-09-01"}"#,
        #"{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p2"},"recorder":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"03"}]}}"#,
        #"{"resourceType":"Procedure","id":"pr1","status":"completed","code":{"coding":[{"system":"http://snomed.info/sct","code":"71651007"}]},"subject":{"reference":"Patient/p1"},"performedDateTime":"2025-05-01"}"#,
        #"{"resourceType":"MedicationStatement","id":"m1","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"C09AA02"}]},"subject":{"reference":"Patient/p1"}}"#,
        #"{"resourceType":"FamilyMemberHistory","id":"f1","status":"completed","patient":{"reference":"Patient/p1"},"relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"MTH"}]},"condition":[{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]}}]}"#,
    ]

    static let writer = Principal(subject: "test", scopes: ScopeSet("system/*.cruds"), tokenID: "test", role: .service)
    static func audit(_ id: String) -> AuditContext { AuditContext(requestID: id, method: "POST", path: "/fhir", query: nil, remoteAddress: nil) }

    static func load(_ door: Door, _ entries: [JSON]) async throws {
        var start = 0
        while start < entries.count {
            let chunk = Array(entries[start..<min(start + 900, entries.count)])
            start += chunk.count
            let g = try await door.open(writer, audit: audit("load-\(start)"))
            _ = try await g.process(bundle: .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(chunk))]),
                                    options: .init(base: "urn:test", maxEntries: 10_000))
        }
    }

    static func same(_ a: PatientRecord, _ b: PatientRecord) -> Bool {
        a.patient == b.patient && a.immunizations == b.immunizations && a.observations == b.observations && a.procedures == b.procedures
            && a.conditions == b.conditions && a.allergies == b.allergies && a.medications == b.medications && a.familyHistory == b.familyHistory
    }

    @Test(arguments: ServerBackend.allCases)
    func pageReadEqualsPerPatientReadForEveryAsker(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let door = server.services.door
        try await Self.load(door, Self.seed.map(Self.entry))
        // a second version of o1 (a later lastUpdated) and a few deletions
        try await Self.load(door, [Self.entry(#"{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"39156-5"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-10-01","valueQuantity":{"value":33,"code":"kg/m2"}}"#)])
        let g = try await door.open(Self.writer, audit: Self.audit("delete"))
        try await g.delete("Observation", "o-deleted", ifMatch: nil)
        try await g.delete("Patient", "gone", ifMatch: nil)

        let ids = ["p1", "p2", "p3", "hidden", "gone", "missing", "p1"]
        let askers: [(String, Principal)] = [
            ("consumer", RecommendationsConsumer(settings: server.services.preventionSettings).principal),
            ("practitioner", Principal(subject: "user:dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t-dra", role: .practitioner,
                                       fhirUser: "Practitioner/dra", organization: "Organization/umf")),
            ("patient", Principal(subject: "user:p1", scopes: ScopeSet("patient/*.rs"), tokenID: "t-p1", role: .patient, fhirUser: "Patient/p1", patient: "p1")),
            ("narrow scopes", Principal(subject: "user:dra2", scopes: ScopeSet("user/Patient.rs user/Immunization.rs"), tokenID: "t-dra2", role: .practitioner,
                                        fhirUser: "Practitioner/dra", organization: "Organization/umf")),
        ]
        for (name, principal) in askers {
            let guarded = try await door.open(principal, audit: Self.audit("read-\(name)"))
            let page = try await RecordReader.read(guarded, patients: ids)
            var visible: [String] = []
            for id in Set(ids) {
                let one: PatientRecord
                do {
                    one = try await RecordReader.read(guarded, patient: id)
                } catch let e as FHIRError where [403, 404, 410].contains(e.status) {
                    #expect(page[id] == nil, "\(name): \(id) is not readable alone but the page read returned it")
                    continue
                }
                visible.append(id)
                guard let p = page[id] else {
                    Issue.record("\(name): the page read left out \(id)")
                    continue
                }
                #expect(Self.same(one, p), "\(name): \(id) differs")
            }
            #expect(Set(page.keys) == Set(visible), "\(name)")
            switch name {
            case "consumer": #expect(Set(visible) == ["p1", "p2", "p3", "hidden"])
            case "practitioner", "narrow scopes": #expect(Set(visible) == ["p1", "p2", "p3"])
            default: #expect(visible == ["p1"])
            }
        }
        // the facts checked really are in the records: o3 in both compartments, the newest o1, no deleted o-deleted
        let all = try await RecordReader.read(try await door.open(askers[0].1, audit: Self.audit("check")), patients: ["p1", "p3"])
        let ids1 = all["p1"]?.observations.compactMap { $0["id"]?.stringValue } ?? []
        #expect(Set(ids1) == ["o1", "o2", "o3", "o4"])
        #expect(all["p1"]?.observations.first { $0["id"]?.stringValue == "o1" }?["valueQuantity"]?["value"] == .number("33"))
        #expect(all["p3"]?.observations.contains { $0["id"]?.stringValue == "o3" } == true)
        #expect(all["p3"]?.conditions.contains { $0["id"]?.stringValue == "c1" } == true)
        #expect(all["p1"]?.medications.count == 1 && all["p1"]?.familyHistory.count == 1 && all["p1"]?.procedures.count == 1)
    }

    /// The daily pass and the three consumers (which read pages of records) write exactly what the
    /// per-patient read and the engines compute, patient by patient, over a synthetic population.
    @Test(arguments: ServerBackend.allCases)
    func passAndConsumersWriteWhatThePerPatientPathComputes(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let services = server.services
        let door = services.door
        let n = 45
        try await Self.load(door, (0..<n).flatMap(PreventionStorageBench.entries))
        let settings = services.preventionSettings
        var pass = DailyRecomputation(settings: settings)
        pass.pageSize = 20  // three pages
        let outcome = try await pass.run(door: door)
        #expect(outcome.patients == n)
        for c in services.preventionConsumers() { _ = try await door.catchUp(c) }

        let reader = try await door.open(RecommendationsConsumer(settings: settings).principal, audit: Self.audit("check"))
        let now = settings.now()
        let today = CivilDate(now)
        let engine = ScheduleEngine(rules: settings.knowledge.rules)
        var recommendations = 0, findrisc = 0, cvd = 0
        func stored(_ type: String, _ id: String) async throws -> JSON? {
            guard let r = try? await reader.read(type, id) else { return nil }
            return try r.json().setting("meta", nil)
        }
        for k in 0..<n {
            let patient = "p\(k)"
            let record = try await RecordReader.read(reader, patient: patient)
            // the recommendation, computed from the per-patient read
            if let input = record.scheduleInput(asOf: today) {
                let items = engine.evaluate(input)
                if items.contains(where: { $0.rule.kind == .immunization }) {
                    let expected = PreventionResources.immunizationRecommendation(id: "cns-\(patient)", patient: patient, items: items,
                                                                                  date: PreventionSettings.timestamp(now), knowledge: settings.knowledge.version)
                    let got = try await stored("ImmunizationRecommendation", "cns-\(patient)")
                    #expect(got?.setting("date", nil) == expected.setting("meta", nil).setting("date", nil), "cns-\(patient)")
                    recommendations += 1
                }
            }
            let f = FINDRISC.inputs(from: record, asOf: today)
            if let age = f.age, age >= 18, f.bmi != nil || f.waist != nil || f.highGlucose != nil {
                let expected = PreventionResources.findriscAssessment(id: "findrisc-\(patient)", patient: patient, result: FINDRISC.score(f), inputs: f,
                                                                      date: PreventionSettings.timestamp(now))
                let got = try await stored("RiskAssessment", "findrisc-\(patient)")
                #expect(got?.setting("occurrenceDateTime", nil) == expected.setting("meta", nil).setting("occurrenceDateTime", nil), "findrisc-\(patient)")
                findrisc += 1
            } else {
                #expect(try await stored("RiskAssessment", "findrisc-\(patient)") == nil)
            }
            let c = CardiovascularRisk.inputs(from: record, asOf: today)
            if let percent = CardiovascularRisk.score(c, chart: .centralLatinAmerica) {
                let expected = CardiovascularRisk.assessment(id: "cvd-\(patient)", patient: patient, percent: percent, inputs: c, chart: .centralLatinAmerica,
                                                             date: PreventionSettings.timestamp(now))
                let got = try await stored("RiskAssessment", "cvd-\(patient)")
                #expect(got?.setting("occurrenceDateTime", nil) == expected.setting("meta", nil).setting("occurrenceDateTime", nil), "cvd-\(patient)")
                cvd += 1
            } else {
                #expect(try await stored("RiskAssessment", "cvd-\(patient)") == nil)
            }
        }
        // the population exercises every path (children with recommendations, adults with both scores)
        #expect(recommendations >= n / 4 && findrisc >= n / 4 && cvd >= 5, "\(recommendations) \(findrisc) \(cvd)")
        // a second pass over pages writes nothing
        #expect(try await pass.run(door: door).written == 0)
    }
}
