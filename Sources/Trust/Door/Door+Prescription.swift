import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The pharmacy counter (docs/prescribing.md): any pharmacy user finds a prescription **only**
/// by its code — the patient's bearer credential, shown as text and QR in the portal — never
/// by browsing. The look-up is the one read that cannot go through the pharmacy's ordinary
/// guard (which shows only prescriptions naming that pharmacy); it opens a guarded repository
/// whose decision reaches exactly what dispensing needs: that MedicationRequest, the Patient,
/// the MedicationDispenses of that prescription, the Provenances that target it (its prescriber's
/// signature) and shared data (Medication…, the prescriber's Practitioner and keys), and may write
/// only MedicationDispense. Recorded with the rule `urn:enlace:rule:prescription-code`.
extension Door {
    /// The identifier system of prescription codes.
    public static let prescriptionCodeSystem = "https://enlace.mx/fhir/sid/receta"

    /// Is `code` in the shape Enlace issues (`RX-` and 12 Crockford base-32 characters in groups of 4)?
    public static func isPrescriptionCode(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "RX" else { return false }
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        return parts.dropFirst().allSatisfy { $0.count == 4 && $0.allSatisfy(alphabet.contains) }
    }

    /// The guarded repository of a pharmacy for the prescription with `code`, and its reference
    /// (`MedicationRequest/id`); nil when no prescription has that code — the caller answers
    /// that exactly like a wrong code. Throws 403 for any role but `pharmacy` (decided from the
    /// token alone).
    public func dispensing(_ principal: Principal, code: String, audit: AuditContext?) async throws -> (repository: GuardedRepository, prescription: String)? {
        guard principal.effectiveRole == .pharmacy else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a pharmacy user finds prescriptions by code",
                            spanish: "solo una farmacia busca recetas por código")
        }
        let rule = "urn:enlace:rule:prescription-code"
        audit?.decidedBy(rule)
        let code = code.trimmingCharacters(in: .whitespaces).uppercased()
        guard Door.isPrescriptionCode(code) else { return nil }
        let found = try await policy.resources(store, type: "MedicationRequest", parameters: [("identifier", "\(Door.prescriptionCodeSystem)|\(code)")])
        guard found.count == 1, let mr = found.first, !mr.deleted, mr.compartments.count == 1, let patient = mr.compartments.first else { return nil }
        let reference = "MedicationRequest/\(mr.id)"
        let shared = AccessPolicy.sharedTypes
        // the Provenances whose target is the prescription: its prescriber's signature, re-verified at the counter
        let view = DataRule.anyOf([.resources([reference, "Patient/\(patient)"]), .references(param: "prescription", targets: [reference]),
                                   .allOf([.types(["Provenance"]), .references(param: "target", targets: [reference])])])
        let readable = shared + ["Patient", "MedicationRequest", "MedicationDispense", "Provenance"]
        var visibility = Visibility(patients: [patient], sharedTypes: shared, dataRules: [patient: view])
        visibility.readableTypes = readable.sorted()
        var decision = AccessDecision(visibility: visibility, readableTypes: Set(readable),
                                      writableTypes: ["MedicationDispense"], writePatients: [patient], writeShared: false,
                                      updateAsCreate: false, rule: rule)
        decision.basis = [rule, reference]
        audit?.decidedBy(reference)
        var guarded = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
        guarded.writeRules = writeRules
        return (guarded, reference)
    }
}
