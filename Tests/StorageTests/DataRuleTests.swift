import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// Consent data rules (class, code, data period, labels with and/or/not) compiled into SQL on
/// every backend must select exactly what `DataRule.matches` selects in Swift over the same
/// resources' index entries — for searches, counts and history — and leave other patients alone.
@Suite("Consent data rules: SQL and Swift agree")
struct DataRuleTests {
    static let icd = "http://hl7.org/fhir/sid/icd-10"
    static let loinc = "http://loinc.org"

    /// Millis of a `yyyy-mm-dd` day (start).
    static func day(_ s: String) -> Int64 { DateRange(s)!.low }

    static let resources: [String] = [
        #"{"resourceType":"Patient","id":"a"}"#,
        #"{"resourceType":"Patient","id":"b"}"#,
        #"{"resourceType":"Observation","id":"glu-2023","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/a"},"effectiveDateTime":"2023-05-01"}"#,
        #"{"resourceType":"Observation","id":"glu-2025","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/a"},"effectiveDateTime":"2025-02-10"}"#,
        #"{"resourceType":"Observation","id":"hba1c-2025","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/a"},"effectivePeriod":{"start":"2024-12-30","end":"2025-01-02"}}"#,
        #"{"resourceType":"Observation","id":"undated","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/a"}}"#,
        #"{"resourceType":"Condition","id":"huntington","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]},"subject":{"reference":"Patient/a"},"onsetDateTime":"2024-03-01"}"#,
        #"{"resourceType":"Condition","id":"dm2","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]},"subject":{"reference":"Patient/a"},"onsetDateTime":"2019-07-15"}"#,
        #"{"resourceType":"Encounter","id":"visit","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/a"},"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]}],"period":{"start":"2024-03-01T10:00:00Z","end":"2024-03-01T11:00:00Z"}}"#,
        #"{"resourceType":"Provenance","id":"prov-h","target":[{"reference":"Condition/huntington"},{"reference":"Patient/a"}],"recorded":"2024-03-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/x"}}]}"#,
        #"{"resourceType":"Observation","id":"b-glu","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/b"},"effectiveDateTime":"2023-05-01"}"#,
        #"{"resourceType":"Condition","id":"b-g10","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]},"subject":{"reference":"Patient/b"}}"#,
    ]

    static let types = ["Patient", "Observation", "Condition", "Encounter", "Provenance"]

    static let rules: [(String, DataRule)] = [
        ("class Observation", .types(["Observation"])),
        ("code G10 (condition and encounter reason)", .codes([DataCode(system: icd, code: "G10")])),
        ("code with any system", .codes([DataCode(system: nil, code: "2339-0")])),
        ("code of the wrong system", .codes([DataCode(system: loinc, code: "G10")])),
        ("data period 2025", .period(low: day("2025-01-01"), high: DateRange("2025-12-31")!.high)),
        ("data period open start", .period(low: nil, high: day("2020-01-01"))),
        ("Observations of 2025", .and([.types(["Observation"]), .period(low: day("2025-01-01"), high: nil)])),
        ("all but G10", .not(.codes([DataCode(system: icd, code: "G10")]))),
        ("Patient or (Observation and not HbA1c)", .or([.types(["Patient"]), .and([.types(["Observation"]), .not(.codes([DataCode(system: loinc, code: "4548-4")]))])])),
        ("withheld unless disclosed", .or([.not(.codes([DataCode(system: icd, code: "G10")])), .resources(["Condition/huntington"])])),
        ("nothing", .nothing),
        ("Provenance of a withheld condition", .not(.and([.types(["Provenance"]), .references(param: "target", targets: ["Condition/huntington"])]))),
        ("Provenance of something else", .not(.references(param: "target", targets: ["Condition/dm2"]))),
    ]

    func query(_ v: Visibility, count: Bool = false) throws -> SearchQuery {
        var (q, _) = try SearchParser().parse(types: DataRuleTests.types, parameters: [("_count", "100")])
        q.visibility = v
        q.countOnly = count
        return q
    }

    @Test(arguments: Backend.allCases)
    func sqlAgreesWithSwift(_ backend: Backend) async throws {
        let f = try await SearchFixture(backend)
        defer { f.cleanup() }
        for r in DataRuleTests.resources { try await f.put(r) }
        let indexer = Indexer()
        var stored: [StoredResource] = []
        for r in DataRuleTests.resources {
            let json = try JSONParser.parse(r)
            let type = json["resourceType"]?.stringValue ?? ""
            let id = json["id"]?.stringValue ?? ""
            if let s = try await f.repository.store.read({ try $0.current(type, id) }) { stored.append(s) }
        }
        #expect(stored.count == DataRuleTests.resources.count)
        for (name, rule) in DataRuleTests.rules {
            let v = Visibility(patients: ["a", "b"], sharedTypes: [], dataRules: ["a": rule])
            // what Swift says, resource by resource
            let expected = stored.filter { s in
                guard s.compartments.contains("a") else { return true }   // patient b is not restricted
                let entries = indexer.entries(for: (try? s.json()) ?? .null, type: s.type)
                return rule.matches(type: s.type, id: s.id, labels: s.labels, entries: entries)
            }.map { "\($0.type)/\($0.id)" }.sorted()
            let found = try await f.repository.search(query(v)).matches.map { "\($0.type)/\($0.id)" }.sorted()
            #expect(found == expected, "\(name)")
            #expect(try await f.repository.search(query(v, count: true)).total == expected.count, "\(name): count")
            // the in-memory check used for reads and includes agrees too
            #expect(stored.filter { v.allows($0) }.map { "\($0.type)/\($0.id)" }.sorted() == expected, "\(name): allows")
            var h = HistoryQuery(scope: .system, count: 100)
            h.visibility = v
            let history = try await f.repository.history(h)
            #expect(history.entries.map { "\($0.resource.type)/\($0.resource.id)" }.sorted() == expected, "\(name): history")
            #expect(history.total == expected.count, "\(name): history count")
        }
        // the Provenance is in patient a's compartment, so the rules about it are not vacuous
        #expect(stored.first { $0.id == "prov-h" }?.compartments == ["a"])
        // the rules are not vacuous: each selects something different
        let g10 = DataRule.codes([DataCode(system: DataRuleTests.icd, code: "G10")])
        #expect(stored.filter { $0.compartments.contains("a") && g10.matches(type: $0.type, id: $0.id, labels: [], entries: indexer.entries(for: (try? $0.json()) ?? .null, type: $0.type)) }.map(\.id).sorted() == ["huntington", "visit"])
        // a deleted resource of a restricted patient leaves history (its rule can no longer be checked)
        _ = try await f.repository.delete("Observation", "glu-2023")
        var h = HistoryQuery(scope: .type("Observation"), count: 100)
        h.visibility = Visibility(patients: ["a", "b"], sharedTypes: [], dataRules: ["a": .types(["Observation"])])
        #expect(!(try await f.repository.history(h)).entries.contains { $0.resource.id == "glu-2023" })
        h.visibility = Visibility(patients: ["a", "b"], sharedTypes: [])
        #expect((try await f.repository.history(h)).entries.contains { $0.resource.id == "glu-2023" })
    }
}
