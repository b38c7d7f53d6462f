import FHIR
import Foundation
import Testing

/// CURP validated on write (`Validator+CURP.swift`, docs/interop.md#curp-on-write).
@Suite struct CURPOnWriteTests {
    func issues(_ value: String, type: String = "Patient", system: String = CURP.system) throws -> [FHIR.Issue] {
        let json = try JSONParser.parse(#"{"resourceType":"\#(type)","identifier":[{"system":"http://example.org/mrn","value":"1"},{"system":"\#(system)","value":"\#(value)"}]}"#)
        return Validator().validate(json).filter { $0.severity == .error }
    }

    @Test func validCURPPasses() throws {
        let curp = CURP.make(given: "Ana", paternal: "Pérez", maternal: "García", birth: (1980, 1, 1), female: true, state: "DF", homonym: 0)
        #expect(try issues(curp).isEmpty)
        #expect(try issues(curp, type: "Practitioner").isEmpty)
    }

    @Test func eachRuleIsNamed() throws {
        let curp = CURP.make(given: "Ana", paternal: "Pérez", maternal: "García", birth: (1980, 1, 1), female: true, state: "DF", homonym: 0)
        let wrongDigit = String(curp.dropLast()) + (curp.last == "0" ? "1" : "0")
        let checks: [(String, String)] = [
            (wrongDigit, "check digit"), ("PEGA800101MDFRRN0", "18 characters"), (String(curp.prefix(4)) + "801301" + String(curp.dropFirst(10)), "date"),
            (String(curp.prefix(11)) + "ZZ" + String(curp.dropFirst(13)), "state code"),
        ]
        for (value, words) in checks {
            let found = try issues(value)
            #expect(found.count == 1 && found[0].english.contains(words), "\(value): \(found.map(\.english))")
            #expect(found.first?.expression == ["Patient.identifier[1].value"])
            #expect(found.first?.code == "value" && found.first?.spanish.contains("no es una CURP válida") == true)
        }
        // typed in lower case: says how to write it
        let lower = try issues(curp.lowercased())
        #expect(lower.count == 1 && lower[0].english.contains(curp))
        // other identifier systems and other resource types are not CURPs
        #expect(try issues("X1", system: "http://hospital.example.mx/expediente").isEmpty)
        #expect(try issues("X1", type: "Organization").isEmpty)
    }
}
