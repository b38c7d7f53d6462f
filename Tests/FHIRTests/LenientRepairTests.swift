import Testing
@testable import FHIR

/// Lenient mode's one repair (`LenientRepair`): empty arrays and objects go, with a warning
/// each; nothing that holds a value does, so validation still refuses what is really wrong.
@Suite("Lenient mode: dropping empty arrays and objects")
struct LenientRepairTests {
    func repair(_ text: String) throws -> (JSON, [FHIR.Issue]) { LenientRepair.dropEmpty(try JSONParser.parse(text)) }

    @Test func emptyArraysAndObjectsAreDroppedWithAWarningEach() throws {
        let (json, warnings) = try repair(#"""
        {"resourceType":"Patient","extension":[],"meta":{},"name":[{"family":"Pérez","given":[]},{}],
         "identifier":[{"system":"s","value":"v","period":{}}],"telecom":[{}],"gender":"female"}
        """#)
        #expect(json == (try JSONParser.parse(#"{"resourceType":"Patient","name":[{"family":"Pérez"}],"identifier":[{"system":"s","value":"v"}],"gender":"female"}"#)))
        #expect(warnings.map(\.expression) == [["Patient.extension"], ["Patient.meta"], ["Patient.name[0].given"], ["Patient.name[1]"],
                                               ["Patient.identifier[0].period"], ["Patient.telecom"]])
        #expect(warnings.allSatisfy { $0.severity == .warning && $0.code == "structure" && !$0.spanish.isEmpty })
        // the repaired resource is valid; the original is not
        #expect(Validator().validate(json).isEmpty)
        #expect(!Validator().validate(try JSONParser.parse(#"{"resourceType":"Patient","extension":[]}"#)).isEmpty)
    }

    @Test func nothingThatHoldsAValueIsDropped() throws {
        let text = #"{"resourceType":"Patient","bogus":{"x":1},"name":[{"family":""}],"active":false,"birthDate":null}"#
        let (json, warnings) = try repair(text)
        #expect(json == (try JSONParser.parse(text)))
        #expect(warnings.isEmpty)
        // so validation still refuses the unknown element and the empty string
        let issues = Validator().validate(json)
        #expect(issues.contains { $0.expression == ["Patient.bogus"] }, "\(issues)")
    }

    @Test func primitiveExtensionsKeepTheirPositions() throws {
        let (json, warnings) = try repair(#"""
        {"resourceType":"Patient","name":[{"given":["Ana","María"],"_given":[{},{"extension":[{"url":"http://example.org/x","valueString":"y"}]}]}],
         "_birthDate":{"extension":[]},"birthDate":"1990-01-01","_gender":[{}]}
        """#)
        let given = json["name"]?.arrayValue?.first?["_given"]?.arrayValue
        #expect(given?.count == 2)
        #expect(given?.first == .null)
        #expect(json["_birthDate"] == nil && json["_gender"] == nil)
        #expect(warnings.map(\.expression) == [["Patient.name[0]._given[0]"], ["Patient._birthDate"], ["Patient._gender"]])
    }

    @Test func locationsInsideABundleNameTheEntry() throws {
        let (json, warnings) = LenientRepair.dropEmpty(try JSONParser.parse(#"""
        {"resourceType":"Bundle","type":"batch","link":[],"entry":[{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","extension":[]},"request":{"method":"POST","url":"Patient"}}]}
        """#))
        #expect(json["link"] == nil)
        #expect(json["entry"]?.arrayValue?.count == 2)
        #expect(warnings.map(\.expression) == [["Bundle.link"], ["Bundle.entry[1].resource.extension"]])
    }
}
