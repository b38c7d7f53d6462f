import FHIR
import Foundation
import Storage
@testable import Prevention
import Testing
@testable import Server
import Trust

/// docs/prevention.md, "The daily pass": a birthday writes nothing, yet it moves a person into
/// FINDRISC's next age band — so the daily pass recomputes the risk scores of whoever's age
/// changed in its window, through each score's own principal, and rewrites only what changed.
@Suite struct PreventionBirthdayTests {
    @Test(arguments: ServerBackend.allCases)
    func aBirthdayMovesTheFindriscAgeBandAtTheNextDailyPass(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let services = server.services
        let settings = services.preventionSettings
        // she turns 45 tomorrow: FINDRISC counts 0 points under 45 and 2 from 45 to 54
        let today = CivilDate(settings.now())
        let birth = CivilDate(today.year - 45, today.month, today.day).adding(.days(1))
        #expect(birth.years(until: today) == 44)
        try await server.run { c in
            let patient = try await c.send(.put, "/fhir/Patient/lucia", json: #"{"resourceType":"Patient","id":"lucia","gender":"female","birthDate":"\#(birth)"}"#)
            #expect(patient.status == 201)
            let bmi = try await c.send(.put, "/fhir/Observation/bmi-lucia", json: #"{"resourceType":"Observation","id":"bmi-lucia","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"39156-5"}]},"subject":{"reference":"Patient/lucia"},"effectiveDateTime":"\#(today)","valueQuantity":{"value":32,"unit":"kg/m2","system":"http://unitsofmeasure.org","code":"kg/m2"}}"#)
            #expect(bmi.status == 201)
        }
        for consumer in services.preventionConsumers() { try await services.door.catchUp(consumer) }
        let reader = try await services.door.open(RiskConsumer(settings: settings).principal, audit: nil)
        let before = try await reader.read("RiskAssessment", "findrisc-lucia")
        #expect(try before.json()["id"]?.stringValue == "findrisc-lucia")

        // two days later (the pass of her birthday itself was missed): her age is 45
        server.clock.advance(seconds: 2 * 86_400)
        var pass = DailyRecomputation(settings: settings)
        let outcome = try await pass.run(door: services.door)
        #expect(outcome.birthdays == 1 && outcome.risksWritten == 1, "\(outcome)")
        let after = try await reader.read("RiskAssessment", "findrisc-lucia")
        #expect(after.version > before.version)
        // what the engine computes for her today, age band included
        let record = try await RecordReader.read(reader, patient: "lucia")
        let now = CivilDate(settings.now())
        let expected = PreventionResources.findriscAssessment(id: "findrisc-lucia", patient: "lucia", result: FINDRISC.score(FINDRISC.inputs(from: record, asOf: now)),
                                                              inputs: FINDRISC.inputs(from: record, asOf: now), date: PreventionSettings.timestamp(settings.now()))
        #expect(try after.json().setting("meta", nil).setting("occurrenceDateTime", nil) == expected.setting("meta", nil).setting("occurrenceDateTime", nil))
        #expect(FINDRISC.score(FINDRISC.inputs(from: record, asOf: now)) != FINDRISC.score(FINDRISC.inputs(from: record, asOf: today)), "the band moved")
        // its Provenance says why
        let op = try await services.door.open(Principal(subject: "op", scopes: ScopeSet("system/*.rs"), tokenID: "t"), audit: nil)
        let (query, _) = try SearchParser().parse(types: ["Provenance"], parameters: [("target", "RiskAssessment/findrisc-lucia"), ("_count", "20")])
        let provenances = try await op.search(query).matches.map { try $0.json().compactString }
        #expect(provenances.contains { $0.contains("cambió su edad") }, "\(provenances)")

        // the same pass again: nothing to rewrite; and a week later she is out of the window
        #expect(try await pass.run(door: services.door).risksWritten == 0)
        server.clock.advance(seconds: 7 * 86_400)
        pass.birthdayWindowDays = 7
        #expect(try await pass.run(door: services.door).birthdays == 0)
    }
}
