import FHIR
import Foundation
@testable import Interop
import Testing

/// The export job's state on disk (docs/interop.md#bulk-data-export).
@Suite struct BulkExportTests {
    @Test func aJobCutByARestartFailsCleanly() throws {
        let root = NSTemporaryDirectory() + "enlace-export-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let job = try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_type", "Patient")], now: Timestamp(instant: "2026-12-01T00:00:00Z")!)
        guard case .inProgress(0, 1) = BulkExport.status(root: root, id: job.id, subject: "s") else { Issue.record("not in progress"); return }
        // the same job as another process left it
        let jobFile = job.directory + "/job.json"
        let text = try String(contentsOfFile: jobFile, encoding: .utf8).replacingOccurrences(of: BulkExport.processID, with: "another-process")
        try text.write(toFile: jobFile, atomically: true, encoding: .utf8)
        guard case .failed(let outcome) = BulkExport.status(root: root, id: job.id, subject: "s") else { Issue.record("not failed"); return }
        #expect(outcome.compactString.contains("restart") && outcome.compactString.contains("reinicio"))
        guard case .notFound = BulkExport.status(root: root, id: job.id, subject: "someone-else") else { Issue.record("visible to another subject"); return }
        #expect(throws: FHIRError.self) { try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_type", "Practitioner")], now: Timestamp(instant: "2026-12-01T00:00:00Z")!) }
        #expect(throws: FHIRError.self) { try BulkExport.prepare(root: root, subject: "s", request: "x", parameters: [("_since", "yesterday")], now: Timestamp(instant: "2026-12-01T00:00:00Z")!) }
    }
}
