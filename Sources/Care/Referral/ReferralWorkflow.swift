import FHIR
import Foundation
import Trust

/// Referrals as FHIR Workflow, the Task-based pattern (https://hl7.org/fhir/R4/workflow-management.html):
/// the referring practitioner writes a `ServiceRequest` (what is asked, why, with the documents
/// in `supportingInfo`) and a `Task` whose `focus` is that ServiceRequest, `for` the patient,
/// `requester` themselves and `owner` the receiving Organization, HealthcareService,
/// PractitionerRole or Practitioner, with the code `referral` of
/// `https://enlace.mx/fhir/CodeSystem/care-task`. Every write of such a Task — through any
/// path — must follow the Task state machine (https://hl7.org/fhir/R4/task.html#statemachine)
/// and who may move it (docs/care.md, "Referrals"); anything else is a 422 `business-rule`.
public struct ReferralWorkflow: WriteRule {
    public static let system = AccessPolicy.referralSystem
    public static let code = AccessPolicy.referralCode

    public init() {}

    public var types: Set<String> { ["Task"] }

    /// Who moves a referral to a state: the receiver (owner), the sender (requester), the patient.
    public enum Side: String, Sendable { case receiver, sender, patient }

    /// The legal transitions (from → to) and who may make each. `entered-in-error` is allowed
    /// from every state, for the sender.
    public static let transitions: [String: [String: Set<Side>]] = [
        "draft": ["requested": [.sender], "cancelled": [.sender]],
        "requested": ["received": [.receiver], "accepted": [.receiver], "rejected": [.receiver], "cancelled": [.sender, .patient]],
        "received": ["accepted": [.receiver], "rejected": [.receiver], "cancelled": [.sender, .patient]],
        "accepted": ["ready": [.receiver], "in-progress": [.receiver], "on-hold": [.receiver], "cancelled": [.sender, .receiver, .patient]],
        "ready": ["in-progress": [.receiver], "on-hold": [.receiver], "cancelled": [.sender, .receiver, .patient]],
        "in-progress": ["on-hold": [.receiver], "completed": [.receiver], "failed": [.receiver], "cancelled": [.receiver, .patient]],
        "on-hold": ["in-progress": [.receiver], "cancelled": [.sender, .receiver, .patient]],
    ]
    /// States a referral is created in.
    public static let initial: Set<String> = ["draft", "requested"]
    public static let terminal: Set<String> = ["completed", "rejected", "cancelled", "failed", "entered-in-error"]
    /// States in which the receiver holds the treating relationship the referral grants.
    public static let granting: [String] = ["accepted", "ready", "in-progress", "on-hold"]

