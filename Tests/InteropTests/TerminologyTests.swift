import FHIR
import Foundation
@testable import Interop
import Testing

@Suite struct TerminologyTests {
    let t = TerminologyService.shipped
    let icd = "http://hl7.org/fhir/sid/icd-10"
    let now = Timestamp(instant: "2026-12-02T00:00:00Z")!

    func param(_ p: JSON, _ name: String) -> JSON? {
        p["parameter"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    func codes(_ vs: JSON) -> [String] {
        (vs["expansion"]?["contains"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
    }

    @Test func theSampleHasItsHierarchy() throws {
        let s = try #require(t.systems[icd])
        #expect(s.concepts.count >= 150)
        #expect(s.concepts["E11.9"]?.parent == "E11")
        #expect(s.concepts["E11"]?.parent == "E10-E14")
        #expect(s.concepts["E10-E14"]?.parent == "E00-E90")  // the WHO chapter range, not ICD-10-CM's E00-E89
        #expect(s.concepts["E00-E89"] == nil)
        #expect(Validator().validate(try JSONParser.parse(CIE10Sample.json)).filter { $0.severity == .error }.isEmpty)
    }

    @Test func lookup() throws {
        let p = try t.lookup(system: icd, code: "E119")  // without the dot, as some systems write it
        #expect(param(p, "display")?["valueString"]?.stringValue?.hasPrefix("Diabetes mellitus no insulinodependiente") == true)
        let parent = param(p, "property")?["part"]?.arrayValue?.last?["valueCode"]?.stringValue
        #expect(parent == "E11")
        #expect(throws: FHIRError.self) { try t.lookup(system: icd, code: "Z99.99") }
        #expect(throws: FHIRError.self) { try t.lookup(system: "http://loinc.org/nope", code: "1") }
        #expect(throws: FHIRError.self) { try t.lookup(system: icd, code: nil) }
    }

    @Test func expandIsAccentInsensitive() throws {
        let withAccent = codes(try t.expand(url: icd + "?fhir_vs", filter: "hipertensión", offset: 0, count: 50, now: now))
        let without = codes(try t.expand(url: icd + "?fhir_vs", filter: "HIPERTENSION", offset: 0, count: 50, now: now))
        #expect(withAccent == without)
        #expect(withAccent.contains("I10"))
        // every word must start a word of the display
        let dm = codes(try t.expand(url: icd + "?fhir_vs", filter: "diabetes coma", offset: 0, count: 50, now: now))
        #expect(!dm.isEmpty && dm.allSatisfy { $0.hasPrefix("E1") })
        #expect(dm.contains("E11.0") && !dm.contains("E11.9"))
        // by code, within a value set of descendants, paged
        let e11 = try t.expand(url: icd + "?fhir_vs=isa/E11", filter: nil, offset: 0, count: 3, now: now)
        #expect(codes(e11) == ["E11", "E11.0", "E11.1"])
        if case let .number(n)? = e11["expansion"]?["total"] { #expect(n == "11") } else { Issue.record("no total") }
        #expect(codes(try t.expand(url: icd + "?fhir_vs=isa/E11", filter: nil, offset: 10, count: 3, now: now)) == ["E11.9"])
        #expect(codes(try t.expand(url: icd + "?fhir_vs", filter: "E66", offset: 0, count: 100, now: now)).allSatisfy { $0.hasPrefix("E66") })
        #expect(throws: FHIRError.self) { try t.expand(url: "http://example.org/ValueSet/x", filter: nil, offset: 0, count: 1, now: now) }
    }

    @Test func validateCode() throws {
        let ok = try t.validateCode(url: icd + "?fhir_vs=isa/E10-E14", code: "E11.9", display: nil, system: nil)
        #expect(param(ok, "result")?["valueBoolean"]?.boolValue == true)
        let outside = try t.validateCode(url: icd + "?fhir_vs=isa/E10-E14", code: "I10", display: nil, system: nil)
        #expect(param(outside, "result")?["valueBoolean"]?.boolValue == false)
        let wrongDisplay = try t.validateCode(url: icd, code: "I10", display: "Asma", system: nil)
        #expect(param(wrongDisplay, "result")?["valueBoolean"]?.boolValue == false)
        #expect(param(wrongDisplay, "message") != nil)
        let foldedDisplay = try t.validateCode(url: icd, code: "I10", display: "hipertension esencial (PRIMARIA)", system: nil)
        #expect(param(foldedDisplay, "result")?["valueBoolean"]?.boolValue == true)
    }

    @Test func subsumes() throws {
        func outcome(_ a: String, _ b: String) throws -> String? {
            param(try t.subsumes(system: icd, codeA: a, codeB: b), "outcome")?["valueCode"]?.stringValue
        }
        #expect(try outcome("E11", "E11.9") == "subsumes")
        #expect(try outcome("E11.9", "E00-E90") == "subsumed-by")
        #expect(try outcome("E11.9", "E119") == "equivalent")
        #expect(try outcome("E11", "I10") == "not-subsumed")
        #expect(try outcome("E10", "E11.9") == "not-subsumed")
    }
}
