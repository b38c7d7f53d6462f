import FHIR
import Foundation
import Testing
@testable import Trust

/// The labeller answers from a lookup built once per rule set (a code table and the ICD-10
/// ranges) with the system folded once per coding; it must give exactly what evaluating every
/// rule in order gives (the reference below is the earlier rule-by-rule code).
@Suite("Sensitivity labeller: the lookup equals rule-by-rule evaluation")
struct SensitivityLabelerLookupTests {
    static func reference(_ rules: [SensitivityLabeler.Rule], system: String, code: String) -> [String] {
        var out: [String] = []
        for r in rules {
            switch r.match {
            case .icd10(let low, let high):
                let s = system.lowercased()
                let icd = s.contains("icd-10") || s.contains("icd10") || s.contains("cie-10") || s.contains("cie10") || s == "urn:oid:2.16.840.1.113883.6.3"
                let c = String(code.uppercased().prefix(3))
                if icd, c.count == 3, c >= low, c <= high { out += r.labels }
            case .codes(let s, let codes):
                if s == system, codes.contains(code) { out += r.labels }
            }
        }
        return out
    }

    @Test func everySystemAndCodeGivesTheRuleByRuleAnswer() {
        let systems = ["http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "ICD10", "http://www.CIE10.mx/codigos", "cie-10",
                       "urn:oid:2.16.840.1.113883.6.3", "URN:OID:2.16.840.1.113883.6.3", "http://loinc.org", "http://snomed.info/sct",
                       "http://example.org/icd-9", "", "http://ejemplo.mx/clasificación/cie-10", "http://loinc.org/"]
        var codes = ["F32.1", "f10.2", "B20", "B24.9", "B25", "Z21", "A50", "A64.0", "A65", "O00", "O99.8", "Z30.0", "Z39", "Q90.9", "Q99",
                     "E11.9", "F0", "F", "", "F09", "F19.x", "F20", "F99", "Ñ10", "51969-4", "7917-8", "86406008", "66590003", "2339-0", "44249-1"]
        for rule in SensitivityLabeler.defaultRules { if case .codes(_, let list) = rule.match { codes += list } }
        let labeller = SensitivityLabeler()
        var compared = 0
        for system in systems {
            for code in codes {
                #expect(labeller.labels(system: system, code: code) == Self.reference(SensitivityLabeler.defaultRules, system: system, code: code),
                        "\(system) | \(code)")
                compared += 1
            }
        }
        #expect(compared > 500)
        #expect(labeller.labels(system: "http://hl7.org/fhir/sid/icd-10", code: "F10.2") == ["ETH", "SUD"])
    }

    @Test func changingTheRulesRebuildsTheLookup() {
        var labeller = SensitivityLabeler()
        #expect(labeller.labels(system: "http://loinc.org", code: "2339-0") == [])
        labeller.rules.append(.init(.codes(system: "http://loinc.org", codes: ["2339-0"]), labels: ["TEST"]))
        labeller.rules.insert(.init(.icd10(low: "E10", high: "E14"), labels: ["DIA"]), at: 0)
        #expect(labeller.labels(system: "http://loinc.org", code: "2339-0") == ["TEST"])
        #expect(labeller.labels(system: "http://hl7.org/fhir/sid/icd-10", code: "E11.9") == ["DIA"])
        #expect(labeller.labels(system: "http://hl7.org/fhir/sid/icd-10", code: "F10.2") == Self.reference(labeller.rules, system: "http://hl7.org/fhir/sid/icd-10", code: "F10.2"))
    }
}
