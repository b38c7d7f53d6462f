import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// Per-patient hidden labels (docs/consent.md: sensitive categories without consent, the right not to
/// know) compiled into SQL on every backend: main query, counts, `_has`, includes and history.
@Suite("Visibility by patient")
struct VisibilityByPatientTests {
    static let act = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

    func parse(_ type: String, _ query: String, _ v: Visibility) throws -> SearchQuery {
        let pairs = query.split(separator: "&").map { p -> (String, String) in
            let kv = p.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! }
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
        var (q, _) = try SearchParser().parse(types: [type], parameters: pairs)
        q.visibility = v
        return q
    }

    @Test(arguments: Backend.allCases)
    func hiddenPerPatientAndDisclosed(_ backend: Backend) async throws {
        let f = try await SearchFixture(backend)
        defer { f.cleanup() }
        try await f.put(#"{"resourceType":"Patient","id":"a"}"#)
        try await f.put(#"{"resourceType":"Patient","id":"b"}"#)
        for (id, p, label) in [("ga", "a", "GDIS"), ("gb", "b", "GDIS"), ("ha", "a", "HIV"), ("na", "a", "")] {
            let meta = label.isEmpty ? "" : #","meta":{"security":[{"system":"\#(VisibilityByPatientTests.act)","code":"\#(label)"}]}"#
            try await f.put(#"{"resourceType":"Observation","id":"\#(id)","status":"final"\#(meta),"code":{"text":"x"},"subject":{"reference":"Patient/\#(p)"}}"#)
        }
        let v = Visibility(patients: ["a", "b"], sharedTypes: [], hiddenLabelsByPatient: ["a": ["GDIS"]])
        func ids(_ q: String, _ v: Visibility, type: String = "Observation") async throws -> [String] {
            try await f.repository.search(parse(type, q, v)).matches.map(\.id).sorted()
        }
        #expect(try await ids("_count=50", v) == ["gb", "ha", "na"])
        var count = try parse("Observation", "_count=50", v)
        count.countOnly = true
        #expect(try await f.repository.search(count).total == 3)
        #expect(try await ids("_has:Observation:subject:_security=\(VisibilityByPatientTests.act)|GDIS", v, type: "Patient") == ["b"])
        let inc = try await f.repository.search(parse("Patient", "_id=a&_revinclude=Observation:subject", v))
        // the guard filters included resources with the same rule
        #expect(inc.included.filter { v.allows(type: $0.type, compartments: $0.compartments, labels: $0.labels, id: $0.id) }.map(\.id).sorted() == ["ha", "na"])
        var h = HistoryQuery(scope: .type("Observation"), count: 50)
        h.visibility = v
        let hist = try await f.repository.history(h)
        #expect(hist.entries.map(\.resource.id).sorted() == ["gb", "ha", "na"])
        #expect(hist.total == 3)
        // a disclosed resource is exempt
        var d = v
        d.disclosed = ["Observation/ga"]
        #expect(try await ids("_count=50", d) == ["ga", "gb", "ha", "na"])
        h.visibility = d
        #expect(try await f.repository.history(h).total == 4)
        // several labels, several patients
        let w = Visibility(patients: ["a", "b"], sharedTypes: [], hiddenLabelsByPatient: ["a": ["GDIS", "HIV"], "b": ["GDIS"]])
        #expect(try await ids("_count=50", w) == ["na"])
        h.visibility = w
        #expect(try await f.repository.history(h).total == 1)
        // the in-memory check agrees
        #expect(!w.allows(type: "Observation", compartments: ["a"], labels: ["HIV"], id: "ha"))
        #expect(w.allows(type: "Observation", compartments: ["a"], labels: [], id: "na"))
        #expect(d.allows(type: "Observation", compartments: ["a"], labels: ["GDIS"], id: "ga"))
    }
}
