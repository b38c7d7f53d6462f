import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// `:below`, `:above`, `:in` and `:not-in` on tokens (https://hl7.org/fhir/R4/search.html#token)
/// over the shipped CIE-10 hierarchy, on every backend; and the hierarchy itself.
@Suite("Terminology search modifiers")
struct TerminologySearchTests {
    static let icd = "http://hl7.org/fhir/sid/icd-10"

    func with(_ backend: Backend, _ body: (SearchFixture) async throws -> Void) async throws {
        let f = try await SearchFixture(backend)
        defer { f.cleanup() }
        for (id, code, system) in [("dm", "E11", Self.icd), ("dm-sin-compl", "E11.9", Self.icd), ("dm1", "E10.9", Self.icd),
                                   ("hta", "I10", Self.icd), ("dm-otro-sistema", "E11.9", "http://example.org/otro"),
                                   ("obesidad", "E66", Self.icd)] {
            try await f.put(#"{"resourceType":"Condition","id":"\#(id)","code":{"coding":[{"system":"\#(system)","code":"\#(code)"}]},"subject":{"reference":"Patient/p"}}"#)
        }
        try await body(f)
    }

    @Test func theHierarchyKnowsBelowAndAbove() throws {
        let h = try #require(CodeHierarchies.shipped[Self.icd])
        let below = try #require(h.descendants(of: "E11"))
        #expect(below.first == "E11")
        #expect(Set(below) == Set(["E11"] + (0...9).map { "E11.\($0)" }))
        #expect(h.ancestors(of: "E11.9") == ["E11.9", "E11", "E10-E14", "E00-E90"])
        #expect(h.resolve("e119") == "E11.9")
        #expect(h.descendants(of: "Z99.99") == nil)
    }

    @Test(arguments: Backend.allCases)
    func belowFindsTheCodeAndItsDescendants(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Condition", "code:below=\(Self.icd)|E11") == ["dm", "dm-sin-compl"])
            // the block E10-E14 holds both kinds of diabetes; the other system's E11.9 never matches
            #expect(try await f.search("Condition", "code:below=\(Self.icd)|E10-E14") == ["dm", "dm-sin-compl", "dm1"])
            // a code without its system is looked up in every shipped hierarchy
            #expect(try await f.search("Condition", "code:below=E11") == ["dm", "dm-sin-compl"])
            // comma = OR of the expansions
            #expect(try await f.search("Condition", "code:below=\(Self.icd)|E11,\(Self.icd)|I10") == ["dm", "dm-sin-compl", "hta"])
            // a leaf is just itself
            #expect(try await f.search("Condition", "code:below=\(Self.icd)|E11.9") == ["dm-sin-compl"])
            // combined with another filter (AND), and counted like any search
            #expect(try await f.search("Condition", "code:below=\(Self.icd)|E11&_id=dm,hta") == ["dm"])
            #expect(try await f.result("Condition", "code:below=\(Self.icd)|E00-E90&_summary=count&_total=accurate").total == 4)
        }
    }

    @Test(arguments: Backend.allCases)
    func aboveFindsTheCodeAndItsAncestors(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Condition", "code:above=\(Self.icd)|E11.9") == ["dm", "dm-sin-compl"])
            #expect(try await f.search("Condition", "code:above=\(Self.icd)|E10.9") == ["dm1"])
        }
    }

    @Test(arguments: Backend.allCases)
    func inAndNotInTakeImplicitValueSets(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Condition", "code:in=\(Self.icd)?fhir_vs=isa/E11") == ["dm", "dm-sin-compl"])
            #expect(try await f.search("Condition", "code:in=\(Self.icd)?fhir_vs") == ["dm", "dm-sin-compl", "dm1", "hta", "obesidad"])
            #expect(try await f.search("Condition", "code:not-in=\(Self.icd)?fhir_vs=isa/E10-E14") == ["dm-otro-sistema", "hta", "obesidad"])
        }
    }

    @Test(arguments: Backend.allCases)
    func whatCannotBeExpandedIsA400ThatSaysWhy(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            for (q, code) in [("code:below=http://loinc.org|2339-0", "not-supported"),        // no hierarchy for LOINC
                              ("code:below=\(Self.icd)|Z99.99", "code-invalid"),              // not in the sample
                              ("code:below=\(Self.icd)|", "invalid"),
                              ("code:in=ValueSet/diabetes", "not-supported"),                   // stored value sets are not expanded
                              ("code:in=\(Self.icd)?fhir_vs=descendent-of/E11", "not-supported"),
                              ("code:in=http://loinc.org?fhir_vs", "not-supported")] {
                do {
                    _ = try await f.search("Condition", q)
                    Issue.record("\(q) was accepted")
                } catch let e as FHIRError {
                    #expect(e.status == 400, "\(q)")
                    #expect(e.issues.first?.code == code, "\(q): \(e)")
                }
            }
        }
    }
}
