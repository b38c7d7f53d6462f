import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// The alert rules over a real Door on SQLite: one Flag and one Task per episode, closed when
/// readings return to range, Goals before defaults, and the Provenance of every alert.
@Suite("Alert rules")
struct AlertTests {
    static func glucose(_ patient: String, _ value: Int, at time: String, meal: String? = nil) -> JSON {
        var o = Fixture.json("""
            {"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},
             "subject":{"reference":"Patient/\(patient)"},"effectiveDateTime":"\(time)",
             "valueQuantity":{"value":\(value),"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}
            """)
        if let meal { o = o.inserting("extension", .array([.object([("url", .string(OpenMHealth.mealExtension)), ("valueCode", .string(meal))])]), after: "resourceType") }
        return o
    }

    static func pressure(_ patient: String, _ s: Int, _ d: Int, at time: String) -> JSON {
        Fixture.json("""
            {"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
             "subject":{"reference":"Patient/\(patient)"},"effectiveDateTime":"\(time)",
             "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":\(s),"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
                          {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":\(d),"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}
            """)
    }

    func write(_ door: Door, _ resources: [JSON]) async throws -> [String] {
        let g = try await door.open(Fixture.operatorPrincipal, audit: nil)
        var ids: [String] = []
        for r in resources { ids.append(try await g.create(r["resourceType"]!.stringValue!, r, ifNoneExist: nil).resource.id) }
        return ids
    }

    func flags(_ door: Door, _ patient: String) async throws -> [JSON] {
        try await Fixture.all(door, "Flag", [("subject", "Patient/\(patient)"), ("_sort", "_lastUpdated")])
    }

    func tasks(_ door: Door, _ patient: String) async throws -> [JSON] {
        try await Fixture.all(door, "Task", [("patient", "Patient/\(patient)"), ("_sort", "_lastUpdated")])
    }

