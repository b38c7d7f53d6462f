import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing
@_spi(Unguarded) import Trust

/// What part of a record a Consent reaches (`provision.class`, `code`, `dataPeriod`, `action`)
/// and how nested provisions combine (https://hl7.org/fhir/R4/consent.html#provision).
@Suite("Consent scope: class, code, data period and action")
struct ConsentScopeTests {
    static let icd = "http://hl7.org/fhir/sid/icd-10"

    static func consent(_ id: String, _ provision: String) throws -> ConsentRecord {
        ConsentRecord(json: try JSONParser.parse(#"{"resourceType":"Consent","id":"\#(id)","status":"active","patient":{"reference":"Patient/p"},"provision":\#(provision)}"#))
    }

    /// A resource as the rule sees it: its type and index entries.
    struct Item {
        var type: String
        var id: String
        var entries: [IndexEntry] = []
        static func obs(_ id: String, code: String = "2339-0", on day: String? = nil) -> Item {
            var e = [IndexEntry(parameter: "code", kind: .token, system: "http://loinc.org", value: code)]
            if let day, let r = DateRange(day) { e.append(IndexEntry(parameter: "date", kind: .date, low: Double(r.low), high: Double(r.high))) }
            return Item(type: "Observation", id: id, entries: e)
        }
        static func condition(_ id: String, icd code: String) -> Item {
            Item(type: "Condition", id: id, entries: [IndexEntry(parameter: "code", kind: .token, system: ConsentScopeTests.icd, value: code)])
        }
    }

    static let record: [Item] = [
        .obs("glu-2023", on: "2023-05-01"), .obs("glu-2025", on: "2025-02-10"), .obs("undated"),
        .condition("g10", icd: "G10"), .condition("e11", icd: "E11"),
        Item(type: "DocumentReference", id: "note"),
    ]

    static func visible(_ rule: DataRule) -> [String] {
        record.filter { rule.matches(type: $0.type, id: $0.id, labels: [], entries: $0.entries) }.map(\.id)
    }

    let dr = ["Practitioner/dr"]

    @Test func aGrantNamingAClassReachesOnlyThatClass() throws {
        let c = try ConsentScopeTests.consent("1", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}],"class":[{"system":"http://hl7.org/fhir/resource-types","code":"Observation"}]}"#)
        let e = ConsentEvaluator([c])
        #expect(e.evaluate(actors: dr, purpose: "TREAT", label: nil, at: 0) == .permit("Consent/1"))
        let (rule, basis) = e.dataRule(actors: dr, purpose: "TREAT", base: false, at: 0)
        #expect(ConsentScopeTests.visible(rule) == ["glu-2023", "glu-2025", "undated"])
        #expect(basis == ["Consent/1"])
        // someone else gets nothing from it
        #expect(e.dataRule(actors: ["Practitioner/other"], purpose: "TREAT", base: false, at: 0).rule == .nothing)
        // a treating clinician keeps the whole record: the grant adds, it does not narrow
        #expect(e.dataRule(actors: dr, purpose: "TREAT", base: true, at: 0).rule == .all)
    }

