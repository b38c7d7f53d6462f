import FHIR
import Foundation
@testable import Prevention
import Testing

@Suite struct CartillaKnowledgeTests {
    @Test func theEmbeddedEditionLoads() throws {
        let k = CartillaKnowledge.standard
        #expect(k.version == "2024.1")
        let ids = Set(k.rules.map(\.id))
        for id in ["bcg", "hexavalente", "rotavirus", "neumococica-conjugada", "influenza-infantil", "srp", "dpt-refuerzo", "vph", "mujer-td",
                   "mujer-presion-arterial", "mujer-glucosa", "mujer-citologia", "mujer-mastografia", "hombre-antigeno-prostatico", "mayor-osteoporosis",
                   "agudeza-visual", "tamiz-auditivo", "mayor-salud-bucal"] {
            #expect(ids.contains(id), "\(id)")
        }
        let hexa = try #require(k.rules.first { $0.id == "hexavalente" })
        guard case .series(let doses) = hexa.schedule else { Issue.record("hexavalente is not a series"); return }
        #expect(doses.count == 4)
        #expect(doses[3].minimumInterval == .months(6))
        #expect(doses[0].minimumAge == .weeks(6))
        #expect(hexa.codes.contains(Code(Code.cvx, "146")))
        #expect(hexa.title.en == "Hexavalent (acellular)")
        #expect(k.rules.first { $0.id == "srp" }?.live == true)
        #expect(k.rules.first { $0.id == "mujer-citologia" }?.sex == "female")
        #expect(k.rules.first { $0.id == "mujer-tdpa-embarazo" }?.whenPregnant == true)
    }

    @Test func anOperatorsReplacementIsRead() throws {
        let text = #"""
        {"resourceType":"Bundle","id":"mine","meta":{"versionId":"9"},"type":"collection","entry":[
         {"resource":{"resourceType":"ActivityDefinition","id":"x","url":"urn:x","status":"active","kind":"ServiceRequest","code":{"coding":[{"system":"http://loinc.org","code":"1-8"}]}}},
         {"resource":{"resourceType":"PlanDefinition","id":"p","status":"active","action":[{"id":"x-check","title":"Chequeo","definitionCanonical":"urn:x",
           "timingTiming":{"repeat":{"period":2,"periodUnit":"a"}},
           "extension":[{"url":"https://enlace.mx/fhir/StructureDefinition/prevention-age-window","valueRange":{"low":{"value":18,"code":"a"}}}]}]}}]}
        """#
        let k = try CartillaKnowledge(text: text)
        #expect(k.version == "9")
        #expect(k.rules.map(\.id) == ["x-check"])
        #expect(k.rules[0].schedule == .recurring(every: .years(2), from: .years(18), until: nil))
        let items = ScheduleEngine(rules: k.rules).evaluate(PreventionInput(birthDate: CivilDate(2000, 1, 1), sex: "male", asOf: CivilDate(2025, 1, 1)))
        #expect(items.map(\.status) == [.overdue])
    }

    @Test(arguments: [
        (#"{"resourceType":"Bundle","entry":[]}"#, "no PlanDefinition actions"),
        (#"{"resourceType":"PlanDefinition","action":[{"id":"a","definitionCanonical":"urn:none"}]}"#, "is not in the schedule"),
        (#"{"resourceType":"PlanDefinition","action":[{"definitionCanonical":"urn:none"}]}"#, "has no id"),
        (#"[{"resourceType":"ActivityDefinition","url":"urn:x","code":{"coding":[{"system":"s","code":"c"}]}},{"resourceType":"PlanDefinition","action":[{"id":"a","definitionCanonical":"urn:x","timingTiming":{"repeat":{"period":1,"periodUnit":"h"}}}]}]"#, "periodUnit"),
        (#"[{"resourceType":"ActivityDefinition","url":"urn:x","code":{"coding":[{"system":"s","code":"c"}]}},{"resourceType":"PlanDefinition","action":[{"id":"a","definitionCanonical":"urn:x","action":[{"timingAge":{"value":1.5,"code":"mo"}}]}]}]"#, "whole value"),
        ("not json", "not JSON"),
    ])
    func badSchedulesAreRefusedPrecisely(_ text: String, _ message: String) {
        do {
            _ = try CartillaKnowledge(text: text)
            Issue.record("accepted: \(text)")
        } catch let e as FHIRError {
            #expect(e.status == 400)
            #expect(e.description.contains(message), "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func civilDateArithmetic() {
        #expect(CivilDate(2024, 1, 31).adding(.months(1)) == CivilDate(2024, 2, 29))
        #expect(CivilDate(2024, 2, 29).adding(.years(1)) == CivilDate(2025, 2, 28))
        #expect(CivilDate(2025, 1, 15).adding(.weeks(15)) == CivilDate(2025, 4, 30))
        #expect(CivilDate(2025, 3, 1).adding(.months(-10)) == CivilDate(2024, 5, 1))
        #expect(CivilDate(1965, 3, 1).years(until: CivilDate(2025, 2, 28)) == 59)
        #expect(CivilDate(fhir: "2025-02-30") == nil)
        #expect(CivilDate(fhir: "2025-03-05T10:00:00-06:00") == CivilDate(2025, 3, 5))
    }
}
