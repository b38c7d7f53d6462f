import FHIR
import Foundation
import Testing

/// One valid example of every R4 resource type (Tests/ServerTests/Examples, checked against the
/// official JSON Schema by scripts/check-examples.py) must round-trip: create → read returns
/// the same content plus `id` and `meta`.
@Suite("Every R4 resource type round-trips")
struct RoundTripTests {
    static let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Examples").path

    static func examples() throws -> [(String, JSON)] {
        let files = try FileManager.default.contentsOfDirectory(atPath: examplesDirectory).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { f in
            let data = try Data(contentsOf: URL(fileURLWithPath: examplesDirectory + "/" + f))
            return (String(f.dropLast(5)), try JSONParser.parse(Array(data)))
        }
    }

    /// R4 examples that are valid FHIR but break a domain's write rule, and why.
    static let refusedByDomainRules: [String: String] = [
        "Appointment": "its Slot/example-1 does not exist: a booking needs a free Slot (docs/care.md, Appointments)",
        "Subscription": "its criteria is an R4 search, not a SubscriptionTopic (docs/subscriptions.md)",
    ]

    @Test func thereIsOneExamplePerResourceType() throws {
        let names = try RoundTripTests.examples().map(\.0)
        #expect(names == Definitions.r4.resourceTypes)
    }

    @Test func createThenReadReturnsTheSameContent() async throws {
        let examples = try RoundTripTests.examples()
        try await TestServer().run { c in
            var failures: [String] = []
            for (type, resource) in examples {
                if type == "AuditEvent" {
                    // AuditEvents come only from the audit ledger: refused on create, valid on $validate
                    #expect(try await c.send(.post, "/fhir/AuditEvent", body: resource.serialized()).status == 405)
                    let v = try await c.send(.post, "/fhir/AuditEvent/$validate", body: resource.serialized())
                    #expect(v.issueCodes == ["informational"], "AuditEvent: \(v.text.prefix(300))")
                    continue
                }
                let created = try await c.send(.post, "/fhir/\(type)", body: resource.serialized())
                if let why = RoundTripTests.refusedByDomainRules[type] {
                    // valid R4, but a domain's write rule refuses it here, precisely
                    #expect((400..<500).contains(created.status) && created.json["resourceType"] == .string("OperationOutcome"),
                            "\(type) (\(why)): \(created.status) \(created.text.prefix(300))")
                    let v = try await c.send(.post, "/fhir/\(type)/$validate", body: resource.serialized())
                    #expect(v.issueCodes == ["informational"], "\(type): \(v.text.prefix(300))")
                    continue
                }
                guard created.status == 201, let id = created.json["id"]?.stringValue else {
                    failures.append("\(type): create answered \(created.status) \(created.text.prefix(400))")
                    continue
                }
                let read = try await c.send(.get, "/fhir/\(type)/\(id)")
                #expect(read.status == 200, "\(type)")
                let stripped = read.json.setting("id", nil).setting("meta", nil)
                if stripped != resource { failures.append("\(type): read content differs from what was created") }
                #expect(read.json["meta"]?["versionId"]?.stringValue == "1", "\(type)")
                // $validate agrees with create
                let v = try await c.send(.post, "/fhir/\(type)/$validate", body: resource.serialized())
                #expect(v.issueCodes == ["informational"], "\(type): \(v.text.prefix(300))")
            }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            // historyTotal leaves Provenance out, and AuditEvent and the domain-refused examples are not stored
            #expect(try await c.historyTotal() == examples.count - 2 - RoundTripTests.refusedByDomainRules.count)
        }
    }
}
