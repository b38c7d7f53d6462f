import FHIR
import Foundation
import Testing
@testable import Trust

/// `$import` over HTTP (docs/interop.md#bulk-import): the kick-off's refusals (body, `Prefer`,
/// who, which sources), the status state machine through the routes (202 with `X-Progress`,
/// the manifest, another subject's 404, cancel), on both backends. The round trip with real
/// files is tests/e2e/test_interop_bulk_import.py.
@Suite("Bulk Data import over HTTP")
struct InteropBulkImportTests {
    static func body(_ inputs: [(String, String)]) -> String {
        let parts = inputs.map { #"{"name":"input","part":[{"name":"type","valueCode":"\#($0.0)"},{"name":"url","valueUrl":"\#($0.1)"}]}"# }
        return #"{"resourceType":"Parameters","parameter":[{"name":"inputFormat","valueCode":"application/fhir+ndjson"},"#
            + #"{"name":"inputSource","valueUri":"https://hospital-a.example.mx/fhir"}"# + (parts.isEmpty ? "" : ",") + parts.joined(separator: ",") + "]}"
    }

    static let async = ["Prefer": "respond-async"]

    /// A port nothing listens on (bound, then closed), so a fetch from it fails at once.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test(arguments: ServerBackend.allCases)
    func refusalsBeforeAnyJob(_ backend: ServerBackend) async throws {
        let port = InteropBulkImportTests.closedPort()
        let (server, cleanup) = try await backend.make { $0.bulkImportAllow = ["127.0.0.1:\(port)"] }
        defer { cleanup() }
        let reader = try server.services.authority.issue(subject: "client:lector", scope: "system/*.rs", ttl: 3600, now: server.clock.now())
        let clinician = try server.services.authority.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                                  role: .practitioner, fhirUser: "Practitioner/dra", patient: nil, organization: nil).token
        let ok = InteropBulkImportTests.body([("Patient", "http://127.0.0.1:\(port)/Patient.ndjson")])
        try await server.run { c in
            var r = try await c.send(.post, "/fhir/$import", json: #"{"resourceType":"Patient"}"#, headers: InteropBulkImportTests.async)
            #expect(r.status == 400 && r.text.contains("Parameters") && r.text.contains("recibe un recurso Parameters"), "\(r.text)")
            r = try await c.send(.post, "/fhir/$import", json: ok)
            #expect(r.status == 400 && r.text.contains("respond-async"))
            r = try await c.send(.post, "/fhir/$import", json: InteropBulkImportTests.body([("Paciente", "http://127.0.0.1:\(port)/p.ndjson")]), headers: InteropBulkImportTests.async)
            #expect(r.status == 400 && r.issueCodes == ["not-supported"] && r.locations == ["Parameters.parameter[2].part[0]"], "\(r.text)")
            r = try await c.send(.post, "/fhir/$import", json: InteropBulkImportTests.body([("Patient", "http://127.0.0.1:\(port + 1)/p.ndjson")]), headers: InteropBulkImportTests.async)
            #expect(r.status == 403 && r.text.contains("--import-allow") && r.text.contains("no es una fuente"), "\(r.text)")
            r = try await c.send(.post, "/fhir/$import", body: Array(ok.utf8), headers: InteropBulkImportTests.async.merging(["Authorization": "Bearer \(reader)"]) { $1 })
            #expect(r.status == 403 && r.text.contains("system/Patient.cu"), "\(r.text)")
            r = try await c.send(.post, "/fhir/$import", body: Array(ok.utf8), headers: InteropBulkImportTests.async.merging(["Authorization": "Bearer \(clinician)"]) { $1 })
            #expect(r.status == 403 && r.text.contains("operator or a backend service"), "\(r.text)")
            // an organization admin imports the shared types it may write, not patient data
            let admin = try server.services.authority.issueClaims(subject: "user:admin", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                                  role: .organizationAdmin, fhirUser: nil, patient: nil, organization: "Organization/imss").token
            r = try await c.send(.post, "/fhir/$import", body: Array(ok.utf8), headers: InteropBulkImportTests.async.merging(["Authorization": "Bearer \(admin)"]) { $1 })
            #expect(r.status == 403 && r.text.contains("may not write Patient"), "\(r.text)")
            r = try await c.send(.post, "/fhir/$import", body: Array(ok.utf8), headers: InteropBulkImportTests.async, auth: false)
            #expect(r.status == 401)
            // nothing started: no job directory
            let jobs = (try? FileManager.default.contentsOfDirectory(atPath: server.directory + "/bulk-import")) ?? []
            #expect(jobs.isEmpty, "\(jobs)")
        }
    }

    @Test func anOrganizationAdminImportsSharedTypes() async throws {
        let port = InteropBulkImportTests.closedPort()
        let (server, cleanup) = try await ServerBackend.sqlite.make { $0.bulkImportAllow = ["127.0.0.1:\(port)"] }
        defer { cleanup() }
        let admin = try server.services.authority.issueClaims(subject: "user:admin", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                              role: .organizationAdmin, fhirUser: nil, patient: nil, organization: "Organization/imss").token
        let narrow = try server.services.authority.issueClaims(subject: "user:admin2", scope: "user/Organization.rs", ttl: 3600, now: server.clock.now(),
                                                               role: .organizationAdmin, fhirUser: nil, patient: nil, organization: "Organization/imss").token
        let body = Array(InteropBulkImportTests.body([("Organization", "http://127.0.0.1:\(port)/Organization.ndjson")]).utf8)
        try await server.run { c in
            var r = try await c.send(.post, "/fhir/$import", body: body, headers: InteropBulkImportTests.async.merging(["Authorization": "Bearer \(narrow)"]) { $1 })
            #expect(r.status == 403 && r.text.contains("user/Organization.cu"), "\(r.text)")
            r = try await c.send(.post, "/fhir/$import", body: body, headers: InteropBulkImportTests.async.merging(["Authorization": "Bearer \(admin)"]) { $1 })
            #expect(r.status == 202, "\(r.text)")
            let location = try #require(r.header("Content-Location"))
            // the job is the admin's: polled with the admin's token (nothing listens: the input's error)
            let path = String(location[location.range(of: "/fhir/")!.lowerBound...])
            var done = try await c.send(.get, path, headers: ["Authorization": "Bearer \(admin)"])
            for _ in 0..<600 where done.status == 202 {
                server.clock.advance(seconds: 1)
                try await Task.sleep(nanoseconds: 50_000_000)
                done = try await c.send(.get, path, headers: ["Authorization": "Bearer \(admin)"])
            }
            #expect(done.status == 200, "\(done.text)")
            #expect(done.json["error"]?.arrayValue?.first?["inputUrl"]?.stringValue == "http://127.0.0.1:\(port)/Organization.ndjson")
            #expect(try await c.send(.get, path).status == 404)  // the operator's token is another subject
        }
    }

    @Test func noSourceAllowedByDefault() async throws {
        let (server, cleanup) = try await ServerBackend.sqlite.make()
        defer { cleanup() }
        try await server.run { c in
            let r = try await c.send(.post, "/fhir/$import", json: InteropBulkImportTests.body([("Patient", "http://127.0.0.1:9/p.ndjson")]),
                                     headers: InteropBulkImportTests.async)
            #expect(r.status == 403 && r.text.contains("enlace serve --import-allow") && r.text.contains("ninguna fuente"), "\(r.text)")
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func aJobThroughTheRoutes(_ backend: ServerBackend) async throws {
        let port = InteropBulkImportTests.closedPort()
        let (server, cleanup) = try await backend.make { $0.bulkImportAllow = ["127.0.0.1:\(port)"] }
        defer { cleanup() }
        let other = try server.services.authority.issue(subject: "client:otro", scope: "system/*.cruds", ttl: 3600, now: server.clock.now())
        let url = "http://127.0.0.1:\(port)/Patient.ndjson"
        try await server.run { c in
            let r = try await c.send(.post, "/fhir/$import", json: InteropBulkImportTests.body([("Patient", url)]), headers: InteropBulkImportTests.async)
            #expect(r.status == 202, "\(r.text)")
            let location = try #require(r.header("Content-Location"))
            let path = String(location[location.range(of: "/fhir/")!.lowerBound...])
            #expect(path.hasPrefix("/fhir/$import-status/"))
            // another subject does not find it
            let hidden = try await c.send(.get, path, headers: ["Authorization": "Bearer \(other)"])
            #expect(hidden.status == 404)
            // nothing listens on the port: the job ends with the input's error, as a 200 manifest
            let done = try await InteropExportTests.poll(c, location, clock: server.clock)
            #expect(done.status == 200, "\(done.text)")
            #expect(done.header("Expires") != nil)
            #expect(done.json["output"]?.arrayValue?.first?["count"]?.compactString == "0")
            let error = try #require(done.json["error"]?.arrayValue?.first)
            #expect(error["inputUrl"]?.stringValue == url && error["type"]?.stringValue == "OperationOutcome")
            let file = try #require(error["url"]?.stringValue)
            let filePath = String(file[file.range(of: "/fhir/")!.lowerBound...])
            let outcomes = try await c.send(.get, filePath, headers: ["Accept": "application/fhir+ndjson"])
            #expect(outcomes.status == 200 && outcomes.text.contains("could not import") && outcomes.text.contains("no se pudo importar"), "\(outcomes.text)")
            #expect(try await c.send(.get, filePath, headers: ["Authorization": "Bearer \(other)"]).status == 404)
            // cancel (a finished job: its files go), then the status is gone
            #expect(try await c.send(.delete, path, headers: ["Authorization": "Bearer \(other)"]).status == 404)
            #expect(try await c.send(.delete, path).status == 202)
            #expect(try await c.send(.get, path).status == 404)
            #expect(try await c.send(.get, filePath).status == 404)
        }
    }
}
