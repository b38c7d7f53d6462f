import FHIR
import Foundation
import Testing
@testable import Trust

/// `Patient/$export` through the guard (docs/interop.md#bulk-data-export): a pharmacy's export
/// holds the medication data and allergies of the patients it dispenses to and nothing else;
/// types it may not read are in the manifest's `error`; another principal cannot poll or
/// download the job (a job cut by a restart: Tests/InteropTests/BulkExportTests.swift).
@Suite("Bulk Data export through the guard")
struct InteropExportTests {
    /// Polls as the IG says: after a 202, waits the `Retry-After` it was told (here: moves the
    /// test clock on by it) before asking again.
    static func poll(_ c: Client, _ url: String, clock: ManualClock) async throws -> Client.Reply {
        let path = String(url[url.range(of: "/fhir/")!.lowerBound...])
        for _ in 0..<200 {
            let r = try await c.send(.get, path)
            if r.status != 202 { return r }
            #expect(r.header("X-Progress") != nil && r.header("Retry-After") == "1")
            clock.advance(seconds: 1)
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("export did not finish")
        return try await c.send(.get, path)
    }

    static func lines(_ r: Client.Reply) -> [JSON] {
        r.text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    @Test(arguments: ServerBackend.allCases)
    func pharmacyExportLeavesOutWhatItMayNotSee(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let pharmacy = try server.services.authority.issueClaims(subject: "user:farmacia", scope: "user/*.rs", ttl: 3600, now: server.clock.now(),
                                                                 role: .pharmacy, fhirUser: nil, patient: nil, organization: "Organization/farmacia").token
        let other = try server.services.authority.issueClaims(subject: "user:otra-farmacia", scope: "user/*.rs", ttl: 3600, now: server.clock.now(),
                                                              role: .pharmacy, fhirUser: nil, patient: nil, organization: "Organization/otra").token
        try await server.run { op in
            for body in InteropSummaryTests.record {
                let j = try JSONParser.parse(body)
                #expect(try await op.send(.put, "/fhir/\(j["resourceType"]!.stringValue!)/\(j["id"]!.stringValue!)", json: body).status == 201)
            }
            let ph = Client(client: op.client, token: pharmacy)
            #expect(try await ph.send(.get, "/fhir/Patient/$export").status == 400)  // no Prefer: respond-async
            let kick = try await ph.send(.get, "/fhir/Patient/$export?_type=Patient,Condition,MedicationRequest,AllergyIntolerance", headers: ["Prefer": "respond-async"])
            #expect(kick.status == 202, "\(kick.text)")
            let location = try #require(kick.header("Content-Location"))
            // another principal neither polls nor downloads it
            let intruder = Client(client: op.client, token: other)
            let path = String(location[location.range(of: "/fhir/")!.lowerBound...])
            let done = try await InteropExportTests.poll(ph, location, clock: server.clock)
            #expect(done.status == 200, "\(done.text)")
            #expect(try await intruder.send(.get, path).status == 404)
            let outputs = done.json["output"]?.arrayValue ?? []
            #expect(Set(outputs.compactMap { $0["type"]?.stringValue }) == ["Patient", "MedicationRequest", "AllergyIntolerance"])
            #expect(done.json["requiresAccessToken"]?.boolValue == true)
            let errors = done.json["error"]?.arrayValue ?? []
            #expect(errors.count == 1)
            for o in outputs {
                let url = try #require(o["url"]?.stringValue)
                let filePath = String(url[url.range(of: "/fhir/")!.lowerBound...])
                let file = try await ph.send(.get, filePath, headers: ["Accept": "application/fhir+ndjson"])
                #expect(file.status == 200)
                let resources = InteropExportTests.lines(file)
                #expect(resources.allSatisfy { $0["resourceType"]?.stringValue == o["type"]?.stringValue })
                // only Ana's data (the pharmacy dispenses to her), never Luis's
                #expect(!file.text.contains("luis") && !file.text.contains("No es de Ana"))
                #expect(try await intruder.send(.get, filePath).status == 404)
            }
            let errorURL = try #require(errors.first?["url"]?.stringValue)
            let errorFile = try await ph.send(.get, String(errorURL[errorURL.range(of: "/fhir/")!.lowerBound...]))
            #expect(errorFile.text.contains("Condition"))
            // cancel deletes it
            #expect(try await ph.send(.delete, path).status == 202)
            #expect(try await ph.send(.get, path).status == 404)
        }
    }
}
