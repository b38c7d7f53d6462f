import FHIR
import Foundation
@testable import Interop
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// Bulk Data `$import` (docs/interop.md#bulk-import): the kick-off Parameters, the allow list,
/// the line splitter, and the job's state machine run against an in-memory store with a fake
/// fetcher.
@Suite struct BulkImportTests {
    static let t0 = Timestamp(instant: "2026-12-01T00:00:00Z")!
    static func root() -> String { NSTemporaryDirectory() + "enlace-import-" + UUID().uuidString }

    static func json(_ s: String) -> JSON { try! JSONParser.parse(s) }

    static func parameters(_ parts: [String]) -> JSON { json(#"{"resourceType":"Parameters","parameter":[\#(parts.joined(separator: ","))]}"#) }
    static let format = #"{"name":"inputFormat","valueCode":"application/fhir+ndjson"}"#
    static let source = #"{"name":"inputSource","valueUri":"https://hospital-a.example.mx/fhir"}"#
    static func input(_ type: String, _ url: String) -> String {
        #"{"name":"input","part":[{"name":"type","valueCode":"\#(type)"},{"name":"url","valueUrl":"\#(url)"}]}"#
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let e as FHIRError { return "\(e.status) " + e.issues.map { $0.english + " | " + $0.spanish }.joined() } catch { return "\(error)" }
        return "no error"
    }

    @Test func parsesTheKickOffParameters() throws {
        let r = try BulkImport.parse(BulkImportTests.parameters([
            BulkImportTests.format, BulkImportTests.source,
            BulkImportTests.input("Patient", "http://127.0.0.1:9000/Patient.ndjson"),
            BulkImportTests.input("Observation", "http://127.0.0.1:9000/Observation.ndjson"),
            #"{"name":"storageDetail","part":[{"name":"type","valueCode":"https"}]}"#,
        ]))
        #expect(r.inputFormat == "application/fhir+ndjson" && r.inputSource == "https://hospital-a.example.mx/fhir" && r.storageType == "https")
        #expect(r.inputs == [BulkImport.Input(type: "Patient", url: "http://127.0.0.1:9000/Patient.ndjson"),
                             BulkImport.Input(type: "Observation", url: "http://127.0.0.1:9000/Observation.ndjson")])
    }

