import FHIR
import Foundation

/// Who reads which audit entries (the `AuditVisibility` cases): decided here, with the rest of
/// the access rules, and applied by `AuditLog`.
extension AccessPolicy {
    /// What `p` may read of the audit log, and the rule that decided; nil when nothing.
    public func auditVisibility(_ p: Principal) -> (visibility: AuditVisibility?, rule: String) {
        switch p.effectiveRole {
        case .auditor, .privacyOfficer, .platformOperator:
            if p.role != nil || p.scopes.allows(.read, on: "AuditEvent", context: .system) { return (.everything, "urn:enlace:rule:auditor") }
        case .patient, .relatedPerson:
            // a patient context may be written `ana` or `Patient/ana` (user records, SMART launch)
            let mine = Set(([p.patient].compactMap { $0 } + p.actsFor).map(AccessPolicy.patientID))
            if !mine.isEmpty { return (.patients(mine), "urn:enlace:rule:own-access-log") }
        default: break
        }
        return (nil, "urn:enlace:rule:auditor-only")
    }
}

