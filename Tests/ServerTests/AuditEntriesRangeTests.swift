import FHIR
import Foundation
import Testing

/// `GET /audit/entries?start=&end=` follows RFC 9162 §5.6 (like RFC 6962 §4.6): both bounds are
/// inclusive, so a generic log client asking for `start=5&end=5` gets entry 5 and only it.
@Suite("Audit entries: inclusive range (RFC 9162)")
struct AuditEntriesRangeTests {
    @Test(arguments: ServerBackend.allCases)
    func startAndEndAreBothInclusive(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            for i in 0..<10 { try await c.send(.put, "/fhir/Patient/r\(i)", json: #"{"resourceType":"Patient","id":"r\#(i)"}"#) }
            func indexes(_ query: String) async throws -> [String] {
                let r = try await c.send(.get, "/audit/entries?" + query)
                #expect(r.status == 200, "\(query): \(r.text.prefix(300))")
                return (r.json["entries"]?.arrayValue ?? []).compactMap { $0["index"]?.compactString }
            }
            #expect(try await indexes("start=5&end=5") == ["5"])
            #expect(try await indexes("start=5&end=7") == ["5", "6", "7"])
            #expect(try await indexes("start=0&end=0") == ["0"])
            // the entry served is the one the inclusion proof of index 5 speaks of
            let five = try await c.send(.get, "/audit/entries?start=5&end=5")
            let event = five.json["entries"]?.arrayValue?.first?["auditEvent"]
            #expect(event?["resourceType"]?.stringValue == "AuditEvent")
            // past the end of the log: as many as there are; end before start: a precise 400
            let size = try #require(Int(try await c.send(.get, "/audit/tree-head").json["treeSize"]?.compactString ?? ""))
            // (the log grows by the audit entries of these very requests, so a few more may exist)
            let tail = try await indexes("start=\(size - 1)&end=\(size + 50)")
            #expect(tail.first == "\(size - 1)" && (1...3).contains(tail.count), "\(tail)")
            let backwards = try await c.send(.get, "/audit/entries?start=5&end=4")
            #expect(backwards.status == 400)
            #expect(backwards.text.contains("inclusive"))
        }
    }
}
