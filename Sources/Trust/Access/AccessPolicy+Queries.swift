import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The reads the decision rests on: Consents, relationship resources and the patients they
/// name, read as the system before any query of the principal runs.
extension AccessPolicy {
    /// The Consents of each patient (read on every request; nothing outlives it).
    func consentsOf(_ patients: Set<String>, store: any ResourceStore) async throws -> [String: [ConsentRecord]] {
        var out: [String: [ConsentRecord]] = [:]
        let sorted = patients.sorted()
        var i = 0
        while i < sorted.count {
            let chunk = sorted[i..<min(i + 100, sorted.count)]
            i += 100
            for r in try await resources(store, type: "Consent", parameters: [("patient", chunk.map { "Patient/\($0)" }.joined(separator: ",")),
                                                                              ("status", "active")]) {
                let c = ConsentRecord(json: try r.json())
                if let pt = c.patient { out[pt, default: []].append(c) }
            }
        }
        return out
    }

    /// Current resources of `type` matching `parameters` (at most 20,000).
    func resources(_ store: any ResourceStore, type: String, parameters: [(String, String)], when: Bool = true) async throws -> [StoredResource] {
        guard when else { return [] }
        var options = SearchParser.Options()
        options.maxCount = 1000
        guard var (query, _) = try? SearchParser(options: options).parse(types: [type], parameters: parameters + [("_count", "1000"), ("_total", "none")]) else { return [] }
        var out: [StoredResource] = []
        for _ in 0..<20 {
            let q = query
            let page = try await store.read { try $0.search(q) }
            out += page.matches
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }

    /// Patients whose compartment holds a `type` resource whose reference `param` is one of `values`.
    func patientsOf(_ store: any ResourceStore, type: String, param: String, values: [String?], extra: [(String, String)] = [],
                    raw: Bool = false) async throws -> Set<String> {
        let refs = values.compactMap { $0 }.filter { raw || $0.contains("/") }
        guard !refs.isEmpty else { return [] }
        var parameters = [(param, refs.joined(separator: ","))] + extra
        parameters += [("_count", "1000"), ("_total", "none")]
        var options = SearchParser.Options()
        options.maxCount = 1000
        guard var (query, _) = try? SearchParser(options: options).parse(types: [type], parameters: parameters) else { return [] }
        var out = Set<String>()
        for _ in 0..<20 {  // at most 20,000 resources per relationship kind
            let q = query
            let page = try await store.read { try $0.search(q) }
            for r in page.matches { out.formUnion(r.compartments) }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }

    static func patientID(_ ref: String) -> String {
        ref.hasPrefix("Patient/") ? String(ref.dropFirst(8)) : ref
    }

    /// Labels named anywhere in a provision tree.
    static func labelsNamed(_ p: ConsentRecord.Provision?) -> [String] {
        guard let p else { return [] }
        return p.securityLabels + p.provisions.flatMap(labelsNamed)
    }
}
