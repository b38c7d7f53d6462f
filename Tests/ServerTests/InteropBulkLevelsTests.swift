import FHIR
import Foundation
@testable import Interop
import Testing
@testable import Trust

/// Bulk Data export beyond the Patient level (docs/interop.md#bulk-data-export): system-level
/// and Group-level `$export` through the guard (a research export of a Group leaves out the
/// members who opposed research), `_typeFilter`, `_elements`, `deleted` after `_since`, 429 for
/// polling faster than `Retry-After`, and files that expire.
@Suite("Bulk Data export: levels, filters, deleted, throttling, expiry")
struct InteropBulkLevelsTests {
    static func path(_ url: String) -> String { String(url[url.range(of: "/fhir/")!.lowerBound...]) }

    /// Kicks off, polls to the end, and returns the manifest and each output's resources by type.
    static func export(_ c: Client, _ clock: ManualClock, _ uri: String, headers: [String: String] = [:], post parameters: String? = nil) async throws
        -> (manifest: JSON, files: [String: [JSON]]) {
        var h = headers
        h["Prefer"] = "respond-async"
        let kick: Client.Reply
        if let parameters { kick = try await c.send(.post, uri, json: parameters, headers: h) } else { kick = try await c.send(.get, uri, headers: h) }
        #expect(kick.status == 202, "\(uri): \(kick.text)")
        let location = try #require(kick.header("Content-Location"))
        let done = try await InteropExportTests.poll(c, location, clock: clock)
        #expect(done.status == 200, "\(done.text)")
        var files: [String: [JSON]] = [:]
        for o in done.json["output"]?.arrayValue ?? [] {
            let file = try await c.send(.get, path(try #require(o["url"]?.stringValue)))
            #expect(file.status == 200)
            files[o["type"]!.stringValue!, default: []] += InteropExportTests.lines(file)
        }
        return (done.json, files)
    }

    static func ids(_ resources: [JSON]?) -> [String] { (resources ?? []).compactMap { $0["id"]?.stringValue }.sorted() }

    static func consent(_ p: String, _ type: String) -> String {
        #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/\#(p)"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"\#(type == "permit" ? "OPTIN" : "OPTOUT")"}]},"provision":{"type":"\#(type)","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HRESCH"}]}}"#
    }

    static func seed(_ op: Client) async throws {
        for (p, code) in [("ana", "4548-4"), ("beto", "4548-4"), ("caro", "2339-0")] {
            #expect(try await op.send(.put, "/fhir/Patient/\(p)", json: #"{"resourceType":"Patient","id":"\#(p)","name":[{"family":"F-\#(p)"}],"birthDate":"1980-01-01"}"#).status == 201)
            #expect(try await op.send(.put, "/fhir/Observation/o-\(p)", json: #"{"resourceType":"Observation","id":"o-\#(p)","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"\#(code)"}]},"subject":{"reference":"Patient/\#(p)"},"note":[{"text":"nota de \#(p)"}]}"#).status == 201)
        }
        #expect(try await op.send(.put, "/fhir/Practitioner/dra", json: #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#).status == 201)
        #expect(try await op.send(.put, "/fhir/Group/estudio", json: #"{"resourceType":"Group","id":"estudio","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/ana"}},{"entity":{"reference":"Patient/beto"}},{"entity":{"reference":"Practitioner/dra"}}]}"#).status == 201)
        #expect(try await op.send(.put, "/fhir/Group/otro", json: #"{"resourceType":"Group","id":"otro","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/caro"}}]}"#).status == 201)
    }

    @Test(arguments: ServerBackend.allCases)
    func systemAndGroupExportsThroughTheGuard(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let stranger = try ConsentTests.token(server, role: .practitioner, fhirUser: "Practitioner/nadie", scope: "user/*.rs")
        try await server.run { op in
            try await InteropBulkLevelsTests.seed(op)
            // system level: every type the operator may read, shared data included
            let all = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/$export")
            #expect(all.manifest["request"]?.stringValue?.hasSuffix("/fhir/$export") == true)
            #expect(InteropBulkLevelsTests.ids(all.files["Patient"]) == ["ana", "beto", "caro"])
            #expect(InteropBulkLevelsTests.ids(all.files["Observation"]) == ["o-ana", "o-beto", "o-caro"])
            #expect(InteropBulkLevelsTests.ids(all.files["Practitioner"]) == ["dra"])
            #expect(InteropBulkLevelsTests.ids(all.files["Group"]) == ["estudio", "otro"])
            #expect(all.manifest["error"]?.arrayValue?.isEmpty == true && all.manifest["deleted"] == nil)
            // Group level: the members' compartments only (a Practitioner member is not a patient)
            let group = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Group/estudio/$export")
            #expect(InteropBulkLevelsTests.ids(group.files["Patient"]) == ["ana", "beto"])
            #expect(InteropBulkLevelsTests.ids(group.files["Observation"]) == ["o-ana", "o-beto"])
            #expect(group.files["Practitioner"] == nil)
            // an unknown Group, one the caller may not read, and the operation on another type: 404
            let unknown = try await op.send(.get, "/fhir/Group/nada/$export", headers: ["Prefer": "respond-async"])
            #expect(unknown.status == 404 && unknown.json["resourceType"]?.stringValue == "OperationOutcome" && unknown.text.contains("Group/nada"))
            let hidden = try await Client(client: op.client, token: stranger).send(.get, "/fhir/Group/estudio/$export", headers: ["Prefer": "respond-async"])
            #expect(hidden.status == 404 && hidden.text == unknown.text.replacingOccurrences(of: "nada", with: "estudio"))
            #expect(try await op.send(.get, "/fhir/Patient/ana/$export", headers: ["Prefer": "respond-async"]).status == 404)
            // research: only members whose Consent permits it; Beto consented, then opposed
            #expect(try await op.send(.post, "/fhir/Consent", json: InteropBulkLevelsTests.consent("ana", "permit")).status == 201)
            #expect(try await op.send(.post, "/fhir/Consent", json: InteropBulkLevelsTests.consent("beto", "permit")).status == 201)
            #expect(try await op.send(.post, "/fhir/Consent", json: InteropBulkLevelsTests.consent("caro", "permit")).status == 201)
            #expect(try await op.send(.post, "/fhir/Consent", json: InteropBulkLevelsTests.consent("beto", "deny")).status == 201)
            let research = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Group/estudio/$export?_type=Patient,Observation",
                                                                   headers: ["X-Purpose-Of-Use": "HRESCH"])
            #expect(InteropBulkLevelsTests.ids(research.files["Patient"]) == ["ana"])
            #expect(InteropBulkLevelsTests.ids(research.files["Observation"]) == ["o-ana"])
            // the same rule at system level: Caro consented and is in no study group, Beto is left out
            let researchAll = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/$export?_type=Patient", headers: ["X-Purpose-Of-Use": "HRESCH"])
            #expect(InteropBulkLevelsTests.ids(researchAll.files["Patient"]) == ["ana", "caro"])
            // the job's audit entry names the patients it covered
            let anas = try await op.send(.get, "/fhir/AuditEvent?patient=Patient/ana&_count=200")
            let caros = try await op.send(.get, "/fhir/AuditEvent?patient=Patient/caro&_count=200")
            #expect(anas.text.contains("Group/estudio/$export") && !caros.text.contains("Group/estudio/$export"), "\(anas.text.prefix(2000))")
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func typeFilterElementsAndOutputFormat(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            try await InteropBulkLevelsTests.seed(op)
            // _typeFilter: one search per type, run like any search through the guard
            let filtered = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Patient,Observation&_typeFilter=Observation%3Fcode%3D4548-4")
            #expect(InteropBulkLevelsTests.ids(filtered.files["Observation"]) == ["o-ana", "o-beto"])
            #expect(InteropBulkLevelsTests.ids(filtered.files["Patient"]) == ["ana", "beto", "caro"])
            // two filters of one type are a union, each resource once
            let union = try await InteropBulkLevelsTests.export(op, server.clock,
                "/fhir/Group/estudio/$export?_type=Observation&_typeFilter=Observation%3Fcode%3D4548-4&_typeFilter=Observation%3Fstatus%3Dfinal")
            #expect(InteropBulkLevelsTests.ids(union.files["Observation"]) == ["o-ana", "o-beto"])
            let bad = try await op.send(.get, "/fhir/$export?_typeFilter=Observation%3Fkode%3Dx", headers: ["Prefer": "respond-async"])
            #expect(bad.status == 400 && bad.text.contains("_typeFilter 'Observation?kode=x'") && bad.json["resourceType"]?.stringValue == "OperationOutcome")
            // _elements: id, meta, mandatory and listed elements, tagged SUBSETTED
            let slim = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/$export?_type=Patient,Observation,Practitioner&_elements=Patient.birthDate,subject")
            for p in slim.files["Patient"] ?? [] {
                #expect(p["birthDate"] != nil && p["name"] == nil && p["id"] != nil)
                #expect(p["meta"]?["tag"]?.arrayValue?.contains { $0["code"]?.stringValue == "SUBSETTED" } == true)
            }
            for o in slim.files["Observation"] ?? [] { #expect(o["subject"] != nil && o["code"] != nil && o["status"] != nil && o["note"] == nil) }
            #expect(slim.files["Practitioner"]?.first?["name"] != nil)  // no element listed for it: whole
            #expect(slim.files["Observation"]?.count == 3)
            let badElement = try await op.send(.get, "/fhir/$export?_elements=Patient.nombre", headers: ["Prefer": "respond-async"])
            #expect(badElement.status == 400 && badElement.text.contains("Patient.nombre"))
            // _outputFormat
            for f in ["application%2Ffhir%2Bndjson", "application%2Fndjson", "ndjson"] {
                #expect(try await op.send(.get, "/fhir/$export?_type=Patient&_outputFormat=\(f)", headers: ["Prefer": "respond-async"]).status == 202)
            }
            let csv = try await op.send(.get, "/fhir/$export?_outputFormat=text%2Fcsv", headers: ["Prefer": "respond-async"])
            #expect(csv.status == 400 && csv.text.contains("text/csv") && csv.text.contains("no se admite"))
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func deletedSinceAreTransactionBundlesOfDeletes(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            try await InteropBulkLevelsTests.seed(op)
            #expect(try await op.send(.put, "/fhir/Observation/o-vieja", json: #"{"resourceType":"Observation","id":"o-vieja","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/caro"}}"#).status == 201)
            server.clock.advance(seconds: 10)
            let since = server.clock.now().description
            // after _since: o-ana deleted, o-beto changed, o-caro deleted and written again, Practitioner deleted
            #expect(try await op.send(.delete, "/fhir/Observation/o-ana").status < 300)
            #expect(try await op.send(.put, "/fhir/Observation/o-beto", json: #"{"resourceType":"Observation","id":"o-beto","status":"amended","code":{"text":"x"},"subject":{"reference":"Patient/beto"}}"#).status == 200)
            #expect(try await op.send(.delete, "/fhir/Observation/o-caro").status < 300)
            #expect(try await op.send(.put, "/fhir/Observation/o-caro", json: #"{"resourceType":"Observation","id":"o-caro","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/caro"}}"#).status == 201)
            #expect(try await op.send(.delete, "/fhir/Practitioner/dra").status < 300)
            server.clock.advance(seconds: 1)
            let encoded = since.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "+", with: "%2B")
            let patient = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_since=\(encoded)")
            #expect(InteropBulkLevelsTests.ids(patient.files["Observation"]) == ["o-beto", "o-caro"])
            let deleted = try #require(patient.manifest["deleted"]?.arrayValue)
            #expect(deleted.count == 1 && deleted.first?["type"]?.stringValue == "Bundle")
            let file = try await op.send(.get, InteropBulkLevelsTests.path(try #require(deleted.first?["url"]?.stringValue)))
            let bundles = InteropExportTests.lines(file)
            #expect(bundles.allSatisfy { $0["resourceType"]?.stringValue == "Bundle" && $0["type"]?.stringValue == "transaction" })
            let requests = bundles.flatMap { $0["entry"]?.arrayValue ?? [] }.map { ($0["request"]?["method"]?.stringValue ?? "", $0["request"]?["url"]?.stringValue ?? "") }
            #expect(requests.map(\.0) == ["DELETE"] && requests.map(\.1) == ["Observation/o-ana"])
            // system level: shared data deleted too
            let system = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/$export?_type=Observation,Practitioner&_since=\(encoded)")
            let systemFile = try await op.send(.get, InteropBulkLevelsTests.path(try #require(system.manifest["deleted"]?.arrayValue?.first?["url"]?.stringValue)))
            let urls = InteropExportTests.lines(systemFile).flatMap { $0["entry"]?.arrayValue ?? [] }.compactMap { $0["request"]?["url"]?.stringValue }.sorted()
            #expect(urls == ["Observation/o-ana", "Practitioner/dra"])
            // a Group sees only its members' deletions (Ana is in it, so hers)
            let group = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Group/otro/$export?_since=\(encoded)")
            #expect(group.manifest["deleted"]?.arrayValue == [])
            // without _since, no deleted key
            #expect(try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Patient").manifest["deleted"] == nil)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func pollingTooFastIs429AndFilesExpire(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make(configure: { $0.bulkExportRetentionSeconds = 60 })
        defer { cleanup() }
        try await server.run { op in
            // a job that is still running (prepared, not started), polled twice in a row
            let running = try BulkExport.prepare(root: server.directory + "/bulk-export", subject: "test-operator", request: "x", parameters: [],
                                                 now: server.clock.now())
            let first = try await op.send(.get, "/fhir/$export-status/\(running.id)")
            #expect(first.status == 202 && first.header("Retry-After") == "1")
            let second = try await op.send(.get, "/fhir/$export-status/\(running.id)")
            #expect(second.status == 429 && second.header("Retry-After") == "1", "\(second.status)")
            #expect(second.json["issue"]?.arrayValue?.first?["code"]?.stringValue == "throttled" && second.text.contains("Retry-After") && second.text.contains("espere"))
            server.clock.advance(seconds: 1)
            #expect(try await op.send(.get, "/fhir/$export-status/\(running.id)").status == 202)
            // a finished export says when it expires, and after that it is gone
            try await InteropBulkLevelsTests.seed(op)
            let kick = try await op.send(.get, "/fhir/Patient/$export?_type=Patient", headers: ["Prefer": "respond-async"])
            let location = InteropBulkLevelsTests.path(try #require(kick.header("Content-Location")))
            let done = try await InteropExportTests.poll(op, location, clock: server.clock)
            #expect(done.status == 200)
            #expect(done.header("Expires")?.hasSuffix(" GMT") == true)
            #expect(try await op.send(.get, location).status == 200)  // a finished job is not throttled
            let file = InteropBulkLevelsTests.path(try #require(done.json["output"]?.arrayValue?.first?["url"]?.stringValue))
            #expect(try await op.send(.get, file).status == 200)
            server.clock.advance(seconds: 61)
            let gone = try await op.send(.get, location)
            #expect(gone.status == 404 && gone.text.contains("expired") && gone.text.contains("expiró"))
            #expect(try await op.send(.get, file).status == 404)
            let jobs = try FileManager.default.contentsOfDirectory(atPath: server.directory + "/bulk-export")
            #expect(!jobs.contains { location.hasSuffix($0) })
        }
    }

    /// The POST kick-off: the same parameters in a Parameters body, and `patient` to narrow a
    /// Patient or Group export (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters).
    @Test(arguments: ServerBackend.allCases)
    func postKickOffTakesParametersAndNamedPatients(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            try await InteropBulkLevelsTests.seed(op)
            func body(_ parameters: String...) -> String { #"{"resourceType":"Parameters","parameter":[\#(parameters.joined(separator: ","))]}"# }
            let type = #"{"name":"_type","valueString":"Patient,Observation"}"#
            func patient(_ p: String) -> String { #"{"name":"patient","valueReference":{"reference":"Patient/\#(p)"}}"# }
            // Patient level, two named patients: only their compartments
            let two = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export", post: body(type, patient("ana"), patient("caro")))
            #expect(InteropBulkLevelsTests.ids(two.files["Patient"]) == ["ana", "caro"])
            #expect(InteropBulkLevelsTests.ids(two.files["Observation"]) == ["o-ana", "o-caro"])
            #expect(two.manifest["request"]?.stringValue?.hasSuffix("/fhir/Patient/$export") == true)
            // Group level: the named patients that are members (caro is not a member of estudio)
            let group = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Group/estudio/$export", post: body(type, patient("beto"), patient("caro")))
            #expect(InteropBulkLevelsTests.ids(group.files["Patient"]) == ["beto"])
            // without `patient`, a POST is the GET: every patient, the _type honoured
            let all = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export", post: body(#"{"name":"_type","valueString":"Patient"}"#))
            #expect(InteropBulkLevelsTests.ids(all.files["Patient"]) == ["ana", "beto", "caro"])
            #expect(all.files["Observation"] == nil)
            // named patients none of whom exists: an empty export, never the whole one
            let none = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export", post: body(patient("nadie")))
            #expect(none.files.isEmpty, "\(none.files.keys)")
            // refusals: each a 400 OperationOutcome, no job started
            let h = ["Prefer": "respond-async"]
            for (uri, json, says) in [("/fhir/$export", body(patient("ana")), "system export"),
                                      ("/fhir/Patient/$export", body(#"{"name":"patient","valueReference":{"reference":"Observation/o-ana"}}"#), "valueReference to a Patient"),
                                      ("/fhir/Patient/$export", body(#"{"name":"_since","valueInstant":"ayer"}"#), "_since must be an instant"),
                                      ("/fhir/Patient/$export", body(#"{"name":"includeAssociatedData","valueCode":"_ourOwn"}"#), "includeAssociatedData '_ourOwn' is not supported"),
                                      ("/fhir/Patient/$export", body(#"{"valueString":"x"}"#), "has no name"),
                                      ("/fhir/Patient/$export", #"{"resourceType":"Patient"}"#, "Parameters"),
                                      ("/fhir/Patient/$export?_type=Patient", body(type), "in the Parameters body")] {
                let r = try await op.send(.post, uri, json: json, headers: h)
                #expect(r.status == 400 && r.json["resourceType"]?.stringValue == "OperationOutcome" && r.text.contains(says), "\(uri) \(json): \(r.status) \(r.text)")
            }
        }
    }

    /// Every patient whose data left in an export finds it in their own access log — also beyond
    /// the 1,000 patients a request's audit context keeps.
    @Test(arguments: ServerBackend.allCases)
    func everyPatientExportedSeesTheExportInTheirLog(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            let n = 1005
            for chunk in stride(from: 0, to: n, by: 500) {
                let entries = (chunk..<min(chunk + 500, n)).map { i in
                    #"{"resource":{"resourceType":"Patient","id":"p\#(String(format: "%04d", i))","name":[{"family":"Muchos"}]},"request":{"method":"PUT","url":"Patient/p\#(String(format: "%04d", i))"}}"#
                }
                let r = try await op.send(.post, "/fhir", json: #"{"resourceType":"Bundle","type":"transaction","entry":[\#(entries.joined(separator: ","))]}"#)
                #expect(r.status == 200, "\(r.text.prefix(300))")
            }
            let export = try await InteropBulkLevelsTests.export(op, server.clock, "/fhir/Patient/$export?_type=Patient")
            #expect(export.files["Patient"]?.count == n)
            for i in [0, 500, 999, 1000, 1004] {
                let id = "p" + String(format: "%04d", i)
                let token = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/\(id)", patient: id, scope: "patient/*.rs")
                let log = try await Client(client: op.client, token: token).send(.get, "/fhir/AuditEvent?patient=\(id)&_count=100")
                #expect(log.status == 200)
                let exports = (log.json["entry"]?.arrayValue ?? []).filter { String(decoding: $0["resource"]?.serialized() ?? [], as: UTF8.self).contains("$export") }
                #expect(exports.count == 1, "\(id): \(exports.count) export entries in its log")
            }
        }
    }
}
