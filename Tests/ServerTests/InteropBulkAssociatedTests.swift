import FHIR
import Foundation
import Testing

/// Bulk Data `includeAssociatedData` (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters):
/// the Provenances of what is exported (docs/interop.md, *Bulk Data*). The expected Provenances
/// are read here over the API (`Provenance?target=`), not from the export code.
@Suite("Bulk Data: includeAssociatedData")
struct InteropBulkAssociatedTests {
    /// Every Provenance targeting `reference`, newest `recorded` first, as the API lists them.
    static func provenances(_ op: Client, of reference: String) async throws -> [JSON] {
        let r = try await op.send(.get, "/fhir/Provenance?target=\(reference)&_count=100")
        #expect(r.status == 200, "\(r.text)")
        return (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
            .sorted { ($0["recorded"]?.stringValue ?? "") > ($1["recorded"]?.stringValue ?? "") }
    }

    @Test(arguments: ServerBackend.allCases)
    func provenancesOfTheExportedResources(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            try await InteropBulkLevelsTests.seed(op)
            // a second version of ana's Observation, recorded later: two Provenances target it
            server.clock.advance(seconds: 60)
            let updated = #"{"resourceType":"Observation","id":"o-ana","status":"amended","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/ana"}}"#
            #expect(try await op.send(.put, "/fhir/Observation/o-ana", json: updated).status == 200)
            let ofAna = try await InteropBulkAssociatedTests.provenances(op, of: "Observation/o-ana")
            let ofBeto = try await InteropBulkAssociatedTests.provenances(op, of: "Observation/o-beto")
            let ofCaro = try await InteropBulkAssociatedTests.provenances(op, of: "Observation/o-caro")
            #expect(ofAna.count == 2 && ofBeto.count == 1 && ofCaro.count == 1)
            let ids = InteropBulkLevelsTests.ids

            let latest = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Observation&includeAssociatedData=LatestProvenanceResources")
            #expect(ids(latest.files["Observation"]) == ["o-ana", "o-beto", "o-caro"])
            #expect(ids(latest.files["Provenance"]) == ids([ofAna[0], ofBeto[0], ofCaro[0]]), "the newest of each")
            #expect(latest.manifest["output"]?.arrayValue?.first { $0["type"]?.stringValue == "Provenance" }?["count"] == .number("3"))

            let relevant = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Observation&includeAssociatedData=RelevantProvenanceResources")
            #expect(ids(relevant.files["Provenance"]) == ids(ofAna + ofBeto + ofCaro))

            // a Group: only its members' resources, so only their Provenances
            let group = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Group/estudio/$export?_type=Observation&includeAssociatedData=RelevantProvenanceResources")
            #expect(ids(group.files["Provenance"]) == ids(ofAna + ofBeto))

            // Provenance exported as a type too: each once, the associated ones among them
            let both = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Observation,Provenance&includeAssociatedData=LatestProvenanceResources")
            let lines = both.files["Provenance"] ?? []
            #expect(Set(ids(lines)).count == lines.count, "no Provenance twice")
            #expect(Set(ids(lines)).isSuperset(of: ids(ofAna + ofBeto + ofCaro)))
            #expect(both.manifest["output"]?.arrayValue?.first { $0["type"]?.stringValue == "Provenance" }?["count"] == .number(String(lines.count)))

            // without the parameter, no Provenance
            let plain = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Observation")
            #expect(plain.files["Provenance"] == nil)
            // an unknown value is a 400 that lists what is supported
            let bad = try await op.send(.get, "/fhir/Patient/$export?includeAssociatedData=_myOwn", headers: ["Prefer": "respond-async"])
            #expect(bad.status == 400 && bad.text.contains("LatestProvenanceResources"), "\(bad.text)")
        }
    }

    /// A principal who may read Observations but not Provenances gets the Observations and the
    /// manifest's `error` names Provenance.
    @Test func withoutAccessToProvenanceItIsAnError() async throws {
        let server = try TestServer()
        let limited = try server.services.authority.issue(subject: "limited", scope: "system/Observation.rs system/Patient.rs", ttl: 3600, now: server.clock.now())
        try await server.run { op in
            try await InteropBulkLevelsTests.seed(op)
            let client = Client(client: op.client, token: limited)
            let export = try await InteropBulkLevelsTests.export(client, server.clock, "/fhir/Patient/$export?_type=Observation&includeAssociatedData=LatestProvenanceResources")
            #expect(InteropBulkLevelsTests.ids(export.files["Observation"]) == ["o-ana", "o-beto", "o-caro"])
            #expect(export.files["Provenance"] == nil)
            let errors = export.manifest["error"]?.arrayValue ?? []
            #expect(errors.count == 1, "\(export.manifest)")
            if let url = errors.first?["url"]?.stringValue {
                let file = try await client.send(.get, InteropBulkLevelsTests.path(url))
                #expect(file.text.contains("Provenance was not exported"), "\(file.text)")
            }
        }
    }
}