    /// Is this Task a referral (it carries the referral code)?
    public static func isReferral(_ task: JSON?) -> Bool {
        (task?["code"]?["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == system && $0["code"]?.stringValue == code }
    }

    static func refuse(_ english: String, _ spanish: String, _ expression: String = "Task.status") -> FHIRError {
        FHIRError(status: 422, code: "business-rule", english: english, spanish: spanish, expression: [expression])
    }

    static func ref(_ j: JSON?, _ key: String) -> String? { j?[key]?["reference"]?.stringValue }

    /// Which sides the principal stands on for this referral.
    static func sides(_ task: JSON, _ p: Principal) -> Set<Side>? {
        switch p.effectiveRole {
        case .platformOperator, .service: return nil  // operators and services: any legal transition
        default: break
        }
        var out = Set<Side>()
        let me = [p.fhirUser, p.organization].compactMap { $0 }
        if let owner = ref(task, "owner"), me.contains(owner) { out.insert(.receiver) }
        if let requester = ref(task, "requester"), me.contains(requester) { out.insert(.sender) }
        if p.effectiveRole == .patient || p.effectiveRole == .relatedPerson, let pt = ref(task, "for"),
           pt == p.fhirUser || pt == p.patient.map({ "Patient/" + $0 }) || p.actsFor.contains(pt) { out.insert(.patient) }
        return out
    }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal) throws {
        let wasReferral = ReferralWorkflow.isReferral(previous), isReferral = ReferralWorkflow.isReferral(new)
        guard wasReferral || isReferral else { return }
        guard let new else {
            if ReferralWorkflow.sides(previous!, principal) == nil { return }
            throw ReferralWorkflow.refuse("a referral Task is not deleted; set its status to 'cancelled' or 'entered-in-error'",
                                          "una referencia (Task) no se borra; cambie su estado a 'cancelled' o 'entered-in-error'")
        }
        if wasReferral && !isReferral {
            throw ReferralWorkflow.refuse("the referral code of a referral Task cannot be removed", "no se puede quitar el código de referencia a un Task de referencia",
                                          "Task.code")
        }
        let status = new["status"]?.stringValue ?? ""
        guard new["focus"]?["reference"]?.stringValue?.hasPrefix("ServiceRequest/") == true else {
            throw ReferralWorkflow.refuse("a referral Task needs focus: the referral's ServiceRequest", "una referencia necesita focus: el ServiceRequest de la referencia",
                                          "Task.focus")
        }
        guard ReferralWorkflow.ref(new, "for")?.hasPrefix("Patient/") == true else {
            throw ReferralWorkflow.refuse("a referral Task needs 'for': the patient", "una referencia necesita 'for': el paciente", "Task.for")
        }
        let sides = ReferralWorkflow.sides(previous ?? new, principal)
        guard let previous else {
            guard ReferralWorkflow.initial.contains(status) else {
                throw ReferralWorkflow.refuse("a referral starts as 'draft' or 'requested', not '\(status)'",
                                              "una referencia empieza como 'draft' o 'requested', no como '\(status)'")
            }
            if let sides, !sides.contains(.sender) {
                throw ReferralWorkflow.refuse("the referral's requester must be you or your organization",
                                              "quien solicita la referencia (requester) debe ser usted o su organización", "Task.requester")
            }
            guard ReferralWorkflow.ref(new, "owner") != nil || status == "draft" else {
                throw ReferralWorkflow.refuse("a requested referral needs an owner: the receiving organization, service or practitioner",
                                              "una referencia solicitada necesita owner: la organización, servicio o médico que la recibe", "Task.owner")
            }
            return
        }
        let before = previous["status"]?.stringValue ?? ""
        for key in ["for", "focus", "requester"] where ReferralWorkflow.ref(previous, key) != ReferralWorkflow.ref(new, key) {
            throw ReferralWorkflow.refuse("a referral's '\(key)' cannot change", "el '\(key)' de una referencia no puede cambiar", "Task.\(key)")
        }
        if ReferralWorkflow.ref(previous, "owner") != ReferralWorkflow.ref(new, "owner"), !["draft", "requested", "received"].contains(before) {
            throw ReferralWorkflow.refuse("a referral's owner cannot change once it is \(before)", "el owner de una referencia no puede cambiar una vez en estado \(before)",
                                          "Task.owner")
        }
        if status == before {
            if ReferralWorkflow.terminal.contains(before) {
                throw ReferralWorkflow.refuse("the referral is \(before); it can no longer change", "la referencia está en estado \(before); ya no puede cambiar")
            }
            return
        }
        let allowed: Set<Side>
        if status == "entered-in-error" {
            allowed = [.sender]
        } else if let a = ReferralWorkflow.transitions[before]?[status] {
            allowed = a
        } else {
            let next = (ReferralWorkflow.transitions[before]?.keys.sorted() ?? []) + ["entered-in-error"]
            throw ReferralWorkflow.refuse("a referral cannot go from '\(before)' to '\(status)'; from '\(before)' it may go to: \(next.joined(separator: ", "))",
                                          "una referencia no puede pasar de '\(before)' a '\(status)'; desde '\(before)' puede pasar a: \(next.joined(separator: ", "))")
        }
        if let sides, sides.isDisjoint(with: allowed) {
            let who = allowed.map(\.rawValue).sorted().joined(separator: " or ")
            throw ReferralWorkflow.refuse("only the referral's \(who) may move it from '\(before)' to '\(status)'",
                                          "solo \(allowed.map { ["receiver": "quien recibe", "sender": "quien refiere", "patient": "el paciente"][$0.rawValue]! }.sorted().joined(separator: " o ")) puede pasar la referencia de '\(before)' a '\(status)'")
        }
        if status == "rejected" || (status == "cancelled" && sides?.contains(.receiver) == true && sides?.contains(.sender) != true),
           new["statusReason"]?["text"]?.stringValue?.isEmpty != false && new["statusReason"]?["coding"] == nil {
            throw ReferralWorkflow.refuse("a referral is \(status) with a reason (statusReason)", "una referencia se marca \(status) con un motivo (statusReason)",
                                          "Task.statusReason")
        }
        if status == "completed", (new["output"]?.arrayValue ?? []).isEmpty {
            throw ReferralWorkflow.refuse("a completed referral links what came of it (output: the Encounter, the report)",
                                          "una referencia completada enlaza su resultado (output: el Encounter, el informe)", "Task.output")
        }
    }
}
