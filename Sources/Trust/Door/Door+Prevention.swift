import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The two things prevention needs from the door that a principal's own guard cannot give
/// (docs/prevention.md):
///
/// - **Opposition to contact.** Before a reminder is written, the patients' Consents are read
///   as the system: a clinician's guard may hide a Consent (another institution's, or one the
///   patient keeps private), and a reminder must never reach a patient who opposed because the
///   clinician could not see the opposition. Only the answer (who opposed, and the Consent's
///   id) leaves the door. Recorded with the rule `urn:enlace:rule:contact-opposition`.
/// - **A scheduled pass** of a domain's algorithm (prevention's daily recomputation): run as the
///   algorithm's own named principal through an ordinary guarded repository (its access decision
///   is made like any principal's), one audit entry per call (a page of the pass) for what it
///   read and wrote.
extension Door {
    /// Which of `patients` have a Consent in force that opposes contact: patient id → the
    /// Consent's id. `opposes` judges one patient's Consents (the rule lives in Prevention).
    public func contactOpposition(_ patients: [String], audit: AuditContext?,
                                  opposes: @Sendable ([JSON]) -> String?) async throws -> [String: String] {
        audit?.decidedBy("urn:enlace:rule:contact-opposition")
        var out: [String: String] = [:]
        var i = 0
        let sorted = Array(Set(patients)).sorted()
        while i < sorted.count {
            let chunk = sorted[i..<min(i + 100, sorted.count)]
            i += 100
            var byPatient: [String: [JSON]] = [:]
            let found = try await policy.resources(store, type: "Consent", parameters: [("patient", chunk.map { "Patient/\($0)" }.joined(separator: ",")),
                                                                                      ("status", "active")])
            for r in found where !r.deleted {
                let json = try r.json()
                guard let ref = json["patient"]?["reference"]?.stringValue, ref.hasPrefix("Patient/") else { continue }
                byPatient[String(ref.dropFirst(8)), default: []].append(json)
            }
            for (patient, consents) in byPatient {
                if let id = opposes(consents) { out[patient] = id }
            }
        }
        return out
    }

    /// Runs `body` with the guarded repository of `principal` (an algorithm's own service
    /// principal) as a scheduled pass named `name`, and appends one audit entry for what it read
    /// (its writes append theirs in their own transactions).
    public func scheduledPass<T: Sendable>(_ name: String, principal: Principal, _ body: (GuardedRepository) async throws -> T) async throws -> T {
        let audit = AuditContext(requestID: "scheduled-\(name)-\(clock.now())", method: "POST", path: "urn:enlace:scheduled:\(name)", query: nil,
                                 remoteAddress: nil)
        audit.principal = principal
        audit.interaction = "operation"
        let guarded = try await open(principal, audit: audit)
        let result = try await body(guarded)
        if audit.recordedIndex == nil, !audit.entities.isEmpty {
            let now = clock.now()
            _ = try await ledger.record(PendingAudit(recorded: now, patients: audit.patients, bytes: auditBuilder.build(audit, status: 200, recorded: now).serialized()))
        }
        return result
    }
}
