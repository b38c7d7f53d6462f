import FHIR
import Foundation
import Testing

@Suite("Search over HTTP: bundles, links, operations")
struct SearchHTTPTests {
    func load(_ c: Client) async throws {
        try await c.send(.put, "/fhir/Organization/imss", json: #"{"resourceType":"Organization","id":"imss","name":"IMSS UMF 10"}"#)
        try await c.send(.put, "/fhir/Practitioner/dra", json: #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#)
        try await c.send(.put, "/fhir/Patient/ana", json: #"{"resourceType":"Patient","id":"ana","name":[{"family":"Pérez"}],"managingOrganization":{"reference":"Organization/imss"},"generalPractitioner":[{"reference":"Practitioner/dra"}]}"#)
        try await c.send(.put, "/fhir/Patient/luis", json: #"{"resourceType":"Patient","id":"luis","name":[{"family":"López"}]}"#)
        for i in 0..<7 {
            let code = i % 2 == 0 ? "2339-0" : "8867-4"
            try await c.send(.put, "/fhir/Observation/o\(i)", json: #"{"resourceType":"Observation","id":"o\#(i)","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"\#(code)"}]},"subject":{"reference":"Patient/ana"},"performer":[{"reference":"Practitioner/dra"}],"effectiveDateTime":"2026-0\#(i + 1)-01T10:00:00Z","valueQuantity":{"value":\#(i + 1)}}"#)
        }
        try await c.send(.put, "/fhir/Observation/other", json: #"{"resourceType":"Observation","id":"other","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/luis"}}"#)
    }

    func ids(_ r: Client.Reply, mode: String = "match") -> [String] {
        (r.json["entry"]?.arrayValue ?? []).filter { $0["search"]?["mode"]?.stringValue == mode }.compactMap { $0["resource"]?["id"]?.stringValue }
    }

    @Test func bundlePagingAndLinks() async throws {
        try await TestServer().run { c in
            try await load(c)
            var url: String? = "/fhir/Observation?subject=Patient/ana&_sort=date&_count=3"
            var seen: [String] = []
            var pages = 0
            while let u = url, pages < 10 {
                let r = try await c.send(.get, u)
                #expect(r.status == 200)
                #expect(r.json["type"]?.stringValue == "searchset")
                #expect(r.json["total"] == .number("7"))
                seen += ids(r)
                let links = r.json["link"]?.arrayValue ?? []
                #expect(links.first?["relation"]?.stringValue == "self")
                if pages > 0 { #expect(links.contains { $0["relation"]?.stringValue == "previous" }) }
                url = links.first { $0["relation"]?.stringValue == "next" }?["url"]?.stringValue.map { String($0[$0.range(of: "/fhir/")!.lowerBound...]) }
                pages += 1
            }
            #expect(seen == ["o0", "o1", "o2", "o3", "o4", "o5", "o6"])
            #expect(pages == 3)
            // POST _search gives the same answer
            let post = try await c.send(.post, "/fhir/Observation/_search", body: Array("subject=Patient/ana&_count=100".utf8),
                                        headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(ids(post).count == 7)
            // unknown parameters: lenient ignores them and leaves them out of the self link; strict refuses
            let lenient = try await c.send(.get, "/fhir/Patient?bogus=1&family=lopez")
            #expect(ids(lenient) == ["luis"])
            #expect(lenient.json["link"]?.arrayValue?.first?["url"]?.stringValue?.contains("bogus") == false)
            let strict = try await c.send(.get, "/fhir/Patient?bogus=1", headers: ["Prefer": "handling=strict"])
            #expect(strict.status == 400)
        }
    }

    @Test func includesSummaryElementsAndCompartments() async throws {
        try await TestServer().run { c in
            try await load(c)
            let inc = try await c.send(.get, "/fhir/Observation?_id=o0&_include=Observation:subject&_revinclude=Provenance:target")
            #expect(ids(inc) == ["o0"])
            #expect(ids(inc, mode: "include").contains("ana"))
            #expect((inc.json["entry"]?.arrayValue ?? []).contains { $0["resource"]?["resourceType"]?.stringValue == "Provenance" })
            let count = try await c.send(.get, "/fhir/Observation?_summary=count")
            #expect(count.json["total"] == .number("8"))
            #expect(count.json["entry"] == nil)
            let summary = try await c.send(.get, "/fhir/Patient?_id=ana&_summary=true")
            let p = summary.json["entry"]?.arrayValue?.first?["resource"]
            #expect(p?["name"] != nil)
            #expect(p?["managingOrganization"] != nil)  // a summary element
            #expect(p?["generalPractitioner"] == nil)   // not one
            #expect(p?["meta"]?["tag"]?.arrayValue?.contains { $0["code"]?.stringValue == "SUBSETTED" } == true)
            let elements = try await c.send(.get, "/fhir/Patient?_id=ana&_elements=name")
            let e = elements.json["entry"]?.arrayValue?.first?["resource"]
            #expect(e?["name"] != nil)
            #expect(e?["managingOrganization"] == nil)
            let compartment = try await c.send(.get, "/fhir/Patient/ana/Observation?code=2339-0")
            #expect(ids(compartment).sorted() == ["o0", "o2", "o4", "o6"])
            #expect(ids(try await c.send(.get, "/fhir/Patient/luis/Observation")) == ["other"])
            try await c.send(.put, "/fhir/List/favoritos", json: #"{"resourceType":"List","id":"favoritos","status":"current","mode":"working","entry":[{"item":{"reference":"Observation/o1"}},{"item":{"reference":"Observation/o3"}},{"item":{"reference":"Patient/ana"}}]}"#)
            #expect(ids(try await c.send(.get, "/fhir/Observation?_list=favoritos")).sorted() == ["o1", "o3"])
            #expect(try await c.send(.get, "/fhir/Observation?_list=nolist").status == 404)
            let system = try await c.send(.get, "/fhir?_type=Patient,Organization&_lastUpdated=gt2000")
            #expect(ids(system).sorted() == ["ana", "imss", "luis"])
        }
    }

    @Test func everythingAndLastN() async throws {
        try await TestServer().run { c in
            try await load(c)
            let all = try await c.send(.get, "/fhir/Patient/ana/$everything?_count=100")
            #expect(all.status == 200, "\(all.text.prefix(300))")
            let matched = Set(ids(all))
            #expect(matched.isSuperset(of: ["ana", "o0", "o6"]))
            #expect(!matched.contains("other"))
            #expect(!matched.contains("luis"))
            let included = Set(ids(all, mode: "include"))
            #expect(included.isSuperset(of: ["imss", "dra"]))
            #expect(!included.contains("luis"))
            let labs = try await c.send(.get, "/fhir/Patient/ana/$everything?_type=Observation&_count=2")
            #expect(ids(labs).count == 2)
            #expect(labs.json["link"]?.arrayValue?.contains { $0["relation"]?.stringValue == "next" } == true)
            let since = try await c.send(.get, "/fhir/Patient/ana/$everything?_since=2999-01-01T00:00:00Z")
            #expect(ids(since).isEmpty)
            #expect(try await c.send(.get, "/fhir/Patient/nobody/$everything").status == 404)

            let last = try await c.send(.get, "/fhir/Observation/$lastn?patient=Patient/ana&category=laboratory")
            #expect(ids(last).sorted() == ["o5", "o6"])
            let last2 = try await c.send(.get, "/fhir/Observation/$lastn?patient=ana&max=2")
            #expect(ids(last2).sorted() == ["o3", "o4", "o5", "o6"])
            #expect(try await c.send(.get, "/fhir/Observation/$lastn?code=2339-0").status == 400)
        }
    }

    @Test func malformedSearchesAre400NotScans() async throws {
        try await TestServer().run { c in
            try await load(c)
            for q in ["birthdate=1980-02-30", "birthdate=zz1980", "general-practitioner.bogus=1", "_count=-1", "_sort=bogus",
                      "_include=Patient:bogus", "name:frobnicate=x"] {
                let r = try await c.send(.get, "/fhir/Patient?\(q)", headers: ["Prefer": "handling=strict"])
                #expect(r.status == 400, "\(q): \(r.status)")
                #expect(r.json["resourceType"]?.stringValue == "OperationOutcome")
            }
            let many = (0..<10_000).map { "family=a\($0)" }.joined(separator: "&")
            #expect(try await c.send(.get, "/fhir/Patient?\(many)").status == 400)
            let huge = String(repeating: "a", count: 1_048_576)
            #expect(try await c.send(.get, "/fhir/Patient?family=\(huge)").status == 400)
        }
    }
}
