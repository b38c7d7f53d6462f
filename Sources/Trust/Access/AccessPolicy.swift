import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The access rules by role (docs/access.md):
///
/// | role | reads | writes |
/// |---|---|---|
/// | platform operator, backend service | everything its `system/` scopes name | same |
/// | patient, related person | own compartment (and those they act for) + shared data | own compartment |
/// | practitioner | compartments of patients with a treating relationship + shared data | those compartments |
/// | pharmacy | medication data of patients with a prescription naming the pharmacy | MedicationDispense |
/// | payer | Coverage, Claim and their responses of its beneficiaries; its settlement disputes (`+Finance`) | claim responses, EOB, its disputes |
/// | organization admin | shared data (practitioners, organizations, locations …) | shared data |
/// | privacy officer | Consents, Tasks, the audit log | — |
/// | auditor | the audit log only | — |
///
/// A treating relationship is a CareTeam the practitioner is in, an Encounter the practitioner
/// took part in or that happened at their organization, an EpisodeOfCare they manage or their
/// organization runs, or an active ServiceRequest (referral) naming them or their organization
/// as performer.
///
/// Consent refines every row at this same point: `PrivacyPolicy` says, per patient
/// and sensitivity label, what the patient's Consents, the law's defaults, break-the-glass
/// records and right-not-to-know choices allow (docs/privacy-policy.md). Task is filed in the
/// compartment of its `for` patient (`SensitivityLabeler`), so it is not shared data here.
public struct AccessPolicy: Sendable {
    public var privacy: PrivacyPolicy

    public init(privacy: PrivacyPolicy = PrivacyPolicy()) { self.privacy = privacy }

    /// Types whose resources are not about one patient (R4 Patient compartment lists them with
    /// no parameter): practitioners, organizations, medications, definitions… Group is left
    /// out: its members are patients.
    public static let sharedTypes: [String] = Definitions.r4.resourceTypes.filter {
        (Definitions.r4.patientCompartment[$0]?.isEmpty ?? true) && !["Group", "AuditEvent", "Patient", "Person", "Linkage", "Bundle", "Task"].contains($0)
    }

    static let compartmentTypes: Set<String> = Set(Definitions.r4.resourceTypes.filter {
        !(Definitions.r4.patientCompartment[$0]?.isEmpty ?? true)
    }).union(["Patient", "Task"])

    public func decide(_ p: Principal, store: any ResourceStore, now: Timestamp = SystemClock().now()) async throws -> AccessDecision {
        var decision = try await withSubscriptionOwnerRule(decideByRole(p, store: store, now: now), p, store: store)
        // the types a role may read hold inside every query too (chains, `_has`), not only on
        // the types asked for
        if let readable = decision.readableTypes, decision.visibility != nil { decision.visibility?.readableTypes = readable.sorted() }
        return decision
    }

    func decideByRole(_ p: Principal, store: any ResourceStore, now: Timestamp) async throws -> AccessDecision {
        let shared = AccessPolicy.sharedTypes
        let millis = now.microseconds / 1000
        if let purpose = p.purposeOfUse, privacy.secondaryPurposes.contains(purpose), p.effectiveRole != .patient, p.effectiveRole != .relatedPerson {
            let secondary = try await secondaryUse(p, purpose: purpose, store: store, millis: millis)
            switch p.effectiveRole {
            case .platformOperator, .service, .practitioner:
                return secondary
            default:
                // a secondary purpose only ever narrows what the role may see
                var base = try await roleDecision(p, store: store, millis: millis)
                let allowed = Set(secondary.visibility?.patients ?? [])
                var v = base.visibility ?? Visibility(patients: [], sharedTypes: shared)
                if base.visibility == nil { v.patients = allowed.sorted() } else { v.patients = v.patients.filter { allowed.contains($0) } }
                v.hiddenLabelsByPatient = secondary.visibility?.hiddenLabelsByPatient ?? [:]
                v.dataRules = secondary.visibility?.dataRules ?? [:]
                base.visibility = v
                base.writableTypes = []
                base.writePatients = []
                base.writeShared = false
                base.updateAsCreate = false
                base.rule = secondary.rule
                base.basis = secondary.basis
                return base
            }
        }
        return try await roleDecision(p, store: store, millis: millis)
    }

    /// The decision by role (the matrix above, refined by consent).
    func roleDecision(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> AccessDecision {
        let shared = AccessPolicy.sharedTypes
        switch p.effectiveRole {
        case .platformOperator, .service:
            return .unrestricted
        case .patient, .relatedPerson:
            var patients = Set(p.actsFor.map(AccessPolicy.patientID))
            if let own = p.patient ?? (p.fhirUser?.hasPrefix("Patient/") == true ? p.fhirUser : nil) { patients.insert(AccessPolicy.patientID(own)) }
            var decision = AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared), readableTypes: nil,
                                          writableTypes: AccessPolicy.compartmentTypes, writePatients: patients, writeShared: false,
                                          updateAsCreate: false, rule: p.effectiveRole == .patient ? "urn:enlace:rule:own-record" : "urn:enlace:rule:acts-for")
            decision.forbiddenTaskCodes = [PrivacyCodes.breakTheGlassReview, PrivacyCodes.disclosure]
            decision.basis = [decision.rule]
            try await applyRightNotToKnow(&decision, patients: patients, store: store, millis: millis)
            return decision
        case .practitioner:
            return try await clinician(p, store: store, millis: millis)
        case .pharmacy:
            let patients = try await patientsOf(store, type: "MedicationRequest", param: "intended-performer", values: [p.organization, p.fhirUser])
            return AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared),
                                  readableTypes: Set(shared + ["Patient", "MedicationRequest", "MedicationDispense", "MedicationStatement", "AllergyIntolerance"]),
                                  writableTypes: ["MedicationDispense"], writePatients: patients, writeShared: false,
                                  updateAsCreate: false, rule: "urn:enlace:rule:dispensing-pharmacy")
        case .payer:
            return try await withFinanceRule(payer(p, store: store, millis: millis), p, store: store)
        case .organizationAdmin:
            return AccessDecision(visibility: Visibility(patients: [], sharedTypes: shared), readableTypes: Set(shared),
                                  writableTypes: Set(shared), writePatients: [], writeShared: true, updateAsCreate: true,
                                  rule: "urn:enlace:rule:organization-admin")
        case .privacyOfficer:
            return AccessDecision(visibility: nil, readableTypes: ["Consent", "Task", "Communication"], writableTypes: [],
                                  writePatients: [], writeShared: false, updateAsCreate: false, rule: "urn:enlace:rule:privacy-officer")
        case .auditor:
            return AccessDecision(visibility: Visibility(patients: [], sharedTypes: []), readableTypes: [], writableTypes: [],
                                  writePatients: [], writeShared: false, updateAsCreate: false, rule: "urn:enlace:rule:auditor-no-clinical-data")
        }
    }
}
