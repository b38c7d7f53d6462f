import FHIR
import Foundation
@testable import Interop
import Testing

/// Value sets defined by a ValueSet resource's compose, and the stored resources a request needs
/// (ValueSetCompose.swift, StoredTerminology.swift; docs/interop.md#terminology). The expected
/// members are computed here from the CIE-10's parent links, not by the code under test.
@Suite struct ValueSetComposeTests {
    let shipped = TerminologyService.shipped
    let icd = "http://hl7.org/fhir/sid/icd-10"
    let now = Timestamp(instant: "2026-12-07T00:00:00Z")!

    func json(_ text: String) throws -> JSON { try JSONParser.parse(Array(text.utf8)) }
    func text(_ j: JSON) -> String { String(decoding: j.serialized(), as: UTF8.self) }
    func codes(_ vs: JSON) -> [String] { (vs["expansion"]?["contains"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue } }
    func result(_ p: JSON) -> Bool? {
        p["parameter"]?.arrayValue?.first { $0["name"]?.stringValue == "result" }?["valueBoolean"]?.boolValue
    }
    func status(_ body: () throws -> Any) -> Int? {
        do { _ = try body(); return nil } catch let e as FHIRError { return e.status } catch { return -1 }
    }

    /// The codes below `root` (itself included), in hierarchy order, from the parent links alone.
    func below(_ root: String) throws -> [String] {
        let s = try #require(shipped.systems[icd])
        return s.order.filter { code in
            var at: String? = code
            while let c = at { if c == root { return true }; at = s.concepts[c]?.parent }
            return false
        }
    }

    func service(_ valueSets: [String]) throws -> TerminologyService {
        var sets: [String: JSON] = [:]
        for text in valueSets { let vs = try json(text); sets[vs["url"]!.stringValue!] = vs }
        return TerminologyService(systems: shipped.systems, valueSets: sets)
    }

    @Test func includeFiltersConceptsAndExcludes() throws {
        let t = try service([#"""
        {"resourceType":"ValueSet","url":"https://example.org/vs/diabetes","status":"active","compose":{
          "include":[{"system":"http://hl7.org/fhir/sid/icd-10","filter":[{"property":"concept","op":"is-a","value":"E10-E14"}]},
                     {"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"O24.4","display":"Diabetes gestacional"},{"code":"R73.9"}]}],
          "exclude":[{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"E11.9"}]},
                     {"system":"http://hl7.org/fhir/sid/icd-10","filter":[{"property":"concept","op":"is-a","value":"E14"}]}]}}
        """#])
        let expected = try below("E10-E14").filter { $0 != "E11.9" && !$0.hasPrefix("E14") } + ["O24.4", "R73.9"]
        let all = try t.expand(url: "https://example.org/vs/diabetes", filter: nil, offset: 0, count: 1000, now: now)
        #expect(codes(all) == expected)
        #expect(all["expansion"]?["total"] == .number(String(expected.count)))
        // the display the rule gives wins; else the code system's
        let contains = all["expansion"]?["contains"]?.arrayValue ?? []
        #expect(contains.first { $0["code"]?.stringValue == "O24.4" }?["display"]?.stringValue == "Diabetes gestacional")
        #expect(contains.first { $0["code"]?.stringValue == "R73.9" }?["display"]?.stringValue == shipped.systems[icd]?.concepts["R73.9"]?.display)
        // the filter and paging work as on implicit value sets
        let coma = codes(try t.expand(url: "https://example.org/vs/diabetes", filter: "coma", offset: 0, count: 100, now: now))
        #expect(!coma.isEmpty && coma.allSatisfy { expected.contains($0) && shipped.systems[icd]!.concepts[$0]!.display.lowercased().contains("coma") })
        #expect(codes(try t.expand(url: "https://example.org/vs/diabetes", filter: "E119", offset: 0, count: 10, now: now)).isEmpty)
        #expect(codes(try t.expand(url: "https://example.org/vs/diabetes", filter: nil, offset: 2, count: 2, now: now)) == Array(expected[2..<4]))
        // validate-code: a member, an excluded code, a display
        #expect(result(try t.validateCode(url: "https://example.org/vs/diabetes", code: "E11.0", display: nil, system: icd)) == true)
        #expect(result(try t.validateCode(url: "https://example.org/vs/diabetes", code: "E110", display: nil, system: nil)) == true)
        #expect(result(try t.validateCode(url: "https://example.org/vs/diabetes", code: "E11.9", display: nil, system: nil)) == false)
        #expect(result(try t.validateCode(url: "https://example.org/vs/diabetes", code: "E11.0", display: nil, system: "http://loinc.org")) == false)
        #expect(result(try t.validateCode(url: "https://example.org/vs/diabetes", code: "O24.4", display: "diabetes GESTACIONAL", system: nil)) == true)
        #expect(result(try t.validateCode(url: "https://example.org/vs/diabetes", code: "O24.4", display: "Asma", system: nil)) == false)
    }

    @Test func hierarchyOperatorsSelectWhatTheParentLinksSay() throws {
        func members(_ op: String, _ value: String) throws -> [String] {
            let vs = try json(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"\#(icd)","filter":[{"property":"concept","op":"\#(op)","value":"\#(value)"}]}]}}"#)
            return codes(try shipped.expand(url: nil, valueSet: vs, filter: nil, offset: 0, count: 1000, now: now))
        }
        #expect(try members("is-a", "E11") == below("E11"))
        #expect(try members("descendent-of", "E11") == below("E11").filter { $0 != "E11" })
        #expect(try members("=", "E11.9") == ["E11.9"])
        #expect(try members("in", "E11.9,I10, J45.9") == ["E11.9", "I10", "J45.9"].sorted { a, b in
            shipped.systems[icd]!.order.firstIndex(of: a)! < shipped.systems[icd]!.order.firstIndex(of: b)! })
        let ancestors = try members("generalizes", "E11.9")
        #expect(ancestors.contains("E11") && ancestors.contains("E10-E14") && ancestors.contains("E11.9") && ancestors.count == 4, "\(ancestors)")
        // is-not-a: everything else — checked by count against the whole system
        let rest = try shipped.expand(url: nil, valueSet: try json(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"\#(icd)","filter":[{"property":"concept","op":"is-not-a","value":"E11"}]}]}}"#),
                                      filter: nil, offset: 0, count: 0, now: now)
        let notE11 = shipped.systems[icd]!.order.count - (try below("E11")).count
        #expect(rest["expansion"]?["total"] == .number(String(notE11)))
        // two filters: both hold
        let both = try json(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"\#(icd)","filter":[{"property":"concept","op":"is-a","value":"E10-E14"},{"property":"parent","op":"=","value":"E11"}]}]}}"#)
        #expect(codes(try shipped.expand(url: nil, valueSet: both, filter: nil, offset: 0, count: 100, now: now)) == (try below("E11")).filter { $0 != "E11" })
    }

    @Test func nestedValueSetsAreIntersectedAndCyclesRefused() throws {
        let t = try service([
            #"{"resourceType":"ValueSet","url":"https://example.org/vs/e11","status":"active","compose":{"include":[{"valueSet":["http://hl7.org/fhir/sid/icd-10?fhir_vs=isa/E11"]}]}}"#,
            #"{"resourceType":"ValueSet","url":"https://example.org/vs/some","status":"active","compose":{"include":[{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"E11.0"},{"code":"E11.9"},{"code":"I10"}]}]}}"#,
            #"{"resourceType":"ValueSet","url":"https://example.org/vs/both","status":"active","compose":{"include":[{"valueSet":["https://example.org/vs/e11","https://example.org/vs/some"]}]}}"#,
            #"{"resourceType":"ValueSet","url":"https://example.org/vs/a","status":"active","compose":{"include":[{"valueSet":["https://example.org/vs/b"]}]}}"#,
            #"{"resourceType":"ValueSet","url":"https://example.org/vs/b","status":"active","compose":{"include":[{"valueSet":["https://example.org/vs/a"]}]}}"#,
        ])
        #expect(codes(try t.expand(url: "https://example.org/vs/e11", filter: nil, offset: 0, count: 100, now: now)) == (try below("E11")))
        #expect(codes(try t.expand(url: "https://example.org/vs/both", filter: nil, offset: 0, count: 100, now: now)) == ["E11.0", "E11.9"])
        #expect(status { try t.expand(url: "https://example.org/vs/a", filter: nil, offset: 0, count: 10, now: now) } == 422)
        #expect(status { try t.expand(url: "https://example.org/vs/nobody", filter: nil, offset: 0, count: 10, now: now) } == 404)
    }

    @Test func whatCannotBeEvaluatedSaysWhy() throws {
        func expand(_ text: String) throws -> JSON { try shipped.expand(url: nil, valueSet: try json(text), filter: nil, offset: 0, count: 10, now: now) }
        // an enumerated code of a system this server does not have: as the rule writes it
        let loinc = try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"http://loinc.org","concept":[{"code":"4548-4","display":"Hemoglobina A1c"}]}]}}"#)
        #expect(codes(loinc) == ["4548-4"])
        #expect(loinc["expansion"]?["contains"]?.arrayValue?.first?["display"]?.stringValue == "Hemoglobina A1c")
        // ... but a filter or a whole system needs it
        #expect(status { try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"http://loinc.org"}]}}"#) } == 404)
        #expect(status { try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"http://loinc.org","filter":[{"property":"concept","op":"is-a","value":"x"}]}]}}"#) } == 404)
        // a code the system does not have, an unsupported operator, a wrong version, no system nor valueSet, neither compose nor expansion
        var e: FHIRError?
        do { _ = try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"\#(icd)","concept":[{"code":"E11.9"},{"code":"NOPE"}]}]}}"#) } catch let x as FHIRError { e = x }
        #expect(e?.status == 422 && e?.issues.first?.expression == ["ValueSet.compose.include[0].concept[1]"], "\(String(describing: e))")
        #expect(status { try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"\#(icd)","filter":[{"property":"concept","op":"regex","value":"E1.*"}]}]}}"#) } == 422)
        #expect(status { try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"\#(icd)","version":"1999","concept":[{"code":"E11.9"}]}]}}"#) } == 404)
        #expect(status { try expand(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{}]}}"#) } == 422)
        #expect(status { try expand(#"{"resourceType":"ValueSet","status":"active"}"#) } == 422)
        // a value set stored already expanded
        let expanded = try expand(#"{"resourceType":"ValueSet","status":"active","expansion":{"timestamp":"2026-01-01","contains":[{"system":"http://loinc.org","code":"2339-0","display":"Glucosa"},{"abstract":true,"contains":[{"system":"http://loinc.org","code":"4548-4"}]}]}}"#)
        #expect(codes(expanded) == ["2339-0", "4548-4"])
    }

    @Test func aStoredCodeSystemIsFilteredByItsProperties() throws {
        let cs = try #require(TerminologyService.load(try json(#"""
        {"resourceType":"CodeSystem","url":"https://example.org/cs/triage","version":"2","name":"Triage","status":"active","content":"complete",
         "property":[{"code":"color","type":"code"}],
         "concept":[{"code":"1","display":"Reanimación","property":[{"code":"color","valueCode":"rojo"}]},
                    {"code":"2","display":"Emergencia","property":[{"code":"color","valueCode":"naranja"}],
                     "concept":[{"code":"2a","display":"Emergencia pediátrica","property":[{"code":"color","valueCode":"naranja"}]}]},
                    {"code":"5","display":"No urgente"}]}
        """#)))
        var systems = shipped.systems
        systems[cs.url] = cs
        let t = TerminologyService(systems: systems)
        func members(_ op: String, _ value: String) throws -> [String] {
            codes(try t.expand(url: nil, valueSet: try json(#"{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"https://example.org/cs/triage","version":"2","filter":[{"property":"color","op":"\#(op)","value":"\#(value)"}]}]}}"#),
                               filter: nil, offset: 0, count: 10, now: now))
        }
        #expect(try members("=", "naranja") == ["2", "2a"])
        #expect(try members("in", "rojo,naranja") == ["1", "2", "2a"])
        #expect(try members("not-in", "naranja") == ["1", "5"])
        #expect(try members("exists", "false") == ["5"])
        #expect(status { try members("exists", "maybe") } == 422)
        // and served by the CodeSystem operations like a shipped one
        #expect(text(try t.lookup(system: "https://example.org/cs/triage", code: "2a")).contains("Emergencia pediátrica"))
        #expect(text(try t.subsumes(system: "https://example.org/cs/triage", codeA: "2", codeB: "2a")).contains("subsumes"))
    }

    @Test func storedResourcesAreFetchedTransitivelyAndBounded() async throws {
        let store: [String: String] = [
            "ValueSet https://example.org/vs/top": #"{"resourceType":"ValueSet","url":"https://example.org/vs/top","status":"active","compose":{"include":[{"valueSet":["https://example.org/vs/inner"]},{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"I10"}]}]}}"#,
            "ValueSet https://example.org/vs/inner": #"{"resourceType":"ValueSet","url":"https://example.org/vs/inner","status":"active","compose":{"include":[{"system":"https://example.org/cs/local"}]}}"#,
            "CodeSystem https://example.org/cs/local": #"{"resourceType":"CodeSystem","url":"https://example.org/cs/local","status":"active","content":"complete","concept":[{"code":"a","display":"Uno"},{"code":"b","display":"Dos"}]}"#,
        ]
        actor Log { var asked: [String] = []; func add(_ s: String) { asked.append(s) } }
        let log = Log()
        let fetch: StoredTerminology.Fetch = { type, url, _ in
            await log.add(type + " " + url)
            return try store[type + " " + url].map { try JSONParser.parse(Array($0.utf8)) }
        }
        let t = try await StoredTerminology.service(valueSet: "https://example.org/vs/top", fetch: fetch)
        #expect(codes(try t.expand(url: "https://example.org/vs/top", filter: nil, offset: 0, count: 10, now: now)) == ["a", "b", "I10"])
        // the shipped CIE-10 is never fetched; each stored resource once
        let asked = await log.asked
        #expect(Set(asked) == Set(store.keys) && asked.count == 3, "\(asked)")
        // shipped only: nothing fetched
        _ = try await StoredTerminology.service(codeSystem: icd, fetch: fetch)
        let after = await log.asked
        #expect(after.count == 3)
        // an endless chain of value sets stops at the bound
        let endless: StoredTerminology.Fetch = { type, url, _ in
            guard type == "ValueSet" else { return nil }
            return try JSONParser.parse(Array(#"{"resourceType":"ValueSet","url":"\#(url)","status":"active","compose":{"include":[{"valueSet":["\#(url)x"]}]}}"#.utf8))
        }
        await #expect(throws: FHIRError.self) { _ = try await StoredTerminology.service(valueSet: "https://example.org/vs/x", fetch: endless) }
    }
}
