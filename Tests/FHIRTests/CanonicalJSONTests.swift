import Testing
@testable import FHIR

/// FHIR canonical JSON (https://hl7.org/fhir/R4/json.html#canonical), rule by rule.
@Suite struct CanonicalJSONTests {
    @Test func ordersPropertiesAlphabeticallyAtEveryLevelAndKeepsArrayOrder() throws {
        let json = try JSONParser.parse(#"{"resourceType":"Patient","name":[{"given":["Ana","María"],"family":"López"}],"active":true,"birthDate":"1980-01-02"}"#)
        #expect(CanonicalJSON.string(json) == #"{"active":true,"birthDate":"1980-01-02","name":[{"family":"López","given":["Ana","María"]}],"resourceType":"Patient"}"#)
    }

    @Test func noWhitespaceBetweenTokensButValuesKeepTheirSpaces() throws {
        let json = try JSONParser.parse("{\n  \"b\" : \"dos  espacios y\\nlínea\" ,\n  \"a\" : [ 1 , 2 ]\n}")
        #expect(CanonicalJSON.string(json) == #"{"a":[1,2],"b":"dos  espacios y\nlínea"}"#)
    }

    @Test func numbersKeepTheirPrecisionAndNonASCIIStaysUTF8() throws {
        let json = try JSONParser.parse(#"{"valueDecimal":1.50,"x":-0.0100,"t":"Ñandú \u00e9 \"q\" \\"}"#)
        let bytes = CanonicalJSON.bytes(json)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"t":"Ñandú é \"q\" \\","valueDecimal":1.50,"x":-0.0100}"#)
        #expect(bytes.contains(0xC3))  // é as UTF-8, not \u00e9
    }

    @Test func methodsOmitWhatTheySay() throws {
        let json = try JSONParser.parse(#"{"resourceType":"MedicationRequest","id":"x","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"status":"active"}"#)
        #expect(CanonicalJSON.string(json, method: .json).contains(#""meta""#))
        #expect(CanonicalJSON.string(json, method: .data) == #"{"id":"x","meta":{"versionId":"1"},"resourceType":"MedicationRequest","status":"active"}"#)
        #expect(CanonicalJSON.string(json, method: .static) == #"{"id":"x","resourceType":"MedicationRequest","status":"active"}"#)
        #expect(CanonicalJSON.string(json, method: .static, alsoOmitting: ["id"]) == #"{"resourceType":"MedicationRequest","status":"active"}"#)
        #expect(CanonicalJSON.Method.static.rawValue == "http://hl7.org/fhir/canonicalization/json#static")
    }

    @Test func memberOrderOfTheInputDoesNotChangeTheBytes() throws {
        let a = try JSONParser.parse(#"{"z":{"b":1,"a":2},"y":[{"d":null,"c":false}]}"#)
        let b = try JSONParser.parse(#"{"y":[{"c":false,"d":null}],"z":{"a":2,"b":1}}"#)
        #expect(CanonicalJSON.bytes(a) == CanonicalJSON.bytes(b))
        // but a changed value does
        let c = try JSONParser.parse(#"{"y":[{"c":true,"d":null}],"z":{"a":2,"b":1}}"#)
        #expect(CanonicalJSON.bytes(a) != CanonicalJSON.bytes(c))
    }
}
