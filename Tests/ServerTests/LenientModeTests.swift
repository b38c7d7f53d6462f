import FHIR
import Foundation
import Testing

/// Lenient mode over HTTP (`X-Enlace-Lenient: drop-empty`, docs/search.md): refused by default,
/// repaired only when asked, each repair a warning, unknown elements never dropped.
@Suite("Lenient mode over HTTP")
struct LenientModeTests {
    static let legacy = #"{"resourceType":"Patient","extension":[],"name":[{"family":"Legado","given":[]}],"meta":{}}"#
    static let lenient = ["X-Enlace-Lenient": "drop-empty"]

    @Test(arguments: ServerBackend.allCases)
    func emptyArraysAreRefusedByDefaultAndRepairedWhenAsked(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            // strict by default
            let strict = try await c.send(.post, "/fhir/Patient", json: LenientModeTests.legacy)
            #expect(strict.status == 422)
            #expect(strict.locations.contains("Patient.extension"), "\(strict.locations)")
            #expect(try await c.historyTotal() == 0)

            // asked for: stored without the empty elements; the outcome lists each repair
            let repaired = try await c.send(.post, "/fhir/Patient", json: LenientModeTests.legacy,
                                            headers: LenientModeTests.lenient.merging(["Prefer": "return=OperationOutcome"]) { $1 })
            #expect(repaired.status == 201, "\(repaired.text)")
            #expect(repaired.header("X-Enlace-Repairs") == "3")
            let warnings = (repaired.json["issue"]?.arrayValue ?? []).filter { $0["severity"]?.stringValue == "warning" }
            #expect(warnings.count == 3)
            #expect(Set(repaired.locations) == ["Patient.extension", "Patient.name[0].given", "Patient.meta"])
            let location = try #require(repaired.header("Location"))
            let id = Array(location.split(separator: "/").reversed())[2]
            let stored = try await c.send(.get, "/fhir/Patient/\(id)")
            #expect(stored.json["extension"] == nil && stored.json["name"]?.arrayValue?.first?["given"] == nil)
            #expect(stored.json["name"]?.arrayValue?.first?["family"]?.stringValue == "Legado")

            // an update too; the default return is the stored resource, with the count in the header
            let put = try await c.send(.put, "/fhir/Patient/\(id)", json: #"{"resourceType":"Patient","id":"\#(id)","active":true,"contact":[]}"#,
                                       headers: LenientModeTests.lenient)
            #expect(put.status == 200)
            #expect(put.header("X-Enlace-Repairs") == "1")
            #expect(put.json["active"]?.boolValue == true && put.json["contact"] == nil)

            // unknown elements are never dropped: still refused, and the outcome says what was repaired too
            let unknown = try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient","extension":[],"nickname":"Lupita"}"#,
                                           headers: LenientModeTests.lenient)
            #expect(unknown.status == 422)
            #expect(unknown.locations.contains("Patient.nickname"))
            #expect((unknown.json["issue"]?.arrayValue ?? []).contains { $0["severity"]?.stringValue == "warning" && $0["expression"]?.arrayValue?.first?.stringValue == "Patient.extension" })

            // an unknown repair is a precise 400
            let bogus = try await c.send(.post, "/fhir/Patient", json: LenientModeTests.legacy, headers: ["X-Enlace-Lenient": "everything"])
            #expect(bogus.status == 400)
            #expect(bogus.text.contains("drop-empty"))
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func bundleEntriesCarryTheirRepairsInTheirOutcome(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            let batch = #"""
            {"resourceType":"Bundle","type":"batch","entry":[
              {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
              {"resource":{"resourceType":"Patient","extension":[],"name":[{}]},"request":{"method":"POST","url":"Patient"}},
              {"resource":{"resourceType":"Patient","address":[],"nickname":"x"},"request":{"method":"POST","url":"Patient"}}
            ]}
            """#
            let strict = try await c.send(.post, "/fhir", json: batch)
            #expect(strict.status == 200)
            #expect((strict.json["entry"]?.arrayValue ?? []).map { $0["response"]?["status"]?.stringValue } == ["201 Created", "422", "422"])

            let r = try await c.send(.post, "/fhir", json: batch, headers: LenientModeTests.lenient)
            #expect(r.status == 200)
            #expect(r.header("X-Enlace-Repairs") == "3")
            let entries = r.json["entry"]?.arrayValue ?? []
            #expect(entries.map { $0["response"]?["status"]?.stringValue } == ["201 Created", "201 Created", "422"])
            func issues(_ i: Int) -> [JSON] { entries.count > i ? entries[i]["response"]?["outcome"]?["issue"]?.arrayValue ?? [] : [] }
            #expect(issues(0).isEmpty)
            #expect(issues(1).map { $0["expression"]?.arrayValue?.first?.stringValue } == ["Bundle.entry[1].resource.extension", "Bundle.entry[1].resource.name"])
            #expect(issues(1).allSatisfy { $0["severity"]?.stringValue == "warning" })
            // the entry that still fails keeps its error and lists its repair
            #expect(issues(2).contains { $0["severity"]?.stringValue == "error" })
            #expect(issues(2).contains { $0["severity"]?.stringValue == "warning" && $0["expression"]?.arrayValue?.first?.stringValue == "Bundle.entry[2].resource.address" })

            // a transaction is repaired the same way and stays all or nothing
            let tx = #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","extension":[]},"request":{"method":"POST","url":"Patient"}}]}"#
            let t = try await c.send(.post, "/fhir", json: tx, headers: LenientModeTests.lenient)
            #expect(t.status == 200, "\(t.text)")
            #expect(t.json["entry"]?.arrayValue?.first?["response"]?["outcome"]?["issue"]?.arrayValue?.count == 1)
            #expect(try await c.historyTotal() == 4)
        }
    }
}
