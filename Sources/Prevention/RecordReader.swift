import FHIR
import Foundation
import Storage
import Trust

/// Reads the part of a patient's record prevention needs through a guarded repository, so a
/// clinician's `$care-gaps` rests only on what that clinician may see, and the consumers only on
/// what their own principal may.
public enum RecordReader {
    /// At most this many resources of each type are read (the newest first).
    public static let perType = 1000

    /// The record of `patient` (an id). Throws the guard's 404 when the patient is not visible.
    /// Types the principal's scopes do not allow are skipped (their items then look undone).
    public static func read(_ guarded: GuardedRepository, patient: String) async throws -> PatientRecord {
        let p = try await guarded.read("Patient", patient)
        var record = PatientRecord(patient: try p.json())
        var options = SearchParser.Options()
        options.maxCount = perType
        let parser = SearchParser(options: options)
        for type in PatientRecord.types {
            var (query, _) = try parser.parse(types: [type], parameters: [("_count", String(perType)), ("_total", "none"), ("_sort", "-_lastUpdated")])
            query.compartment = patient
            do {
                for r in try await guarded.search(query).matches where !r.deleted { record.add(try r.json()) }
            } catch let e as FHIRError where e.status == 403 {
                continue
            }
        }
        return record
    }
}