    /// `import.md`'s own kick-off: a plain JSON object (`Content-Type: application/json`) gives
    /// the same request as the Parameters form.
    @Test func parsesTheDraftsPlainJSONKickOff() throws {
        let plain = try BulkImport.parse(BulkImportTests.json("""
            {"inputFormat":"application/fhir+ndjson","inputSource":"https://hospital-a.example.mx/fhir",
             "storageDetail":{"type":"https","contentEncoding":["identity"]},
             "input":[{"type":"Patient","url":"http://127.0.0.1:9000/Patient.ndjson"},{"type":"Observation","url":"http://127.0.0.1:9000/Observation.ndjson"}]}
            """))
        let parameters = try BulkImport.parse(BulkImportTests.parameters([
            BulkImportTests.format, BulkImportTests.source,
            BulkImportTests.input("Patient", "http://127.0.0.1:9000/Patient.ndjson"),
            BulkImportTests.input("Observation", "http://127.0.0.1:9000/Observation.ndjson"),
        ]))
        #expect(plain == parameters)
        let minimal = try BulkImport.parse(BulkImportTests.json(#"{"inputFormat":"ndjson","inputSource":"urn:oid:2.16.840.1.113883.3","input":[{"url":"https://a.example.mx/p.ndjson","type":"Patient"}]}"#))
        #expect(minimal.storageType == "https" && minimal.inputs.count == 1)
    }

    @Test func refusesBadPlainKickOffsNamingThePath() {
        let f = #""inputFormat":"application/fhir+ndjson""#, s = #""inputSource":"https://hospital-a.example.mx/fhir""#
        let i = #""input":[{"type":"Patient","url":"http://127.0.0.1:9000/p.ndjson"}]"#
        func body(_ members: String...) -> JSON { BulkImportTests.json("{" + members.joined(separator: ",") + "}") }
        let cases: [(JSON, String, String?)] = [
            (BulkImportTests.json("[1]"), "takes a JSON object", nil),
            (body(s, i), "inputFormat is required", nil),
            (body(#""inputFormat":7"#, s, i), "must be a non-empty string", "inputFormat"),
            (body(#""inputFormat":"text/csv""#, s, i), "inputFormat 'text/csv' is not supported", "inputFormat"),
            (body(f, #""inputSource":"hospital-a""#, i), "must be an absolute URI", "inputSource"),
            (body(f, s), "at least one input", nil),
            (body(f, s, #""input":{"type":"Patient"}"#), "must be an array", "input"),
            (body(f, s, #""input":[{"type":"Patient","url":"http://127.0.0.1:9000/p.ndjson"},{"type":"Paciente","url":"http://127.0.0.1:9000/q.ndjson"}]"#),
             "'Paciente' is not an R4 resource type", "input[1].type"),
            (body(f, s, #""input":[{"type":"Patient","url":"file:///etc/passwd"}]"#), "absolute http or https URL", "input[0].url"),
            (body(f, s, #""input":[{"type":"Patient"}]"#), "needs both type and url", "input[0]"),
            (body(f, s, #""input":[{"type":"Patient","url":"http://127.0.0.1:9000/p.ndjson","format":"csv"}]"#), "'format' is not supported in an input", "input[0].format"),
            (body(f, s, i, #""storageDetail":{"type":"aws-s3"}"#), "storageDetail type 'aws-s3'", "storageDetail.type"),
            (body(f, s, i, #""storageDetail":{"type":"https","contentEncoding":["gzip"]}"#), "contentEncoding 'gzip' is not supported", "storageDetail.contentEncoding[0]"),
            (body(f, s, i, #""mode":"InitialLoad""#), "'mode' is not a member", "mode"),
            // (a member given twice never gets here: the JSON parser refuses duplicate names)
        ]
        for (json, expected, path) in cases {
            var expression: [String] = []
            let m = BulkImportTests.message {
                do { _ = try BulkImport.parse(json) } catch let e as FHIRError { expression = e.issues.first?.expression ?? []; throw e }
            }
            #expect(m.hasPrefix("400") && m.contains(expected) && m.contains(" | "), "\(expected): \(m)")
            #expect(expression == (path.map { [$0] } ?? []), "\(expected): \(expression)")
        }
    }

    @Test func refusesBadKickOffsPrecisely() {
        let f = BulkImportTests.format, s = BulkImportTests.source, i = BulkImportTests.input("Patient", "http://127.0.0.1:9000/p.ndjson")
        let cases: [(JSON, String)] = [
            (BulkImportTests.json(#"{"resourceType":"Patient"}"#), "takes a Parameters resource"),
            (BulkImportTests.parameters([s, i]), "inputFormat is required"),
            (BulkImportTests.parameters([#"{"name":"inputFormat","valueCode":"text/csv"}"#, s, i]), "inputFormat 'text/csv' is not supported"),
            (BulkImportTests.parameters([f, i]), "inputSource is required"),
            (BulkImportTests.parameters([f, #"{"name":"inputSource","valueUri":"hospital-a"}"#, i]), "must be an absolute URI"),
            (BulkImportTests.parameters([f, s]), "at least one input"),
            (BulkImportTests.parameters([f, s, BulkImportTests.input("Paciente", "http://127.0.0.1:9000/p.ndjson")]), "'Paciente' is not an R4 resource type"),
            (BulkImportTests.parameters([f, s, BulkImportTests.input("AuditEvent", "http://127.0.0.1:9000/a.ndjson")]), "AuditEvents cannot be imported"),
            (BulkImportTests.parameters([f, s, BulkImportTests.input("Patient", "file:///etc/passwd")]), "absolute http or https URL"),
            (BulkImportTests.parameters([f, s, #"{"name":"input","part":[{"name":"type","valueCode":"Patient"}]}"#]), "needs both parts"),
            (BulkImportTests.parameters([f, s, i, #"{"name":"storageDetail","part":[{"name":"type","valueCode":"aws-s3"}]}"#]), "storageDetail type 'aws-s3'"),
            (BulkImportTests.parameters([f, s, i, #"{"name":"mode","valueCode":"InitialLoad"}"#]), "parameter 'mode' is not supported"),
            (BulkImportTests.parameters([f, f, s, i]), "more than once"),
            (BulkImportTests.parameters([f, s, i, #"{"valueCode":"x"}"#]), "has no name"),
        ]
        for (body, expected) in cases {
            let m = BulkImportTests.message { _ = try BulkImport.parse(body) }
            #expect(m.hasPrefix("400") && m.contains(expected) && m.contains(" | "), "\(expected): \(m)")
        }
    }

    @Test func theAllowListIsExact() throws {
        let none = try BulkImport.AllowList([])
        #expect(none.isEmpty && !none.allows("http://127.0.0.1:9000/p.ndjson"))
        let list = try BulkImport.AllowList(["127.0.0.1:9000", "https://datos.example.mx/exportes/", "http://archivo.example.mx/bulk", "files.example.mx"])
        #expect(list.allows("http://127.0.0.1:9000/p.ndjson") && list.allows("https://127.0.0.1:9000/x/y.ndjson?sig=1"))
        #expect(!list.allows("http://127.0.0.1:9001/p.ndjson"))          // another port
        #expect(!list.allows("http://127.0.0.2:9000/p.ndjson"))          // another host
        #expect(!list.allows("http://user:pw@127.0.0.1:9000/p.ndjson"))  // user information
        #expect(!list.allows("ftp://127.0.0.1:9000/p.ndjson"))
        #expect(list.allows("https://datos.example.mx/exportes/2026/Patient.ndjson"))
        #expect(!list.allows("http://datos.example.mx/exportes/Patient.ndjson"))   // the prefix names https
        #expect(!list.allows("https://datos.example.mx/otros/Patient.ndjson"))
        #expect(!list.allows("https://datos.example.mx/exportes/../secretos.ndjson"))
        #expect(!list.allows("https://datos.example.mx/exportes/%2e%2e/secretos.ndjson"))
        #expect(list.allows("http://archivo.example.mx/bulk/Patient.ndjson") && list.allows("http://archivo.example.mx/bulk"))
        #expect(!list.allows("http://archivo.example.mx/bulkier/Patient.ndjson"))  // a prefix ends at a segment
        #expect(list.allows("https://files.example.mx/a.ndjson") && list.allows("http://files.example.mx/a.ndjson"))
        #expect(!list.allows("http://files.example.mx:8080/a.ndjson"))
        #expect(throws: FHIRError.self) { try BulkImport.AllowList(["127.0.0.1:port"]) }
        #expect(throws: FHIRError.self) { try BulkImport.AllowList(["file:///tmp/"]) }
        #expect(throws: FHIRError.self) { try BulkImport.AllowList(["host/with/path"]) }
    }

    @Test func linesSurviveAnyChunking() {
        let text = Array("{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}".utf8)
        for size in [1, 2, 5, 7, 100] {
            var splitter = BulkImport.LineSplitter()
            var lines: [(line: Int, bytes: [UInt8])] = []
            var i = 0
            while i < text.count {
                lines += splitter.feed(text[i..<min(i + size, text.count)])
                i += size
            }
            if let last = splitter.finish() { lines.append(last) }
            #expect(lines.map(\.line) == [1, 2, 3, 4], "chunk \(size)")
            #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["{\"a\":1}", "", "{\"b\":2}\r", "{\"c\":3}"], "chunk \(size)")
        }
    }

    /// Serves files from memory; a missing one answers like a 404; one in `cutAfter` stops after
    /// that many bytes with a `too-costly` error, as the server's fetcher does at its size bound
    /// (that bound itself is tested end to end: tests/e2e/test_interop_bulk_import.py).
    struct MemoryFetcher: BulkImportFetcher {
        var files: [String: String]
        var cutAfter: [String: Int] = [:]
        var chunkSize = 97

        func fetch(_ url: String, allow: BulkImport.AllowList, maxBytes: Int64, timeoutSeconds: Double,
                   chunk: ([UInt8]) async throws -> Void) async throws {
            guard let text = files[url] else {
                throw FHIRError(status: 502, code: "not-found", english: "the source answered HTTP 404 for \(url)", spanish: "la fuente respondió HTTP 404 para \(url)")
            }
            let bytes = Array(text.utf8)
            let end = min(bytes.count, cutAfter[url] ?? bytes.count)
            var i = 0
            while i < end {
                try await chunk(Array(bytes[i..<min(i + chunkSize, end)]))
                i += chunkSize
            }
            if end < bytes.count {
                throw FHIRError(status: 502, code: "too-costly", english: "\(url) is too large", spanish: "\(url) es demasiado grande")
            }
        }
    }

    static func door() throws -> Door {
        let dir = NSTemporaryDirectory() + "enlace-import-key-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir))
    }

    static let service = Principal(subject: "client:hospital-b", scopes: ScopeSet("system/*.cu"), tokenID: "t", role: .service, clientID: "hospital-b")

    static func count(_ door: Door, _ type: String) async throws -> Int {
        let (q, _) = try SearchParser().parse(types: [type], parameters: [("_count", "1000")])
        return try await door.store.read { try $0.search(q).matches }.count
    }

    static func patients(_ range: Range<Int>) -> String {
        range.map { #"{"resourceType":"Patient","id":"p\#($0)","name":[{"family":"Familia\#($0)"}]}"# }.joined(separator: "\n") + "\n"
    }

    @Test func aJobStoresTheGoodLinesReportsTheBadAndIsIdempotent() async throws {
        let root = BulkImportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let door = try BulkImportTests.door()
        let a = "http://127.0.0.1:9000/Patient.ndjson", b = "http://127.0.0.1:9000/Observation.ndjson", missing = "http://127.0.0.1:9000/none.ndjson"
        let broken = BulkImportTests.patients(0..<3)
            + #"{"resourceType":"Patient","id":"bad","gender":"sometimes"}"# + "\n"   // line 4: invalid code
            + #"{"resourceType": "Patient","# + "\n"                                      // line 5: broken JSON
            + #"{"resourceType":"Observation","id":"o-in-patients","status":"final","code":{"text":"x"}}"# + "\n"  // line 6: another type
            + #"{"resourceType":"Patient","name":[{"family":"SinId"}]}"# + "\n"            // line 7: no id
            + BulkImportTests.patients(3..<5)
        let obs = #"{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"glucosa"},"subject":{"reference":"Patient/p1"}}"#
        let fetcher = MemoryFetcher(files: [a: broken, b: obs])
        let request = BulkImport.Request(inputFormat: "application/fhir+ndjson", inputSource: "https://hospital-a.example.mx/fhir",
                                         inputs: [.init(type: "Patient", url: a), .init(type: "Observation", url: b), .init(type: "Patient", url: missing)],
                                         storageType: "https")
        let allow = try BulkImport.AllowList(["127.0.0.1:9000"])
        let job = try BulkImport.prepare(root: root, subject: BulkImportTests.service.subject, request: request, requestURL: "http://x/fhir/$import", now: BulkImportTests.t0)
        guard case .inProgress(0, 3) = BulkImport.status(root: root, id: job.id, subject: job.subject, now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("a fresh job is not in progress"); return
        }
        #expect(BulkImport.running(root: root, subject: job.subject) && !BulkImport.running(root: root, subject: "someone-else"))
        guard case .notFound = BulkImport.status(root: root, id: job.id, subject: "someone-else", now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("visible to another subject"); return
        }
        await BulkImport.run(job, door: door, principal: BulkImportTests.service, fetcher: fetcher, allow: allow, limits: .init(), base: "http://x/fhir")
        guard case .complete(let manifest, _) = BulkImport.status(root: root, id: job.id, subject: job.subject, now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("not complete"); return
        }
        #expect(!BulkImport.running(root: root, subject: job.subject))
        let outputs = manifest["output"]?.arrayValue ?? []
        #expect(outputs.map { $0["count"]?.compactString } == ["5", "1", "0"], "\(manifest.compactString)")
        #expect(outputs.map { $0["type"]?.stringValue } == ["Patient", "Observation", "Patient"])
        let errors = manifest["error"]?.arrayValue ?? []
        #expect(errors.map { $0["inputUrl"]?.stringValue } == [a, missing] && errors.map { $0["count"]?.compactString } == ["4", "1"])
        #expect(manifest["request"]?.stringValue == "http://x/fhir/$import" && manifest["requiresAccessToken"]?.boolValue == true)
        // one OperationOutcome per failed line, in English and Spanish, naming the line
        let errorFile = try String(contentsOfFile: job.directory + "/errors-1.ndjson", encoding: .utf8)
        let lines = errorFile.split(separator: "\n").map { BulkImportTests.json(String($0)) }
        #expect(lines.count == 4 && lines.allSatisfy { $0["resourceType"]?.stringValue == "OperationOutcome" })
        // lines refused on reading come first, those the store refused when their batch ends
        let texts = lines.map { $0.compactString }
        func about(_ line: Int) -> String { texts.first { $0.contains("line \(line):") } ?? "none" }
        #expect(about(4).contains("línea 4:") && about(4).contains("gender"), "\(texts)")
        #expect(about(5).contains("line 5: not valid JSON") && about(5).contains("no es JSON válido"))
        #expect(about(6).contains("a Observation in a file of type Patient"))
        #expect(about(7).contains("no id"))
        #expect(!texts.contains { $0.contains("line 1:") || $0.contains("line 8:") })
        let missingFile = try String(contentsOfFile: job.directory + "/errors-3.ndjson", encoding: .utf8)
        #expect(missingFile.contains("HTTP 404") && missingFile.contains("not-found"))
        #expect(try await BulkImportTests.count(door, "Patient") == 5)
        #expect(try await BulkImportTests.count(door, "Observation") == 1)
        // meta.source is the inputSource
        let stored = try await door.store.read { try $0.search(SearchParser().parse(types: ["Patient"], parameters: [("_id", "p0")]).0).matches }.first?.json()
        #expect(stored?["meta"]?["source"]?.stringValue == "https://hospital-a.example.mx/fhir")

        #expect(outputs.map { $0["extension"]?["unchanged"]?.compactString } == ["0", "0", "0"])
        let provenances = try await BulkImportTests.count(door, "Provenance")
        let eventsBefore = try await door.store.read { try $0.events(after: .start, limit: 1000) }.count

        // the same import again: nothing duplicated, and nothing written again — no new version,
        // no event for the alert rules and subscriptions, no Provenance — but counted as stored
        let again = try BulkImport.prepare(root: root, subject: job.subject, request: request, requestURL: "http://x/fhir/$import", now: BulkImportTests.t0)
        await BulkImport.run(again, door: door, principal: BulkImportTests.service, fetcher: fetcher, allow: allow, limits: .init(), base: "http://x/fhir")
        guard case .complete(let second, _) = BulkImport.status(root: root, id: again.id, subject: job.subject, now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("the retry is not complete"); return
        }
        #expect((second["output"]?.arrayValue ?? []).map { $0["count"]?.compactString } == ["5", "1", "0"])
        #expect((second["output"]?.arrayValue ?? []).map { $0["extension"]?["unchanged"]?.compactString } == ["5", "1", "0"])
        #expect(try await BulkImportTests.count(door, "Patient") == 5)
        #expect(try await BulkImportTests.count(door, "Observation") == 1)
        #expect(try await door.store.read { try $0.current("Patient", "p0") }?.version == 1)
        #expect(try await BulkImportTests.count(door, "Provenance") == provenances)
        #expect(try await door.store.read { try $0.events(after: .start, limit: 1000) }.count == eventsBefore)

        // one Patient changed at the source: only it gets a new version
        let changed = BulkImportTests.patients(0..<4) + #"{"resourceType":"Patient","id":"p4","name":[{"family":"Cambiado"}]}"# + "\n"
        let third = try BulkImport.prepare(root: root, subject: job.subject, request: BulkImport.Request(
            inputFormat: "application/fhir+ndjson", inputSource: request.inputSource, inputs: [.init(type: "Patient", url: "http://127.0.0.1:9000/changed.ndjson")],
            storageType: "https"), requestURL: "http://x/fhir/$import", now: BulkImportTests.t0)
        await BulkImport.run(third, door: door, principal: BulkImportTests.service, fetcher: MemoryFetcher(files: ["http://127.0.0.1:9000/changed.ndjson": changed]),
                             allow: allow, limits: .init(), base: "http://x/fhir")
        guard case .complete(let last, _) = BulkImport.status(root: root, id: third.id, subject: job.subject, now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("the third import is not complete"); return
        }
        #expect(last["output"]?.arrayValue?.first?["count"]?.compactString == "5" && last["output"]?.arrayValue?.first?["extension"]?["unchanged"]?.compactString == "4")
        #expect(try await door.store.read { try $0.current("Patient", "p4") }?.version == 2)
        #expect(try await door.store.read { try $0.current("Patient", "p3") }?.version == 1)
        #expect(try await BulkImportTests.count(door, "Provenance") == provenances + 1)
    }

    @Test func thePrincipalsGuardDecidesEveryWrite() async throws {
        let root = BulkImportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let door = try BulkImportTests.door()
        let url = "http://127.0.0.1:9000/Patient.ndjson"
        // scopes that grant Observation only: every Patient line is refused by the guard, nothing stored
        let narrow = Principal(subject: "client:narrow", scopes: ScopeSet("system/Observation.cu"), tokenID: "t", role: .service, clientID: "narrow")
        let request = BulkImport.Request(inputFormat: "ndjson", inputSource: "urn:x", inputs: [.init(type: "Patient", url: url)], storageType: "https")
        let job = try BulkImport.prepare(root: root, subject: narrow.subject, request: request, requestURL: "r", now: BulkImportTests.t0)
        await BulkImport.run(job, door: door, principal: narrow, fetcher: MemoryFetcher(files: [url: BulkImportTests.patients(0..<3)]),
                             allow: try BulkImport.AllowList(["127.0.0.1:9000"]), limits: .init(), base: "http://x/fhir")
        guard case .complete(let manifest, _) = BulkImport.status(root: root, id: job.id, subject: narrow.subject, now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("not complete"); return
        }
        #expect(manifest["output"]?.arrayValue?.first?["count"]?.compactString == "0")
        #expect(manifest["error"]?.arrayValue?.first?["count"]?.compactString == "3")
        let errors = try String(contentsOfFile: job.directory + "/errors-1.ndjson", encoding: .utf8)
        #expect(errors.contains("scopes") && errors.contains("forbidden"), "\(errors)")
        #expect(try await BulkImportTests.count(door, "Patient") == 0)
    }

    @Test func aFileCutShortOrOffTheListAndTheRestGoesOn() async throws {
        let root = BulkImportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let door = try BulkImportTests.door()
        let big = "http://127.0.0.1:9000/big.ndjson", off = "http://10.0.0.1:9000/p.ndjson", ok = "http://127.0.0.1:9000/ok.ndjson"
        let request = BulkImport.Request(inputFormat: "ndjson", inputSource: "urn:x",
                                         inputs: [.init(type: "Patient", url: big), .init(type: "Patient", url: off), .init(type: "Patient", url: ok)], storageType: "https")
        let job = try BulkImport.prepare(root: root, subject: BulkImportTests.service.subject, request: request, requestURL: "r", now: BulkImportTests.t0)
        // cut in the middle of its 11th line: the 10 whole lines before stay stored, the cut one is dropped
        let lines = BulkImportTests.patients(0..<50)
        let lineLength = lines.split(separator: "\n")[0].utf8.count + 1
        let fetcher = MemoryFetcher(files: [big: lines, off: BulkImportTests.patients(50..<51), ok: BulkImportTests.patients(60..<62)],
                                    cutAfter: [big: lineLength * 10 + 20])
        await BulkImport.run(job, door: door, principal: BulkImportTests.service, fetcher: fetcher, allow: try BulkImport.AllowList(["127.0.0.1:9000"]),
                             limits: .init(), base: "http://x/fhir")
        guard case .complete(let manifest, _) = BulkImport.status(root: root, id: job.id, subject: job.subject, now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("not complete"); return
        }
        #expect(manifest["output"]?.arrayValue?.map { $0["count"]?.compactString } == ["10", "0", "2"])
        #expect(try String(contentsOfFile: job.directory + "/errors-1.ndjson", encoding: .utf8).contains("too-costly"))
        #expect(try String(contentsOfFile: job.directory + "/errors-2.ndjson", encoding: .utf8).contains("not an allowed import source"))
        #expect(try await BulkImportTests.count(door, "Patient") == 12)
    }

    @Test func cancelAndRestart() async throws {
        let root = BulkImportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let request = BulkImport.Request(inputFormat: "ndjson", inputSource: "urn:x", inputs: [.init(type: "Patient", url: "http://h:1/p")], storageType: "https")
        // cancelled: the status is gone (404), and running it stores nothing
        let job = try BulkImport.prepare(root: root, subject: "s", request: request, requestURL: "r", now: BulkImportTests.t0)
        #expect(BulkExport.cancel(root: root, id: job.id, subject: "s"))
        guard case .notFound = BulkImport.status(root: root, id: job.id, subject: "s", now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("a cancelled import still answers"); return
        }
        let door = try BulkImportTests.door()
        await BulkImport.run(job, door: door, principal: BulkImportTests.service, fetcher: MemoryFetcher(files: ["http://h:1/p": BulkImportTests.patients(0..<2)]),
                             allow: try BulkImport.AllowList(["h:1"]), limits: .init(), base: "b")
        #expect(try await BulkImportTests.count(door, "Patient") == 0)
        #expect(!FileManager.default.fileExists(atPath: job.directory))
        // cut by a restart: fails with the import's own words, then expires
        let cut = try BulkImport.prepare(root: root, subject: "s", request: request, requestURL: "r", now: BulkImportTests.t0)
        let jobFile = cut.directory + "/job.json"
        try String(contentsOfFile: jobFile, encoding: .utf8).replacingOccurrences(of: BulkExport.processID, with: "another-process")
            .write(toFile: jobFile, atomically: true, encoding: .utf8)
        #expect(!BulkImport.running(root: root, subject: "s"))
        guard case .failed(let outcome) = BulkImport.status(root: root, id: cut.id, subject: "s", now: BulkImportTests.t0, retention: 3600) else {
            Issue.record("not failed"); return
        }
        #expect(outcome.compactString.contains("import was interrupted") && outcome.compactString.contains("reinicio"))
        guard case .expired = BulkImport.status(root: root, id: cut.id, subject: "s", now: Timestamp(microseconds: BulkImportTests.t0.microseconds + 3601_000_000), retention: 3600) else {
            Issue.record("not expired"); return
        }
    }
}