    @Test func codeAndDataPeriodTogether() throws {
        let c = try ConsentScopeTests.consent("2", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}],"code":[{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}],"dataPeriod":{"start":"2025-01-01","end":"2025-12-31"}}"#)
        let rule = ConsentEvaluator([c]).dataRule(actors: dr, purpose: "TREAT", base: false, at: 0).rule
        #expect(ConsentScopeTests.visible(rule) == ["glu-2025"])
    }

    @Test func aPartialDenialNarrowsButDoesNotCloseTheRecord() throws {
        // the patient keeps their notes from a treating team, and everything before 2024
        let c = try ConsentScopeTests.consent("3", #"{"type":"permit","provision":[{"type":"deny","actor":[{"reference":{"reference":"Practitioner/dr"}}],"class":[{"code":"DocumentReference"}]},{"type":"deny","actor":[{"reference":{"reference":"Practitioner/dr"}}],"dataPeriod":{"end":"2023-12-31"}}]}"#)
        let e = ConsentEvaluator([c])
        #expect(e.evaluate(actors: dr, purpose: "TREAT", label: nil, at: 0) != .deny("Consent/3"))
        let rule = e.dataRule(actors: dr, purpose: "TREAT", base: true, at: 0).rule
        #expect(ConsentScopeTests.visible(rule) == ["glu-2025", "undated", "g10", "e11"])
    }

    @Test func aDenialWithAnExceptionOpensOnlyTheException() throws {
        // "nobody but for my glucose results"
        let c = try ConsentScopeTests.consent("4", #"{"type":"deny","provision":[{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}],"code":[{"coding":[{"code":"2339-0"}]}]}]}"#)
        let e = ConsentEvaluator([c])
        #expect(e.evaluate(actors: dr, purpose: "TREAT", label: nil, at: 0) == .permit("Consent/4"))
        #expect(ConsentScopeTests.visible(e.dataRule(actors: dr, purpose: "TREAT", base: true, at: 0).rule) == ["glu-2023", "glu-2025", "undated"])
        // another practitioner: the whole record is denied
        #expect(e.evaluate(actors: ["Practitioner/other"], purpose: "TREAT", label: nil, at: 0) == .deny("Consent/4"))
        #expect(e.dataRule(actors: ["Practitioner/other"], purpose: "TREAT", base: true, at: 0).rule == .nothing)
    }

    @Test func aDenyInAnotherConsentWinsOverAPermit() throws {
        let grant = try ConsentScopeTests.consent("5", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}]}"#)
        let deny = try ConsentScopeTests.consent("6", #"{"type":"deny","actor":[{"reference":{"reference":"Practitioner/dr"}}],"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]}]}"#)
        let (rule, basis) = ConsentEvaluator([grant, deny]).dataRule(actors: dr, purpose: "TREAT", base: false, at: 0)
        #expect(ConsentScopeTests.visible(rule) == ["glu-2023", "glu-2025", "undated", "e11", "note"])
        #expect(basis == ["Consent/5", "Consent/6"])
    }

    @Test func actionSeparatesReadingFromWriting() throws {
        let c = try ConsentScopeTests.consent("7", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}],"action":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentaction","code":"access"}]}]}"#)
        let e = ConsentEvaluator([c])
        #expect(e.evaluate(actors: dr, purpose: "TREAT", label: nil, action: .read, at: 0) == .permit("Consent/7"))
        #expect(e.evaluate(actors: dr, purpose: "TREAT", label: nil, action: .write, at: 0) == .none)
        let w = try ConsentScopeTests.consent("8", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}],"action":[{"coding":[{"code":"correct"}]}]}"#)
        #expect(ConsentEvaluator([w]).evaluate(actors: dr, purpose: "TREAT", label: nil, action: .write, at: 0) == .permit("Consent/8"))
        #expect(ConsentEvaluator([w]).evaluate(actors: dr, purpose: "TREAT", label: nil, action: .read, at: 0) == .none)
    }

    @Test func notToKnowANamedCondition() throws {
        let c = try ConsentScopeTests.consent("9", #"{"type":"deny","actor":[{"reference":{"reference":"Patient/p"}}],"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]}]}"#)
        let e = ConsentEvaluator([c])
        let named = e.notToKnowData(patient: "p", at: 0)
        #expect(named.consents == ["Consent/9"])
        #expect(named.describe == ["G10"])
        #expect(ConsentScopeTests.visible(DataRule.negate(named.withheld)) == ["glu-2023", "glu-2025", "undated", "e11", "note"])
        // per-label preferences stay with `notToKnow`; a named condition is not a label
        #expect(e.notToKnow(patient: "p", at: 0).isEmpty)
        // the care team is not restricted by it
        #expect(e.dataRule(actors: dr, purpose: "TREAT", base: true, at: 0).rule == .all)
    }

    /// A code reaches the codes below it in the shipped hierarchy (CIE-10 `E11` covers `E11.9`),
    /// for a grant, a denial and a condition the patient chose not to know; the description keeps
    /// the code the patient named.
    @Test func aCodeCoversItsDescendants() throws {
        let items: [Item] = [.condition("e11", icd: "E11"), .condition("e11.9", icd: "E11.9"), .condition("e10.9", icd: "E10.9"),
                             Item(type: "Condition", id: "otro", entries: [IndexEntry(parameter: "code", kind: .token, system: "http://example.org/otro", value: "E11.9")])]
        func visible(_ rule: DataRule) -> [String] {
            items.filter { rule.matches(type: $0.type, id: $0.id, labels: [], entries: $0.entries) }.map(\.id)
        }
        let grant = try ConsentScopeTests.consent("10", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}],"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]}]}"#)
        #expect(visible(ConsentEvaluator([grant]).dataRule(actors: dr, purpose: "TREAT", base: false, at: 0).rule) == ["e11", "e11.9"])
        let all = try ConsentScopeTests.consent("11", #"{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}]}"#)
        let deny = try ConsentScopeTests.consent("12", #"{"type":"deny","actor":[{"reference":{"reference":"Practitioner/dr"}}],"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E10-E14"}]}]}"#)
        #expect(visible(ConsentEvaluator([all, deny]).dataRule(actors: dr, purpose: "TREAT", base: false, at: 0).rule) == ["otro"])
        let ntk = try ConsentScopeTests.consent("13", #"{"type":"deny","actor":[{"reference":{"reference":"Patient/p"}}],"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]}]}"#)
        let named = ConsentEvaluator([ntk]).notToKnowData(patient: "p", at: 0)
        #expect(named.describe == ["E11"])
        #expect(visible(DataRule.negate(named.withheld)) == ["e10.9", "otro"])
    }
}
