import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Referrals (docs/care.md, "Referrals"): a referral is a `Task` with the code `referral` of
/// `https://enlace.mx/fhir/CodeSystem/care-task`, `focus` its ServiceRequest, `for` the patient
/// and `owner` the receiving Organization, PractitionerRole or Practitioner. What it grants the
/// receiver, decided here with the rest of the clinician's decision:
///
/// - while it waits (`requested`, `received`): only the referral itself — the Task, its
///   ServiceRequest, the documents the ServiceRequest's `supportingInfo` and the Task's `input`
///   name, and the Patient — so the receiver can see why and decide;
/// - once accepted (`accepted`, `ready`, `in-progress`, `on-hold`): a treating relationship with
///   the patient, until `Task.restriction.period.end` if set; it ends when the referral is
///   completed, cancelled (the patient may cancel it: revocation), rejected or failed, and a
///   patient's denying Consent closes it like any other.
///
/// The patient's Consents and the sensitive categories apply on top, as for every relationship.
extension AccessPolicy {
    public static let referralSystem = "https://enlace.mx/fhir/CodeSystem/care-task"
    public static let referralCode = "referral"
    /// The ServiceRequest category of a referral (SNOMED CT 3457005 "Patient referral"): such a
    /// ServiceRequest grants nothing by naming a performer; its Task does.
    public static let referralCategory = "http://snomed.info/sct|3457005"
    static let referralPending = ["requested", "received"]
    static let referralGranting = ["accepted", "ready", "in-progress", "on-hold"]

    /// The patients referred to the practitioner (themselves, their roles, their organization):
    /// accepted referrals in `granted`, and for waiting ones the resources they may see.
    func referrals(_ p: Principal, members: [String], store: any ResourceStore, millis: Int64) async throws
        -> (granted: Set<String>, pending: [String: [String]], basis: [String]) {
        let owners = members.filter { !$0.hasPrefix("CareTeam/") } + [p.organization].compactMap { $0 }.filter { !members.contains($0) }
        guard !owners.isEmpty else { return ([], [:], []) }
        var granted = Set<String>(), pending: [String: [String]] = [:], basis: [String] = []
        let tasks = try await resources(store, type: "Task", parameters: [
            ("owner", owners.joined(separator: ",")), ("code", "\(AccessPolicy.referralSystem)|\(AccessPolicy.referralCode)"),
            ("status", (AccessPolicy.referralPending + AccessPolicy.referralGranting).joined(separator: ",")),
        ])
        for t in tasks {
            let task = try t.json()
            guard let patient = task["for"]?["reference"]?.stringValue, patient.hasPrefix("Patient/") else { continue }
            let pt = String(patient.dropFirst(8))
            if let end = task["restriction"]?["period"]?["end"]?.stringValue, let range = DateRange(end), range.high < millis { continue }
            if basis.count < 20 { basis.append("Task/\(t.id)") }
            if AccessPolicy.referralGranting.contains(task["status"]?.stringValue ?? "") {
                granted.insert(pt)
                continue
            }
            var docs = ["Task/\(t.id)", patient]
            let focus = task["focus"]?["reference"]?.stringValue
            if let focus { docs.append(focus) }
            for i in task["input"]?.arrayValue ?? [] { if let r = i["valueReference"]?["reference"]?.stringValue { docs.append(r) } }
            if let focus, focus.hasPrefix("ServiceRequest/"), let sr = try await store.read({ try $0.current("ServiceRequest", String(focus.dropFirst(15))) }),
               !sr.deleted, sr.compartments.contains(pt), let json = try? sr.json() {
                for s in json["supportingInfo"]?.arrayValue ?? [] { if let r = s["reference"]?.stringValue { docs.append(r) } }
            }
            pending[pt, default: []] += docs.filter { !pending[pt, default: []].contains($0) }
        }
        return (granted, pending, basis)
    }
}