    @Test(arguments: [1, 500])
    func aRunOfHighReadingsIsOneEpisodeClosedWhenBackInRange(batch: Int) async throws {
        let door = try Fixture.door()
        let team = try await write(door, [Fixture.json(#"{"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/ana"},"name":"Equipo de diabetes UMF 10"}"#)])[0]
        let values = [(120, "2026-11-01T08:00:00Z"), (250, "2026-11-02T08:00:00Z"), (280, "2026-11-03T08:00:00Z"), (342, "2026-11-04T08:00:00Z"),
                      (110, "2026-11-05T08:00:00Z"), (150, "2026-11-06T08:00:00Z"), (190, "2026-11-07T08:00:00Z")]
        let ids = try await write(door, values.map { AlertTests.glucose("ana", $0.0, at: $0.1) })
        let consumer = AlertConsumer(accountable: "Organization/umf-10")
        try await door.catchUp(consumer, limit: batch)

        let f = try await flags(door, "ana"), t = try await tasks(door, "ana")
        #expect(f.count == 2, "two episodes: 250-342, then 190")
        #expect(t.count == 2)
        let first = try #require(f.first { $0["period"]?["end"] != nil })
        #expect(first["status"]?.stringValue == "inactive")
        #expect(first["period"]?["start"]?.stringValue == Timestamp(instant: "2026-11-02T08:00:00Z")!.description)
        #expect(first["period"]?["end"]?.stringValue == Timestamp(instant: "2026-11-05T08:00:00Z")!.description)
        let open = try #require(f.first { $0["status"]?.stringValue == "active" })
        #expect(open["extension"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue == "Observation/\(ids[6])")

        let closedTask = try #require(t.first { $0["focus"]?["reference"]?.stringValue == "Observation/\(ids[1])" })
        #expect(closedTask["status"]?.stringValue == "cancelled", "nobody acted on it and the readings came back in range")
        #expect(closedTask["priority"]?.stringValue == "urgent", "342 mg/dL is beyond the critical limit: the open Task was raised")
        #expect(closedTask["owner"]?["reference"]?.stringValue == "CareTeam/\(team)")
        let openTask = try #require(t.first { $0["focus"]?["reference"]?.stringValue == "Observation/\(ids[6])" })
        #expect(openTask["status"]?.stringValue == "requested")
        #expect(openTask["priority"]?.stringValue == "routine")
        #expect(openTask["description"]?.stringValue?.contains("190") == true)

        // caught up: running again writes nothing
        try await door.catchUp(AlertConsumer(accountable: "Organization/umf-10"))
        #expect(try await flags(door, "ana").count == 2)
        #expect(try await tasks(door, "ana").count == 2)

        // the alert's Provenance names the rule (the default, with its version), the reading and the organization
        let (pq, _) = try SearchParser().parse(types: ["Provenance"], parameters: [("target", "Flag/" + open["id"]!.stringValue!), ("_count", "50")])
        let provenances = try await door.store.read { try $0.search(pq).matches }.map { try $0.json().compactString }
        let ruleProvenance = try #require(provenances.first { $0.contains("alert-defaults|2026.1#glucose") })
        #expect(ruleProvenance.contains("NOM-015-SSA2-2010"))
        #expect(ruleProvenance.contains("Device/enlace-monitoring-alerts"))
        #expect(ruleProvenance.contains("Organization/umf-10"))
        #expect(ruleProvenance.contains("Observation/\(ids[6])/_history/1"))
        // the rule engine is a Device with its version
        let device = try #require(try await Fixture.all(door, "Device").first)
        #expect(device["version"]?.arrayValue?.first?["value"]?.stringValue == AlertDefaults.current.version)
    }

    @Test func anActiveGoalIsTheTargetAndItsAuthorIsAccountable() async throws {
        let door = try Fixture.door()
        _ = try await write(door, [Fixture.json("""
            {"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"Glucosa 80-150"},"subject":{"reference":"Patient/beto"},
             "expressedBy":{"reference":"Practitioner/dra-lopez"},
             "target":[{"measure":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},
                        "detailRange":{"low":{"value":80,"unit":"mg/dL"},"high":{"value":150,"unit":"mg/dL"}}}]}
            """)])
        // 160 is within the default (< 180) but outside Beto's Goal; Carla has no Goal
        _ = try await write(door, [AlertTests.glucose("beto", 160, at: "2026-11-03T08:00:00Z"), AlertTests.glucose("carla", 160, at: "2026-11-03T08:00:00Z")])
        try await door.catchUp(AlertConsumer())
        let f = try await flags(door, "beto")
        #expect(f.count == 1)
        #expect(try await flags(door, "carla").isEmpty)
        #expect(f.first?["code"]?["text"]?.stringValue?.contains("80–150") == true)
        let (pq, _) = try SearchParser().parse(types: ["Provenance"], parameters: [("target", "Flag/" + f[0]["id"]!.stringValue!), ("_count", "50")])
        let provenances = try await door.store.read { try $0.search(pq).matches }.map { try $0.json().compactString }
        let p = try #require(provenances.first { $0.contains("Goal/") })
        #expect(p.contains("Practitioner/dra-lopez"))
    }

    @Test func fastingGlucoseHasItsOwnTarget() async throws {
        let rules = AlertRules()
        let fasting = try #require(VitalReading(AlertTests.glucose("ana", 140, at: "2026-11-03T08:00:00Z", meal: "fasting")))
        let random = try #require(VitalReading(AlertTests.glucose("ana", 140, at: "2026-11-03T08:00:00Z")))
        #expect(rules.judge(fasting, goals: [])?.outside == true, "NOM-015: fasting 70-130")
        #expect(rules.judge(random, goals: [])?.outside == false, "NOM-015: postprandial < 180")
        let low = try #require(VitalReading(AlertTests.glucose("ana", 50, at: "2026-11-03T08:00:00Z")))
        #expect(rules.judge(low, goals: [])?.priority == "urgent")
    }

    @Test func bloodPressureIsOneEpisodeWhicheverComponentIsHigh() async throws {
        let door = try Fixture.door()
        _ = try await write(door, [AlertTests.pressure("ana", 150, 85, at: "2026-11-01T08:00:00Z"), AlertTests.pressure("ana", 135, 95, at: "2026-11-02T08:00:00Z"),
                                   AlertTests.pressure("ana", 138, 88, at: "2026-11-03T08:00:00Z")])
        try await door.catchUp(AlertConsumer())
        let f = try await flags(door, "ana")
        #expect(f.count == 1)
        #expect(f.first?["status"]?.stringValue == "inactive")
        #expect(f.first?["code"]?["text"]?.stringValue?.contains("Presión sistólica 150") == true)
        // an SpO2 under 90 % is urgent
        _ = try await write(door, [Fixture.json("""
            {"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2708-6"}]},"subject":{"reference":"Patient/ana"},
             "effectiveDateTime":"2026-11-03T09:00:00Z","valueQuantity":{"value":88,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}
            """)])
        try await door.catchUp(AlertConsumer())
        let spo2 = try await tasks(door, "ana").filter { $0["status"]?.stringValue == "requested" }
        #expect(spo2.count == 1)
        #expect(spo2.first?["priority"]?.stringValue == "urgent")
    }

    @Test func aLateUploadOfAnOldReadingDoesNotCloseTheEpisode() async throws {
        let door = try Fixture.door()
        _ = try await write(door, [AlertTests.glucose("ana", 250, at: "2026-11-05T08:00:00Z"), AlertTests.glucose("ana", 100, at: "2026-11-01T08:00:00Z")])
        try await door.catchUp(AlertConsumer())
        let f = try await flags(door, "ana")
        #expect(f.count == 1)
        #expect(f.first?["status"]?.stringValue == "active")
    }

    /// The right not to know (docs/consent.md): an alert about a result the patient chose not to
    /// be told about — by code (here glucose) or by a sensitivity label — is not shown on their
    /// own record (nor its Task or the Provenance naming the rule), like the result itself; an
    /// alert of another kind still is, and the care team still sees all of them.
    @Test func anAlertTheyChoseNotToKnowIsNotShownToThePatient() async throws {
        let door = try Fixture.door()
        let notToKnow = { (provision: String) in
            Fixture.json("""
                {"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
                 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},
                 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},
                 "provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
                  "reference":{"reference":"Patient/ana"}}],\(provision)}}
                """)
        }
        var labelled = AlertTests.pressure("ana", 150, 80, at: "2026-11-03T08:00:00Z")
        labelled = labelled.inserting("meta", .object([("security", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ActCode")), ("code", .string("MH"))])]))]), after: "resourceType")
        _ = try await write(door, [
            notToKnow(#""code":[{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}]"#),
            notToKnow(#""securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"MH"}]"#),
            AlertTests.glucose("ana", 320, at: "2026-11-01T08:00:00Z"),
            AlertTests.pressure("ana", 185, 95, at: "2026-11-02T08:00:00Z"),
            // another patient's episode of the code Ana chose not to know: not hers, and she sees nothing of it anyway
            AlertTests.glucose("beto", 320, at: "2026-11-01T08:00:00Z"),
        ])
        _ = try await write(door, [AlertTests.pressure("ana", 120, 70, at: "2026-11-02T20:00:00Z"), labelled])
        try await door.catchUp(AlertConsumer(accountable: "Organization/umf-10"))

        // the care team's (here: the operator's) view: three episodes of Ana, each a Flag and a Task
        let allFlags = try await flags(door, "ana"), allTasks = try await tasks(door, "ana")
        #expect(allFlags.count == 3)
        #expect(allTasks.count == 3)
        let glucoseFlag = try #require(allFlags.first { $0.compactString.contains("mg/dL") })
        let labelledFlag = try #require(allFlags.first { $0.compactString.contains("\"MH\"") }, "the alert carries the reading's label")
        let pressureFlag = try #require(allFlags.first { $0["id"] != glucoseFlag["id"] && $0["id"] != labelledFlag["id"] })

        // Ana's own record
        let ana = try await door.open(Fixture.patientPrincipal("ana", scopes: "patient/*.rs"), audit: nil)
        let ids = { (type: String, parameters: [(String, String)]) in
            try await Fetch.all(ana, type, parameters, sort: "_lastUpdated").compactMap { $0["id"]?.stringValue }
        }
        #expect(try await ids("Flag", [("subject", "Patient/ana")]) == [pressureFlag["id"]!.stringValue!],
                "only the blood-pressure alert she did not opt out of")
        let visibleTasks = try await ids("Task", [("patient", "Patient/ana")])
        #expect(visibleTasks.count == 1)
        #expect(visibleTasks.first == allTasks.first {
            $0["focus"]?["reference"]?.stringValue == pressureFlag["extension"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue
        }?["id"]?.stringValue)
        for hidden in [glucoseFlag, labelledFlag] {
            let id = hidden["id"]!.stringValue!
            await #expect(throws: FHIRError.self) { _ = try await ana.read("Flag", id) }
            #expect(try await ids("Provenance", [("target", "Flag/\(id)")]).isEmpty, "the rule's Provenance tells it too")
            #expect(try await !ana.canSee("Flag/\(id)"))
        }
        #expect(try await !ids("Provenance", [("target", "Flag/" + pressureFlag["id"]!.stringValue!)]).isEmpty)
        // a count does not betray them either
        let (count, _) = try SearchParser().parse(types: ["Flag"], parameters: [("subject", "Patient/ana"), ("_summary", "count")])
        #expect(try await ana.search(count).total == 1)

        // the access log's batch check answers exactly what canSee answers, one reference at a time
        var references: Set<String> = ["Flag/nope", "Nope/x", "Flag", "Observation/x/_history/1", "Patient/ana", "Patient/beto"]
        for type in ["Flag", "Task", "Observation", "Provenance", "Consent"] {
            for r in try await Fixture.all(door, type) {
                let id = r["id"]!.stringValue!, version = r["meta"]?["versionId"]?.stringValue ?? "1"
                references.formUnion(["\(type)/\(id)", "\(type)/\(id)/_history/\(version)", "\(type)/\(id)/_history/99"])
            }
        }
        for principal in [Fixture.patientPrincipal("ana", scopes: "patient/*.rs"), Fixture.patientPrincipal("ana"), Fixture.patientPrincipal("beto", scopes: "patient/*.rs"),
                          Fixture.operatorPrincipal] {
            let g = try await door.open(principal, audit: nil)
            var oneByOne = Set<String>()
            for r in references where try await g.canSee(r) { oneByOne.insert(r) }
            #expect(try await g.visibleReferences(references) == oneByOne, "\(principal.subject)")
            if principal.patient == "ana" { #expect(!oneByOne.isEmpty && oneByOne.count < references.count - 3) }
        }
    }
}
