import FHIR
import Foundation
@testable import Interop
import Testing

/// The export job's state on disk and its kick-off parameters (docs/interop.md#bulk-data-export).
@Suite struct BulkExportTests {
    static let t0 = Timestamp(instant: "2026-12-01T00:00:00Z")!
    static func at(_ seconds: Double) -> Timestamp { Timestamp(microseconds: t0.microseconds + Int64(seconds * 1_000_000)) }

    static func root() -> String { NSTemporaryDirectory() + "enlace-export-" + UUID().uuidString }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let e as FHIRError { return "\(e.status) " + e.issues.map { $0.english + " | " + $0.spanish }.joined() } catch { return "\(error)" }
        return "no error"
    }

    @Test func aJobCutByARestartFailsCleanly() throws {
        let root = BulkExportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let job = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_type", "Patient")], now: BulkExportTests.t0)
        guard case .inProgress(0, 1) = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.t0) else { Issue.record("not in progress"); return }
        // the same job as another process left it
        let jobFile = job.directory + "/job.json"
        let text = try String(contentsOfFile: jobFile, encoding: .utf8).replacingOccurrences(of: BulkExport.processID, with: "another-process")
        try text.write(toFile: jobFile, atomically: true, encoding: .utf8)
        guard case .failed(let outcome) = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(5)) else { Issue.record("not failed"); return }
        #expect(outcome.compactString.contains("restart") && outcome.compactString.contains("reinicio"))
        guard case .notFound = BulkExport.status(root: root, id: job.id, subject: "someone-else", now: BulkExportTests.at(5)) else { Issue.record("visible to another subject"); return }
        #expect(throws: FHIRError.self) { try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_type", "Practitioner")], now: BulkExportTests.t0) }
        #expect(throws: FHIRError.self) { try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_since", "yesterday")], now: BulkExportTests.t0) }
        // a failed job expires like a finished one
        guard case .expired = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(5 + 3601)) else { Issue.record("not expired"); return }
        #expect(!FileManager.default.fileExists(atPath: job.directory))
    }

    @Test func levelsDecideTheTypes() throws {
        let root = BulkExportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let system = try BulkExport.prepare(root: root, subject: "s", request: "x", level: .system, parameters: [], now: BulkExportTests.t0)
        #expect(system.types.contains("Practitioner") && system.types.contains("Observation") && !system.types.contains("AuditEvent"))
        #expect(!system.typesRequested)
        let some = try BulkExport.prepare(root: root, subject: "s", request: "x", level: .system, parameters: [("_type", "Practitioner,Organization")], now: BulkExportTests.t0)
        #expect(some.types == ["Organization", "Practitioner"] && some.typesRequested)
        #expect(BulkExportTests.message { _ = try BulkExport.prepare(root: root, subject: "s", request: "x", level: .system, parameters: [("_type", "AuditEvent")], now: BulkExportTests.t0) }.hasPrefix("400"))
        let group = try BulkExport.prepare(root: root, subject: "s", request: "x", level: .group("g"), members: ["b", "a", "b"], parameters: [], now: BulkExportTests.t0)
        #expect(group.members == ["a", "b"] && !group.types.contains("Practitioner") && group.types.first == "Patient")
        #expect(BulkExportTests.message { _ = try BulkExport.prepare(root: root, subject: "s", request: "x", level: .group("g"), parameters: [("_type", "Practitioner")], now: BulkExportTests.t0) }
            .contains("Patient compartment"))
    }

    @Test func outputFormats() throws {
        let root = BulkExportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for f in ["application/fhir+ndjson", "application/ndjson", "ndjson"] {
            _ = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_outputFormat", f)], now: BulkExportTests.t0)
        }
        for f in ["application/fhir+json", "text/csv", "application/fhir ndjson"] {
            let m = BulkExportTests.message { _ = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_outputFormat", f)], now: BulkExportTests.t0) }
            #expect(m.hasPrefix("400") && m.contains(f) && m.contains("no se admite"), "\(m)")
        }
    }

    @Test func typeFilters() throws {
        let root = BulkExportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // one value may hold several queries; a comma inside a query's value stays in it
        #expect(BulkExport.splitTypeFilter("Observation?code=4548-4,2339-0,MedicationRequest?status=active")
            == ["Observation?code=4548-4,2339-0", "MedicationRequest?status=active"])
        let job = try BulkExport.prepare(root: root, subject: "s", request: "x", level: .patient,
                                         parameters: [("_typeFilter", "Observation?code=http%3A%2F%2Floinc.org%7C4548-4&date=ge2026-01-01"),
                                                      ("_typeFilter", "Observation?status=final"), ("_typeFilter", "Condition?clinical-status=active")],
                                         now: BulkExportTests.t0)
        #expect(job.typeFilters["Observation"]?.count == 2)
        #expect(job.typeFilters["Observation"]?.first?.first?.1 == "http://loinc.org|4548-4")
        #expect(job.typeFilters["Condition"]?.count == 1 && job.typeFilters["Patient"] == nil)
        for (bad, says) in [("Observation?kode=4548-4", "kode"), ("Observation", "Type?parameters"), ("Obsrvation?code=x", "Obsrvation"),
                            ("Practitioner?name=x", "not among the exported types"), ("Observation?code=x&_count=5", "_count"),
                            ("Observation?", "empty"), ("Observation?date=notadate", "Observation?date=notadate")] {
            let m = BulkExportTests.message { _ = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_typeFilter", bad)], now: BulkExportTests.t0) }
            #expect(m.hasPrefix("400") && m.contains("_typeFilter '\(bad)'") && m.contains(says), "\(bad): \(m)")
        }
        // a filter of a type left out by _type
        let m = BulkExportTests.message { _ = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_type", "Patient"), ("_typeFilter", "Observation?code=x")], now: BulkExportTests.t0) }
        #expect(m.hasPrefix("400") && m.contains("_type"))
    }

    @Test func elementsKeepIdMetaMandatoryAndListed() throws {
        let root = BulkExportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let job = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_elements", "Patient.birthDate,subject,Observation.value")], now: BulkExportTests.t0)
        #expect(BulkExport.elements(job.elements, for: "Patient") == ["birthDate"])
        #expect(BulkExport.elements(job.elements, for: "Observation") == ["subject", "value"])
        #expect(BulkExport.elements(job.elements, for: "Practitioner") == nil)
        let obs = try JSONParser.parse(#"{"resourceType":"Observation","id":"o","meta":{"versionId":"1"},"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"},"valueQuantity":{"value":1},"note":[{"text":"n"}]}"#)
        let cut = BulkExport.subset(obs, keep: BulkExport.elements(job.elements, for: "Observation")!)
        // id, meta, the mandatory status and code, and the listed subject and value[x]; note gone
        #expect(cut["id"] != nil && cut["status"] != nil && cut["code"] != nil && cut["subject"] != nil && cut["valueQuantity"] != nil)
        #expect(cut["note"] == nil)
        #expect(cut["meta"]?["versionId"]?.stringValue == "1")
        #expect(cut["meta"]?["tag"]?.arrayValue?.contains { $0["code"]?.stringValue == "SUBSETTED" } == true)
        // nothing left out: no tag
        let whole = BulkExport.subset(try JSONParser.parse(#"{"resourceType":"Patient","id":"p","birthDate":"2000-01-01"}"#), keep: ["birthDate"])
        #expect(whole["meta"] == nil)
        for bad in ["Patient.nombre", "Patient.name.given", "Practitioner.name", "nonsense"] {
            let m = BulkExportTests.message { _ = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_elements", bad)], now: BulkExportTests.t0) }
            #expect(m.hasPrefix("400") && m.contains("_elements '\(bad)'"), "\(bad): \(m)")
        }
    }

    @Test func pollingTooSoonIs429AndFinishedJobsExpire() throws {
        let root = BulkExportTests.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let job = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [], now: BulkExportTests.t0)
        guard case .inProgress = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(0)) else { Issue.record("not in progress"); return }
        guard case .tooSoon(let wait) = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(0.2)) else { Issue.record("not 429"); return }
        #expect(wait == 1)
        guard case .inProgress = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(1.0)) else { Issue.record("a poll after Retry-After was refused"); return }
        // finished: no throttling, expiry announced, then gone from disk
        try BulkExport.write(.object([("transactionTime", .string("t")), ("output", .array([]))]), to: job.directory + "/manifest.json")
        BulkExport.markFinished(job.directory, now: BulkExportTests.at(2))
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: job.directory + "/Patient.ndjson"))
        guard case .complete(_, let expires) = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(2.1)) else { Issue.record("not complete"); return }
        #expect(expires == BulkExportTests.at(2 + 3600))
        guard case .complete = BulkExport.status(root: root, id: job.id, subject: "s", now: BulkExportTests.at(2.2)) else { Issue.record("a finished job was throttled"); return }
        #expect(BulkExport.file(root: root, id: job.id, name: "Patient.ndjson", subject: "s", now: BulkExportTests.at(3000), retention: 3600) != nil)
        #expect(BulkExport.file(root: root, id: job.id, name: "Patient.ndjson", subject: "s", now: BulkExportTests.at(3000), retention: 60) == nil)
        #expect(!FileManager.default.fileExists(atPath: job.directory))
        // the sweep removes expired jobs and keeps the others
        let old = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [], now: BulkExportTests.t0)
        BulkExport.markFinished(old.directory, now: BulkExportTests.at(0))
        let running = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [], now: BulkExportTests.t0)
        #expect(BulkExport.sweepExpired(root: root, now: BulkExportTests.at(100), retention: 50) == 1)
        #expect(!FileManager.default.fileExists(atPath: old.directory) && FileManager.default.fileExists(atPath: running.directory))
    }

    @Test func groupMembers() throws {
        let g = try JSONParser.parse(#"{"resourceType":"Group","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/b"}},{"entity":{"reference":"http://x/fhir/Patient/a"}},{"entity":{"reference":"Patient/c"},"inactive":true},{"entity":{"reference":"Practitioner/d"}},{"entity":{"reference":"Patient/b"}}]}"#)
        #expect(BulkExport.members(of: g, base: "http://x/fhir") == ["a", "b"])
    }
}
