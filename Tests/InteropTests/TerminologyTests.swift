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

    @Test func theWholeCIE10HasItsHierarchy() throws {
        let s = try #require(t.systems[icd])
        #expect(s.concepts.count > 14_000)
        let resource = try JSONParser.parse(CIE10.json)
        #expect(resource["count"] == .number(String(s.concepts.count)))
        #expect(resource["content"]?.stringValue == "complete")
        #expect(s.concepts["E11.9"]?.parent == "E11")
        #expect(s.concepts["E11"]?.parent == "E10-E14")
        #expect(s.concepts["E10-E14"]?.parent == "E00-E90")  // the WHO chapter range, not ICD-10-CM's E00-E89
        #expect(s.concepts["E00-E89"] == nil && s.concepts["S00-T88"] == nil && s.concepts["S00-T98"] != nil)
        // the COVID-19 codes the package lacks, under the WHO's chapter XXII
        #expect(s.concepts["U07.1"]?.parent == "U07")
        #expect(s.concepts["U07"]?.parent == "U00-U49" && s.concepts["U00-U49"]?.parent == "U00-U85")
        // 21 chapters of the package and chapter XXII; every parent is a concept; clean codes and texts
        #expect(s.concepts.values.filter { $0.parent == nil }.count == 22)
        for c in s.concepts.values {
            if let p = c.parent { #expect(s.concepts[p]?.children.contains(c.code) == true, "\(c.code) under \(p)") }
            #expect(c.code == c.code.trimmingCharacters(in: .whitespaces) && !c.code.contains("\u{2013}"), "\(c.code)")
            #expect(!c.display.contains("\u{00AD}") && !c.display.isEmpty, "\(c.code)")
        }
        #expect(Validator().validate(resource).filter { $0.severity == .error }.isEmpty)
        // the search modifiers read the same system
        #expect(CodeHierarchies.shipped[icd]?.descendants(of: "E10-E14")?.contains("E11.9") == true)
    }

    /// The word index must find exactly what a scan of every display finds (the definition:
    /// every filter word starts a word of the display, or the filter starts the code).
    @Test func theIndexedFilterFindsWhatAScanFinds() throws {
        let s = try #require(t.systems[icd])
        func scan(_ filter: String) -> [String] {
            let words = TerminologyService.searchWords(filter)
            let code = filter.trimmingCharacters(in: .whitespaces).uppercased()
            return s.order.filter { c in
                let concept = s.concepts[c]!
                let byCode = c.hasPrefix(code) || c.replacingOccurrences(of: ".", with: "").hasPrefix(code)
                return byCode || words.allSatisfy { w in concept.words.contains { $0.hasPrefix(w) } }
            }
        }
        var rng = SystemRandomNumberGenerator()
        var filters = ["diabetes", "diab insulino", "hipertensión arterial", "E11", "e119", "J4", "tumor maligno mama", "niñez",
                       "COVID", "zz", "a", "infeccion urinaria", "U07.1"]
        let displays = s.order.compactMap { s.concepts[$0]?.words }
        for _ in 0..<40 {
            let words = displays.randomElement(using: &rng)!
            let pick = words.shuffled(using: &rng).prefix(Int.random(in: 1...2, using: &rng))
            filters.append(pick.map { String($0.prefix(Int.random(in: 2...max(2, $0.count), using: &rng))) }.joined(separator: " "))
        }
        for f in filters {
            let expanded = try t.expand(url: icd + "?fhir_vs", filter: f, offset: 0, count: 1000, now: now)
            let expected = scan(f)
            #expect(expanded["expansion"]?["total"] == .number(String(expected.count)), "\(f)")
            #expect(codes(expanded) == Array(expected.prefix(1000)), "\(f)")
        }
    }

    @Test func mexicanStates() throws {
        let states = try #require(t.systems["https://enlace.mx/fhir/CodeSystem/inegi-entidad-federativa"])
        #expect(states.concepts.count == 32)
        #expect(states.concepts["09"]?.display == "Ciudad de México")
        // every RENAPO code of the CURP but NE (born abroad) is exactly one state, and their names agree
        var renapo: [String: String] = [:]
        for c in states.concepts.values {
            let code = try #require(c.properties.first { $0["code"]?.stringValue == "renapo" }?["valueCode"]?.stringValue)
            #expect(renapo.updateValue(c.code, forKey: code) == nil, "\(code) twice")
            let curpName = SpanishName.fold(try #require(CURP.states[code]))
            let name = SpanishName.fold(c.display)
            #expect(curpName.contains(name) || name.contains(curpName), "\(code): \(curpName) / \(name)")
        }
        #expect(Set(renapo.keys) == Set(CURP.states.keys).subtracting(["NE"]))
        let p = try t.lookup(system: states.url, code: "15")
        #expect(param(p, "display")?["valueString"]?.stringValue == "México")
        let property = try #require(p["parameter"]?.arrayValue?.first { $0["part"]?.arrayValue?.first?["valueCode"]?.stringValue == "renapo" })
        #expect(property["part"]?.arrayValue?.last?["valueCode"]?.stringValue == "MC")
        #expect(codes(try t.expand(url: states.url + "?fhir_vs", filter: "nuevo", offset: 0, count: 10, now: now)) == ["19"])
        #expect(codes(try t.expand(url: states.url + "?fhir_vs", filter: "queretaro", offset: 0, count: 10, now: now)) == ["22"])
    }

    /// The catalogues compiled in say what terminology/*.json says (scripts/generate-catalogues.py).
    @Test func theCompiledCataloguesAreTheFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("terminology")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(names == Catalogues.files.map(\.name))
        for (name, json) in Catalogues.files {
            let file = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            #expect(file.trimmingCharacters(in: .newlines) == json, "\(name): run scripts/generate-catalogues.py")
            let parsed = try JSONParser.parse(json)
            #expect(Validator().validate(parsed).filter { $0.severity == .error }.isEmpty, "\(name)")
        }
    }

    @Test func postedParameters() throws {
        func pairs(_ json: String) throws -> [String] {
            try TerminologyParameters.pairs(try JSONParser.parse(json)).map { "\($0.0)=\($0.1)" }
        }
        #expect(try pairs(#"{"resourceType":"Parameters","parameter":[{"name":"coding","valueCoding":{"system":"\#(icd)","code":"E11.9","display":"x"}}]}"#)
            == ["system=\(icd)", "code=E11.9", "display=x"])
        #expect(try pairs(#"{"resourceType":"Parameters","parameter":[{"name":"codingA","valueCoding":{"system":"\#(icd)","code":"E11"}},{"name":"codingB","valueCoding":{"system":"\#(icd)","code":"E11.9"}}]}"#)
            == ["system=\(icd)", "codeA=E11", "codeB=E11.9"])
        // a CodeableConcept: its coding of a shipped system, whatever its place
        #expect(try pairs(#"{"resourceType":"Parameters","parameter":[{"name":"url","valueUri":"\#(icd)"},{"name":"codeableConcept","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"},{"system":"\#(icd)","code":"E11"}]}}]}"#)
            == ["url=\(icd)", "system=\(icd)", "code=E11"])
        #expect(try pairs(#"{"resourceType":"Parameters","parameter":[{"name":"count","valueInteger":5},{"name":"activeOnly","valueBoolean":true}]}"#)
            == ["count=5", "activeOnly=true"])
        for bad in [#"{"resourceType":"Patient"}"#,
                    #"{"resourceType":"Parameters","parameter":[{"valueString":"x"}]}"#,
                    #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":{"resourceType":"ValueSet"}}]}"#,
                    #"{"resourceType":"Parameters","parameter":[{"name":"code"}]}"#,
                    #"{"resourceType":"Parameters","parameter":[{"name":"coding","valueCoding":{"system":"s"}}]}"#,
                    #"{"resourceType":"Parameters","parameter":[{"name":"code","valueQuantity":{"value":1}}]}"#] {
            #expect(throws: FHIRError.self, "\(bad)") { try pairs(bad) }
        }
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
