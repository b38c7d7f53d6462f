import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The one read of patient matching that cannot go through the caller's guard
/// (docs/interop.md#patientmatch, docs/access.md#the-door): whether an identifier (a CURP, an
/// NSS, an ISSSTE number) names a live Patient the caller may *not* see — so that `$match` can
/// say that a record exists and how to request access, exactly as the portal's CURP lookup
/// lets a clinician ask for access, and reveal nothing of the record.
extension Door {
    /// True when one of `identifiers` (system, value; a CURP under any of `CURP.systems`) is an
    /// identifier of a live Patient that `guarded`'s principal cannot see. Only a practitioner
    /// learns this (they can ask the patient for access); for anyone else it is always false, so
    /// a patient or a payer cannot probe who has a record. The audit entry records the rule
    /// `urn:enlace:rule:match-identifier-lookup` and, when a hidden record matched, concerns that
    /// patient — who sees on *¿Quién vio mis datos?* that they were looked up.
    public func hiddenIdentifierMatch(_ identifiers: [(system: String, value: String)], for guarded: GuardedRepository,
                                      audit: AuditContext?) async throws -> Bool {
        guard guarded.principal.effectiveRole == .practitioner, !identifiers.isEmpty else { return false }
        audit?.decidedBy("urn:enlace:rule:match-identifier-lookup")
        var options = SearchParser.Options()
        options.maxCount = 5
        let parser = SearchParser(options: options)
        var found = false
        for (system, value) in identifiers.prefix(5) {
            let isCURP = CURP.systems.contains(system.lowercased())
            let (query, _) = try parser.parse(types: ["Patient"], parameters: [("identifier", isCURP ? value : "\(system)|\(value)"), ("_count", "5"), ("_total", "none")])
            let matches = try await store.read { tx in try tx.search(query).matches }
            for r in matches where !r.deleted {
                let json = try r.json()
                let named = (json["identifier"]?.arrayValue ?? []).contains { i in
                    guard let v = i["value"]?.stringValue else { return false }
                    return isCURP ? CURP.normalize(v) == value && CURP.isCURPIdentifier(i) : v == value && i["system"]?.stringValue == system
                }
                guard named, try await guarded.visibleCurrent("Patient", r.id) == nil else { continue }
                audit?.concerns(r.id)
                found = true
            }
        }
        return found
    }
}
