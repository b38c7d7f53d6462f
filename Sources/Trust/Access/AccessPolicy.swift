import FHIR
import Foundation
import Storage

/// What a principal may do, decided once per request before any query runs
/// (docs/access.md). Consent (issue #5) refines it at this same point.
public struct AccessDecision: Sendable {
    /// nil: may see everything the scopes allow.
    public var visibility: Visibility?
    /// Types the principal's role may read at all (nil: every type).
    public var readableTypes: Set<String>?
    /// Types the principal's role may write (nil: every type).
    public var writableTypes: Set<String>?
    /// When set, every written resource must be in the compartment of one of these patients
    /// (and nothing shared may be written unless `writeShared`).
    public var writePatients: Set<String>?
    public var writeShared: Bool
    /// May create resources with client-chosen ids (update-as-create). Only operators and
    /// services: for anyone else a missing id and a hidden id must look the same (404).
    public var updateAsCreate: Bool
    /// The rule that decided, for the audit entry (`urn:enlace:rule:…`).
    public var rule: String

    public static let unrestricted = AccessDecision(visibility: nil, readableTypes: nil, writableTypes: nil, writePatients: nil,
                                                    writeShared: true, updateAsCreate: true, rule: "urn:enlace:rule:system-scope")
}

/// The access rules of issue #4, by role:
///
/// | role | reads | writes |
/// |---|---|---|
/// | platform operator, backend service | everything its `system/` scopes name | same |
/// | patient, related person | own compartment (and those they act for) + shared data | own compartment |
/// | practitioner | compartments of patients with a treating relationship + shared data | those compartments |
/// | pharmacy | medication data of patients with a prescription naming the pharmacy | MedicationDispense |
/// | payer | Coverage, Claim and their responses of its beneficiaries | claim responses, EOB |
/// | organization admin | shared data (practitioners, organizations, locations …) | shared data |
/// | privacy officer | Consents, Tasks, the audit log | — |
/// | auditor | the audit log only | — |
///
/// A treating relationship is a CareTeam the practitioner is in, an Encounter the practitioner
/// took part in or that happened at their organization, an EpisodeOfCare they manage or their
/// organization runs, or an active ServiceRequest (referral) naming them or their organization
/// as performer.
public struct AccessPolicy: Sendable {
    public init() {}

    /// Types whose resources are not about one patient (R4 Patient compartment lists them with
    /// no parameter): practitioners, organizations, medications, definitions… Group is left
    /// out: its members are patients.
    public static let sharedTypes: [String] = Definitions.r4.resourceTypes.filter {
        (Definitions.r4.patientCompartment[$0]?.isEmpty ?? true) && !["Group", "AuditEvent", "Patient", "Person", "Linkage", "Bundle"].contains($0)
    }

    static let compartmentTypes: Set<String> = Set(Definitions.r4.resourceTypes.filter {
        !(Definitions.r4.patientCompartment[$0]?.isEmpty ?? true)
    }).union(["Patient"])

    public func decide(_ p: Principal, store: any ResourceStore) async throws -> AccessDecision {
        let shared = AccessPolicy.sharedTypes
        switch p.effectiveRole {
        case .platformOperator, .service:
            return .unrestricted
        case .patient, .relatedPerson:
            var patients = Set(p.actsFor.map(AccessPolicy.patientID))
            if let own = p.patient ?? (p.fhirUser?.hasPrefix("Patient/") == true ? p.fhirUser : nil) { patients.insert(AccessPolicy.patientID(own)) }
            return AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared), readableTypes: nil,
                                  writableTypes: AccessPolicy.compartmentTypes, writePatients: patients, writeShared: false,
                                  updateAsCreate: false, rule: p.effectiveRole == .patient ? "urn:enlace:rule:own-record" : "urn:enlace:rule:acts-for")
        case .practitioner:
            var patients = try await treatingPatients(p, store: store)
            if let launch = p.patient { patients = patients.intersection([AccessPolicy.patientID(launch)]) }
            return AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared), readableTypes: nil,
                                  writableTypes: AccessPolicy.compartmentTypes, writePatients: patients, writeShared: false,
                                  updateAsCreate: false, rule: "urn:enlace:rule:treating-relationship")
        case .pharmacy:
            let patients = try await patientsOf(store, type: "MedicationRequest", param: "intended-performer", values: [p.organization, p.fhirUser])
            return AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared),
                                  readableTypes: Set(shared + ["Patient", "MedicationRequest", "MedicationDispense", "MedicationStatement", "AllergyIntolerance"]),
                                  writableTypes: ["MedicationDispense"], writePatients: patients, writeShared: false,
                                  updateAsCreate: false, rule: "urn:enlace:rule:dispensing-pharmacy")
        case .payer:
            let patients = try await patientsOf(store, type: "Coverage", param: "payor", values: [p.organization])
            return AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared),
                                  readableTypes: Set(shared + ["Patient", "Coverage", "Claim", "ClaimResponse", "ExplanationOfBenefit",
                                                               "CoverageEligibilityRequest", "CoverageEligibilityResponse"]),
                                  writableTypes: ["ClaimResponse", "ExplanationOfBenefit", "CoverageEligibilityResponse", "Coverage"],
                                  writePatients: patients, writeShared: false, updateAsCreate: false, rule: "urn:enlace:rule:payer-beneficiary")
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

    static func patientID(_ ref: String) -> String {
        ref.hasPrefix("Patient/") ? String(ref.dropFirst(8)) : ref
    }

    /// Patients a practitioner treats (see the type's documentation).
    func treatingPatients(_ p: Principal, store: any ResourceStore) async throws -> Set<String> {
        let me = p.fhirUser
        let org = p.organization
        var patients = Set<String>()
        patients.formUnion(try await patientsOf(store, type: "CareTeam", param: "participant", values: [me]))
        patients.formUnion(try await patientsOf(store, type: "Encounter", param: "participant", values: [me]))
        patients.formUnion(try await patientsOf(store, type: "Encounter", param: "service-provider", values: [org]))
        patients.formUnion(try await patientsOf(store, type: "EpisodeOfCare", param: "care-manager", values: [me]))
        patients.formUnion(try await patientsOf(store, type: "EpisodeOfCare", param: "organization", values: [org]))
        patients.formUnion(try await patientsOf(store, type: "ServiceRequest", param: "performer", values: [me, org], extra: [("status", "active")]))
        return patients
    }

    /// Patients whose compartment holds a `type` resource whose reference `param` is one of `values`.
    func patientsOf(_ store: any ResourceStore, type: String, param: String, values: [String?], extra: [(String, String)] = []) async throws -> Set<String> {
        let refs = values.compactMap { $0 }.filter { $0.contains("/") }
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
}
