import FHIR
import Foundation
import Storage
import Trust

/// Reading the records of a page of patients in a few searches instead of ten per patient
/// (docs/prevention.md, "Reading a page of records"). Everything still goes through the asker's
/// guarded repository — the Door — so each search carries the asker's visibility exactly as the
/// per-patient read does; the result is the same, record for record, as `read(_:patient:)` for
/// each patient (`Tests/ServerTests/PreventionPageReadTests.swift` compares them).
extension RecordReader {
    /// Ids per search (each one a bound value of an `IN`/`OR` list).
    public static let pageChunk = 200

    /// For each type read, the search parameters that put a resource of that type in a patient's
    /// compartment (the R4 CompartmentDefinition: Observation `subject` and `performer`, …). A
    /// search by each of them over the page's patients finds exactly what the per-patient
    /// compartment searches find.
    static let compartmentParameters: [String: [String]] = {
        var out: [String: [String]] = [:]
        for type in PatientRecord.types { out[type] = (Definitions.r4.patientCompartment[type] ?? []).sorted() }
        return out
    }()

    /// The records of `patients` (ids) that the principal may see, keyed by id; a patient that is
    /// missing, deleted or not visible is simply absent (the caller decides: a consumer skips it,
    /// `$care-gaps` re-reads it to answer the guard's exact 404 or 410). Types the principal's
    /// scopes do not allow are skipped, as in `read(_:patient:)`. Per patient and type, the newest
    /// `perType` resources are kept, in the per-patient read's order (`-_lastUpdated`, then id).
    public static func read(_ guarded: GuardedRepository, patients: [String]) async throws -> [String: PatientRecord] {
        var seen: Set<String> = []
        let unique = patients.filter { seen.insert($0).inserted }
        if unique.count == 1 {
            // one patient: the compartment searches are fewer queries than the page's 15
            do {
                return [unique[0]: try await read(guarded, patient: unique[0])]
            } catch let e as FHIRError where [403, 404, 410].contains(e.status) {
                return [:]
            }
        }
        var out: [String: PatientRecord] = [:]
        var start = 0
        while start < unique.count {
            let chunk = Array(unique[start..<min(start + pageChunk, unique.count)])
            start += chunk.count
            for (id, record) in try await readChunk(guarded, chunk) { out[id] = record }
        }
        return out
    }

    static func readChunk(_ guarded: GuardedRepository, _ ids: [String]) async throws -> [String: PatientRecord] {
        var records: [String: PatientRecord] = [:]
        for p in try await guarded.searchAll("Patient", [("_id", ids.joined(separator: ","))], pageSize: perType) where ids.contains(p.id) {
            records[p.id] = PatientRecord(patient: try p.json())
        }
        guard !records.isEmpty else { return [:] }
        let visible = ids.filter { records[$0] != nil }
        let set = Set(visible)
        let references = visible.map { "Patient/\($0)" }.joined(separator: ",")
        for type in PatientRecord.types {
            var found: [String: StoredResource] = [:]
            do {
                for parameter in compartmentParameters[type] ?? [] {
                    for r in try await guarded.searchAll(type, [(parameter, references)], pageSize: perType) { found["\(r.type)/\(r.id)"] = r }
                }
            } catch let e as FHIRError where e.status == 403 {
                continue
            }
            var byPatient: [String: [StoredResource]] = [:]
            for r in found.values {
                for p in Set(r.compartments) where set.contains(p) { byPatient[p, default: []].append(r) }
            }
            for (p, list) in byPatient {
                let newest = list.sorted { $0.lastUpdated != $1.lastUpdated ? $0.lastUpdated > $1.lastUpdated : $0.id < $1.id }.prefix(perType)
                for r in newest { records[p]?.add(try r.json()) }
            }
        }
        return records
    }
}
